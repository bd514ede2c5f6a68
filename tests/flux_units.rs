//! Flux Kustomizations rendered as apply units (`src/flux.rs`).
//!
//! `tests/fixtures/flux-units.expected.yaml` was made with the reference tools: a copy of
//! `tests/fixtures/flux-units` whose `apps/prod/kustomization.yaml` is the one Flux's
//! generator writes for `clusters/prod/apps.yaml` (resources `./configmap.yaml`,
//! `./deployment.yaml` as the folder scan lists them; `namespace: web`; `namePrefix: prod-`;
//! the `components`, `patches` and `images` of the Flux Kustomization), built with
//! `kubectl kustomize --load-restrictor LoadRestrictionsNone apps/prod` (kubectl v1.35.2,
//! kustomize v5.7.1, from `../shared/tools/install-reference-tools`); then Flux's post-build
//! steps applied by hand to that output as kustomize-controller and fluxcd/pkg/envsubst do:
//! `commonMetadata` label `team: web` on each object; `${REPLICAS}` -> `3`, `${CLUSTER}` ->
//! `prod` (the ConfigMap `cluster-vars`), `${DOMAIN}` -> `example.com` (`substitute`),
//! `$${KEPT}` -> `${KEPT}`, except in the object annotated `substitute: disabled`;
//! `${APP:=web}` and `${TOKEN}` are kept because the optional Secret `sealed-vars` is not in
//! the repository (they may be set there).
//!
//! `tests/fixtures/flux-units-backend.expected.yaml` (the `backend` unit: its own
//! kustomization reading `../shared/settings.yaml`, allowed because Flux builds without load
//! restrictions; `nameSuffix`; a `substituteFrom` Secret with base64 `data`) was made the same
//! way: `nameSuffix: -v2` appended to a copy of `apps/backend/kustomization.yaml`, `kubectl
//! kustomize --load-restrictor LoadRestrictionsNone apps/backend`, then by hand `${PORT}` ->
//! `8080` (`substitute`), `${DB_HOST}` -> `db.internal` (the Secret's decoded value),
//! `${TARGET_PORT:-${PORT}}` -> `8080` (unset, default).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn driftlint() -> Command {
    Command::cargo_bin("driftlint").expect("binary")
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flux-units")
}

fn build(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = driftlint()
        .arg("build")
        .arg(dir)
        .args(extra)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The objects of a `driftlint build` stream, without the unit headers.
fn objects_of(stream: &str) -> String {
    stream
        .lines()
        .filter(|l| !l.starts_with("# "))
        .collect::<Vec<_>>()
        .join("\n")
        .trim_start_matches("---\n")
        .to_string()
        + "\n"
}

#[test]
fn a_flux_kustomization_renders_as_kustomize_controller_renders_it() {
    let (code, out, err) = build(&fixture(), &["--unit", "flux-system/apps"]);
    assert_eq!(code, 0, "{err}");
    let expected = std::fs::read_to_string(fixture().with_extension("expected.yaml")).unwrap();
    assert_eq!(objects_of(&out), expected);
    assert!(out.starts_with("---\n# Unit: apps/prod (Kustomization flux-system/apps)"));
    assert!(
        out.contains("# Source: clusters/prod/apps.yaml:1\n"),
        "{out}"
    );
}

#[test]
fn a_unit_reads_outside_its_folder_and_substitutes_from_a_secret() {
    let (code, out, err) = build(&fixture(), &["--unit", "flux-system/backend"]);
    assert_eq!(code, 0, "{err}");
    let expected =
        std::fs::read_to_string(fixture().with_file_name("flux-units-backend.expected.yaml"))
            .unwrap();
    assert_eq!(objects_of(&out), expected);
}

#[test]
fn build_json_lists_units_and_check_json_lists_targets() {
    let (code, out, _) = build(&fixture(), &["--format", "json"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = v["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "apps/backend (Kustomization flux-system/backend)",
            "apps/prod (Kustomization flux-system/apps)",
            "clusters/prod (Kustomization flux-system/flux-system)"
        ],
        "a folder a unit renders is not also a bare target"
    );
    let check = driftlint()
        .args(["check", "--format", "json"])
        .arg(fixture())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&check.stdout).unwrap();
    let targets = v["targets"].as_array().expect("targets listed");
    assert_eq!(targets.len(), 3);
    assert_eq!(targets[1]["kind"], "flux-kustomization");
    assert_eq!(targets[1]["source"]["file"], "clusters/prod/apps.yaml");
    assert_eq!(targets[1]["objects"], 2);
}

#[test]
fn substituted_values_point_at_the_variable_that_supplied_them() {
    let opts = driftlint::check::CheckOptions {
        paths: vec![fixture()],
        ..Default::default()
    };
    let repo = driftlint::check::render_repo(&opts).unwrap();
    let (_, objects) = repo
        .targets
        .iter()
        .find(|(t, _)| t.id() == "apps/prod (Kustomization flux-system/apps)")
        .expect("unit");
    let deploy = objects
        .iter()
        .find(|o| o.str_at(&["kind"]) == Some("Deployment"))
        .unwrap();
    let replicas = deploy.get_path(&["spec", "replicas"]).unwrap();
    assert_eq!(
        (&*replicas.origin.file, replicas.origin.line),
        ("clusters/prod/vars.yaml", 7)
    );
    assert_eq!(
        replicas.origin.via.as_deref(),
        Some("substituted at apps/prod/deployment.yaml:8")
    );
    let args = deploy
        .get_path(&["spec", "template", "spec", "containers"])
        .and_then(|c| c.as_seq())
        .and_then(|c| c[0].get("args"))
        .unwrap();
    assert_eq!(
        &*args.origin.file, "clusters/prod/apps.yaml",
        "set by spec.patches"
    );
    assert_eq!(args.origin.line, 27);
}

fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".driftlint.yaml"), "").unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

