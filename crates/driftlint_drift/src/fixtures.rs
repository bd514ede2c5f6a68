//! Test helpers over the vendored kube-apiserver fixtures (tests/fixtures/cluster, see its
//! README): the desired manifests as rendered Nodes, and the captured live and dry-run JSON.

use std::path::PathBuf;

use serde_json::Value;

use driftlint_yaml::{parse_documents, Node};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cluster")
}

/// Every desired object, in apply order. The objects of `40-podinfo.yaml` without
/// `metadata.namespace` get `podinfo`: they were applied with `kubectl apply -n podinfo`.
pub fn desired() -> Vec<Node> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir().join("desired"))
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let text = std::fs::read_to_string(&path).expect("fixture");
        let rel = format!("tests/fixtures/cluster/desired/{name}");
        for mut doc in parse_documents(rel.as_str().into(), &text).expect("parses") {
            if doc.is_null() || doc.as_map().is_none_or(|m| m.is_empty()) {
                continue;
            }
            if name.starts_with("40-") && doc.str_at(&["metadata", "namespace"]).is_none() {
                let origin = doc.origin.clone();
                if let Some(meta) = doc.get_mut("metadata").and_then(Node::as_map_mut) {
                    meta.insert("namespace", Node::string("podinfo", origin));
                }
            }
            out.push(doc);
        }
    }
    out
}

/// The fixture file stem of an object: `<namespace or _cluster>.<Kind>.<name>`.
pub fn stem(obj: &Node) -> String {
    format!(
        "{}.{}.{}",
        obj.str_at(&["metadata", "namespace"]).unwrap_or("_cluster"),
        obj.str_at(&["kind"]).unwrap_or_default(),
        obj.str_at(&["metadata", "name"]).unwrap_or_default()
    )
}

/// `folder/file` as JSON, or `None` when the file does not exist (a deleted object).
pub fn json(folder: &str, file: &str) -> Option<Value> {
    let text = std::fs::read_to_string(dir().join(folder).join(file)).ok()?;
    Some(serde_json::from_str(&text).expect("fixture JSON"))
}

/// Every `*.json` object of `folder` that is a single object (not a list or a raw capture).
pub fn objects(folder: &str) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir().join(folder))
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|p| serde_json::from_str::<Value>(&std::fs::read_to_string(p).ok()?).ok())
        .filter(|v| v.get("metadata").and_then(|m| m.get("uid")).is_some())
        .collect()
}
