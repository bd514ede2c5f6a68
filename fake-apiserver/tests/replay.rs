//! (a) The recorded GET, LIST and discovery exchanges of `raw-http/`, replayed against
//! the fake seeded with `live-after-drift/`, give the recorded status, the recorded
//! content-type/cache headers and the recorded body. Bytes must match for discovery and
//! Status bodies; object bodies are compared as JSON values (the seeds are kubectl
//! output, keys alphabetical), list `metadata.resourceVersion` is masked (the cluster's
//! etcd revision counts events and leases the fixtures do not hold).

mod common;

use common::{fixtures, recorded, replay};
use fake_apiserver::FakeApiServer;
use serde_json::Value;

const BYTE_EXACT: [&str; 11] = [
    "version",
    "get-api",
    "get-apis",
    "get-api-v1",
    "get-apis-apps-v1",
    "get-apis-cert-manager-v1",
    "aggregated-discovery-api",
    "aggregated-discovery-apis",
    "get-missing-object-404",
    "get-unserved-resource-404",
    "get-unserved-group-404",
];

const AS_JSON: [&str; 3] = [
    "get-deployment",
    "list-configmaps-labelselector",
    "list-configmaps-metadata-only",
];

fn server() -> FakeApiServer {
    FakeApiServer::builder()
        .seed_dir(fixtures().join("live-after-drift"))
        .start()
        .expect("server starts")
}

fn mask_list_rv(mut v: Value) -> Value {
    let is_list = v.get("items").is_some();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        if is_list && m.contains_key("resourceVersion") {
            m.insert("resourceVersion".into(), Value::String("<rv>".into()));
        }
    }
    v
}

fn check_headers(name: &str, rec: &common::Recorded, got: &common::Answer) {
    assert_eq!(got.status, rec.status, "{name}: status");
    for h in [
        "Content-Type",
        "Cache-Control",
        "Vary",
        "X-Content-Type-Options",
    ] {
        assert_eq!(got.header(h), rec.header(h), "{name}: header {h}");
    }
    for h in [
        "Audit-Id",
        "X-Kubernetes-Pf-Flowschema-Uid",
        "X-Kubernetes-Pf-Prioritylevel-Uid",
        "Date",
    ] {
        assert!(got.header(h).is_some(), "{name}: header {h} missing");
    }
    assert_eq!(
        got.header("Etag").is_some(),
        rec.header("Etag").is_some(),
        "{name}: Etag"
    );
}

#[test]
fn discovery_and_errors_replay_byte_exact() {
    let srv = server();
    for name in BYTE_EXACT {
        let rec = recorded("raw-http", name);
        let got = replay(&srv.url(), &rec);
        check_headers(name, &rec, &got);
        let want = String::from_utf8_lossy(&rec.response);
        let have = String::from_utf8_lossy(&got.body);
        assert_eq!(have.trim_end(), want.trim_end(), "{name}: body");
    }
}

#[test]
fn objects_and_lists_replay_as_json() {
    let srv = server();
    for name in AS_JSON {
        let rec = recorded("raw-http", name);
        let got = replay(&srv.url(), &rec);
        check_headers(name, &rec, &got);
        let want: Value = serde_json::from_slice(&rec.response).expect("recorded JSON");
        assert_eq!(mask_list_rv(got.json()), mask_list_rv(want), "{name}: body");
    }
}

#[test]
fn raw_lists_match_recorded_list_files() {
    let srv = server();
    for (plural, path) in [
        ("configmaps", "/api/v1/configmaps"),
        ("deployments", "/apis/apps/v1/deployments"),
        ("secrets", "/api/v1/secrets"),
        ("services", "/api/v1/services"),
    ] {
        let file = fixtures().join(format!("live-after-drift/list.raw.{plural}.json"));
        let text = std::fs::read_to_string(&file).expect("list fixture");
        let want: Value = serde_json::from_str(&text).expect("list JSON");
        let selector = "?labelSelector=kustomize.toolkit.fluxcd.io%2Fname%3Dapps";
        let got = common::send(&srv.url(), "GET", &format!("{path}{selector}"), &[], b"");
        assert_eq!(got.status, 200, "{plural}");
        assert_eq!(mask_list_rv(got.json()), mask_list_rv(want), "{plural}");
    }
}

#[test]
fn request_log_records_method_path_query() {
    let srv = server();
    let rec = recorded("raw-http", "list-configmaps-labelselector");
    replay(&srv.url(), &rec);
    let log = srv.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/api/v1/configmaps");
    assert_eq!(
        log[0].query,
        "labelSelector=kustomize.toolkit.fluxcd.io%2Fname%3Dapps"
    );
}
