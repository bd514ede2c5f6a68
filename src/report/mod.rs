//! Findings and the report formats (human, JSON, SARIF, GitHub annotations).

mod finding;

pub use finding::{Finding, ObjectRef, Severity};
