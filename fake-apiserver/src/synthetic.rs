//! Synthetic scale mode for benchmarks: N desired objects (ConfigMaps and Deployments,
//! one in three a Deployment) spread over a few namespaces, all carrying Flux inventory
//! labels; their live counterparts are produced by really applying the desired
//! manifests with manager `kustomize-controller` through this crate's server-side apply
//! (so defaults, uids and managedFields are as the fake would answer), then `drift` of
//! them are changed the way `kubectl` changes them (README "Drift injected").

use crate::apply::fieldset::FieldSet;
use crate::apply::managed::{self, Entry};
use crate::apply::{server_side_apply, ApplyRequest};
use crate::discovery::Discovery;
use crate::store::Store;
use serde_json::{json, Value};
use std::path::Path;

/// The Flux Kustomization the synthetic objects belong to.
pub const FLUX_NAME: &str = "bench";
/// Its namespace.
pub const FLUX_NAMESPACE: &str = "flux-system";
/// Fixed clock of the synthetic cluster: 2026-11-22T02:43:16Z.
pub const APPLY_TIME: i64 = 1_795_315_396;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticSpec {
    /// Number of ConfigMaps + Deployments (Namespaces come on top).
    pub objects: usize,
    /// Number of namespaces (`bench-0`, ...), at least 1.
    pub namespaces: usize,
    /// How many objects get drift injected (evenly spread).
    pub drift: usize,
}

/// The generated cluster and repository.
#[derive(Debug, Clone, Default)]
pub struct Synthetic {
    /// Desired manifests, namespaces first.
    pub desired: Vec<Value>,
    /// Live objects, to seed a [`crate::FakeApiServer`] with.
    pub live: Vec<Value>,
    /// `namespace/Kind/name` of every drifted object.
    pub drifted: Vec<String>,
}

/// Errors of the synthetic generator.
#[derive(Debug, thiserror::Error)]
pub enum SyntheticError {
    /// Applying a generated manifest failed (a bug in the generator).
    #[error("applying generated {0}: HTTP {1}")]
    Apply(String, u16),
    /// Writing the repository failed.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// YAML serialisation failed.
    #[error("serialising {0}: {1}")]
    Yaml(String, String),
}

fn labels() -> Value {
    json!({"kustomize.toolkit.fluxcd.io/name": FLUX_NAME, "kustomize.toolkit.fluxcd.io/namespace": FLUX_NAMESPACE})
}

fn namespace_manifest(ns: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels()}})
}

fn configmap_manifest(ns: &str, i: usize) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("config-{i:05}"), "namespace": ns, "labels": labels()},
        "data": {"LOG_LEVEL": "info", "INDEX": i.to_string(), "settings.yaml": format!("replicas: {}\nfeature: on\n", i % 5)}})
}

fn deployment_manifest(ns: &str, i: usize) -> Value {
    let name = format!("app-{i:05}");
    let mut l = labels();
    if let Some(m) = l.as_object_mut() {
        m.insert("app".into(), json!(name));
    }
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": l},
        "spec": {"replicas": 1 + i % 3, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{
                "name": "app", "image": format!("ghcr.io/example/app:1.{}.0", i % 7),
                "env": [{"name": "INDEX", "value": i.to_string()}],
                "ports": [{"containerPort": 8080, "name": "http"}],
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}}})
}

