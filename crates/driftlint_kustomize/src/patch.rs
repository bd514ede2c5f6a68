//! `patches:`, `patchesStrategicMerge:` and `patchesJson6902:` (kustomize PatchTransformer,
//! PatchStrategicMergeTransformer and PatchJson6902Transformer): load the patch (file or
//! inline), decide whether it is a strategic merge patch or a JSON 6902 patch, find its
//! targets and apply it.

use std::path::Path;
use std::sync::Arc;

use driftlint_yaml::{parse_file, Node, Origin, Value};

use super::decode::Spanned;
use super::error::{KustomizeError, Result};
use super::kustfile::{Kustomization, PatchArgs};
use super::loader::{display, Loader};
use super::merge_info::MergeInfo;
use super::nodeutil::{child_map_mut, set_key};
use super::patch_json6902::{self, Operation};
use super::patch_smp;
use super::resmap::ResMap;
use super::resource::Resource;
use super::selector::Selector;

/// A loaded patch.
enum Loaded {
    /// Strategic merge patches (one per document).
    Smp(Vec<Resource>),
    /// JSON 6902 operations.
    Json(Vec<Operation>),
}

/// Everything needed to apply patches for one kustomization.
pub struct Patcher<'a, 'l> {
    /// File access.
    pub loader: &'a Loader<'l>,
    /// The kustomization's directory (repo-relative).
    pub dir: &'a Path,
    /// The kustomization.
    pub kust: &'a Kustomization,
    /// Merge-key lookups.
    pub info: Option<&'a dyn MergeInfo>,
}

/// Re-bases origins of a patch parsed from an inline block scalar of the kustomization
/// file so they point at the kustomization's own lines. `at` is where the scalar's content
/// starts; the mapping is exact for `|` blocks (content lines appear verbatim, indented);
/// for other styles every node points at the entry.
fn rebase_inline(mut nodes: Vec<Node>, text: &str, at: &Origin, source: &str) -> Vec<Node> {
    let first = text.lines().next().unwrap_or("");
    let indent = at.column.saturating_sub(1) as usize;
    let verbatim = source
        .lines()
        .nth(at.line.saturating_sub(1) as usize)
        .and_then(|l| l.get(indent..))
        .is_some_and(|l| l == first);
    for n in &mut nodes {
        if verbatim {
            shift(n, at);
        } else {
            n.set_origin_deep(at);
        }
    }
    nodes
}

/// Sets `via` on `n` and every node below it, keeping their positions.
fn mark_via(n: &mut Node, via: &Arc<str>) {
    n.origin.via = Some(via.clone());
    match &mut n.value {
        Value::Scalar(_) => {}
        Value::Seq(items) => items.iter_mut().for_each(|i| mark_via(i, via)),
        Value::Map(m) => {
            for (k, v) in m.entries_mut().iter_mut() {
                mark_via(k, via);
                mark_via(v, via);
            }
        }
    }
}

fn shift(n: &mut Node, at: &Origin) {
    n.origin.file = at.file.clone();
    n.origin.line += at.line - 1;
    n.origin.column += at.column - 1;
    match &mut n.value {
        Value::Scalar(_) => {}
        Value::Seq(items) => items.iter_mut().for_each(|i| shift(i, at)),
        Value::Map(m) => {
            for (k, v) in m.entries_mut().iter_mut() {
                shift(k, at);
                shift(v, at);
            }
        }
    }
}

/// Validates a patch document as kustomize's resource factory does.
fn as_patch_resource(doc: Node) -> Option<Resource> {
    let r = Resource::new(doc);
    let ok = r.node.as_map().is_some() && !r.kind().is_empty() && !r.name().is_empty();
    ok.then_some(r)
}

