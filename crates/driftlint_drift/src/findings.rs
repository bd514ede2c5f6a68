//! Drift verdicts as [`Finding`]s, so that every report format (human, JSON, SARIF, GitHub
//! annotations) shows drift like any other finding.
//!
//! | code | name | default | from |
//! |---|---|---|---|
//! | DRIFT001 | field-drift | error | [`DriftKind::Changed`], one finding per field, at the field's origin |
//! | DRIFT002 | object-missing | error | [`DriftKind::Missing`], at the object's origin |
//! | DRIFT003 | object-orphaned | warning | [`DriftKind::Orphaned`], at the inventory owner |
//! | DRIFT004 | api-not-served | error | [`DriftKind::NotServed`] |
//! | DRIFT005 | drift-query-failed | error | [`DriftKind::Failed`] |
//! | DRIFT006 | server-dry-run-forbidden | warning | [`dry_run_forbidden`] |
//! | DRIFT007 | server-dry-run-rejected | warning | [`dry_run_rejected`] |
//!
//! A drift finding's `target` is the **cluster** it was compared with (the rendered target is
//! kept in [`ObjectDrift::target`] and the drift report): the SARIF fingerprint of drift
//! findings is `code|apiVersion|kind|namespace|name|field|cluster`, so the same drift seen on
//! two nights gives the same fingerprint and two clusters never share one. Secret values never
//! appear: field values of sensitive drifts are already hashes, and Status messages about a
//! Secret have their quoted values redacted.

use serde_json::Value;

use super::model::{DriftKind, FieldDrift, ObjectDrift};
use driftlint_rules::{Finding, ObjectRef, Severity};

/// Longest rendering of one value in a message, in characters; longer values are cut with `…`.
pub const MAX_VALUE_CHARS: usize = 80;

/// One finding per changed field (DRIFT001) and one per missing (DRIFT002), orphaned
/// (DRIFT003), not served (DRIFT004) or failed (DRIFT005) object; nothing for objects in sync.
/// `cluster` names the cluster (kubeconfig context) and becomes each finding's `target`.
/// Severities are the registry defaults (configuration is applied by the caller, as for rules).
/// Order: as `drifts`, fields in path order.
pub fn to_findings(drifts: &[ObjectDrift], cluster: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for d in drifts {
        let object = &d.object;
        let finding = |code: &str, message: String| Finding {
            code: code.to_string(),
            severity: default_severity(code),
            message,
            origin: d.origin.clone(),
            object: Some(object.clone()),
            target: cluster.to_string(),
            field: None,
        };
        match &d.drift {
            DriftKind::InSync => {}
            DriftKind::Changed { fields } => {
                out.extend(fields.iter().map(|f| field_finding(f, object, cluster)));
            }
            DriftKind::Missing => out.push(finding(
                "DRIFT002",
                format!("{object} is declared in the repository but missing from cluster {cluster}"),
            )),
            DriftKind::Orphaned { inventory } => out.push(finding(
                "DRIFT003",
                format!(
                    "{object} runs in cluster {cluster} but the repository no longer declares it (inventory {inventory})"
                ),
            )),
            DriftKind::NotServed => out.push(finding(
                "DRIFT004",
                format!(
                    "cluster {cluster} does not serve {} {} ({object})",
                    object.api_version, object.kind
                ),
            )),
            DriftKind::Failed { code, message } => out.push(finding(
                "DRIFT005",
                format!(
                    "cluster {cluster} answered {} for {object}: {}",
                    status_word(*code),
                    safe_message(object, message)
                ),
            )),
        }
    }
    out
}

/// DRIFT006 (warning) at the object whose server-side-apply dry-run was refused with 403:
/// the run fell back to read-only comparison. `status_message` is the server's message.
pub fn dry_run_forbidden(first: &ObjectDrift, cluster: &str, status_message: &str) -> Finding {
    Finding {
        code: "DRIFT006".to_string(),
        severity: default_severity("DRIFT006"),
        message: format!(
            "server-side-apply dry-run is forbidden in cluster {cluster} ({}); drift was compared read-only",
            safe_message(&first.object, status_message)
        ),
        origin: first.origin.clone(),
        object: Some(first.object.clone()),
        target: cluster.to_string(),
        field: None,
    }
}

