//! Flux helm-controller's kustomize post-renderer (`HelmRelease.spec.postRenderers[].kustomize`):
//! the chart's rendered objects are the only resource of an in-memory kustomization holding
//! the post-renderer's `patches` and `images`, built by krusty with `LoadRestrictionsNone`.

use std::path::Path;

use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::Node;

use super::error::Result;
use super::flux::FluxOverlay;
use super::images;
use super::kustfile::Kustomization;
use super::loader::Loader;
use super::merge_info::MergeInfo;
use super::order::{self, Legacy};
use super::patch::Patcher;
use super::resmap::ResMap;
use super::resource::Resource;

/// Applies one kustomize post-renderer to `objects`, as helm-controller's
/// `postrender.Kustomize.Run` does: `overlay.patches` (strategic merge or JSON 6902, each with
/// its optional `target`), then `overlay.images`, then kustomize's default (legacy) output
/// order. Values a patch sets keep their origin in the HelmRelease's file (`overlay.source`).
/// Other overlay fields are ignored (a HelmRelease's post-renderer has none).
///
/// Errors: [`super::KustomizeError`] (two objects with the same id, a patch without a match
/// for a named object, a malformed patch), at the line responsible.
pub fn post_render(
    fs: &RepoFs,
    objects: Vec<Node>,
    overlay: &FluxOverlay,
    merge_info: Option<&dyn MergeInfo>,
) -> Result<Vec<Node>> {
    let file = overlay
        .source
        .as_ref()
        .map(|(f, _)| f.clone())
        .unwrap_or_else(|| "helm-output.yaml".into());
    let mut k = Kustomization::empty(file);
    k.patches = overlay.patches.clone();
    k.images = overlay.images.clone();
    k.extra_source = overlay.source.clone();
    let mut m = ResMap::default();
    for o in objects {
        m.append(Resource::new(o), None)?;
    }
    let loader = Loader::new(fs);
    let patcher = Patcher {
        loader: &loader,
        dir: Path::new(""),
        kust: &k,
        info: merge_info,
    };
    patcher.apply_patches(&mut m, &k.patches)?;
    let specs = m.config.images.clone();
    for i in &k.images {
        images::apply_with(&mut m, i, &specs)?;
    }
    order::sort(m.list_mut(), &Legacy::default());
    Ok(m.into_list().into_iter().map(|r| r.node).collect())
}
