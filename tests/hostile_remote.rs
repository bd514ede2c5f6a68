//! End-to-end tests of hostile pull requests (issue 11): remote bases under `--allow-remote`
//! (transports, git's environment) and special files (FIFOs) where files are expected.
//!
//! Every run has a timeout: a regression here shows as a hang, which must fail the test.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

/// The binary, killed after 20 s, with its cache and HOME in `tmp`.
fn driftlint(tmp: &Path) -> Command {
    let mut cmd = Command::cargo_bin("driftlint").expect("binary built");
    cmd.timeout(Duration::from_secs(20))
        .env("XDG_CACHE_HOME", tmp.join("cache"))
        .env("HOME", tmp.join("home"))
        .env_remove(ALLOW_SSH);
    cmd
}

const ALLOW_SSH: &str = "DRIFTLINT_ALLOW_SSH";

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let st = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(st.success(), "mkfifo {}", path.display());
}

/// Runs the real git in `dir` (test setup).
fn git(dir: &Path, args: &[&str]) {
    let st = std::process::Command::new("git")
        .args(["-c", "user.email=t@e", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs")
        .status;
    assert!(st.success(), "git {args:?}");
}

/// stdout and stderr of a finished run, and its exit code (-1 when killed by the timeout).
fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\n";

/// A git repository outside the checked root whose ConfigMap holds `OUTSIDE-SECRET`.
fn outside_repo(tmp: &Path) -> PathBuf {
    let outside = tmp.join("outside");
    write(
        &outside,
        "deploy/cm.yaml",
        &CM.replace("a: b", "a: OUTSIDE-SECRET"),
    );
    write(
        &outside,
        "deploy/kustomization.yaml",
        "resources:\n- cm.yaml\n",
    );
    git(&outside, &["init", "-q"]);
    git(&outside, &["add", "-A"]);
    git(&outside, &["commit", "-q", "-m", "x"]);
    outside
}

#[test]
fn file_bases_outside_the_root_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let outside = outside_repo(tmp.path());
    let repo = tmp.path().join("repo");
    let url = format!("file://{}//deploy", outside.display());
    write(
        &repo,
        "ov/kustomization.yaml",
        &format!("resources:\n- {url}\n"),
    );
    let (code, out) = run(driftlint(tmp.path())
        .arg("render")
        .arg(repo.join("ov"))
        .arg("--allow-remote"));
    assert_ne!(code, 0, "{out}");
    assert!(
        !out.contains("OUTSIDE-SECRET"),
        "read outside the root:\n{out}"
    );
    assert!(
        out.contains(&format!("refused: file://{}", outside.display()))
            && out.contains("only https:// repositories are cloned"),
        "{out}"
    );
    let (code, out) = run(driftlint(tmp.path()).arg("check").arg(&repo).args([
        "--allow-remote",
        "--format",
        "json",
    ]));
    assert_eq!(code, 2, "{out}");
    assert!(!out.contains("OUTSIDE-SECRET"), "{out}");
    assert!(
        out.contains("RENDER001") && out.contains("refused: file://"),
        "{out}"
    );
    assert!(
        !tmp.path().join("cache/driftlint/remote").exists(),
        "nothing is cloned"
    );
}

/// A fake `git` first on PATH that dumps its environment and arguments into `tmp/git.*`
/// and fails; returns the PATH to give driftlint.
fn fake_git_path(tmp: &Path) -> std::ffi::OsString {
    use std::os::unix::fs::PermissionsExt;
    let bin = tmp.join("bin");
    let dump = tmp.join("git");
    write(
        &bin,
        "git",
        &format!(
            "#!/bin/sh\nenv > '{d}.env'\nfor a in \"$@\"; do echo \"$a\"; done > '{d}.args'\necho 'fatal: fake git' >&2\nexit 128\n",
            d = dump.display()
        ),
    );
    std::fs::set_permissions(bin.join("git"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let mut path = bin.into_os_string();
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    path
}

#[test]
fn git_gets_no_tokens_and_only_https() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    write(
        &repo,
        "ov/kustomization.yaml",
        "resources:\n- https://example.com/org/repo//deploy?ref=v1&timeout=1000h\n",
    );
    let (code, out) = run(driftlint(tmp.path())
        .arg("render")
        .arg(repo.join("ov"))
        .arg("--allow-remote")
        .env("PATH", fake_git_path(tmp.path()))
        .env("DRIFTLINT_CANARY", "canary-7f3a")
        .env("GITHUB_TOKEN", "ghp_canary-7f3a")
        .env("GIT_ALLOW_PROTOCOL", "file:ext:https")
        .env("GIT_CONFIG_GLOBAL", tmp.path().join("evil.gitconfig")));
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("git clone failed: fatal: fake git"), "{out}");
    let env = std::fs::read_to_string(tmp.path().join("git.env")).expect("fake git ran");
    assert!(!env.contains("canary-7f3a"), "a token reached git:\n{env}");
    assert!(!env.contains("DRIFTLINT_CANARY"), "{env}");
    for want in [
        "GIT_ALLOW_PROTOCOL=https",
        "GIT_CONFIG_GLOBAL=/dev/null",
        "GIT_CONFIG_NOSYSTEM=1",
        "GIT_TERMINAL_PROMPT=0",
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing:\n{env}");
    }
    let args = std::fs::read_to_string(tmp.path().join("git.args")).expect("args");
    let args: Vec<&str> = args.lines().collect();
    assert!(
        args.windows(2)
            .any(|w| w == ["-c", "protocol.file.allow=never"]),
        "{args:?}"
    );
    let dash = args.iter().position(|a| *a == "--").expect("--");
    assert_eq!(args[dash + 1], "https://example.com/org/repo", "{args:?}");
}

#[test]
fn ssh_only_when_the_operator_allows_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    write(
        &repo,
        "ov/kustomization.yaml",
        "resources:\n- git@example.com:org/repo.git//deploy\n",
    );
    let path = fake_git_path(tmp.path());
    let (code, out) = run(driftlint(tmp.path())
        .arg("render")
        .arg(repo.join("ov"))
        .arg("--allow-remote")
        .env("PATH", &path));
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("DRIFTLINT_ALLOW_SSH=1"), "{out}");
    assert!(!tmp.path().join("git.env").exists(), "git ran");
    let (code, out) = run(driftlint(tmp.path())
        .arg("render")
        .arg(repo.join("ov"))
        .arg("--allow-remote")
        .env("PATH", &path)
        .env(ALLOW_SSH, "1"));
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("git clone failed: fatal: fake git"), "{out}");
    let env = std::fs::read_to_string(tmp.path().join("git.env")).expect("fake git ran");
    assert!(
        env.lines().any(|l| l == "GIT_ALLOW_PROTOCOL=https:ssh"),
        "{env}"
    );
}

