//! Issue 16's Argo CD "done when" on a real repository: `../shared/gitops/theepicsaxguy-homelab`
//! (ApplicationSets with git directory generators, an ApplicationSet reached through an
//! Application, kustomize `helmCharts` of remote repositories). Skipped when the folder is
//! absent. Each test copies it into a temporary directory and tells driftlint that the
//! ApplicationSets' `repoURL` is that copy: through `.git/config`'s `origin` remote, or a
//! `.driftlint.yaml` `sources:` entry.
//!
//! How the expectations were made:
//! - The 18 Applications, counted from the generators by hand:
//!   `k8s/infrastructure/application-set.yaml` lists 8 directories, all present →
//!   `infra-{controllers,network,storage,monitoring,deployment,auth,database,security}`;
//!   `k8s/applications/application-set.yaml` lists 9 paths, one of them `exclude: true`
//!   (`web/hypebot`, which no other entry matches anyway) → `apps-{media,tools,ai,external,
//!   web,network,automation,games}`; `k8s/applications/external/application-set.yaml`, listed
//!   in `k8s/applications/external/kustomization.yaml` and so applied by `apps-external`,
//!   matches `k8s/applications/external/*`: the directories `proxmox` and `truenas`.
//! - The object counts of the 9 Applications whose kustomizations need no remote chart or
//!   remote resource: `kubectl kustomize --enable-helm` (kubectl v1.35.2) on each path.
//! - `tests/fixtures/argocd-homelab.expected/*.yaml`: the same command on five of them,
//!   written by the `regen.sh` beside them.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// Every Application the ApplicationSets generate (see the module docs).
const APPLICATIONS: [&str; 18] = [
    "apps-ai",
    "apps-automation",
    "apps-external",
    "apps-games",
    "apps-media",
    "apps-network",
    "apps-tools",
    "apps-web",
    "infra-auth",
    "infra-controllers",
    "infra-database",
    "infra-deployment",
    "infra-monitoring",
    "infra-network",
    "infra-security",
    "infra-storage",
    "proxmox",
    "truenas",
];

/// The Applications the reference renders offline, with its object counts.
const RENDERED: [(&str, u64); 9] = [
    ("apps-ai", 113),
    ("apps-automation", 49),
    ("apps-external", 2),
    ("apps-games", 17),
    ("apps-network", 1),
    ("apps-tools", 6),
    ("apps-web", 55),
    ("proxmox", 4),
    ("truenas", 4),
];

