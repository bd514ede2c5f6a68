//! The build recursion (kustomize `KustTarget.accumulateTarget`): resources (files,
//! directories with their own kustomization), generators, components, then transformers
//! in kustomize's order.

use std::path::{Path, PathBuf};

use crate::yaml::{parse_file, Node, Origin};

use super::decode::Spanned;
use super::error::{ErrorKind, KustomizeError, Result};
use super::generators;
use super::kustfile::{self, KustKind, Kustomization, ReplacementEntry};
use super::loader::{display, Loader, Target};
use super::merge_info::MergeInfo;
use super::nodeutil::{is_null, str_at};
use super::openapi::CustomSchema;
use super::patch::Patcher;
use super::replacements::{self, ReplacementArgs};
use super::resmap::ResMap;
use super::resource::Resource;
use super::vars;
use super::{images, labels, namespace, plugins, prefix_suffix, replicas};

/// One build in progress.
pub struct Engine<'a> {
    /// File access.
    pub loader: Loader<'a>,
    /// Merge-key lookups for strategic merge patches.
    pub info: Option<&'a dyn MergeInfo>,
    /// A custom schema from the top kustomization's `openapi: {path: ...}`, replacing `info`.
    custom: Option<CustomSchema>,
    /// Deprecation warnings, in visit order.
    pub warnings: Vec<String>,
    /// The top kustomization's `sortOptions` (kustomize ignores the others).
    pub top_sort: Option<Option<super::order::Legacy>>,
    chain: Vec<PathBuf>,
}

