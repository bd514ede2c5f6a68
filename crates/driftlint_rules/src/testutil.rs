//! Test helpers: parse fixtures, run one rule, pass/fail tables.

use super::{check_objects, Hit, RuleConfig, RuleContext, Scope};
use crate::Finding;
use driftlint_yaml::{parse_documents, Node};

/// The documents of `src` as `file`.
pub fn parse_all(file: &str, src: &str) -> Vec<Node> {
    parse_documents(file.into(), src).expect("fixture parses")
}

/// The first document of `src` as `file`.
pub fn parse_one(file: &str, src: &str) -> Node {
    parse_all(file, src).remove(0)
}

/// A RuleConfig from a `.driftlint.yaml` fragment holding a `rules:` key.
pub fn config_from(src: &str) -> RuleConfig {
    let doc = parse_one(".driftlint.yaml", src);
    RuleConfig::from_node(doc.get("rules").expect("rules key")).expect("valid config")
}

/// `check_objects` over the documents of `src` (file `t.yaml`), every GVK unknown.
pub fn check_docs(target: &str, src: &str, cfg: &RuleConfig) -> Vec<Finding> {
    let known = |_: &str, _: &str| false;
    let ctx = RuleContext::new(cfg, &known);
    check_objects(target, &parse_all("t.yaml", src), &ctx)
}

/// Runs one rule's `check` over every document of `src` with `cfg` and a GVK callback.
pub fn run_rule_with(
    check: fn(&Node, &Scope<'_>, &mut Vec<Hit>),
    src: &str,
    cfg: &RuleConfig,
    known: &(dyn Fn(&str, &str) -> bool + Sync),
) -> Vec<Hit> {
    let docs = parse_all("t.yaml", src);
    let ctx = RuleContext::new(cfg, known);
    let scope = Scope {
        ctx: &ctx,
        crds: super::rendered_crds(&docs),
    };
    let mut hits = Vec::new();
    for d in &docs {
        check(d, &scope, &mut hits);
    }
    hits
}

/// Runs one rule's `check` over every document of `src` with a full context.
pub fn run_rule_ctx(
    check: fn(&Node, &Scope<'_>, &mut Vec<Hit>),
    src: &str,
    ctx: &RuleContext<'_>,
) -> Vec<Hit> {
    let docs = parse_all("t.yaml", src);
    let scope = Scope {
        ctx,
        crds: super::rendered_crds(&docs),
    };
    let mut hits = Vec::new();
    for d in &docs {
        check(d, &scope, &mut hits);
    }
    hits
}

/// Runs one rule with the default config and no known GVKs.
/// Runs one rule over `src` with the target Kubernetes version set to `version` (`"1.30"`)
/// and no custom resources known.
pub fn run_rule_at_version(
    check: fn(&Node, &Scope<'_>, &mut Vec<Hit>),
    version: &str,
    src: &str,
) -> Vec<Hit> {
    let mut cfg = RuleConfig::default();
    assert!(cfg.set_kube_version(version), "bad version {version}");
    run_rule_with(check, src, &cfg, &|_: &str, _: &str| false)
}

pub fn run_rule(check: fn(&Node, &Scope<'_>, &mut Vec<Hit>), src: &str) -> Vec<Hit> {
    run_rule_with(check, src, &RuleConfig::default(), &|_: &str, _: &str| {
        false
    })
}

/// A pass/fail table: each case is (name, YAML, expected number of hits).
pub fn table(check: fn(&Node, &Scope<'_>, &mut Vec<Hit>), cases: &[(&str, &str, usize)]) {
    for (name, src, want) in cases {
        let hits = run_rule(check, src);
        assert_eq!(hits.len(), *want, "case {name}: {hits:#?}");
    }
}

/// A pod whose single container has `image`.
pub fn pod_with_image(image: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: \"{image}\"\n"
    )
}

/// A GitHub-PAT-shaped fake (assembled, so the source holds no token-shaped literal).
pub fn fake_github_pat() -> String {
    format!("{}_{}", "ghp", "Zq3x9Lm2Pw8Rt5Yk1Vb7Nc4Hd6Jf0Gs2Ae8U")
}

/// An AWS-access-key-shaped fake.
pub fn fake_aws_key() -> String {
    format!("{}{}", "AKIA", "QZ3T7WXR2KLM5N4P")
}