const KS_HEAD: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n  namespace: flux-system\nspec:\n  interval: 10m\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";

const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";

/// A Flux Kustomization `name` (in `flux-system`, source `flux-system`) whose spec goes on with
/// `rest`; its `path:` is on line 12.
fn ks(name: &str, rest: &str) -> String {
    format!(
        "{}{rest}",
        KS_HEAD.replace("name: app", &format!("name: {name}"))
    )
}

/// A cluster whose `flux-system` applies `controllers` (the Widget CRD) and `configs` (a Widget),
/// `configs` being the Flux Kustomization `configs_ks`.
fn ordering_repo(configs_ks: &str) -> tempfile::TempDir {
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Cluster\n  names:\n    kind: Widget\n    plural: widgets\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          x-kubernetes-preserve-unknown-fields: true\n";
    repo(&[
        (
            "cluster/flux-system/sync.yaml",
            &ks("flux-system", "  path: ./cluster\n"),
        ),
        (
            "cluster/controllers.yaml",
            &ks("controllers", "  path: ./controllers\n"),
        ),
        ("cluster/configs.yaml", configs_ks),
        ("controllers/crd.yaml", crd),
        (
            "configs/widget.yaml",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
        ),
    ])
}

#[test]
fn a_missing_path_fails_at_its_line_and_other_units_still_render() {
    let dir = repo(&[
        ("flux/bad.yaml", &ks("app", "  path: ./nowhere\n")),
        ("flux/good.yaml", &ks("good", "  path: ./app\n")),
        ("app/cm.yaml", CONFIG_MAP),
    ]);
    let (code, out, err) = build(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("RENDER001: flux/bad.yaml:12: cannot render Flux Kustomization flux-system/app: kustomization path not found"),
        "{err}"
    );
    assert!(
        out.contains("# Unit: app (Kustomization flux-system/good)"),
        "{out}"
    );
}

#[test]
fn an_invalid_variable_name_fails_as_flux_fails() {
    let unit = ks(
        "app",
        "  path: ./app\n  postBuild:\n    substitute:\n      bad-name: x\n",
    );
    let dir = repo(&[("flux/ks.yaml", &unit), ("app/cm.yaml", CONFIG_MAP)]);
    let (code, _, err) = build(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("flux/ks.yaml:15: cannot render Flux Kustomization flux-system/app: 'bad-name' var name is invalid"),
        "{err}"
    );
}

#[test]
fn unset_variables_are_empty_when_every_source_is_known() {
    let unit = ks(
        "app",
        "  path: ./app\n  postBuild:\n    substitute:\n      A: one\n",
    );
    let dir = repo(&[
        ("flux/ks.yaml", &unit),
        (
            "app/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: ${A}\n  b: x${UNSET}y\n  c: ${UNSET:=dflt}\n",
        ),
    ]);
    let (code, out, err) = build(dir.path(), &["--unit", "flux-system/app"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("  a: one\n  b: xy\n  c: dflt\n"), "{out}");
}

#[test]
fn pre_commit_checks_the_units_that_read_a_changed_file() {
    let ids = |file: &str| -> Vec<String> {
        let out = driftlint()
            .current_dir(fixture())
            .args(["check", "--format", "json", "--pre-commit", "--", file])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids("clusters/prod/vars.yaml"),
        [
            "apps/prod (Kustomization flux-system/apps)",
            "clusters/prod (Kustomization flux-system/flux-system)"
        ],
        "a substituteFrom ConfigMap is an input of the unit"
    );
    assert_eq!(
        ids("apps/shared/settings.yaml"),
        ["apps/backend (Kustomization flux-system/backend)"]
    );
}

#[test]
fn a_custom_resource_whose_crd_another_unit_installs_needs_depends_on() {
    let codes = |configs: &str| -> Vec<(String, String)> {
        let dir = ordering_repo(configs);
        let out = driftlint()
            .args(["check", "--format", "json"])
            .arg(dir.path())
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    format!(
                        "{}:{}",
                        f["location"]["file"].as_str().unwrap(),
                        f["location"]["line"]
                    ),
                )
            })
            .collect()
    };
    let configs = ks("configs", "  path: ./configs\n");
    assert_eq!(
        codes(&configs),
        [("CRD002".to_string(), "configs/widget.yaml:2".to_string())]
    );
    let ordered = format!("{configs}  dependsOn:\n    - name: controllers\n");
    assert_eq!(codes(&ordered), []);
    let typo = format!("{configs}  dependsOn:\n    - name: controler\n");
    assert_eq!(
        codes(&typo),
        [
            (
                "ORDER002".to_string(),
                "cluster/configs.yaml:14".to_string()
            ),
            ("CRD002".to_string(), "configs/widget.yaml:2".to_string())
        ]
    );
}