/// Generates the desired manifests and the live cluster.
pub fn generate(spec: SyntheticSpec) -> Result<Synthetic, SyntheticError> {
    let nss: Vec<String> = (0..spec.namespaces.max(1))
        .map(|i| format!("bench-{i}"))
        .collect();
    let mut desired: Vec<Value> = nss.iter().map(|n| namespace_manifest(n)).collect();
    for i in 0..spec.objects {
        let ns = &nss[i % nss.len()];
        desired.push(if i % 3 == 2 {
            deployment_manifest(ns, i)
        } else {
            configmap_manifest(ns, i)
        });
    }
    let mut live = apply_all(&desired)?;
    let first = nss.len();
    let step = spec.objects.checked_div(spec.drift).unwrap_or(0).max(1);
    let mut drifted = Vec::new();
    for k in 0..spec.drift.min(spec.objects) {
        let obj = &mut live[first + k * step];
        inject_drift(obj);
        let s = |p: &str| {
            obj.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        drifted.push(format!(
            "{}/{}/{}",
            s("/metadata/namespace"),
            s("/kind"),
            s("/metadata/name")
        ));
    }
    Ok(Synthetic {
        desired,
        live,
        drifted,
    })
}

fn apply_all(desired: &[Value]) -> Result<Vec<Value>, SyntheticError> {
    let disc = Discovery::recorded();
    let mut store = Store::default();
    let mut live = Vec::with_capacity(desired.len());
    for (i, d) in desired.iter().enumerate() {
        let s = |p: &str| d.pointer(p).and_then(Value::as_str).unwrap_or("");
        let what = format!("{} {}", s("/kind"), s("/metadata/name"));
        let info = disc
            .by_kind(s("/apiVersion"), s("/kind"))
            .ok_or_else(|| SyntheticError::Apply(what.clone(), 404))?;
        let body = d.to_string();
        let req = ApplyRequest {
            info,
            namespace: s("/metadata/namespace"),
            name: s("/metadata/name"),
            body: body.as_bytes(),
            manager: "kustomize-controller",
            force: false,
            dry_run: false,
            now: APPLY_TIME + (i as i64) / 50,
        };
        let (_, obj) =
            server_side_apply(&mut store, &req).map_err(|e| SyntheticError::Apply(what, e.code))?;
        live.push(obj);
    }
    Ok(live)
}

/// Drift as kubectl makes it: a ConfigMap gets `kubectl patch` (LOG_LEVEL → debug plus
/// a new HOTFIX_TICKET key, manager `kubectl-patch`), a Deployment gets `kubectl scale`
/// (`spec.replicas` + 5, manager `kubectl` with subresource `scale` and no time,
/// generation + 1).
pub fn inject_drift(obj: &mut Value) {
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut entries = Entry::read_all(obj);
    let (paths, entry): (Vec<Vec<String>>, Entry) = if kind == "Deployment" {
        let r = obj
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("replicas".into(), json!(r + 5));
        }
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            let g = meta.get("generation").and_then(Value::as_i64).unwrap_or(1);
            meta.insert("generation".into(), json!(g + 1));
        }
        let p = vec!["f:spec".to_string(), "f:replicas".to_string()];
        (
            vec![p],
            update_entry("kubectl", "apps/v1", Some("scale"), None),
        )
    } else {
        if let Some(data) = obj.get_mut("data").and_then(Value::as_object_mut) {
            data.insert("LOG_LEVEL".into(), json!("debug"));
            data.insert("HOTFIX_TICKET".into(), json!("INC-4711"));
        }
        let p = |k: &str| vec!["f:data".to_string(), format!("f:{k}")];
        let time = Some(crate::util::rfc3339(APPLY_TIME + 3600));
        (
            vec![p("LOG_LEVEL"), p("HOTFIX_TICKET")],
            update_entry("kubectl-patch", "v1", None, time),
        )
    };
    let mut entry = entry;
    for p in &paths {
        for e in entries.iter_mut() {
            if e.set.contains(p) {
                e.set.remove(p);
                e.raw = None;
            }
        }
        entry.set.insert(p);
    }
    entries.push(entry);
    entries.retain(|e| !e.set.is_empty());
    managed::sort(&mut entries);
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert(
            "managedFields".into(),
            Value::Array(entries.iter().map(Entry::to_json).collect()),
        );
    }
}

fn update_entry(
    manager: &str,
    api_version: &str,
    sub: Option<&str>,
    time: Option<String>,
) -> Entry {
    Entry {
        manager: manager.into(),
        operation: "Update".into(),
        api_version: api_version.into(),
        subresource: sub.map(str::to_string),
        time,
        set: FieldSet::default(),
        raw: None,
    }
}

impl Synthetic {
    /// Writes the repository: `DIR/manifests/<namespace>.yaml` (the Namespace first,
    /// then its objects, `---`-separated) and `DIR/.driftlint.yaml` whose `targets`
    /// name the `manifests` folder.
    pub fn write_desired(&self, dir: &Path) -> Result<(), SyntheticError> {
        let io = |p: &Path| {
            let path = p.display().to_string();
            move |source| SyntheticError::Io { path, source }
        };
        let manifests = dir.join("manifests");
        std::fs::create_dir_all(&manifests).map_err(io(&manifests))?;
        let mut files: std::collections::BTreeMap<String, String> = Default::default();
        for d in &self.desired {
            let ns = d
                .pointer("/metadata/namespace")
                .or_else(|| d.pointer("/metadata/name"))
                .and_then(Value::as_str)
                .unwrap_or("cluster")
                .to_string();
            let yaml = serde_saphyr::to_string(d)
                .map_err(|e| SyntheticError::Yaml(ns.clone(), e.to_string()))?;
            let text = files.entry(ns).or_default();
            if !text.is_empty() {
                text.push_str("---\n");
            }
            text.push_str(&yaml);
        }
        for (ns, text) in files {
            let path = manifests.join(format!("{ns}.yaml"));
            std::fs::write(&path, text).map_err(io(&path))?;
        }
        let cfg = dir.join(".driftlint.yaml");
        let text = "# Generated by fake-apiserver --synthetic: the desired side of a synthetic cluster.\ntargets:\n  - path: manifests\n    kind: manifests\n";
        std::fs::write(&cfg, text).map_err(io(&cfg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_live_and_drift() {
        let s = generate(SyntheticSpec {
            objects: 30,
            namespaces: 3,
            drift: 3,
        });
        let s = match s {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(s.desired.len(), 33);
        assert_eq!(s.live.len(), 33);
        assert_eq!(s.drifted.len(), 3);
        let dep = s.live.iter().find(|o| o["kind"] == "Deployment");
        let dep = dep.cloned().unwrap_or_default();
        assert_eq!(
            dep["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
        assert_eq!(
            dep["metadata"]["resourceVersion"]
                .as_str()
                .map(|r| !r.is_empty()),
            Some(true)
        );
        let drifted_cm = &s.live[3];
        assert_eq!(drifted_cm["data"]["LOG_LEVEL"], "debug");
        assert_eq!(
            drifted_cm["metadata"]["managedFields"][1]["manager"],
            "kubectl-patch"
        );
        // Deterministic.
        let again = generate(SyntheticSpec {
            objects: 30,
            namespaces: 3,
            drift: 3,
        })
        .map(|s| s.live);
        assert_eq!(again.ok(), Some(s.live));
    }
}
