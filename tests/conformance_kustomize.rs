//! Conformance of the native Kustomize engine with kustomize v5.7.1 (`kubectl kustomize`)
//! over the shared corpus (`../shared/corpus/kust-*`, or `../../shared/corpus` from a
//! worktree).
//!
//! For every case: a case with `expected.yaml` must build to the same objects in the same
//! order (equal as JSON values under kyaml typing: "semantic") and render to the same bytes
//! ("byte"); a case with `expected_error.txt` must fail with a message naming the same
//! problem as kustomize's (the same missing file, the same unsupported feature, the same
//! malformed field; see [`same_problem`]), and both messages are printed. Known failures
//! are listed in
//! `tests/conformance/kustomize-ratchet.txt` (`case<TAB>reason`): the test fails when a
//! listed case passes (remove it from the list) or an unlisted case fails.

mod common;

use std::path::Path;

use driftlint::kustomize_helm::NativeHelm;
use driftlint_kustomize::{build, render_yaml, BuildOptions, HelmRenderer};
use driftlint_schema::Catalog;
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{parse_documents, Node, Schema};

/// The directory argument and the flags of a case's `command: 'kubectl kustomize ... DIR'`.
fn command(case: &Path) -> Result<(String, Vec<String>), String> {
    let text = std::fs::read_to_string(case.join("case.yaml")).map_err(|e| e.to_string())?;
    let docs = parse_documents("case.yaml".into(), &text).map_err(|e| e.to_string())?;
    let cmd = docs
        .first()
        .and_then(|d| d.get("command"))
        .and_then(Node::as_str)
        .ok_or("case.yaml has no command")?;
    let words: Vec<&str> = cmd.split_whitespace().collect();
    match words.as_slice() {
        ["kubectl", "kustomize", rest @ .., dir] => Ok((
            dir.to_string(),
            rest.iter().map(|s| s.to_string()).collect(),
        )),
        _ => Err(format!("unexpected command {cmd:?}")),
    }
}

fn json_docs(docs: &[Node]) -> Vec<serde_json::Value> {
    docs.iter().map(|d| d.to_json_with(Schema::KYaml)).collect()
}

/// The first difference between two object lists, for the failure reason.
fn first_difference(ours: &[serde_json::Value], theirs: &[serde_json::Value]) -> String {
    if ours.len() != theirs.len() {
        return format!("{} objects, kustomize has {}", ours.len(), theirs.len());
    }
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        if a != b {
            let id = |v: &serde_json::Value| {
                format!(
                    "{}/{}",
                    v["kind"].as_str().unwrap_or("?"),
                    v["metadata"]["name"].as_str().unwrap_or("?")
                )
            };
            return format!("object {i} differs: ours {} kustomize {}", id(a), id(b));
        }
    }
    "equal".into()
}

#[derive(Debug)]
struct Outcome {
    semantic: bool,
    byte: bool,
    reason: String,
    /// For successful cases: our warnings equal kustomize's stderr (informational).
    warnings: Option<bool>,
}

