//! The emitter reproduces kustomize's own output byte for byte: every `expected.yaml` of the
//! Kustomize cases in `../shared/corpus`, parsed and re-emitted, must come back unchanged.

use std::path::Path;

#[test]
fn emitter_round_trips_kustomize_output() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let Ok(entries) = std::fs::read_dir(&corpus) else {
        println!("skipped: {} is absent", corpus.display());
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for entry in entries.flatten() {
        let dir = entry.path();
        let expected = dir.join("expected.yaml");
        let is_kust = dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("kust-"));
        if !is_kust || !expected.exists() {
            continue;
        }
        let src = std::fs::read_to_string(&expected).expect("readable corpus file");
        let docs = driftlint::yaml::parse_documents("expected.yaml".into(), &src).expect("parses");
        let out = driftlint::yaml::emit_documents(docs.iter());
        checked += 1;
        if out != src {
            let line = out
                .lines()
                .zip(src.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            failures.push(format!(
                "{}: line {}: ours {:?} kustomize {:?}",
                dir.display(),
                line + 1,
                out.lines().nth(line),
                src.lines().nth(line)
            ));
        }
    }
    assert!(
        checked > 0,
        "no kustomize cases found in {}",
        corpus.display()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
