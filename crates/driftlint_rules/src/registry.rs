//! The code registry: every rule's metadata, read from `rules/<CODE>.yaml` (embedded with
//! `include_str!`), plus the codes the pipeline emits itself (RENDER*, SCHEMA*, CONFIG001, DRIFT*).
//! `driftlint rules`, `driftlint explain` and SARIF `tool.driver.rules` are generated from here.

use std::sync::LazyLock;

use crate::{RuleMeta, Severity};
use driftlint_yaml::{parse_documents, Node};

use super::{api, crd, order, pin, sec};

/// Metadata files, in registry order: the rules (each rule file embeds its own), then the
/// pipeline's codes.
const SOURCES: &[(&str, &str)] = &[
    ("rules/PIN001.yaml", pin::image_tag_latest::META),
    ("rules/PIN002.yaml", pin::image_tag_missing::META),
    ("rules/PIN003.yaml", pin::image_tag_mutable::META),
    ("rules/PIN004.yaml", pin::image_digest_required::META),
    ("rules/PIN005.yaml", pin::helmrelease_chart_unpinned::META),
    ("rules/PIN011.yaml", pin::kustomize_images_latest::META),
    ("rules/SEC001.yaml", sec::secret_plaintext_committed::META),
    ("rules/SEC002.yaml", sec::env_literal_credential::META),
    ("rules/SEC003.yaml", sec::configmap_secret_content::META),
    ("rules/SEC005.yaml", sec::known_token_pattern::META),
    ("rules/CRD001.yaml", crd::cr_crd_unknown::META),
    ("rules/CRD002.yaml", order::cr_crd_cross_unit::META),
    ("rules/CRD003.yaml", order::cr_crd_from_helmrelease::META),
    ("rules/CRD004.yaml", order::chart_crd_with_cr::META),
    ("rules/CRD005.yaml", order::argo_wave_order::META),
    ("rules/CRD006.yaml", order::cr_version_not_served::META),
    ("rules/ORDER001.yaml", order::depends_on_cycle::META),
    ("rules/ORDER002.yaml", order::depends_on_unknown::META),
    ("rules/API001.yaml", api::api_removed::META),
    ("rules/API002.yaml", api::api_deprecated::META),
    (
        "rules/RENDER001.yaml",
        include_str!("../../../rules/RENDER001.yaml"),
    ),
    (
        "rules/RENDER002.yaml",
        include_str!("../../../rules/RENDER002.yaml"),
    ),
    (
        "rules/CHART001.yaml",
        include_str!("../../../rules/CHART001.yaml"),
    ),
    (
        "rules/SCHEMA001.yaml",
        include_str!("../../../rules/SCHEMA001.yaml"),
    ),
    (
        "rules/SCHEMA002.yaml",
        include_str!("../../../rules/SCHEMA002.yaml"),
    ),
    (
        "rules/CONFIG001.yaml",
        include_str!("../../../rules/CONFIG001.yaml"),
    ),
    (
        "rules/DRIFT001.yaml",
        include_str!("../../../rules/DRIFT001.yaml"),
    ),
    (
        "rules/DRIFT002.yaml",
        include_str!("../../../rules/DRIFT002.yaml"),
    ),
    (
        "rules/DRIFT003.yaml",
        include_str!("../../../rules/DRIFT003.yaml"),
    ),
    (
        "rules/DRIFT004.yaml",
        include_str!("../../../rules/DRIFT004.yaml"),
    ),
    (
        "rules/DRIFT005.yaml",
        include_str!("../../../rules/DRIFT005.yaml"),
    ),
    (
        "rules/DRIFT006.yaml",
        include_str!("../../../rules/DRIFT006.yaml"),
    ),
    (
        "rules/DRIFT007.yaml",
        include_str!("../../../rules/DRIFT007.yaml"),
    ),
];

/// One `rules/*.yaml` file: the shared [`RuleMeta`] plus what only `explain` shows.
#[derive(Clone, Debug)]
struct RuleDoc {
    meta: RuleMeta,
    example: Option<String>,
    fix: Option<String>,
    configurable: bool,
}

