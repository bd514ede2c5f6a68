//! Hostile pull requests against the command line (issue 11): driftlint runs on untrusted
//! checkouts, on CI machines holding tokens. Each test plants what an attacker can commit
//! (symbolic links are made here, never committed) and checks nothing leaves the checkout,
//! nothing is written outside it, and nothing passes silently.

use std::path::Path;
use std::process::{Output, Stdio};

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

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: b\n";
const LATEST: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: outside-pod\nspec:\n  containers:\n    - name: c\n      image: nginx:latest\n";

/// A checkout (`.git` marker) with one clean manifest folder.
fn repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(d.path().join(".git")).expect("mkdir");
    write(d.path(), "apps/cm.yaml", CONFIG_MAP);
    d
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

fn no_panic(out: &Output) {
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert_ne!(out.status.code(), Some(101), "stderr: {stderr}");
}

/// (code, file, line) of every finding of a JSON report.
fn findings(out: &Output) -> Vec<(String, String, u64)> {
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "json report: {e}\nstdout: {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        )
    });
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

fn check_json(repo: &Path, args: &[&str]) -> Output {
    driftlint()
        .current_dir(repo)
        .arg("check")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("runs")
}

// Item 2: report files are never written through a committed symbolic link.

#[cfg(unix)]
#[test]
fn output_refuses_a_symlink_committed_at_the_report_name() {
    let r = repo();
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let victim = elsewhere.path().join("victim");
    std::fs::write(&victim, "precious").expect("write");
    symlink(&victim, &r.path().join("driftlint.sarif"));
    let missing = elsewhere.path().join("created-by-driftlint");
    symlink(&missing, &r.path().join("report.json"));
    for (format, file) in [("sarif", "driftlint.sarif"), ("json", "report.json")] {
        let out = driftlint()
            .current_dir(r.path())
            .args(["check", ".", "--format", format, "--output", file])
            .output()
            .expect("runs");
        no_panic(&out);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("symbolic link"),
            "{}",
            text(&out.stderr)
        );
    }
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
    assert!(!missing.exists(), "a file was created through the link");
}

