//! [`Catalog`]: the schemas of one Kubernetes version, the bundled Flux schemas, the CRDs added at
//! run time, and the cache of compiled validators shared by all threads.

use std::collections::BTreeSet;
use std::sync::{Arc, PoisonError, RwLock};

use jsonschema::Validator;
use serde_json::Value;

use super::crd::{self, CrdSchema};
use super::crd_catalog::{self, CrdCatalog};
use super::embedded::{self, KubeVersion, SUPPORTED_VERSIONS};
use super::gvk_map::GvkMap;
use super::validate::{assemble, compile, violations, without_sops_metadata};
use super::{patch_meta, FieldFormat, PatchMeta, SchemaError, Validation, Violation};

/// A compiled validator, or why the schema did not compile (cached as well).
type Compiled = Result<Arc<Validator>, Arc<str>>;

/// Where the schema of a GVK comes from.
enum Source {
    Builtin(&'static str),
    Crd(Arc<CrdSchema>),
    /// From a CRDs-catalog (embedded or `--crd-catalog`): validated like a CRD, but the
    /// installed CRD's version may differ, so findings say where the schema came from.
    Catalog(Arc<CrdSchema>),
    /// A catalog schema that does not convert (the reason).
    Broken(Arc<str>),
}

/// Schemas for one Kubernetes minor version plus CRDs, with compiled validators cached per
/// (apiVersion, kind, strict).
///
/// `Send + Sync`: build it once, register CRDs with [`Catalog::add_crd`] (which takes
/// `&mut self`, so registration cannot race with validation and results stay deterministic),
/// then share `&Catalog` across rayon threads. Each validator is compiled on first use and
/// reused by every thread.
///
/// Lookup order for a GVK: CRDs added with [`Catalog::add_crd`] (rendered in the repository,
/// `--crd-dir`), then the built-in Kubernetes schemas, then a CRDs-catalog checkout given with
/// [`Catalog::add_crd_catalog_files`], then the bundled Flux schemas, then the embedded
/// CRDs-catalog groups.
pub struct Catalog {
    kube: &'static KubeVersion,
    crds: GvkMap<Arc<CrdSchema>>,
    crd_catalog: Option<CrdCatalog>,
    pub(super) validators: RwLock<GvkMap<[Option<Compiled>; 2]>>,
}

impl Catalog {
    /// The catalog for Kubernetes `kube_minor` (`"1.25"` to `"1.37"`; a leading `v` and a patch
    /// number are accepted and ignored: `"v1.30.2"` is `1.30`).
    ///
    /// Decodes the embedded index of that version; the bundled Flux schemas and definition
    /// bodies are decoded when a lookup first needs them (a `render` that only asks for
    /// strategic-merge keys of built-in kinds never decodes the Flux bundle).
    ///
    /// # Errors
    /// [`SchemaError::UnsupportedVersion`] for other versions; [`SchemaError::Embedded`] if the
    /// embedded data is corrupt (a build problem).
    pub fn builtin(kube_minor: &str) -> Result<Catalog, SchemaError> {
        let kube = KubeVersion::get(&minor_of(kube_minor)).map_err(|err| match err {
            SchemaError::UnsupportedVersion { supported, .. } => SchemaError::UnsupportedVersion {
                version: kube_minor.to_owned(),
                supported,
            },
            other => other,
        })?;
        Ok(Catalog {
            kube,
            crds: GvkMap::default(),
            crd_catalog: None,
            validators: RwLock::new(GvkMap::default()),
        })
    }

    /// The catalog for the newest supported Kubernetes version ([`Catalog::newest_version`]).
    ///
    /// # Errors
    /// As [`Catalog::builtin`].
    pub fn newest() -> Result<Catalog, SchemaError> {
        Catalog::builtin(Catalog::newest_version())
    }

    /// The Kubernetes minors with embedded schemas, oldest first (`"1.25"` .. `"1.37"`).
    pub fn supported_versions() -> &'static [&'static str] {
        SUPPORTED_VERSIONS
    }

