//! The error of reading rule settings and the API lifecycle table.

use driftlint_yaml::Origin;

/// A configuration error at the line that caused it (reported as CONFIG001).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct RuleConfigError {
    /// Where in `.driftlint.yaml`.
    pub origin: Origin,
    /// What is wrong.
    pub message: String,
}