#[cfg(unix)]
#[test]
fn init_refuses_a_committed_config_symlink() {
    let r = repo();
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let missing = elsewhere.path().join("authorized_keys");
    symlink(&missing, &r.path().join(".driftlint.yaml"));
    for args in [&["init"][..], &["init", "--force"][..]] {
        let out = driftlint()
            .current_dir(r.path())
            .args(args)
            .output()
            .expect("runs");
        no_panic(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert!(!missing.exists(), "init wrote through the link");
}

#[cfg(all(unix, feature = "cluster"))]
#[test]
fn drift_reports_refuse_symlinks_too() {
    use fake_apiserver::FakeApiServer;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster");
    let r = repo();
    std::fs::remove_dir_all(r.path().join("apps")).expect("rm");
    std::fs::copy(
        fixtures.join("desired/00-namespaces.yaml"),
        r.path().join("ns.yaml"),
    )
    .expect("copy");
    let srv = FakeApiServer::builder()
        .seed_dir(fixtures.join("live-after-apply"))
        .start()
        .expect("server");
    let kubeconfig = r.path().join("kubeconfig");
    srv.write_kubeconfig(&kubeconfig, "lab")
        .expect("kubeconfig");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let victim = elsewhere.path().join("victim");
    std::fs::write(&victim, "precious").expect("write");
    symlink(&victim, &r.path().join("summary.md"));
    symlink(&victim, &r.path().join("drift.json"));
    let run = |args: &[&str]| {
        let out = driftlint()
            .current_dir(r.path())
            .args(["drift", ".", "--kubeconfig"])
            .arg(&kubeconfig)
            .args(["--context", "lab", "--mode", "read-only"])
            .args(args)
            .output()
            .expect("runs");
        no_panic(&out);
        out
    };
    let out = run(&["--markdown-summary", "summary.md"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("symbolic link"));
    let out = run(&["--format", "json", "--output", "drift.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
}

// Item 5: a checked path that is a symbolic link does not move the root outside.

/// A checkout whose `deploy` links to a directory outside it holding a manifest (and, for the
/// harder case, its own `.git` and kustomization).
#[cfg(unix)]
fn linked_out(with_git: bool) -> (tempfile::TempDir, tempfile::TempDir) {
    let r = repo();
    let outside = tempfile::tempdir().expect("tempdir");
    write(outside.path(), "pod.yaml", LATEST);
    write(
        outside.path(),
        "kustomization.yaml",
        "resources: [pod.yaml]\n",
    );
    if with_git {
        std::fs::create_dir_all(outside.path().join(".git")).expect("mkdir");
    }
    symlink(outside.path(), &r.path().join("deploy"));
    (r, outside)
}

#[cfg(unix)]
#[test]
fn a_checked_path_linking_outside_is_an_error() {
    for with_git in [false, true] {
        let (r, _outside) = linked_out(with_git);
        for path in ["deploy", "deploy/pod.yaml", "deploy/."] {
            let out = check_json(r.path(), &[path]);
            no_panic(&out);
            let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
            assert_eq!(
                out.status.code(),
                Some(2),
                "{path} (.git {with_git}): {all}"
            );
            assert!(all.contains("outside the repository"), "{path}: {all}");
            assert!(!all.contains("outside-pod"), "{path}: {all}");
        }
        for cmd in [
            &["render", "deploy"][..],
            &["kustomize", "build", "deploy"][..],
        ] {
            let out = driftlint()
                .current_dir(r.path())
                .args(cmd)
                .output()
                .expect("runs");
            no_panic(&out);
            assert_ne!(out.status.code(), Some(0), "{cmd:?}");
            assert!(!text(&out.stdout).contains("outside-pod"), "{cmd:?}");
        }
    }
}

#[cfg(unix)]
#[test]
fn a_link_inside_the_checkout_still_works() {
    let r = repo();
    write(r.path(), "apps/pod.yaml", LATEST);
    symlink(Path::new("apps"), &r.path().join("current"));
    let out = check_json(r.path(), &["current"]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        findings(&out)
            .iter()
            .any(|(code, file, _)| code == "PIN001" && file == "apps/pod.yaml"),
        "{:?}",
        findings(&out)
    );
}

// Item 7: the nearest root marker wins; pre-commit file names are never flags.

#[test]
fn a_config_in_an_ancestor_does_not_outrank_the_nearer_checkout() {
    let outer = tempfile::tempdir().expect("tempdir");
    write(outer.path(), ".driftlint.yaml", "failOn: never\n");
    write(outer.path(), "secrets/pod.yaml", LATEST);
    write(
        outer.path(),
        "secrets/kustomization.yaml",
        "resources: [pod.yaml]\n",
    );
    let checkout = outer.path().join("work/pr");
    std::fs::create_dir_all(checkout.join(".git")).expect("mkdir");
    write(
        &checkout,
        "overlay/kustomization.yaml",
        "resources: [../../../secrets]\n",
    );
    let out = check_json(&checkout, &["."]);
    no_panic(&out);
    let found = findings(&out);
    assert_eq!(out.status.code(), Some(2), "{found:?}");
    assert!(
        found
            .iter()
            .any(|(code, file, _)| code == "RENDER001" && file.starts_with("overlay/")),
        "{found:?}"
    );
    assert!(!text(&out.stdout).contains("outside-pod"));
}

#[test]
fn pre_commit_hooks_pass_file_names_after_a_double_dash() {
    let hooks = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .expect("hooks");
    let entries: Vec<&str> = hooks
        .lines()
        .filter_map(|l| l.trim().strip_prefix("entry:"))
        .map(str::trim)
        .collect();
    assert!(!entries.is_empty());
    for entry in entries {
        assert!(entry.ends_with(" --"), "entry {entry:?} must end with --");
    }
    let r = repo();
    write(r.path(), "--output=victim.yaml", CONFIG_MAP);
    let out = driftlint()
        .current_dir(r.path())
        .args([
            "check",
            "--pre-commit",
            "--",
            "--output=victim.yaml",
            "apps/cm.yaml",
        ])
        .output()
        .expect("runs");
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!r.path().join("victim.yaml").exists());
}

// Item 15: a closed or full stdout never panics.

/// A repository with a kustomization (`k/`) and a tiny chart (`chart/`) whose output is
/// larger than a pipe's buffer.
fn big_repo() -> tempfile::TempDir {
    let r = repo();
    let mut resources = String::from("resources:\n");
    for i in 0..400 {
        let name = format!("cm{i}.yaml");
        write(
            &r.path().join("k"),
            &name,
            &CONFIG_MAP.replace("name: app", &format!("name: app-{i}")),
        );
        resources.push_str(&format!("  - {name}\n"));
    }
    write(&r.path().join("k"), "kustomization.yaml", &resources);
    write(
        r.path(),
        "chart/Chart.yaml",
        "apiVersion: v2\nname: chart\nversion: 0.1.0\n",
    );
    write(r.path(), "chart/values.yaml", "n: 400\n");
    write(
        r.path(),
        "chart/templates/cm.yaml",
        "{{- range $i := until (int .Values.n) }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c-{{ $i }}\ndata:\n  a: b\n{{- end }}\n",
    );
    r
}

const STDOUT_COMMANDS: [&[&str]; 7] = [
    &["kustomize", "build", "k"],
    &["render", "k"],
    &["helm", "template", "chart"],
    &["rules"],
    &["explain", "PIN001"],
    &["init"],
    &["check", "k"],
];

#[cfg(unix)]
fn closed_pipe() -> Stdio {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills two descriptors this test then owns.
    let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
    assert_eq!(rc, 0, "pipe");
    // SAFETY: both descriptors were just created and are owned here only.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_quietly() {
    for args in STDOUT_COMMANDS {
        let r = big_repo();
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("driftlint"))
            .current_dir(r.path())
            .args(args)
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .expect("runs");
        no_panic(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[cfg(unix)]
#[test]
fn a_closed_stdout_keeps_the_exit_code_of_the_findings() {
    let r = big_repo();
    write(r.path(), "k/pod.yaml", LATEST);
    write(r.path(), "k/kustomization.yaml", "resources: [pod.yaml]\n");
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("driftlint"))
        .current_dir(r.path())
        .args(["check", "k"])
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .expect("runs");
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_stdout_is_exit_2_with_a_message() {
    for args in STDOUT_COMMANDS {
        let r = big_repo();
        let full = std::fs::File::create("/dev/full").expect("/dev/full");
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("driftlint"))
            .current_dir(r.path())
            .args(args)
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .expect("runs");
        no_panic(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("No space left"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

// Item 16: what does not exist or cannot be read is an error, never a silent pass.

fn config_error_at(r: &Path, config: &str, line: u64, args: &[&str]) {
    write(r, ".driftlint.yaml", config);
    let out = check_json(r, args);
    no_panic(&out);
    let found = findings(&out);
    assert_eq!(out.status.code(), Some(2), "{config}: {found:?}");
    assert!(
        found.contains(&("CONFIG001".into(), ".driftlint.yaml".into(), line)),
        "{config}: {found:?}"
    );
}

#[test]
fn missing_or_invalid_config_entries_are_config001_at_their_line() {
    let r = repo();
    config_error_at(r.path(), "targets:\n  - apps\n  - nope\n", 3, &[]);
    config_error_at(r.path(), "ignore:\n  - '**/x/**'\n  - 'a/[b'\n", 3, &[]);
    config_error_at(r.path(), "strict: true\ncrdDirs:\n  - crds-nope\n", 3, &[]);
}

#[cfg(unix)]
#[test]
fn config_paths_leading_outside_are_config001_at_their_line() {
    let r = repo();
    let outside = tempfile::tempdir().expect("tempdir");
    write(outside.path(), "pod.yaml", LATEST);
    symlink(outside.path(), &r.path().join("linked"));
    write(
        r.path(),
        "chart/Chart.yaml",
        "apiVersion: v2\nname: chart\nversion: 0.1.0\n",
    );
    let rel = format!(
        "../{}",
        outside
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
    );
    for path in [rel.as_str(), "linked", "/etc"] {
        config_error_at(
            r.path(),
            &format!("targets:\n  - apps\n  - {path}\n"),
            3,
            &[],
        );
        config_error_at(r.path(), &format!("\ncrdDirs:\n  - {path}\n"), 3, &[]);
        config_error_at(
            r.path(),
            &format!("releases:\n  - chart: chart\n    values: [{path}/pod.yaml]\n"),
            2,
            &[],
        );
    }
}

#[test]
fn a_missing_crd_dir_flag_is_exit_2() {
    let r = repo();
    let out = driftlint()
        .current_dir(r.path())
        .args(["check", ".", "--crd-dir", "no-such-dir"])
        .output()
        .expect("runs");
    no_panic(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no-such-dir"),
        "{}",
        text(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn an_unreadable_directory_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let r = repo();
    write(r.path(), "locked/pod.yaml", LATEST);
    let locked = r.path().join("locked");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let readable_anyway = std::fs::read_dir(&locked).is_ok();
    let out = check_json(r.path(), &["."]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    no_panic(&out);
    if readable_anyway {
        // Running as root: chmod 000 does not stop reading.
        return;
    }
    let found = findings(&out);
    assert_eq!(out.status.code(), Some(2), "{found:?}");
    assert!(
        found
            .iter()
            .any(|(code, file, _)| code == "RENDER001" && file == "locked"),
        "{found:?}"
    );
}

// Item 17: --crd-dir is the operator's and may be outside; crdDirs: stays confined.

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
"#;

const WIDGET: &str =
    "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: large\n";

#[test]
fn a_crd_dir_flag_outside_the_repository_is_read() {
    let r = repo();
    write(r.path(), "apps/widget.yaml", WIDGET);
    let cache = tempfile::tempdir().expect("tempdir");
    write(cache.path(), "widgets.yaml", CRD);
    let out = driftlint()
        .current_dir(r.path())
        .args(["check", ".", "--format", "json", "--crd-dir"])
        .arg(cache.path())
        .output()
        .expect("runs");
    no_panic(&out);
    let found = findings(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{found:?} {}",
        text(&out.stderr)
    );
    assert!(
        found.contains(&("SCHEMA001".into(), "apps/widget.yaml".into(), 6)),
        "{found:?}"
    );
}

#[cfg(unix)]
#[test]
fn a_crd_dir_flag_inside_the_checkout_cannot_link_out() {
    let r = repo();
    let outside = tempfile::tempdir().expect("tempdir");
    write(outside.path(), "widgets.yaml", CRD);
    symlink(outside.path(), &r.path().join("crds"));
    let out = driftlint()
        .current_dir(r.path())
        .args(["check", ".", "--crd-dir", "crds"])
        .output()
        .expect("runs");
    no_panic(&out);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("escapes"),
        "{}",
        text(&out.stderr)
    );
}

// Item 22: a release or target written differently is still the same chart or directory.

#[test]
fn a_release_written_with_dot_slash_replaces_the_discovered_chart() {
    let r = repo();
    write(
        r.path(),
        "charts/app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    );
    write(r.path(), "charts/app/templates/cm.yaml", CONFIG_MAP);
    for chart in ["./charts/app", "charts/app/", "charts/../charts/app"] {
        write(
            r.path(),
            ".driftlint.yaml",
            &format!("releases:\n  - chart: {chart}\n    name: prod\n"),
        );
        let out = check_json(r.path(), &[]);
        no_panic(&out);
        let report: Value = serde_json::from_slice(&out.stdout).expect("json");
        // apps/ (manifests) and the chart, once.
        assert_eq!(report["summary"]["targetsChecked"], 2, "{chart}: {report}");
    }
    write(
        r.path(),
        ".driftlint.yaml",
        "targets:\n  - ./apps/\n  - apps\n  - apps/../apps\n",
    );
    let out = check_json(r.path(), &[]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["summary"]["targetsChecked"], 1, "{report}");
}

/// Item 8: the binary keeps ASLR. On Linux it is a position-independent executable: its ELF
/// header says `ET_DYN` (3), not `ET_EXEC` (2) as a `-no-pie` link does.
#[cfg(target_os = "linux")]
#[test]
fn the_binary_is_position_independent() {
    let bin = std::fs::read(env!("CARGO_BIN_EXE_driftlint")).expect("the binary");
    assert_eq!(&bin[..4], b"\x7fELF", "an ELF file");
    let e_type = u16::from_le_bytes([bin[16], bin[17]]);
    assert_eq!(e_type, 3, "ET_DYN (a PIE), not ET_EXEC");
}
