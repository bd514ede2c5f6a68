//! `driftlint drift` end to end against the fake API server (`fake-apiserver`), seeded with what
//! a real kube-apiserver v1.36 answered (`tests/fixtures/cluster/`).
//!
//! The repository under test is `tests/fixtures/cluster/desired/` laid out as a GitOps repo:
//! `cluster/` (namespaces, CRDs, ClusterIssuer, shop, platform: a plain manifest folder) and
//! `podinfo/` (the Helm-rendered podinfo manifests under a kustomization setting
//! `namespace: podinfo`, as they were applied with `-n podinfo`).
#![cfg(feature = "cluster")]

#[path = "common/drift_report.rs"]
mod drift_report;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use drift_report::{findings, triple};
use fake_apiserver::FakeApiServer;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster")
}

/// The desired manifests as a repository in a temporary directory.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("cluster")).unwrap();
    std::fs::create_dir_all(root.join("podinfo")).unwrap();
    let desired = fixtures().join("desired");
    for f in [
        "00-namespaces.yaml",
        "10-cert-manager-crds.yaml",
        "20-clusterissuer.yaml",
        "30-shop.yaml",
        "50-platform.yaml",
    ] {
        std::fs::copy(desired.join(f), root.join("cluster").join(f)).unwrap();
    }
    std::fs::copy(
        desired.join("40-podinfo.yaml"),
        root.join("podinfo/40-podinfo.yaml"),
    )
    .unwrap();
    std::fs::write(
        root.join("podinfo/kustomization.yaml"),
        "namespace: podinfo\nresources:\n- 40-podinfo.yaml\n",
    )
    .unwrap();
    dir
}

fn server(seed: &str) -> fake_apiserver::Builder {
    FakeApiServer::builder().seed_dir(fixtures().join(seed))
}

