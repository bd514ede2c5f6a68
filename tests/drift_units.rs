//! `driftlint drift` over the apply units that are Helm releases: a Flux `HelmRelease` whose
//! chart comes from the chart cache (filled here with `ChartCache::store_archive`, as
//! `tests/helmreleases.rs` does) and a helmfile release of a local chart.
//!
//! The live objects are made by really applying what the repository renders to the fake API
//! server (`fake-apiserver`, server-side apply) as the deployer applies them:
//!
//! - helm-controller (Flux with Helm v4: server-side apply, field manager `helm-controller`)
//!   applies the release's objects with Helm's release metadata (label
//!   `app.kubernetes.io/managed-by: Helm`, annotations `meta.helm.sh/release-name|namespace`)
//!   and its own origin labels `helm.toolkit.fluxcd.io/name|namespace` (which driftlint renders
//!   too), and keeps the release in the storage Secret `sh.helm.release.v1.NAME.v1`;
//!   kustomize-controller applies the folder holding the HelmRelease and its HelmRepository;
//! - helmfile runs `helm upgrade --install`, whose field manager is Helm's default: the base name
//!   of the binary, `helm` (Helm v4 `pkg/kube/client.go` `getManagedFieldsManager`).
//!
//! Then a live value is changed as `kubectl edit` would (the seed JSON edited) and drift must
//! point at the line that sets it.
#![cfg(feature = "cluster")]

#[path = "common/drift_report.rs"]
mod drift_report;
#[path = "common/servers.rs"]
mod servers;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use drift_report::{findings, report, triple};
use driftlint_charts::{ChartCache, ChartLocator};
use fake_apiserver::FakeApiServer;
use serde_json::{json, Value};

const PODINFO_REPO: &str = "https://stefanprodan.github.io/podinfo";

/// The HelmRelease repository: one folder a Flux Kustomization would apply, with the
/// HelmRepository and the HelmRelease (line numbers matter: findings point at them).
const RELEASES: &str = "\
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 1h
  url: https://stefanprodan.github.io/podinfo
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: 6.14.1
      sourceRef:
        kind: HelmRepository
        name: podinfo
  values:
    replicaCount: 2
    image:
      tag: 6.14.1
";

/// `RELEASES` lines the findings point at.
const HR_LINE: &str = "apps/releases.yaml:10";
const CHART_LINE: &str = "apps/releases.yaml:19";
const REPLICAS_LINE: &str = "apps/releases.yaml:25";
const TAG_LINE: &str = "apps/releases.yaml:27";

fn driftlint() -> Command {
    Command::cargo_bin("driftlint").expect("binary")
}

fn podinfo_archive() -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/chart-repo/podinfo-6.14.1.tgz");
    std::fs::read(p).unwrap()
}

/// A chart cache holding podinfo 6.14.1 of the HelmRepository's URL.
fn filled_cache() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let cache = ChartCache::new(dir.path());
    let loc = ChartLocator::http(PODINFO_REPO, "podinfo").unwrap();
    cache
        .record_versions(&loc, &["6.14.1".to_string()])
        .unwrap();
    cache
        .store_archive(&loc, "6.14.1", &podinfo_archive(), None)
        .unwrap();
    dir
}

fn helm_release_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::create_dir_all(dir.path().join("apps")).unwrap();
    std::fs::write(dir.path().join("apps/releases.yaml"), RELEASES).unwrap();
    dir
}

/// Runs `driftlint drift` on `repo` against `srv` with `args`.
fn drift(srv: &FakeApiServer, repo: &Path, args: &[&str]) -> Output {
    let kubeconfig = repo.join("kubeconfig");
    srv.write_kubeconfig(&kubeconfig, "lab").unwrap();
    driftlint()
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

/// The objects `driftlint build --unit UNIT` prints, as JSON.
fn built(repo: &Path, cache: Option<&Path>, unit: &str) -> Vec<Value> {
    let mut cmd = driftlint();
    cmd.current_dir(repo).args(["build", ".", "--unit", unit]);
    if let Some(c) = cache {
        cmd.arg("--cache-dir").arg(c);
    }
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    yaml_objects(&String::from_utf8_lossy(&out.stdout))
}

fn yaml_objects(text: &str) -> Vec<Value> {
    driftlint_yaml::parse_documents("built.yaml".into(), text)
        .unwrap()
        .iter()
        .filter(|d| d.as_map().is_some_and(|m| !m.is_empty()))
        .map(|d| d.to_json())
        .collect()
}

/// The REST path of an object (plural as kubectl guesses it).
fn resource_path(obj: &Value) -> String {
    let api = obj["apiVersion"].as_str().unwrap();
    let kind = obj["kind"].as_str().unwrap().to_ascii_lowercase();
    let plural = match kind.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{kind}s"),
    };
    let base = match api {
        "v1" => "/api/v1".to_string(),
        other => format!("/apis/{other}"),
    };
    let name = obj["metadata"]["name"].as_str().unwrap();
    match obj["metadata"]["namespace"].as_str() {
        Some(ns) => format!("{base}/namespaces/{ns}/{plural}/{name}"),
        None => format!("{base}/{plural}/{name}"),
    }
}

