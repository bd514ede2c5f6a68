//! URL grammar (cases worked out from kustomize v5.7.1's `NewRepoSpecFromURL`), the fetch
//! policy for untrusted repositories, and cloning from a local `file://` repository made here
//! (allowed in unit tests only, through [`ALLOW_FILE_IN_TESTS`]).

use super::*;

fn parsed(url: &str) -> (String, String, String, String) {
    let s = RepoSpec::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    (s.host, s.repo_path, s.kust_root, s.git_ref)
}

fn t(h: &str, r: &str, k: &str, g: &str) -> (String, String, String, String) {
    (h.into(), r.into(), k.into(), g.into())
}

#[test]
fn github_forms_are_normalised() {
    let gh = "https://github.com/";
    let ssh = "git@github.com:";
    let cases = [
        (
            "github.com/org/repo//deploy?ref=v1",
            t(gh, "org/repo", "deploy", "v1"),
        ),
        (
            "github.com/org/repo/deploy/dir?ref=v1",
            t(gh, "org/repo", "deploy/dir", "v1"),
        ),
        ("github.com/org/repo", t(gh, "org/repo", "", "")),
        ("github.com:org/repo", t(gh, "org/repo", "", "")),
        (
            "https://github.com/org/repo.git//sub?version=main",
            t(gh, "org/repo.git", "sub", "main"),
        ),
        (
            "http://github.com/org/repo/dir",
            t(gh, "org/repo", "dir", ""),
        ),
        ("HTTPS://GitHub.com/Org/Repo", t(gh, "Org/Repo", "", "")),
        (
            "git::https://github.com/org/repo//x",
            t(gh, "org/repo", "x", ""),
        ),
        (
            "git@github.com:org/repo.git//path?ref=b",
            t(ssh, "org/repo.git", "path", "b"),
        ),
        ("git@github.com/org/repo", t(ssh, "org/repo", "", "")),
        ("ssh://git@github.com/org/repo", t(ssh, "org/repo", "", "")),
        (
            "ssh://github.com/org/repo/a/b",
            t("github.com:", "org/repo", "a/b", ""),
        ),
    ];
    for (url, want) in cases {
        assert_eq!(parsed(url), want, "{url}");
    }
}

#[test]
fn other_hosts_split_at_markers_or_two_segments() {
    let cases = [
        (
            "https://gitlab.com/group/sub/repo.git/deploy?ref=v2",
            t("https://gitlab.com/", "group/sub/repo.git", "deploy", "v2"),
        ),
        (
            "https://gitlab.com/group/repo/deploy",
            t("https://gitlab.com/", "group/repo", "deploy", ""),
        ),
        (
            "https://dev.azure.com/org/project/_git/repo/path?version=GBmain",
            t(
                "https://dev.azure.com/",
                "org/project/_git/repo",
                "path",
                "GBmain",
            ),
        ),
        (
            "https://itfs.example.com/collection/project/_git/repos",
            t(
                "https://itfs.example.com/",
                "collection/project/_git/repos",
                "",
                "",
            ),
        ),
        (
            "ssh://git@example.com:7999/org/repo",
            t("ssh://git@example.com:7999/", "org/repo", "", ""),
        ),
        (
            "git::https://gitlab.com/org/repo//x?ref=t",
            t("https://gitlab.com/", "org/repo", "x", "t"),
        ),
        (
            "user@host:path/to/repo.git/sub",
            t("user@host:", "path/to/repo.git", "sub", ""),
        ),
        (
            "git@gitlab.example.ru:10022/infra/kubernetes/thanos-base.git?ref=v0.1.0",
            t(
                "git@gitlab.example.ru:",
                "10022/infra/kubernetes/thanos-base.git",
                "",
                "v0.1.0",
            ),
        ),
        (
            "git@bitbucket.org:company/project.git//path?ref=branch",
            t(
                "git@bitbucket.org:",
                "company/project.git",
                "path",
                "branch",
            ),
        ),
        (
            "https://bitbucket.example.com/scm/project/repository.git",
            t(
                "https://bitbucket.example.com/",
                "scm/project/repository.git",
                "",
                "",
            ),
        ),
        (
            "file:///tmp/rr/repo.git//deploy?ref=v1",
            t("file://", "/tmp/rr/repo.git", "deploy", "v1"),
        ),
        (
            "file:///srv/repos/app",
            t("file://", "/srv/repos/app", "", ""),
        ),
        (
            "file:///srv/repos/app.git/overlays/prod",
            t("file://", "/srv/repos/app.git", "overlays/prod", ""),
        ),
        (
            "https://example.com/org/repo//a/../b",
            t("https://example.com/", "org/repo", "a/../b", ""),
        ),
    ];
    for (url, want) in cases {
        assert_eq!(parsed(url), want, "{url}");
    }
}

