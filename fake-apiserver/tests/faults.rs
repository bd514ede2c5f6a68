//! (c) Error and fault paths: the recorded 403/409/422/500 apply answers byte for byte,
//! the new-manager and create-from-YAML dry-runs, 429 throttling, latency, dying after
//! N requests, 16 concurrent keep-alive clients, real (non-dry-run) apply, the binary.

mod common;

use common::{fixtures, recorded, replay, send, Recorded};
use fake_apiserver::FakeApiServer;
use serde_json::Value;
use std::time::{Duration, Instant};

fn seeded() -> fake_apiserver::Builder {
    FakeApiServer::builder().seed_dir(fixtures().join("live-after-drift"))
}

fn assert_byte_exact(srv: &FakeApiServer, rec: &Recorded, what: &str) {
    let got = replay(&srv.url(), rec);
    assert_eq!(
        got.status,
        rec.status,
        "{what}: {}",
        String::from_utf8_lossy(&got.body)
    );
    assert_eq!(
        String::from_utf8_lossy(&got.body).trim_end(),
        String::from_utf8_lossy(&rec.response).trim_end(),
        "{what}"
    );
    assert_eq!(
        got.header("Content-Type"),
        rec.header("Content-Type"),
        "{what}"
    );
    assert_eq!(
        got.header("X-Content-Type-Options"),
        rec.header("X-Content-Type-Options"),
        "{what}"
    );
}

#[test]
fn forbidden_patch_is_recorded_403() {
    let srv = seeded().forbid_patch(true).start().expect("starts");
    let rec = recorded("raw-http", "apply-dry-run-force-forbidden-403");
    assert_byte_exact(&srv, &rec, "403");
    // GETs stay allowed.
    let get = send(
        &srv.url(),
        "GET",
        "/apis/apps/v1/namespaces/shop/deployments/web",
        &[],
        b"",
    );
    assert_eq!(get.status, 200);
}

#[test]
fn conflicts_invalid_and_unknown_fields_are_recorded_statuses() {
    let srv = seeded().start().expect("starts");
    for (dir, name) in [
        ("ssa-dry-run", "conflict.shop.Deployment.web"),
        ("ssa-dry-run", "conflict.platform.ConfigMap.app-settings"),
        ("raw-http", "apply-dry-run-invalid-422"),
        ("raw-http", "apply-dry-run-unknown-field-500"),
        ("raw-http", "apply-dry-run-unknown-field-strict-500"),
    ] {
        assert_byte_exact(&srv, &recorded(dir, name), name);
    }
}

fn mask_times(mut v: Value, managers: &[&str]) -> Value {
    if let Some(list) = v
        .pointer_mut("/metadata/managedFields")
        .and_then(Value::as_array_mut)
    {
        for e in list.iter_mut().filter_map(Value::as_object_mut) {
            let m = e
                .get("manager")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if managers.contains(&m.as_str()) {
                e.insert("time".into(), Value::String("<now>".into()));
            }
        }
    }
    v
}

#[test]
fn new_manager_dry_run_adds_apply_entry_and_keeps_co_owner() {
    let srv = seeded().start().expect("starts");
    let rec = recorded("raw-http", "apply-dry-run-force");
    let got = replay(&srv.url(), &rec);
    assert_eq!(got.status, 200);
    let want: Value = serde_json::from_slice(&rec.response).expect("recorded JSON");
    assert_eq!(
        mask_times(got.json(), &["driftlint"]),
        mask_times(want, &["driftlint"])
    );
}

#[test]
fn dry_run_create_from_yaml_body_is_201_without_resource_version() {
    let srv = seeded().start().expect("starts");
    let rec = recorded("raw-http", "apply-dry-run-create-missing-yaml-body");
    let got = replay(&srv.url(), &rec);
    assert_eq!(got.status, 201);
    let mut have = got.json();
    let mut want: Value = serde_json::from_slice(&rec.response).expect("recorded JSON");
    assert!(have.pointer("/metadata/resourceVersion").is_none());
    for v in [&mut have, &mut want] {
        let meta = v
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
            .expect("metadata");
        assert!(meta
            .get("uid")
            .and_then(Value::as_str)
            .is_some_and(|u| u.len() == 36));
        meta.insert("uid".into(), Value::Null);
        meta.insert("creationTimestamp".into(), Value::Null);
    }
    assert_eq!(
        mask_times(have, &["kustomize-controller"]),
        mask_times(want, &["kustomize-controller"])
    );
    // Key order as the server writes it.
    let body = got.json();
    let keys: Vec<&String> = body
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["kind", "apiVersion", "metadata", "data"]);
}

