//! Flux HelmReleases rendered as apply units (`src/helmrelease.rs`), from a chart cache filled
//! here with `ChartCache::store_archive` (nothing is downloaded).
//!
//! The differential test: `tests/fixtures/helmreleases.expected/*.yaml` were made once with the
//! reference tools by `tests/fixtures/helmreleases.expected/regen.sh` (helm v4.1.4, kubectl
//! v1.35 with kustomize v5.7) from the committed chart `tests/fixtures/helmreleases-charts/
//! podinfo-6.14.1.tgz` (`helm package` of the corpus podinfo chart). A HelmRelease maps to
//! `helm template` flags as helm-controller installs it:
//!
//! - `RELEASE` = `spec.releaseName`, else `[spec.targetNamespace-]metadata.name` (shortened
//!   with a hash past 53 characters); `-n` = `spec.targetNamespace`, else the HelmRelease's
//!   namespace; `--kube-version` = the checked Kubernetes version (`v1.33.0` here);
//! - `--include-crds` unless `spec.install.crds: Skip`; `--skip-tests` unless
//!   `spec.test.enable`;
//! - values: each `valuesFrom` entry in order as a `-f` file holding the ConfigMap key's text,
//!   an entry with `targetPath` as `--set targetPath=value`, then `spec.values` as a last
//!   `-f` file (the fixture keeps `--set` keys out of the files, so Helm's order — files,
//!   then `--set` — gives Flux's);
//! - the chart: the cached version `spec.chart.spec.version` (or the `OCIRepository`'s
//!   `ref.semver`) selects.
//!
//! Then each `postRenderers[].kustomize` is a kustomization with the Helm output as its only
//! resource plus the post-renderer's `patches` and `images` (`kubectl kustomize`), and
//! helm-controller's origin labels are a kustomize `labels:` transformer with
//! `sortOptions: fifo` (input order kept).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use driftlint_charts::{ChartCache, ChartLocator};
use serde_json::Value;

fn driftlint() -> Command {
    Command::cargo_bin("driftlint").expect("binary")
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/helmreleases")
}

fn podinfo_archive() -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/helmreleases-charts/podinfo-6.14.1.tgz");
    std::fs::read(p).unwrap()
}

/// A cache holding podinfo 6.14.1 under the fixture's HTTP repository and OCI registry, each
/// also offering versions that are not pulled (a range must pick the pulled one).
fn filled_cache() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let cache = ChartCache::new(dir.path());
    let http = ChartLocator::http("https://stefanprodan.github.io/podinfo", "podinfo").unwrap();
    let oci = ChartLocator::oci("oci://ghcr.io/stefanprodan/charts", "podinfo").unwrap();
    let offered = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    cache
        .record_versions(&http, &offered(&["6.13.0", "5.2.1", "7.0.0-rc.1"]))
        .unwrap();
    cache
        .record_versions(&oci, &offered(&["6.0.0", "6.13.0"]))
        .unwrap();
    for loc in [&http, &oci] {
        cache
            .store_archive(loc, "6.14.1", &podinfo_archive(), None)
            .unwrap();
    }
    dir
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = driftlint().args(args).output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn build(cache: &Path, unit: &str) -> (i32, String, String) {
    let (root, cache) = (fixture(), cache.to_string_lossy().into_owned());
    run(&[
        "build",
        root.to_str().unwrap(),
        "--cache-dir",
        &cache,
        "--unit",
        unit,
    ])
}

/// The objects of a `driftlint build` stream, without the unit headers.
fn objects_of(stream: &str) -> String {
    stream
        .lines()
        .filter(|l| !l.starts_with("# "))
        .collect::<Vec<_>>()
        .join("\n")
        .trim_start_matches("---\n")
        .to_string()
        + "\n"
}

fn expected(name: &str) -> String {
    std::fs::read_to_string(
        fixture()
            .with_extension("expected")
            .join(format!("{name}.yaml")),
    )
    .unwrap()
}

#[test]
fn every_release_renders_byte_for_byte_as_helm_template_then_its_post_renderers() {
    let cache = filled_cache();
    for name in ["web", "api", "front"] {
        let (code, out, err) = build(cache.path(), &format!("apps/{name}"));
        assert_eq!(code, 0, "{name}: {err}");
        let header = format!("---\n# Unit: apps (HelmRelease apps/{name}) (helm-release)\n");
        assert!(out.starts_with(&header), "{out}");
        assert_eq!(objects_of(&out), expected(name), "{name}");
    }
}

fn check_json(cache: &Path) -> (i32, Value) {
    let (root, cache) = (fixture(), cache.to_string_lossy().into_owned());
    let (code, out, err) = run(&[
        "check",
        root.to_str().unwrap(),
        "--cache-dir",
        &cache,
        "--format",
        "json",
    ]);
    let report = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, report)
}

fn findings<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

