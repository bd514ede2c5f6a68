//! driftlint: render, validate, lint and drift-check Kubernetes GitOps repositories.

pub mod fs;
pub mod report;
pub mod rules;
pub mod yaml;
