//! `driftlint drift`: compare the rendered repository with a live cluster.
//!
//! [`model`] holds the shared data model. Comparison, normalisation, ignore rules and inventory
//! are pure functions over rendered [`crate::yaml::Node`]s and live JSON; cluster access sits
//! behind the `cluster` cargo feature.

pub mod model;

pub use model::{DriftKind, FieldDrift, FieldPath, Mode, ObjectDrift, PathSegment};

#[cfg(feature = "cluster")]
pub mod cluster;
#[cfg(feature = "cluster")]
pub mod run;
