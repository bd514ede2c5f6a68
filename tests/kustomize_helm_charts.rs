//! `helmCharts`/`helmGlobals` rendered by the native Helm engine (the Kustomize engine with
//! [`NativeHelm`]), compared byte for byte with kustomize v5.7.1.
//!
//! Every `tests/fixtures/kustomize-helm/CASE/expected.yaml` was made from inside
//! `tests/fixtures/kustomize-helm` with the reference tools of
//! `../shared/tools/install-reference-tools`:
//! `kubectl kustomize --enable-helm --helm-command helm3 CASE > CASE/expected.yaml`
//! (kubectl v1.35.2 with kustomize v5.7.1; helm v3.18.0, since kustomize v5.7.1 refuses
//! Helm 4). The `missing-*` cases fail there (`missing-pull`: kustomize tries `helm pull`;
//! `missing-local`: `no repo specified for pull, no chart found at ''`). `generator` is a
//! `generators:` entry of kind HelmChartInflationGenerator. `pulled` names a chart kustomize
//! would `helm pull`: driftlint reads it from a chart cache filled here (nothing is
//! downloaded); its expected output is kustomize's with the chart unpacked where `helm pull`
//! puts it (`pulled/regen.sh`).

use std::path::Path;

use driftlint::kustomize_helm::NativeHelm;
use driftlint_charts::{ChartCache, ChartLocator};
use driftlint_kustomize::{
    build, render_yaml, BuildOptions, ErrorKind, HelmRenderer, KustomizeError,
};
use driftlint_schema::Catalog;
use driftlint_yaml::fs::RepoFs;

fn fixtures() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/kustomize-helm"
    ))
}

fn run(case: &str, helm: bool) -> Result<String, KustomizeError> {
    run_with(case, helm, NativeHelm::default())
}

fn run_with(case: &str, helm: bool, native: NativeHelm) -> Result<String, KustomizeError> {
    let fs = RepoFs::new(fixtures()).expect("fixture root");
    let catalog = Catalog::newest().expect("catalog");
    let opts = BuildOptions {
        merge_info: Some(&catalog),
        helm: helm.then_some(&native as &dyn HelmRenderer),
        ..BuildOptions::default()
    };
    build(&fs, Path::new(case), &opts).map(|b| render_yaml(&b.objects))
}

fn expected(case: &str) -> String {
    std::fs::read_to_string(fixtures().join(case).join("expected.yaml")).expect("expected.yaml")
}

/// valuesInline (override) + additionalValuesFiles, namespace, includeCRDs, skipTests,
/// apiVersions, kubeVersion, under a namePrefix.
#[test]
fn override_values_and_flags_match_kustomize() {
    assert_eq!(run("override", true).expect("builds"), expected("override"));
}

/// valuesMerge: merge, a versioned chart home (`NAME-VERSION/NAME` with repo and version),
/// nameTemplate, skipHooks.
#[test]
fn merge_values_versioned_home_and_name_template_match_kustomize() {
    assert_eq!(run("merge", true).expect("builds"), expected("merge"));
}

/// valuesMerge: replace with an explicit valuesFile (ignored: inline values only).
#[test]
fn replace_values_match_kustomize() {
    assert_eq!(run("replace", true).expect("builds"), expected("replace"));
}

/// A `generators:` entry of kind HelmChartInflationGenerator (unknown fields ignored, as
/// kustomize reads plugin configs) beside a configMapGenerator.
#[test]
fn helm_chart_inflation_generator_entry_matches_kustomize() {
    assert_eq!(
        run("generator", true).expect("builds"),
        expected("generator")
    );
}

#[test]
fn a_chart_kustomize_would_pull_and_the_cache_lacks_is_not_available() {
    let e = run("missing-pull", true).expect_err("not available");
    assert!(matches!(e.kind, ErrorKind::ChartNotAvailable { .. }), "{e}");
    let e = e.to_string();
    assert!(
        e.starts_with("chart not available: app version \"9.9.9\" from https://charts.example.invalid is not in the chart cache; `driftlint charts pull` fetches it"),
        "{e}"
    );
    assert!(e.ends_with("(missing-pull/kustomization.yaml:2)"), "{e}");
}

/// A cache holding podinfo 6.14.1 (the archive `tests/fixtures/chart-repo/make.sh` packs
/// from the corpus chart) for the `pulled` case's repository.
fn podinfo_cache() -> (tempfile::TempDir, ChartCache) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = ChartCache::new(dir.path().to_path_buf());
    let loc = ChartLocator::http("https://charts.example.org/podinfo", "podinfo").expect("url");
    let archive = std::fs::read(fixtures().join("../chart-repo/podinfo-6.14.1.tgz"))
        .expect("tests/fixtures/chart-repo/podinfo-6.14.1.tgz");
    cache
        .store_archive(&loc, "6.14.1", &archive, None)
        .expect("stored");
    (dir, cache)
}

#[test]
fn a_pulled_chart_renders_from_the_cache_as_kustomize_renders_it_vendored() {
    let (_dir, cache) = podinfo_cache();
    let out = run_with("pulled", true, NativeHelm::new(Some(cache))).expect("builds");
    assert_eq!(out, expected("pulled"));
}

#[test]
fn a_pulled_chart_of_another_version_is_not_available() {
    let (_dir, cache) = podinfo_cache();
    let e = run_with("missing-pull", true, NativeHelm::new(Some(cache))).expect_err("missing");
    assert!(matches!(e.kind, ErrorKind::ChartNotAvailable { .. }), "{e}");
}

#[test]
fn missing_local_chart_is_kustomizes_error() {
    let e = run("missing-local", true).expect_err("fails").to_string();
    assert!(
        e.contains("no repo specified for pull, no chart found at ''"),
        "{e}"
    );
}

#[test]
fn without_a_renderer_helm_charts_are_unsupported() {
    let e = run("override", false).expect_err("refused").to_string();
    assert!(e.starts_with("unsupported: helmCharts"), "{e}");
    assert!(e.ends_with("(override/kustomization.yaml:5)"), "{e}");
}

/// `check` on a repository holding only the `pulled` case, with `cache` as its chart cache.
fn check_pulled(cache: &Path) -> (i32, serde_json::Value) {
    let repo = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        fixtures().join("pulled/kustomization.yaml"),
        repo.path().join("kustomization.yaml"),
    )
    .expect("copied");
    let out = assert_cmd::Command::cargo_bin("driftlint")
        .expect("binary")
        .args(["check", "--format", "json", "--cache-dir"])
        .arg(cache)
        .arg(repo.path())
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let report = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (out.status.code().unwrap_or(-1), report)
}

fn codes(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn check_reads_pulled_charts_from_the_cache_and_warns_when_it_lacks_them() {
    let empty = tempfile::tempdir().expect("temp dir");
    let (code, report) = check_pulled(empty.path());
    assert_eq!(codes(&report), ["CHART001"], "{report:#}");
    assert_eq!(code, 0, "a chart not available is a warning");
    assert_eq!(report["summary"]["chartsNotAvailable"], 1);
    let f = &report["findings"][0];
    assert_eq!(f["location"]["line"], 3, "{f:#}");

    let (dir, _cache) = podinfo_cache();
    let (_, report) = check_pulled(dir.path());
    assert!(
        !codes(&report).contains(&"CHART001".to_string()),
        "{report:#}"
    );
    assert_eq!(report["summary"]["chartsNotAvailable"], 0);
    // The chart's objects are linted: podinfo's Deployment is checked (PIN/REL rules fire on
    // it or not, but the target rendered its objects).
    assert_eq!(report["summary"]["targetsFailed"], 0, "{report:#}");
}
