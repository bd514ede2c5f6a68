//! The build recursion (kustomize `KustTarget.accumulateTarget`): resources (files,
//! directories with their own kustomization), generators, components, then transformers
//! in kustomize's order.

use std::path::{Path, PathBuf};

use driftlint_yaml::{parse_file, Node, Origin};

use super::budget::{self, Budget};
use super::build_metadata::{self, BuildOrigin};
use super::decode::Spanned;
use super::error::{ErrorKind, KustomizeError, Result};
use super::kustfile::{KustKind, Kustomization, ReplacementArgs};
use super::loader::{display, Loader, Target};
use super::merge_info::MergeInfo;
use super::nodeutil::{is_null, str_at};
use super::openapi::CustomSchema;
use super::patch::Patcher;
use super::replacements;
use super::resmap::ResMap;
use super::resource::Resource;
use super::{crds, generators, validators};
use super::{images, labels, namespace, plugins, prefix_suffix, replicas};

/// The only OpenAPI version kustomize v5.7.1 has built in (`openapi: {version: ...}`).
const BUILTIN_OPENAPI_VERSION: &str = "v1.21.2";

/// One build in progress.
pub struct Engine<'a> {
    /// File access.
    pub loader: Loader<'a>,
    /// Merge-key lookups for strategic merge patches.
    pub info: Option<&'a dyn MergeInfo>,
    /// A custom schema from an `openapi: {path: ...}`, replacing `info`.
    custom: Option<CustomSchema>,
    /// An `openapi` field has chosen the schema; later ones are ignored.
    schema_chosen: bool,
    /// Deprecation warnings, in visit order.
    pub warnings: Vec<String>,
    /// The top kustomization's `sortOptions` (kustomize ignores the others).
    pub top_sort: Option<Option<super::order::Legacy>>,
    /// The top kustomization's `buildMetadata`.
    pub meta: build_metadata::Options,
    /// The provenance of the kustomization being built (kustomize `KustTarget.origin`):
    /// its directory relative to the top one.
    here: BuildOrigin,
    chain: Vec<PathBuf>,
    /// The size budget of the build, in estimated bytes (`budget::node_size`).
    pub limit: u64,
    /// A Flux Kustomization's overlay for the top kustomization.
    pub flux: Option<&'a super::flux::FluxOverlay>,
    /// An Argo CD Application's kustomize edits for the top kustomization.
    pub argo: Option<&'a super::argocd::ArgoOverlay>,
    /// Renders `helmCharts` (kustomize's `--enable-helm`); None refuses them.
    pub helm: Option<&'a dyn super::helm_charts::HelmRenderer>,
}

impl<'a> Engine<'a> {
    /// An engine reading through `loader`.
    pub fn new(loader: Loader<'a>, info: Option<&'a dyn MergeInfo>) -> Self {
        Engine {
            loader,
            info,
            custom: None,
            schema_chosen: false,
            warnings: Vec::new(),
            top_sort: None,
            meta: build_metadata::Options::default(),
            here: BuildOrigin::default(),
            chain: Vec::new(),
            limit: super::budget::MAX_BUILD_SIZE,
            flux: None,
            argo: None,
            helm: None,
        }
    }

