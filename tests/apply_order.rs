//! CRD ordering across apply units (CRD002): a custom resource whose CRD another unit installs
//! must be ordered after that unit — a Flux `dependsOn` (and, for a HelmRelease, `wait: true` or
//! a healthCheck on the unit applying it), or a helmfile `needs`.
//!
//! Fixtures: `tests/fixtures/helmrelease-crds` (Flux Kustomization `infra` applies HelmRelease
//! `widgets`, whose local chart's `crds/` define `Widget`; `configs` applies a `Widget` and
//! dependsOn `infra`, which has `wait: true`) and `tests/fixtures/order-helmfile` (release
//! `widget-app` renders a `Widget`, release `widget-crds` installs its CRD, `needs` orders
//! them). Each test copies a fixture and removes one ordering to see the finding; the expected
//! findings were written by hand from Flux's and helmfile's documented ordering.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A copy of fixture `name` with `edit` applied to its file `file` (text replaced).
fn edited(name: &str, file: &str, from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy(&fixture(name), dir.path());
    let path = dir.path().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} lacks {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    dir
}

fn copy(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `(code, target, file:line, message)` of every finding of `check --format json`.
fn check(root: &Path) -> Vec<(String, String, String, String)> {
    let out = Command::cargo_bin("driftlint")
        .unwrap()
        .args(["check", root.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let at = format!("{}:{}", text(&f["location"]["file"]), f["location"]["line"]);
            (
                text(&f["code"]),
                text(&f["target"]),
                at,
                text(&f["message"]),
            )
        })
        .collect()
}

fn codes(findings: &[(String, String, String, String)]) -> Vec<(&str, &str)> {
    findings
        .iter()
        .map(|(c, _, at, _)| (c.as_str(), at.as_str()))
        .collect()
}

const CONFIGS: &str = "configs (Kustomization flux-system/configs)";

#[test]
fn a_flux_kustomization_ordered_after_the_waiting_unit_of_the_helmrelease_is_clean() {
    let f = check(&fixture("helmrelease-crds"));
    // Only CRD003: infra's own Widget next to the HelmRelease installing its CRD.
    assert_eq!(codes(&f), [("CRD003", "infra/widget.yaml:2")], "{f:#?}");
}

#[test]
fn without_depends_on_the_helmrelease_crd_is_crd002() {
    let dir = edited(
        "helmrelease-crds",
        "clusters/prod/units.yaml",
        "  dependsOn:\n    - name: infra\n",
        "",
    );
    let f = check(dir.path());
    let crd002: Vec<_> = f.iter().filter(|x| x.0 == "CRD002").collect();
    assert_eq!(crd002.len(), 1, "{f:#?}");
    let (_, target, at, message) = crd002[0];
    assert_eq!(
        (target.as_str(), at.as_str()),
        (CONFIGS, "configs/widget.yaml:2")
    );
    assert!(
        message.contains("HelmRelease widgets/widgets (charts/widgets/crds/widgets.yaml:1)"),
        "{message}"
    );
    assert!(
        message.contains("add `dependsOn: [{name: infra}]`"),
        "{message}"
    );
}

#[test]
fn depends_on_a_unit_that_does_not_wait_for_the_helmrelease_is_crd002() {
    let dir = edited(
        "helmrelease-crds",
        "clusters/prod/units.yaml",
        "  wait: true\n  path: ./infra",
        "  path: ./infra",
    );
    let f = check(dir.path());
    let crd002: Vec<_> = f.iter().filter(|x| x.0 == "CRD002").collect();
    assert_eq!(crd002.len(), 1, "{f:#?}");
    assert!(
        crd002[0]
            .3
            .contains("give Flux Kustomization flux-system/infra `wait: true`"),
        "{}",
        crd002[0].3
    );
}

#[test]
fn a_health_check_on_the_helmrelease_orders_it_too() {
    let health = "  healthChecks:\n    - apiVersion: helm.toolkit.fluxcd.io/v2\n      kind: HelmRelease\n      name: widgets\n      namespace: widgets\n  path: ./infra";
    let dir = edited(
        "helmrelease-crds",
        "clusters/prod/units.yaml",
        "  wait: true\n  path: ./infra",
        health,
    );
    let f = check(dir.path());
    assert_eq!(codes(&f), [("CRD003", "infra/widget.yaml:2")], "{f:#?}");
}

#[test]
fn helmfile_releases_ordered_by_needs_are_clean() {
    assert_eq!(check(&fixture("order-helmfile")), []);
}

#[test]
fn a_helmfile_release_without_needs_on_the_crd_release_is_crd002() {
    let dir = edited(
        "order-helmfile",
        "helmfile.yaml",
        "    needs:\n      - widgets/widget-crds\n",
        "",
    );
    let f = check(dir.path());
    assert_eq!(
        codes(&f),
        [("CRD002", "charts/widget-app/templates/widget.yaml:2")],
        "{f:#?}"
    );
    let (_, target, _, message) = &f[0];
    assert_eq!(target, "helmfile.yaml (release widgets/widget-app)");
    assert!(
        message.contains("add `needs: [widgets/widget-crds]`"),
        "{message}"
    );
}
