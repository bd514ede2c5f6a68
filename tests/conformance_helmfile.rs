//! Conformance of helmfile rendering with helmfile's own golden outputs
//! (`../shared/gitops/helmfile-helmfile`, or `../../shared/gitops/...` from a worktree; see its
//! SOURCE.md for how upstream runs and compares each case).
//!
//! Each case is rendered through the library (`driftlint::helmfile::template`, what
//! `driftlint build` runs per release) with the flags upstream passes (`--namespace
//! helmfile-tests` for the integration cases, `--environment`, `--state-values-set`), and
//! compared semantically as upstream's dyff does: both streams parsed, helmfile's log lines
//! (`Building dependency ...`, `Templating release ...`) and comment-only documents dropped,
//! documents compared as YAML values. The comparison is order-insensitive (documents sorted by
//! their canonical JSON): helmfile renders releases concurrently and its order is not part of
//! the contract dyff checks; the test also reports whether the order matched. The `list`
//! case compares the release table (name, namespace, labels, chart). Known failures are in
//! `tests/conformance/helmfile-ratchet.txt` (`case<TAB>reason`): the test fails when a listed
//! case passes (remove it) or an unlisted case fails.

mod common;

use std::path::{Path, PathBuf};

use driftlint::helmfile::{template, HelmfileOptions};
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::parse_documents;

/// One upstream case: its name, helmfile's flags, and whether its golden file is a `list`
/// table (the state file and golden file paths come with it from [`cases`]).
struct Case {
    name: &'static str,
    environment: &'static str,
    namespace: Option<&'static str>,
    state_values_set: &'static [&'static str],
    list: bool,
    /// `helmfile template --set` and `--values` (relative to the material root).
    set: &'static [&'static str],
    values: &'static [&'static str],
}

const IT: &str = "test/integration/test-cases";
const SNAP: &str = "test/e2e/template/helmfile/testdata/snapshot";

fn cases() -> Vec<(Case, String, String)> {
    let it = |name: &'static str, file: &str, golden: &str, sets: &'static [&'static str]| {
        (
            Case {
                name,
                environment: "default",
                namespace: Some("helmfile-tests"),
                state_values_set: sets,
                list: false,
                set: &[],
                values: &[],
            },
            format!("{IT}/{file}"),
            format!("{IT}/{golden}"),
        )
    };
    let snap = |name: &'static str, env: &'static str, golden: &str, list: bool| {
        (
            Case {
                name,
                environment: env,
                namespace: None,
                state_values_set: &[],
                list,
                set: &[],
                values: &[],
            },
            format!("{SNAP}/{name}/input.yaml.gotmpl"),
            format!("{SNAP}/{name}/{golden}"),
        )
    };
    vec![
        it(
            "chart-deps-condition",
            "chart-deps-condition/input/helmfile.yaml",
            "chart-deps-condition/output/template",
            &[],
        ),
        it(
            "chartify",
            "chartify/input/helmfile.yaml.gotmpl",
            "chartify/output/template-helm4",
            &[],
        ),
        (
            Case {
                name: "chartify --set image.tag=v2",
                set: &["image.tag=v2"],
                ..it("", "", "", &[]).0
            },
            format!("{IT}/chartify/input/helmfile.yaml.gotmpl"),
            format!("{IT}/chartify/output/template-set-helm4"),
        ),
        (
            Case {
                name: "chartify --values ./extra-values.yaml",
                values: &["test/integration/test-cases/chartify/input/extra-values.yaml"],
                ..it("", "", "", &[]).0
            },
            format!("{IT}/chartify/input/helmfile.yaml.gotmpl"),
            format!("{IT}/chartify/output/template-values-helm4"),
        ),
        it(
            "include-template-func",
            "include-template-func/input/helmfile.yaml.gotmpl",
            "include-template-func/output/template-result",
            &[],
        ),
        it(
            "issue-2281-array-merge",
            "issue-2281-array-merge/input/helmfile.yaml.gotmpl",
            "issue-2281-array-merge/output/output.yaml",
            &[
                "top.array[0]=cmdlinething1",
                "top.complexArray[1].anotherThing=cmdline",
            ],
        ),
        it(
            "issue-2353-layer-array-replace",
            "issue-2353-layer-array-replace/input/helmfile.yaml.gotmpl",
            "issue-2353-layer-array-replace/output/output.yaml",
            &[],
        ),
        it(
            "issue-2451-nested-helmfile-array-replace",
            "issue-2451-nested-helmfile-array-replace/input/helmfile.yaml",
            "issue-2451-nested-helmfile-array-replace/output/output.yaml",
            &[],
        ),
        it(
            "state-values-set-cli-args-in-environments",
            "state-values-set-cli-args-in-environments/input/helmfile.yaml.gotmpl",
            "state-values-set-cli-args-in-environments/output/output.yaml",
            &["foo=bar"],
        ),
        it(
            "yaml-overwrite",
            "yaml-overwrite/input/issue.657.yaml.gotmpl",
            "yaml-overwrite/output/overwritten.yaml",
            &[],
        ),
        snap(
            "environment_missing_in_subhelmfile",
            "test",
            "output.yaml",
            false,
        ),
        snap(
            "environments_releases_without_same_yaml_part",
            "prod",
            "output.yaml",
            false,
        ),
        snap(
            "environments_values_gotmpl_with_environment_name",
            "test",
            "output.yaml",
            false,
        ),
        snap("hcl_mix", "default", "output.yaml", false),
        snap("hcl_override", "default", "output.yaml", false),
        snap(
            "issue_493_template_yaml_anchors_merge",
            "default",
            "output.yaml",
            true,
        ),
        snap(
            "kubedog_tracking",
            "default",
            "gopkg.in-yaml.v3-output.yaml",
            false,
        ),
    ]
}