/// Runs `driftlint drift` on `repo` against `srv` with `args`.
fn drift(srv: &FakeApiServer, repo: &Path, args: &[&str]) -> Output {
    let kubeconfig = repo.join("kubeconfig");
    srv.write_kubeconfig(&kubeconfig, "lab").unwrap();
    Command::cargo_bin("driftlint")
        .unwrap()
        .current_dir(repo)
        .env("NO_COLOR", "1")
        .args(["drift", ".", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--context", "lab"])
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

/// The drift injected in the fixtures, as findings at their source lines.
fn injected() -> Vec<(String, String, String)> {
    let mut v = vec![
        triple("DRIFT001", "cluster/30-shop.yaml:39", "spec.replicas"),
        triple(
            "DRIFT001",
            "cluster/30-shop.yaml:54",
            "spec.template.spec.containers[name=web].image",
        ),
        triple("DRIFT001", "cluster/50-platform.yaml:50", "data.LOG_LEVEL"),
        triple("DRIFT002", "cluster/50-platform.yaml:53", ""),
        triple("DRIFT003", "cluster/00-namespaces.yaml:1", ""),
    ];
    v.sort();
    v
}

#[test]
fn no_drift_right_after_apply_in_both_modes() {
    let repo = repo();
    let srv = server("live-after-apply").start().unwrap();
    for mode in ["server", "read-only"] {
        let out = drift(&srv, repo.path(), &["--mode", mode, "--format", "json"]);
        assert_eq!(findings(&out), vec![], "mode {mode}");
        assert_eq!(out.status.code(), Some(0), "mode {mode}");
    }
}

#[test]
fn every_injected_drift_is_found_at_its_source_line_in_server_mode() {
    let repo = repo();
    let srv = server("live-after-drift").start().unwrap();
    let out = drift(&srv, repo.path(), &["--format", "json"]);
    assert_eq!(findings(&out), injected());
    assert_eq!(out.status.code(), Some(1));
    let patches = srv
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert!(patches >= 18, "server mode dry-runs every live object");
}

#[test]
fn read_only_mode_finds_the_same_drift_without_patching() {
    let repo = repo();
    let srv = server("live-after-drift").start().unwrap();
    let out = drift(
        &srv,
        repo.path(),
        &["--mode", "read-only", "--format", "json"],
    );
    assert_eq!(findings(&out), injected());
    assert!(srv.requests().iter().all(|r| r.method == "GET"));
}

#[test]
fn forbidden_dry_run_falls_back_to_read_only_with_a_warning() {
    let repo = repo();
    let srv = server("live-after-drift")
        .forbid_patch(true)
        .start()
        .unwrap();
    let out = drift(&srv, repo.path(), &["--format", "json"]);
    let mut expected = injected();
    // At the first object whose dry-run was refused (targets in order: overlays first).
    expected.push(triple("DRIFT006", "podinfo/40-podinfo.yaml:3", ""));
    expected.sort();
    assert_eq!(findings(&out), expected);
    assert!(String::from_utf8_lossy(&out.stderr).contains("forbidden"));
}

#[test]
fn expected_drift_is_ignored_by_annotation_and_config() {
    let repo = repo();
    let shop = repo.path().join("cluster/30-shop.yaml");
    let text = std::fs::read_to_string(&shop).unwrap().replace(
        "  name: web\n  namespace: shop\nspec:\n  replicas: 4",
        "  name: web\n  namespace: shop\n  annotations:\n    driftlint.io/ignore-differences: /spec/replicas\nspec:\n  replicas: 4",
    );
    std::fs::write(&shop, text).unwrap();
    std::fs::write(
        repo.path().join(".driftlint.yaml"),
        "drift:\n  ignoreDifferences:\n  - kind: ConfigMap\n    name: app-settings\n    managedFieldsManagers: [kubectl-patch]\n",
    )
    .unwrap();
    let srv = server("live-after-drift").start().unwrap();
    let out = drift(&srv, repo.path(), &["--format", "json"]);
    let got = findings(&out);
    assert!(!got.iter().any(|f| f.2 == "spec.replicas"), "{got:?}");
    assert!(!got.iter().any(|f| f.2 == "data.LOG_LEVEL"), "{got:?}");
    assert!(got.iter().any(|f| f.2.ends_with(".image")), "{got:?}");
}

#[test]
fn a_kind_the_cluster_does_not_serve_is_its_own_finding() {
    let repo = repo();
    std::fs::write(
        repo.path().join("cluster/60-issuer.yaml"),
        "apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata:\n  name: local\n  namespace: shop\nspec:\n  selfSigned: {}\n",
    )
    .unwrap();
    let srv = server("live-after-apply").start().unwrap();
    let out = drift(&srv, repo.path(), &["--format", "json"]);
    assert_eq!(
        findings(&out),
        vec![triple("DRIFT004", "cluster/60-issuer.yaml:1", "")]
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn throttling_is_retried_and_changes_nothing() {
    let repo = repo();
    // The first three requests (all `GET /version`, the reachability probe) answer 429 with
    // `Retry-After: 1`; the fourth attempt succeeds.
    let srv = server("live-after-drift")
        .throttle_first(3)
        .start()
        .unwrap();
    let out = drift(&srv, repo.path(), &["--format", "json"]);
    assert_eq!(findings(&out), injected());
    let probes = srv
        .requests()
        .iter()
        .filter(|r| r.path == "/version")
        .count();
    assert_eq!(probes, 4);
}

#[test]
fn an_unreachable_cluster_is_exit_2_with_a_clear_message_not_a_hang() {
    let repo = repo();
    let srv = server("live-after-apply")
        .latency(Duration::from_secs(3))
        .start()
        .unwrap();
    let started = std::time::Instant::now();
    let out = drift(&srv, repo.path(), &["--timeout", "0.2", "--retries", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot reach the Kubernetes API server"),
        "{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_server_that_dies_mid_run_ends_the_run_with_exit_2() {
    let repo = repo();
    let srv = server("live-after-drift").die_after(12).start().unwrap();
    let started = std::time::Instant::now();
    let out = drift(&srv, repo.path(), &["--format", "json", "--retries", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(findings(&out).iter().any(|f| f.0 == "DRIFT005"));
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn sarif_fingerprints_are_identical_across_nights_and_thread_counts() {
    let repo = repo();
    let srv = server("live-after-drift").start().unwrap();
    let a = drift(
        &srv,
        repo.path(),
        &["--format", "sarif", "--concurrency", "1"],
    );
    let b = drift(
        &srv,
        repo.path(),
        &["--format", "sarif", "--concurrency", "16"],
    );
    assert_eq!(a.stdout, b.stdout);
    let log: Value = serde_json::from_slice(&a.stdout).unwrap();
    let run = &log["runs"][0];
    assert_eq!(run["automationDetails"]["id"], "driftlint/drift/lab/");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), injected().len());
    for r in results {
        assert!(r["partialFingerprints"]["driftlintFingerprint/v1"].is_string());
    }
    // Validated by `.ci/run` (scripts/validate-sarif.sh tests/snapshots/*.sarif).
    insta::assert_binary_snapshot!("drift-lab.sarif", a.stdout);
}

#[test]
fn markdown_and_human_reports() {
    let repo = repo();
    let srv = server("live-after-drift").start().unwrap();
    let markdown = drift(&srv, repo.path(), &["--format", "markdown"]);
    insta::assert_snapshot!("drift-markdown", String::from_utf8_lossy(&markdown.stdout));
    let human = drift(&srv, repo.path(), &["--format", "human"]);
    insta::assert_snapshot!("drift-human", String::from_utf8_lossy(&human.stdout));
}

#[test]
fn secret_values_are_never_printed() {
    let repo = repo();
    let shop = repo.path().join("cluster/30-shop.yaml");
    let text = std::fs::read_to_string(&shop)
        .unwrap()
        .replace("fixture-password-not-real", "rotated-password-value");
    std::fs::write(&shop, text).unwrap();
    let srv = server("live-after-apply").start().unwrap();
    for format in ["json", "human", "markdown", "sarif"] {
        let out = drift(&srv, repo.path(), &["--format", format]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            all.contains("password"),
            "{format}: the field is named: {all}"
        );
        assert!(!all.contains("rotated-password"), "{format}: {all}");
        assert!(!all.contains("fixture-password"), "{format}: {all}");
        assert_eq!(out.status.code(), Some(1), "{format}");
    }
}

/// Issue 11 item 3: a ConfigMap value under a credential-looking key is shown only as a hash,
/// and a token in any other value is masked, in every format.
#[test]
fn configmap_credentials_are_never_printed() {
    let repo = repo();
    let platform = repo.path().join("cluster/50-platform.yaml");
    let pat = format!("{}{}", "ghp_", "Zq3x9Lm2Pw8Rt5Yk1Vb7Nc4Hd6Jf0Gs2Ae8U");
    let text = std::fs::read_to_string(&platform).unwrap().replace(
        "  LOG_LEVEL: info\n",
        &format!("  LOG_LEVEL: info\n  DB_PASSWORD: repo-side-password-1\n  NOTE: \"use {pat}\"\n"),
    );
    std::fs::write(&platform, text).unwrap();
    let srv = server("live-after-apply").start().unwrap();
    for format in ["json", "human", "markdown", "sarif", "github"] {
        let out = drift(&srv, repo.path(), &["--format", format]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            all.contains("DB_PASSWORD"),
            "{format}: the field is named: {all}"
        );
        assert!(!all.contains("repo-side-password"), "{format}: {all}");
        assert!(!all.contains(&pat[4..]), "{format}: {all}");
    }
}

/// The repository with podinfo as a Helm release of the vendored chart (instead of its
/// rendered manifests), declared in `.driftlint.yaml` as the fixtures were made.
fn helm_repo() -> tempfile::TempDir {
    let dir = repo();
    let root = dir.path();
    std::fs::remove_dir_all(root.join("podinfo")).unwrap();
    let chart =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/drift-helm/charts/podinfo");
    copy_dir(&chart, &root.join("charts/podinfo"));
    std::fs::write(
        root.join(".driftlint.yaml"),
        "releases:\n- chart: charts/podinfo\n  name: podinfo\n  namespace: podinfo\n  values: [charts/podinfo/values-prod.yaml]\n  set: [replicaCount=2, certificate.create=true]\n",
    )
    .unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// The live podinfo Deployment of the fixtures with `edit` applied.
fn live_podinfo(edit: impl FnOnce(&mut Value)) -> Value {
    let path = fixtures().join("live-after-apply/podinfo.Deployment.podinfo.json");
    let mut obj: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut obj);
    obj
}

#[test]
fn a_helm_release_applied_unchanged_has_no_drift() {
    let repo = helm_repo();
    let srv = server("live-after-apply").start().unwrap();
    for mode in ["server", "read-only"] {
        let out = drift(&srv, repo.path(), &["--mode", mode, "--format", "json"]);
        assert_eq!(
            findings(&out),
            vec![],
            "mode {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn drift_of_a_chart_value_points_at_the_values_file_line() {
    let repo = helm_repo();
    let live = live_podinfo(|d| {
        let c = &mut d["spec"]["template"]["spec"]["containers"][0];
        c["image"] = "ghcr.io/stefanprodan/podinfo:6.13.0".into();
        c["resources"]["limits"]["memory"] = "512Mi".into();
    });
    let srv = server("live-after-apply").object(live).start().unwrap();
    for mode in ["server", "read-only"] {
        let out = drift(&srv, repo.path(), &["--mode", mode, "--format", "json"]);
        assert_eq!(
            findings(&out),
            vec![
                triple(
                    "DRIFT001",
                    "charts/podinfo/values-prod.yaml:11",
                    "spec.template.spec.containers[name=podinfo].image"
                ),
                triple(
                    "DRIFT001",
                    "charts/podinfo/values-prod.yaml:169",
                    "spec.template.spec.containers[name=podinfo].resources.limits.memory"
                ),
            ],
            "mode {mode}"
        );
    }
}

#[test]
fn missing_kubeconfig_or_unknown_context_is_exit_2_with_the_reason() {
    let repo = repo();
    let out = Command::cargo_bin("driftlint")
        .unwrap()
        .current_dir(repo.path())
        .args(["drift", ".", "--kubeconfig", "no-such-kubeconfig"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no-such-kubeconfig"), "{stderr}");
    let srv = server("live-after-apply").start().unwrap();
    let kubeconfig = repo.path().join("kubeconfig");
    srv.write_kubeconfig(&kubeconfig, "lab").unwrap();
    let out = Command::cargo_bin("driftlint")
        .unwrap()
        .current_dir(repo.path())
        .args(["drift", ".", "--context", "prod", "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("prod"), "{stderr}");
}

#[test]
fn a_user_selector_is_an_inventory_too() {
    let repo = repo();
    // The orphan carries the Flux labels; with a selector on one of them alone it is found
    // through the selector inventory as well (reported once).
    let srv = server("live-after-drift").start().unwrap();
    let out = drift(
        &srv,
        repo.path(),
        &[
            "--format",
            "json",
            "--selector",
            "kustomize.toolkit.fluxcd.io/name=apps",
        ],
    );
    let orphans: Vec<_> = findings(&out)
        .into_iter()
        .filter(|f| f.0 == "DRIFT003")
        .collect();
    assert_eq!(orphans.len(), 1, "{orphans:?}");
}