/// A real (not dry-run) server-side apply of `obj` as `manager`, over plain HTTP/1.1.
fn apply(srv: &FakeApiServer, obj: &Value, manager: &str) {
    let body = serde_json::to_vec(obj).unwrap();
    let path = resource_path(obj);
    let mut s = std::net::TcpStream::connect(srv.addr()).unwrap();
    write!(
        s,
        "PATCH {path}?fieldManager={manager}&force=true HTTP/1.1\r\nHost: {}\r\nContent-Type: application/apply-patch+yaml\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        srv.addr(),
        body.len()
    )
    .unwrap();
    s.write_all(&body).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.1 201"),
        "{path}: {answer}"
    );
}

/// Every object the fake server holds under the namespaces given, as `kubectl get -o json`.
fn live_objects(srv: &FakeApiServer, objs: &[Value]) -> Vec<Value> {
    objs.iter()
        .map(|o| {
            let api = o["apiVersion"].as_str().unwrap();
            let (group, version) = api.split_once('/').unwrap_or(("", api));
            let path = resource_path(o);
            let plural = path.rsplit('/').nth(1).unwrap().to_string();
            let key = fake_apiserver::store::ObjKey {
                group: group.into(),
                version: version.into(),
                plural,
                namespace: o["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .into(),
                name: o["metadata"]["name"].as_str().unwrap().into(),
            };
            srv.object(&key)
                .unwrap_or_else(|| panic!("{path} not stored"))
        })
        .collect()
}

/// What Helm adds to every object of a release when it installs it.
fn with_helm_metadata(mut obj: Value, release: &str, namespace: &str) -> Value {
    let meta = obj["metadata"].as_object_mut().unwrap();
    let labels = meta.entry("labels").or_insert_with(|| json!({}));
    labels["app.kubernetes.io/managed-by"] = "Helm".into();
    let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
    annotations["meta.helm.sh/release-name"] = release.into();
    annotations["meta.helm.sh/release-namespace"] = namespace.into();
    if meta.get("namespace").is_none() {
        meta.insert("namespace".into(), namespace.into());
    }
    obj
}

/// Helm's storage Secret of revision 1 of `release`, deployed, whose manifest is `objects`
/// (Helm's encoding: base64 of gzip of the release JSON; the API adds its own base64).
fn storage_secret(release: &str, namespace: &str, objects: &[Value]) -> Value {
    let manifest: Vec<String> = objects
        .iter()
        .map(|o| format!("---\n{}\n", serde_json::to_string(o).unwrap()))
        .collect();
    let record = json!({"name": release, "namespace": namespace, "version": 1,
        "info": {"status": "deployed"}, "manifest": manifest.concat()});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(record.to_string().as_bytes()).unwrap();
    let helm = data_encoding::BASE64.encode(&gz.finish().unwrap());
    let api = data_encoding::BASE64.encode(helm.as_bytes());
    json!({"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": {"name": format!("sh.helm.release.v1.{release}.v1"), "namespace": namespace,
            "labels": {"owner": "helm", "name": release, "status": "deployed", "version": "1"}},
        "data": {"release": api}})
}

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// The live state right after Flux applied the HelmRelease repository: the folder's objects
/// as kustomize-controller applies them, the release's as helm-controller does, its storage
/// Secret listing them plus `extra` (objects an earlier revision rendered, still live).
fn flux_applied(repo: &Path, cache: &Path, extra: &[Value]) -> Vec<Value> {
    let folder = yaml_objects(RELEASES);
    let release: Vec<Value> = built(repo, Some(cache), "apps/podinfo")
        .into_iter()
        .chain(extra.iter().cloned())
        .map(|o| with_helm_metadata(o, "podinfo", "apps"))
        .collect();
    // CRD kinds are served once an object of theirs is seeded.
    let srv = FakeApiServer::builder()
        .object(namespace("apps"))
        .objects(folder.iter().cloned())
        .start()
        .unwrap();
    for o in &folder {
        apply(&srv, o, "kustomize-controller");
    }
    for o in &release {
        apply(&srv, o, "helm-controller");
    }
    let secret = storage_secret("podinfo", "apps", &release);
    apply(&srv, &secret, "helm-controller");
    let mut all = vec![namespace("apps"), secret];
    all.extend(folder);
    all.extend(release);
    live_objects(&srv, &all)
}

fn serve(live: Vec<Value>) -> FakeApiServer {
    FakeApiServer::builder().objects(live).start().unwrap()
}

fn is(o: &Value, kind: &str, name: &str) -> bool {
    o["kind"] == kind && o["metadata"]["name"] == name
}

/// `live` with `edit` applied to the object `kind`/`name`.
fn edited(mut live: Vec<Value>, kind: &str, name: &str, edit: impl Fn(&mut Value)) -> Vec<Value> {
    let o = live.iter_mut().find(|o| is(o, kind, name)).unwrap();
    edit(o);
    live
}

fn drift_with_cache(srv: &FakeApiServer, repo: &Path, cache: &Path, mode: &str) -> Output {
    let cache = cache.to_str().unwrap();
    drift(
        srv,
        repo,
        &["--mode", mode, "--format", "json", "--cache-dir", cache],
    )
}

#[test]
fn a_helm_release_applied_by_helm_controller_has_no_drift_in_both_modes() {
    let (repo, cache) = (helm_release_repo(), filled_cache());
    let srv = serve(flux_applied(repo.path(), cache.path(), &[]));
    for mode in ["server", "read-only"] {
        let out = drift_with_cache(&srv, repo.path(), cache.path(), mode);
        assert_eq!(
            findings(&out),
            vec![],
            "mode {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "mode {mode}");
        let objects = report(&out)["objects"].as_array().unwrap().len();
        assert!(objects >= 4, "the chart's objects are compared: {objects}");
    }
}

#[test]
fn drift_of_a_helm_release_points_at_its_values_or_chart_line() {
    let (repo, cache) = (helm_release_repo(), filled_cache());
    let live = edited(
        flux_applied(repo.path(), cache.path(), &[]),
        "Deployment",
        "podinfo",
        |d| {
            d["spec"]["replicas"] = 5.into();
            let c = &mut d["spec"]["template"]["spec"]["containers"][0];
            c["image"] = "ghcr.io/stefanprodan/podinfo:6.13.0".into();
            c["resources"]["requests"]["cpu"] = "250m".into();
        },
    );
    let srv = serve(live);
    for mode in ["server", "read-only"] {
        let out = drift_with_cache(&srv, repo.path(), cache.path(), mode);
        let containers = "spec.template.spec.containers[name=podinfo]";
        assert_eq!(
            findings(&out),
            vec![
                triple(
                    "DRIFT001",
                    CHART_LINE,
                    &format!("{containers}.resources.requests.cpu")
                ),
                triple("DRIFT001", REPLICAS_LINE, "spec.replicas"),
                triple("DRIFT001", TAG_LINE, &format!("{containers}.image")),
            ],
            "mode {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "mode {mode}");
        // The chart default names the chart's file (not editable here), never read as a
        // repository file.
        let rep = report(&out);
        let cpu = rep["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"].as_str().unwrap_or_default().ends_with(".cpu"))
            .unwrap();
        let text = cpu.to_string();
        assert!(text.contains("podinfo 6.14.1/values.yaml:"), "{text}");
        assert!(text.contains("HelmRelease apps/podinfo"), "{text}");
    }
}

#[test]
fn an_object_the_release_no_longer_renders_is_an_orphan_of_its_helm_release() {
    let (repo, cache) = (helm_release_repo(), filled_cache());
    let legacy = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "podinfo-legacy", "namespace": "apps"},
        "data": {"mode": "old"}});
    let srv = serve(flux_applied(repo.path(), cache.path(), &[legacy]));
    let out = drift_with_cache(&srv, repo.path(), cache.path(), "server");
    assert_eq!(
        findings(&out),
        vec![triple("DRIFT003", HR_LINE, "")],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("podinfo-legacy"), "{text}");
    assert!(text.contains("helm:apps/podinfo"), "{text}");
}

