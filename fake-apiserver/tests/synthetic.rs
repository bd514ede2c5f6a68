//! Synthetic scale mode end to end: the manifests written to disk, dry-run applied with
//! force as kustomize-controller against the seeded live objects, change exactly the
//! objects reported as drifted; every other object comes back as its live self.

mod common;

use common::send;
use fake_apiserver::synthetic::{generate, SyntheticSpec};
use fake_apiserver::FakeApiServer;
use serde_json::Value;

fn path_of(o: &Value) -> String {
    let s = |p: &str| {
        o.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let plural = match s("/kind").as_str() {
        "Namespace" => return format!("/api/v1/namespaces/{}", s("/metadata/name")),
        "ConfigMap" => "/api/v1/namespaces/{ns}/configmaps",
        _ => "/apis/apps/v1/namespaces/{ns}/deployments",
    };
    format!(
        "{}/{}",
        plural.replace("{ns}", &s("/metadata/namespace")),
        s("/metadata/name")
    )
}

#[test]
fn written_desired_against_seeded_live_shows_exactly_the_injected_drift() {
    let syn = generate(SyntheticSpec {
        objects: 60,
        namespaces: 3,
        drift: 6,
    })
    .expect("generates");
    let dir = tempfile::tempdir().expect("tempdir");
    syn.write_desired(dir.path()).expect("writes");
    let cfg = std::fs::read_to_string(dir.path().join(".driftlint.yaml")).expect("config");
    assert!(cfg.contains("targets:\n  - path: manifests\n    kind: manifests"));
    let srv = FakeApiServer::builder()
        .objects(syn.live.clone())
        .start()
        .expect("starts");
    let mut docs: Vec<Value> = Vec::new();
    for f in std::fs::read_dir(dir.path().join("manifests")).expect("manifests") {
        let text = std::fs::read_to_string(f.expect("entry").path()).expect("yaml");
        let parsed: Vec<Value> = serde_saphyr::from_str_multiple(&text).expect("parses");
        docs.extend(parsed);
    }
    assert_eq!(docs.len(), 63);
    let mut changed = Vec::new();
    for d in &docs {
        let path = path_of(d);
        let got = send(
            &srv.url(),
            "PATCH",
            &format!("{path}?dryRun=All&fieldManager=kustomize-controller&force=true"),
            &[("Content-Type", "application/apply-patch+yaml")],
            d.to_string().as_bytes(),
        );
        assert_eq!(
            got.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&got.body)
        );
        let live = send(&srv.url(), "GET", &path, &[], b"");
        if got.body != live.body {
            let s = |p: &str| {
                d.pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            changed.push(format!(
                "{}/{}/{}",
                s("/metadata/namespace"),
                s("/kind"),
                s("/metadata/name")
            ));
        }
    }
    changed.sort();
    let mut want = syn.drifted.clone();
    want.sort();
    assert_eq!(changed, want);
    assert!(
        want.iter().any(|w| w.contains("/Deployment/"))
            && want.iter().any(|w| w.contains("/ConfigMap/"))
    );
}