fn run_case(case: &Path, catalog: &Catalog) -> Outcome {
    let fail = |reason: String| Outcome {
        semantic: false,
        byte: false,
        reason,
        warnings: None,
    };
    let (dir, flags) = match command(case) {
        Ok(c) => c,
        Err(e) => return fail(format!("bad case: {e}")),
    };
    let fs = match RepoFs::new(case) {
        Ok(fs) => fs,
        Err(e) => return fail(format!("bad case: {e}")),
    };
    // `--enable-helm`: Helm charts are rendered by the native Helm engine, as kustomize
    // runs `helm`; without it they are refused, as kustomize refuses them.
    let helm = flags.iter().any(|f| f == "--enable-helm");
    let native = NativeHelm::default();
    let opts = BuildOptions {
        merge_info: Some(catalog),
        helm: helm.then_some(&native as &dyn HelmRenderer),
        ..BuildOptions::default()
    };
    let result = build(&fs, Path::new(&dir), &opts);
    let expected = case.join("expected.yaml");
    if !expected.exists() {
        let theirs = std::fs::read_to_string(case.join("expected_error.txt")).unwrap_or_default();
        let theirs = theirs
            .lines()
            .filter(|l| !l.starts_with("# Warning"))
            .collect::<Vec<_>>()
            .join("\n");
        return match result {
            Err(e) => {
                let ours = e.to_string();
                let name = case.file_name().and_then(|n| n.to_str()).unwrap_or("?");
                println!("error case {name}:\n  ours:      {ours}\n  kustomize: {theirs}");
                match same_problem(&ours, &theirs) {
                    Ok(()) => Outcome {
                        semantic: true,
                        byte: true,
                        reason: String::new(),
                        warnings: None,
                    },
                    Err(why) => fail(format!("error differs from kustomize's: {why}")),
                }
            }
            Ok(_) => fail("kustomize fails on this case, we built it".into()),
        };
    }
    let out = match result {
        Ok(b) => b,
        Err(e) => {
            let note = if flags.is_empty() {
                String::new()
            } else {
                format!(" [flags {}]", flags.join(" "))
            };
            return fail(format!("{e}{note}"));
        }
    };
    let text = std::fs::read_to_string(&expected).unwrap_or_default();
    let theirs = match parse_documents("expected.yaml".into(), &text) {
        Ok(d) => d,
        Err(e) => return fail(format!("expected.yaml: {e}")),
    };
    let (a, b) = (json_docs(&out.objects), json_docs(&theirs));
    let semantic = a == b;
    let rendered = render_yaml(&out.objects);
    let byte = rendered == text;
    let reason = if !semantic {
        first_difference(&a, &b)
    } else if !byte {
        let line = rendered
            .lines()
            .zip(text.lines())
            .position(|(x, y)| x != y)
            .map_or(0, |l| l + 1);
        format!("byte-only: first differing line {line}")
    } else {
        String::new()
    };
    let expected_warnings =
        std::fs::read_to_string(case.join("expected_warnings.txt")).unwrap_or_default();
    let warnings = expected_warnings
        .lines()
        .eq(out.warnings.iter().map(String::as_str));
    Outcome {
        semantic,
        byte,
        reason,
        warnings: Some(warnings),
    }
}

/// Whether our error message names the problem kustomize's `theirs` names:
///
/// - a missing file (`lstat PATH: no such file or directory`): ours is `missing:` and names
///   the same file (its last path component);
/// - Helm charts (`must specify --enable-helm`): ours is `unsupported:` naming a Helm field;
/// - a malformed field (`cannot unmarshal ... Kustomization.FIELD`): ours names `FIELD`;
/// - a cycle (`cycle detected`): ours is `cycle:`;
/// - a conflicting id (`already registered id`, `found multiple`): ours says the same;
/// - a patch matching nothing (`failed to find unique target for patch`): ours says so.
///
/// Errors: what differs, or that no rule knows kustomize's message (teach one).
fn same_problem(ours: &str, theirs: &str) -> Result<(), String> {
    let missing_file = theirs
        .split("lstat ")
        .nth(1)
        .and_then(|rest| rest.split(": no such file or directory").next());
    if let Some(path) = missing_file {
        let name = path.rsplit('/').next().unwrap_or(path);
        return (ours.starts_with("missing: ") && ours.contains(name))
            .then_some(())
            .ok_or_else(|| format!("kustomize names the missing file {name}"));
    }
    if theirs.contains("must specify --enable-helm") {
        return (ours.starts_with("unsupported: helm"))
            .then_some(())
            .ok_or_else(|| "kustomize refuses the Helm chart".to_string());
    }
    if let Some(rest) = theirs.split("Go struct field Kustomization.").nth(1) {
        let field = rest.split_whitespace().next().unwrap_or("");
        return ours
            .contains(&format!("Kustomization.{field}"))
            .then_some(())
            .ok_or_else(|| format!("kustomize names the field {field}"));
    }
    let rules = [
        ("cycle detected", "cycle:"),
        ("already registered id", "already registered id"),
        ("found multiple", "multiple"),
        (
            "failed to find unique target for patch",
            "failed to find unique target for patch",
        ),
    ];
    for (kind, want) in rules {
        if theirs.contains(kind) {
            return ours
                .contains(want)
                .then_some(())
                .ok_or_else(|| format!("kustomize reports {kind:?}"));
        }
    }
    Err(format!("no rule compares kustomize's error {theirs:?}"))
}

