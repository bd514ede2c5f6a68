//! End-to-end tests of CRD knowledge: the embedded CRD catalog, `--crd-catalog`, CRD001's
//! "did you mean", one SCHEMA002 per unknown group, `--strict-crds`, and API001 for APIs the
//! target Kubernetes version does not serve yet.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// A repository (a `.git` folder marks the root) with `files` written in it.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, text).expect("write");
    }
    dir
}

/// `check --format json` findings as (code, line, message).
fn check(path: &Path, extra: &[&str]) -> Vec<(String, u64, String)> {
    let out = Command::cargo_bin("driftlint")
        .expect("binary")
        .arg("check")
        .arg(path)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_owned(),
                f["location"]["line"].as_u64().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

const OBJECTS: &str = "\
apiVersion: external-secrets.io/v1
kind: ExternalSecrett
metadata: {name: a, namespace: apps}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: c, namespace: apps}
spec: {secretName: 5, issuerRef: {name: i}, dnsNames: [a.example.org]}
---
apiVersion: widgets.example.org/v1
kind: Widget
metadata: {name: w1, namespace: apps}
---
apiVersion: widgets.example.org/v1
kind: Gadget
metadata: {name: g1, namespace: apps}
";

#[test]
fn catalog_groups_typos_and_unknown_groups() {
    let dir = repo(&[("app/objects.yaml", OBJECTS)]);
    let found = check(&dir.path().join("app"), &[]);
    let codes: Vec<(&str, u64)> = found.iter().map(|(c, l, _)| (c.as_str(), *l)).collect();
    assert_eq!(
        codes,
        vec![("CRD001", 2), ("SCHEMA001", 8), ("SCHEMA002", 11)],
        "{found:#?}"
    );
    assert!(
        found[0].2.ends_with("did you mean ExternalSecret?"),
        "{}",
        found[0].2
    );
    assert!(
        found[1]
            .2
            .contains("(schema from the CRD catalog datreeio/CRDs-catalog@7b1e26e (MIT), embedded; the CRD version installed in the cluster may differ)"),
        "{}",
        found[1].2
    );
    assert!(
        found[2].2.starts_with(
            "no schema for 2 objects of API group widgets.example.org (Gadget, Widget)"
        ),
        "{}",
        found[2].2
    );
    let strict = check(&dir.path().join("app"), &["--strict-crds"]);
    let codes: Vec<(&str, u64)> = strict.iter().map(|(c, l, _)| (c.as_str(), *l)).collect();
    assert_eq!(
        codes,
        vec![
            ("CRD001", 2),
            ("SCHEMA001", 8),
            ("CRD001", 11),
            ("CRD001", 15)
        ]
    );
}

#[test]
fn crd_catalog_checkout_is_read_for_used_groups() {
    let dir = repo(&[("app/objects.yaml", OBJECTS)]);
    let catalog = tempfile::tempdir().expect("tempdir");
    let group = catalog.path().join("widgets.example.org");
    std::fs::create_dir_all(&group).expect("dir");
    let schema = r#"{"type":"object","properties":{"spec":{"type":"object","additionalProperties":false,"properties":{"size":{"type":"integer"}},"required":["size"]}}}"#;
    std::fs::write(group.join("widget_v1.json"), schema).expect("write");
    let flag = catalog.path().to_string_lossy().to_string();
    let found = check(&dir.path().join("app"), &["--crd-catalog", &flag]);
    let codes: Vec<(&str, u64)> = found.iter().map(|(c, l, _)| (c.as_str(), *l)).collect();
    // Widget is validated against the checkout (missing spec.size is not required at the
    // root, so it passes); Gadget is a kind the group lacks.
    assert_eq!(
        codes,
        vec![("CRD001", 2), ("SCHEMA001", 8), ("CRD001", 15)],
        "{found:#?}"
    );
    assert!(found[2].2.contains("has no kind Gadget"), "{}", found[1].2);
    let missing = Command::cargo_bin("driftlint")
        .expect("binary")
        .args(["check", "--crd-catalog", "/no/such/dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn crd_catalog_in_config_is_confined() {
    let dir = repo(&[
        ("app/objects.yaml", OBJECTS),
        (".driftlint.yaml", "crdCatalog: ../outside\n"),
    ]);
    let found = check(dir.path(), &[]);
    assert!(
        found
            .iter()
            .any(|(c, l, m)| c == "CONFIG001" && *l == 1 && m.starts_with("crdCatalog:")),
        "{found:#?}"
    );
}

#[test]
fn apis_the_target_does_not_serve_yet_are_api001() {
    let claim = "apiVersion: resource.k8s.io/v1\nkind: ResourceClaim\nmetadata: {name: c, namespace: apps}\nspec: {}\n";
    let dir = repo(&[("app/claim.yaml", claim)]);
    let found = check(&dir.path().join("app"), &["--kubernetes-version", "1.33"]);
    let codes: Vec<&str> = found.iter().map(|(c, _, _)| c.as_str()).collect();
    assert_eq!(codes, vec!["API001"], "{found:#?}");
    assert!(
        found[0].2.contains("served from Kubernetes 1.34"),
        "{}",
        found[0].2
    );
    let newer = check(&dir.path().join("app"), &["--kubernetes-version", "1.34"]);
    assert!(newer.iter().all(|(c, _, _)| c != "API001"), "{newer:#?}");
}