    /// Loads the kustomization of `dir`, refusing cycles (kustomize: a directory may not be
    /// used from a kustomization at or below it).
    fn enter(&mut self, dir: &Path, origin: Option<&Origin>) -> Result<(PathBuf, Kustomization)> {
        let o = origin
            .cloned()
            .unwrap_or_else(|| Origin::new(display(dir).into(), 1, 1));
        let canonical = self.loader.canonical_dir(dir, &o)?;
        if self.chain.iter().any(|c| c.starts_with(&canonical)) {
            let mut chain: Vec<String> = self.chain.iter().map(|c| display(c)).collect();
            chain.push(display(&canonical));
            return Err(KustomizeError::new(
                ErrorKind::Cycle { chain },
                origin.cloned(),
            ));
        }
        let k = match self.flux.filter(|_| self.chain.is_empty()) {
            Some(overlay) => {
                let mut k = match self.loader.load_kustomization(&canonical, origin) {
                    Err(e) if matches!(e.kind, ErrorKind::Missing { .. }) => {
                        super::flux::generate(&self.loader, &canonical, &o)?
                    }
                    other => other?,
                };
                overlay.apply(&mut k);
                k
            }
            None => {
                let mut k = self.loader.load_kustomization(&canonical, origin)?;
                if let Some(argo) = self.argo.filter(|_| self.chain.is_empty()) {
                    argo.apply(&mut k)?;
                }
                k
            }
        };
        self.warnings.extend(k.warnings.iter().cloned());
        self.set_openapi(&canonical, &k)?;
        if self.chain.is_empty() {
            self.top_sort = k.sort.clone();
            self.meta = build_metadata::Options::of(&k);
        }
        Ok((canonical, k))
    }

    /// The schema lookups strategic merge patches use.
    fn merge_info(&self) -> Option<&dyn MergeInfo> {
        match &self.custom {
            Some(c) => Some(c),
            None => self.info,
        }
    }

    /// kustomize's `openapi.SetSchema`: the schema is chosen once, by the first `openapi`
    /// met in build order (the top kustomization first, then kustomizations as they are
    /// entered); later ones are ignored, though their `path` file must still be readable.
    /// `path` replaces the built-in schema; `version` must name a schema kustomize has
    /// built in (`v1.21.2`), for which the catalog given in the options stands.
    fn set_openapi(&mut self, dir: &Path, k: &Kustomization) -> Result<()> {
        let Some(o) = &k.openapi else { return Ok(()) };
        let get = |key: &str| o.value.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let path = match get("path") {
            Some(p) => Some((p, self.loader.read_restricted(dir, &p.value, &p.origin)?)),
            None => None,
        };
        if self.schema_chosen {
            return Ok(());
        }
        match (path, get("version")) {
            (Some(_), Some(_)) => Err(KustomizeError::invalid(
                "builtin version and custom schema provided, cannot use both",
                Some(&o.origin),
            )),
            (Some((p, (file, text))), None) => {
                let parsed = parse_file(display(&file).into(), &text)?;
                let doc = parsed
                    .documents
                    .first()
                    .map(|d| d.to_json())
                    .unwrap_or_default();
                let schema = CustomSchema::from_json(&doc).ok_or_else(|| {
                    KustomizeError::invalid(
                        "custom OpenAPI schema has no definitions",
                        Some(&p.origin),
                    )
                })?;
                self.custom = Some(schema);
                self.schema_chosen = true;
                Ok(())
            }
            (None, Some(v)) if v.value.is_empty() => Ok(()),
            (None, Some(v)) if v.value != BUILTIN_OPENAPI_VERSION => Err(KustomizeError::invalid(
                format!("the specified OpenAPI version is not built in: {}", v.value),
                Some(&v.origin),
            )),
            (None, Some(_)) => {
                self.schema_chosen = true;
                Ok(())
            }
            (None, None) => Ok(()),
        }
    }

    /// Builds the kustomization in `dir` into a fresh accumulator (kustomize
    /// `AccumulateTarget`), without the final hash and name-reference steps.
    pub fn build_dir(
        &mut self,
        dir: &Path,
        origin: Option<&Origin>,
        component: Option<ResMap>,
    ) -> Result<ResMap> {
        let (canonical, k) = self.enter(dir, origin)?;
        let want_component = component.is_some();
        let is_component = k.kind == KustKind::Component;
        if want_component != is_component && origin.is_some() {
            let msg = if want_component {
                format!(
                    "expected kind 'Component' for path '{}'",
                    display(&canonical)
                )
            } else {
                format!(
                    "expected kind != 'Component' for path '{}'",
                    display(&canonical)
                )
            };
            return Err(KustomizeError::invalid(msg, origin));
        }
        self.chain.push(canonical.clone());
        let out = self.accumulate(&canonical, &k, component.unwrap_or_default());
        self.chain.pop();
        out
    }