#[test]
fn kustomize_corpus_conformance() {
    let Some(corpus) = common::corpus() else {
        println!("skipped: the shared corpus (../shared/corpus) is absent");
        return;
    };
    let cases = common::cases(&corpus, "kust-");
    assert!(!cases.is_empty(), "no kust-* cases in {}", corpus.display());
    let known = common::ratchet("kustomize-ratchet.txt");
    let catalog = Catalog::newest().expect("the embedded schema catalog loads");
    let (mut semantic, mut byte) = (0, 0);
    let (mut warned_ok, mut warned_total) = (0, 0);
    let mut problems = Vec::new();
    let mut failing = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let o = run_case(case, &catalog);
        semantic += usize::from(o.semantic);
        if let Some(w) = o.warnings {
            warned_total += 1;
            warned_ok += usize::from(w);
            if !w {
                println!("warnings differ: {name}");
            }
        }
        byte += usize::from(o.byte);
        let passed = o.semantic && o.byte;
        if !passed {
            failing.push(format!("{name}\t{}", o.reason));
        }
        match (passed, known.contains_key(&name)) {
            (true, true) => problems.push(format!("{name} passes now: remove it from the ratchet")),
            (false, false) => problems.push(format!("{name} fails: {}", o.reason)),
            _ => {}
        }
    }
    for name in known.keys() {
        if !cases.iter().any(|c| c.ends_with(name)) {
            problems.push(format!("{name} is in the ratchet but not in the corpus"));
        }
    }
    let n = cases.len();
    println!(
        "kustomize conformance: semantic {semantic}/{n} ({:.0}%), byte {byte}/{n} ({:.0}%)",
        100.0 * semantic as f64 / n as f64,
        100.0 * byte as f64 / n as f64
    );
    println!("deprecation warnings identical to kustomize's: {warned_ok}/{warned_total} successful builds");
    println!("failing cases (ratchet format):\n{}", failing.join("\n"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn error_comparison_rules() {
    let lstat = "error: evalsymlink failure on '<CASE>/k/nope.yaml' : lstat <CASE>/k/nope.yaml: no such file or directory";
    assert!(same_problem(
        "missing: nope.yaml does not exist (k/kustomization.yaml:1)",
        lstat
    )
    .is_ok());
    assert!(same_problem(
        "missing: other.yaml does not exist (k/kustomization.yaml:1)",
        lstat
    )
    .is_err());
    assert!(same_problem("cycle: a -> a (a/kustomization.yaml:1)", lstat).is_err());
    let cycle = "error: ... cycle detected: candidate root 'a' contains visited root 'a'";
    assert!(same_problem("cycle: a -> b -> a (b/kustomization.yaml:1)", cycle).is_ok());
    let field = "error: invalid Kustomization: json: cannot unmarshal string into Go struct field Kustomization.patches of type types.Patch";
    assert!(same_problem(
        "invalid: cannot unmarshal string into Kustomization.patches of type types.Patch (k:7)",
        field
    )
    .is_ok());
    assert!(same_problem(
        "invalid: cannot unmarshal string into Kustomization.images (k:7)",
        field
    )
    .is_err());
    let helm = "error: trouble configuring builtin HelmChartInflationGenerator with config: `...`: must specify --enable-helm";
    assert!(same_problem("unsupported: helmCharts (k:2)", helm).is_ok());
    assert!(same_problem("unsupported: vars (k:2)", helm).is_err());
    assert!(same_problem("anything", "error: something new").is_err());
}
