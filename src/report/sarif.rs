//! SARIF 2.1.0 for GitHub code scanning (built with `serde-sarif`'s generated types).
//!
//! Shape (see `RULES.md` "SARIF for GitHub code scanning"):
//! - one run, `automationDetails.id` from [`SarifRun::automation_id`] (`driftlint/check/`);
//! - `tool.driver.rules` holds **every** rule passed in (sorted by code), not only those with
//!   results, so that code scanning can show a rule's help before it first fires and the
//!   `ruleIndex` of a result never depends on which other results exist; codes that appear in
//!   findings but not in the rule list (e.g. a built-in `RENDER001`) get a minimal descriptor
//!   appended after them;
//! - each result is located at the finding's origin: `artifactLocation.uri` is the
//!   repo-relative path, percent-encoded, with `uriBaseId: "%SRCROOT%"`, and `region` carries
//!   `startLine`/`startColumn` (columns count Unicode code points: `run.columnKind`). A finding
//!   whose origin is a pseudo file (`<generated>`) has no physical location, only the logical
//!   one; a line of 0 (unknown) gives no region;
//! - the rendered object is a `logicalLocations[0]` of kind `resource`;
//! - `partialFingerprints["driftlintFingerprint/v1"]` is [`fingerprint`];
//! - at most [`MAX_RESULTS`] results: beyond that the most severe are kept and
//!   `run.properties` says how many were dropped.

use std::collections::BTreeMap;

use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Location, LogicalLocation, Message, MultiformatMessageString,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, RunAutomationDetails, Sarif, Tool, ToolComponent,
};

use super::github::is_real_file;
use super::summary::{in_file_order, most_severe_first};
use super::{fingerprint, Finding, RuleMeta, Severity};

/// Most results per run that GitHub code scanning accepts.
pub const MAX_RESULTS: usize = 25_000;

/// The `$schema` written at the top of every log (OASIS SARIF 2.1.0, errata 01).
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Key of our fingerprint in `result.partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "driftlintFingerprint/v1";

/// The `%SRCROOT%` base id every artifact URI is relative to.
pub const SRCROOT: &str = "%SRCROOT%";

const DEFAULT_INFORMATION_URI: &str = "https://github.com/driftlint/driftlint";

/// Per-run settings of a SARIF log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SarifRun {
    /// `runs[0].automationDetails.id`: `category/` or `category/run-id`, e.g.
    /// `driftlint/check/` or `driftlint/drift/prod/`. GitHub keeps one analysis per category.
    pub automation_id: String,
    /// Absolute `file:` URI of the repository root, ending in `/`, written as
    /// `originalUriBaseIds["%SRCROOT%"].uri`; `None` leaves it out (GitHub resolves
    /// `%SRCROOT%` against the checkout, and logs stay byte-identical across machines).
    pub srcroot_uri: Option<String>,
}

impl SarifRun {
    /// The run of `driftlint check`: `automationDetails.id = "driftlint/check/"`, no srcroot URI.
    pub fn check() -> SarifRun {
        SarifRun {
            automation_id: "driftlint/check/".to_string(),
            srcroot_uri: None,
        }
    }
}

impl SarifRun {
    /// The run of `driftlint drift` against `cluster`: `automationDetails.id =
    /// "driftlint/drift/CLUSTER/"`, so each cluster keeps its own analysis in code scanning.
    pub fn drift(cluster: &str) -> SarifRun {
        let safe: String = cluster
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
                _ => '-',
            })
            .collect();
        SarifRun {
            automation_id: format!("driftlint/drift/{safe}/"),
            srcroot_uri: None,
        }
    }
}

impl Default for SarifRun {
    fn default() -> Self {
        SarifRun::check()
    }
}

/// The URI of the project (Cargo `repository`, else the default).
pub fn information_uri() -> &'static str {
    match env!("CARGO_PKG_REPOSITORY") {
        "" => DEFAULT_INFORMATION_URI,
        repo => repo,
    }
}

