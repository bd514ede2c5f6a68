//! End-to-end tests of `driftlint check` on Helm charts (tests/fixtures/helm-check): findings
//! point at the values-file line that supplied the offending value.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn driftlint() -> Command {
    Command::cargo_bin("driftlint").expect("binary built")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/helm-check")
        .join(name)
}

type Row = (String, String, u64, String);

/// Runs `driftlint check --format json ARGS` in `dir`; returns the exit code, the findings as
/// (code, file, line, target) and the report.
fn check(dir: &Path, args: &[&str]) -> (i32, Vec<Row>, Value) {
    let out = driftlint()
        .current_dir(dir)
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "json report: {e}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let rows = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                s(&f["code"]),
                s(&f["location"]["file"]),
                f["location"]["line"].as_u64().unwrap_or_default(),
                s(&f["target"]),
            )
        })
        .collect();
    (out.status.code().unwrap_or(-1), rows, report)
}

fn row(code: &str, file: &str, line: u64, target: &str) -> Row {
    (code.into(), file.into(), line, target.into())
}

#[test]
fn chart_findings_point_at_the_values_lines_that_supplied_them() {
    // Also: the chart's Widget custom resource has no CRD001, its CRD being in `crds/`.
    let (code, rows, report) = check(&fixture("good"), &[]);
    assert_eq!(
        rows,
        vec![
            row(
                "SEC002",
                "charts/app/ci/prod-values.yaml",
                4,
                "charts/app (ci/prod-values.yaml)"
            ),
            // `image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"`: the tag.
            row("PIN001", "charts/app/values.yaml", 4, "charts/app"),
            row("SEC002", "charts/app/values.yaml", 7, "charts/app"),
            // The subchart's tag set by the parent chart's values.
            row("PIN001", "charts/app/values.yaml", 16, "charts/app"),
        ],
        "{report:#}"
    );
    assert_eq!(code, 1);
    let via = &report["findings"][1]["location"]["via"];
    assert_eq!(
        via, "helm template charts/app/templates/deployment.yaml:23",
        "{report:#}"
    );
}

#[test]
fn human_report_snapshot() {
    let out = driftlint()
        .current_dir(fixture("good"))
        .args(["check", "--format", "human"])
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    insta::assert_snapshot!("helm_check_human", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn configured_releases_render_with_their_values_files() {
    let (code, rows, report) = check(&fixture("releases"), &[]);
    assert_eq!(
        rows,
        vec![row(
            "PIN001",
            "envs/prod/web.yaml",
            2,
            "charts/web (web-prod)"
        )],
        "{report:#}"
    );
    assert_eq!(code, 1);
    assert!(report["findings"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("nginx:latest")));
}

#[test]
fn render_failures_and_bad_releases_are_findings_at_their_lines() {
    let (code, rows, report) = check(&fixture("broken"), &[]);
    assert_eq!(
        rows,
        vec![
            row("CONFIG001", ".driftlint.yaml", 4, ".driftlint.yaml"),
            // Invalid YAML in the output: at the template line that produced it.
            row(
                "RENDER001",
                "charts/badyaml/templates/cm.yaml",
                7,
                "charts/badyaml"
            ),
            row(
                "RENDER001",
                "charts/req/templates/cm.yaml",
                6,
                "charts/req (release 1)"
            ),
            // values.schema.json violation: at the offending values line.
            row("RENDER001", "charts/schema/values.yaml", 3, "charts/schema"),
            row(
                "RENDER002",
                "charts/unsup/templates/secret.yaml",
                1,
                "charts/unsup"
            ),
        ],
        "{report:#}"
    );
    let msg = |i: usize| {
        report["findings"][i]["message"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert!(
        msg(1).contains("mapping values are not allowed"),
        "{}",
        msg(1)
    );
    assert!(msg(2).contains("image.tag is required"), "{}", msg(2));
    assert!(
        msg(3).contains("at '/replicas': got string, want integer"),
        "{}",
        msg(3)
    );
    assert!(msg(4).contains("getHostByName"), "{}", msg(4));
    assert_eq!(code, 2);
}

#[test]
fn pre_commit_maps_values_files_and_templates_to_their_chart_targets() {
    let dir = fixture("good");
    let (_, rows, _) = check(&dir, &["--pre-commit", "charts/app/ci/prod-values.yaml"]);
    let targets: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
    assert!(!rows.is_empty());
    assert!(
        targets
            .iter()
            .all(|t| *t == "charts/app (ci/prod-values.yaml)"),
        "{rows:?}"
    );
    let (_, rows, _) = check(
        &dir,
        &["--pre-commit", "charts/app/templates/deployment.yaml"],
    );
    assert!(rows.iter().any(|r| r.3 == "charts/app"), "{rows:?}");
    let (_, rows, _) = check(
        &fixture("releases"),
        &["--pre-commit", "envs/prod/web.yaml"],
    );
    assert_eq!(
        rows,
        vec![row(
            "PIN001",
            "envs/prod/web.yaml",
            2,
            "charts/web (web-prod)"
        )]
    );
    let (code, rows, _) = check(&dir, &["--pre-commit", ".driftlint.yaml"]);
    assert_eq!((code, rows), (0, vec![]));
}

#[test]
fn values_keys_decode_as_helm_does() {
    // Output observed with helm v4.1.4 on the same chart: go-yaml v2 reads `n`/`y`/`yes`/`on`
    // keys as booleans and sigs.k8s.io/yaml prints them as "false"/"true" (the last `true`
    // key wins); `0x10` becomes "16".
    let d = tempfile::tempdir().expect("tempdir");
    let write = |rel: &str, text: &str| {
        let p = d.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    };
    write(
        "hk/Chart.yaml",
        "apiVersion: v2\nname: hk\nversion: 0.1.0\n",
    );
    write(
        "hk/values.yaml",
        "n: 1\ny: 2\nyes: 3\non: off\nk:\n  no: x\n  1.5: f\n  0x10: h\nv: [y, n, no]\n",
    );
    write("hk/templates/x.yaml", "# {{ .Values | toJson }}\n");
    let out = driftlint()
        .current_dir(d.path())
        .args(["helm", "template", "hk"])
        .output()
        .expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "---\n# Source: hk/templates/x.yaml\n# {\"false\":1,\"k\":{\"1.5\":\"f\",\"16\":\"h\",\"false\":\"x\"},\"true\":false,\"v\":[true,false,false]}\n"
    );
}

#[test]
fn random_names_are_the_same_on_every_check() {
    // Helm's random functions draw from the OS; check seeds them, so a finding on an object
    // named with `randAlphaNum` (podinfo's test pods) reads the same run after run.
    let dir = fixture("random");
    let run = || {
        driftlint()
            .current_dir(&dir)
            .args(["check", "--format", "json"])
            .output()
            .expect("runs")
    };
    let (first, second) = (run(), run());
    let text = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(text.contains("PIN001"), "{text}");
    let name = regex::Regex::new(r#""name": "test-([a-z0-9]{5})""#)
        .expect("regex")
        .captures(&text)
        .unwrap_or_else(|| panic!("a random pod name in the report: {text}"));
    assert_eq!(name[1].len(), 5);
    assert_eq!(first.stdout, second.stdout);
}
