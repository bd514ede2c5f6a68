//! `driftlint drift` against a real kube-apiserver v1.36.2 + etcd, started once for this test
//! binary by `scripts/real-cluster.sh` (certificates, tokens `admin`, `reader` with get/list/
//! watch everywhere and `nobody` without rights). Each test works in its own fresh namespaces
//! (nothing is ever deleted: without kube-controller-manager a deleted namespace stays
//! `Terminating`). Objects are applied server-side with `kubectl` as kustomize-controller or as
//! Helm would apply them, then drift is injected with `kubectl` as people do.
//!
//! Needs `etcd` (Debian package `etcd-server`), `kubectl`, `openssl`, `curl` and the shared
//! kube-apiserver archive; a missing one FAILS the suite. `DRIFTLINT_SKIP_REAL_CLUSTER=1` skips
//! it (loudly). The fake API server (`cli_drift.rs`) keeps the faults a real server cannot make.
#![cfg(feature = "cluster")]

#[path = "common/drift_report.rs"]
mod drift_report;

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use drift_report::{findings, triple};
use serde_json::Value;

/// A running etcd + kube-apiserver: the directory of its kubeconfigs and PID files.
struct Cluster {
    dir: PathBuf,
}

impl Cluster {
    /// Starts one with `scripts/real-cluster.sh up`; the script's watchdog stops it and removes
    /// its directory when this test process exits.
    fn start(name: &str) -> Cluster {
        let dir = std::env::temp_dir().join(format!("driftlint-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/real-cluster.sh");
        let out = Process::new(script)
            .arg("up")
            .arg(&dir)
            .args(["--owner", &std::process::id().to_string()])
            .stdin(Stdio::null())
            .output()
            .expect("run scripts/real-cluster.sh");
        assert!(
            out.status.success(),
            "the real API server did not start (set DRIFTLINT_SKIP_REAL_CLUSTER=1 to skip this \
             suite):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Cluster { dir }
    }

    fn kubeconfig(&self, user: &str) -> PathBuf {
        self.dir.join(format!("{user}.kubeconfig"))
    }

    fn pid(&self) -> String {
        std::fs::read_to_string(self.dir.join("apiserver.pid"))
            .unwrap()
            .trim()
            .to_string()
    }

    /// `kubectl` as admin; panics with its stderr when it fails.
    fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> String {
        kubectl(&self.kubeconfig("admin"), args, stdin)
    }

    fn stop(&self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/real-cluster.sh");
        let _ = Process::new(script).arg("down").arg(&self.dir).status();
    }
}

fn kubectl(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Process::new(std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into()))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl is on PATH (or set KUBECTL)");
    let input = stdin.unwrap_or_default().to_string();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = pipe.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Flux's Kustomization kind, as far as the API server needs it (the real CRD's schema is
/// not needed for drift: the objects are only stored and read back), and its namespace.
const FLUX: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: kustomizations.kustomize.toolkit.fluxcd.io
spec:
  group: kustomize.toolkit.fluxcd.io
  names: {kind: Kustomization, listKind: KustomizationList, plural: kustomizations, singular: kustomization, shortNames: [ks]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: v1
kind: Namespace
metadata:
  name: flux-system
";

/// The suite's shared server; `None` (after a loud message) when skipped on purpose.
fn cluster() -> Option<&'static Cluster> {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    if std::env::var("DRIFTLINT_SKIP_REAL_CLUSTER").is_ok_and(|v| v == "1") {
        // Written to stderr itself, not through `eprintln!`, which the test harness captures.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the real-cluster drift suite (DRIFTLINT_SKIP_REAL_CLUSTER=1); it runs in .ci/run"
        );
        return None;
    }
    Some(CLUSTER.get_or_init(|| {
        let c = Cluster::start("real");
        c.kubectl(&["apply", "--server-side", "-f", "-"], Some(FLUX));
        c.kubectl(
            &[
                "wait",
                "--for=condition=Established",
                "crd/kustomizations.kustomize.toolkit.fluxcd.io",
            ],
            None,
        );
        c
    }))
}