#[test]
fn transport_helpers_are_not_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    let pwned = tmp.path().join("pwned");
    write(
        &repo,
        "ov/kustomization.yaml",
        &format!(
            "resources:\n- \"ext::sh -c touch% {p}\"\n- \"git::ext::sh -c touch% {p}\"\n",
            p = pwned.display()
        ),
    );
    let (code, out) = run(driftlint(tmp.path())
        .arg("render")
        .arg(repo.join("ov"))
        .arg("--allow-remote"));
    assert_ne!(code, 0, "{out}");
    assert!(!pwned.exists(), "a transport helper ran");
}

#[test]
fn a_fifo_resource_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    write(&repo, "a/kustomization.yaml", "resources:\n- cm.yaml\n");
    mkfifo(&repo.join("a/cm.yaml"));
    let (code, out) = run(driftlint(tmp.path()).arg("check").arg(&repo));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("a/cm.yaml: not a regular file"), "{out}");
}

#[test]
fn a_fifo_config_file_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    write(&repo, "m/cm.yaml", CM);
    mkfifo(&repo.join(".driftlint.yaml"));
    let (code, out) = run(driftlint(tmp.path())
        .arg("check")
        .arg(&repo)
        .args(["--format", "json"]));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("CONFIG001") && out.contains(".driftlint.yaml: not a regular file"),
        "{out}"
    );
}

/// The human report shows only files read through `RepoFs` (which refuses the FIFO), never
/// reading the file a finding names again.
#[test]
fn a_fifo_config_file_is_refused_in_the_human_report() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    write(&repo, "m/cm.yaml", CM);
    mkfifo(&repo.join(".driftlint.yaml"));
    let (code, out) = run(driftlint(tmp.path()).arg("check").arg(&repo));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains(".driftlint.yaml: not a regular file"), "{out}");
}

#[test]
fn a_fifo_manifest_does_not_hang() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    write(&repo, "m/cm.yaml", CM);
    mkfifo(&repo.join("m/x.yaml"));
    let (code, out) = run(driftlint(tmp.path()).arg("check").arg(&repo));
    assert!(code == 0 || code == 2, "{out}");
}

/// Discovery reports a special file where a manifest would be read.
#[test]
fn a_fifo_manifest_is_reported() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    write(&repo, "m/cm.yaml", CM);
    mkfifo(&repo.join("m/x.yaml"));
    let (code, out) = run(driftlint(tmp.path()).arg("check").arg(&repo));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("m/x.yaml"), "{out}");
}

/// The chart loader refuses a FIFO among chart files before opening it.
#[test]
fn a_fifo_chart_file_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    write(
        &repo,
        "ch/Chart.yaml",
        "apiVersion: v2\nname: ch\nversion: 0.1.0\n",
    );
    mkfifo(&repo.join("ch/templates/cm.yaml"));
    let (code, out) = run(driftlint(tmp.path()).arg("check").arg(&repo));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("templates/cm.yaml"), "{out}");
}

/// True when `pid` is gone (or a zombie, which no longer runs).
#[cfg(target_os = "linux")]
fn dead(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

#[cfg(target_os = "linux")]
#[test]
fn git_dies_with_driftlint() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    write(
        &repo,
        "ov/kustomization.yaml",
        "resources:\n- https://example.com/org/repo//deploy\n",
    );
    let bin = tmp.path().join("bin");
    let pid_file = tmp.path().join("git.pid");
    write(
        &bin,
        "git",
        &format!(
            "#!/bin/sh\necho $$ > '{p}.tmp'\nmv '{p}.tmp' '{p}'\nexec sleep 1000\n",
            p = pid_file.display()
        ),
    );
    std::fs::set_permissions(bin.join("git"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let mut path = bin.into_os_string();
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("driftlint"))
        .arg("render")
        .arg(repo.join("ov"))
        .arg("--allow-remote")
        .env("PATH", path)
        .env("XDG_CACHE_HOME", tmp.path().join("cache"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("driftlint starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !pid_file.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let git_pid = std::fs::read_to_string(&pid_file);
    child.kill().expect("kill driftlint");
    child.wait().expect("reaped");
    let git_pid = git_pid.expect("git started");
    let git_pid = git_pid.trim();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !dead(git_pid) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let alive = !dead(git_pid);
    if alive {
        // Do not leave it behind.
        let _ = std::process::Command::new("kill")
            .args(["-KILL", git_pid])
            .status();
    }
    assert!(!alive, "git outlived driftlint");
}
