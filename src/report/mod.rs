//! Findings and the report formats (human, JSON, SARIF, GitHub annotations).
//!
//! Every renderer is a pure function of its input: same findings, same bytes (findings are
//! sorted inside each renderer, so the caller's order does not matter).

mod diff_human;
mod diff_markdown;
mod drift;
mod drift_human;
pub mod escape;
mod github;
mod human;
mod json;
mod sarif;
mod summary;

pub use diff_human::{diff_human, diff_json, DIFF_JSON_VERSION};
pub use diff_markdown::{diff_markdown, COMMENT_LIMIT, COMMENT_MARKER};
pub use drift::{drift_json, drift_markdown, DRIFT_JSON_SCHEMA_VERSION, MARKDOWN_MAX_VALUE};
pub use drift_human::{counts as drift_counts, drift_human};
pub use driftlint_rules::{fingerprint, Finding, ObjectRef, RuleMeta, Severity};
pub use github::github;
pub use human::{human, HUMAN_WIDTH};
pub(crate) use json::findings_value;
pub use json::{json, json_with_targets, JsonSource, JsonTarget, JSON_FORMAT_VERSION};
pub use sarif::{
    encode_uri_path, help_uri, information_uri, sarif, SarifRun, FINGERPRINT_KEY, MAX_RESULTS,
    SARIF_SCHEMA, SRCROOT,
};
pub use summary::{markdown_summary, markdown_summary_counting, Summary, MARKDOWN_MAX_ROWS};