#[test]
fn a_chart_missing_from_the_cache_is_one_warning_per_release() {
    let empty = tempfile::tempdir().unwrap();
    let (code, report) = check_json(empty.path());
    let missing = findings(&report, "CHART001");
    assert_eq!(missing.len(), 4, "{report:#}");
    assert!(missing.iter().all(|f| f["severity"] == "warning"));
    let web = missing
        .iter()
        .find(|f| f["target"] == "apps (HelmRelease apps/web)")
        .unwrap();
    let msg = web["message"].as_str().unwrap();
    assert!(
        msg.contains("podinfo version \"6.x\" from https://stefanprodan.github.io/podinfo"),
        "{msg}"
    );
    assert!(msg.contains("`driftlint charts pull`"), "{msg}");
    assert_eq!(web["location"]["file"], "apps/releases.yaml");
    assert_eq!(web["location"]["line"], 10);
    assert!(report["summary"]["warnings"].as_u64().unwrap() >= 4);
    assert_eq!(code, 0, "{report:#}");

    let cache = filled_cache();
    let (_, report) = check_json(cache.path());
    let missing = findings(&report, "CHART001");
    assert_eq!(missing.len(), 1, "{report:#}");
    assert_eq!(missing[0]["target"], "apps (HelmRelease apps/cache)");
    assert!(missing[0]["message"]
        .as_str()
        .unwrap()
        .contains("redis version \"19.x\""));
}

fn finding<'a>(report: &'a Value, code: &str, target: &str) -> Vec<&'a Value> {
    findings(report, code)
        .into_iter()
        .filter(|f| f["target"] == target)
        .collect()
}

fn at(f: &Value) -> (String, u64) {
    (
        f["location"]["file"].as_str().unwrap().to_string(),
        f["location"]["line"].as_u64().unwrap(),
    )
}

#[test]
fn findings_point_at_the_line_to_edit() {
    let cache = filled_cache();
    let (_, report) = check_json(cache.path());
    let file = "apps/releases.yaml".to_string();
    // `spec.values` image.tag: latest -> that line of the HelmRelease.
    let latest = finding(&report, "PIN001", "apps (HelmRelease apps/api)");
    assert_eq!(latest.len(), 1, "{report:#}");
    assert_eq!(at(latest[0]), (file.clone(), 65));
    // A post-renderer's image tag -> the `newTag:` line of the post-renderer.
    let web = finding(&report, "PIN004", "apps (HelmRelease apps/web)");
    assert_eq!(web.len(), 1, "{report:#}");
    assert_eq!(at(web[0]), (file.clone(), 41));
    // A value of the chart's own values.yaml -> the HelmRelease's chart line, the chart's
    // file and line named in `via`.
    let front = finding(&report, "PIN004", "apps (HelmRelease apps/front)");
    assert_eq!(front.len(), 2, "{report:#}");
    for f in front {
        assert_eq!(at(f), (file.clone(), 76), "the chartRef");
        let via = f["location"]["via"].as_str().unwrap();
        assert!(
            via.starts_with(
                "the chart's oci://ghcr.io/stefanprodan/charts/podinfo 6.14.1/values.yaml:"
            ),
            "{via}"
        );
        assert!(
            via.contains("HelmRelease apps/front; not editable here"),
            "{via}"
        );
    }
    // A value from the `valuesFrom` ConfigMap -> the ConfigMap's file (its `values.yaml` key).
    let secret = finding(&report, "SEC002", "apps (HelmRelease apps/web)");
    assert_eq!(secret.len(), 1, "{report:#}");
    assert_eq!(at(secret[0]).0, "apps/values.yaml");
}

fn crds_fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/helmrelease-crds")
}