#[test]
fn query_parameters() {
    let q = |url: &str| {
        let s = RepoSpec::parse(url).expect("parses");
        (s.git_ref, s.timeout, s.submodules)
    };
    let d = DEFAULT_TIMEOUT;
    let base = "https://example.com/org/repo";
    assert_eq!(q(&format!("{base}?ref=a&ref=b")), ("a".into(), d, true));
    assert_eq!(q(&format!("{base}?version=x&ref=y")), ("y".into(), d, true));
    assert_eq!(q(&format!("{base}?version=x&ref=")), ("x".into(), d, true));
    assert_eq!(
        q(&format!("{base}?ref=feature%2Fx+y")),
        ("feature/x y".into(), d, true)
    );
    assert_eq!(
        q(&format!("{base}?ref=%zz")),
        ("".into(), d, true),
        "bad escape: defaults"
    );
    assert_eq!(
        q(&format!("{base}?ref=a;b=c")),
        ("".into(), d, true),
        "semicolon: defaults"
    );
    let s61 = Duration::from_secs(61);
    assert_eq!(
        q(&format!("{base}?timeout=61&submodules=false")),
        ("".into(), s61, false)
    );
    assert_eq!(q(&format!("{base}?timeout=1m1s&submodules=F")).1, s61);
    assert_eq!(
        q(&format!("{base}?timeout=1.5h")).1,
        Duration::from_secs(5400)
    );
    assert_eq!(
        q(&format!("{base}?timeout=300ms")).1,
        Duration::from_millis(300)
    );
    for bad in ["0", "0s", "jiffy", "-5", "5x", ""] {
        assert_eq!(q(&format!("{base}?timeout={bad}")).1, d, "{bad}");
    }
    for (v, want) in [("maybe", true), ("", true), ("0", false), ("TRUE", true)] {
        assert_eq!(q(&format!("{base}?submodules={v}")).2, want, "{v}");
    }
}

#[test]
fn local_paths_and_malformed_urls_are_not_remote() {
    let cases = [
        ("/abs/path", "abs path"),
        ("../base", "scheme"),
        ("base", "scheme"),
        ("example.com/org/repo", "scheme"),
        ("gh:org/repo", "scheme"),
        ("https://example.com", "repo path"),
        ("https://example.com/org", "repo path"),
        ("https://", "host"),
        ("github.com/org", "repo path"),
        ("github.com/org/repo//../x", "exits repo"),
        ("https://example.com/org/repo.git/../../x", "exits repo"),
    ];
    for (url, why) in cases {
        match RepoSpec::parse(url) {
            Ok(s) => panic!("{url} parsed as {s:?}"),
            Err(e) => assert!(e.contains(why), "{url}: {e}"),
        }
    }
}

#[test]
fn clone_specs_labels_and_cache_keys() {
    let s = RepoSpec::parse("github.com/org/repo//deploy?ref=v1").expect("parses");
    assert_eq!(s.clone_spec(), "https://github.com/org/repo");
    assert_eq!(s.label(), "github.com/org/repo@v1");
    let f = RepoSpec::parse("file:///tmp/rr/repo.git//deploy?ref=release/1").expect("parses");
    assert_eq!(f.clone_spec(), "file:///tmp/rr/repo.git");
    assert_eq!(f.label(), "file/tmp/rr/repo.git@release_1");
    let p = RepoSpec::parse("ssh://git@example.com:7999/org/repo").expect("parses");
    assert_eq!(p.label(), "example.com/7999/org/repo");
    let other_dir = RepoSpec::parse("github.com/org/repo//other?ref=v1").expect("parses");
    assert_eq!(
        s.cache_key(),
        other_dir.cache_key(),
        "one clone per repository and ref"
    );
    let v2 = RepoSpec::parse("github.com/org/repo//deploy?ref=v2").expect("parses");
    assert_ne!(s.cache_key(), v2.cache_key());
    assert_eq!(s.cache_key().len(), 64);
}

