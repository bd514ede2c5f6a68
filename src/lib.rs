//! driftlint: render, validate, lint and drift-check Kubernetes GitOps repositories.

pub mod config;
pub mod discover;
pub mod fs;
pub mod report;
pub mod rules;
pub mod schema;
pub mod yaml;