/// A namespace no other test (or earlier run against the same server) uses.
fn fresh_namespace(test: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{test}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// The Flux-style repository: `apps/app.yaml` (Namespace, Deployment and Service `web`,
/// ConfigMaps `settings` and `flags`), all labelled `team: shop` on their metadata.
const APP: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: NS
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: NS
  labels:
    team: shop
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
        resources:
          limits:
            memory: 128Mi
            cpu: 500m
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: NS
  labels:
    team: shop
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: NS
  labels:
    team: shop
data:
  LOG_LEVEL: info
  MODE: prod
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: flags
  namespace: NS
  labels:
    team: shop
data:
  CHECKOUT: \"true\"
";

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The Flux Kustomization `flux-system/NS` that deploys `./apps` from the bootstrap source.
const UNIT: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: NS
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
";

/// A Flux repository: `clusters/real/apps.yaml` (the Kustomization unit `flux-system/NS`)
/// deploying `apps/app.yaml` (namespace `NS`).
fn flux_repo(ns: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    write(dir.path(), "apps/app.yaml", &APP.replace("NS", ns));
    write(
        dir.path(),
        "clusters/real/apps.yaml",
        &UNIT.replace("NS", ns),
    );
    dir
}

/// Applies the repository server-side as kustomize-controller does: the unit as the
/// bootstrap Kustomization `flux-system` would, then `apps/` with the unit's
/// `kustomize.toolkit.fluxcd.io/name|namespace` labels added to each object's metadata.
fn apply_as_kustomize_controller(c: &Cluster, repo: &Path, ns: &str) {
    apply_labelled(c, &repo.join("clusters/real"), "flux-system");
    apply_labelled(c, &repo.join("apps"), ns);
}

/// The objects `kubectl ... --local -o json` printed (one JSON document after another) as
/// one `v1 List` (its `-o yaml` leaves out the `---` between documents).
fn as_list(stream: &str) -> String {
    let items: Vec<Value> = serde_json::Deserializer::from_str(stream)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .flat_map(|v| match v["kind"].as_str() {
            Some("List") => v["items"].as_array().cloned().unwrap_or_default(),
            _ => vec![v],
        })
        .collect();
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()
}

fn apply_labelled(c: &Cluster, dir: &Path, unit: &str) {
    let labelled = c.kubectl(
        &[
            "label",
            "--local",
            "-o",
            "json",
            "-f",
            dir.to_str().unwrap(),
            &format!("kustomize.toolkit.fluxcd.io/name={unit}"),
            "kustomize.toolkit.fluxcd.io/namespace=flux-system",
        ],
        None,
    );
    c.kubectl(
        &[
            "apply",
            "--server-side",
            "--field-manager=kustomize-controller",
            "-f",
            "-",
        ],
        Some(&as_list(&labelled)),
    );
}

/// The podinfo chart of the fixtures as a release in namespace `ns`, declared in
/// `.driftlint.yaml`.
fn helm_repo(ns: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    let chart =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/drift-helm/charts/podinfo");
    copy_dir(&chart, &root.join("charts/podinfo"));
    write(
        root,
        ".driftlint.yaml",
        &format!(
            "releases:\n- chart: charts/podinfo\n  name: podinfo\n  namespace: {ns}\n  values: [charts/podinfo/values-prod.yaml]\n  set: [replicaCount=2]\n"
        ),
    );
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

/// Installs the release as Helm 4 does: the rendered chart (`driftlint build`) with Helm's
/// release annotations applied server-side as manager `helm`, and its storage Secret
/// (revision 1). Returns the manifest.
fn apply_as_helm(c: &Cluster, repo: &Path, ns: &str) -> String {
    c.kubectl(&["create", "namespace", ns], None);
    let rendered = Command::cargo_bin("driftlint")
        .unwrap()
        .current_dir(repo)
        .args(["build", "."])
        .output()
        .unwrap();
    assert!(rendered.status.success(), "{rendered:?}");
    // Hooks are not part of a release's manifest: Helm runs them apart.
    let text = String::from_utf8(rendered.stdout).unwrap();
    let manifest = documents(&text)
        .into_iter()
        .filter(|d| !d.contains("helm.sh/hook"))
        .collect::<Vec<_>>()
        .join("---\n");
    let manifests = write_temp(&manifest);
    let annotated = c.kubectl(
        &[
            "annotate",
            "--local",
            "-o",
            "json",
            "-f",
            manifests.path().to_str().unwrap(),
            "meta.helm.sh/release-name=podinfo",
            &format!("meta.helm.sh/release-namespace={ns}"),
        ],
        None,
    );
    c.kubectl(
        &[
            "apply",
            "--server-side",
            "--field-manager=helm",
            "-n",
            ns,
            "-f",
            "-",
        ],
        Some(&as_list(&annotated)),
    );
    c.kubectl(
        &["apply", "-f", "-"],
        Some(&helm_storage_secret(ns, 1, &manifest)),
    );
    manifest
}

/// The non-empty `---`-separated documents of a YAML stream.
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line == "---" {
            docs.push(String::new());
        } else {
            let doc = docs.last_mut().unwrap();
            doc.push_str(line);
            doc.push('\n');
        }
    }
    docs.retain(|d| {
        d.lines()
            .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
    });
    docs
}