#[test]
fn http_files_are_told_apart_from_repositories() {
    assert!(is_http_file(
        "https://raw.githubusercontent.com/org/repo/main/deploy.yaml"
    ));
    assert!(is_http_file("http://example.com/x.YML?token=1"));
    assert!(!is_http_file("https://github.com/org/repo//deploy?ref=v1"));
    assert!(!is_http_file("https://example.com/org/repo.git/x.yaml"));
    assert!(!is_http_file("github.com/org/repo/x.yaml"));
}

/// Runs git in `dir` for test setup.
fn sh_git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .args(["-c", "user.email=t@e", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("git runs");
    assert!(st.success(), "git {args:?}");
}

/// A bare repository with `deploy/cm.yaml` at tag `v1` (and a later commit on main
/// changing it); returns (temp dir, bare repo path, v1 commit id).
///
/// Allows `file://` URLs on this thread ([`ALLOW_FILE_IN_TESTS`]), which the policy refuses
/// outside unit tests.
pub(crate) fn bare_repo() -> (tempfile::TempDir, PathBuf, String) {
    ALLOW_FILE_IN_TESTS.with(|a| a.set(true));
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("deploy")).expect("mkdir");
    let write = |p: &str, c: &str| std::fs::write(src.join(p), c).expect("write");
    write(
        "deploy/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote-cm\ndata:\n  a: b\n",
    );
    write(
        "deploy/kustomization.yaml",
        "resources:\n- cm.yaml\nnamePrefix: r-\n",
    );
    sh_git(&src, &["init", "-q", "-b", "main"]);
    sh_git(&src, &["add", "-A"]);
    sh_git(&src, &["commit", "-q", "-m", "v1"]);
    sh_git(&src, &["tag", "v1"]);
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&src)
        .output()
        .expect("rev-parse");
    let sha = String::from_utf8_lossy(&out.stdout).trim().to_string();
    write(
        "deploy/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote-cm\ndata:\n  a: main\n",
    );
    sh_git(&src, &["commit", "-q", "-am", "main"]);
    let bare = tmp.path().join("repo.git");
    sh_git(tmp.path(), &["clone", "-q", "--bare", "src", "repo.git"]);
    sh_git(&bare, &["config", "uploadpack.allowAnySHA1InWant", "true"]);
    (tmp, bare, sha)
}

#[test]
fn clones_a_local_repository_at_a_ref_and_reuses_the_cache() {
    let (tmp, bare, sha) = bare_repo();
    let cache = tmp.path().join("cache");
    let url = format!("file://{}//deploy?ref=v1", bare.display());
    let spec = RepoSpec::parse(&url).expect("parses");
    let dir = fetch(&spec, &cache).expect("clones");
    assert!(dir.starts_with(cache.join("remote")));
    assert_eq!(
        dir.file_name().and_then(|n| n.to_str()),
        Some(spec.cache_key().as_str())
    );
    let cm = std::fs::read_to_string(dir.join("deploy/cm.yaml")).expect("cloned file");
    assert!(cm.contains("a: b"), "{cm}");
    // The default branch, and a commit id (fetched, as --branch cannot take one).
    let main = RepoSpec::parse(&format!("file://{}//deploy", bare.display())).expect("parses");
    let cm = std::fs::read_to_string(fetch(&main, &cache).expect("clones").join("deploy/cm.yaml"));
    assert!(cm.expect("main").contains("a: main"));
    let at_sha = RepoSpec::parse(&format!("file://{}?ref={sha}", bare.display())).expect("parses");
    let cm = std::fs::read_to_string(
        fetch(&at_sha, &cache)
            .expect("fetches")
            .join("deploy/cm.yaml"),
    );
    assert!(cm.expect("sha").contains("a: b"));
    // Cached: works with the repository gone, and no temporary directories are left.
    std::fs::remove_dir_all(&bare).expect("rm");
    assert_eq!(fetch(&spec, &cache).expect("cached"), dir);
    let left: Vec<_> = std::fs::read_dir(cache.join("remote"))
        .expect("cache")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(left.is_empty());
}