    fn accumulate(&mut self, dir: &Path, k: &Kustomization, mut ra: ResMap) -> Result<ResMap> {
        let mut budget = Budget::of_map(&ra, self.limit);
        for r in &k.resources {
            self.accumulate_resource(dir, r.value.as_str(), &r.origin, &mut ra, &mut budget)?;
        }
        for c in &k.configurations {
            ra.config
                .load_into(&self.loader, dir, &c.value, &c.origin)?;
        }
        if let Some(first) = k.crds.first() {
            let tc = crds::load(&self.loader, dir, &k.crds)?;
            ra.config.merge(&tc, &first.origin)?;
        }
        self.generate(dir, k, &mut ra)?;
        let whole = Origin::new(k.file.clone(), 1, 1);
        budget::check(&ra, self.limit, "the generators", &whole)?;
        for c in &k.components {
            ra = match self.loader.resolve_base(dir, &c.value, &c.origin)? {
                Target::Dir(d) => self.build_sub(&d, &c.value, &c.origin, Some(ra))?,
                Target::File(_) => {
                    return Err(KustomizeError::invalid(
                        format!("component {} must be a directory", c.value),
                        Some(&c.origin),
                    ))
                }
            };
            budget::check(
                &ra,
                self.limit,
                &format!("component {}", c.value),
                &c.origin,
            )?;
        }
        let mut configs = Vec::new();
        for t in &k.transformers {
            configs.extend(self.transformer_configs(dir, k, t)?);
        }
        budget::check_copies(&ra, k, self.limit)?;
        self.transform(dir, k, &configs, &mut ra)?;
        budget::check(&ra, self.limit, "the transformers", &whole)?;
        for v in &k.validators {
            let configs = self.transformer_configs(dir, k, v)?;
            validators::run(&self.patcher(dir, k), &configs, &ra)?;
        }
        ra.merge_vars(&k.vars)?;
        ra.list_mut().retain(|r| !is_local_config(&r.node));
        Ok(ra)
    }

    /// Builds the kustomization `rel` (resolved to `dir`) used by the current one, with
    /// the provenance path extended by `rel` (kustomize `Origin.Append`).
    fn build_sub(
        &mut self,
        dir: &Path,
        rel: &str,
        origin: &Origin,
        component: Option<ResMap>,
    ) -> Result<ResMap> {
        let saved = self.here.clone();
        self.here = saved.append(rel);
        let out = self.build_dir(dir, Some(origin), component);
        self.here = saved;
        out
    }

    /// Records that `res` was read from `rel` (kustomize `accumulateFile`), when tracked.
    fn stamp_file(&self, res: &mut Resource, rel: &str) {
        if let Some(at) = &self.meta.tracking {
            build_metadata::set_origin(res, &self.here.append(rel), at);
        }
    }

    /// Inflates one Helm chart into `ra`, as a generator's output.
    fn inflate(
        &self,
        dir: &Path,
        globals: &super::helm_args::HelmGlobals,
        c: &super::helm_args::HelmChartArgs,
        ra: &mut ResMap,
    ) -> Result<()> {
        let docs = super::helm_charts::inflate(&self.loader, self.helm, dir, globals, c)?;
        for res in resources_from_docs(docs)? {
            generators::absorb(ra, res, &c.origin)?;
        }
        Ok(())
    }

