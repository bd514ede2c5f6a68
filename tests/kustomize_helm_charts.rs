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
//! `generators:` entry of kind HelmChartInflationGenerator.

use std::path::Path;

use driftlint::kustomize_helm::NativeHelm;
use driftlint_kustomize::{build, render_yaml, BuildOptions, HelmRenderer, KustomizeError};
use driftlint_schema::Catalog;
use driftlint_yaml::fs::RepoFs;

fn fixtures() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/kustomize-helm"
    ))
}

fn run(case: &str, helm: bool) -> Result<String, KustomizeError> {
    let fs = RepoFs::new(fixtures()).expect("fixture root");
    let catalog = Catalog::newest().expect("catalog");
    let opts = BuildOptions {
        merge_info: Some(&catalog),
        helm: helm.then_some(&NativeHelm as &dyn HelmRenderer),
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
fn charts_kustomize_would_pull_are_refused_loudly() {
    let e = run("missing-pull", true).expect_err("refused").to_string();
    assert!(
        e.starts_with("unsupported: helmCharts: chart charts/app-9.9.9/app is not in chartHome"),
        "{e}"
    );
    assert!(e.ends_with("(missing-pull/kustomization.yaml:2)"), "{e}");
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