static DOCS: LazyLock<Vec<RuleDoc>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(file, src)| match parse_doc(file, src) {
            Ok(doc) => doc,
            // Embedded, compile-time data checked by `every_metadata_file_parses`; a broken file
            // is a build defect, not user input.
            Err(e) => panic!("embedded rule metadata {file} is invalid: {e}"),
        })
        .collect()
});

static METAS: LazyLock<Vec<RuleMeta>> =
    LazyLock::new(|| DOCS.iter().map(|d| d.meta.clone()).collect());

/// Every registered code's metadata, in registry order (rules by family, then the pipeline's
/// codes). Codes and names are unique.
pub fn registry() -> &'static [RuleMeta] {
    &METAS
}

/// The metadata of a code (`PIN001`, case-insensitive) or a rule name (`image-tag-latest`).
pub fn meta(code_or_name: &str) -> Option<&'static RuleMeta> {
    doc(code_or_name).map(|d| &d.meta)
}

fn doc(code_or_name: &str) -> Option<&'static RuleDoc> {
    DOCS.iter()
        .find(|d| d.meta.code.eq_ignore_ascii_case(code_or_name) || d.meta.name == code_or_name)
}

/// False for codes that cannot be disabled or re-levelled (render and config failures), and
/// for unknown codes.
pub fn configurable(code: &str) -> bool {
    doc(code).is_some_and(|d| d.configurable)
}

/// The text of `driftlint explain CODE` (a code or a rule name), or `None` for unknown codes:
/// code, name, default severity, summary, rationale, what it inspects, a failing example and
/// its fix, and how to suppress it.
pub fn explain(code_or_name: &str) -> Option<String> {
    let d = doc(code_or_name)?;
    let m = &d.meta;
    let mut out = format!("{} {} ({})\n\n", m.code, m.name, severity_word(m.severity));
    out.push_str(&format!(
        "{}\n\n{}\n\nInspects: {}\n",
        m.summary, m.rationale, m.inspects
    ));
    if let Some(s) = &m.security_severity {
        out.push_str(&format!("Security severity: {s}\n"));
    }
    if let Some(ex) = &d.example {
        out.push_str(&format!("\nExample (reported):\n{}", indent(ex)));
    }
    if let Some(fix) = &d.fix {
        out.push_str(&format!("\nUse instead:\n{}", indent(fix)));
    }
    if d.configurable {
        out.push_str(&format!(
            "\nSuppress: annotation `driftlint.io/ignore: \"{c}\"` on the object, a \
             `# driftlint:ignore {c} <reason>` comment on (or just above) the line, or \
             `rules: {{{c}: {{enabled: false}}}}` in .driftlint.yaml.\n",
            c = m.code
        ));
    }
    Some(out)
}

/// The text of `driftlint rules`: one line per code with its default severity and summary.
pub fn list() -> String {
    let mut out = String::new();
    for m in registry() {
        out.push_str(&format!(
            "{:<10} {:<28} {:<8} {}\n",
            m.code,
            m.name,
            severity_word(m.severity),
            m.summary
        ));
    }
    out
}

fn severity_word(s: Option<Severity>) -> &'static str {
    s.map_or("off", Severity::as_str)
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