/// DRIFT007 (warning) at an object whose server-side-apply dry-run the cluster rejected
/// (HTTP `code`: 422 Invalid, an admission webhook's denial or failure) and which was compared
/// read-only instead. `status_message` is the server's message; an immutable-field change is
/// named as such (the object must be recreated to apply it).
pub fn dry_run_rejected(
    object: &ObjectDrift,
    cluster: &str,
    code: u16,
    status_message: &str,
) -> Finding {
    let why = if status_message.contains("immutable") {
        "an immutable field changed: the object must be deleted and recreated to apply it"
    } else if status_message.contains("webhook") {
        "an admission webhook refused or failed"
    } else {
        "the object is invalid for the cluster"
    };
    Finding {
        code: "DRIFT007".to_string(),
        severity: default_severity("DRIFT007"),
        message: format!(
            "cluster {cluster} rejected the server-side-apply dry-run of {} (HTTP {code}: {}): {why}; compared read-only",
            object.object,
            safe_message(&object.object, status_message)
        ),
        origin: object.origin.clone(),
        object: Some(object.object.clone()),
        target: cluster.to_string(),
        field: None,
    }
}

fn field_finding(f: &FieldDrift, object: &ObjectRef, cluster: &str) -> Finding {
    Finding {
        code: "DRIFT001".to_string(),
        severity: default_severity("DRIFT001"),
        message: format!(
            "{}: repository {}, cluster {} ({object})",
            f.path,
            show(f.desired.as_ref(), f.sensitive),
            show(f.live.as_ref(), f.sensitive)
        ),
        origin: f.origin.clone(),
        object: Some(object.clone()),
        target: cluster.to_string(),
        field: Some(f.path.to_string()),
    }
}

fn default_severity(code: &str) -> Severity {
    driftlint_rules::meta(code)
        .and_then(|m| m.severity)
        .unwrap_or(Severity::Error)
}

/// A value as shown in a message: strings bare, anything else as compact JSON, `(not set)` for
/// an absent field, cut at [`MAX_VALUE_CHARS`]. A sensitive value that is not a hash (which
/// [`super::compare`] never produces) is shown as `(secret)`.
fn show(v: Option<&Value>, sensitive: bool) -> String {
    let text = match v {
        None => return "(not set)".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if sensitive && !only_hashes(v) {
        return "(secret)".to_string();
    }
    cut(&text)
}

fn only_hashes(v: Option<&Value>) -> bool {
    match v {
        Some(Value::String(s)) => s.starts_with("sha256:") && s.len() == 19,
        Some(Value::Object(m)) => m.values().all(|v| only_hashes(Some(v))),
        _ => false,
    }
}

fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_VALUE_CHARS {
        return text.to_string();
    }
    let mut out: String = text.chars().take(MAX_VALUE_CHARS).collect();
    out.push('…');
    out
}

fn status_word(code: u16) -> String {
    match code {
        0 => "with a transport error".to_string(),
        c => format!("HTTP {c}"),
    }
}