/// The documentation page of rule `code`: `<information_uri>/blob/main/rules/<CODE>.yaml`.
pub fn help_uri(code: &str) -> String {
    format!("{}/blob/main/rules/{code}.yaml", information_uri())
}

/// Renders a SARIF 2.1.0 log (pretty-printed, newline-terminated) with one run holding
/// `findings` (in file order, capped at [`MAX_RESULTS`]) and `rules` (all of them, sorted by
/// code) as `tool.driver.rules`. See the module docs for the exact shape.
pub fn sarif(findings: &[Finding], rules: &[RuleMeta], run: &SarifRun) -> String {
    let descriptors = descriptors(findings, rules);
    let index: BTreeMap<&str, usize> = descriptors
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let kept = keep_most_severe(findings);
    let results: Vec<SarifResult> = kept
        .iter()
        .map(|f| result(f, index.get(f.code.as_str()).copied()))
        .collect();
    let mut sarif_run = Run::builder()
        .tool(Tool::from(driver(descriptors)))
        .automation_details(
            RunAutomationDetails::builder()
                .id(run.automation_id.clone())
                .build(),
        )
        .original_uri_base_ids(base_ids(run))
        .column_kind(json!("unicodeCodePoints"))
        .results(results)
        .build();
    if kept.len() < findings.len() {
        sarif_run.properties = Some(truncation_note(findings.len(), kept.len()));
    }
    let log = Sarif::builder()
        .schema(SARIF_SCHEMA)
        .version(json!("2.1.0"))
        .runs(vec![sarif_run])
        .build();
    // Serialising strings, integers and maps with string keys cannot fail.
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

/// The findings to report, in file order: all of them, or the [`MAX_RESULTS`] most severe.
fn keep_most_severe(findings: &[Finding]) -> Vec<&Finding> {
    if findings.len() <= MAX_RESULTS {
        return in_file_order(findings);
    }
    let mut kept = most_severe_first(findings);
    kept.truncate(MAX_RESULTS);
    kept.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    kept
}

fn truncation_note(total: usize, kept: usize) -> PropertyBag {
    let mut props = BTreeMap::new();
    props.insert("driftlint/truncated".to_string(), json!(true));
    props.insert("driftlint/resultsTotal".to_string(), json!(total));
    props.insert("driftlint/resultsKept".to_string(), json!(kept));
    props.insert(
        "driftlint/truncationReason".to_string(),
        json!(format!(
            "GitHub accepts at most {MAX_RESULTS} results per run; the {kept} most severe of \
             {total} findings are included (use --format json for all)"
        )),
    );
    PropertyBag::builder().additional_properties(props).build()
}

fn base_ids(run: &SarifRun) -> BTreeMap<String, ArtifactLocation> {
    let description = Message::builder()
        .text("The root of the repository that was checked.")
        .build();
    let loc = match &run.srcroot_uri {
        Some(uri) => ArtifactLocation::builder()
            .uri(uri.clone())
            .description(description)
            .build(),
        None => ArtifactLocation::builder().description(description).build(),
    };
    BTreeMap::from([(SRCROOT.to_string(), loc)])
}

fn driver(rules: Vec<ReportingDescriptor>) -> ToolComponent {
    ToolComponent::builder()
        .name("driftlint")
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri(information_uri())
        .rules(rules)
        .build()
}

/// All `rules` sorted by code, then a minimal descriptor for each other code in `findings`.
fn descriptors(findings: &[Finding], rules: &[RuleMeta]) -> Vec<ReportingDescriptor> {
    let mut sorted: Vec<&RuleMeta> = rules.iter().collect();
    sorted.sort_by(|a, b| a.code.cmp(&b.code));
    sorted.dedup_by(|a, b| a.code == b.code);
    let mut out: Vec<ReportingDescriptor> = sorted.iter().map(|r| descriptor(r)).collect();
    let mut unknown: Vec<&str> = findings
        .iter()
        .map(|f| f.code.as_str())
        .filter(|c| !sorted.iter().any(|r| r.code == *c))
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    out.extend(unknown.into_iter().map(unknown_descriptor));
    out
}

fn text(s: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s.into()).build()
}