    /// The newest supported Kubernetes minor (`"1.37"`).
    pub fn newest_version() -> &'static str {
        SUPPORTED_VERSIONS.last().copied().unwrap_or("1.37")
    }

    /// The Kubernetes minor this catalog validates against, e.g. `"1.37"`.
    pub fn kube_version(&self) -> &'static str {
        self.kube.version()
    }

    /// Register every served version of a CustomResourceDefinition
    /// (`apiextensions.k8s.io/v1`, or `v1beta1` with `spec.validation`), given as JSON.
    /// `source` names where it came from (e.g. `crds/widget.yaml:1`) for messages.
    /// A CRD for an already known GVK replaces it (and its cached validators).
    ///
    /// Each schema is converted from OpenAPI v3 (see `crd.rs`: `nullable`,
    /// `x-kubernetes-int-or-string`, `x-kubernetes-preserve-unknown-fields` honoured; CEL
    /// `x-kubernetes-validations` not evaluated) and compiled at once, so a broken schema fails
    /// here and not per object. All versions are registered, or none.
    ///
    /// # Errors
    /// [`SchemaError::InvalidCrd`] when the object is not a readable CRD;
    /// [`SchemaError::CrdSchema`] when a schema does not compile (e.g. a non-RE2 `pattern`).
    pub fn add_crd(&mut self, crd: &Value, source: &str) -> Result<(), SchemaError> {
        let mut ready = Vec::new();
        for served in crd::served_versions(crd, source)? {
            let compile_error = |reason: String| SchemaError::CrdSchema {
                source_name: source.to_owned(),
                api_version: served.api_version.clone(),
                kind: served.kind.clone(),
                reason,
            };
            let assembled = assemble(&served.schema, self.kube, false)
                .map_err(|e| compile_error(e.to_string()))?;
            let validator = compile(&assembled).map_err(compile_error)?;
            ready.push((served, validator));
        }
        let validators = self
            .validators
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for (served, validator) in ready {
            let (api_version, kind) = (served.api_version.as_str(), served.kind.as_str());
            validators.insert(api_version, kind, [Some(Ok(Arc::new(validator))), None]);
            let schema = CrdSchema {
                schema: served.schema,
                source: source.to_owned(),
            };
            self.crds.insert(api_version, kind, Arc::new(schema));
        }
        Ok(())
    }

    /// Use the files of a CRDs-catalog checkout (`<group>/<kind>_<version>.json`, as
    /// datreeio/CRDs-catalog lays them out) after the built-in schemas and before the bundled
    /// Flux and embedded catalog schemas. `files` are `(group, file name, JSON text)`; names that
    /// are not `<kind>_<version>.json` are ignored, and a kind matches any spelling (the names
    /// are lower case, as kubeconform's lookup). `source` names the checkout in messages (e.g.
    /// `--crd-catalog /srv/crds`). Schemas are converted when first needed; one that does not
    /// convert is reported by [`Catalog::validate`]. Replaces an earlier checkout.
    pub fn add_crd_catalog_files(&mut self, source: String, files: Vec<(String, String, String)>) {
        self.crd_catalog = Some(CrdCatalog::from_files(source, files));
        // Validators compiled so far may come from a source the checkout now overrides.
        *self
            .validators
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner) = GvkMap::default();
    }

    /// Whether any kind of API `group` (not a built-in group) is known: from a CRD added with
    /// [`Catalog::add_crd`], the bundled Flux schemas, a `--crd-catalog` checkout or the
    /// embedded CRDs-catalog groups.
    pub fn knows_group(&self, group: &str) -> bool {
        !self.kinds_in_group(group).is_empty()
    }

    /// `(version, kind)` of every kind of API `group` known from the sources of
    /// [`Catalog::knows_group`], sorted; catalog kinds whose spelling is unknown are lower
    /// case. For "did you mean" suggestions.
    pub fn kinds_in_group(&self, group: &str) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        if group.is_empty() {
            return out;
        }
        self.crds.kinds_in_group(group, &mut out);
        if let Ok(flux) = embedded::flux() {
            flux.kinds.kinds_in_group(group, &mut out);
        }
        if let Some(dir) = &self.crd_catalog {
            dir.kinds_in_group(group, &mut out);
        }
        if let Ok(embedded) = crd_catalog::embedded() {
            embedded.kinds_in_group(group, &mut out);
        }
        out
    }

    /// Where the schema of `api_version`/`kind` comes from when it is a CRDs-catalog schema
    /// (embedded or `--crd-catalog`), e.g. `CRD catalog datreeio/CRDs-catalog@7b1e26e (MIT),
    /// embedded`; `None` for any other source. Findings validated against it say so, since the
    /// CRD version installed in the cluster may differ.
    pub fn catalog_source(&self, api_version: &str, kind: &str) -> Option<String> {
        match self.source(api_version, kind)? {
            Source::Catalog(schema) => Some(schema.source.clone()),
            _ => None,
        }
    }

    /// For a built-in `api_version`/`kind` that this catalog's Kubernetes version does not
    /// serve, the first newer supported minor whose embedded schemas have it (`"1.34"` for
    /// `resource.k8s.io/v1` ResourceClaim on 1.33); `None` when this version serves it or no
    /// newer supported one does.
    pub fn served_from(&self, api_version: &str, kind: &str) -> Option<&'static str> {
        if self.kube.kind(api_version, kind).is_some() {
            return None;
        }
        let newer = SUPPORTED_VERSIONS
            .iter()
            .skip_while(|v| **v != self.kube.version())
            .skip(1);
        for version in newer {
            let kube = KubeVersion::get(version).ok()?;
            if kube.kind(api_version, kind).is_some() {
                return Some(version);
            }
        }
        None
    }

    /// Whether a schema is known for `api_version` (`group/version`, or `v1` for the core
    /// group) and `kind`: built in for this Kubernetes version, a bundled Flux kind, or added
    /// with [`Catalog::add_crd`].
    pub fn knows(&self, api_version: &str, kind: &str) -> bool {
        self.source(api_version, kind).is_some()
    }

    /// Whether `api_version`/`kind` is a built-in Kubernetes kind of this catalog's version
    /// (so `extensions/v1beta1` Ingress is not one on 1.37, and is on no supported version).
    pub fn is_builtin_kind(&self, api_version: &str, kind: &str) -> bool {
        self.kube.kind(api_version, kind).is_some()
    }

    /// Where the schema of `api_version`/`kind` comes from, for messages: the `source` given
    /// to [`Catalog::add_crd`], `bundled Flux v2.8 CRDs from datreeio/CRDs-catalog@7b1e26e (MIT)`,
    /// `CRD catalog datreeio/CRDs-catalog@7b1e26e (MIT), embedded` (or `CRD catalog
    /// --crd-catalog DIR group/kind_version.json`), the reason a catalog schema does not
    /// convert, or `Kubernetes 1.37 (kubernetes-validate 1.37.0)`; `None` when unknown.
    pub fn schema_source(&self, api_version: &str, kind: &str) -> Option<String> {
        match self.source(api_version, kind)? {
            Source::Builtin(_) => Some(format!(
                "Kubernetes {} (kubernetes-validate 1.37.0)",
                self.kube.version()
            )),
            Source::Crd(crd) | Source::Catalog(crd) => Some(crd.source.clone()),
            Source::Broken(reason) => Some(reason.to_string()),
        }
    }

    /// Where the bundled Flux schemas came from, as recorded by `scripts/gen-schemas.py`:
    /// `Flux v2.8 CRDs from datreeio/CRDs-catalog@7b1e26e (MIT)` (or, for a bundle built from
    /// the npm package or CRD files, `Flux v2.8 schemas from @kubernetes-models/flux-cd 4.0.0
    /// (MIT)`, `Flux v2.6.1 CRDs from …/gotk-components.yaml`).
    pub fn flux_bundle_source(&self) -> &'static str {
        embedded::flux().map_or("", |flux| flux.source.as_str())
    }

    /// Validate `object` (a whole Kubernetes object as JSON) against the schema of
    /// `api_version`/`kind`.
    ///
    /// `strict` mirrors `kubeconform -strict`: fields the schema does not declare are errors
    /// (`additionalProperties: false` wherever a schema lists `properties` without
    /// `additionalProperties` or `x-kubernetes-preserve-unknown-fields`). Custom resources get
    /// the apiserver's pruning of non-nullable `null`s first. The validator is compiled once
    /// per (GVK, strict) and shared by all threads.
    ///
    /// Values not known before Flux substitution or SOPS decryption are opaque: a string
    /// holding a Flux placeholder (`${PORT}`, see [`driftlint_yaml::flux_placeholders`]) is
    /// accepted for any type, pattern, enum or length, and so is an `ENC[...]` value of an
    /// object with a top-level `sops:` mapping; that mapping (SOPS metadata, removed by the
    /// decrypting controller) is not validated. Unknown and missing fields are still reported.
    ///
    /// Returns [`Validation::NoSchema`] for an unknown GVK, [`Validation::Valid`], or
    /// [`Validation::Invalid`] with the violations sorted by pointer. A schema that does not
    /// compile (never a built-in one: tests compile them all) is reported as one violation at
    /// the root rather than a panic.
    pub fn validate(
        &self,
        api_version: &str,
        kind: &str,
        object: &Value,
        strict: bool,
    ) -> Validation {
        let Some(source) = self.source(api_version, kind) else {
            return Validation::NoSchema;
        };
        if let Source::Broken(reason) = &source {
            return Validation::Invalid(vec![Violation {
                pointer: String::new(),
                message: format!("the schema of {api_version} {kind} does not convert: {reason}"),
            }]);
        }
        let validator = match self.validator(api_version, kind, &source, strict) {
            Ok(validator) => validator,
            Err(reason) => {
                return Validation::Invalid(vec![Violation {
                    pointer: String::new(),
                    message: format!(
                        "the schema of {api_version} {kind} does not compile: {reason}"
                    ),
                }])
            }
        };
        let unsealed = without_sops_metadata(object);
        let object = unsealed.as_ref().unwrap_or(object);
        let pruned;
        let object = match &source {
            Source::Crd(crd) | Source::Catalog(crd) if crd::contains_null(object) => {
                let mut copy = object.clone();
                crd::prune_nulls(&mut copy, &crd.schema);
                pruned = copy;
                &pruned
            }
            _ => object,
        };
        if validator.is_valid(object) {
            return Validation::Valid;
        }
        let Some(found) = violations(&validator, object, unsealed.is_some()) else {
            return Validation::Valid;
        };
        if found.is_empty() {
            return Validation::Invalid(vec![Violation {
                pointer: String::new(),
                message: format!("does not match the schema of {api_version} {kind}"),
            }]);
        }
        Validation::Invalid(found)
    }

    /// Strategic-merge-patch metadata of the field at `path` in objects of
    /// `api_version`/`kind`, as kustomize reads it from the OpenAPI schema. `path` is the field
    /// path from the object root through maps and lists, list items being transparent:
    /// `["spec","template","spec","containers","ports"]` is the `ports` list of a container.
    /// `$ref`s are resolved while walking.
    ///
    /// Returns `None` for an unknown GVK or a path that leaves the schema (or an empty path);
    /// `Some(PatchMeta::default())` for a known field without patch extensions.
    pub fn list_patch_meta(
        &self,
        api_version: &str,
        kind: &str,
        path: &[&str],
    ) -> Option<PatchMeta> {
        match self.source(api_version, kind)? {
            Source::Builtin(name) => {
                let root = self.kube.def(name).ok()??;
                patch_meta::lookup(root, self.kube, path)
            }
            Source::Crd(crd) | Source::Catalog(crd) => {
                patch_meta::lookup(&crd.schema, self.kube, path)
            }
            Source::Broken(_) => None,
        }
    }

    /// The value format of the field at `path` (as for [`Catalog::list_patch_meta`]): whether
    /// it is a resource quantity or an int-or-string. `None` for an unknown GVK or a path that
    /// leaves the schema.
    pub fn field_format(
        &self,
        api_version: &str,
        kind: &str,
        path: &[&str],
    ) -> Option<FieldFormat> {
        match self.source(api_version, kind)? {
            Source::Builtin(name) => {
                let root = self.kube.def(name).ok()??;
                patch_meta::format(root, self.kube, path)
            }
            Source::Crd(crd) | Source::Catalog(crd) => {
                patch_meta::format(&crd.schema, self.kube, path)
            }
            Source::Broken(_) => None,
        }
    }

    fn source(&self, api_version: &str, kind: &str) -> Option<Source> {
        if let Some(crd) = self.crds.get(api_version, kind) {
            return Some(Source::Crd(Arc::clone(crd)));
        }
        if let Some(name) = self.kube.kind(api_version, kind) {
            return Some(Source::Builtin(name));
        }
        let from_catalog = |found: Result<Arc<CrdSchema>, String>| match found {
            Ok(schema) => Source::Catalog(schema),
            Err(reason) => Source::Broken(Arc::from(reason)),
        };
        if let Some(found) = self
            .crd_catalog
            .as_ref()
            .and_then(|c| c.get(api_version, kind))
        {
            return Some(from_catalog(found));
        }
        let flux = embedded::flux().ok();
        if let Some(crd) = flux.and_then(|flux| flux.kinds.get(api_version, kind)) {
            return Some(Source::Crd(Arc::clone(crd)));
        }
        let found = crd_catalog::embedded().ok()?.get(api_version, kind)?;
        Some(from_catalog(found))
    }

    fn validator(&self, api_version: &str, kind: &str, source: &Source, strict: bool) -> Compiled {
        let slot = usize::from(strict);
        {
            let cache = self
                .validators
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(Some(compiled)) = cache.get(api_version, kind).map(|entry| &entry[slot]) {
                return compiled.clone();
            }
        }
        let compiled = self.compile_source(source, strict);
        let mut cache = self
            .validators
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = cache.get_or_insert_with(api_version, kind, || [None, None]);
        entry[slot].get_or_insert(compiled).clone()
    }

    fn compile_source(&self, source: &Source, strict: bool) -> Compiled {
        let root = match source {
            Source::Builtin(name) => {
                let mut root = self
                    .kube
                    .def(name)
                    .map_err(|e| Arc::<str>::from(e.to_string()))?
                    .cloned()
                    .ok_or_else(|| Arc::<str>::from(format!("definition {name} is missing")))?;
                if let Value::Object(map) = &mut root {
                    map.insert("type".into(), Value::String("object".into()));
                }
                root
            }
            Source::Crd(crd) | Source::Catalog(crd) => crd.schema.clone(),
            Source::Broken(reason) => return Err(Arc::clone(reason)),
        };
        let schema =
            assemble(&root, self.kube, strict).map_err(|e| Arc::<str>::from(e.to_string()))?;
        compile(&schema).map(Arc::new).map_err(Arc::from)
    }
}

/// `"v1.30.2"` -> `"1.30"`; anything else is returned trimmed, to fail the version lookup.
fn minor_of(version: &str) -> String {
    let trimmed = version.trim();
    let bare = trimmed.strip_prefix('v').unwrap_or(trimmed);
    let mut parts = bare.split('.');
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor))
            if !major.is_empty()
                && !minor.is_empty()
                && (major.to_owned() + minor)
                    .bytes()
                    .all(|b| b.is_ascii_digit()) =>
        {
            format!("{major}.{minor}")
        }
        _ => trimmed.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::minor_of;

    #[test]
    fn version_spellings() {
        assert_eq!(minor_of("1.30"), "1.30");
        assert_eq!(minor_of("v1.30.2"), "1.30");
        assert_eq!(minor_of(" 1.37 "), "1.37");
        assert_eq!(minor_of("latest"), "latest");
        assert_eq!(minor_of("1.x"), "1.x");
    }
}
