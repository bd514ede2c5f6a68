//! The drift report: JSON for machines and Markdown for people (a job summary or a PR
//! comment), built from the drift verdicts rather than from findings, so that every object's
//! verdict, in sync included, is listed.
//!
//! JSON, schema version 1 (new keys may be added within a version; every key always present):
//!
//! ```json
//! {
//!   "schemaVersion": 1,
//!   "cluster": "prod",
//!   "mode": "server",
//!   "summary": { "in-sync": 17, "changed": 2, "missing": 1, "orphaned": 1, "not-served": 0, "failed": 0 },
//!   "objects": [
//!     {
//!       "object": { "apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "web" },
//!       "target": "apps",
//!       "origin": { "file": "apps/shop.yaml", "line": 29, "column": 1, "via": null },
//!       "verdict": "changed",
//!       "inventory": null,
//!       "status": null,
//!       "message": null,
//!       "fields": [
//!         { "path": "spec.replicas", "desired": 4, "live": 7, "sensitive": false,
//!           "origin": { "file": "apps/shop.yaml", "line": 39, "column": 13, "via": null } }
//!       ]
//!     }
//!   ]
//! }
//! ```
//!
//! Objects are sorted by verdict (changed, missing, orphaned, not-served, failed, in-sync),
//! then by object; `desired`/`live` are `null` when the field is absent on that side; Secret
//! values are hashes (`sha256:<12 hex>`, `sensitive: true`) and a sensitive value that is not
//! a hash is replaced by `"(secret)"`. `inventory` is set for orphans, `status`/`message` for
//! failed queries (for a Secret, the message's quoted parts are redacted).

use serde::Serialize;
use serde_json::{json, Value};

use super::ObjectRef;
use driftlint_drift::findings::safe_message;
use driftlint_drift::{DriftKind, FieldDrift, Mode, ObjectDrift};
use driftlint_yaml::Origin;

/// Schema version of [`drift_json`] output.
pub const DRIFT_JSON_SCHEMA_VERSION: u32 = 1;

/// Longest value shown in the Markdown report, in characters (longer ones end with `…`).
pub const MARKDOWN_MAX_VALUE: usize = 120;

/// Verdicts in report order, with their JSON/Markdown names.
const VERDICTS: [&str; 6] = [
    "changed",
    "missing",
    "orphaned",
    "not-served",
    "failed",
    "in-sync",
];

fn verdict(kind: &DriftKind) -> &'static str {
    match kind {
        DriftKind::Changed { .. } => "changed",
        DriftKind::Missing => "missing",
        DriftKind::Orphaned { .. } => "orphaned",
        DriftKind::NotServed => "not-served",
        DriftKind::Failed { .. } => "failed",
        DriftKind::InSync => "in-sync",
    }
}

fn sorted(drifts: &[ObjectDrift]) -> Vec<&ObjectDrift> {
    let rank = |d: &ObjectDrift| VERDICTS.iter().position(|v| *v == verdict(&d.drift));
    let mut out: Vec<&ObjectDrift> = drifts.iter().collect();
    out.sort_by(|a, b| {
        (rank(a), &a.object, &a.target, &a.origin).cmp(&(rank(b), &b.object, &b.target, &b.origin))
    });
    out
}

/// The value shown for one side of a field: hashes stay, any other sensitive value becomes
/// `"(secret)"`.
fn shown(v: Option<&Value>, sensitive: bool) -> Value {
    match v {
        None => Value::Null,
        Some(v) if sensitive && !only_hashes(v) => Value::String("(secret)".into()),
        Some(v) => v.clone(),
    }
}

