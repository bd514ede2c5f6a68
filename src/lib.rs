//! driftlint: render, validate, lint and drift-check Kubernetes GitOps repositories.

pub mod fs;
pub mod render;
pub mod report;
pub mod schema;
pub mod yaml;