fn write_temp(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    std::fs::write(file.path(), text).unwrap();
    file
}

/// Runs `driftlint drift` on `repo` as `user` with `args`; returns its output and run time.
fn drift(c: &Cluster, user: &str, repo: &Path, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::cargo_bin("driftlint")
        .unwrap()
        .current_dir(repo)
        .env("NO_COLOR", "1")
        .args(["drift", ".", "--kubeconfig"])
        .arg(c.kubeconfig(user))
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    (out, started.elapsed())
}

/// `file:line` of the first line (`apiVersion`) of the document of `file` declaring
/// `kind: KIND` and `name: NAME`.
fn object_line(repo: &Path, file: &str, kind: &str, name: &str) -> String {
    let text = std::fs::read_to_string(repo.join(file)).unwrap();
    let mut start = 1;
    let mut doc = Vec::new();
    for (i, line) in text.lines().chain(["---"]).enumerate() {
        if line == "---" {
            let has = |l: &str| doc.iter().any(|d: &&str| d.trim() == l);
            if has(&format!("kind: {kind}")) && has(&format!("name: {name}")) {
                return format!("{file}:{start}");
            }
            doc.clear();
            start = i + 2;
        } else {
            doc.push(line);
        }
    }
    panic!("no {kind} {name} in {file}")
}

/// `file:line` of the first line of `file` in `repo` containing `needle` after the line
/// containing `after` (1-based).
fn line_of(repo: &Path, file: &str, after: &str, needle: &str) -> String {
    let text = std::fs::read_to_string(repo.join(file)).unwrap();
    let start = text.lines().position(|l| l.contains(after)).unwrap();
    let n = text
        .lines()
        .enumerate()
        .skip(start)
        .find(|(_, l)| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} after {after:?} in {file}"))
        .0;
    format!("{file}:{}", n + 1)
}

#[test]
fn zero_drift_after_server_side_apply_as_kustomize_controller() {
    let Some(c) = cluster() else { return };
    let ns = fresh_namespace("flux-clean");
    let repo = flux_repo(&ns);
    apply_as_kustomize_controller(c, repo.path(), &ns);
    for mode in ["server", "read-only"] {
        let (out, _) = drift(
            c,
            "admin",
            repo.path(),
            &["--mode", mode, "--format", "json"],
        );
        assert_eq!(findings(&out), vec![], "mode {mode}");
        assert_eq!(out.status.code(), Some(0), "mode {mode}");
    }
}

