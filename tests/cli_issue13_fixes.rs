//! Issue 13 items 4 and 9 and opaque Flux placeholders, end to end through the CLI: each test
//! is a false positive or miss seen on a real repository.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

fn driftlint() -> Command {
    let mut cmd = Command::cargo_bin("driftlint").expect("binary built");
    cmd.env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// A checkout (`.git` marker) holding `files`.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(d.path().join(".git")).expect("mkdir");
    for (rel, text) in files {
        write(d.path(), rel, text);
    }
    d
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

fn check(cwd: &Path, path: &Path, format: &str) -> Output {
    let out = driftlint()
        .current_dir(cwd)
        .arg("check")
        .arg(path)
        .args(["--format", format])
        .output()
        .expect("runs");
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
    out
}

/// (code, file, line) of every finding of a JSON report.
fn findings(out: &Output) -> Vec<(String, String, u64)> {
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("json: {e}\n{}\n{}", text(&out.stdout), text(&out.stderr)));
    report["findings"]
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
        .collect()
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27.3\n";

#[test]
fn pin001_and_pin011_on_one_new_tag_line_is_one_finding() {
    let r = repo(&[
        ("app/deploy.yaml", DEPLOYMENT),
        (
            "app/kustomization.yaml",
            "resources: [deploy.yaml]\nimages:\n  - name: nginx\n    newTag: latest\n",
        ),
    ]);
    let got = findings(&check(r.path(), Path::new("app"), "json"));
    let on_line: Vec<_> = got
        .iter()
        .filter(|(_, f, l)| f == "app/kustomization.yaml" && *l == 4)
        .map(|(c, _, _)| c.as_str())
        .collect();
    assert_eq!(on_line, ["PIN011"], "{got:?}");
}

#[test]
fn unknown_field_points_at_its_key() {
    let src = DEPLOYMENT.replace(
        "      containers:",
        "      bogus:\n        nested: 1\n      containers:",
    );
    let r = repo(&[("app/deploy.yaml", &src)]);
    let got = findings(&check(r.path(), Path::new("app"), "json"));
    let schema: Vec<_> = got.iter().filter(|(c, _, _)| c == "SCHEMA001").collect();
    assert_eq!(schema.len(), 1, "{got:?}");
    assert_eq!(schema[0].2, 12, "the `bogus:` line, not its child: {got:?}");
}

#[test]
fn flux_placeholders_and_sops_files_are_not_findings() {
    let placeholders = DEPLOYMENT
        .replace("nginx:1.27.3", "ghcr.io/x/app:${TAG}")
        .replace(
            "          image:",
            "          ports: [{containerPort: \"${PORT}\"}]\n          env: [{name: DB_PASSWORD, value: \"${DB_PASSWORD}\"}]\n          image:",
        );
    let sops = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: ENC[AES256_GCM,data:c2VjcmV0LXZhbHVl,iv:aXY=,tag:dGFn,type:str]\nsops:\n  age:\n    - recipient: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\n  lastmodified: \"2024-01-01T00:00:00Z\"\n  mac: ENC[AES256_GCM,data:bWFj,type:str]\n  version: 3.9.0\n";
    let r = repo(&[
        ("app/deploy.yaml", &placeholders),
        ("app/secret.sops.yaml", sops),
    ]);
    let got = findings(&check(r.path(), Path::new("app"), "json"));
    assert_eq!(got, vec![], "{got:?}");
}

#[test]
fn sec001_snippet_keeps_the_key_and_masks_the_value() {
    let r = repo(&[(
        "app/kustomization.yaml",
        "secretGenerator:\n  - name: db\n    literals:\n      - password=hunter2-long-value\n",
    )]);
    let out = check(r.path(), Path::new("app"), "human");
    let human = text(&out.stdout);
    assert!(human.contains("SEC001"), "{human}");
    assert!(human.contains("password=hunt****"), "{human}");
    assert!(!human.contains("hunter2"), "{human}");
}

#[test]
fn root_without_marker_does_not_depend_on_the_current_directory() {
    let outer = tempfile::tempdir().expect("tempdir");
    let repo = outer.path().join("nested/repo");
    write(
        &repo,
        "app/pod.yaml",
        &DEPLOYMENT.replace("1.27.3", "latest"),
    );
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let from_parent = check(outer.path(), &repo, "sarif");
    let from_elsewhere = check(elsewhere.path(), &repo, "sarif");
    let from_inside = check(&repo, Path::new("."), "sarif");
    let sarif = text(&from_parent.stdout);
    assert!(sarif.contains("\"app/pod.yaml\""), "{sarif}");
    assert_eq!(sarif, text(&from_elsewhere.stdout));
    assert_eq!(sarif, text(&from_inside.stdout));
}