fn only_hashes(v: &Value) -> bool {
    match v {
        Value::String(s) => s.starts_with("sha256:") && s.len() == 19,
        Value::Object(m) => m.values().all(only_hashes),
        _ => false,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonObject {
    api_version: String,
    kind: String,
    namespace: Option<String>,
    name: String,
}

fn object_json(o: &ObjectRef) -> JsonObject {
    JsonObject {
        api_version: o.api_version.clone(),
        kind: o.kind.clone(),
        namespace: o.namespace.clone(),
        name: o.name.clone(),
    }
}

fn origin_json(o: &Origin) -> Value {
    json!({"file": o.file.as_ref(), "line": o.line, "column": o.column, "via": o.via.as_deref()})
}

fn field_json(f: &FieldDrift) -> Value {
    json!({
        "path": f.path.to_string(),
        "desired": shown(f.desired.as_ref(), f.sensitive),
        "live": shown(f.live.as_ref(), f.sensitive),
        "sensitive": f.sensitive,
        "origin": origin_json(&f.origin),
    })
}

fn drift_object_json(d: &ObjectDrift) -> Value {
    let (fields, inventory, status, message) = match &d.drift {
        DriftKind::Changed { fields } => {
            (fields.iter().map(field_json).collect(), None, None, None)
        }
        DriftKind::Orphaned { inventory } => (Vec::new(), Some(inventory.as_str()), None, None),
        DriftKind::Failed { code, message } => (
            Vec::new(),
            None,
            Some(*code),
            Some(safe_message(&d.object, message)),
        ),
        _ => (Vec::new(), None, None, None),
    };
    json!({
        "object": object_json(&d.object),
        "target": d.target,
        "origin": origin_json(&d.origin),
        "verdict": verdict(&d.drift),
        "inventory": inventory,
        "status": status,
        "message": message,
        "fields": fields,
    })
}

fn counts(drifts: &[ObjectDrift]) -> Vec<(&'static str, usize)> {
    VERDICTS
        .iter()
        .map(|v| {
            (
                *v,
                drifts.iter().filter(|d| verdict(&d.drift) == *v).count(),
            )
        })
        .collect()
}

/// The drift report as JSON (schema version [`DRIFT_JSON_SCHEMA_VERSION`], pretty-printed,
/// newline-terminated) for the verdicts of one run against `cluster` in `mode`, with the run's
/// `findings` (drift, render and configuration findings, in the `check` JSON shape) under
/// `findings`. Deterministic: the caller's order of `drifts` does not matter.
pub fn drift_json(
    drifts: &[ObjectDrift],
    findings: &[crate::report::Finding],
    cluster: &str,
    mode: Mode,
) -> String {
    let mut summary = serde_json::Map::new();
    for (v, n) in counts(drifts) {
        summary.insert(v.to_string(), json!(n));
    }
    let report = json!({
        "schemaVersion": DRIFT_JSON_SCHEMA_VERSION,
        "cluster": cluster,
        "mode": mode.as_str(),
        "summary": summary,
        "objects": sorted(drifts).into_iter().map(drift_object_json).collect::<Vec<_>>(),
        "findings": super::json::findings_value(findings),
    });
    let mut out = serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{e}"));
    out.push('\n');
    out
}

/// The drift report as GitHub-flavoured Markdown: a heading naming the cluster and mode, a
/// table of object counts by verdict, then one section per object that is not in sync: changed
/// objects with a code block of `field: desired → live` lines (Secret values as hashes,
/// `(not set)` for an absent side), the others with their reason. Deterministic.
pub fn drift_markdown(drifts: &[ObjectDrift], cluster: &str, mode: Mode) -> String {
    let mut out = format!(
        "## Drift: cluster `{}` ({} mode)\n\n| verdict | objects |\n|---|---:|\n",
        md_code(cluster),
        mode.as_str()
    );
    for (v, n) in counts(drifts) {
        out.push_str(&format!("| {v} | {n} |\n"));
    }
    let not_in_sync: Vec<&ObjectDrift> = sorted(drifts)
        .into_iter()
        .filter(|d| d.drift != DriftKind::InSync)
        .collect();
    if not_in_sync.is_empty() {
        out.push_str("\nEvery object is in sync.\n");
    }
    for d in not_in_sync {
        out.push_str(&object_section(d));
    }
    out
}

fn object_section(d: &ObjectDrift) -> String {
    let mut out = format!(
        "\n### {} `{}`\n\n`{}` (target `{}`)\n\n",
        verdict(&d.drift),
        md_code(&d.object.to_string()),
        md_code(&d.origin.to_string()),
        md_code(&d.target)
    );
    match &d.drift {
        DriftKind::Changed { fields } => {
            out.push_str("```text\n");
            for f in fields {
                out.push_str(&format!(
                    "{}: {} → {}    # {}\n",
                    f.path,
                    md_value(f.desired.as_ref(), f.sensitive),
                    md_value(f.live.as_ref(), f.sensitive),
                    f.origin
                ));
            }
            out.push_str("```\n");
        }
        DriftKind::Missing => {
            out.push_str("Declared in the repository, absent from the cluster.\n")
        }
        DriftKind::Orphaned { inventory } => out.push_str(&format!(
            "Running in the cluster (inventory `{}`), no longer declared in the repository.\n",
            md_code(inventory)
        )),
        DriftKind::NotServed => out.push_str(&format!(
            "The cluster does not serve `{}`.\n",
            md_code(&d.object.api_version)
        )),
        DriftKind::Failed { code, message } => out.push_str(&format!(
            "The cluster answered {code}: {}\n",
            md_text(&safe_message(&d.object, message))
        )),
        DriftKind::InSync => {}
    }
    out
}

/// One side of a field on one line: strings bare unless they hold a newline, backquote or
/// control character (then JSON-quoted), other values as compact JSON, cut at
/// [`MARKDOWN_MAX_VALUE`].
fn md_value(v: Option<&Value>, sensitive: bool) -> String {
    let text = match shown(v, sensitive) {
        Value::Null if v.is_none() => "(not set)".to_string(),
        Value::String(s) if !s.chars().any(|c| c.is_control() || c == '`') => s,
        other => other.to_string(),
    };
    if text.chars().count() <= MARKDOWN_MAX_VALUE {
        return text;
    }
    let mut cut: String = text.chars().take(MARKDOWN_MAX_VALUE).collect();
    cut.push('…');
    cut
}

/// Text for inline code: backquotes and newlines replaced.
fn md_code(s: &str) -> String {
    super::escape::controls(&s.replace(['\n', '\r'], " ")).replace('`', "'")
}

/// Plain Markdown text on one line, with the characters that start markup escaped.
fn md_text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            c if c.is_control() && c != '\t' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_drift::{FieldPath, PathSegment};

    fn at(file: &str, line: u32) -> Origin {
        Origin::new(file.into(), line, 3)
    }

    fn object(kind: &str, ns: Option<&str>, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: if kind == "Deployment" {
                "apps/v1"
            } else {
                "v1"
            }
            .into(),
            kind: kind.into(),
            namespace: ns.map(str::to_string),
            name: name.into(),
        }
    }

    fn path(parts: &[&str]) -> FieldPath {
        FieldPath(
            parts
                .iter()
                .map(|p| PathSegment::Field(p.to_string()))
                .collect(),
        )
    }

    fn sample() -> Vec<ObjectDrift> {
        let mut image = path(&["spec", "template", "spec", "containers"]);
        image
            .0
            .push(PathSegment::Key(vec![("name".into(), "web".into())]));
        image.0.push(PathSegment::Field("image".into()));
        let d =
            |kind: &str, ns: Option<&str>, name: &str, line: u32, drift: DriftKind| ObjectDrift {
                object: object(kind, ns, name),
                origin: at("apps/shop.yaml", line),
                target: "apps".into(),
                drift,
            };
        vec![
            d("Namespace", None, "shop", 1, DriftKind::InSync),
            d(
                "ConfigMap",
                Some("shop"),
                "orphan",
                1,
                DriftKind::Orphaned {
                    inventory: "flux:flux-system/apps".into(),
                },
            ),
            d(
                "Secret",
                Some("shop"),
                "db",
                1,
                DriftKind::Changed {
                    fields: vec![FieldDrift {
                        path: path(&["data", "password"]),
                        desired: Some(json!("sha256:0123456789ab")),
                        live: Some(json!("plain-not-hashed")),
                        sensitive: true,
                        origin: at("apps/shop.yaml", 10),
                    }],
                },
            ),
            d(
                "Deployment",
                Some("shop"),
                "web",
                29,
                DriftKind::Changed {
                    fields: vec![
                        FieldDrift {
                            path: path(&["spec", "replicas"]),
                            desired: Some(json!(4)),
                            live: Some(json!(7)),
                            sensitive: false,
                            origin: at("apps/shop.yaml", 39),
                        },
                        FieldDrift {
                            path: image,
                            desired: Some(json!("nginx:latest")),
                            live: Some(json!("nginx:1.27")),
                            sensitive: false,
                            origin: at("apps/shop.yaml", 54),
                        },
                        FieldDrift {
                            path: path(&["data", "x"]),
                            desired: Some(json!("a\nb")),
                            live: None,
                            sensitive: false,
                            origin: at("apps/shop.yaml", 60),
                        },
                    ],
                },
            ),
            d(
                "ConfigMap",
                Some("platform"),
                "feature-flags",
                98,
                DriftKind::Missing,
            ),
            d(
                "ConfigMap",
                Some("platform"),
                "x",
                2,
                DriftKind::Failed {
                    code: 403,
                    message: "configmaps \"x\" is forbidden: <user>".into(),
                },
            ),
        ]
    }

    #[test]
    fn json_report_snapshot() {
        let out = drift_json(&sample(), &[], "prod", Mode::Server);
        assert!(!out.contains("plain-not-hashed"));
        let mut reversed = sample();
        reversed.reverse();
        assert_eq!(out, drift_json(&reversed, &[], "prod", Mode::Server));
        insta::assert_snapshot!(out);
    }

    #[test]
    fn markdown_report_snapshot() {
        let out = drift_markdown(&sample(), "prod", Mode::ReadOnly);
        assert!(!out.contains("plain-not-hashed"));
        insta::assert_snapshot!(out);
    }

    #[test]
    fn markdown_says_when_all_is_in_sync() {
        let out = drift_markdown(&sample()[..1], "prod", Mode::Server);
        assert!(out.contains("Every object is in sync."), "{out}");
    }
}
