//! The machine-readable JSON report.
//!
//! Format version 1 (bumped on any incompatible change; new keys may be added within a
//! version). Every key is always present; absent values are `null`:
//!
//! ```json
//! {
//!   "version": 1,
//!   "findings": [
//!     {
//!       "code": "PIN001",
//!       "severity": "error",
//!       "message": "image nginx:latest uses the latest tag",
//!       "location": {
//!         "file": "base/deployment.yaml",
//!         "line": 12,
//!         "column": 16,
//!         "via": null
//!       },
//!       "target": "overlays/prod",
//!       "object": { "apiVersion": "apps/v1", "kind": "Deployment", "namespace": "prod", "name": "web" },
//!       "field": "/spec/template/spec/containers/0/image",
//!       "fingerprint": "3f1c…"
//!     }
//!   ],
//!   "summary": { "errors": 1, "warnings": 0, "notes": 0, "total": 1, "targetsChecked": 1, "targetsFailed": 0, "chartsNotAvailable": 0 }
//! }
//! ```
//!
//! `severity` is `error`, `warning` or `note`; `location.line`/`column` are 1-based (0 when
//! unknown); `location.via` names the transformation that set the value; `object.namespace` is
//! `null` for cluster-scoped or unnamespaced objects; `field` is a JSON pointer into the
//! rendered object; `fingerprint` is the SARIF `driftlintFingerprint/v1` (see
//! [`super::fingerprint`]), usable as a baseline key. Findings are in file order.

use serde::Serialize;

use super::summary::in_file_order;
use super::{fingerprint, Finding, Summary};

/// Format version of [`json`] output.
pub const JSON_FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    summary: &'a Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    targets: Option<&'a [JsonTarget]>,
}

/// One checked target (apply unit) in the `targets` array of `check --format json`:
/// `{"id", "kind", "path", "source": {"file", "line"} | null, "objects", "failed"}`.
/// `kind` is `kustomize`, `helm`, `manifests`, `flux-kustomization` or `helm-release`; `source`
/// is where a Flux Kustomization or HelmRelease is declared.
#[derive(Clone, Debug, Serialize)]
pub struct JsonTarget {
    /// The target id findings name.
    pub id: String,
    /// What it is.
    pub kind: &'static str,
    /// Its repo-relative folder.
    pub path: String,
    /// Where the object declaring it is written (Flux Kustomizations).
    pub source: Option<JsonSource>,
    /// Objects rendered.
    pub objects: usize,
    /// True when it could not be rendered.
    pub failed: bool,
}

/// A file and line.
#[derive(Clone, Debug, Serialize)]
pub struct JsonSource {
    /// Repo-relative file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'a str,
    severity: &'static str,
    message: &'a str,
    location: Location<'a>,
    target: &'a str,
    object: Option<Object<'a>>,
    field: Option<&'a str>,
    fingerprint: String,
}

#[derive(Serialize)]
struct Location<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    via: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object<'a> {
    api_version: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
}

/// Renders the findings (sorted into file order) and `summary` as pretty-printed JSON in the
/// documented version-1 format (see the module docs), ending with a newline.
pub fn json(findings: &[Finding], summary: &Summary) -> String {
    render(findings, summary, None)
}

/// [`json`] with the `targets` array listing what was checked.
pub fn json_with_targets(
    findings: &[Finding],
    summary: &Summary,
    targets: &[JsonTarget],
) -> String {
    render(findings, summary, Some(targets))
}

fn render(findings: &[Finding], summary: &Summary, targets: Option<&[JsonTarget]>) -> String {
    let report = Report {
        version: JSON_FORMAT_VERSION,
        findings: in_file_order(findings).into_iter().map(convert).collect(),
        summary,
        targets,
    };
    // Serialising plain strings and integers cannot fail.
    let mut out = serde_json::to_string_pretty(&report).unwrap_or_default();
    out.push('\n');
    out
}

/// The findings (sorted into file order) as the `findings` array of the version-1 format, for
/// documents that embed them (the drift report).
pub(crate) fn findings_value(findings: &[Finding]) -> serde_json::Value {
    let converted: Vec<JsonFinding> = in_file_order(findings).into_iter().map(convert).collect();
    serde_json::to_value(converted).unwrap_or_default()
}

fn convert(f: &Finding) -> JsonFinding<'_> {
    JsonFinding {
        code: &f.code,
        severity: f.severity.as_str(),
        message: &f.message,
        location: Location {
            file: &f.origin.file,
            line: f.origin.line,
            column: f.origin.column,
            via: f.origin.via.as_deref(),
        },
        target: &f.target,
        object: f.object.as_ref().map(|o| Object {
            api_version: &o.api_version,
            kind: &o.kind,
            namespace: o.namespace.as_deref(),
            name: &o.name,
        }),
        field: f.field.as_deref(),
        fingerprint: fingerprint(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Severity;
    use driftlint_yaml::Origin;

    #[test]
    fn every_key_is_present_and_round_trips() {
        let f = Finding {
            code: "RENDER001".into(),
            severity: Severity::Error,
            message: "bad \"quote\"".into(),
            origin: Origin::new("k.yaml".into(), 1, 2),
            object: None,
            target: "o".into(),
            field: None,
        };
        let out = json(
            std::slice::from_ref(&f),
            &Summary::new(std::slice::from_ref(&f), 1, 1),
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["version"], 1);
        let f0 = &v["findings"][0];
        assert_eq!(f0["message"], "bad \"quote\"");
        assert!(f0["object"].is_null() && f0["field"].is_null() && f0["location"]["via"].is_null());
        assert_eq!(f0["fingerprint"].as_str().map(str::len), Some(64));
        assert_eq!(v["summary"]["targetsFailed"], 1);
    }
}
