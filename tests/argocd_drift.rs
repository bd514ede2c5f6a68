//! `driftlint drift` and `check --pre-commit` with Argo CD Application units.
//!
//! Drift runs against the fake API server (`fake-apiserver`) seeded with what a real
//! kube-apiserver answered (`tests/fixtures/cluster/`, see `tests/cli_drift.rs`): the podinfo
//! manifests there are applied here through an Application (`argo/podinfo.yaml`, a kustomize
//! source whose `repoURL` is the repository's `origin` remote) instead of as a bare folder.
//! Argo CD applies as the field manager `argocd-controller` (argo-cd `common.ArgoCDSSAManager`,
//! passed by the application controller to gitops-engine for server-side and client-side
//! applies); the live Deployment's `managedFields` say so, and `--field-manager auto` dry-runs
//! as that manager.
#![cfg(feature = "cluster")]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use fake_apiserver::FakeApiServer;
use serde_json::Value;

const UNIT: &str = "podinfo (Application argocd/podinfo)";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster")
}

/// The cluster's desired manifests as a repository: `cluster/` (a bare folder) and
/// `podinfo/` applied by the Application `argo/podinfo.yaml`.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for d in [".git", "cluster", "podinfo", "argo"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(
        root.join(".git/config"),
        "[remote \"origin\"]\n\turl = git@github.com:example/lab.git\n",
    )
    .unwrap();
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
        "resources:\n- 40-podinfo.yaml\n",
    )
    .unwrap();
    std::fs::write(
        root.join("argo/podinfo.yaml"),
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: podinfo\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://github.com/example/lab\n    path: podinfo\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: podinfo\n  syncPolicy:\n    syncOptions: [ServerSideApply=true]\n",
    )
    .unwrap();
    dir
}

/// The live podinfo Deployment, applied by Argo CD (server-side, as `argocd-controller`),
/// with `edit` applied.
fn live_podinfo(edit: impl FnOnce(&mut Value)) -> Value {
    let path = fixtures().join("live-after-apply/podinfo.Deployment.podinfo.json");
    let mut obj: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for entry in obj["metadata"]["managedFields"].as_array_mut().unwrap() {
        if entry["manager"] == "kustomize-controller" {
            entry["manager"] = "argocd-controller".into();
        }
    }
    edit(&mut obj);
    obj
}

fn drift(srv: &FakeApiServer, repo: &Path, args: &[&str]) -> Output {
    let kubeconfig = repo.join("kubeconfig");
    srv.write_kubeconfig(&kubeconfig, "lab").unwrap();
    Command::cargo_bin("driftlint")
        .unwrap()
        .current_dir(repo)
        .env("NO_COLOR", "1")
        .args(["drift", ".", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--context", "lab", "--format", "json"])
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

/// (code, file:line, field) of the findings about podinfo files (drift findings name the
/// cluster as their target), and the units of the compared objects declared in podinfo files.
fn podinfo_findings(out: &Output) -> (Vec<(String, String, String)>, Vec<String>) {
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let in_podinfo = |v: &Value| v.as_str().is_some_and(|p| p.starts_with("podinfo/"));
    let mut mine: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| in_podinfo(&f["location"]["file"]))
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                format!(
                    "{}:{}",
                    f["location"]["file"].as_str().unwrap(),
                    f["location"]["line"]
                ),
                f["field"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    mine.sort();
    let mut units: Vec<String> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| in_podinfo(&o["origin"]["file"]))
        .map(|o| o["target"].as_str().unwrap_or("").to_string())
        .collect();
    units.sort();
    units.dedup();
    (mine, units)
}

#[test]
fn an_application_applied_unchanged_has_no_drift() {
    let repo = repo();
    let srv = FakeApiServer::builder()
        .seed_dir(fixtures().join("live-after-apply"))
        .object(live_podinfo(|_| {}))
        .start()
        .unwrap();
    for mode in ["server", "read-only"] {
        let out = drift(&srv, repo.path(), &["--mode", mode]);
        let (mine, units) = podinfo_findings(&out);
        assert_eq!(
            mine,
            vec![],
            "mode {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            units,
            [UNIT],
            "mode {mode}: the podinfo objects were compared"
        );
    }
}

#[test]
fn drift_in_an_application_is_reported_through_its_unit_at_the_source_line() {
    let repo = repo();
    let live = live_podinfo(|d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] =
            "ghcr.io/stefanprodan/podinfo:6.13.0".into();
    });
    let srv = FakeApiServer::builder()
        .seed_dir(fixtures().join("live-after-apply"))
        .object(live)
        .start()
        .unwrap();
    for mode in ["server", "read-only"] {
        let out = drift(&srv, repo.path(), &["--mode", mode]);
        let (mine, targets) = podinfo_findings(&out);
        assert_eq!(
            mine,
            vec![(
                "DRIFT001".to_string(),
                "podinfo/40-podinfo.yaml:87".to_string(),
                "spec.template.spec.containers[name=podinfo].image".to_string()
            )],
            "mode {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(targets, [UNIT], "mode {mode}");
    }
}

#[test]
fn pre_commit_checks_a_changed_file_through_the_application_rendering_it() {
    let repo = repo();
    let out = Command::cargo_bin("driftlint")
        .unwrap()
        .current_dir(repo.path())
        .args(["check", "--pre-commit", "--format", "json", "--"])
        .arg("podinfo/40-podinfo.yaml")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    let ids: Vec<&str> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [UNIT]);
    let targets: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["target"].as_str().unwrap())
        .collect();
    assert!(targets.iter().all(|t| *t == UNIT), "{targets:?}");
    // A file no unit reads selects nothing.
    let out = Command::cargo_bin("driftlint")
        .unwrap()
        .current_dir(repo.path())
        .args(["check", "--pre-commit", "--format", "json", "--"])
        .arg("cluster/30-shop.yaml")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !report["targets"].to_string().contains(UNIT),
        "{}",
        report["targets"]
    );
}
