//! Argo CD helm sources whose chart comes from a Helm repository or an OCI registry, rendered
//! from the chart cache (`src/argocd/source.rs` `cached_chart_source`), on
//! `tests/fixtures/argocd-charts`. The cache is filled here with `ChartCache::store_archive`
//! from `tests/fixtures/helmreleases-charts/podinfo-6.14.1.tgz` (`helm package` of the corpus
//! podinfo chart), as `tests/helmreleases.rs` fills it; nothing is downloaded.
//!
//! The expected outputs `tests/fixtures/argocd-charts.expected/*.yaml` were made once with
//! helm v4.1.4 by the `regen.sh` beside them, which says how the Argo CD fields map to
//! `helm template` flags. They are compared as objects (same order, equal as parsed YAML).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use driftlint_charts::{ChartCache, ChartLocator};
use serde_json::Value;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/argocd-charts")
}

/// A cache holding podinfo 6.14.1 under its Helm repository (which also offers versions not
/// pulled, so the range must pick the pulled one) and its OCI registry.
fn filled_cache() -> tempfile::TempDir {
    let archive = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/helmreleases-charts/podinfo-6.14.1.tgz"),
    )
    .expect("chart");
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = ChartCache::new(dir.path());
    let http = ChartLocator::http("https://stefanprodan.github.io/podinfo", "podinfo").unwrap();
    let oci = ChartLocator::oci("oci://ghcr.io/stefanprodan/charts", "podinfo").unwrap();
    let offered = ["5.2.1".to_string(), "6.13.0".into(), "7.0.0".into()];
    cache.record_versions(&http, &offered).unwrap();
    for loc in [&http, &oci] {
        cache.store_archive(loc, "6.14.1", &archive, None).unwrap();
    }
    dir
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("driftlint")
        .expect("binary")
        .args(args)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn objects(stream: &str) -> Vec<Value> {
    driftlint_yaml::parse_documents("stream".into(), stream)
        .expect("yaml")
        .iter()
        .filter(|d| !d.is_null())
        .map(driftlint_yaml::Node::to_json)
        .collect()
}

#[test]
fn charts_of_helm_and_oci_repositories_render_from_the_cache_as_helm_template() {
    let cache = filled_cache();
    let (root, cache) = (fixture(), cache.path().to_string_lossy().into_owned());
    for name in ["web", "api"] {
        let unit = format!("apps/{name}.yaml (Application argocd/{name})");
        let args = [
            "build",
            root.to_str().unwrap(),
            "--cache-dir",
            &cache,
            "--unit",
            &unit,
        ];
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{name}: {err}");
        let want =
            std::fs::read_to_string(root.with_extension("expected").join(format!("{name}.yaml")))
                .expect("expected");
        let (ours, theirs) = (objects(&out), objects(&want));
        assert_eq!(ours.len(), theirs.len(), "{name}: {out}");
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a, b, "{name}");
        }
    }
}

#[test]
fn an_empty_cache_is_one_chart001_warning_per_application_at_its_chart_line() {
    let cache = tempfile::tempdir().expect("tempdir");
    let root = fixture();
    let args = [
        "check",
        root.to_str().unwrap(),
        "--format",
        "json",
        "--cache-dir",
        cache.path().to_str().unwrap(),
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "warnings only: {err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    let mut found: Vec<(String, u64, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "CHART001")
        .map(|f| {
            assert_eq!(f["severity"], "warning", "{f}");
            (
                f["location"]["file"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!((found[0].0.as_str(), found[0].1), ("apps/api.yaml", 12));
    assert!(
        found[0]
            .2
            .contains("podinfo version \"6.14.1\" from oci://ghcr.io/stefanprodan/charts"),
        "{}",
        found[0].2
    );
    assert_eq!((found[1].0.as_str(), found[1].1), ("apps/web.yaml", 12));
    assert!(
        found[1].2.contains(
            "podinfo version \">=6.0.0 <7.0.0\" from https://stefanprodan.github.io/podinfo"
        ),
        "{}",
        found[1].2
    );
    assert!(
        found[1].2.contains("`driftlint charts pull`"),
        "{}",
        found[1].2
    );
}

#[test]
fn charts_pull_collects_the_helm_sources_of_applications() {
    let cache = tempfile::tempdir().expect("tempdir");
    let root = fixture();
    let args = [
        "charts",
        "pull",
        "--dry-run",
        "--cache-dir",
        cache.path().to_str().unwrap(),
        root.to_str().unwrap(),
    ];
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    // The plan goes to stderr, as every progress line of `charts pull`.
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        [
            "would pull oci://ghcr.io/stefanprodan/charts/podinfo 6.14.1 for apps/api.yaml:12:12",
            "would pull https://stefanprodan.github.io/podinfo/podinfo >=6.0.0 <7.0.0 for apps/web.yaml:12:14",
            "2 charts to pull (dry run: nothing contacted); 0 references without a source",
        ]
    );
}
