//! (b) Seeded with `live-after-drift/`, a server-side-apply dry-run of every object of
//! `desired/*.yaml` (fieldManager kustomize-controller, force=true, JSON body as the kube
//! crate sends it) gives the recorded `ssa-dry-run/*.dry-run.json`: the whole object,
//! managedFields included. Masked: the `time` of managedFields entries the apply
//! rewrote ("now" differs per run), and for the created object its `uid` and
//! `creationTimestamp`.

mod common;

use common::{fixtures, send};
use fake_apiserver::FakeApiServer;
use serde_json::Value;
use std::collections::BTreeMap;

fn desired() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let dir = fixtures().join("desired");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("desired dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("desired file");
        let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).expect("desired YAML");
        let default_ns = if f.to_string_lossy().contains("40-podinfo") {
            "podinfo"
        } else {
            ""
        };
        for d in docs.into_iter().filter(|d| d.is_object()) {
            out.push((default_ns.to_string(), d));
        }
    }
    out
}

fn plural(kind: &str) -> (&'static str, bool) {
    match kind {
        "Namespace" => ("/api/v1/namespaces", false),
        "CustomResourceDefinition" => (
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            false,
        ),
        "ClusterIssuer" => ("/apis/cert-manager.io/v1/clusterissuers", false),
        "ClusterRole" => ("/apis/rbac.authorization.k8s.io/v1/clusterroles", false),
        "ClusterRoleBinding" => (
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            false,
        ),
        "Secret" => ("/api/v1/secrets", true),
        "Service" => ("/api/v1/services", true),
        "ConfigMap" => ("/api/v1/configmaps", true),
        "ServiceAccount" => ("/api/v1/serviceaccounts", true),
        "Deployment" => ("/apis/apps/v1/deployments", true),
        "HorizontalPodAutoscaler" => ("/apis/autoscaling/v2/horizontalpodautoscalers", true),
        "Certificate" => ("/apis/cert-manager.io/v1/certificates", true),
        _ => ("", false),
    }
}

fn url_for(ns: &str, kind: &str, name: &str) -> String {
    let (base, namespaced) = plural(kind);
    assert!(!base.is_empty(), "no route for {kind}");
    if namespaced {
        let (prefix, res) = base.rsplit_once('/').unwrap_or((base, ""));
        format!("{prefix}/namespaces/{ns}/{res}/{name}")
    } else {
        format!("{base}/{name}")
    }
}

fn managed_times(obj: &Value) -> BTreeMap<String, Value> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["manager"].to_string() + &e["operation"].to_string(),
                e.clone(),
            )
        })
        .collect()
}

/// Masks the time of entries that are not verbatim in `live`.
fn mask(mut obj: Value, live: Option<&Value>) -> Value {
    let live_entries = live.map(managed_times).unwrap_or_default();
    if let Some(list) = obj
        .pointer_mut("/metadata/managedFields")
        .and_then(Value::as_array_mut)
    {
        for e in list {
            let id = e["manager"].to_string() + &e["operation"].to_string();
            if live_entries.get(&id) != Some(e) {
                if let Some(m) = e.as_object_mut() {
                    m.insert("time".into(), Value::String("<now>".into()));
                }
            }
        }
    }
    if live.is_none() {
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("uid".into(), Value::String("<uid>".into()));
            m.insert("creationTimestamp".into(), Value::String("<now>".into()));
        }
    }
    obj
}

#[test]
fn dry_run_of_every_desired_object_matches_recorded() {
    let srv = FakeApiServer::builder()
        .seed_dir(fixtures().join("live-after-drift"))
        .start()
        .expect("server starts");
    let mut checked = 0;
    let mut unchanged = 0;
    for (default_ns, doc) in desired() {
        let kind = doc["kind"].as_str().unwrap_or("").to_string();
        let name = doc["metadata"]["name"].as_str().unwrap_or("").to_string();
        let ns = doc["metadata"]["namespace"]
            .as_str()
            .unwrap_or(&default_ns)
            .to_string();
        let url = url_for(&ns, &kind, &name);
        let body = doc.to_string();
        let got = send(
            &srv.url(),
            "PATCH",
            &format!("{url}?dryRun=All&fieldManager=kustomize-controller&force=true"),
            &[
                ("Content-Type", "application/apply-patch+yaml"),
                ("Accept", "application/json"),
            ],
            body.as_bytes(),
        );
        let file_ns = if plural(&kind).1 {
            ns.as_str()
        } else {
            "_cluster"
        };
        let stem = format!("{file_ns}.{kind}.{name}");
        let expected_path = fixtures().join(format!("ssa-dry-run/{stem}.dry-run.json"));
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(&expected_path).expect("expected"))
                .expect("expected JSON");
        let live_path = fixtures().join(format!("live-after-drift/{stem}.json"));
        let live: Option<Value> = std::fs::read_to_string(&live_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let want_code = if live.is_some() { 200 } else { 201 };
        assert_eq!(
            got.status,
            want_code,
            "{stem}: {}",
            String::from_utf8_lossy(&got.body)
        );
        assert_eq!(
            mask(got.json(), live.as_ref()),
            mask(expected, live.as_ref()),
            "{stem}"
        );
        if live.is_some() && !stem.contains("app-settings") && !stem.contains("Deployment.web") {
            assert_eq!(
                got.json(),
                live.clone().unwrap_or_default(),
                "{stem}: unchanged object must equal live"
            );
            let get = send(&srv.url(), "GET", &url, &[], b"");
            assert_eq!(
                String::from_utf8_lossy(&got.body),
                String::from_utf8_lossy(&get.body),
                "{stem}: an unchanged object's dry-run is the live object, byte for byte"
            );
            unchanged += 1;
        }
        checked += 1;
    }
    assert_eq!(checked, 21);
    assert_eq!(
        unchanged, 18,
        "README point 5: 18 of the 20 existing objects are unchanged"
    );
    // The store is untouched by dry-runs.
    let again = send(
        &srv.url(),
        "GET",
        "/apis/apps/v1/namespaces/shop/deployments/web",
        &[],
        b"",
    );
    assert_eq!(again.json()["spec"]["replicas"], 7);
}