#[test]
fn zero_drift_after_server_side_apply_as_helm() {
    let Some(c) = cluster() else { return };
    let ns = fresh_namespace("helm-clean");
    let repo = helm_repo(&ns);
    apply_as_helm(c, repo.path(), &ns);
    for mode in ["server", "read-only"] {
        let (out, _) = drift(
            c,
            "admin",
            repo.path(),
            &["--mode", mode, "--format", "json"],
        );
        assert_eq!(
            findings(&out),
            vec![],
            "mode {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "mode {mode}");
    }
}

/// Scales `web`, changes its image, deletes ConfigMap `flags`, leaves behind a Secret
/// `legacy` the unit once applied (a kind the repository no longer declares at all) and
/// removes `data.MODE` of ConfigMap `settings` from the repository; returns the findings
/// expected for them.
fn inject_drift(c: &Cluster, repo: &Path, ns: &str) -> Vec<(String, String, String)> {
    let n = ["-n", ns];
    c.kubectl(
        &[&n[..], &["scale", "deployment/web", "--replicas=7"]].concat(),
        None,
    );
    c.kubectl(
        &[
            &n[..],
            &["set", "image", "deployment/web", "web=nginx:1.28"],
        ]
        .concat(),
        None,
    );
    c.kubectl(&[&n[..], &["delete", "configmap", "flags"]].concat(), None);
    let legacy = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: legacy\n  namespace: {ns}\n  labels:\n    kustomize.toolkit.fluxcd.io/name: {ns}\n    kustomize.toolkit.fluxcd.io/namespace: flux-system\nstringData:\n  token: s3cr3t-value\n"
    );
    c.kubectl(
        &[
            "apply",
            "--server-side",
            "--field-manager=kustomize-controller",
            "-f",
            "-",
        ],
        Some(&legacy),
    );
    // Removed from the repository after it was applied: kustomize-controller would delete it.
    let f = "apps/app.yaml";
    let text = std::fs::read_to_string(repo.join(f)).unwrap();
    std::fs::write(repo.join(f), text.replace("  MODE: prod\n", "")).unwrap();
    let mut v = vec![
        triple(
            "DRIFT001",
            line_of(repo, f, "name: settings", "data:"),
            "data.MODE",
        ),
        triple(
            "DRIFT001",
            line_of(repo, f, "kind: Deployment", "replicas: 3"),
            "spec.replicas",
        ),
        triple(
            "DRIFT001",
            line_of(repo, f, "kind: Deployment", "image: nginx:1.27"),
            "spec.template.spec.containers[name=web].image",
        ),
        triple("DRIFT002", object_line(repo, f, "ConfigMap", "flags"), ""),
        // At the Flux Kustomization that deployed it.
        triple(
            "DRIFT003",
            object_line(repo, "clusters/real/apps.yaml", "Kustomization", ns),
            "",
        ),
    ];
    v.sort();
    v
}

#[test]
fn injected_drift_is_found_at_its_source_lines_in_both_modes() {
    let Some(c) = cluster() else { return };
    let ns = fresh_namespace("flux-drift");
    let repo = flux_repo(&ns);
    apply_as_kustomize_controller(c, repo.path(), &ns);
    let expected = inject_drift(c, repo.path(), &ns);
    for mode in ["server", "read-only"] {
        let args = ["--mode", mode, "--format", "json"];
        let (out, _) = drift(c, "admin", repo.path(), &args);
        assert_eq!(findings(&out), expected, "mode {mode}");
        assert_eq!(out.status.code(), Some(1), "mode {mode}");
    }
}