/// The server's message; for a Secret every double-quoted part is replaced by `"…"` (a 422
/// message quotes the invalid value).
pub fn safe_message(object: &ObjectRef, message: &str) -> String {
    if !(object.kind == "Secret" && object.api_version == "v1") {
        return message.to_string();
    }
    let mut out = String::new();
    for (i, part) in message.split('"').enumerate() {
        if i > 0 {
            out.push('"');
        }
        out.push_str(if i % 2 == 1 { "…" } else { part });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FieldPath, PathSegment};
    use driftlint_yaml::Origin;
    use serde_json::json;

    fn object(kind: &str) -> ObjectRef {
        ObjectRef {
            api_version: if kind == "Deployment" {
                "apps/v1"
            } else {
                "v1"
            }
            .into(),
            kind: kind.into(),
            namespace: Some("shop".into()),
            name: "web".into(),
        }
    }

    fn at(line: u32) -> Origin {
        Origin::new("apps/shop.yaml".into(), line, 3)
    }

    fn drift(kind: &str, verdict: DriftKind) -> ObjectDrift {
        ObjectDrift {
            object: object(kind),
            origin: at(1),
            target: "apps".into(),
            drift: verdict,
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

    #[test]
    fn every_verdict_becomes_its_code() {
        let changed = DriftKind::Changed {
            fields: vec![
                FieldDrift {
                    path: path(&["spec", "replicas"]),
                    desired: Some(json!(4)),
                    live: Some(json!(7)),
                    sensitive: false,
                    origin: at(39),
                },
                FieldDrift {
                    path: path(&["metadata", "labels", "tier"]),
                    desired: Some(json!("web")),
                    live: None,
                    sensitive: false,
                    origin: at(7),
                },
            ],
        };
        let drifts = vec![
            drift("Deployment", changed),
            drift("Deployment", DriftKind::InSync),
            drift("ConfigMap", DriftKind::Missing),
            drift(
                "ConfigMap",
                DriftKind::Orphaned {
                    inventory: "flux:flux-system/apps".into(),
                },
            ),
            drift("ConfigMap", DriftKind::NotServed),
            drift(
                "ConfigMap",
                DriftKind::Failed {
                    code: 403,
                    message: "forbidden".into(),
                },
            ),
        ];
        let found = to_findings(&drifts, "prod");
        let rows: Vec<(String, Severity, String, u32, Option<String>)> = found
            .iter()
            .map(|f| {
                (
                    f.code.clone(),
                    f.severity,
                    f.message.clone(),
                    f.origin.line,
                    f.field.clone(),
                )
            })
            .collect();
        insta::assert_yaml_snapshot!(rows);
        assert!(found.iter().all(|f| f.target == "prod"));
    }

    #[test]
    fn secret_values_are_never_shown() {
        let fields = vec![
            FieldDrift {
                path: path(&["data", "password"]),
                desired: Some(json!("sha256:0123456789ab")),
                live: Some(json!("sha256:ba9876543210")),
                sensitive: true,
                origin: at(10),
            },
            FieldDrift {
                path: path(&["data", "token"]),
                desired: Some(json!("plain-secret")),
                live: None,
                sensitive: true,
                origin: at(11),
            },
        ];
        let mut drifts = vec![drift("Secret", DriftKind::Changed { fields })];
        drifts.push(drift(
            "Secret",
            DriftKind::Failed {
                code: 422,
                message: "Secret \"web\" is invalid: data[x]: Invalid value: \"hunter2\"".into(),
            },
        ));
        let found = to_findings(&drifts, "prod");
        assert_eq!(
            found[0].message,
            "data.password: repository sha256:0123456789ab, cluster sha256:ba9876543210 (Secret shop/web)"
        );
        assert_eq!(
            found[1].message,
            "data.token: repository (secret), cluster (not set) (Secret shop/web)"
        );
        assert!(
            !found[2].message.contains("hunter2"),
            "{}",
            found[2].message
        );
    }

    #[test]
    fn fingerprints_name_the_cluster_and_ignore_line_moves() {
        let f = |cluster: &str, line: u32| {
            let fields = vec![FieldDrift {
                path: path(&["spec", "replicas"]),
                desired: Some(json!(4)),
                live: Some(json!(7)),
                sensitive: false,
                origin: at(line),
            }];
            let found = to_findings(
                &[drift("Deployment", DriftKind::Changed { fields })],
                cluster,
            );
            driftlint_rules::fingerprint(&found[0])
        };
        assert_eq!(f("prod", 39), f("prod", 41));
        assert_ne!(f("prod", 39), f("staging", 39));
    }

    #[test]
    fn dry_run_forbidden_is_a_warning_at_the_object() {
        let d = drift("Deployment", DriftKind::InSync);
        let f = dry_run_forbidden(&d, "prod", "deployments.apps \"web\" is forbidden");
        assert_eq!(
            (f.code.as_str(), f.severity),
            ("DRIFT006", Severity::Warning)
        );
        assert_eq!(f.origin.line, 1);
    }
}
