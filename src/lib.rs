//! driftlint: render, validate, lint and drift-check Kubernetes GitOps repositories.
//!
//! The pipeline (see DESIGN.md): [`discover`] finds targets, [`render`] renders them natively,
//! [`schema`] validates objects, [`rules`] lints them, [`check`] runs it all and [`report`]
//! formats the findings.

pub mod check;
pub mod config;
pub mod discover;
pub mod fs;
pub mod render;
pub mod report;
pub mod rules;
pub mod schema;
pub mod yaml;

pub use render::render_dir;
