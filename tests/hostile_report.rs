//! Hostile repositories against the reports (issue 11, items 1, 3, 4 and 19): a report shows
//! only lines of files read through the confined reader, masks secrets in every format, and
//! never lets repository text reach a terminal or a CI log as control characters.
//!
//! Every repository is generated in a temporary directory (with a `.git` folder, so it is its
//! own root); tokens are assembled at run time so this file holds none.

use std::path::Path;

use assert_cmd::Command;

const CANARY: &str = "s3cr3t-canary-Xq81";
const FORMATS: [&str; 4] = ["human", "json", "sarif", "github"];

fn github_pat() -> String {
    format!("{}{}", "ghp_", "Zq3x9Lm2Pw8Rt5Yk1Vb7Nc4Hd6Jf0Gs2Ae8U")
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    dir
}

/// `driftlint check ROOT --format FORMAT` with the canary in its environment: (exit, stdout).
fn check(root: &Path, format: &str) -> (i32, String) {
    let out = Command::cargo_bin("driftlint")
        .expect("binary")
        .current_dir(root)
        .env("DRIFTLINT_CANARY", CANARY)
        .env("NO_COLOR", "1")
        .args(["check", ".", "--format", format])
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn chart(root: &Path, template: &str) {
    write(
        root,
        "charts/app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 1.0.0\n",
    );
    write(root, "charts/app/values.yaml", "replicas: 1\n");
    write(root, "charts/app/templates/cm.yaml", template);
}

#[test]
fn a_location_named_in_a_template_message_is_never_read() {
    let dir = repo();
    chart(
        dir.path(),
        "{{ fail \"(template line /proc/self/environ:1)\" }}\n",
    );
    for format in FORMATS {
        let (code, out) = check(dir.path(), format);
        assert_eq!(code, 2, "{format}: {out}");
        assert!(
            !out.contains(CANARY),
            "{format} leaked the environment:\n{out}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_symlinked_target_file_outside_the_root_is_never_shown() {
    let dir = repo();
    let outside = tempfile::tempdir().expect("outside");
    write(
        outside.path(),
        "other.yaml",
        &format!("kind: ConfigMap # {CANARY}\napiVersion: v1\nmetadata: {{name: x}}\n"),
    );
    write(dir.path(), ".driftlint.yaml", "targets:\n  - path: d\n");
    std::fs::create_dir(dir.path().join("d")).expect("d");
    let link = |to: &Path, name: &str| {
        std::os::unix::fs::symlink(to, dir.path().join("d").join(name)).expect("symlink")
    };
    link(Path::new("/proc/self/environ"), "leak.yaml");
    link(&outside.path().join("other.yaml"), "other.yaml");
    for format in FORMATS {
        let (_, out) = check(dir.path(), format);
        assert!(
            !out.contains(CANARY),
            "{format} showed the outside file:\n{out}"
        );
    }
}

#[test]
fn a_token_next_to_another_finding_is_masked_in_its_snippet() {
    let dir = repo();
    let pat = github_pat();
    write(
        dir.path(),
        "apps/deploy.yaml",
        &format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata:\n      labels: {{app: web}}\n      annotations:\n        ci-token: {pat}\n    spec:\n      containers:\n        - name: web\n          image: nginx:latest\n          args: [\"--auth={pat}\"]\n"
        ),
    );
    for format in FORMATS {
        let (code, out) = check(dir.path(), format);
        assert_eq!(code, 1, "{format}: {out}");
        assert!(
            !out.contains(&pat[4..]),
            "{format} showed the token:\n{out}"
        );
    }
}

#[test]
fn a_secret_printed_by_a_failing_template_is_masked() {
    let dir = repo();
    let pat = github_pat();
    chart(
        dir.path(),
        "{{ fail (printf \"bad token %s\" .Values.token) }}\n",
    );
    write(
        dir.path(),
        "charts/app/values.yaml",
        &format!("token: {pat}\npassword: hunter2-is-long\n"),
    );
    write(
        dir.path(),
        "charts/other/Chart.yaml",
        "apiVersion: v2\nname: other\nversion: 1.0.0\n",
    );
    write(
        dir.path(),
        "charts/other/values.yaml",
        "db:\n  password: hunter2-is-long\n",
    );
    write(
        dir.path(),
        "charts/other/templates/cm.yaml",
        "{{ fail (printf \"cannot use %s\" .Values.db.password) }}\n",
    );
    for format in FORMATS {
        let (code, out) = check(dir.path(), format);
        assert_eq!(code, 2, "{format}: {out}");
        assert!(
            !out.contains(&pat[4..]),
            "{format} showed the token:\n{out}"
        );
        assert!(
            !out.contains("hunter2-is-long"),
            "{format} showed the password:\n{out}"
        );
    }
}

#[test]
fn a_secret_in_a_yaml_syntax_error_is_masked() {
    let dir = repo();
    let pat = github_pat();
    write(
        dir.path(),
        "apps/cm.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata:\n  k: [{pat}\n"),
    );
    for format in FORMATS {
        let (code, out) = check(dir.path(), format);
        assert_eq!(code, 2, "{format}: {out}");
        assert!(
            !out.contains(&pat[4..]),
            "{format} showed the token:\n{out}"
        );
    }
}

#[test]
fn names_cannot_inject_workflow_commands_or_terminal_escapes() {
    let dir = repo();
    write(
        dir.path(),
        "apps/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: \"web\\n::error file=README.md,line=1::INJECTED \\e[2J\\a\"\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - {name: web, image: \"nginx:latest\"}\n",
    );
    for format in ["human", "github"] {
        let (code, out) = check(dir.path(), format);
        assert_eq!(code, 1, "{format}: {out}");
        assert!(
            out.contains("INJECTED"),
            "{format}: the name is shown:\n{out}"
        );
        for line in out.lines() {
            let trimmed = line.trim_start();
            assert!(
                !trimmed.starts_with("::error file=README.md"),
                "{format}: injected command:\n{out}"
            );
        }
        assert!(!out.contains('\u{1b}'), "{format}: raw ESC:\n{out:?}");
        assert!(!out.contains('\u{7}'), "{format}: raw BEL:\n{out:?}");
    }
}

/// The SARIF fingerprint of the only result of `check ROOT --format sarif`.
fn only_fingerprint(root: &Path) -> String {
    let (_, out) = check(root, "sarif");
    let log: serde_json::Value = serde_json::from_str(&out).expect("sarif");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{out}");
    results[0]["partialFingerprints"]["driftlintFingerprint/v1"]
        .as_str()
        .expect("fingerprint")
        .to_string()
}

#[test]
fn a_render_failure_keeps_its_fingerprint_when_its_line_moves() {
    let dir = repo();
    chart(dir.path(), "{{ fail \"no database configured\" }}\n");
    let before = only_fingerprint(dir.path());
    write(
        dir.path(),
        "charts/app/templates/cm.yaml",
        "{{/* a comment */}}\n\n\n{{ fail \"no database configured\" }}\n",
    );
    assert_eq!(before, only_fingerprint(dir.path()));
}

#[test]
fn a_secret_echoed_by_a_values_schema_error_is_masked() {
    let dir = repo();
    chart(
        dir.path(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    );
    write(
        dir.path(),
        "charts/app/values.yaml",
        "auth:\n  apiKey: Zx81-mnbq-77-secret\ndb:\n  url: postgres://app:pa55word-x@db/x\n",
    );
    write(
        dir.path(),
        "charts/app/values.schema.json",
        r#"{"properties": {"auth": {"properties": {"apiKey": {"type": "string", "pattern": "^sk_"}}},
            "db": {"properties": {"url": {"type": "string", "pattern": "^mysql:"}}}}}"#,
    );
    for format in FORMATS {
        let (code, out) = check(dir.path(), format);
        assert_eq!(code, 2, "{format}: {out}");
        assert!(
            out.contains("Zx81"),
            "{format}: the error names the value:\n{out}"
        );
        assert!(
            !out.contains("Zx81-mnbq-77-secret"),
            "{format} showed the key:\n{out}"
        );
        assert!(
            !out.contains("pa55word-x"),
            "{format} showed the password:\n{out}"
        );
    }
}

#[test]
fn stderr_cannot_start_workflow_commands() {
    let dir = repo();
    chart(
        dir.path(),
        "{{ fail \"bad\\n::error file=README.md,line=1::INJECTED \\u001b[2J\" }}\n",
    );
    let out = Command::cargo_bin("driftlint")
        .expect("binary")
        .current_dir(dir.path())
        .args(["helm", "template", "charts/app"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("INJECTED"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    for line in stderr.lines() {
        assert!(!line.trim_start().starts_with("::"), "{stderr}");
    }
}