fn material() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        manifest.join("../shared/gitops/helmfile-helmfile"),
        manifest.join("../../shared/gitops/helmfile-helmfile"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
}

/// JSON text with every object's keys sorted (YAML key order does not matter to dyff).
fn canonical(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        serde_json::Value::from(k.as_str()),
                        canonical(&m[*k])
                    )
                })
                .collect();
            format!("{{{}}}", items.join(","))
        }
        serde_json::Value::Array(a) => {
            format!(
                "[{}]",
                a.iter().map(canonical).collect::<Vec<_>>().join(",")
            )
        }
        other => other.to_string(),
    }
}

/// The documents of a stream as canonical JSON, log lines and null documents dropped.
fn documents(text: &str) -> Result<Vec<String>, String> {
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("Building dependency") && !l.starts_with("Templating release"))
        .map(|l| format!("{l}\n"))
        .collect();
    let docs = parse_documents("golden".into(), &kept).map_err(|e| e.to_string())?;
    Ok(docs
        .iter()
        .filter(|d| !d.is_null())
        .map(|d| canonical(&d.to_json()))
        .collect())
}

/// `helmfile list` rows: `name namespace labels chart` (labels sorted `k:v`, comma-joined).
fn list_rows(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').map(str::trim).collect();
            format!(
                "{} {} {} {}",
                cols.first().unwrap_or(&""),
                cols.get(1).unwrap_or(&""),
                cols.get(4).unwrap_or(&""),
                cols.get(5).unwrap_or(&"")
            )
        })
        .collect()
}

/// Runs one case: `Ok(order_matched)` when it matches, else why not.
fn run(root: &Path, case: &Case, file: &str, golden: &str) -> Result<bool, String> {
    let fs = RepoFs::new(root).map_err(|e| e.to_string())?;
    let opts = HelmfileOptions {
        environment: case.environment.into(),
        namespace: case.namespace.map(str::to_string),
        state_values_set: case
            .state_values_set
            .iter()
            .map(|s| s.to_string())
            .collect(),
        set: case.set.iter().map(|s| s.to_string()).collect(),
        values: case.values.iter().map(PathBuf::from).collect(),
        ..HelmfileOptions::default()
    };
    let releases =
        template(&fs, Path::new(file), &opts).map_err(|f| format!("{}: {}", f.code, f.message))?;
    let expected_text = std::fs::read_to_string(root.join(golden)).map_err(|e| e.to_string())?;
    if case.list {
        let ours: Vec<String> = releases
            .iter()
            .map(|r| {
                let labels: Vec<String> =
                    r.labels.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!(
                    "{} {} {} {}",
                    r.name,
                    r.namespace,
                    labels.join(","),
                    r.chart
                )
            })
            .collect();
        let theirs = list_rows(&expected_text);
        return if ours == theirs {
            Ok(true)
        } else {
            Err(format!("list differs: {ours:?} vs {theirs:?}"))
        };
    }
    let mut ours = Vec::new();
    for r in &releases {
        if let Some(f) = &r.failure {
            return Err(format!("{}: {}", f.code, f.message));
        }
        ours.extend(r.documents.iter().map(|d| canonical(&d.to_json())));
    }
    let theirs = documents(&expected_text)?;
    let order = ours == theirs;
    let (mut a, mut b) = (ours.clone(), theirs.clone());
    a.sort();
    b.sort();
    if a == b {
        Ok(order)
    } else {
        Err(format!(
            "documents differ:\n  ours:   {ours:?}\n  theirs: {theirs:?}"
        ))
    }
}

#[test]
fn helmfile_golden_conformance() {
    let Some(root) = material() else {
        println!("skipped: ../shared/gitops/helmfile-helmfile is absent");
        return;
    };
    let known = common::ratchet("helmfile-ratchet.txt");
    let all = cases();
    let (mut passed, mut in_order) = (0, 0);
    let mut problems = Vec::new();
    let mut failing = Vec::new();
    for (case, file, golden) in &all {
        let outcome = run(&root, case, file, golden);
        let ok = outcome.is_ok();
        passed += usize::from(ok);
        in_order += usize::from(outcome == Ok(true));
        if let Err(reason) = &outcome {
            failing.push(format!("{}\t{}", case.name, reason.replace('\n', " ")));
        }
        match (ok, known.contains_key(case.name)) {
            (true, true) => problems.push(format!(
                "{} passes now: remove it from the ratchet",
                case.name
            )),
            (false, false) => problems.push(format!(
                "{} fails: {}",
                case.name,
                outcome.err().unwrap_or_default()
            )),
            _ => {}
        }
    }
    let n = all.len();
    println!(
        "helmfile conformance: {passed}/{n} ({:.0}%) match semantically, {in_order} in helmfile's order",
        100.0 * passed as f64 / n as f64
    );
    println!("failing cases (ratchet format):\n{}", failing.join("\n"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