impl Patcher<'_, '_> {
    /// Parses patch text from a file (origins in that file) or inline (origins in the
    /// kustomization).
    /// Every node is marked `via: "patch"`, so values a patch sets say so.
    fn parse(&self, text: &str, file: Option<&Path>, at: &Origin) -> Result<Vec<Node>> {
        let mut docs = match file {
            Some(f) => parse_file(display(f).into(), text)?.documents,
            None => {
                let name: Arc<str> = at.file.clone();
                let docs = parse_file(name, text)
                    .map_err(|e| KustomizeError::invalid(format!("inline patch: {e}"), Some(at)))?
                    .documents;
                let source = match &self.kust.extra_source {
                    Some((file, text)) if *file == at.file => text,
                    _ => &self.kust.source,
                };
                rebase_inline(docs, text, at, source)
            }
        };
        let via: Arc<str> = "patch".into();
        docs.iter_mut().for_each(|d| {
            super::nodeutil::kyaml_folded_scalars(d);
            mark_via(d, &via)
        });
        Ok(docs)
    }

    /// Loads `patch:`/`path:` content and classifies it.
    fn load(&self, p: &PatchArgs, what: &str) -> Result<Loaded> {
        let (text, file, at) = match (&p.patch, &p.path) {
            (Some(_), Some(_)) => {
                return Err(KustomizeError::invalid(
                    "patch and path can't be set at the same time",
                    Some(&p.origin),
                ))
            }
            (Some(inline), None) => (inline.value.clone(), None, inline.origin.clone()),
            (None, Some(path)) => {
                let (file, text) =
                    self.loader
                        .read_restricted(self.dir, &path.value, &path.origin)?;
                (text.to_string(), Some(file), path.origin.clone())
            }
            (None, None) => {
                return Err(KustomizeError::invalid(
                    format!("must specify one of patch and path in {what}"),
                    Some(&p.origin),
                ))
            }
        };
        let docs = self.parse(&text, file.as_deref(), &at)?;
        classify(docs, &at)
    }

    /// Applies `patchesStrategicMerge` entries (file paths or inline patches).
    pub fn apply_strategic_merge(&self, m: &mut ResMap, entries: &[Spanned<String>]) -> Result<()> {
        for entry in entries {
            for patch in self.load_psm(entry)? {
                let idx = find_target(m, &patch, &entry.origin)?;
                apply_smp(m, &[idx], &patch, self.info, &entry.origin)?;
            }
        }
        Ok(())
    }

    fn load_psm(&self, entry: &Spanned<String>) -> Result<Vec<Resource>> {
        let inline = self
            .parse(&entry.value, None, &entry.origin)
            .ok()
            .and_then(|docs| smp_resources(docs).ok())
            .filter(|r| !r.is_empty());
        if let Some(r) = inline {
            return Ok(r);
        }
        let (file, text) = self
            .loader
            .read_restricted(self.dir, &entry.value, &entry.origin)?;
        let docs = self.parse(&text, Some(&file), &entry.origin)?;
        let res = smp_resources(docs).map_err(|_| {
            KustomizeError::invalid(
                format!("{} is not a strategic merge patch (each document needs kind and metadata.name)", entry.value),
                Some(&entry.origin),
            )
        })?;
        if res.is_empty() {
            return Err(KustomizeError::invalid(
                format!("patch appears to be empty; file={}", entry.value),
                Some(&entry.origin),
            ));
        }
        Ok(res)
    }

    /// Applies `patches` entries.
    pub fn apply_patches(&self, m: &mut ResMap, patches: &[PatchArgs]) -> Result<()> {
        for p in patches {
            match self.load(p, "patches")? {
                Loaded::Smp(patches) => self.apply_loaded_smp(m, p, &patches)?,
                Loaded::Json(ops) => {
                    let Some(t) = &p.target else {
                        return Err(KustomizeError::invalid(
                            "must specify a target for JSON patch",
                            Some(&p.origin),
                        ));
                    };
                    let sel = Selector::compile(t, &p.origin)?;
                    for i in sel.select(m) {
                        let res = &mut m.list_mut()[i];
                        res.store_previous_id();
                        patch_json6902::apply(&mut res.node, &ops)?;
                        patch_json6902::restring_annotations(&mut res.node);
                    }
                }
            }
        }
        Ok(())
    }