    /// `configMapGenerator`, `secretGenerator`, `helmCharts`, then `generators` entries
    /// (kustomize's builtin generators, then the configured ones).
    fn generate(&mut self, dir: &Path, k: &Kustomization, ra: &mut ResMap) -> Result<()> {
        let (tracking, here) = (self.meta.tracking.clone(), self.here.clone());
        let stamp = |res: &mut Resource, secret: bool| {
            let kind = if secret {
                "SecretGenerator"
            } else {
                "ConfigMapGenerator"
            };
            if let Some(at) = &tracking {
                let o = BuildOrigin::builtin(&here, kust_file_name(k), kind);
                build_metadata::set_origin(res, &o, at);
            }
        };
        generators::run(&self.loader, dir, k, ra, &mut self.warnings, &stamp)?;
        for c in &k.helm_charts {
            self.inflate(dir, &k.helm_globals, c, ra)?;
        }
        for g in &k.generators {
            for cfg in self.transformer_configs(dir, k, g)? {
                if let Some((globals, chart)) = super::helm_args::from_plugin(&cfg.node)? {
                    self.inflate(dir, &globals, &chart, ra)?;
                    continue;
                }
                let (args, secret) = plugins::decode_generator(&cfg)?;
                let origin = BuildOrigin::of_plugin(&cfg);
                let stamp = |res: &mut Resource| {
                    if let (Some(at), Some(o)) = (&tracking, &origin) {
                        build_metadata::set_origin(res, o, at);
                    }
                };
                generators::run_one(
                    &self.loader,
                    dir,
                    &args,
                    secret,
                    ra,
                    &mut self.warnings,
                    &stamp,
                )?;
            }
        }
        Ok(())
    }

    fn accumulate_resource(
        &mut self,
        dir: &Path,
        rel: &str,
        origin: &Origin,
        ra: &mut ResMap,
        budget: &mut Budget,
    ) -> Result<()> {
        let what = format!("resource {rel}");
        match self.loader.resolve_base(dir, rel, origin)? {
            Target::Dir(d) => {
                let sub = self.build_sub(&d, rel, origin, None)?;
                budget.charge(budget::map_size(&sub), &what, origin)?;
                ra.append_all(sub, Some(origin))
            }
            Target::File(_) => {
                let (file, text) = self.loader.read_restricted(dir, rel, origin)?;
                for mut res in resources_from(&file, &text)? {
                    self.stamp_file(&mut res, rel);
                    budget.charge(budget::node_size(&res.node), &what, origin)?;
                    ra.append(res, Some(origin))?;
                }
                Ok(())
            }
        }
    }

