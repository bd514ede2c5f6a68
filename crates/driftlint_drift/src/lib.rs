//! Drift: compare rendered objects (with their source origins) with what a live cluster
//! holds, for `driftlint drift`. The CLI renders the repository and drives the run; this
//! crate decides what is drift and turns it into findings.
//!
//! [`model`] holds the shared data model. The drift logic is pure, over rendered
//! [`driftlint_yaml::Node`]s and live JSON (no network): [`compare`] (server-side-apply dry-run
//! vs live, and read-only) with [`normalize`], [`ignore`] (Argo CD-style `ignoreDifferences`,
//! managedFields managers, Flux's `ssa` annotation), [`inventory`] (Flux/Helm inventories,
//! orphans, autoscaler targets) and [`findings`] (DRIFT001-006). Cluster access sits behind
//! the `cluster` cargo feature ([`cluster`]: discovery, get/list, server-side-apply dry-run
//! with kube-rs; off by default in this crate, on in the CLI).
//!
//! How to call it: build a [`CompareContext`], then [`server`] (dry-run results against live)
//! or [`read_only`] (desired against live) per object, [`plan`]/[`orphans`] for inventories,
//! and [`to_findings`] for DRIFT001-006 findings at the desired objects' source lines.

pub mod compare;
pub mod deployer_inventory;
pub mod findings;
pub mod ignore;
pub mod inventory;
pub mod managers;
pub mod model;
pub mod normalize;
pub mod redact;
pub mod removed;

#[cfg(test)]
mod fixtures;

pub use compare::{origin_at, read_only, server, CompareContext};
pub use findings::{dry_run_forbidden, to_findings};
pub use ignore::IgnoreRules;
pub use inventory::{hpa_targets, orphans, plan, InventoryQuery};
pub use model::{DriftKind, FieldDrift, FieldPath, Mode, ObjectDrift, PathSegment};

#[cfg(feature = "cluster")]
pub mod cluster;
