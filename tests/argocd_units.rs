//! Argo CD Applications and ApplicationSets rendered as apply units (`src/argocd.rs`), on
//! `tests/fixtures/argocd` (its `.driftlint.yaml` maps `https://github.com/example/gitops.git`
//! to the repository with `sources: [{url: ...}]`).
//!
//! How each expected output in `tests/fixtures/argocd.expected/` was made:
//! - `web-prod.yaml` (Application `web-prod`, a kustomize source with every override): a copy
//!   of the fixture whose `apps/web/kustomization.yaml` is the file the `kustomize edit`
//!   commands Argo CD runs would leave (`set nameprefix prod-`, `set namesuffix -v2`, `set
//!   image nginx:1.25` → `images: [{name: nginx, newTag: "1.25"}]`, `set replicas web=3`,
//!   `add label --force env:prod app:web-prod` (`$ARGOCD_APP_NAME` substituted), `add
//!   annotation team:web`, `set namespace prod`, the patch appended to `patches`, `add component
//!   ../../components/debug` — `../../components/missing` left out by
//!   `ignoreMissingComponents`), built with `kubectl kustomize apps/web` (kubectl v1.35.2,
//!   kustomize v5.7.1, `../shared/tools/install-reference-tools`).
//! - `demo.yaml` (Application `demo`, a helm source with a `$values` ref): `helm template
//!   demo-prod charts/demo --namespace demo -f envs/prod.yaml -f vo.yaml --set replicas=2
//!   --set-string size=10 --set-file motd=envs/motd.txt --include-crds --kube-version 1.33.0`
//!   (helm v4.1.4; `vo.yaml` holds the `valuesObject`, `color: red`, passed after the value
//!   files as the repo-server does; `$values/envs/missing.yaml` dropped by
//!   `ignoreMissingValueFiles`).
//! - `eu-plain.yaml` and `plain-flat.yaml` (directory sources): by hand, as their headers say.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn driftlint() -> Command {
    Command::cargo_bin("driftlint").expect("binary")
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/argocd")
}

fn expected(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/argocd.expected")
        .join(name)
}