#[test]
fn a_chart_missing_from_the_cache_is_reported_and_every_other_unit_compared() {
    let (repo, cache) = (helm_release_repo(), filled_cache());
    let live = edited(
        flux_applied(repo.path(), cache.path(), &[]),
        "Deployment",
        "podinfo",
        |d| d["spec"]["replicas"] = 5.into(),
    );
    // A second release whose chart version nobody pulled.
    let missing = RELEASES
        .split("---\n")
        .nth(1)
        .unwrap()
        .replace("name: podinfo\n  namespace", "name: other\n  namespace")
        .replace("version: 6.14.1", "version: 9.9.9");
    std::fs::write(repo.path().join("apps/other.yaml"), missing).unwrap();
    let mut live = live;
    let other =
        yaml_objects(&std::fs::read_to_string(repo.path().join("apps/other.yaml")).unwrap());
    live.extend(other);
    let srv = serve(live);
    let out = drift_with_cache(&srv, repo.path(), cache.path(), "server");
    assert_eq!(
        findings(&out),
        vec![
            triple("CHART001", "apps/other.yaml:10", ""),
            triple("DRIFT001", REPLICAS_LINE, "spec.replicas"),
        ],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rep = report(&out);
    let chart = rep["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "CHART001")
        .unwrap();
    let msg = chart["message"].as_str().unwrap();
    assert!(msg.contains("podinfo version \"9.9.9\""), "{msg}");
    assert!(msg.contains("driftlint charts pull"), "{msg}");
    // Drift is found, the missing chart is a warning: exit 1 (not 2, nothing failed to render).
    assert_eq!(out.status.code(), Some(1));
    // Without drift the missing chart alone keeps exit 0 (a warning under `--fail-on error`).
    let (repo2, _) = (helm_release_repo(), ());
    std::fs::write(
        repo2.path().join("apps/other.yaml"),
        std::fs::read_to_string(repo.path().join("apps/other.yaml")).unwrap(),
    )
    .unwrap();
    let mut clean = flux_applied(repo2.path(), cache.path(), &[]);
    clean.extend(yaml_objects(
        &std::fs::read_to_string(repo2.path().join("apps/other.yaml")).unwrap(),
    ));
    let srv = serve(clean);
    let out = drift_with_cache(&srv, repo2.path(), cache.path(), "read-only");
    assert_eq!(
        findings(&out),
        vec![triple("CHART001", "apps/other.yaml:10", "")]
    );
    assert_eq!(out.status.code(), Some(0));
}

/// A helmfile repository: one release of a local chart whose templates set no namespace, with
/// a values file.
fn helmfile_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("charts/web/templates")).unwrap();
    std::fs::create_dir_all(root.join("values")).unwrap();
    let files = [
        (
            "helmfile.yaml",
            "releases:\n- name: web\n  namespace: shop\n  chart: ./charts/web\n  values:\n  - values/web.yaml\n",
        ),
        ("values/web.yaml", "replicas: 3\nimage: nginx:1.27\n"),
        ("charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n"),
        ("charts/web/values.yaml", "replicas: 1\nimage: nginx:latest\npullPolicy: IfNotPresent\nport: 80\n"),
        (
            "charts/web/templates/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    app: {{ .Release.Name }}\nspec:\n  replicas: {{ .Values.replicas }}\n  selector:\n    matchLabels:\n      app: {{ .Release.Name }}\n  template:\n    metadata:\n      labels:\n        app: {{ .Release.Name }}\n    spec:\n      containers:\n      - name: web\n        image: {{ .Values.image }}\n        imagePullPolicy: {{ .Values.pullPolicy }}\n        ports:\n        - containerPort: {{ .Values.port }}\n",
        ),
        (
            "charts/web/templates/service.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  selector:\n    app: {{ .Release.Name }}\n  ports:\n  - port: {{ .Values.port }}\n",
        ),
    ];
    for (path, text) in files {
        std::fs::write(root.join(path), text).unwrap();
    }
    dir
}

