//! `driftlint render --origins DIR` and `--allow-remote` (on `render`, `kustomize build`
//! and `check`) through the real binary, on repositories written here.

use std::path::Path;

use assert_cmd::Command;

fn write(root: &Path, files: &[(&str, &str)]) {
    for (p, c) in files {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, c).expect("write");
    }
}

fn render(dir: &Path, origins: bool) -> String {
    let mut cmd = Command::cargo_bin("driftlint").expect("binary built");
    cmd.arg("render").arg(dir);
    if origins {
        cmd.arg("--origins");
    }
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "render failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn render_origins_names_file_line_column_and_transformer() {
    let repo = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(repo.path().join(".git")).expect("mkdir .git");
    write(
        repo.path(),
        &[
            (
                "apps/base/deployment.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.1\n        args:\n        - |\n          multi\n          line\n",
            ),
            (
                "apps/base/kustomization.yaml",
                "resources:\n- deployment.yaml\n",
            ),
            (
                "apps/prod/kustomization.yaml",
                "resources:\n- ../base\nnamespace: prod\nimages:\n- name: nginx\n  newTag: \"1.2\"\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      replicas: 3\n",
            ),
        ],
    );
    let dir = repo.path().join("apps/prod");
    let annotated = render(&dir, true);
    let k = "apps/prod/kustomization.yaml";
    let expected = format!(
        "apiVersion: apps/v1 # apps/base/deployment.yaml:1:13
kind: Deployment # apps/base/deployment.yaml:2:7
metadata:
  name: web # apps/base/deployment.yaml:4:9
  namespace: prod # {k}:3:12 (namespace transformer)
spec:
  replicas: 3 # {k}:14:17 (patch)
  template:
    spec:
      containers:
      - args:
        - | # apps/base/deployment.yaml:13:11
          multi
          line
        image: nginx:1.2 # {k}:6:11 (images transformer)
        name: web # apps/base/deployment.yaml:9:15
"
    );
    assert_eq!(annotated, expected);
    let plain = render(&dir, false);
    let stripped: Vec<&str> = annotated
        .lines()
        .map(|l| l.split(" # ").next().unwrap_or(l))
        .collect();
    assert_eq!(stripped.join("\n") + "\n", plain);
}

fn git(dir: &Path, args: &[&str]) {
    let ok = std::process::Command::new("git")
        .args(["-c", "user.email=t@e", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs")
        .status
        .success();
    assert!(ok, "git {args:?}");
}

#[cfg(unix)]
#[test]
fn allow_remote_clones_into_the_xdg_cache() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("src");
    write(
        &src,
        &[
            ("deploy/kustomization.yaml", "resources:\n- cm.yaml\n"),
            (
                "deploy/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote\n",
            ),
        ],
    );
    git(&src, &["init", "-q", "-b", "main"]);
    git(&src, &["add", "-A"]);
    git(&src, &["commit", "-q", "-m", "x"]);
    git(&src, &["tag", "v1"]);
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).expect("mkdir");
    // Only https is cloned (file:// is refused): a fake `git` first on PATH "clones" by
    // copying `src` into the last argument.
    let k = "resources:\n- https://example.com/org/src//deploy?ref=v1\nnamePrefix: p-\n";
    write(&repo, &[("ov/kustomization.yaml", k)]);
    let bin = tmp.path().join("bin");
    let fake = format!(
        "#!/bin/sh\nfor a in \"$@\"; do last=\"$a\"; done\nmkdir -p \"$last\" && cp -R '{}/.' \"$last\"\n",
        src.display()
    );
    write(&bin, &[("git", fake.as_str())]);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(bin.join("git"), mode).expect("chmod");
    }
    let mut path = bin.into_os_string();
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let cache = tmp.path().join("xdg");
    let run = |args: &[&str]| {
        Command::cargo_bin("driftlint")
            .expect("binary built")
            .args(args)
            .env("XDG_CACHE_HOME", &cache)
            .env("PATH", &path)
            .current_dir(&repo)
            .output()
            .expect("runs")
    };
    let refused = run(&["render", "ov"]);
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(err.contains("remote resources are not fetched"), "{err}");
    let expected = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p-remote\n";
    for args in [
        &["render", "--allow-remote", "ov"][..],
        &["kustomize", "build", "--allow-remote", "ov"][..],
    ] {
        let out = run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{args:?}");
    }
    let clones: Vec<_> = std::fs::read_dir(cache.join("driftlint/remote"))
        .expect("cache dir")
        .flatten()
        .collect();
    assert_eq!(clones.len(), 1, "one clone, reused");
    let check = run(&["check", "--allow-remote", "--format", "json", "ov"]);
    let report = String::from_utf8_lossy(&check.stdout).to_string();
    assert!(!report.contains("RENDER"), "{report}");
    let check = run(&["check", "--format", "json", "ov"]);
    let report = String::from_utf8_lossy(&check.stdout).to_string();
    assert!(
        report.contains("remote resources are not fetched"),
        "{report}"
    );
}
