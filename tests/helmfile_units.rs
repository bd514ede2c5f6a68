//! Helmfile releases as apply units (`src/helmfile.rs`), over `tests/fixtures/helmfile` and
//! small repositories written by the tests.
//!
//! The expected renderings were made with Helm v4.1.4 (`../shared/tools/install-reference-tools`)
//! running the command helmfile runs for each release, the values helmfile computes written out
//! by hand:
//! - `tests/fixtures/helmfile-web.expected.yaml`: `helm template web ./charts/app -n shop
//!   -f values/app.yaml -f G -f I --set config.team=payments --set-string config.build=0042
//!   --include-crds`, where G is `values/app.yaml.gotmpl` rendered (`config: {greeting: hello,
//!   release: web-shop}`: `greeting` from `environments/default.yaml`, `.Release.Name` and
//!   `.Release.Namespace`) and I the inline map (`replicaCount: 1`, `replicas` from the base
//!   `bases/common.yaml`); `TEAM=payments` comes from `.driftlint.yaml` `helmfile.env`.
//! - `tests/fixtures/helmfile-web-prod.expected.yaml`: the same for `--helmfile-environment
//!   prod` (`greeting: hola` from `environments/prod.yaml`, `replicaCount: 3` from the inline
//!   environment values).
//! - `tests/fixtures/helmfile-api.expected.yaml`: `helm template api ./charts/app -n backend
//!   -f A --include-crds` with A = `config: {greeting: green}` (the nested helmfile's
//!   `{{ .Values.color }}`, `color: green` passed by the parent's `helmfiles[].values`).
//! - `tests/fixtures/helmfile-patched.expected.yaml`: what helmfile's chartify does for the
//!   release of [`patches_apply_as_chartify_does`]: `helm template app CHART --include-crds`
//!   (the fixture chart's ConfigMap template) written to `resources.yaml`, then
//!   `kubectl kustomize` (v1.35.2) over a kustomization with that resource, the strategic
//!   merge patch as `smp0.yaml` and the JSON patch as `json0.yaml` with its target.
//! - `tests/fixtures/helmfile-remote.expected.yaml`: the release of
//!   `tests/fixtures/helmfile-remote` (a `repositories:` chart, read from a chart cache filled
//!   here with the committed `helm package` of the corpus podinfo chart, as
//!   `tests/helmreleases.rs` fills it), made by `tests/fixtures/helmfile-remote.expected.sh`.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn driftlint() -> Command {
    Command::cargo_bin("driftlint").expect("binary")
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/helmfile")
}