#[test]
fn clone_failures_are_errors_with_gits_reason() {
    let (tmp, bare, _) = bare_repo();
    let cache = tmp.path().join("cache");
    let spec = RepoSpec::parse(&format!("file://{}?ref=nope", bare.display())).expect("parses");
    let e = fetch(&spec, &cache).expect_err("no such ref");
    assert!(
        e.starts_with("git clone failed:") && e.contains("nope"),
        "{e}"
    );
    let missing = RepoSpec::parse("file:///nonexistent/driftlint/repo.git").expect("parses");
    assert!(fetch(&missing, &cache).is_err());
    let spec = RepoSpec::parse(&format!("file://{}", bare.display())).expect("parses");
    let slow = FetchPolicy {
        timeout: Duration::from_millis(1),
        ..FetchPolicy::from_env()
    };
    let e = fetch_with(&spec, &tmp.path().join("cache2"), &slow).expect_err("times out");
    assert!(matches!(e, RemoteError::TimedOut { .. }), "{e}");
}

/// The policy outside tests: `file://` is not allowed whatever the thread says.
fn policy(allow_ssh: bool) -> FetchPolicy {
    FetchPolicy {
        allow_ssh,
        allow_file: false,
        ..FetchPolicy::from_env()
    }
}

/// Whether `url` would be cloned: a remote URL the policy allows.
fn allowed(url: &str, allow_ssh: bool) -> Result<(), String> {
    let spec = RepoSpec::parse(url).map_err(|e| format!("not remote: {e}"))?;
    policy(allow_ssh).check(&spec).map_err(|e| e.to_string())
}

#[test]
fn only_https_is_cloned_and_ssh_on_the_operators_word() {
    for url in [
        "https://example.com/org/repo//deploy?ref=v1",
        "https://gitlab.example.com:8443/group/sub/repo.git/deploy",
        "git::https://example.com/org/repo",
        "HTTPS://example.com/org/repo",
        "github.com/org/repo//deploy?ref=v1",
        "http://github.com/org/repo", // normalised to https
        "https://bot@example.com/org/repo",
    ] {
        assert_eq!(allowed(url, false), Ok(()), "{url}");
    }
    for url in [
        "ssh://git@example.com:7999/org/repo",
        "git@github.com:org/repo.git//path?ref=b",
        "user@host:path/to/repo.git/sub",
        "ssh://github.com/org/repo/a/b",
    ] {
        let e = allowed(url, false).expect_err(url);
        assert!(e.contains("DRIFTLINT_ALLOW_SSH=1"), "{url}: {e}");
        assert_eq!(allowed(url, true), Ok(()), "{url} with ssh allowed");
    }
}

#[test]
fn file_http_helpers_and_options_are_refused() {
    let refused = [
        // Local repositories outside the root.
        "file:///tmp/rr/repo.git//deploy?ref=v1",
        "FILE:///srv/repos/app",
        "git::file:///srv/repos/app",
        // Plain text transports.
        "http://example.com/org/repo",
        // ssh option injection through the host or the path.
        "git@-oProxyCommand=touch%20x:org/repo",
        "ssh://-oProxyCommand=x/org/repo",
        "git@host:-upload-pack=x/repo",
        // Not a host name.
        "https://exa_mple.com/org/repo",
        "https://example.com:port/org/repo",
    ];
    for url in refused {
        for ssh in [false, true] {
            match allowed(url, ssh) {
                Err(e) if e.starts_with("refused: ") => {}
                other => panic!("{url} (ssh {ssh}): {other:?}"),
            }
        }
    }
    // Transport helpers and option-like strings are not remote URLs at all (they are read
    // as local paths, which then do not exist).
    for url in [
        "ext::sh -c touch% /tmp/pwned",
        "git::ext::sh -c id",
        "fd::3",
        "-uhttps://example.com/org/repo",
        "--upload-pack=touch /tmp/x",
    ] {
        let r = allowed(url, true);
        assert!(
            r.as_ref().is_err_and(|e| e.starts_with("not remote")),
            "{url}: {r:?}"
        );
    }
    // A ref that looks like an option.
    let e = allowed("https://example.com/org/repo?ref=-x", true).expect_err("ref");
    assert!(e.contains("ref starts with '-'"), "{e}");
}

#[test]
fn the_urls_timeout_is_ignored() {
    let spec = RepoSpec::parse("https://example.com/org/repo?timeout=1000h").expect("parses");
    assert_eq!(
        spec.timeout,
        Duration::from_secs(3_600_000),
        "kustomize grammar"
    );
    assert_eq!(FetchPolicy::from_env().timeout, DEFAULT_TIMEOUT);
    assert_eq!(DEFAULT_TIMEOUT, Duration::from_secs(27));
}