/// The live state after `helmfile apply`: the release's objects applied by `helm` (Helm v4:
/// server-side apply, manager `helm`) in the release namespace, with Helm's metadata.
fn helmfile_applied(repo: &Path) -> Vec<Value> {
    let release: Vec<Value> = built(repo, None, "helmfile.yaml (release shop/web)")
        .into_iter()
        .map(|o| with_helm_metadata(o, "web", "shop"))
        .collect();
    assert_eq!(release.len(), 2, "{release:?}");
    let srv = FakeApiServer::builder()
        .object(namespace("shop"))
        .start()
        .unwrap();
    for o in &release {
        apply(&srv, o, "helm");
    }
    let secret = storage_secret("web", "shop", &release);
    apply(&srv, &secret, "helm");
    let mut all = vec![namespace("shop"), secret];
    all.extend(release);
    live_objects(&srv, &all)
}

#[test]
fn a_helmfile_release_applied_by_helm_has_no_drift_then_a_changed_value_is_found() {
    let repo = helmfile_repo();
    let srv = serve(helmfile_applied(repo.path()));
    for mode in ["server", "read-only"] {
        let out = drift(&srv, repo.path(), &["--mode", mode, "--format", "json"]);
        assert_eq!(
            findings(&out),
            vec![],
            "mode {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "mode {mode}");
    }
    let live = edited(helmfile_applied(repo.path()), "Deployment", "web", |d| {
        d["spec"]["replicas"] = 5.into();
        d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "Always".into();
    });
    let srv = serve(live);
    for mode in ["server", "read-only"] {
        let out = drift(&srv, repo.path(), &["--mode", mode, "--format", "json"]);
        let got = findings(&out);
        assert!(
            got.contains(&triple("DRIFT001", "values/web.yaml:1", "spec.replicas")),
            "mode {mode}: {got:?}"
        );
        assert!(
            got.iter().any(|f| f.1 == "charts/web/values.yaml:3"),
            "a chart default points at the chart's values file: {got:?}"
        );
        assert_eq!(out.status.code(), Some(1), "mode {mode}");
    }
}

#[test]
fn a_helmfile_release_orphan_is_found_through_its_helm_storage() {
    let repo = helmfile_repo();
    let mut live = helmfile_applied(repo.path());
    // An earlier revision also rendered a ConfigMap: still live, listed in the storage.
    let old = with_helm_metadata(
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "web-old", "namespace": "shop"}, "data": {"a": "1"}}),
        "web",
        "shop",
    );
    let mut manifest: Vec<Value> = live
        .iter()
        .filter(|o| o["kind"] == "Deployment" || o["kind"] == "Service")
        .cloned()
        .collect();
    manifest.push(old.clone());
    live.retain(|o| o["kind"] != "Secret");
    live.push(storage_secret("web", "shop", &manifest));
    live.push(old);
    let srv = serve(live);
    let out = drift(&srv, repo.path(), &["--format", "json"]);
    assert_eq!(
        findings(&out),
        vec![triple("DRIFT003", "helmfile.yaml:2", "")],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("web-old"));
}