#[test]
fn the_reader_is_compared_read_only_and_nobody_ends_fast_with_exit_2() {
    let Some(c) = cluster() else { return };
    let ns = fresh_namespace("rbac");
    let repo = flux_repo(&ns);
    apply_as_kustomize_controller(c, repo.path(), &ns);
    let expected = inject_drift(c, repo.path(), &ns);
    let args = ["--format", "json"];
    let (out, _) = drift(c, "reader", repo.path(), &args);
    let got = findings(&out);
    let without_warning: Vec<_> = got.iter().filter(|f| f.0 != "DRIFT006").cloned().collect();
    assert_eq!(without_warning, expected);
    assert!(got.iter().any(|f| f.0 == "DRIFT006"), "{got:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("forbidden"), "{stderr}");

    let (out, took) = drift(c, "nobody", repo.path(), &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(findings(&out).iter().all(|f| f.0 == "DRIFT005"));
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn sarif_fingerprints_are_stable_over_two_runs() {
    let Some(c) = cluster() else { return };
    let ns = fresh_namespace("sarif");
    let repo = flux_repo(&ns);
    apply_as_kustomize_controller(c, repo.path(), &ns);
    inject_drift(c, repo.path(), &ns);
    let args = ["--format", "sarif"];
    let (a, _) = drift(c, "admin", repo.path(), &args);
    // Another night: the live objects' resourceVersions and managedFields times moved.
    c.kubectl(&["-n", &ns, "annotate", "service/web", "touched=1"], None);
    let (b, _) = drift(c, "admin", repo.path(), &args);
    let prints = |out: &Output| -> Vec<String> {
        let log: Value = serde_json::from_slice(&out.stdout).unwrap();
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"]["driftlintFingerprint/v1"].to_string())
            .collect()
    };
    assert_eq!(prints(&a).len(), 5);
    assert_eq!(prints(&a), prints(&b));
}

/// The `inventory` of every orphan of a JSON report, sorted (`kind name inventory`).
fn orphan_inventories(out: &Output) -> Vec<String> {
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut v: Vec<String> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["inventory"].is_string())
        .map(|o| {
            format!(
                "{} {} {}",
                o["object"]["kind"].as_str().unwrap_or_default(),
                o["object"]["name"].as_str().unwrap_or_default(),
                o["inventory"].as_str().unwrap()
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn orphans_come_from_the_units_status_inventory_else_its_labels_on_every_kind() {
    let Some(c) = cluster() else { return };
    let ns = fresh_namespace("flux-orphan");
    let repo = flux_repo(&ns);
    apply_as_kustomize_controller(c, repo.path(), &ns);
    inject_drift(c, repo.path(), &ns);
    // Not reconciled by Flux (no status.inventory): found by its labels.
    let (out, _) = drift(c, "admin", repo.path(), &["--format", "json"]);
    assert_eq!(
        orphan_inventories(&out),
        vec![format!("Secret legacy flux:flux-system/{ns} (labels)")]
    );
    // Reconciled: kustomize-controller's inventory is what it prunes from. An entry deleted by
    // hand (`flags`) is no orphan; one that lost its labels (`unlabelled`) still is.
    c.kubectl(&["-n", &ns, "create", "serviceaccount", "unlabelled"], None);
    let entries = [
        "web_apps_Deployment",
        "web__Service",
        "settings__ConfigMap",
        "flags__ConfigMap",
        "legacy__Secret",
        "unlabelled__ServiceAccount",
    ]
    .iter()
    .map(|e| format!(r#"{{"id":"{ns}_{e}","v":"v1"}}"#))
    .collect::<Vec<_>>()
    .join(",");
    let status = format!(
        r#"{{"status":{{"inventory":{{"entries":[{{"id":"_{ns}__Namespace","v":"v1"}},{entries}]}}}}}}"#
    );
    c.kubectl(
        &[
            "-n",
            "flux-system",
            "patch",
            "kustomization",
            &ns,
            "--subresource=status",
            "--type=merge",
            "-p",
            &status,
        ],
        None,
    );
    let (out, _) = drift(
        c,
        "reader",
        repo.path(),
        &["--mode", "read-only", "--format", "json"],
    );
    assert_eq!(
        orphan_inventories(&out),
        vec![
            format!("Secret legacy flux:flux-system/{ns} (status.inventory)"),
            format!("ServiceAccount unlabelled flux:flux-system/{ns} (status.inventory)"),
        ]
    );
    let at = object_line(repo.path(), "clusters/real/apps.yaml", "Kustomization", &ns);
    assert!(findings(&out)
        .iter()
        .filter(|f| f.0 == "DRIFT003")
        .all(|f| f.1 == at));
}

/// Helm's storage Secret of revision `version` of release `podinfo` in `ns`, with
/// `manifest`: base64(gzip(release JSON)) in `data.release`, labelled as Helm's Secret driver
/// does.
fn helm_storage_secret(ns: &str, version: u32, manifest: &str) -> String {
    use std::io::Write;
    let release = serde_json::json!({"name": "podinfo", "namespace": ns, "version": version,
        "info": {"status": "deployed"}, "manifest": manifest});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(release.to_string().as_bytes()).unwrap();
    let record = data_encoding::BASE64.encode(&gz.finish().unwrap());
    serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": {"name": format!("sh.helm.release.v1.podinfo.v{version}"), "namespace": ns,
            "labels": {"owner": "helm", "name": "podinfo", "status": "deployed",
                "version": version.to_string()}},
        "stringData": {"release": record}
    })
    .to_string()
}

#[test]
fn a_helm_release_orphan_comes_from_its_storage_secret() {
    let Some(c) = cluster() else { return };
    let ns = fresh_namespace("helm-orphan");
    let repo = helm_repo(&ns);
    let manifest = apply_as_helm(c, repo.path(), &ns);
    // Revision 1 had a ConfigMap the chart no longer renders; Helm left it (a failed upgrade,
    // or the release was rolled forward by hand).
    let legacy =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: podinfo-legacy\ndata:\n  a: b\n";
    let annotated = format!("{legacy}  # as Helm applies it\n").replace(
        "  name: podinfo-legacy\n",
        &format!("  name: podinfo-legacy\n  annotations:\n    meta.helm.sh/release-name: podinfo\n    meta.helm.sh/release-namespace: {ns}\n"),
    );
    c.kubectl(
        &[
            "-n",
            &ns,
            "apply",
            "--server-side",
            "--field-manager=helm",
            "-f",
            "-",
        ],
        Some(&annotated),
    );
    let old = format!("{manifest}---\n{legacy}");
    c.kubectl(
        &["apply", "-f", "-"],
        Some(&helm_storage_secret(&ns, 2, &old)),
    );
    for mode in ["server", "read-only"] {
        let (out, _) = drift(
            c,
            "admin",
            repo.path(),
            &["--mode", mode, "--format", "json"],
        );
        assert_eq!(
            findings(&out),
            vec![triple("DRIFT003", ".driftlint.yaml:2", "")],
            "mode {mode}"
        );
        assert_eq!(
            orphan_inventories(&out),
            vec![format!(
                "ConfigMap podinfo-legacy helm:{ns}/podinfo (release storage v2)"
            )]
        );
    }
}

/// A repository of `n` ConfigMaps in namespace `ns` (a run long enough to stop the server in).
fn many_repo(ns: &str, n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    let mut text = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n");
    for i in 0..n {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:04}\n  namespace: {ns}\ndata:\n  key: value-{i}\n"
        ));
    }
    write(dir.path(), "many/all.yaml", &text);
    dir
}

/// Server-side-apply dry-runs the API server has answered so far (its
/// `apiserver_request_total` metric).
fn dry_runs_answered(c: &Cluster) -> u64 {
    kubectl(&c.kubeconfig("admin"), &["get", "--raw", "/metrics"], None)
        .lines()
        .filter(|l| l.starts_with("apiserver_request_total{") && l.contains("dry_run=\"All\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Starts `driftlint drift` (human report) on `repo`, waits until the server has answered
/// `after` of its dry-runs (so the fault lands mid-run), runs `kill FAULT` on the API server,
/// and returns the output and how long the run lasted after the fault.
fn run_with_fault(
    c: &Cluster,
    repo: &Path,
    args: &[&str],
    after: u64,
    fault: &str,
) -> (Output, Duration) {
    let before = dry_runs_answered(c);
    let mut child = Process::new(assert_cmd::cargo::cargo_bin("driftlint"))
        .current_dir(repo)
        .env("NO_COLOR", "1")
        .args(["drift", ".", "--kubeconfig"])
        .arg(c.kubeconfig("admin"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while dry_runs_answered(c) < before + after {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the fault"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Process::new("kill")
        .args([fault, &c.pid()])
        .status()
        .unwrap();
    assert!(status.success());
    let faulted = Instant::now();
    let out = child.wait_with_output().unwrap();
    (out, faulted.elapsed())
}

#[test]
fn a_frozen_or_killed_api_server_ends_the_run_fast_with_one_line() {
    let Some(_) = cluster() else { return };
    // Its own server: this one is frozen, then killed.
    let c = Cluster::start("fault");
    let repo = many_repo("many", 1000);
    let all = repo.path().join("many/all.yaml");
    c.kubectl(
        &[
            "apply",
            "--server-side",
            "--field-manager=kustomize-controller",
            "-f",
            all.to_str().unwrap(),
        ],
        None,
    );
    let args = ["--timeout", "2", "--concurrency", "1"];

    // Frozen (SIGSTOP): requests get no answer; the run ends within 2x --timeout.
    let (out, took) = run_with_fault(&c, repo.path(), &args, 20, "-STOP");
    let _ = Process::new("kill").args(["-CONT", &c.pid()]).status();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("frozen: {took:?}\n{text}");
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert!(text.contains("timed out after 2 s"), "{text}");
    assert!(text.contains("stopped answering after"), "{text}");
    assert!(
        text.lines().filter(|l| l.contains("query failed")).count() <= 1,
        "{text}"
    );

    // Killed mid-run: refused connections end it at once, in one line with the counts.
    kubectl(
        &c.kubeconfig("admin"),
        &["wait", "--for=create", "namespace/many", "--timeout=60s"],
        None,
    );
    let (out, took) = run_with_fault(&c, repo.path(), &args, 20, "-KILL");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("killed: {took:?}\n{text}");
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(
        text.lines().filter(|l| l.contains("query failed")).count() <= 1,
        "{text}"
    );
    assert!(text.contains("stopped answering after"), "{text}");
    c.stop();
}

/// A validating webhook for ConfigMaps in namespace `ns` that cannot be called (nothing
/// listens on its URL) and must be (`failurePolicy: Fail`): the API server answers 500.
fn broken_webhook(ns: &str) -> String {
    format!(
        "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: broken-{ns}
webhooks:
- name: broken.driftlint.test
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Fail
  timeoutSeconds: 2
  clientConfig:
    url: https://127.0.0.1:1/validate
  namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: {ns}
  rules:
  - apiGroups: ['']
    apiVersions: [v1]
    operations: [CREATE, UPDATE]
    resources: [configmaps]
"
    )
}

#[test]
fn rejected_dry_runs_are_compared_read_only_with_a_warning_not_failed() {
    let Some(c) = cluster() else { return };
    let ns = fresh_namespace("rejected");
    let repo = flux_repo(&ns);
    apply_as_kustomize_controller(c, repo.path(), &ns);
    c.kubectl(&["apply", "-f", "-"], Some(&broken_webhook(&ns)));
    // An immutable field (the Deployment's selector, 422) and a value under the webhook (500).
    let f = "apps/app.yaml";
    let text = std::fs::read_to_string(repo.path().join(f)).unwrap();
    let text = text
        .replace(
            "    matchLabels:\n      app: web\n",
            "    matchLabels:\n      app: web-v2\n",
        )
        .replace(
            "      labels:\n        app: web\n",
            "      labels:\n        app: web-v2\n",
        )
        .replace("LOG_LEVEL: info", "LOG_LEVEL: debug");
    std::fs::write(repo.path().join(f), text).unwrap();
    let r = repo.path();
    let mut expected = vec![
        triple(
            "DRIFT001",
            line_of(r, f, "matchLabels", "app: web-v2"),
            "spec.selector.matchLabels.app",
        ),
        triple(
            "DRIFT001",
            line_of(r, f, "template:", "app: web-v2"),
            "spec.template.metadata.labels.app",
        ),
        triple(
            "DRIFT001",
            line_of(r, f, "name: settings", "LOG_LEVEL"),
            "data.LOG_LEVEL",
        ),
        triple("DRIFT007", object_line(r, f, "Deployment", "web"), ""),
        triple("DRIFT007", object_line(r, f, "ConfigMap", "settings"), ""),
        triple("DRIFT007", object_line(r, f, "ConfigMap", "flags"), ""),
    ];
    expected.sort();
    let (out, _) = drift(c, "admin", repo.path(), &["--format", "json"]);
    assert_eq!(findings(&out), expected);
    assert_eq!(out.status.code(), Some(1), "drift, not a failed query");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("must be deleted and recreated"), "{stderr}");
    assert!(stderr.contains("admission webhook"), "{stderr}");
}

#[test]
fn a_removed_field_is_drift_as_the_applier_not_as_another_manager() {
    let Some(c) = cluster() else { return };
    let ns = fresh_namespace("removed");
    let repo = flux_repo(&ns);
    apply_as_kustomize_controller(c, repo.path(), &ns);
    let f = "apps/app.yaml";
    let text = std::fs::read_to_string(repo.path().join(f)).unwrap();
    std::fs::write(repo.path().join(f), text.replace("  MODE: prod\n", "")).unwrap();
    let removed = vec![triple(
        "DRIFT001",
        line_of(repo.path(), f, "name: settings", "data:"),
        "data.MODE",
    )];
    // auto: as kustomize-controller, which applied it and would delete it.
    let (out, _) = drift(c, "admin", repo.path(), &["--format", "json"]);
    assert_eq!(findings(&out), removed);
    let (out, _) = drift(
        c,
        "reader",
        repo.path(),
        &["--mode", "read-only", "--format", "json"],
    );
    assert_eq!(findings(&out), removed);
    // As another manager, the field stays (kubectl diff --server-side's view).
    let args = ["--format", "json", "--field-manager", "driftlint"];
    let (out, _) = drift(c, "admin", repo.path(), &args);
    assert_eq!(findings(&out), vec![]);
    let (out, _) = drift(c, "admin", repo.path(), &["--field-manager", ""]);
    assert_eq!(out.status.code(), Some(2));
}