fn descriptor(r: &RuleMeta) -> ReportingDescriptor {
    let full = if r.rationale.is_empty() {
        &r.summary
    } else {
        &r.rationale
    };
    let help = MultiformatMessageString::builder()
        .text(help_text(r))
        .markdown(help_markdown(r))
        .build();
    ReportingDescriptor::builder()
        .id(r.code.clone())
        .name(r.name.clone())
        .short_description(text(r.summary.clone()))
        .full_description(text(full.clone()))
        .help(help)
        .help_uri(help_uri(&r.code))
        .default_configuration(default_configuration(r.severity))
        .properties(rule_properties(r))
        .build()
}

fn unknown_descriptor(code: &str) -> ReportingDescriptor {
    let summary = format!("driftlint finding {code}");
    let full = format!(
        "{code} is reported by driftlint itself (for example a render or schema error) and has \
         no entry in the rule registry."
    );
    let help = MultiformatMessageString::builder()
        .text(format!("{full}\n{}", suppress_hint(code)))
        .markdown(format!("{full}\n\n[Documentation]({})\n", help_uri(code)))
        .build();
    ReportingDescriptor::builder()
        .id(code.to_string())
        .short_description(text(summary))
        .full_description(text(full))
        .help(help)
        .help_uri(help_uri(code))
        .build()
}

fn default_configuration(sev: Option<Severity>) -> ReportingConfiguration {
    match sev {
        Some(s) => ReportingConfiguration::builder().level(s.as_str()).build(),
        None => ReportingConfiguration::builder()
            .enabled(false)
            .level("none")
            .build(),
    }
}

fn rule_properties(r: &RuleMeta) -> PropertyBag {
    let mut tags = r.tags.clone();
    if r.security_severity.is_some() && !tags.iter().any(|t| t == "security") {
        tags.push("security".to_string());
    }
    let mut extra = BTreeMap::new();
    if let Some(s) = &r.security_severity {
        extra.insert("security-severity".to_string(), json!(s));
    }
    PropertyBag::builder()
        .tags(tags)
        .additional_properties(extra)
        .build()
}

fn default_level(r: &RuleMeta) -> &'static str {
    r.severity.map_or("off", Severity::as_str)
}

fn help_text(r: &RuleMeta) -> String {
    let mut s = format!(
        "{} {} (default: {})\n\n{}\n",
        r.code,
        r.name,
        default_level(r),
        r.summary
    );
    if !r.rationale.is_empty() {
        s.push_str(&format!("\nWhy: {}\n", r.rationale));
    }
    if !r.inspects.is_empty() {
        s.push_str(&format!("\nInspects: {}\n", r.inspects));
    }
    s.push_str(&suppress_hint(&r.code));
    s
}

fn help_markdown(r: &RuleMeta) -> String {
    let mut s = format!(
        "**{}** `{}` (default: {})\n\n{}\n",
        r.code,
        r.name,
        default_level(r),
        r.summary
    );
    if !r.rationale.is_empty() {
        s.push_str(&format!("\n**Why:** {}\n", r.rationale));
    }
    if !r.inspects.is_empty() {
        s.push_str(&format!("\n**Inspects:** {}\n", r.inspects));
    }
    s.push_str(&format!("\n[Documentation]({})\n", help_uri(&r.code)));
    s
}

fn suppress_hint(code: &str) -> String {
    format!(
        "\nSuppress with the annotation driftlint.io/ignore: \"{code}\" (and \
         driftlint.io/ignore-reason) or a `# driftlint:ignore {code} reason` comment.\n"
    )
}

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Note => ResultLevel::Note,
    }
}