/// `drift --pull-charts` pulls the HelmRelease's chart from a loopback Helm repository
/// (`tests/fixtures/chart-repo`, as `tests/charts_pull.rs` serves it) into an empty cache
/// first, then compares the chart's objects; without it the chart is CHART001.
#[cfg(feature = "pull")]
#[test]
fn drift_pull_charts_pulls_then_compares() {
    let chart_repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/chart-repo");
    let server = servers::FileServer::start(&chart_repo, Default::default());
    let repo = helm_release_repo();
    let text = RELEASES.replace(
        &format!("  url: {PODINFO_REPO}\n"),
        &format!("  url: {}\n  insecure: true\n", server.url()),
    );
    std::fs::write(repo.path().join("apps/releases.yaml"), &text).unwrap();
    std::fs::write(
        repo.path().join(".driftlint.yaml"),
        "charts:\n  allowInsecure: true\n",
    )
    .unwrap();
    // One line more than `RELEASES` above the chart line (`insecure: true`).
    let chart_line = "apps/releases.yaml:20";
    let mut live = vec![namespace("apps")];
    live.extend(yaml_objects(&text));
    let srv = serve(live);
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let args = ["--format", "json", "--cache-dir", cache_dir];
    let out = drift(&srv, repo.path(), &args);
    assert_eq!(
        findings(&out),
        vec![triple("CHART001", chart_line, "")],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pulled = [&args[..], &["--pull-charts", "--allow-private-registries"]].concat();
    let out = drift(&srv, repo.path(), &pulled);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 pulled"), "{err}");
    let got = findings(&out);
    assert!(!got.iter().any(|f| f.0 == "CHART001"), "{got:?}");
    // The chart's objects are compared: absent from the cluster, each is DRIFT002 at the
    // HelmRelease's chart line.
    assert!(
        got.contains(&triple("DRIFT002", chart_line, "")),
        "{got:?}\n{err}"
    );
    let loc = ChartLocator::http(&server.url(), "podinfo").unwrap();
    assert!(ChartCache::new(cache.path())
        .archive(&loc, "6.14.1")
        .unwrap()
        .is_some());
}
