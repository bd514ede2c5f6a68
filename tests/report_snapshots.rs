//! Snapshots of every report format over one fixed set of findings: one whose origin is in a
//! base file, one set by a transformer (`via`), two without an object (one whose source is
//! unavailable), one security finding and one note.
//!
//! The SARIF and JSON snapshots are stored as plain `.sarif`/`.json` files beside their `.snap`
//! metadata so that `scripts/validate-sarif.sh tests/snapshots/*.sarif` validates exactly
//! what the renderer produces.

use std::collections::BTreeMap;
use std::sync::Arc;

use driftlint::report::{
    fingerprint, github, human, json, markdown_summary, sarif, Finding, ObjectRef, RuleMeta,
    SarifRun, Severity, Summary,
};
use driftlint_yaml::Origin;

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:latest
        - name: redis
          image: redis
";

const KUSTOMIZATION: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: prod
resources:
  - ../../base
images:
  - name: redis
    newTag: stable  # follows upstream
";

const SECRET: &str = "\
apiVersion: v1
kind: Secret
metadata:
  name: db
data:
  password: aHVudGVyMg==
";

const CHART: &str = "\
apiVersion: v2
name: app
version: 1.0.0
dependencies:
  - name: redis
    version: \">=17.0.0\"
    repository: oci://charts.example.com/bitnami
";

fn sources() -> BTreeMap<&'static str, Arc<str>> {
    BTreeMap::from([
        ("base/deployment.yaml", Arc::from(DEPLOYMENT)),
        ("overlays/prod/kustomization.yaml", Arc::from(KUSTOMIZATION)),
        ("base/secret.yaml", Arc::from(SECRET)),
        ("charts/app/Chart.yaml", Arc::from(CHART)),
    ])
}

fn object(api_version: &str, kind: &str, name: &str) -> Option<ObjectRef> {
    Some(ObjectRef {
        api_version: api_version.into(),
        kind: kind.into(),
        namespace: Some("prod".into()),
        name: name.into(),
    })
}

fn at(file: &str, line: u32, column: u32) -> Origin {
    Origin::new(file.into(), line, column)
}

/// The fixed findings, in a deliberately scrambled order; `shift` moves every line down.
fn findings(shift: u32) -> Vec<Finding> {
    vec![
        Finding {
            code: "PIN006".into(),
            severity: Severity::Warning,
            message: "chart dependency redis uses the version range \">=17.0.0\" and there is no Chart.lock".into(),
            origin: at("charts/app/Chart.yaml", 6 + shift, 14),
            object: None,
            target: "charts/app".into(),
            field: Some("/dependencies/0/version".into()),
        },
        Finding {
            code: "PIN003".into(),
            severity: Severity::Warning,
            message: "image redis:stable uses the mutable tag \"stable\"".into(),
            origin: at("overlays/prod/kustomization.yaml", 8 + shift, 13)
                .with_via("images transformer in overlays/prod/kustomization.yaml"),
            object: object("apps/v1", "Deployment", "web"),
            target: "overlays/prod".into(),
            field: Some("/spec/template/spec/containers/1/image".into()),
        },
        Finding {
            code: "SEC001".into(),
            severity: Severity::Error,
            message: "Secret db commits plaintext data (key password, value aHVu…)".into(),
            origin: at("base/secret.yaml", 6 + shift, 3),
            object: object("v1", "Secret", "db"),
            target: "overlays/prod".into(),
            field: Some("/data".into()),
        },
        Finding {
            code: "RENDER001".into(),
            severity: Severity::Error,
            message: "unsupported: replacements in overlays/broken/kustomization.yaml:3".into(),
            origin: at("overlays/broken/kustomization.yaml", 3 + shift, 1),
            object: None,
            target: "overlays/broken".into(),
            field: None,
        },
        Finding {
            code: "PIN001".into(),
            severity: Severity::Error,
            message: "image nginx:latest uses the latest tag".into(),
            origin: at("base/deployment.yaml", 10 + shift, 18),
            object: object("apps/v1", "Deployment", "web"),
            target: "overlays/prod".into(),
            field: Some("/spec/template/spec/containers/0/image".into()),
        },
        Finding {
            code: "WL009".into(),
            severity: Severity::Note,
            message: "container web has no readiness or liveness probe".into(),
            origin: at("base/deployment.yaml", 9 + shift, 11),
            object: object("apps/v1", "Deployment", "web"),
            target: "overlays/prod".into(),
            field: Some("/spec/template/spec/containers/0".into()),
        },
    ]
}

fn rule(
    code: &str,
    name: &str,
    sev: Option<Severity>,
    sec: Option<&str>,
    tags: &[&str],
) -> RuleMeta {
    RuleMeta {
        code: code.into(),
        name: name.into(),
        severity: sev,
        summary: format!("{name} summary"),
        rationale: format!("Why {name} matters."),
        security_severity: sec.map(str::to_string),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        inspects: "containers[].image".into(),
    }
}