    fn apply_loaded_smp(&self, m: &mut ResMap, p: &PatchArgs, patches: &[Resource]) -> Result<()> {
        let allow_name = p.options.get("allowNameChange").copied().unwrap_or(false);
        let allow_kind = p.options.get("allowKindChange").copied().unwrap_or(false);
        let opts = SmpOptions {
            allow_name,
            allow_kind,
        };
        if let Some(t) = &p.target {
            if patches.len() > 1 {
                return Err(KustomizeError::invalid(
                    "Multiple Strategic-Merge Patches in one `patches` entry is not allowed to set `patches.target` field",
                    Some(&p.origin),
                ));
            }
            let sel = Selector::compile(t, &p.origin)?;
            let hits = sel.select(m);
            if let Some(patch) = patches.first() {
                apply_smp_with(m, &hits, patch, self.info, &p.origin, opts)?;
            }
            return Ok(());
        }
        for patch in patches {
            let idx = find_target(m, patch, &p.origin)?;
            apply_smp_with(m, &[idx], patch, self.info, &p.origin, opts)?;
        }
        Ok(())
    }

    /// Applies `patchesJson6902` entries.
    pub fn apply_json6902(&self, m: &mut ResMap, patches: &[PatchArgs]) -> Result<()> {
        for p in patches {
            let Some(t) = &p.target else {
                return Err(KustomizeError::invalid(
                    "must specify a target for patch",
                    Some(&p.origin),
                ));
            };
            let ops = match self.load(p, "patchesJson6902")? {
                Loaded::Json(ops) => ops,
                Loaded::Smp(_) => {
                    return Err(KustomizeError::invalid(
                        "patchesJson6902 entry is not a JSON patch (a list of operations)",
                        Some(&p.origin),
                    ))
                }
            };
            let sel = Selector::compile(t, &p.origin)?;
            for i in sel.select(m) {
                let res = &mut m.list_mut()[i];
                patch_json6902::apply(&mut res.node, &ops)?;
                patch_json6902::restring_annotations(&mut res.node);
            }
        }
        Ok(())
    }
}

/// Flattens and validates strategic-merge patch documents.
fn smp_resources(docs: Vec<Node>) -> std::result::Result<Vec<Resource>, ()> {
    let mut out = Vec::new();
    for d in docs {
        if super::nodeutil::is_null(&d) {
            continue;
        }
        out.push(as_patch_resource(d).ok_or(())?);
    }
    Ok(out)
}

/// kustomize's rule: a patch must read as exactly one of a strategic merge patch or a JSON
/// patch.
fn classify(docs: Vec<Node>, at: &Origin) -> Result<Loaded> {
    let non_null: Vec<&Node> = docs
        .iter()
        .filter(|d| !super::nodeutil::is_null(d))
        .collect();
    let json = match non_null.as_slice() {
        [one] if one.as_seq().is_some() => patch_json6902::decode(one).ok(),
        _ => None,
    };
    let smp = smp_resources(docs.clone()).ok().filter(|r| !r.is_empty());
    match (smp, json) {
        (Some(_), Some(_)) => Err(KustomizeError::invalid(
            "patch illegally qualifies as both an SM and JSON patch",
            Some(at),
        )),
        (Some(s), None) => Ok(Loaded::Smp(s)),
        (None, Some(j)) if !j.is_empty() => Ok(Loaded::Json(j)),
        _ => {
            if let [one] = non_null.as_slice() {
                if one.as_seq().is_some() {
                    patch_json6902::decode(one)?;
                }
            }
            Err(KustomizeError::invalid(
                "unable to parse SM or JSON patch (a strategic merge patch needs kind and metadata.name; a JSON patch is a list of operations)",
                Some(at),
            ))
        }
    }
}

fn find_target(m: &mut ResMap, patch: &Resource, at: &Origin) -> Result<usize> {
    let id = patch.org_id();
    m.get_by_id(&id, Some(at)).map_err(|_| {
        KustomizeError::invalid(
            format!(
                "no resource matches strategic merge patch \"{id}\": failed to find unique target for patch {id}"
            ),
            Some(at),
        )
    })
}

#[derive(Clone, Copy, Default)]
struct SmpOptions {
    allow_name: bool,
    allow_kind: bool,
}