fn run(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = driftlint()
        .args(args)
        .arg(dir)
        .env_remove("TEAM")
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The documents of a YAML stream as JSON values (comments and empty documents dropped).
fn docs(text: &str) -> Vec<Value> {
    driftlint_yaml::parse_documents("t".into(), text)
        .expect("yaml")
        .iter()
        .filter(|d| !d.is_null())
        .map(|d| d.to_json())
        .collect()
}

fn expected(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    docs(&std::fs::read_to_string(path).expect("expected file"))
}

fn units(dir: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["build", "--format", "json"];
    args.extend_from_slice(extra);
    let (_, out, err) = run(&args, dir);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    v["units"].as_array().expect("units").clone()
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// A repository with the fixture's chart and the given state file.
fn repo_with(state: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    for f in ["Chart.yaml", "values.yaml", "templates/configmap.yaml"] {
        let text = std::fs::read_to_string(fixture().join("charts/app").join(f)).expect("chart");
        write(d.path(), &format!("charts/app/{f}"), &text);
    }
    write(d.path(), "helmfile.yaml.gotmpl", state);
    for (rel, text) in files {
        write(d.path(), rel, text);
    }
    d
}

#[test]
fn releases_are_units_with_their_sources() {
    let u = units(&fixture(), &[]);
    let ids: Vec<(&str, &str, u64, u64)> = u
        .iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap_or(""),
                u["kind"].as_str().unwrap_or(""),
                u["source"]["line"].as_u64().unwrap_or(0),
                u["objects"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    // `legacy` (installed: false), `debug` (condition false) and `admin` (not selected by the
    // parent's `tier=backend`) are not rendered; the chart is not also a bare target, the
    // nested state file is not a root, values files are not manifest folders.
    assert_eq!(
        ids,
        [
            (
                "helmfile.yaml.gotmpl (release shop/db)",
                "helmfile-release",
                36,
                0
            ),
            (
                "helmfile.yaml.gotmpl (release shop/web)",
                "helmfile-release",
                19,
                2
            ),
            (
                "nested/helmfile.yaml.gotmpl (release backend/api)",
                "helmfile-release",
                2,
                2
            ),
        ]
    );
}

#[test]
fn releases_render_as_helm_template_with_helmfile_values() {
    let (code, out, err) = run(
        &["build", "--unit", "helmfile.yaml.gotmpl (release shop/web)"],
        &fixture(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(docs(&out), expected("helmfile-web.expected.yaml"));
    let (code, out, err) = run(
        &[
            "build",
            "--unit",
            "nested/helmfile.yaml.gotmpl (release backend/api)",
        ],
        &fixture(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(docs(&out), expected("helmfile-api.expected.yaml"));
}

#[test]
fn the_environment_comes_from_the_command_line() {
    let (code, out, err) = run(
        &[
            "build",
            "--helmfile-environment",
            "prod",
            "--unit",
            "helmfile.yaml.gotmpl (release shop/web)",
        ],
        &fixture(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(docs(&out), expected("helmfile-web-prod.expected.yaml"));
    // An environment the root state does not declare is an error at the state file.
    let (code, _, err) = run(&["build", "--helmfile-environment", "nope"], &fixture());
    assert_eq!(code, 2);
    assert!(
        err.contains("RENDER001") && err.contains("environment \"nope\" is not defined"),
        "{err}"
    );
}

#[test]
fn check_points_at_values_files_and_warns_once_per_remote_chart() {
    let (_, out, err) = run(&["check", "--format", "json"], &fixture());
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let findings = v["findings"].as_array().expect("findings");
    let chart: Vec<&Value> = findings
        .iter()
        .filter(|f| f["code"] == "CHART001")
        .collect();
    assert_eq!(chart.len(), 1, "{findings:?}");
    assert_eq!(chart[0]["severity"], "warning");
    assert_eq!(chart[0]["location"]["file"], "helmfile.yaml.gotmpl");
    assert_eq!(chart[0]["location"]["line"], 38);
    let msg = chart[0]["message"].as_str().unwrap_or("");
    for part in [
        "bitnami/postgresql",
        "16.4.1",
        "https://charts.bitnami.com/bitnami",
        "driftlint charts pull",
    ] {
        assert!(msg.contains(part), "{msg}");
    }
    let latest = findings
        .iter()
        .find(|f| f["code"] == "PIN001")
        .expect("PIN001 for the latest tag");
    assert_eq!(latest["location"]["file"], "values/app.yaml");
    assert_eq!(latest["location"]["line"], 3);
}

#[test]
fn needs_are_graph_edges() {
    let (_, out, err) = run(&["graph", "--format", "json"], &fixture());
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let nodes = v["nodes"].as_array().expect("nodes");
    let index = |id: &str| nodes.iter().position(|n| n["id"] == id).expect(id);
    let web = index("helmfile.yaml.gotmpl (release shop/web)");
    let db = index("helmfile.yaml.gotmpl (release shop/db)");
    let edges = v["edges"].as_array().expect("edges");
    assert!(
        edges.iter().any(|e| e["kind"] == "needs"
            && e["from"] == db
            && e["to"] == web
            && e["name"] == "shop/db"),
        "{edges:?}"
    );
}

/// The ConfigMap data of the only rendered release of a repository.
fn config_data(dir: &Path) -> Value {
    let (code, out, err) = run(&["build"], dir);
    assert_eq!(code, 0, "{err}");
    docs(&out)
        .into_iter()
        .find(|d| d["kind"] == "ConfigMap")
        .map(|d| d["data"].clone())
        .unwrap_or_else(|| panic!("no ConfigMap: {out}\n{err}"))
}

const ENV_STATE: &str = r#"releases:
  - name: app
    chart: ./charts/app
    values:
      - config:
          greeting: '{{ env "ALLOWED" }}'
          team: '{{ env "HOME" }}-{{ env "NOT_LISTED" }}'
"#;

#[test]
fn env_reads_only_the_configured_variables() {
    let d = repo_with(
        ENV_STATE,
        &[(".driftlint.yaml", "helmfile:\n  env: [ALLOWED]\n")],
    );
    let out = driftlint()
        .args(["build"])
        .arg(d.path())
        .env("ALLOWED", "yes")
        .env("NOT_LISTED", "secret-token")
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    let cm = docs(&text)
        .into_iter()
        .find(|d| d["kind"] == "ConfigMap")
        .expect("cm");
    assert_eq!(cm["data"]["greeting"], "yes");
    assert_eq!(cm["data"]["team"], "-");
}

#[test]
fn exec_and_unsupported_keys_are_loud() {
    let d = repo_with(
        "releases:\n  - name: app\n    chart: ./charts/app\n    values:\n      - config:\n          team: {{ exec \"id\" (list) }}\n",
        &[],
    );
    let (code, _, err) = run(&["build"], d.path());
    assert_eq!(code, 2);
    assert!(
        err.contains("RENDER002")
            && err.contains("helmfile.yaml.gotmpl:6")
            && err.contains("exec is not supported"),
        "{err}"
    );
    let d = repo_with(
        "releases:\n  - name: app\n    chart: ./charts/app\n    transformers: []\n",
        &[],
    );
    let (code, _, err) = run(&["build"], d.path());
    assert_eq!(code, 2);
    assert!(
        err.contains("RENDER002")
            && err.contains("helmfile.yaml.gotmpl:4")
            && err.contains("transformers"),
        "{err}"
    );
}

#[test]
fn missing_values_files_follow_the_handler() {
    let state =
        "releases:\n  - name: app\n    chart: ./charts/app\n    values:\n      - missing.yaml\n";
    let d = repo_with(state, &[]);
    let (code, _, err) = run(&["build"], d.path());
    assert_eq!(code, 2);
    assert!(
        err.contains("RENDER001")
            && err.contains("helmfile.yaml.gotmpl:5")
            && err.contains("missing.yaml"),
        "{err}"
    );
    let d = repo_with(
        &state.replace("    values:", "    missingFileHandler: Warn\n    values:"),
        &[],
    );
    assert_eq!(config_data(d.path())["greeting"], "hi");
}

#[test]
fn secrets_stay_opaque() {
    let d = repo_with(
        "releases:\n  - name: app\n    chart: ./charts/app\n    secrets:\n      - secrets.yaml\n",
        &[(
            "secrets.yaml",
            "config:\n  team: ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]\nsops:\n  version: 3.8.1\n",
        )],
    );
    assert_eq!(config_data(d.path())["team"], "${HELMFILE_SECRET}");
}

#[test]
fn layered_parts_see_earlier_values_and_set_paths_merge() {
    let d = repo_with(
        "values:\n  - greeting: base\n---\nreleases:\n  - name: app\n    chart: ./charts/app\n    values:\n      - config:\n          greeting: {{ .Values.greeting }}\n          team: {{ .StateValues.greeting | upper }}\n",
        &[],
    );
    let data = config_data(d.path());
    assert_eq!(data["greeting"], "base");
    assert_eq!(data["team"], "BASE");
}

#[test]
fn configured_state_files_and_state_values() {
    // `helmfile.files` names a state file with another name; `helmfile.values` are the
    // values a consumer passes (`--state-values-file`), overriding the state's own.
    let d = repo_with(
        "releases: []\n",
        &[
            (
                ".driftlint.yaml",
                "helmfile:\n  files: [\"deprecated/*.yaml\"]\n  values:\n    greeting: from-config\n",
            ),
            (
                "deprecated/app.yaml",
                "values:\n  - greeting: own\n---\nreleases:\n  - name: app\n    chart: ../charts/app\n    values:\n      - config:\n          greeting: {{ .Values.greeting }}\n",
            ),
            ("deprecated/values/not-a-state.yaml", "config: {}\n"),
        ],
    );
    let ids: Vec<String> = units(d.path(), &[])
        .iter()
        .map(|u| u["id"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        ids,
        // Manifest folders sort before helmfile releases (target kind order).
        [
            "deprecated/values",
            "deprecated/app.yaml (release default/app)"
        ]
    );
    assert_eq!(config_data(d.path())["greeting"], "from-config");
}

#[test]
fn patches_apply_as_chartify_does() {
    let d = repo_with(
        "releases:
  - name: app
    chart: ./charts/app
    strategicMergePatches:
      - apiVersion: v1
        kind: ConfigMap
        metadata:
          name: app-config
        data:
          team: patched
    jsonPatches:
      - target:
          kind: ConfigMap
          name: app-config
        patch:
          - op: add
            path: /data/extra
            value: \"yes\"
",
        &[],
    );
    let (code, out, err) = run(&["build"], d.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(docs(&out), expected("helmfile-patched.expected.yaml"));
    // `check` renders the patched release too (no render failure).
    let (_, out, _) = run(&["check", "--format", "json"], d.path());
    let v: Value = serde_json::from_str(&out).expect("json");
    assert!(v["findings"]
        .as_array()
        .is_some_and(|f| f.iter().all(|f| f["code"] != "RENDER001")));
}

/// Units `check --pre-commit` reports for a changed file (run in the fixture).
fn pre_commit_targets(changed: &str) -> Vec<String> {
    let out = driftlint()
        .current_dir(fixture())
        .args(["check", "--pre-commit", "--format", "json", "--", changed])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    v["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| t["id"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn pre_commit_maps_files_to_the_releases_reading_them() {
    assert_eq!(
        pre_commit_targets("values/app.yaml.gotmpl"),
        ["helmfile.yaml.gotmpl (release shop/web)"]
    );
    assert_eq!(
        pre_commit_targets("charts/app/templates/configmap.yaml"),
        [
            "helmfile.yaml.gotmpl (release shop/web)",
            "nested/helmfile.yaml.gotmpl (release backend/api)"
        ]
    );
    // The nested state file is read by the api release only; the root state file by every
    // release (it passes the nested one its values).
    assert_eq!(
        pre_commit_targets("nested/helmfile.yaml.gotmpl"),
        ["nested/helmfile.yaml.gotmpl (release backend/api)"]
    );
    assert_eq!(pre_commit_targets("helmfile.yaml.gotmpl").len(), 3);
}

fn podinfo_archive() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/helmreleases-charts/podinfo-6.14.1.tgz");
    std::fs::read(path).expect("podinfo archive")
}

/// A chart cache holding podinfo 6.14.1 under the fixture's repository (older and
/// pre-release versions offered too, so the range has something to choose from).
fn podinfo_cache() -> tempfile::TempDir {
    use driftlint_charts::{ChartCache, ChartLocator};
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = ChartCache::new(dir.path().to_path_buf());
    let http =
        ChartLocator::http("https://stefanprodan.github.io/podinfo", "podinfo").expect("locator");
    let offered: Vec<String> = ["6.13.0", "6.14.1", "7.0.0-rc.1"]
        .iter()
        .map(|v| v.to_string())
        .collect();
    cache.record_versions(&http, &offered).expect("index");
    cache
        .store_archive(&http, "6.14.1", &podinfo_archive(), None)
        .expect("store");
    dir
}

fn remote_fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/helmfile-remote")
}

#[test]
fn repository_charts_render_from_the_chart_cache() {
    let cache = podinfo_cache();
    let cache_dir = cache.path().to_string_lossy().into_owned();
    let unit = "helmfile.yaml (release shop/web)";
    let (code, out, err) = run(
        &["build", "--cache-dir", &cache_dir, "--unit", unit],
        &remote_fixture(),
    );
    assert_eq!(code, 0, "{err}");
    // Helm names the chart's test pods with a random suffix: compared without it.
    let unrandom = |docs: Vec<Value>| {
        let re = regex::Regex::new(r#"(-test)-[a-z0-9]{5}""#).expect("regex");
        let text = serde_json::to_string(&docs).expect("json");
        let text = re.replace_all(&text, "$1-XXXXX\"").into_owned();
        serde_json::from_str::<Value>(&text).expect("json")
    };
    assert_eq!(
        unrandom(docs(&out)),
        unrandom(expected("helmfile-remote.expected.yaml"))
    );
    // Findings about the cached chart's own templates point at the release's chart line.
    let (_, out, err) = run(
        &["check", "--format", "json", "--cache-dir", &cache_dir],
        &remote_fixture(),
    );
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let findings = v["findings"].as_array().expect("findings");
    assert!(
        findings.iter().all(|f| f["code"] != "CHART001"
            && f["code"] != "RENDER001"
            && f["code"] != "RENDER002"),
        "{findings:#?}"
    );
    let in_chart = findings
        .iter()
        .find(|f| {
            f["location"]["via"]
                .as_str()
                .is_some_and(|v| v.contains("the chart's"))
        })
        .expect("a finding inside the cached chart");
    assert_eq!(in_chart["location"]["file"], "helmfile.yaml");
    assert_eq!(in_chart["location"]["line"], 10);
}

#[test]
fn an_empty_cache_is_one_chart001_per_repository_release() {
    let empty = tempfile::tempdir().expect("tempdir");
    let (_, out, err) = run(
        &[
            "check",
            "--format",
            "json",
            "--cache-dir",
            &empty.path().to_string_lossy(),
        ],
        &remote_fixture(),
    );
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let findings = v["findings"].as_array().expect("findings");
    let chart: Vec<&Value> = findings
        .iter()
        .filter(|f| f["code"] == "CHART001")
        .collect();
    assert_eq!(chart.len(), 1, "{findings:#?}");
    assert_eq!(chart[0]["location"]["line"], 10);
    let msg = chart[0]["message"].as_str().unwrap_or("");
    assert!(
        msg.contains("podinfo/podinfo version ~6.14.0")
            && msg.contains("https://stefanprodan.github.io/podinfo")
            && msg.contains("`driftlint charts pull` will fetch it"),
        "{msg}"
    );
}

#[test]
fn hcl_environment_values_layer_over_yaml_and_fail_at_their_line() {
    let state = "environments:\n  default:\n    values:\n      - env/a.hcl\n      - env/b.yaml\n---\nreleases:\n  - name: app\n    chart: ./charts/app\n    values:\n      - config:\n          team: {{ .Values.team }}-{{ .Values.n }}\n";
    let d = repo_with(
        state,
        &[
            (
                "env/a.hcl",
                "locals {\n  t = \"pay\"\n}\nvalues {\n  team = \"${local.t}${hv.suffix}\"\n  suffix = \"ments\"\n  n = 1 + 1\n}\n",
            ),
            ("env/b.yaml", "team: from-yaml\nn: 9\n"),
        ],
    );
    let (code, out, err) = run(&["build"], d.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("team: payments-2"), "{out}");
    write(
        d.path(),
        "env/a.hcl",
        "values {\n  team = hv.n\n  n = hv.team\n}\n",
    );
    let (code, _, err) = run(&["build"], d.path());
    assert_eq!(code, 2);
    assert!(
        // at the first name of the cycle (alphabetically): `n`, line 3
        err.contains("RENDER001") && err.contains("env/a.hcl:3") && err.contains("cycle"),
        "{err}"
    );
    write(
        d.path(),
        "env/a.hcl",
        "values {\n  team = format(\"%s\", \"x\")\n}\n",
    );
    let (code, _, err) = run(&["build"], d.path());
    assert_eq!(code, 2);
    assert!(
        err.contains("RENDER002") && err.contains("env/a.hcl:2") && err.contains("format()"),
        "{err}"
    );
}