fn build(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = driftlint()
        .arg("build")
        .arg(dir)
        .args(extra)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The objects of a YAML stream as sorted JSON texts (comments and unit headers dropped).
fn objects(stream: &str) -> Vec<String> {
    let docs = driftlint_yaml::parse_documents("stream".into(), stream).expect("yaml");
    let mut out: Vec<String> = docs
        .iter()
        .filter(|d| !d.is_null())
        .map(|d| canonical(&d.to_json()))
        .collect();
    out.sort();
    out
}

/// JSON text with map keys sorted (so key order does not matter).
fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::String((*k).clone()), canonical(&m[*k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

fn unit_matches(unit: &str, file: &str) {
    let (code, stdout, stderr) = build(&fixture(), &["--unit", unit]);
    assert_eq!(code, 0, "{stderr}");
    let want = std::fs::read_to_string(expected(file)).expect("expected file");
    assert_eq!(objects(&stdout), objects(&want), "{unit}:\n{stdout}");
}

fn build_json() -> (i32, Value) {
    let (code, stdout, _) = build(&fixture(), &["--format", "json"]);
    (code, serde_json::from_str(&stdout).expect("json"))
}

#[test]
fn build_lists_every_application_and_why_the_others_failed() {
    let (code, doc) = build_json();
    assert_eq!(code, 2, "the Jsonnet Application is a RENDER002");
    let ids: Vec<&str> = doc["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["kind"] == "argocd-application")
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "apps/api (Application argocd/child)",
            "apps/api (Application argocd/dir-api)",
            "apps/web (Application argocd/dir-web)",
            "apps/web (Application argocd/web-prod)",
            "bootstrap/app-chart.yaml (Application argocd/podinfo)",
            "charts/demo (Application argocd/demo)",
            "nested (Application argocd/root)",
            "plain (Application argocd/eu-plain)",
            "plain (Application argocd/plain-flat)",
            "plain (Application argocd/us-plain)",
        ]
    );
    let failed: Vec<(String, String, u64)> = doc["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            ("CHART001".into(), "bootstrap/app-chart.yaml".into(), 10),
            ("RENDER002".into(), "bootstrap/app-jsonnet.yaml".into(), 9),
        ]
    );
}

#[test]
fn git_directory_generator_excludes_and_folders_rendered_by_units_are_not_bare_targets() {
    let (_, doc) = build_json();
    let ids: Vec<&str> = doc["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    // `apps/skip` is excluded from the generator: it stays a bare kustomization.
    assert!(ids.contains(&"apps/skip"), "{ids:?}");
    assert!(!ids.iter().any(|i| i.contains("dir-skip")), "{ids:?}");
    // Folders an Application renders are not also checked bare.
    for bare in ["apps/web", "apps/api", "nested", "plain", "charts/demo"] {
        assert!(!ids.contains(&bare), "{bare} in {ids:?}");
    }
}

#[test]
fn kustomize_source_is_edited_as_argo_cd_edits_it() {
    unit_matches("apps/web (Application argocd/web-prod)", "web-prod.yaml");
}

#[test]
fn helm_source_with_ref_values_value_object_and_parameters() {
    unit_matches("charts/demo (Application argocd/demo)", "demo.yaml");
}

#[test]
fn matrix_of_git_files_and_list_with_go_templates() {
    unit_matches("plain (Application argocd/eu-plain)", "eu-plain.yaml");
}

#[test]
fn directory_source_include_glob_without_recurse() {
    unit_matches("plain (Application argocd/plain-flat)", "plain-flat.yaml");
}

#[test]
fn app_of_apps_renders_the_child_application() {
    let (code, stdout, stderr) = build(
        &fixture(),
        &["--unit", "apps/api (Application argocd/child)"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("name: child-api"), "{stdout}");
    assert!(stdout.contains("namespace: child"), "{stdout}");
}

/// A small repository written for one test.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

const CONFIG: &str = "sources:\n  - url: https://example.com/repo\n";

#[test]
fn generators_needing_a_live_argo_cd_and_unknown_repositories_fail_loudly_at_their_line() {
    let appset = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: s\nspec:\n  generators:\n    - clusters: {}\n  template:\n    metadata:\n      name: x\n    spec:\n      source: {repoURL: https://example.com/repo, path: .}\n---\napiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: t\nspec:\n  generators:\n    - git:\n        repoURL: https://other.example.com/repo\n        directories: [{path: '*'}]\n  template:\n    metadata:\n      name: y\n    spec: {}\n";
    let dir = repo(&[(".driftlint.yaml", CONFIG), ("argo/sets.yaml", appset)]);
    let (code, _, stderr) = build(dir.path(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("RENDER002: argo/sets.yaml:7: cannot generate ApplicationSet argocd/s: the clusters generator needs a live Argo CD"),
        "{stderr}"
    );
    assert!(
        stderr.contains("RENDER001: argo/sets.yaml:21: cannot generate ApplicationSet argocd/t: git generator repoURL https://other.example.com/repo is not this repository"),
        "{stderr}"
    );
}

#[test]
fn a_source_url_with_a_flux_kind_is_a_config_error() {
    let config =
        "sources:\n  - url: https://example.com/repo\n    kind: GitRepository\n    name: x\n";
    let dir = repo(&[
        (".driftlint.yaml", config),
        (
            "a/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        ),
    ]);
    let (code, _, stderr) = build(dir.path(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("has no kind or name"), "{stderr}");
}

#[test]
fn app_of_apps_loops_stop() {
    // An Application that renders itself: rendered once.
    let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: self\n  namespace: argocd\nspec:\n  source: {repoURL: https://example.com/repo, path: apps}\n  destination: {namespace: x}\n";
    let dir = repo(&[(".driftlint.yaml", CONFIG), ("apps/self.yaml", app)]);
    let (code, stdout, stderr) = build(dir.path(), &["--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let n = doc["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["kind"] == "argocd-application")
        .count();
    assert_eq!(n, 1, "{stdout}");
}

/// An app-of-apps: `root` renders `crds` (a CRD, sync wave 0) and `issuers` (a custom
/// resource of that CRD, with the given sync wave); `issuers` also holds a second CRD and a CR
/// of it one wave before it.
fn waves_repo(issuers_wave: &str) -> tempfile::TempDir {
    let app = |name: &str, path: &str, wave: &str| {
        format!("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\n  annotations:\n    argocd.argoproj.io/sync-wave: \"{wave}\"\nspec:\n  source: {{repoURL: https://example.com/repo, path: {path}}}\n  destination: {{namespace: x}}\n")
    };
    let crd = |group: &str, kind: &str, plural: &str, wave: &str| {
        format!("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {plural}.{group}\n  annotations:\n    argocd.argoproj.io/sync-wave: \"{wave}\"\nspec:\n  group: {group}\n  scope: Cluster\n  names: {{kind: {kind}, plural: {plural}, singular: {plural}, listKind: {kind}List}}\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}\n")
    };
    let root = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: root\n  namespace: argocd\nspec:\n  source: {repoURL: https://example.com/repo, path: apps}\n  destination: {namespace: argocd}\n";
    repo(&[
        (".driftlint.yaml", CONFIG),
        ("bootstrap/root.yaml", root),
        ("apps/crds.yaml", &app("crds", "crds", "0")),
        ("apps/issuers.yaml", &app("issuers", "issuers", issuers_wave)),
        ("crds/crd.yaml", &crd("cert.example.com", "Issuer", "issuers", "0")),
        ("issuers/issuer.yaml", "apiVersion: cert.example.com/v1\nkind: Issuer\nmetadata:\n  name: letsencrypt\n"),
        ("issuers/own-crd.yaml", &crd("own.example.com", "Thing", "things", "0")),
        ("issuers/thing.yaml", "apiVersion: own.example.com/v1\nkind: Thing\nmetadata:\n  name: early\n  annotations:\n    argocd.argoproj.io/sync-wave: \"-1\"\n"),
    ])
}

fn crd005(dir: &Path) -> Vec<(String, u64)> {
    let out = driftlint()
        .args(["check", "--format", "json"])
        .arg(dir)
        .output()
        .expect("run");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "CRD005")
        .map(|f| {
            (
                f["location"]["file"].as_str().unwrap_or("").to_string(),
                f["location"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn sync_waves_order_custom_resources_after_their_crds() {
    // Same wave as the CRD's Application: flagged, and the CR one wave before its CRD in the
    // same Application too.
    let found = crd005(waves_repo("0").path());
    assert_eq!(found.len(), 2, "{found:?}");
    // A later wave: only the in-Application early CR is left.
    let found = crd005(waves_repo("1").path());
    assert_eq!(found.len(), 1, "{found:?}");
}

/// An app-of-apps for the graph: `root` (in `bootstrap/`) renders `crds` (wave -1), `issuers`
/// and `web` (wave 1), and `late` (wave 5); `web` has a PreSync hook (wave -2), a PostSync
/// hook, an object of wave 3 and a Helm `test` hook that no sync runs.
fn graph_repo() -> tempfile::TempDir {
    let app = |name: &str, wave: &str| {
        format!("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\n  annotations:\n    argocd.argoproj.io/sync-wave: \"{wave}\"\nspec:\n  source: {{repoURL: https://example.com/repo, path: {name}}}\n  destination: {{namespace: {name}}}\n")
    };
    let cm = |name: &str, annotations: &str| {
        format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations: {{{annotations}}}\n")
    };
    let root = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: root\n  namespace: argocd\nspec:\n  source: {repoURL: https://example.com/repo, path: apps}\n  destination: {namespace: argocd}\n";
    let web = [
        cm(
            "migrate",
            "argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/sync-wave: '-2'",
        ),
        cm("config", ""),
        cm("late-config", "argocd.argoproj.io/sync-wave: '3'"),
        cm("notify", "argocd.argoproj.io/hook: PostSync"),
        cm("test", "helm.sh/hook: test"),
    ]
    .concat();
    repo(&[
        (".driftlint.yaml", CONFIG),
        ("bootstrap/root.yaml", root),
        ("apps/crds.yaml", &app("crds", "-1")),
        ("apps/issuers.yaml", &app("issuers", "1")),
        ("apps/web.yaml", &app("web", "1")),
        ("apps/late.yaml", &app("late", "5")),
        ("crds/cm.yaml", &cm("crds", "")),
        ("issuers/cm.yaml", &cm("issuers", "")),
        ("late/cm.yaml", &cm("late", "")),
        ("web/objects.yaml", &web),
    ])
}

fn graph(dir: &Path, format: &str) -> String {
    let out = driftlint()
        .args(["graph", "--format", format])
        .arg(dir)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn sync_waves_of_sibling_applications_and_hook_phases_feed_the_graph() {
    let dir = graph_repo();
    let json: Value = serde_json::from_str(&graph(dir.path(), "json")).expect("json");
    let nodes = json["nodes"].as_array().expect("nodes");
    let id = |i: &Value| {
        nodes[i.as_u64().unwrap() as usize]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let edges: Vec<String> = json["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} -> {} [{} {}]",
                id(&e["from"]),
                id(&e["to"]),
                e["kind"].as_str().unwrap(),
                e["name"].as_str().unwrap()
            )
        })
        .collect();
    let steps: Vec<String> = nodes
        .iter()
        .filter(|n| n.get("syncWave").is_some())
        .map(|n| {
            format!(
                "{} wave {}: {}",
                n["id"].as_str().unwrap(),
                n["syncWave"],
                n["syncSteps"]
            )
        })
        .collect();
    insta::assert_snapshot!(
        "argocd_graph_edges",
        format!("{}\n\n{}", edges.join("\n"), steps.join("\n"))
    );
    insta::assert_snapshot!("argocd_graph_mermaid", graph(dir.path(), "mermaid"));
    assert!(graph(dir.path(), "dot").contains("n1 -> n2 [style=bold];"));
    assert!(graph(dir.path(), "html").contains("stroke-width=\"3\""));
}

/// The unit ids `check --pre-commit -- FILE` reports on the fixture.
fn pre_commit_targets(file: &str) -> Vec<String> {
    let out = driftlint()
        .current_dir(fixture())
        .args(["check", "--pre-commit", "--format", "json", "--", file])
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn pre_commit_checks_the_applications_reading_a_changed_file() {
    // A template of a local chart, and a value file, of a helm source.
    for file in ["charts/demo/templates/configmap.yaml", "envs/prod.yaml"] {
        assert_eq!(
            pre_commit_targets(file),
            ["charts/demo (Application argocd/demo)"],
            "{file}"
        );
    }
    // A manifest of a kustomization two Applications render.
    assert_eq!(
        pre_commit_targets("apps/web/deployment.yaml"),
        [
            "apps/web (Application argocd/dir-web)",
            "apps/web (Application argocd/web-prod)"
        ]
    );
}