#[test]
fn graph_shows_units_edges_crds_and_violations_in_every_format() {
    let dir = ordering_repo(&ks(
        "configs",
        "  path: ./configs\n  dependsOn:\n    - name: <missing>\n",
    ));
    let graph = |format: &str| -> String {
        let out = driftlint()
            .args(["graph", "--format", format])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let json: Value = serde_json::from_str(&graph("json")).unwrap();
    let nodes = json["nodes"].as_array().unwrap();
    let ids: Vec<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "cluster (Kustomization flux-system/flux-system)",
            "configs (Kustomization flux-system/configs)",
            "controllers (Kustomization flux-system/controllers)"
        ]
    );
    assert_eq!(nodes[2]["crds"], serde_json::json!(["example.com/Widget"]));
    assert_eq!(
        nodes[1]["violations"],
        serde_json::json!(["CRD002", "ORDER002"])
    );
    let edges: Vec<(Value, usize, &str)> = json["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].clone(),
                e["to"].as_u64().unwrap() as usize,
                e["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        edges,
        [
            (Value::from(0), 1, "applies"),
            (Value::Null, 1, "dependsOn"),
            (Value::from(0), 2, "applies")
        ]
    );
    let mermaid = graph("mermaid");
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    assert!(
        mermaid.contains("missing: flux-system/#lt;missing#gt;"),
        "{mermaid}"
    );
    assert!(mermaid.contains("  class n1 violation\n"), "{mermaid}");
    let dot = graph("dot");
    assert!(dot.contains("n0 -> n2 [style=dashed];"), "{dot}");
    let html = graph("html");
    assert!(
        html.contains("<svg") && !html.contains("<script"),
        "no script in the page"
    );
    assert!(html.contains("&lt;missing&gt;") && !html.contains("<missing>"));
    assert!(
        !html.contains("http://") || html.matches("http://").count() == 1,
        "only the SVG namespace"
    );
}

#[test]
fn substitution_and_common_metadata_have_a_budget() {
    // 1 MiB substituted into 80 values: 80 MiB, over the 64 MiB a unit's post-build may add.
    let big = "x".repeat(1 << 20);
    let uses: String = (0..80).map(|i| format!("  k{i}: ${{BIG}}\n")).collect();
    let cm = format!("{CONFIG_MAP}data:\n{uses}");
    let unit = ks(
        "app",
        &format!("  path: ./app\n  postBuild:\n    substitute:\n      BIG: {big}\n"),
    );
    // commonMetadata: a 1 MiB label copied onto 80 objects.
    let many: String = (0..80)
        .map(|i| {
            format!(
                "---\n{}",
                CONFIG_MAP.replace("name: x", &format!("name: x{i}"))
            )
        })
        .collect();
    let labelled = ks(
        "labelled",
        &format!("  path: ./many\n  commonMetadata:\n    labels:\n      big: {big}\n"),
    );
    // Defaults nested deeper than 64.
    let nested = format!("{}x{}", "${A:=".repeat(100), "}".repeat(100));
    let deep = ks(
        "deep",
        "  path: ./deep\n  postBuild:\n    substitute:\n      B: b\n",
    );
    let dir = repo(&[
        ("flux/app.yaml", &unit),
        ("app/cm.yaml", &cm),
        ("flux/labelled.yaml", &labelled),
        ("many/cms.yaml", &many),
        ("flux/deep.yaml", &deep),
        (
            "deep/cm.yaml",
            &format!("{CONFIG_MAP}data:\n  v: {nested}\n"),
        ),
        ("flux/fine.yaml", &ks("fine", "  path: ./fine\n")),
        ("fine/cm.yaml", CONFIG_MAP),
    ]);
    let (code, out, err) = build(dir.path(), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("RENDER001: app/cm.yaml:")
            && err.contains("exceed 64 MiB (driftlint's budget)"),
        "{err}"
    );
    assert!(
        err.contains("RENDER001: flux/labelled.yaml:15: cannot render Flux Kustomization flux-system/labelled: commonMetadata copies exceed 64 MiB"),
        "{err}"
    );
    assert!(
        err.contains("RENDER001: deep/cm.yaml:6:") && err.contains("nested more than 64 deep"),
        "{err}"
    );
    assert!(
        out.contains("# Unit: fine (Kustomization flux-system/fine)"),
        "{out}"
    );
}
