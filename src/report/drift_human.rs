//! The human drift report: per drifted object a header (kind, namespace/name, verdict, source
//! line) and a unified diff of its differing fields, cluster (`-`) against repository (`+`), as
//! `kubectl diff` reads; then one count line. Secret values appear only as hashes.

use std::fmt::Write as _;

use similar::TextDiff;

use super::escape::controls;

use driftlint_drift::{DriftKind, FieldDrift, ObjectDrift};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Renders `objects` (in-sync ones are only counted) for a terminal; `color` adds ANSI colours
/// (the caller decides: a TTY and no `NO_COLOR`).
pub fn drift_human(objects: &[ObjectDrift], cluster: &str, color: bool) -> String {
    let paint = |code: &str, text: &str| match color {
        true => format!("{code}{text}{RESET}"),
        false => text.to_string(),
    };
    let mut out = String::new();
    for o in objects.iter().filter(|o| o.drift != DriftKind::InSync) {
        let at = format!("{}:{}", o.origin.file, o.origin.line);
        let _ = writeln!(
            out,
            "{} {} ({})",
            paint(BOLD, &controls(&o.object.to_string())),
            controls(&verdict(&o.drift)),
            controls(&at)
        );
        if let DriftKind::Changed { fields } = &o.drift {
            for line in unified(fields).lines() {
                let painted = match line.chars().next() {
                    Some('-') => paint(RED, line),
                    Some('+') => paint(GREEN, line),
                    Some('@') => paint(CYAN, line),
                    _ => line.to_string(),
                };
                let _ = writeln!(out, "  {painted}");
            }
        }
    }
    let _ = writeln!(out, "{}", counts(objects, cluster));
    out
}

fn verdict(d: &DriftKind) -> String {
    match d {
        DriftKind::InSync => "in sync".into(),
        DriftKind::Changed { fields } => format!("drifted: {} field(s)", fields.len()),
        DriftKind::Missing => "missing from the cluster".into(),
        DriftKind::Orphaned { inventory } => {
            format!("not in the repository (deployed by {inventory})")
        }
        DriftKind::NotServed => "apiVersion/kind not served by the cluster".into(),
        DriftKind::Failed { code: 0, message } => format!("query failed: {message}"),
        DriftKind::Failed { code, message } => format!("query failed (HTTP {code}): {message}"),
    }
}

/// `path: value` lines of the live side and the desired side, diffed; each repository line
/// ends with the source line that sets the field (`# apps/web.yaml:9`), and a field the
/// repository does not set reads `(not in the repository)` at its nearest ancestor's line.
fn unified(fields: &[FieldDrift]) -> String {
    let live: String = fields
        .iter()
        .filter_map(|f| {
            let v = f.live.as_ref()?;
            Some(format!(
                "{}: {}\n",
                controls(&f.path.to_string()),
                compact(v)
            ))
        })
        .collect();
    let desired: String = fields
        .iter()
        .map(|f| {
            let value = f
                .desired
                .as_ref()
                .map_or_else(|| "(not in the repository)".to_string(), compact);
            let at = controls(&format!("{}:{}", f.origin.file, f.origin.line)).into_owned();
            format!("{}: {value}  # {at}\n", controls(&f.path.to_string()))
        })
        .collect();
    TextDiff::from_lines(&live, &desired)
        .unified_diff()
        .context_radius(0)
        .header("cluster", "repository")
        .to_string()
}

/// A value on one line: strings as written (line breaks and other control characters
/// escaped), anything else as JSON.
fn compact(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => controls(s).into_owned(),
        other => controls(&other.to_string()).into_owned(),
    }
}

/// `cluster prod: 3 drifted, 1 missing, 1 orphaned, 18 in sync`.
pub fn counts(objects: &[ObjectDrift], cluster: &str) -> String {
    let count = |f: fn(&DriftKind) -> bool| objects.iter().filter(|o| f(&o.drift)).count();
    format!(
        "cluster {cluster}: {} drifted, {} missing, {} orphaned, {} not served, {} failed, {} in sync",
        count(|d| matches!(d, DriftKind::Changed { .. })),
        count(|d| matches!(d, DriftKind::Missing)),
        count(|d| matches!(d, DriftKind::Orphaned { .. })),
        count(|d| matches!(d, DriftKind::NotServed)),
        count(|d| matches!(d, DriftKind::Failed { .. })),
        count(|d| matches!(d, DriftKind::InSync)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ObjectRef;
    use driftlint_drift::{FieldPath, PathSegment};
    use driftlint_yaml::Origin;
    use serde_json::json;

    fn field(path: &[&str], desired: serde_json::Value, live: serde_json::Value) -> FieldDrift {
        FieldDrift {
            path: FieldPath(
                path.iter()
                    .map(|p| PathSegment::Field(p.to_string()))
                    .collect(),
            ),
            desired: Some(desired),
            live: Some(live),
            sensitive: false,
            origin: Origin::new("apps/web.yaml".into(), 9, 3),
        }
    }

    #[test]
    fn changed_fields_read_as_a_unified_diff_and_in_sync_objects_only_count() {
        let web = ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: "web".into(),
        };
        let objects = vec![
            ObjectDrift {
                object: web.clone(),
                origin: Origin::new("apps/web.yaml".into(), 1, 1),
                target: "apps".into(),
                drift: DriftKind::Changed {
                    fields: vec![field(&["spec", "replicas"], json!(4), json!(7))],
                },
            },
            ObjectDrift {
                object: ObjectRef {
                    name: "api".into(),
                    ..web
                },
                origin: Origin::new("apps/api.yaml".into(), 1, 1),
                target: "apps".into(),
                drift: DriftKind::InSync,
            },
        ];
        insta::assert_snapshot!(drift_human(&objects, "prod", false));
    }
}
