//! The emitter reproduces kustomize's own output byte for byte: every `expected.yaml` of the
//! Kustomize cases in `../shared/corpus`, parsed and re-emitted, must come back unchanged.

mod common;

#[test]
fn emitter_round_trips_kustomize_output() {
    let Some(corpus) = common::corpus() else {
        println!("skipped: the shared corpus (../shared/corpus) is absent");
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in common::cases(&corpus, "kust-") {
        let expected = dir.join("expected.yaml");
        if !expected.exists() {
            continue;
        }
        let src = std::fs::read_to_string(&expected).expect("readable corpus file");
        let docs = driftlint_yaml::parse_documents("expected.yaml".into(), &src).expect("parses");
        let out = driftlint_yaml::emit_documents(docs.iter());
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