fn homelab() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        manifest.join("../shared/gitops/theepicsaxguy-homelab"),
        manifest.join("../../shared/gitops/theepicsaxguy-homelab"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// How the copy names its repository URL.
enum Mapping {
    /// `.git/config` with `[remote "origin"]` (the scp form, which Argo CD normalises).
    GitOrigin,
    /// `.driftlint.yaml` with `sources: [{url: ...}]`.
    Config,
}

/// A copy of the homelab repository, or `None` (with a note) when it is absent.
fn copy(mapping: Mapping) -> Option<tempfile::TempDir> {
    let Some(src) = homelab() else {
        println!("skipped: ../shared/gitops/theepicsaxguy-homelab is absent");
        return None;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&src, dir.path());
    match mapping {
        Mapping::GitOrigin => {
            std::fs::create_dir_all(dir.path().join(".git")).expect("mkdir");
            let config = "[core]\n\tbare = false\n[remote \"origin\"]\n\
                          \turl = git@github.com:theepicsaxguy/homelab.git\n\
                          \tfetch = +refs/heads/*:refs/remotes/origin/*\n";
            std::fs::write(dir.path().join(".git/config"), config).expect("write");
        }
        Mapping::Config => {
            let config = "sources:\n  - url: https://github.com/theepicsaxguy/homelab\n";
            std::fs::write(dir.path().join(".driftlint.yaml"), config).expect("write");
        }
    }
    Some(dir)
}

/// `driftlint build DIR EXTRA...` with an empty chart cache (whatever the user's cache holds).
fn build(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = Command::cargo_bin("driftlint")
        .expect("binary")
        .arg("build")
        .arg(dir)
        .arg("--cache-dir")
        .arg(cache.path())
        .args(extra)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The Application name of a unit id `path (Application argocd/NAME)`.
fn app_name(id: &str) -> Option<&str> {
    id.strip_suffix(')')?
        .split_once("(Application argocd/")?
        .1
        .into()
}

/// Checks `build --format json` lists every Application once: rendered with the reference's
/// object count, or failed with a located finding that names it and says why.
fn every_application_listed(dir: &Path) {
    let (code, stdout, stderr) = build(dir, &["--format", "json"]);
    assert_eq!(code, 2, "infra-database reads a remote resource: {stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("json");
    let mut seen: Vec<String> = Vec::new();
    for unit in doc["units"].as_array().expect("units") {
        let Some(name) = unit["id"].as_str().and_then(app_name) else {
            continue;
        };
        assert_eq!(unit["kind"], "argocd-application", "{unit}");
        let count = unit["objects"].as_u64().expect("objects");
        if let Some((_, want)) = RENDERED.iter().find(|(n, _)| *n == name) {
            assert_eq!(count, *want, "{name}");
        }
        seen.push(name.to_string());
    }
    for f in doc["failed"].as_array().expect("failed") {
        let Some(name) = f["unit"].as_str().and_then(app_name) else {
            continue;
        };
        failure_is_located(dir, name, f);
        seen.push(name.to_string());
    }
    // A unit whose chart is not in the cache (CHART001, a warning) is listed with no objects
    // AND among the failures, as HelmRelease units are.
    seen.sort();
    seen.dedup();
    assert_eq!(seen, APPLICATIONS, "{stdout}");
    for (name, _) in RENDERED {
        assert!(
            !doc["failed"]
                .to_string()
                .contains(&format!("argocd/{name})")),
            "{name} must render: {stdout}"
        );
    }
}

/// A failed Application: a render (or chart-cache) code, a file of the repository and a line,
/// and a message naming the Application and the reason.
fn failure_is_located(dir: &Path, name: &str, f: &Value) {
    let code = f["code"].as_str().unwrap_or("");
    assert!(
        ["RENDER001", "RENDER002", "CHART001"].contains(&code),
        "{f}"
    );
    let file = f["file"].as_str().expect("file");
    assert!(dir.join(file).is_file(), "{f}");
    assert!(f["line"].as_u64().is_some_and(|l| l >= 1), "{f}");
    let message = f["message"].as_str().expect("message");
    let head = format!("Application argocd/{name} (generated by ApplicationSet argocd/");
    assert!(message.contains(&head), "{f}");
    let reasons = [
        "is not in chartHome",
        "chart not available",
        "remote resources are not fetched",
    ];
    assert!(reasons.iter().any(|r| message.contains(r)), "{f}");
}

#[test]
fn origin_remote_maps_the_repository_and_every_application_is_listed() {
    let Some(dir) = copy(Mapping::GitOrigin) else {
        return;
    };
    every_application_listed(dir.path());
}

#[test]
fn sources_entry_maps_the_repository_and_every_application_is_listed() {
    let Some(dir) = copy(Mapping::Config) else {
        return;
    };
    every_application_listed(dir.path());
}

/// The objects of a YAML stream, in order, as JSON (comments and unit headers dropped).
fn objects(stream: &str) -> Vec<Value> {
    let docs = driftlint_yaml::parse_documents("stream".into(), stream).expect("yaml");
    docs.iter()
        .filter(|d| !d.is_null())
        .map(driftlint_yaml::Node::to_json)
        .collect()
}

#[test]
fn kustomize_renders_agree_with_kubectl_kustomize() {
    let Some(dir) = copy(Mapping::GitOrigin) else {
        return;
    };
    let expected =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/argocd-homelab.expected");
    for (name, path) in [
        ("apps-tools", "k8s/applications/tools"),
        ("apps-network", "k8s/applications/network"),
        ("apps-external", "k8s/applications/external"),
        ("apps-automation", "k8s/applications/automation"),
        ("proxmox", "k8s/applications/external/proxmox"),
    ] {
        let unit = format!("{path} (Application argocd/{name})");
        let (code, stdout, stderr) = build(dir.path(), &["--unit", &unit]);
        assert_eq!(code, 0, "{unit}: {stderr}");
        let want =
            std::fs::read_to_string(expected.join(format!("{name}.yaml"))).expect("expected");
        let (ours, theirs) = (objects(&stdout), objects(&want));
        assert!(!theirs.is_empty(), "{name}");
        assert_eq!(ours.len(), theirs.len(), "{name}");
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a, b, "{name}: objects differ (in order)");
        }
    }
}
