//! Fuzzes the patch engine (strategic merge and JSON 6902) through the public build path.
//!
//! Input format: `MODE TARGET NUL PATCH`: the first byte picks how the patch is applied
//! (mode % 4), the target object YAML runs to the first NUL byte, the patch YAML follows.
//! The target is written as `k/target.yaml`, the patch as `k/patch.yaml`, and
//! `k/kustomization.yaml` applies one to the other:
//! 0. `patches: [{path: patch.yaml}]` (strategic merge by the patch's own id, or a JSON
//!    6902 patch without target, an error);
//! 1. `patches: [{path: patch.yaml, target: {kind, name}}]` taken from the target object;
//! 2. `patchesStrategicMerge: [patch.yaml]`;
//! 3. `patchesJson6902: [{path: patch.yaml, target: {group, version, kind, name}}]`.
//!
//! The build (with the schema catalog) and the rendering must never panic.
#![no_main]

use std::path::Path;

use driftlint_yaml::{parse_documents, Node};
use driftlint_fuzz::{build_and_render, scratch_repo, write, SEP};
use libfuzzer_sys::fuzz_target;

/// `(group, version, kind, name)` of the first document of `target`, `"x"` where absent.
fn target_id(target: &[u8]) -> [String; 4] {
    let text = String::from_utf8_lossy(target);
    let doc = parse_documents("target.yaml".into(), &text)
        .ok()
        .and_then(|d| d.into_iter().next());
    let field = |path: &[&str]| -> Option<String> {
        let mut node: &Node = doc.as_ref()?;
        for key in path {
            node = node.get(key)?;
        }
        node.as_str().map(str::to_string)
    };
    let api = field(&["apiVersion"]).unwrap_or_default();
    let (group, version) = match api.split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), api),
    };
    let kind = field(&["kind"]).unwrap_or_else(|| "x".into());
    let name = field(&["metadata", "name"]).unwrap_or_else(|| "x".into());
    [group, version, kind, name]
}

/// A JSON string literal (valid YAML) for `s`.
fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn kustomization(mode: u8, target: &[u8]) -> String {
    let [group, version, kind, name] = target_id(target);
    let (g, v, k, n) = (
        quoted(&group),
        quoted(&version),
        quoted(&kind),
        quoted(&name),
    );
    let head = "resources:\n- target.yaml\n";
    match mode % 4 {
        0 => format!("{head}patches:\n- path: patch.yaml\n"),
        1 => format!("{head}patches:\n- path: patch.yaml\n  target:\n    kind: {k}\n    name: {n}\n"),
        2 => format!("{head}patchesStrategicMerge:\n- patch.yaml\n"),
        _ => format!(
            "{head}patchesJson6902:\n- path: patch.yaml\n  target:\n    group: {g}\n    version: {v}\n    kind: {k}\n    name: {n}\n"
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (target, patch) = match rest.iter().position(|b| *b == SEP) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let root = scratch_repo();
    let dir = Path::new("k");
    write(&root, &dir.join("target.yaml"), target);
    write(&root, &dir.join("patch.yaml"), patch);
    let kustomization = kustomization(mode, target);
    write(
        &root,
        &dir.join("kustomization.yaml"),
        kustomization.as_bytes(),
    );
    build_and_render(&root, dir);
});