/// A fake `git` (a shell script) in a temporary directory.
#[cfg(unix)]
fn fake_git(dir: &Path, body: &str) -> OsString {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("git");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path.into_os_string()
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
fn a_timeout_kills_git_and_its_children() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pids = tmp.path().join("pids");
    // git starts a helper (as git-remote-https would), then hangs.
    let body = format!(
        "sleep 1000 &\necho $! > '{p}.tmp'\nmv '{p}.tmp' '{p}'\nsleep 1000",
        p = pids.display()
    );
    let policy = FetchPolicy {
        timeout: Duration::from_secs(1),
        git: fake_git(tmp.path(), &body),
        ..policy(false)
    };
    let spec = RepoSpec::parse("https://example.com/org/repo?timeout=1000h").expect("parses");
    let start = Instant::now();
    let e = fetch_with(&spec, &tmp.path().join("cache"), &policy).expect_err("times out");
    assert!(matches!(e, RemoteError::TimedOut { .. }), "{e}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let child = std::fs::read_to_string(&pids).expect("the fake git started its child");
    let child = child.trim();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !dead(child) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(dead(child), "git's child {child} survived the timeout");
}

#[cfg(target_os = "linux")]
#[test]
fn stragglers_are_killed_when_git_exits() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pids = tmp.path().join("pids");
    // git leaves a child holding stderr open, and fails.
    let body = format!(
        "sleep 1000 &\necho $! > '{}'\necho 'fatal: no' >&2\nexit 1",
        pids.display()
    );
    let policy = FetchPolicy {
        git: fake_git(tmp.path(), &body),
        ..policy(false)
    };
    let spec = RepoSpec::parse("https://example.com/org/repo").expect("parses");
    let start = Instant::now();
    let e = fetch_with(&spec, &tmp.path().join("cache"), &policy).expect_err("fails");
    assert_eq!(e.to_string(), "git clone failed: fatal: no");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let child = std::fs::read_to_string(&pids).expect("pid");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !dead(child.trim()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(dead(child.trim()), "git's child survived");
}

#[cfg(unix)]
#[test]
fn git_gets_a_minimal_environment_and_hardened_arguments() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let body = format!(
        "env > '{o}.env'\nfor a in \"$@\"; do echo \"$a\"; done > '{o}.args'\nexit 1",
        o = out.display()
    );
    let policy = FetchPolicy {
        git: fake_git(tmp.path(), &body),
        ..policy(false)
    };
    let spec = RepoSpec::parse("https://example.com/org/repo//deploy?ref=v1").expect("parses");
    fetch_with(&spec, &tmp.path().join("cache"), &policy).expect_err("fake git fails");
    let env = std::fs::read_to_string(out.with_extension("env")).expect("env dump");
    let keys: Vec<&str> = env
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k)
        .collect();
    // The shell adds PWD, SHLVL and `_`; the proxy and CA settings pass when set.
    let allowed = [
        "PATH",
        "HOME",
        "LANG",
        "LC_ALL",
        "GIT_TERMINAL_PROMPT",
        "GCM_INTERACTIVE",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_CONFIG_GLOBAL",
        "GIT_ALLOW_PROTOCOL",
        "GIT_PROTOCOL_FROM_USER",
        "PWD",
        "OLDPWD",
        "SHLVL",
        "_",
    ];
    for k in &keys {
        assert!(
            allowed.contains(k) || PASSED_ENV.contains(k),
            "{k} leaked into git's environment:\n{env}"
        );
    }
    for want in [
        "GIT_ALLOW_PROTOCOL=https",
        "GIT_CONFIG_GLOBAL=/dev/null",
        "GIT_CONFIG_NOSYSTEM=1",
        "GIT_TERMINAL_PROMPT=0",
        "LANG=C",
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing:\n{env}");
    }
    let home = env
        .lines()
        .find_map(|l| l.strip_prefix("HOME="))
        .expect("HOME");
    assert!(home.contains(".home-"), "{home}");
    let args = std::fs::read_to_string(out.with_extension("args")).expect("args dump");
    let args: Vec<&str> = args.lines().collect();
    for c in [
        "protocol.allow=never",
        "protocol.https.allow=always",
        "protocol.file.allow=never",
        "core.hooksPath=/dev/null",
        "credential.helper=",
    ] {
        assert!(
            args.windows(2).any(|w| w == ["-c", c]),
            "-c {c} missing: {args:?}"
        );
    }
    let dash = args.iter().position(|a| *a == "--").expect("--");
    assert_eq!(args[dash + 1], "https://example.com/org/repo");
    assert!(args.contains(&"--branch=v1"), "{args:?}");
}