fn apply_smp(
    m: &mut ResMap,
    hits: &[usize],
    patch: &Resource,
    info: Option<&dyn MergeInfo>,
    at: &Origin,
) -> Result<()> {
    apply_smp_with(m, hits, patch, info, at, SmpOptions::default())
}

/// kustomize `resWrangler.ApplySmPatch` + `Resource.ApplySmPatch`: the patch takes each
/// target's apiVersion; kind, name and namespace are restored afterwards unless the
/// options allow a change; objects a patch empties are removed.
fn apply_smp_with(
    m: &mut ResMap,
    hits: &[usize],
    patch: &Resource,
    info: Option<&dyn MergeInfo>,
    at: &Origin,
    opts: SmpOptions,
) -> Result<()> {
    let mut removed = Vec::new();
    for &i in hits {
        let res = &mut m.list_mut()[i];
        let mut p = patch.node.clone();
        if let Some(av) = res.node.get("apiVersion").cloned() {
            set_key(&mut p, "apiVersion", av);
        }
        let (name, ns, kind) = (
            res.node.get_path(&["metadata", "name"]).cloned(),
            res.node.get_path(&["metadata", "namespace"]).cloned(),
            res.node.get("kind").cloned(),
        );
        if opts.allow_name || opts.allow_kind {
            res.store_previous_id();
        }
        let merged = patch_smp::merge(&res.node, &p, info).map_err(|e| {
            if e.origin.is_some() {
                e
            } else {
                KustomizeError::new(e.kind, Some(at.clone()))
            }
        })?;
        match merged {
            Some(n) if n.as_map().is_some_and(|m| !m.is_empty()) => res.node = n,
            _ => {
                removed.push(i);
                continue;
            }
        }
        if !opts.allow_kind {
            if let Some(k) = kind {
                set_key(&mut res.node, "kind", k);
            }
        }
        let o = res.node.origin.clone();
        if let Some(md) = child_map_mut(&mut res.node, "metadata", &o) {
            if !opts.allow_name {
                if let Some(n) = name {
                    set_key(md, "name", n);
                }
            }
            match ns {
                Some(ns) => set_key(md, "namespace", ns),
                None => {
                    md.as_map_mut().map(|m| m.remove("namespace"));
                }
            }
        }
    }
    removed.sort_unstable();
    for i in removed.into_iter().rev() {
        m.list_mut().remove(i);
    }
    Ok(())
}

/// True when a scalar was written as a literal block (used by tests).
#[cfg(test)]
fn is_literal(n: &Node) -> bool {
    n.as_scalar()
        .is_some_and(|s| s.style == driftlint_yaml::ScalarStyle::Literal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::parse_documents;

    #[test]
    fn inline_literal_patches_point_at_kustomization_lines() {
        let src = "patches:\n- patch: |\n    kind: X\n    metadata:\n      name: a\n";
        let doc = parse_documents("k.yaml".into(), src)
            .expect("parses")
            .remove(0);
        let scalar = doc
            .get("patches")
            .and_then(|p| p.as_seq())
            .and_then(|s| s[0].get("patch"))
            .expect("patch");
        assert!(is_literal(scalar));
        let text = scalar
            .as_scalar()
            .map(|s| s.text.clone())
            .unwrap_or_default();
        let docs = parse_documents("k.yaml".into(), &text).expect("parses");
        let out = rebase_inline(docs, &text, &scalar.origin, src);
        let name = out[0].get_path(&["metadata", "name"]).expect("name");
        assert_eq!((name.origin.line, name.origin.column), (5, 13));
    }

    #[test]
    fn classification() {
        let o = Origin::new("k".into(), 1, 1);
        let p = |s: &str| classify(parse_documents("p".into(), s).expect("parses"), &o);
        assert!(matches!(
            p("kind: A\nmetadata:\n  name: a\n"),
            Ok(Loaded::Smp(_))
        ));
        assert!(matches!(
            p("- op: add\n  path: /a\n  value: 1\n"),
            Ok(Loaded::Json(_))
        ));
        assert!(p("kind: A\nspec: {}\n").is_err());
        assert!(p("").is_err());
    }
}