#[test]
fn dry_run_create_in_missing_namespace_is_404() {
    let srv = seeded().start().expect("starts");
    let body =
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"nope"}}"#;
    let got = send(
        &srv.url(),
        "PATCH",
        "/api/v1/namespaces/nope/configmaps/x?dryRun=All&fieldManager=t&force=true",
        &[("Content-Type", "application/apply-patch+yaml")],
        body,
    );
    assert_eq!(got.status, 404);
    assert_eq!(got.json()["message"], "namespaces \"nope\" not found");
}

#[test]
fn throttling_answers_429_with_retry_after() {
    let srv = seeded().throttle_first(2).start().expect("starts");
    for i in 0..3 {
        let got = send(&srv.url(), "GET", "/version", &[], b"");
        if i < 2 {
            assert_eq!(got.status, 429);
            assert_eq!(got.header("Retry-After"), Some("1"));
            assert_eq!(got.json()["reason"], "TooManyRequests");
            assert_eq!(got.json()["kind"], "Status");
        } else {
            assert_eq!(got.status, 200);
        }
    }
    let every = seeded().throttle_every(3).start().expect("starts");
    let codes: Vec<u16> = (0..6)
        .map(|_| send(&every.url(), "GET", "/api", &[], b"").status)
        .collect();
    assert_eq!(codes, [200, 200, 429, 200, 200, 429]);
}

#[test]
fn latency_delays_every_answer() {
    let srv = seeded()
        .latency(Duration::from_millis(60))
        .start()
        .expect("starts");
    let t = Instant::now();
    send(&srv.url(), "GET", "/version", &[], b"");
    assert!(t.elapsed() >= Duration::from_millis(60));
}

#[test]
fn dies_after_n_requests_and_refuses_connections() {
    let srv = seeded().die_after(2).start().expect("starts");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let url = format!("{}/version", srv.url());
    assert!(agent.get(&url).call().is_ok());
    assert!(agent.get(&url).call().is_ok());
    assert!(agent.get(&url).call().is_err(), "third request must fail");
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        std::net::TcpStream::connect(srv.addr()).is_err(),
        "listener must be closed"
    );
    assert_eq!(srv.requests().len(), 2);
}

#[test]
fn serves_16_concurrent_keep_alive_clients() {
    let srv = seeded()
        .latency(Duration::from_millis(50))
        .start()
        .expect("starts");
    let url = srv.url();
    let t = Instant::now();
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                (0..4)
                    .map(|_| {
                        agent
                            .get(format!("{url}/api/v1/namespaces/shop/configmaps/orphan"))
                            .call()
                            .map(|r| r.status().as_u16())
                            .unwrap_or(0)
                    })
                    .collect::<Vec<u16>>()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("thread"), [200, 200, 200, 200]);
    }
    // 64 requests of 50 ms each, 16 at a time: ~200 ms; serially it would be 3.2 s.
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(srv.requests().len(), 64);
}

#[test]
fn real_apply_writes_the_store_and_bumps_resource_version() {
    let srv = seeded().start().expect("starts");
    let body = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"orphan","namespace":"shop"},"data":{"note":"adopted"}}"#;
    let got = send(
        &srv.url(),
        "PATCH",
        "/api/v1/namespaces/shop/configmaps/orphan?fieldManager=adopter&force=true",
        &[("Content-Type", "application/apply-patch+yaml")],
        body,
    );
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["metadata"]["resourceVersion"], "1412");
    let get = send(
        &srv.url(),
        "GET",
        "/api/v1/namespaces/shop/configmaps/orphan",
        &[],
        b"",
    );
    assert_eq!(get.json()["data"]["note"], "adopted");
    let managers: Vec<String> = get.json()["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["manager"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(managers, ["adopter", "kubectl-create"]);
}

#[test]
fn unsupported_verbs_and_patch_types_fail_loudly() {
    let srv = seeded().start().expect("starts");
    let del = send(
        &srv.url(),
        "DELETE",
        "/api/v1/namespaces/shop/configmaps/orphan",
        &[],
        b"",
    );
    assert_eq!(del.status, 405);
    let merge = send(
        &srv.url(),
        "PATCH",
        "/api/v1/namespaces/shop/configmaps/orphan",
        &[("Content-Type", "application/merge-patch+json")],
        b"{}",
    );
    assert_eq!(merge.status, 415);
    let bad = send(
        &srv.url(),
        "GET",
        "/api/v1/configmaps?labelSelector=a%20in%20b",
        &[],
        b"",
    );
    assert_eq!(bad.status, 400);
}

#[test]
fn binary_prints_url_and_serves_seed() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fake-apiserver"))
        .arg("--seed")
        .arg(fixtures().join("live-after-drift"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line).expect("url line");
    }
    let url = line.trim().to_string();
    let got = send(
        &url,
        "GET",
        "/apis/apps/v1/namespaces/shop/deployments/web",
        &[],
        b"",
    );
    let _ = child.kill();
    let _ = child.wait();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["spec"]["replicas"], 7);
}