    fn patcher<'p>(&'p self, dir: &'p Path, k: &'p Kustomization) -> Patcher<'p, 'a> {
        Patcher {
            loader: &self.loader,
            dir,
            kust: k,
            info: self.merge_info(),
        }
    }

    /// kustomize's builtin transformers, in its order, then the `transformers` configs.
    /// When provenance is tracked, each transformer instance kustomize would configure is
    /// recorded on every object after it ran (kustomize `multiTransformer`).
    fn transform(
        &self,
        dir: &Path,
        k: &Kustomization,
        configs: &[Resource],
        ra: &mut ResMap,
    ) -> Result<()> {
        let patcher = self.patcher(dir, k);
        let rec = |ra: &mut ResMap, kind: &str, times: usize| {
            if let Some(at) = &self.meta.tracking {
                let t = BuildOrigin::builtin(&self.here, kust_file_name(k), kind);
                (0..times).for_each(|_| build_metadata::record_transformation(ra, &t, at));
            }
        };
        let non_empty =
            |s: &Option<Spanned<String>>| s.as_ref().is_some_and(|s| !s.value.is_empty());
        patcher.apply_strategic_merge(ra, &k.patches_strategic_merge)?;
        let psm = usize::from(!k.patches_strategic_merge.is_empty());
        rec(ra, "PatchStrategicMergeTransformer", psm);
        patcher.apply_patches(ra, &k.patches)?;
        rec(ra, "PatchTransformer", k.patches.len());
        let tc = ra.config.clone();
        if let Some(ns) = &k.namespace {
            let opts = namespace::Options {
                specs: namespace::without_hacks(tc.namespace.clone()),
                ..namespace::Options::default()
            };
            namespace::apply_with(ra, ns, &opts)?;
        }
        rec(
            ra,
            "NamespaceTransformer",
            usize::from(non_empty(&k.namespace)),
        );
        let (prefix, suffix) = (k.name_prefix.as_ref(), k.name_suffix.as_ref());
        prefix_suffix::apply_with(ra, prefix, prefix_suffix::End::Prefix, &tc.name_prefix)?;
        rec(
            ra,
            "PrefixTransformer",
            usize::from(non_empty(&k.name_prefix)),
        );
        prefix_suffix::apply_with(ra, suffix, prefix_suffix::End::Suffix, &tc.name_suffix)?;
        rec(
            ra,
            "SuffixTransformer",
            usize::from(non_empty(&k.name_suffix)),
        );
        labels::apply(ra, &k.labels, &k.common_labels, &tc)?;
        let any_labels = !k.labels.is_empty() || !k.common_labels.is_empty();
        rec(
            ra,
            "LabelTransformer",
            if any_labels { k.labels.len() + 1 } else { 0 },
        );
        labels::set_entries(
            ra,
            &k.common_annotations,
            &tc.common_annotations,
            "commonAnnotations transformer",
        )?;
        let any_annotations = usize::from(!k.common_annotations.is_empty());
        rec(ra, "AnnotationsTransformer", any_annotations);
        patcher.apply_json6902(ra, &k.patches_json6902)?;
        rec(ra, "PatchJson6902Transformer", k.patches_json6902.len());
        for r in &k.replicas {
            replicas::apply_with(ra, r, &tc.replicas)?;
            rec(ra, "ReplicaCountTransformer", 1);
        }
        for i in &k.images {
            images::apply_with(ra, i, &tc.images)?;
            rec(ra, "ImageTagTransformer", 1);
        }
        let repl = self.replacements(dir, k)?;
        replacements::apply(ra, &repl, self.limit)?;
        rec(
            ra,
            "ReplacementTransformer",
            usize::from(!k.replacements.is_empty()),
        );
        for cfg in configs {
            let b = plugins::decode(cfg)?;
            plugins::apply(&b, ra, &patcher)?;
            if let (Some(at), Some(t)) = (&self.meta.tracking, BuildOrigin::of_plugin(cfg)) {
                build_metadata::record_transformation(ra, &t, at);
            }
        }
        Ok(())
    }

    /// The kustomization's replacements, loading `path:` entries.
    fn replacements(&self, dir: &Path, k: &Kustomization) -> Result<Vec<ReplacementArgs>> {
        replacements::load_entries(&self.loader, dir, &k.replacements)
    }

    /// The config objects of a `transformers`, `generators` or `validators` entry: inline
    /// YAML, a file, or a directory whose kustomization builds them (each with its
    /// provenance when tracked).
    fn transformer_configs(
        &mut self,
        dir: &Path,
        k: &Kustomization,
        t: &Spanned<String>,
    ) -> Result<Vec<Resource>> {
        if t.value.contains('\n') {
            let parsed = parse_file(t.origin.file.clone(), &t.value).map_err(|e| {
                KustomizeError::invalid(format!("inline transformer: {e}"), Some(&t.origin))
            })?;
            let mut out = Vec::new();
            for mut d in parsed.documents.into_iter().filter(|d| !is_null(d)) {
                d.set_origin_deep(&t.origin);
                let mut r = Resource::new(d);
                self.stamp_file(&mut r, kust_file_name(k));
                out.push(r);
            }
            return Ok(out);
        }
        match self.loader.resolve_base(dir, &t.value, &t.origin)? {
            Target::File(_) => {
                let (file, text) = self.loader.read_restricted(dir, &t.value, &t.origin)?;
                let mut out = resources_from(&file, &text)?;
                for r in &mut out {
                    self.stamp_file(r, &t.value);
                }
                Ok(out)
            }
            Target::Dir(d) => Ok(self.build_sub(&d, &t.value, &t.origin, None)?.into_list()),
        }
    }
}

