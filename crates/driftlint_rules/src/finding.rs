//! The unit every stage reports: a [`Finding`] at an [`Origin`].

use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

use driftlint_yaml::Origin;

/// How serious a finding is; ordered `Note < Warning < Error`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational (SARIF `note`).
    Note,
    /// Should be fixed (SARIF `warning`).
    Warning,
    /// Must be fixed (SARIF `error`).
    Error,
}

impl Severity {
    /// The SARIF level / lowercase name: `note`, `warning`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses `note`/`info`, `warning`, `error` (as written in config and `--fail-on`).
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "note" | "info" => Some(Severity::Note),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rendered object a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    /// `apiVersion`, e.g. `apps/v1`.
    pub api_version: String,
    /// `kind`, e.g. `Deployment`.
    pub kind: String,
    /// `metadata.namespace`, if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectRef {
    /// Reads apiVersion, kind, namespace and name from a rendered object.
    pub fn of(obj: &driftlint_yaml::Node) -> ObjectRef {
        let s = |p: &[&str]| obj.str_at(p).unwrap_or_default().to_string();
        ObjectRef {
            api_version: s(&["apiVersion"]),
            kind: s(&["kind"]),
            namespace: obj.str_at(&["metadata", "namespace"]).map(str::to_string),
            name: s(&["metadata", "name"]),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// One problem found by rendering, validation or a rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Stable rule code, e.g. `PIN001`, `SCHEMA001`, `RENDER001`.
    pub code: String,
    /// Effective severity (after configuration).
    pub severity: Severity,
    /// Human sentence; never contains more than the first four characters of a secret.
    pub message: String,
    /// The source line the user must edit (origin of the offending value).
    pub origin: Origin,
    /// The rendered object, when the finding is about one.
    pub object: Option<ObjectRef>,
    /// The target (overlay dir, chart, manifest folder) that produced it, repo-relative.
    pub target: String,
    /// JSON pointer of the offending field within the object, when there is one.
    pub field: Option<String>,
}

impl Finding {
    /// Deterministic report order: file, line, column, code, target, message.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            &self.origin.file,
            self.origin.line,
            self.origin.column,
            &self.code,
            &self.target,
            &self.message,
        )
    }
}

/// Our fingerprint of a finding, stable under edits that only move lines: lowercase hex
/// SHA-256 of `code|target|apiVersion|kind|namespace|name|field` for a finding about an object
/// (absent namespace and field are empty), or of `code|target|file|field|message` otherwise,
/// with every number in the message replaced by `#` (no line or column number is hashed).
/// Drift findings (`DRIFT*`, whose target is the cluster) use
/// `code|apiVersion|kind|namespace|name|field|cluster`.
///
/// The target is part of the key (unlike a bare object key) because one base can be rendered
/// by several overlays into objects with the same identity whose findings point at different
/// lines; without it GitHub would merge them into one alert. Rules must set `field` to tell
/// apart several findings on one object.
pub fn fingerprint(f: &Finding) -> String {
    let field = f.field.as_deref().unwrap_or("");
    let key = match &f.object {
        // Drift findings: their target is the cluster, last in the key (see drift::findings).
        Some(o) if f.code.starts_with("DRIFT") => [
            f.code.as_str(),
            &o.api_version,
            &o.kind,
            o.namespace.as_deref().unwrap_or(""),
            &o.name,
            field,
            &f.target,
        ]
        .join("|"),
        Some(o) => [
            f.code.as_str(),
            &f.target,
            &o.api_version,
            &o.kind,
            o.namespace.as_deref().unwrap_or(""),
            &o.name,
            field,
        ]
        .join("|"),
        None => [
            f.code.as_str(),
            &f.target,
            &f.origin.file,
            field,
            &without_numbers(&f.message),
        ]
        .join("|"),
    };
    data_encoding::HEXLOWER.encode(&Sha256::digest(key.as_bytes()))
}

/// `message` with every run of ASCII digits replaced by `#`: a message that names its own
/// location (`(templates/x.yaml:12:3)`, `line 12`) fingerprints the same after lines move.
fn without_numbers(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_number = false;
    for c in message.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            out.push(c);
            in_number = false;
        }
    }
    out
}
