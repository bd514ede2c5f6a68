//! Findings and the report formats (human, JSON, SARIF, GitHub annotations).

mod finding;
mod rule_meta;

pub use finding::{Finding, ObjectRef, Severity};
pub use rule_meta::RuleMeta;