/// The kustomization's file name (`kustomization.yaml`, `kustomization.yml` or
/// `Kustomization`).
fn kust_file_name(k: &Kustomization) -> &str {
    k.file.rsplit('/').next().unwrap_or("kustomization.yaml")
}

/// kustomize drops objects annotated `config.kubernetes.io/local-config` with any value
/// but `"false"`.
fn is_local_config(n: &Node) -> bool {
    n.get_path(&[
        "metadata",
        "annotations",
        "config.kubernetes.io/local-config",
    ])
    .is_some_and(|v| v.as_scalar().is_none_or(|s| s.text != "false"))
}

/// Reads the objects of a resource file: empty documents skipped, `*List` kinds with
/// `items` flattened (their items after the file's other objects, as kustomize does).
///
/// Errors: malformed YAML; a document that is not a mapping, has no `kind`, or (unless a
/// list) no `metadata.name`.
pub fn resources_from(file: &Path, text: &str) -> Result<Vec<Resource>> {
    let parsed = parse_file(display(file).into(), text)?;
    resources_from_docs(parsed.documents)
}

/// [`resources_from`] for documents already parsed.
///
/// Errors: as [`resources_from`], without the YAML ones.
pub fn resources_from_docs(docs: Vec<Node>) -> Result<Vec<Resource>> {
    let mut queue: std::collections::VecDeque<Node> = docs.into_iter().collect();
    let mut out = Vec::new();
    while let Some(doc) = queue.pop_front() {
        if is_null(&doc) || doc.as_map().is_some_and(|m| m.is_empty()) {
            continue;
        }
        if doc.as_map().is_none() {
            return Err(KustomizeError::invalid(
                "missing Resource metadata (a resource document must be a mapping)",
                Some(&doc.origin),
            ));
        }
        let kind = str_at(&doc, &["kind"]).unwrap_or("").to_string();
        if kind.is_empty() {
            return Err(KustomizeError::invalid(
                "missing kind in object",
                Some(&doc.origin),
            ));
        }
        if kind.ends_with("List") {
            if let Some(items) = doc.get("items") {
                if is_null(items) {
                    continue;
                }
                let Some(items) = items.as_seq() else {
                    return Err(KustomizeError::invalid(
                        format!("expected array in {kind}/items"),
                        Some(&items.origin),
                    ));
                };
                queue.extend(items.iter().cloned());
                continue;
            }
        } else if str_at(&doc, &["metadata", "name"]).is_none_or(str::is_empty) {
            return Err(KustomizeError::invalid(
                "missing metadata.name in object",
                Some(&doc.origin),
            ));
        }
        let mut doc = doc;
        super::nodeutil::kyaml_folded_scalars(&mut doc);
        out.push(Resource::new(doc));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_multi_document_files_and_lists() {
        let src = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: from-list\n---\n---\n# only a comment\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n";
        let r = resources_from(Path::new("a.yaml"), src).expect("reads");
        let names: Vec<&str> = r.iter().map(Resource::name).collect();
        assert_eq!(names, vec!["s", "from-list"]);
    }

    #[test]
    fn rejects_bad_documents() {
        assert!(resources_from(Path::new("a.yaml"), "- a\n- b\n").is_err());
        assert!(
            resources_from(Path::new("a.yaml"), "apiVersion: v1\nmetadata: {name: x}\n").is_err()
        );
        assert!(resources_from(Path::new("a.yaml"), "kind: ConfigMap\nmetadata: {}\n").is_err());
        let e = resources_from(Path::new("a.yaml"), "a: [1\n").unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Yaml(_)));
    }
}