fn parse_doc(file: &str, src: &str) -> Result<RuleDoc, String> {
    let docs = parse_documents(file.into(), src).map_err(|e| e.to_string())?;
    let node = docs.first().ok_or("empty file")?;
    let text = |key: &str| -> Option<String> {
        node.get(key)
            .and_then(|n| n.as_scalar())
            .map(|s| s.text.trim_end().to_string())
    };
    let need = |key: &str| text(key).ok_or_else(|| format!("{file}: missing `{key}`"));
    let severity = match need("severity")?.as_str() {
        "off" => None,
        s => Some(Severity::parse(s).ok_or_else(|| format!("{file}: bad severity {s}"))?),
    };
    let tags = node
        .get("tags")
        .and_then(Node::as_seq)
        .map(|t| {
            t.iter()
                .filter_map(|n| n.scalar_text().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let configurable = !matches!(
        node.get("configurable").and_then(Node::resolve),
        Some(driftlint_yaml::Resolved::Bool(false))
    );
    Ok(RuleDoc {
        meta: RuleMeta {
            code: need("code")?,
            name: need("name")?,
            severity,
            summary: need("summary")?,
            rationale: need("rationale")?,
            security_severity: text("security-severity"),
            tags,
            inspects: need("inspects")?,
        },
        example: text("example"),
        fix: text("fix"),
        configurable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_metadata_file_parses() {
        for (file, src) in SOURCES {
            parse_doc(file, src).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut codes = BTreeSet::new();
        let mut names = BTreeSet::new();
        let code_re = regex::Regex::new(r"^[A-Z]+[0-9]{3}$").expect("re");
        let name_re = regex::Regex::new(r"^[a-z0-9]+(-[a-z0-9]+)*$").expect("re");
        for m in registry() {
            assert!(codes.insert(m.code.clone()), "duplicate code {}", m.code);
            assert!(names.insert(m.name.clone()), "duplicate name {}", m.name);
            assert!(code_re.is_match(&m.code), "{}", m.code);
            assert!(name_re.is_match(&m.name), "{}", m.name);
        }
        insta::assert_yaml_snapshot!(codes);
    }

    #[test]
    fn file_names_match_codes() {
        for (file, src) in SOURCES {
            let d = parse_doc(file, src).expect("parses");
            assert_eq!(*file, format!("rules/{}.yaml", d.meta.code));
        }
    }

    #[test]
    fn every_rule_file_has_metadata_and_every_metadata_file_is_embedded() {
        for code in crate::rule_codes() {
            let m = meta(code).unwrap_or_else(|| panic!("{code} has no metadata"));
            assert!(configurable(&m.code), "{code} must be configurable");
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
        let on_disk: BTreeSet<String> = std::fs::read_dir(dir)
            .expect("rules dir")
            .filter_map(|e| e.ok())
            .map(|e| format!("rules/{}", e.file_name().to_string_lossy()))
            .filter(|f| f.ends_with(".yaml"))
            .collect();
        let embedded: BTreeSet<String> = SOURCES.iter().map(|(f, _)| f.to_string()).collect();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn security_rules_carry_security_severity_and_tag() {
        for m in registry().iter().filter(|m| m.code.starts_with("SEC")) {
            let s = m.security_severity.as_deref().expect("security-severity");
            assert!(s.parse::<f64>().is_ok(), "{s}");
            assert!(m.tags.iter().any(|t| t == "security"), "{}", m.code);
        }
    }

    #[test]
    fn pipeline_codes_are_registered() {
        for (code, sev) in [
            ("RENDER001", Some(Severity::Error)),
            ("RENDER002", Some(Severity::Error)),
            ("CHART001", Some(Severity::Warning)),
            ("SCHEMA001", Some(Severity::Error)),
            ("SCHEMA002", Some(Severity::Warning)),
            ("CONFIG001", Some(Severity::Error)),
            ("DRIFT001", Some(Severity::Error)),
            ("DRIFT002", Some(Severity::Error)),
            ("DRIFT003", Some(Severity::Warning)),
            ("DRIFT004", Some(Severity::Error)),
            ("DRIFT005", Some(Severity::Error)),
            ("DRIFT006", Some(Severity::Warning)),
            ("DRIFT007", Some(Severity::Warning)),
        ] {
            assert_eq!(meta(code).map(|m| m.severity), Some(sev), "{code}");
        }
        // Retired with the native Helm engine in `check`; codes are never reused.
        assert!(meta("RENDER003").is_none());
    }

    #[test]
    fn explain_by_code_or_name() {
        let by_code = explain("pin001").expect("known");
        assert_eq!(explain("image-tag-latest"), Some(by_code.clone()));
        assert!(by_code.starts_with("PIN001 image-tag-latest (error)"));
        assert!(by_code.contains("nginx:latest"));
        assert!(explain("PIN004").expect("known").contains("(off)"));
        assert_eq!(explain("NOPE001"), None);
        insta::assert_snapshot!(explain("SEC002").expect("known"));
    }

    #[test]
    fn list_has_one_line_per_code() {
        assert_eq!(list().lines().count(), registry().len());
    }
}
