//! driftlint: render, validate, lint and drift-check Kubernetes GitOps repositories.

pub mod schema;
