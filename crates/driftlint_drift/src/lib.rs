//! `driftlint drift`: compare the rendered repository with a live cluster.
//!
//! [`model`] holds the shared data model. The drift logic is pure, over rendered
//! [`driftlint_yaml::Node`]s and live JSON (no network): [`compare`] (server-side-apply dry-run
//! vs live, and read-only) with [`normalize`], [`ignore`] (Argo CD-style `ignoreDifferences`,
//! managedFields managers, Flux's `ssa` annotation), [`inventory`] (Flux/Helm inventories,
//! orphans, autoscaler targets) and [`findings`] (DRIFT001-006). Cluster access sits behind
//! the `cluster` cargo feature.

pub mod compare;
pub mod findings;
pub mod ignore;
pub mod inventory;
pub mod model;
pub mod normalize;
pub mod redact;

#[cfg(test)]
mod fixtures;

pub use compare::{origin_at, read_only, server, CompareContext};
pub use findings::{dry_run_forbidden, to_findings};
pub use ignore::IgnoreRules;
pub use inventory::{hpa_targets, orphans, plan, InventoryQuery};
pub use model::{DriftKind, FieldDrift, FieldPath, Mode, ObjectDrift, PathSegment};

#[cfg(feature = "cluster")]
pub mod cluster;