/// `tests/fixtures/helmrelease-crds`: Flux Kustomization `infra` (`wait: true`) applies HelmRelease `widgets`
/// (a chart of this repository whose `crds/` define `Widget`) and a `Widget`; `configs`
/// (dependsOn infra, wait) applies another `Widget`; HelmRelease `widgets-ui` (same chart,
/// `install.crds: Skip`) dependsOn `widgets`.
#[test]
fn a_custom_resource_next_to_the_helmrelease_installing_its_crd_is_crd003() {
    let root = crds_fixture();
    let (code, out, err) = run(&["check", root.to_str().unwrap(), "--format", "json"]);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let all = report["findings"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{report:#}");
    let f = &all[0];
    assert_eq!(f["code"], "CRD003");
    assert_eq!(at(f), ("infra/widget.yaml".to_string(), 2));
    assert_eq!(f["target"], "infra (Kustomization flux-system/infra)");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("HelmRelease widgets/widgets, whose chart installs its CRD (charts/widgets/crds/widgets.yaml:1)"), "{msg}");
    assert_eq!(code, 1);
}

#[test]
fn helmrelease_units_have_their_dependson_edges_and_crds_in_the_graph() {
    let root = crds_fixture();
    let (code, out, err) = run(&["graph", root.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let graph: Value = serde_json::from_str(&out).unwrap();
    let nodes = graph["nodes"].as_array().unwrap();
    let index = |id: &str| nodes.iter().position(|n| n["id"] == id).unwrap();
    let (infra, widgets, ui) = (
        index("infra (Kustomization flux-system/infra)"),
        index("infra (HelmRelease widgets/widgets)"),
        index("infra (HelmRelease widgets/widgets-ui)"),
    );
    assert_eq!(nodes[widgets]["kind"], "helm-release");
    assert_eq!(
        nodes[widgets]["crds"],
        serde_json::json!(["example.com/Widget"])
    );
    assert_eq!(
        nodes[ui]["crds"],
        serde_json::json!([]),
        "install.crds: Skip"
    );
    let edges = graph["edges"].as_array().unwrap();
    let has = |from: usize, to: usize, kind: &str| {
        edges
            .iter()
            .any(|e| e["from"] == from && e["to"] == to && e["kind"] == kind)
    };
    assert!(has(infra, widgets, "applies"), "{graph:#}");
    assert!(has(widgets, ui, "dependsOn"), "{graph:#}");
}

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flux2-kustomize-helm-example")
}

/// A cache holding the corpus podinfo chart where the example's HelmRepository points.
fn example_cache() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let http = ChartLocator::http("https://stefanprodan.github.io/podinfo", "podinfo").unwrap();
    ChartCache::new(dir.path())
        .store_archive(&http, "6.14.1", &podinfo_archive(), None)
        .unwrap();
    dir
}

/// `tests/fixtures/flux2-kustomize-helm-example` (a verbatim copy of the example's staging
/// apps): the podinfo HelmRelease, patched per cluster by `apps/staging/podinfo-values.yaml`,
/// renders inside Flux Kustomization `apps` and its values point at the lines that set them.
#[test]
fn the_flux_example_podinfo_release_points_at_podinfo_values_lines() {
    let cache = example_cache();
    let opts = driftlint::check::CheckOptions {
        paths: vec![example()],
        cache_dir: Some(cache.path().to_path_buf()),
        ..Default::default()
    };
    let repo = driftlint::check::render_repo(&opts).unwrap();
    assert!(repo.findings.is_empty(), "{:?}", repo.findings);
    let (target, objects) = repo
        .targets
        .iter()
        .find(|(t, _)| t.id() == "apps/staging (HelmRelease podinfo/podinfo)")
        .unwrap_or_else(|| {
            panic!(
                "{:?}",
                repo.targets.iter().map(|(t, _)| t.id()).collect::<Vec<_>>()
            )
        });
    assert_eq!(
        target.unit.as_ref().unwrap().parent.as_deref(),
        Some("apps/staging (Kustomization flux-system/apps)")
    );
    let route = objects
        .iter()
        .find(|o| o.str_at(&["kind"]) == Some("HTTPRoute"))
        .unwrap();
    let host = route
        .get_path(&["spec", "hostnames"])
        .unwrap()
        .as_seq()
        .unwrap()[0]
        .clone();
    assert_eq!(host.as_str(), Some("podinfo.staging"));
    assert_eq!(
        &*host.origin.file, "apps/staging/podinfo-values.yaml",
        "{:?}",
        host.origin
    );
    assert_eq!(host.origin.line, 15);

    let root = example();
    let c = cache.path().to_string_lossy().into_owned();
    let (_, out, _) = run(&[
        "check",
        root.to_str().unwrap(),
        "--cache-dir",
        &c,
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_str(&out).unwrap();
    let redis: Vec<&Value> = findings(&report, "PIN004")
        .into_iter()
        .filter(|f| f["message"].as_str().unwrap().contains("redis"))
        .collect();
    assert_eq!(redis.len(), 1, "{report:#}");
    assert_eq!(
        at(redis[0]),
        ("apps/base/podinfo/release.yaml".to_string(), 27)
    );
}

#[test]
fn a_helmrelease_in_a_flux_kustomization_renders_after_its_substitutions() {
    let opts = driftlint::check::CheckOptions {
        paths: vec![crds_fixture()],
        ..Default::default()
    };
    let repo = driftlint::check::render_repo(&opts).unwrap();
    let (_, objects) = repo
        .targets
        .iter()
        .find(|(t, _)| t.id() == "infra (HelmRelease widgets/widgets)")
        .unwrap();
    let config = objects
        .iter()
        .find(|o| o.str_at(&["metadata", "name"]) == Some("widgets-config"))
        .unwrap();
    let replicas = config.get_path(&["data", "replicas"]).unwrap();
    assert_eq!(replicas.as_str(), Some("4"));
    assert_eq!(&*replicas.origin.file, "clusters/prod/units.yaml");
    assert_eq!(replicas.origin.line, 17);
    assert_eq!(
        config.str_at(&["metadata", "labels", "helm.toolkit.fluxcd.io/name"]),
        Some("widgets")
    );
}

#[test]
fn pre_commit_checks_the_release_whose_chart_file_changed() {
    let out = driftlint()
        .current_dir(crds_fixture())
        .args(["check", "--pre-commit", "--format", "json", "--"])
        .arg("charts/widgets/templates/config.yaml")
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let (out, err) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    let ids: Vec<&str> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"infra (HelmRelease widgets/widgets)"),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"infra (HelmRelease widgets/widgets-ui)"),
        "{ids:?}"
    );
    assert!(
        !ids.contains(&"configs (Kustomization flux-system/configs)"),
        "{ids:?}"
    );
    assert_eq!(code, 0, "{report:#}");
}