fn result(f: &Finding, rule_index: Option<usize>) -> SarifResult {
    let mut r = SarifResult::builder()
        .rule_id(f.code.clone())
        .level(level(f.severity))
        .message(Message::builder().text(message_text(f)).build())
        .locations(vec![location(f)])
        .partial_fingerprints(BTreeMap::from([(
            FINGERPRINT_KEY.to_string(),
            fingerprint(f),
        )]))
        .properties(result_properties(f))
        .build();
    r.rule_index = rule_index.and_then(|i| i64::try_from(i).ok());
    r
}

/// The message plus its object, target, field and `via` context, on one line.
fn message_text(f: &Finding) -> String {
    let mut parts = Vec::new();
    if let Some(o) = &f.object {
        parts.push(format!("{o} ({})", o.api_version));
    }
    if !f.target.is_empty() {
        parts.push(format!("target {}", f.target));
    }
    if let Some(field) = &f.field {
        parts.push(format!("field {field}"));
    }
    if let Some(via) = &f.origin.via {
        parts.push(format!("set by {via}"));
    }
    if parts.is_empty() {
        f.message.clone()
    } else {
        format!("{} [{}]", f.message, parts.join("; "))
    }
}

fn location(f: &Finding) -> Location {
    let mut loc = Location::builder().build();
    if is_real_file(&f.origin.file) {
        let artifact = ArtifactLocation::builder()
            .uri(encode_uri_path(&f.origin.file))
            .uri_base_id(SRCROOT)
            .build();
        let mut physical = PhysicalLocation::builder()
            .artifact_location(artifact)
            .build();
        if f.origin.line > 0 {
            physical.region = Some(
                Region::builder()
                    .start_line(i64::from(f.origin.line))
                    .start_column(i64::from(f.origin.column.max(1)))
                    .build(),
            );
        }
        loc.physical_location = Some(physical);
    }
    if let Some(o) = &f.object {
        let fqn = match &o.namespace {
            Some(ns) => format!("{}/{}/{ns}/{}", o.api_version, o.kind, o.name),
            None => format!("{}/{}/{}", o.api_version, o.kind, o.name),
        };
        let logical = LogicalLocation::builder()
            .kind("resource")
            .name(o.name.clone())
            .fully_qualified_name(fqn)
            .build();
        loc.logical_locations = Some(vec![logical]);
    }
    loc
}

fn result_properties(f: &Finding) -> PropertyBag {
    let mut props = BTreeMap::new();
    props.insert("target".to_string(), json!(f.target));
    if let Some(o) = &f.object {
        props.insert("apiVersion".to_string(), json!(o.api_version));
        props.insert("kind".to_string(), json!(o.kind));
        if let Some(ns) = &o.namespace {
            props.insert("namespace".to_string(), json!(ns));
        }
        props.insert("name".to_string(), json!(o.name));
    }
    if let Some(field) = &f.field {
        props.insert("field".to_string(), json!(field));
    }
    if let Some(via) = &f.origin.via {
        props.insert("via".to_string(), json!(via.as_ref()));
    }
    PropertyBag::builder().additional_properties(props).build()
}

