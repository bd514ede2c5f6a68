//! The unit every stage reports: a [`Finding`] at an [`Origin`].

use std::fmt;

use serde::Serialize;

use crate::yaml::Origin;

/// How serious a finding is; ordered `Note < Warning < Error`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational (SARIF `note`).
    Note,
    /// Should be fixed (SARIF `warning`).
    Warning,
    /// Must be fixed (SARIF `error`).
    Error,
}

impl Severity {
    /// The SARIF level / lowercase name: `note`, `warning`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses `note`/`info`, `warning`, `error` (as written in config and `--fail-on`).
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "note" | "info" => Some(Severity::Note),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rendered object a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    /// `apiVersion`, e.g. `apps/v1`.
    pub api_version: String,
    /// `kind`, e.g. `Deployment`.
    pub kind: String,
    /// `metadata.namespace`, if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectRef {
    /// Reads apiVersion, kind, namespace and name from a rendered object.
    pub fn of(obj: &crate::yaml::Node) -> ObjectRef {
        let s = |p: &[&str]| obj.str_at(p).unwrap_or_default().to_string();
        ObjectRef {
            api_version: s(&["apiVersion"]),
            kind: s(&["kind"]),
            namespace: obj.str_at(&["metadata", "namespace"]).map(str::to_string),
            name: s(&["metadata", "name"]),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// One problem found by rendering, validation or a rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Stable rule code, e.g. `PIN001`, `SCHEMA001`, `RENDER001`.
    pub code: String,
    /// Effective severity (after configuration).
    pub severity: Severity,
    /// Human sentence; never contains more than the first four characters of a secret.
    pub message: String,
    /// The source line the user must edit (origin of the offending value).
    pub origin: Origin,
    /// The rendered object, when the finding is about one.
    pub object: Option<ObjectRef>,
    /// The target (overlay dir, chart, manifest folder) that produced it, repo-relative.
    pub target: String,
    /// JSON pointer of the offending field within the object, when there is one.
    pub field: Option<String>,
}

impl Finding {
    /// Deterministic report order: file, line, column, code, target, message.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            &self.origin.file,
            self.origin.line,
            self.origin.column,
            &self.code,
            &self.target,
            &self.message,
        )
    }
}
