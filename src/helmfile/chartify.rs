//! A release's `strategicMergePatches:` and `jsonPatches:` applied to its rendered objects,
//! as helmfile's chartify does: the chart's `helm template` output becomes the resources of a
//! generated kustomization whose `patches:` are the release's, and `kustomize build` gives
//! the objects (here: the native kustomize engine over a private temporary folder, which only
//! holds what driftlint wrote). An object a patch left unchanged keeps its origins; a patched
//! one points at the release's patch entry.
//!
//! Upstream: helmfile `pkg/state/state.go` (`PrepareChartify`), helmfile/chartify
//! `patch.go` (`patchesStrategicMerge`, `patchesJson6902`).

use std::fmt::Write as _;
use std::path::Path;

use driftlint_kustomize::{self as kustomize, BuildOptions};
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{emit_documents, Node, Origin};

/// The patches of one release, in the order helmfile writes them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Patches {
    /// Strategic merge patches (objects).
    pub(crate) strategic: Vec<Node>,
    /// JSON patches: (target selector, list of operations).
    pub(crate) json: Vec<(Node, Node)>,
    /// Where patched objects point (the release's first patch key).
    pub(crate) origin: Option<Origin>,
}

impl Patches {
    /// True when there is nothing to apply.
    pub(crate) fn is_empty(&self) -> bool {
        self.strategic.is_empty() && self.json.is_empty()
    }
}

/// The objects of `docs` with `patches` applied.
///
/// Errors: the temporary folder cannot be written, or kustomize's message when a patch does
/// not apply (no object matches its target, a JSON patch operation fails).
pub(crate) fn apply(
    docs: Vec<Node>,
    patches: &Patches,
    opts: &BuildOptions,
) -> Result<Vec<Node>, String> {
    let objects: Vec<Node> = docs.into_iter().filter(crate::check::is_object).collect();
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let write = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).map_err(|e| format!("cannot write {name}: {e}"))
    };
    write("resources.yaml", &emit_documents(objects.iter()))?;
    let mut k = String::from("resources:\n- resources.yaml\npatches:\n");
    for (i, p) in patches.strategic.iter().enumerate() {
        write(&format!("smp{i}.yaml"), &emit_documents([p]))?;
        let _ = writeln!(k, "- path: smp{i}.yaml");
    }
    for (i, (target, ops)) in patches.json.iter().enumerate() {
        write(&format!("json{i}.yaml"), &emit_documents([ops]))?;
        let _ = writeln!(k, "- path: json{i}.yaml\n  target: {}", target.to_json());
    }
    write("kustomization.yaml", &k)?;
    let fs = RepoFs::new(dir.path()).map_err(|e| e.to_string())?;
    let build = kustomize::build(&fs, Path::new(""), opts).map_err(|e| e.to_string())?;
    let origin = patches.origin.clone();
    Ok(build
        .objects
        .into_iter()
        .map(|o| keep_origins(o, &objects, origin.as_ref()))
        .collect())
}

/// The input object when the patches left `out` unchanged; else `out` pointing at `origin`.
fn keep_origins(mut out: Node, inputs: &[Node], origin: Option<&Origin>) -> Node {
    let key = |n: &Node| {
        [
            ["apiVersion"].as_slice(),
            &["kind"],
            &["metadata", "namespace"],
            &["metadata", "name"],
        ]
        .map(|p| n.str_at(p).unwrap_or("").to_string())
    };
    let json = out.to_json();
    if let Some(same) = inputs
        .iter()
        .find(|i| key(i) == key(&out) && i.to_json() == json)
    {
        return same.clone();
    }
    if let Some(o) = origin {
        out.set_origin_deep(o);
    }
    out
}