impl<'a> Engine<'a> {
    /// An engine reading through `loader`.
    pub fn new(loader: Loader<'a>, info: Option<&'a dyn MergeInfo>) -> Self {
        Engine {
            loader,
            info,
            custom: None,
            warnings: Vec::new(),
            top_sort: None,
            chain: Vec::new(),
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
        let k = self.loader.load_kustomization(&canonical, origin)?;
        self.warnings.extend(k.warnings.iter().cloned());
        self.set_openapi(&canonical, &k)?;
        if self.chain.is_empty() {
            self.top_sort = k.sort.clone();
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

    /// kustomize applies the first `openapi` it meets, starting with the top kustomization:
    /// `path` replaces the built-in schema, `version` picks a built-in one (the catalog given
    /// in the options stands for every version here).
    fn set_openapi(&mut self, dir: &Path, k: &Kustomization) -> Result<()> {
        let Some(o) = &k.openapi else { return Ok(()) };
        if !self.chain.is_empty() {
            return Err(KustomizeError::unsupported(
                "openapi in a kustomization used by another (only the top kustomization's is honoured)",
                Some(&o.origin),
            ));
        }
        let get = |key: &str| o.value.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        match (get("path"), get("version")) {
            (Some(_), Some(_)) => Err(KustomizeError::invalid(
                "builtin version and custom schema provided, cannot use both",
                Some(&o.origin),
            )),
            (Some(path), None) => {
                let (file, text) = self
                    .loader
                    .read_restricted(dir, &path.value, &path.origin)?;
                let parsed = parse_file(display(&file).into(), &text)?;
                let doc = parsed
                    .documents
                    .first()
                    .map(|d| d.to_json())
                    .unwrap_or_default();
                let schema = CustomSchema::from_json(&doc).ok_or_else(|| {
                    KustomizeError::invalid(
                        "custom OpenAPI schema has no definitions",
                        Some(&path.origin),
                    )
                })?;
                self.custom = Some(schema);
                Ok(())
            }
            _ => Ok(()),
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
        for r in &k.resources {
            self.accumulate_resource(dir, r.value.as_str(), &r.origin, &mut ra)?;
        }
        for c in &k.configurations {
            ra.config
                .load_into(&self.loader, dir, &c.value, &c.origin)?;
        }
        generators::run(&self.loader, dir, k, &mut ra, &mut self.warnings)?;
        for g in &k.generators {
            for cfg in self.transformer_configs(dir, g)? {
                let (args, secret) = plugins::decode_generator(&cfg)?;
                generators::run_one(
                    &self.loader,
                    dir,
                    &args,
                    secret,
                    &mut ra,
                    &mut self.warnings,
                )?;
            }
        }
        for c in &k.components {
            ra = match self.loader.resolve(dir, &c.value, &c.origin)? {
                Target::Dir(d) => self.build_dir(&d, Some(&c.origin), Some(ra))?,
                Target::File(_) => {
                    return Err(KustomizeError::invalid(
                        format!("component {} must be a directory", c.value),
                        Some(&c.origin),
                    ))
                }
            };
        }
        let mut configs = Vec::new();
        for t in &k.transformers {
            configs.extend(self.transformer_configs(dir, t)?);
        }
        self.transform(dir, k, &configs, &mut ra)?;
        vars::merge(&mut ra.vars, &k.vars)?;
        ra.list.retain(|r| !is_local_config(&r.node));
        Ok(ra)
    }

    fn accumulate_resource(
        &mut self,
        dir: &Path,
        rel: &str,
        origin: &Origin,
        ra: &mut ResMap,
    ) -> Result<()> {
        match self.loader.resolve(dir, rel, origin)? {
            Target::Dir(d) => {
                let sub = self.build_dir(&d, Some(origin), None)?;
                ra.append_all(sub, Some(origin))
            }
            Target::File(_) => {
                let (file, text) = self.loader.read_restricted(dir, rel, origin)?;
                for res in resources_from(&file, &text)? {
                    ra.append(res, Some(origin))?;
                }
                Ok(())
            }
        }
    }

    /// kustomize's builtin transformers, in its order.
    fn transform(
        &self,
        dir: &Path,
        k: &Kustomization,
        configs: &[Resource],
        ra: &mut ResMap,
    ) -> Result<()> {
        let patcher = Patcher {
            loader: &self.loader,
            dir,
            kust: k,
            info: self.merge_info(),
        };
        patcher.apply_strategic_merge(ra, &k.patches_strategic_merge)?;
        patcher.apply_patches(ra, &k.patches)?;
        let tc = ra.config.clone();
        if let Some(ns) = &k.namespace {
            let opts = namespace::Options {
                specs: namespace::without_hacks(tc.namespace.clone()),
                ..namespace::Options::default()
            };
            namespace::apply_with(ra, ns, &opts)?;
        }
        let (prefix, suffix) = (k.name_prefix.as_ref(), k.name_suffix.as_ref());
        prefix_suffix::apply_with(ra, prefix, prefix_suffix::End::Prefix, &tc.name_prefix)?;
        prefix_suffix::apply_with(ra, suffix, prefix_suffix::End::Suffix, &tc.name_suffix)?;
        labels::apply(ra, &k.labels, &k.common_labels, &tc)?;
        labels::set_entries(
            ra,
            &k.common_annotations,
            &tc.common_annotations,
            "commonAnnotations transformer",
        )?;
        patcher.apply_json6902(ra, &k.patches_json6902)?;
        for r in &k.replicas {
            replicas::apply_with(ra, r, &tc.replicas)?;
        }
        for i in &k.images {
            images::apply_with(ra, i, &tc.images)?;
        }
        let repl = self.replacements(dir, k)?;
        replacements::apply(ra, &repl)?;
        for cfg in configs {
            let b = plugins::decode(cfg)?;
            plugins::apply(&b, ra, &patcher)?;
        }
        Ok(())
    }

    /// The kustomization's replacements, loading `path:` entries.
    fn replacements(&self, dir: &Path, k: &Kustomization) -> Result<Vec<ReplacementArgs>> {
        let mut out = Vec::new();
        for e in &k.replacements {
            match e {
                ReplacementEntry::Inline(r) => out.push((**r).clone()),
                ReplacementEntry::Path(p) => {
                    let (file, text) = self.loader.read_restricted(dir, &p.value, &p.origin)?;
                    let parsed = parse_file(display(&file).into(), &text)?;
                    for doc in parsed.documents.iter().filter(|d| !is_null(d)) {
                        let what = "replacement";
                        match doc.as_seq() {
                            Some(items) => {
                                for i in items {
                                    out.push(kustfile::decode_replacement(i, what)?);
                                }
                            }
                            None => out.push(kustfile::decode_replacement(doc, what)?),
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The config objects of a `transformers` or `generators` entry: inline YAML, a file,
    /// or a directory whose kustomization builds them.
    fn transformer_configs(&mut self, dir: &Path, t: &Spanned<String>) -> Result<Vec<Resource>> {
        if t.value.contains('\n') {
            let parsed = parse_file(t.origin.file.clone(), &t.value).map_err(|e| {
                KustomizeError::invalid(format!("inline transformer: {e}"), Some(&t.origin))
            })?;
            let mut out = Vec::new();
            for mut d in parsed.documents.into_iter().filter(|d| !is_null(d)) {
                d.set_origin_deep(&t.origin);
                out.push(Resource::new(d));
            }
            return Ok(out);
        }
        match self.loader.resolve(dir, &t.value, &t.origin)? {
            Target::File(_) => {
                let (file, text) = self.loader.read_restricted(dir, &t.value, &t.origin)?;
                resources_from(&file, &text)
            }
            Target::Dir(d) => Ok(self.build_dir(&d, Some(&t.origin), None)?.list),
        }
    }
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
    let mut queue: std::collections::VecDeque<Node> = parsed.documents.into_iter().collect();
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