fn rules() -> Vec<RuleMeta> {
    vec![
        rule(
            "SEC001",
            "secret-plaintext-committed",
            Some(Severity::Error),
            Some("9.0"),
            &["secrets"],
        ),
        rule(
            "PIN001",
            "image-tag-latest",
            Some(Severity::Error),
            None,
            &["pinning"],
        ),
        rule(
            "PIN003",
            "image-tag-mutable",
            Some(Severity::Warning),
            None,
            &["pinning"],
        ),
        rule("PIN004", "image-digest-required", None, None, &["pinning"]),
        rule(
            "PIN006",
            "chart-dependency-range",
            Some(Severity::Warning),
            None,
            &["pinning"],
        ),
        rule(
            "WL009",
            "missing-probes",
            Some(Severity::Note),
            None,
            &["reliability"],
        ),
    ]
}

fn render_human(findings: &[Finding], color: bool) -> String {
    let src = sources();
    human(findings, &|file: &str| src.get(file).cloned(), color)
}

#[test]
fn human_report() {
    insta::assert_snapshot!("human", render_human(&findings(0), false));
}

#[test]
fn human_report_colours_only_when_asked() {
    let plain = render_human(&findings(0), false);
    let coloured = render_human(&findings(0), true);
    assert!(!plain.contains('\u{1b}'));
    assert!(coloured.contains("\u{1b}["));
}

#[test]
fn json_report() {
    let f = findings(0);
    let out = json(&f, &Summary::new(&f, 3, 1));
    insta::assert_binary_snapshot!("report.json", out.into_bytes());
}

#[test]
fn sarif_report() {
    let out = sarif(&findings(0), &rules(), &SarifRun::check());
    insta::assert_binary_snapshot!("driftlint.sarif", out.into_bytes());
}

#[test]
fn github_annotations() {
    insta::assert_snapshot!("github", github(&findings(0)));
}

#[test]
fn markdown_step_summary() {
    let f = findings(0);
    insta::assert_snapshot!("markdown", markdown_summary(&f, &Summary::new(&f, 3, 1)));
}

#[test]
fn output_does_not_depend_on_input_order() {
    let f = findings(0);
    let mut r = f.clone();
    r.reverse();
    let s = Summary::new(&f, 3, 1);
    assert_eq!(render_human(&f, false), render_human(&r, false));
    assert_eq!(json(&f, &s), json(&r, &s));
    assert_eq!(
        sarif(&f, &rules(), &SarifRun::check()),
        sarif(&r, &rules(), &SarifRun::check())
    );
    assert_eq!(github(&f), github(&r));
    assert_eq!(markdown_summary(&f, &s), markdown_summary(&r, &s));
}

/// `(ruleId, fingerprint, startLine)` of every SARIF result.
fn sarif_keys(findings: &[Finding]) -> Vec<(String, String, i64)> {
    let log: serde_json::Value =
        serde_json::from_str(&sarif(findings, &rules(), &SarifRun::check())).unwrap();
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["partialFingerprints"]["driftlintFingerprint/v1"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_i64()
                    .unwrap(),
            )
        })
        .collect()
}

#[test]
fn sarif_fingerprints_survive_line_moves() {
    let before = sarif_keys(&findings(0));
    let after = sarif_keys(&findings(3));
    assert_eq!(before.len(), 6);
    for ((rule_a, fp_a, line_a), (rule_b, fp_b, line_b)) in before.iter().zip(&after) {
        assert_eq!((rule_a, fp_a), (rule_b, fp_b));
        assert_eq!(line_a + 3, *line_b);
    }
    let mut unique: Vec<_> = before.iter().map(|k| &k.1).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        before.len(),
        "fingerprints must differ between findings"
    );
}

#[test]
fn sarif_fingerprint_changes_with_the_object() {
    let f = findings(0);
    let mut moved = f[4].clone();
    moved.object = object("apps/v1", "Deployment", "api");
    assert_ne!(fingerprint(&f[4]), fingerprint(&moved));
}

/// The real rule registry: every descriptor carries what GitHub code scanning requires
/// (GH2012: fullDescription and help), and `security-severity` comes with the `security` tag.
/// The log is also written to `$CARGO_TARGET_TMPDIR/registry.sarif` for
/// `scripts/validate-sarif.sh`.
#[test]
fn sarif_with_the_rule_registry() {
    let registry = driftlint_rules::registry();
    let out = sarif(&findings(0), registry, &SarifRun::check());
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("registry.sarif");
    std::fs::write(&path, &out).unwrap();
    let log: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.len() >= registry.len());
    for r in rules {
        let id = r["id"].as_str().unwrap();
        assert!(r["fullDescription"]["text"].is_string(), "{id}");
        assert!(
            r["help"]["text"].is_string() && r["help"]["markdown"].is_string(),
            "{id}"
        );
        assert!(r["shortDescription"]["text"].is_string(), "{id}");
        assert_ne!(
            r["name"].as_str(),
            Some(id),
            "SARIF1001: name must differ from id"
        );
        if r["properties"]["security-severity"].is_string() {
            let tags = r["properties"]["tags"].as_array().unwrap();
            assert!(tags.iter().any(|t| t == "security"), "{id}");
        }
    }
}
