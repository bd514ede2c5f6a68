//! `driftlint diff`, `check --new-only` and baselines on repositories made here with `git`
//! (fixed author, committer and dates, so commit ids and snapshots are stable).

use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;
use serde_json::Value;

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Process::new("git")
            .current_dir(self.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .args(["-c", "user.email=test@example.com", "-c", "user.name=test"])
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn write(&self, file: &str, text: &str) -> &Repo {
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
        self
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::cargo_bin("driftlint")
            .expect("binary")
            .current_dir(self.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .expect("runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn diff_json(&self, base: &str) -> Value {
        let (code, out, err) = self.run(&["diff", "--base", base, "--format", "json"]);
        assert!(code == 0 || code == 1, "exit {code}: {err}\n{out}");
        serde_json::from_str(&out).expect("JSON report")
    }
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27.0
";

/// A base used by two overlays, committed.
fn overlays() -> Repo {
    let repo = Repo::new();
    repo.write(
        "base/kustomization.yaml",
        "resources:\n  - deployment.yaml\n",
    )
    .write("base/deployment.yaml", DEPLOYMENT);
    for env in ["staging", "prod"] {
        repo.write(
            &format!("overlays/{env}/kustomization.yaml"),
            &format!("namespace: {env}\nresources:\n  - ../../base\n"),
        );
    }
    repo.commit("initial");
    repo
}

fn units(report: &Value) -> Vec<&Value> {
    report["units"].as_array().expect("units").iter().collect()
}

fn ids(report: &Value) -> Vec<String> {
    units(report)
        .iter()
        .map(|u| u["id"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn an_image_bump_in_a_base_changes_every_overlay_with_the_base_line_as_origin() {
    let repo = overlays();
    repo.write(
        "base/deployment.yaml",
        &DEPLOYMENT.replace("nginx:1.27.0", "nginx:1.27.1"),
    );
    let status_before = repo.git(&["status", "--porcelain"]);
    let report = repo.diff_json("HEAD");
    assert_eq!(ids(&report), ["overlays/prod", "overlays/staging"]);
    for unit in units(&report) {
        assert_eq!(unit["status"], "changed");
        let objects = unit["objects"].as_array().expect("objects");
        assert_eq!(objects.len(), 1, "{unit}");
        assert_eq!(objects[0]["change"], "changed");
        assert_eq!(objects[0]["kind"], "Deployment");
        assert_eq!(
            objects[0]["origins"],
            serde_json::json!(["base/deployment.yaml:16"])
        );
        let diff = objects[0]["diff"].as_str().expect("diff");
        assert!(
            diff.contains("-      - image: nginx:1.27.0\n+      - image: nginx:1.27.1\n"),
            "{diff}"
        );
    }
    // The work tree, the index and HEAD are as they were.
    assert_eq!(repo.git(&["status", "--porcelain"]), status_before);
}

#[test]
fn no_change_no_units() {
    let repo = overlays();
    let report = repo.diff_json("HEAD");
    assert!(units(&report).is_empty(), "{report}");
    assert_eq!(report["unchangedUnits"], 2);
}

#[test]
fn human_and_markdown_reports() {
    let repo = overlays();
    repo.write(
        "base/deployment.yaml",
        &DEPLOYMENT.replace("nginx:1.27.0", "nginx:1.27.1"),
    );
    repo.write(
        "overlays/prod/kustomization.yaml",
        "namespace: prod\nresources:\n  - ../../base\n  - service.yaml\n",
    )
    .write(
        "overlays/prod/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n  ports:\n    - port: 80\n",
    );
    let (code, human, err) = repo.run(&["diff", "--base", "HEAD"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("diff_human", human);
    let (code, markdown, err) = repo.run(&["diff", "--base", "HEAD", "--format", "markdown"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("diff_markdown", markdown);
}

#[test]
fn a_values_change_in_a_helmrelease_is_a_change_at_its_line() {
    let repo = Repo::new();
    let release = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: 6.5.0
      sourceRef:
        kind: HelmRepository
        name: podinfo
  values:
    replicaCount: 1
";
    repo.write("apps/podinfo/helmrelease.yaml", release);
    repo.commit("initial");
    repo.write(
        "apps/podinfo/helmrelease.yaml",
        &release.replace("replicaCount: 1", "replicaCount: 2"),
    );
    let report = repo.diff_json("main");
    let all = units(&report);
    assert_eq!(all.len(), 1, "{report}");
    let object = &all[0]["objects"][0];
    assert_eq!(object["kind"], "HelmRelease");
    assert_eq!(
        object["origins"],
        serde_json::json!(["apps/podinfo/helmrelease.yaml:16"])
    );
}

#[test]
fn a_flux_substitution_variable_change_shows_in_the_unit() {
    let repo = Repo::new();
    repo.write(".driftlint.yaml", "sources: []\n")
        .write(
            "clusters/prod/flux-system/gotk-sync.yaml",
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m0s\n  ref:\n    branch: main\n  url: https://example.com/org/fleet.git\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 10m0s\n  path: ./clusters/prod\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
        )
        .write(
            "clusters/prod/flux-system/kustomization.yaml",
            "resources:\n  - gotk-sync.yaml\n",
        )
        .write(
            "clusters/prod/apps.yaml",
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/prod\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  postBuild:\n    substitute:\n      TAG: \"1.27.0\"\n",
        )
        .write(
            "apps/prod/deployment.yaml",
            &DEPLOYMENT.replace("nginx:1.27.0", "nginx:${TAG}"),
        );
    repo.commit("initial");
    repo.write(
        "clusters/prod/apps.yaml",
        &std::fs::read_to_string(repo.path().join("clusters/prod/apps.yaml"))
            .expect("read")
            .replace("1.27.0", "1.27.1"),
    );
    let report = repo.diff_json("HEAD");
    let unit = units(&report)
        .into_iter()
        .find(|u| u["id"] == "apps/prod (Kustomization flux-system/apps)")
        .unwrap_or_else(|| panic!("no unit: {report}"));
    let object = &unit["objects"][0];
    assert_eq!(object["kind"], "Deployment");
    let diff = object["diff"].as_str().expect("diff");
    assert!(diff.contains("+      - image: nginx:1.27.1\n"), "{diff}");
    let origins = object["origins"].to_string();
    assert!(
        origins.contains("apps/prod/deployment.yaml:16"),
        "{origins}"
    );
}

#[test]
fn a_renamed_generated_configmap_is_one_change() {
    let repo = Repo::new();
    let kustomization = "configMapGenerator:\n  - name: web-config\n    literals:\n      - LEVEL=info\nresources:\n  - deployment.yaml\n";
    repo.write("app/kustomization.yaml", kustomization)
        .write("app/deployment.yaml", DEPLOYMENT);
    repo.commit("initial");
    repo.write(
        "app/kustomization.yaml",
        &kustomization.replace("LEVEL=info", "LEVEL=debug"),
    );
    let report = repo.diff_json("HEAD");
    let objects = units(&report)[0]["objects"]
        .as_array()
        .expect("objects")
        .clone();
    assert_eq!(objects.len(), 1, "{report}");
    assert_eq!(objects[0]["kind"], "ConfigMap");
    assert_eq!(objects[0]["change"], "changed");
    let old = objects[0]["oldName"].as_str().expect("old name");
    let new = objects[0]["name"].as_str().expect("name");
    assert!(old.starts_with("web-config-") && new.starts_with("web-config-") && old != new);
    // The literal's line, then the generator's name (the hash suffix changed with it).
    assert_eq!(
        objects[0]["origins"],
        serde_json::json!([
            "app/kustomization.yaml:4",
            "app/kustomization.yaml:2 (name hash suffix)"
        ])
    );
}

#[test]
fn secret_values_appear_only_as_hashes() {
    let repo = Repo::new();
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: correct-horse-battery\n";
    repo.write("secrets/secret.yaml", secret);
    repo.commit("initial");
    repo.write(
        "secrets/secret.yaml",
        &secret.replace("correct-horse-battery", "staple-horse-battery"),
    );
    for format in ["json", "human", "markdown"] {
        let (code, out, err) = repo.run(&["diff", "--base", "HEAD", "--format", format]);
        assert!(code == 0 || code == 1, "{err}");
        assert!(!out.contains("horse"), "{format}: {out}");
        assert!(out.contains("sha256:"), "{format}: {out}");
    }
}

#[test]
fn new_only_reports_the_new_finding_and_counts_the_old_one() {
    let repo = Repo::new();
    repo.write(
        "apps/old.yaml",
        &DEPLOYMENT.replace("nginx:1.27.0", "nginx:latest"),
    );
    repo.commit("initial");
    repo.write(
        "apps/new.yaml",
        &DEPLOYMENT
            .replace("name: web", "name: cache")
            .replace("nginx:1.27.0", "redis:latest"),
    );
    let (_, all, _) = repo.run(&["check", "--format", "json"]);
    let all: Value = serde_json::from_str(&all).expect("json");
    let pin = |v: &Value| {
        v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["code"] == "PIN001")
            .map(|f| f["location"]["file"].as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(pin(&all).len(), 2, "{all}");
    let (code, out, err) = repo.run(&["check", "--new-only", "--base", "HEAD", "--format", "json"]);
    assert!(code == 0 || code == 1, "{err}");
    let new: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(pin(&new), ["apps/new.yaml"], "{new}");
    let files: Vec<_> = new["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["location"]["file"].clone())
        .collect();
    assert!(files.iter().all(|f| f == "apps/new.yaml"), "{files:?}");
    assert!(err.contains("already at HEAD"), "{err}");
    // diff says the same.
    let report = repo.diff_json("HEAD");
    let new_codes: Vec<_> = report["findings"]["new"]
        .as_array()
        .expect("new")
        .iter()
        .filter(|f| f["code"] == "PIN001")
        .collect();
    assert_eq!(new_codes.len(), 1, "{report}");
    assert!(report["findings"]["existing"].as_u64().expect("existing") >= 1);
}

#[test]
fn a_baseline_is_written_and_honoured() {
    let repo = Repo::new();
    repo.write(
        "apps/old.yaml",
        &DEPLOYMENT.replace("nginx:1.27.0", "nginx:latest"),
    );
    let (code, out, err) = repo.run(&["baseline", "write"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(".driftlint-baseline.json"), "{out}");
    let text =
        std::fs::read_to_string(repo.path().join(".driftlint-baseline.json")).expect("baseline");
    let baseline: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(baseline["version"], 1);
    assert!(text.contains("\"code\": \"PIN001\""), "{text}");
    let args = [
        "check",
        "--baseline",
        ".driftlint-baseline.json",
        "--format",
        "json",
    ];
    let (code, out, err) = repo.run(&args);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["findings"], serde_json::json!([]), "{report}");
    assert!(err.contains("accepted by"), "{err}");
    repo.write(
        "apps/new.yaml",
        &DEPLOYMENT
            .replace("name: web", "name: cache")
            .replace("nginx:1.27.0", "redis:latest"),
    );
    let (_, out, _) = repo.run(&args);
    let report: Value = serde_json::from_str(&out).expect("json");
    let findings = report["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    assert!(
        findings
            .iter()
            .all(|f| f["location"]["file"] == "apps/new.yaml"),
        "{report}"
    );
}

#[test]
fn a_revision_that_reads_as_a_flag_is_refused() {
    let repo = overlays();
    let (code, _, err) = repo.run(&["diff", "--base=--output=/tmp/x"]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid revision"), "{err}");
    let (code, _, err) = repo.run(&["diff", "--base", "no-such-branch"]);
    assert_eq!(code, 2);
    assert!(err.contains("names no commit"), "{err}");
}

#[test]
fn the_default_base_is_the_merge_base_with_main() {
    let repo = overlays();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "base/deployment.yaml",
        &DEPLOYMENT.replace("nginx:1.27.0", "nginx:1.28.0"),
    );
    repo.commit("bump");
    let (code, out, err) = repo.run(&["diff", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["base"], "merge-base(HEAD, main)");
    assert_eq!(ids(&report).len(), 2);
}

#[test]
fn a_large_change_fits_one_comment_and_says_what_it_left_out() {
    let repo = Repo::new();
    let config = |v: &str| -> String {
        let data: String = (0..300)
            .map(|i| format!("  key{i:03}: value-{v}-{i}\n"))
            .collect();
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n{data}")
    };
    for i in 0..30 {
        repo.write(
            &format!("overlays/o{i:02}/kustomization.yaml"),
            &format!("namespace: ns{i:02}\nresources:\n  - config.yaml\n"),
        )
        .write(
            &format!("overlays/o{i:02}/config.yaml"),
            &config(&format!("a{i}")),
        );
    }
    repo.commit("initial");
    for i in 0..30 {
        repo.write(
            &format!("overlays/o{i:02}/config.yaml"),
            &config(&format!("b{i}")),
        );
    }
    let (code, markdown, err) = repo.run(&["diff", "--base", "HEAD", "--format", "markdown"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        markdown.chars().count() <= 65_536,
        "{}",
        markdown.chars().count()
    );
    assert!(markdown.contains("of the largest diffs"), "{markdown}");
    assert!(
        markdown.contains("_Diff left out (+300 −300 lines)"),
        "{markdown}"
    );
    // Some diffs still fit; every unit is in the table.
    assert!(markdown.contains("```diff\n"), "{markdown}");
    assert_eq!(markdown.matches("| `overlays/o").count(), 30);
}

#[test]
fn a_change_shared_by_many_units_is_shown_once() {
    let repo = overlays();
    repo.write(
        "base/deployment.yaml",
        &DEPLOYMENT.replace("nginx:1.27.0", "nginx:1.27.1"),
    );
    let (code, markdown, err) = repo.run(&["diff", "--base", "HEAD", "--format", "markdown"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(markdown.matches("```diff").count(), 1, "{markdown}");
    assert!(
        markdown.contains("`Deployment staging/web` — the same change as in `overlays/prod`"),
        "{markdown}"
    );
}

#[test]
fn a_committed_link_out_of_the_tree_is_not_followed_in_the_base() {
    let repo = Repo::new();
    repo.write("apps/web.yaml", DEPLOYMENT);
    let secret = repo.path().with_extension("outside.yaml");
    std::fs::write(
        &secret,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outside-the-repository\n",
    )
    .expect("write");
    std::os::unix::fs::symlink(&secret, repo.path().join("apps/outside.yaml")).expect("link");
    std::os::unix::fs::symlink("web.yaml", repo.path().join("apps/inside.yaml")).expect("link");
    repo.commit("links");
    std::fs::remove_file(repo.path().join("apps/outside.yaml")).expect("rm");
    let (code, out, err) = repo.run(&["diff", "--base", "HEAD", "--format", "json"]);
    let _ = std::fs::remove_file(&secret);
    assert!(code == 0 || code == 1, "{err}");
    assert!(!out.contains("outside-the-repository"), "{out}");
}
