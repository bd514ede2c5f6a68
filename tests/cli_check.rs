//! End-to-end tests of `driftlint check` through the real binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn driftlint() -> Command {
    Command::cargo_bin("driftlint").expect("binary built")
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `check --format json` on `path`; returns (exit code, findings as (code, file, line)).
fn check_json(path: &Path, extra: &[&str]) -> (i32, Vec<(String, String, u64)>, Value) {
    let out = driftlint()
        .arg("check")
        .arg(path)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "json report: {e}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let findings = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_string(),
                f["location"]["file"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                f["location"]["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    (out.status.code().unwrap_or(-1), findings, report)
}

#[test]
fn demo_yields_exactly_the_planted_findings() {
    let (code, findings, _) = check_json(&manifest_dir().join("fixtures/demo"), &[]);
    let expected = vec![
        (
            "PIN001".to_string(),
            "apps/base/deployment.yaml".to_string(),
            19,
        ),
        (
            "CRD001".into(),
            "infrastructure/monitoring/servicemonitor.yaml".into(),
            3,
        ),
        (
            "API001".into(),
            "infrastructure/policies/pdb.yaml".into(),
            1,
        ),
        (
            "SEC001".into(),
            "infrastructure/secrets/database.yaml".into(),
            8,
        ),
    ];
    let mut got = findings.clone();
    got.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(got, want, "findings: {findings:?}");
    assert_eq!(code, 1);
}

#[test]
fn secrets_are_never_printed_in_any_format() {
    for format in ["human", "json", "sarif", "github"] {
        let out = driftlint()
            .arg("check")
            .arg(manifest_dir().join("fixtures/demo"))
            .args(["--format", format])
            .output()
            .expect("runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains("hunter2-correct"),
            "{format} leaks the secret:\n{text}"
        );
    }
}

#[test]
fn fail_on_never_exits_zero_and_warning_threshold_applies() {
    let (code, _, _) = check_json(
        &manifest_dir().join("fixtures/demo"),
        &["--fail-on", "never"],
    );
    assert_eq!(code, 0);
}

fn write(root: &Path, rel: &str, text: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// A repository with one healthy overlay holding a planted `latest` image, plus `bad`.
fn repo_with(bad: impl FnOnce(&Path)) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "good/kustomization.yaml",
        b"resources:\n- pod.yaml\n",
    );
    write(
        d.path(),
        "good/pod.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:latest\n",
    );
    bad(d.path());
    d
}

/// Every kind of bad input: exit 2, a diagnostic at the bad file's line, and the healthy
/// target is still checked (its PIN001 is reported).
fn assert_bad_input(bad: impl FnOnce(&Path), file: &str, line: u64) {
    let d = repo_with(bad);
    let (code, findings, report) = check_json(d.path(), &[]);
    assert_eq!(code, 2, "{report:#}");
    assert!(
        findings
            .iter()
            .any(|(c, f, l)| c.starts_with("RENDER") && f == file && *l == line),
        "no render finding at {file}:{line}: {findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|(c, f, _)| c == "PIN001" && f == "good/pod.yaml"),
        "the healthy target was not checked: {findings:?}"
    );
}

#[test]
fn malformed_yaml_is_reported_at_its_line() {
    assert_bad_input(
        |r| {
            write(
                r,
                "plain/broken.yaml",
                b"apiVersion: v1\nkind: ConfigMap\ndata: [a, b\nmetadata: {}\n",
            )
        },
        "plain/broken.yaml",
        4,
    );
}

#[test]
fn missing_resource_is_reported_at_the_reference() {
    assert_bad_input(
        |r| {
            write(
                r,
                "bad/kustomization.yaml",
                b"resources:\n- cm.yaml\n- missing.yaml\n",
            );
            write(
                r,
                "bad/cm.yaml",
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            );
        },
        "bad/kustomization.yaml",
        3,
    );
}

#[test]
fn kustomization_cycle_is_reported() {
    assert_bad_input(
        |r| {
            write(r, "a/kustomization.yaml", b"resources:\n- ../b\n");
            write(r, "b/kustomization.yaml", b"resources:\n- ../a\n");
            write(r, "top/kustomization.yaml", b"resources:\n- ../a\n");
        },
        "b/kustomization.yaml",
        2,
    );
}

#[test]
fn unknown_kustomization_field_is_reported() {
    assert_bad_input(
        |r| {
            write(
                r,
                "bad/kustomization.yaml",
                b"resources: []\nnamePrefx: x-\n",
            )
        },
        "bad/kustomization.yaml",
        2,
    );
}

#[test]
fn escaping_paths_are_refused() {
    assert_bad_input(
        |r| {
            write(
                r,
                "bad/kustomization.yaml",
                b"resources:\n- ../../../../../../etc/passwd\n",
            )
        },
        "bad/kustomization.yaml",
        2,
    );
}

#[test]
fn binary_files_are_refused() {
    assert_bad_input(
        |r| {
            write(
                r,
                "plain/blob.yaml",
                &[0x89, b'P', b'N', b'G', 0, 0, 0xff, 0xfe],
            )
        },
        "plain/blob.yaml",
        1,
    );
}

#[test]
fn huge_files_are_refused() {
    assert_bad_input(
        |r| {
            let mut big =
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  x: \"".to_vec();
            big.resize(50 * 1024 * 1024, b'a');
            big.extend_from_slice(b"\"\n");
            write(r, "plain/big.yaml", &big);
        },
        "plain/big.yaml",
        1,
    );
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_refused() {
    assert_bad_input(
        |r| {
            write(r, "bad/kustomization.yaml", b"resources:\n- loop.yaml\n");
            std::os::unix::fs::symlink("loop2.yaml", r.join("bad/loop.yaml")).expect("symlink");
            std::os::unix::fs::symlink("loop.yaml", r.join("bad/loop2.yaml")).expect("symlink");
        },
        "bad/kustomization.yaml",
        2,
    );
}

#[test]
fn invalid_config_is_exit_2_at_its_line() {
    let d = repo_with(|r| {
        write(
            r,
            ".driftlint.yaml",
            b"strict: true\nkubernetsVersion: \"1.30\"\n",
        )
    });
    let (code, findings, _) = check_json(d.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        findings
            .iter()
            .any(|(c, f, l)| c == "CONFIG001" && f == ".driftlint.yaml" && *l == 2),
        "{findings:?}"
    );
}

#[test]
fn output_is_identical_across_thread_counts() {
    let run = |threads: &str| {
        driftlint()
            .env("RAYON_NUM_THREADS", threads)
            .arg("check")
            .arg(manifest_dir().join("fixtures/demo"))
            .args(["--format", "sarif"])
            .output()
            .expect("runs")
            .stdout
    };
    assert_eq!(run("1"), run("8"));
}

#[test]
fn init_writes_a_config_that_check_accepts() {
    let d = tempfile::tempdir().expect("tempdir");
    driftlint()
        .current_dir(d.path())
        .arg("init")
        .assert()
        .success();
    let written = std::fs::read_to_string(d.path().join(".driftlint.yaml")).expect("written");
    // Editors with a YAML language server validate and complete it from the committed schema.
    let first = written.lines().next().unwrap_or_default();
    let schema = first
        .strip_prefix("# yaml-language-server: $schema=")
        .unwrap_or_else(|| panic!("no schema modeline: {first}"));
    let repository = env!("CARGO_PKG_REPOSITORY");
    let committed = schema
        .strip_prefix(&format!("{repository}/raw/main/"))
        .unwrap_or_else(|| panic!("{schema} is not in {repository}"));
    assert!(manifest_dir().join(committed).is_file(), "{committed}");
    driftlint()
        .current_dir(d.path())
        .arg("init")
        .assert()
        .code(2);
    let (code, findings, _) = check_json(d.path(), &[]);
    assert_eq!((code, findings.len()), (0, 0));
}

#[test]
fn helm_charts_are_rendered_and_checked() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "charts/web/Chart.yaml",
        b"apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    write(d.path(), "charts/web/values.yaml", b"kind: ConfigMap\n");
    write(
        d.path(),
        "charts/web/templates/cm.yaml",
        b"apiVersion: v1\nkind: {{ .Values.kind }}\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  token: ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n",
    );
    let (code, findings, report) = check_json(d.path(), &[]);
    assert_eq!(
        findings,
        vec![(
            "SEC003".to_string(),
            "charts/web/templates/cm.yaml".to_string(),
            6
        )],
        "{report:#}"
    );
    assert_eq!(code, 1);
}

#[test]
fn kustomize_build_is_a_drop_in_for_render() {
    let dir = manifest_dir().join("fixtures/demo/apps/production");
    let render = driftlint().arg("render").arg(&dir).output().expect("runs");
    let build = driftlint()
        .args(["kustomize", "build"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert!(render.status.success());
    assert_eq!(render.stdout, build.stdout);
    let text = String::from_utf8_lossy(&render.stdout);
    assert!(
        text.contains("namespace: web") && text.contains("replicas: 3"),
        "{text}"
    );
}

#[test]
fn render_errors_name_file_and_line_and_exit_2() {
    let d = repo_with(|r| {
        write(
            r,
            "bad/kustomization.yaml",
            b"resources: []\nnamePrefx: x-\n",
        )
    });
    let out = driftlint()
        .arg("render")
        .arg(d.path().join("bad"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kustomization.yaml:2"), "{err}");
}

#[test]
fn pre_commit_mode_checks_only_the_targets_owning_changed_files() {
    let d = repo_with(|r| {
        write(r, "other/kustomization.yaml", b"resources:\n- pod.yaml\n");
        write(
            r,
            "other/pod.yaml",
            b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: q\nspec:\n  containers:\n  - name: c\n    image: redis:latest\n",
        );
    });
    let out = driftlint()
        .current_dir(d.path())
        .args([
            "check",
            "--format",
            "json",
            "--pre-commit",
            "other/pod.yaml",
        ])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let files: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["location"]["file"].as_str())
        .collect();
    assert_eq!(files, vec!["other/pod.yaml"]);
    assert_eq!(out.status.code(), Some(1));
}
