//! Conformance of the native Helm engine (`driftlint helm template`) with Helm v4.1.4 over
//! the shared corpus (`../shared/corpus/helm-*`, or `../../shared/corpus` from a worktree).
//!
//! For every case the `command:` of case.yaml (`helm template ...`) is parsed with the
//! CLI's own parser and run with the case directory as repository root. A case with
//! `expected.yaml` must render the same documents in the same order (equal as parsed YAML:
//! "semantic") and the same bytes ("byte"); a case with `expected_error.txt` must fail with
//! Helm's `Error: ...` line (semantic) and the same stderr (byte). Known failures are listed
//! in `tests/conformance/helm-ratchet.txt` (`case<TAB>reason`): the test fails when a listed
//! case passes (remove it) or an unlisted case fails.

mod common;

use std::path::Path;

use driftlint_helm::{parse_template_args, template};
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{parse_documents, Node, Schema};

/// Shell-like word splitting with single and double quotes (what case commands use).
fn shell_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// The words after `helm` in a case's `command:`.
fn command(case: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(case.join("case.yaml")).map_err(|e| e.to_string())?;
    let docs = parse_documents("case.yaml".into(), &text).map_err(|e| e.to_string())?;
    let cmd = docs
        .first()
        .and_then(|d| d.get("command"))
        .and_then(Node::as_str)
        .ok_or("case.yaml has no command")?;
    let words = shell_words(cmd);
    match words.split_first() {
        Some((helm, rest)) if helm == "helm" => Ok(rest.to_vec()),
        _ => Err(format!("unexpected command {cmd:?}")),
    }
}

fn json_docs(text: &str) -> Result<Vec<serde_json::Value>, String> {
    let docs = parse_documents("out.yaml".into(), text).map_err(|e| e.to_string())?;
    Ok(docs
        .iter()
        .map(|d| d.to_json_with(Schema::Yaml11))
        .filter(|j| !j.is_null())
        .collect())
}

struct Outcome {
    semantic: bool,
    byte: bool,
    reason: String,
}

fn fail(reason: String) -> Outcome {
    Outcome {
        semantic: false,
        byte: false,
        reason: reason.replace('\n', " "),
    }
}

fn first_line_diff(a: &str, b: &str) -> usize {
    a.lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .map_or(a.lines().count().min(b.lines().count()) + 1, |l| l + 1)
}

fn run_case(case: &Path) -> Outcome {
    let words = match command(case) {
        Ok(w) => w,
        Err(e) => return fail(format!("bad case: {e}")),
    };
    let args = match parse_template_args(&words) {
        Ok(a) => a,
        Err(e) => return fail(format!("flags: {e}")),
    };
    let fs = match RepoFs::new(case) {
        Ok(fs) => fs,
        Err(e) => return fail(format!("bad case: {e}")),
    };
    let result = template(&fs, &args.chart, &args.opts);
    let expected = case.join("expected.yaml");
    if !expected.exists() {
        let theirs = std::fs::read_to_string(case.join("expected_error.txt")).unwrap_or_default();
        return match result {
            Ok(_) => fail("helm fails on this case, we rendered it".into()),
            Err(e) => {
                let mut ours = format!("Error: {e}\n");
                if e.wants_debug_hint() {
                    ours.push_str("\nUse --debug flag to render out invalid YAML\n");
                }
                let their_line = theirs
                    .lines()
                    .find(|l| l.starts_with("Error: "))
                    .unwrap_or("");
                let semantic = ours.lines().next() == Some(their_line);
                let byte = semantic && theirs.ends_with(&ours);
                let reason = if semantic {
                    "stderr differs".into()
                } else {
                    format!(
                        "error differs: ours {:?} helm {their_line:?}",
                        ours.lines().next().unwrap_or("")
                    )
                };
                Outcome {
                    semantic,
                    byte,
                    reason,
                }
            }
        };
    }
    let out = match result {
        Ok(r) => r.manifest,
        Err(e) => return fail(format!("{e}")),
    };
    // `check` renders once, traced, and takes Helm's text from that rendering: it must print
    // exactly what the untraced rendering prints.
    let once = driftlint_helm::load_located(&fs, &args.chart)
        .and_then(|c| driftlint_helm::render_chart_text_and_objects(&fs, c, &args.opts));
    match once {
        Ok((text, _)) if text == out => {}
        Ok((text, _)) => {
            return fail(format!(
                "the traced rendering prints differently: first differing line {}",
                first_line_diff(&text, &out)
            ))
        }
        Err(e) => return fail(format!("the traced rendering fails: {e}")),
    }
    let text = std::fs::read_to_string(&expected).unwrap_or_default();
    let semantic = match (json_docs(&out), json_docs(&text)) {
        (Ok(a), Ok(b)) => a == b,
        (Err(e), _) => return fail(format!("our output does not parse: {e}")),
        (_, Err(e)) => return fail(format!("expected.yaml does not parse: {e}")),
    };
    let byte = out == text;
    let reason = if byte {
        String::new()
    } else {
        let kind = if semantic {
            "byte-only"
        } else {
            "output differs"
        };
        format!(
            "{kind}: first differing line {}",
            first_line_diff(&out, &text)
        )
    };
    Outcome {
        semantic,
        byte,
        reason,
    }
}

#[test]
fn helm_corpus_conformance() {
    let Some(corpus) = common::corpus() else {
        println!("skipped: the shared corpus (../shared/corpus) is absent");
        return;
    };
    let cases = common::cases(&corpus, "helm-");
    assert!(!cases.is_empty(), "no helm-* cases in {}", corpus.display());
    let known = common::ratchet("helm-ratchet.txt");
    let (mut semantic, mut byte) = (0, 0);
    let mut problems = Vec::new();
    let mut failing = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let o = run_case(case);
        semantic += usize::from(o.semantic);
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
        "helm conformance: semantic {semantic}/{n} ({:.0}%), byte {byte}/{n} ({:.0}%)",
        100.0 * semantic as f64 / n as f64,
        100.0 * byte as f64 / n as f64
    );
    println!("failing cases (ratchet format):\n{}", failing.join("\n"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn shell_words_split_quotes() {
    assert_eq!(
        shell_words(r#"helm template a --set "x[0].y=z w" -n 'n s'"#),
        ["helm", "template", "a", "--set", "x[0].y=z w", "-n", "n s"]
    );
}