/// Percent-encodes a repo-relative path for use as a relative URI reference: unreserved
/// characters, `/` and the path-safe sub-delimiters stay, everything else (spaces, `%`, `:`,
/// `#`, `?`, non-ASCII) is `%XX`-encoded per UTF-8 byte. A leading `./` is dropped.
pub fn encode_uri_path(path: &str) -> String {
    let path = path.strip_prefix("./").unwrap_or(path);
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'@'
            );
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ObjectRef;
    use driftlint_yaml::Origin;

    fn finding(code: &str, sev: Severity, line: u32) -> Finding {
        Finding {
            code: code.into(),
            severity: sev,
            message: "m".into(),
            origin: Origin::new("base/deploy.yaml".into(), line, 3),
            object: Some(ObjectRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: Some("prod".into()),
                name: "web".into(),
            }),
            target: "overlays/prod".into(),
            field: Some("/spec/replicas".into()),
        }
    }

    fn parse(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn encodes_uris() {
        assert_eq!(
            encode_uri_path("./a b/c:d#é.yaml"),
            "a%20b/c%3Ad%23%C3%A9.yaml"
        );
        assert_eq!(
            encode_uri_path("charts/x/templates/_h.tpl"),
            "charts/x/templates/_h.tpl"
        );
    }

    #[test]
    fn fingerprint_ignores_lines_but_not_identity() {
        let a = finding("PIN001", Severity::Error, 10);
        let b = finding("PIN001", Severity::Error, 99);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let mut c = a.clone();
        c.target = "overlays/staging".into();
        assert_ne!(fingerprint(&a), fingerprint(&c));
        let mut d = a.clone();
        d.field = Some("/spec/x".into());
        assert_ne!(fingerprint(&a), fingerprint(&d));
    }

    #[test]
    fn render_failures_fingerprint_the_same_when_their_line_moves() {
        let at = |line: u32| {
            Finding {
            code: "RENDER001".into(),
            severity: Severity::Error,
            message: format!(
                "cannot render charts/app: execution error at (app/templates/cm.yaml:{line}:4): boom"
            ),
            origin: Origin::new("charts/app/templates/cm.yaml".into(), line, 4),
            object: None,
            target: "charts/app".into(),
            field: None,
        }
        };
        assert_eq!(fingerprint(&at(3)), fingerprint(&at(17)));
        let mut other = at(3);
        other.message = other.message.replace("boom", "bang");
        assert_ne!(fingerprint(&at(3)), fingerprint(&other));
    }

    #[test]
    fn unknown_codes_get_a_descriptor_and_indexes_match() {
        let rule = RuleMeta {
            code: "PIN001".into(),
            name: "image-tag-latest".into(),
            severity: Some(Severity::Error),
            summary: "s".into(),
            rationale: "r".into(),
            security_severity: None,
            tags: vec![],
            inspects: String::new(),
        };
        let out = parse(&sarif(
            &[
                finding("RENDER001", Severity::Error, 1),
                finding("PIN001", Severity::Error, 2),
            ],
            &[rule],
            &SarifRun::check(),
        ));
        let run = &out["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        for r in run["results"].as_array().unwrap() {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
        }
        assert_eq!(rules.len(), 2);
    }

    #[test]
    fn caps_results_keeping_the_most_severe() {
        let mut findings: Vec<Finding> = (0..MAX_RESULTS)
            .map(|i| finding("WL009", Severity::Note, i as u32 + 1))
            .collect();
        findings.push(finding("PIN001", Severity::Error, 30_000));
        let out = parse(&sarif(&findings, &[], &SarifRun::check()));
        let run = &out["runs"][0];
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), MAX_RESULTS);
        assert!(results.iter().any(|r| r["ruleId"] == "PIN001"));
        assert_eq!(run["properties"]["driftlint/resultsTotal"], MAX_RESULTS + 1);
    }

    #[test]
    fn pseudo_files_and_unknown_lines_have_no_physical_location_or_region() {
        let mut f = finding("PIN001", Severity::Error, 0);
        let out = parse(&sarif(std::slice::from_ref(&f), &[], &SarifRun::check()));
        let loc = &out["runs"][0]["results"][0]["locations"][0];
        assert!(loc["physicalLocation"]["region"].is_null());
        f.origin.file = "<generated>".into();
        let out = parse(&sarif(&[f], &[], &SarifRun::check()));
        let loc = &out["runs"][0]["results"][0]["locations"][0];
        assert!(loc["physicalLocation"].is_null());
        assert_eq!(loc["logicalLocations"][0]["kind"], "resource");
    }
}
