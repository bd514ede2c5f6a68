//! Rule metadata shared by the rule registry, `driftlint rules`/`explain` and SARIF
//! `tool.driver.rules`.

use serde::{Deserialize, Serialize};

use super::Severity;

/// Everything a report needs to know about a rule (or a built-in finding code such as a
/// render error), loaded from the `rules/*.yaml` data files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleMeta {
    /// Stable code, e.g. `PIN001`.
    pub code: String,
    /// Kebab-case name, e.g. `image-tag-latest`.
    pub name: String,
    /// Default severity; `None` when the rule is off by default.
    pub severity: Option<Severity>,
    /// One-line summary (SARIF `shortDescription`).
    pub summary: String,
    /// Why it matters (SARIF `fullDescription`, `help`).
    pub rationale: String,
    /// GitHub `security-severity` ("9.0"), for security rules.
    pub security_severity: Option<String>,
    /// SARIF `properties.tags` (e.g. `security`, `pinning`).
    pub tags: Vec<String>,
    /// Object kinds or inputs the rule inspects (documentation).
    pub inspects: String,
}
