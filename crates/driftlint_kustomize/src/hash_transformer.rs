//! kustomize's HashTransformer (api/internal/builtins/HashTransformer.go): every generated
//! object whose generator did not disable the suffix gets `-<hash>` appended to its name.
//! It runs at the end of every build, and again wherever a kustomization lists it in
//! `transformers:` (kustomize then suffixes twice: `cm-4h2mbtbbt6-4h2mbtbbt6`).

use super::hash;
use super::resmap::ResMap;

/// Appends the content hash to the name of each object of `m` that needs one, recording its
/// previous id for name references.
pub fn apply(m: &mut ResMap) {
    for res in m.list_mut() {
        if !res.generated.as_ref().is_some_and(|g| g.needs_hash) {
            continue;
        }
        let h = hash::hash(&res.node);
        res.store_previous_id();
        let origin = res
            .node
            .get_path(&["metadata", "name"])
            .map(|n| n.origin.clone())
            .unwrap_or_else(|| res.node.origin.clone())
            .with_via("name hash suffix");
        let name = format!("{}-{h}", res.name());
        res.set_name(&name, &origin);
    }
}
