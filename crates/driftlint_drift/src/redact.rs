//! Drift values are redacted as findings are (see [`driftlint_rules::redact`]): a field under a
//! credential-looking key (a ConfigMap `data.DB_PASSWORD`, an env `value` of `API_TOKEN`) is
//! shown only as a hash on both sides, like Secret data; every other string value, on the
//! repository side and the cluster side, has its known tokens and repository secrets masked.

use std::borrow::Cow;

use serde_json::Value;

use super::normalize::secret_hash;
use super::{DriftKind, FieldDrift, ObjectDrift, PathSegment};
use driftlint_rules::redact::{is_credential_key, Redactor};

/// Redacts the values and messages of `objects` in place.
pub fn redact_objects(objects: &mut [ObjectDrift], redactor: &Redactor) {
    for o in objects {
        match &mut o.drift {
            DriftKind::Changed { fields } => {
                for f in fields {
                    redact_field(f, redactor);
                }
            }
            DriftKind::Failed { message, .. } => {
                if let Cow::Owned(m) = redactor.redact(message) {
                    *message = m;
                }
            }
            _ => {}
        }
    }
}

fn redact_field(f: &mut FieldDrift, redactor: &Redactor) {
    if f.sensitive {
        return;
    }
    if names_a_credential(f) {
        f.sensitive = true;
        for v in [&mut f.desired, &mut f.live].into_iter().flatten() {
            *v = Value::String(secret_hash(v.to_string().as_bytes()));
        }
        return;
    }
    for v in [&mut f.desired, &mut f.live].into_iter().flatten() {
        redact_value(v, redactor);
    }
}

/// True when the field's own key, or for an env entry its `name`, looks like a credential.
fn names_a_credential(f: &FieldDrift) -> bool {
    f.path.0.iter().rev().take(2).any(|seg| match seg {
        PathSegment::Field(name) => is_credential_key(name),
        PathSegment::Key(keys) => keys.iter().any(|(_, v)| is_credential_key(v)),
        PathSegment::Index(_) => false,
    })
}

fn redact_value(v: &mut Value, redactor: &Redactor) {
    match v {
        Value::String(s) => {
            if let Cow::Owned(m) = redactor.redact(s) {
                *s = m;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| redact_value(i, redactor)),
        Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                if is_credential_key(k) && !item.is_object() && !item.is_array() {
                    *item = Value::String(secret_hash(item.to_string().as_bytes()));
                } else {
                    redact_value(item, redactor);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldPath;
    use driftlint_rules::ObjectRef;
    use driftlint_yaml::Origin;
    use serde_json::json;

    fn changed(path: &[&str], desired: Value, live: Value) -> ObjectDrift {
        ObjectDrift {
            object: ObjectRef {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                namespace: None,
                name: "app".into(),
            },
            origin: Origin::new("cm.yaml".into(), 1, 1),
            target: "app".into(),
            drift: DriftKind::Changed {
                fields: vec![FieldDrift {
                    path: FieldPath(
                        path.iter()
                            .map(|p| PathSegment::Field((*p).into()))
                            .collect(),
                    ),
                    desired: Some(desired),
                    live: Some(live),
                    sensitive: false,
                    origin: Origin::new("cm.yaml".into(), 5, 3),
                }],
            },
        }
    }

    fn values(o: &ObjectDrift) -> (String, String) {
        let DriftKind::Changed { fields } = &o.drift else {
            panic!("changed");
        };
        let s = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
        (s(&fields[0].desired), s(&fields[0].live))
    }

    #[test]
    fn credential_keys_are_hashed_on_both_sides() {
        let mut objects = vec![changed(
            &["data", "DB_PASSWORD"],
            json!("repo-side-password"),
            json!("cluster-side-password"),
        )];
        redact_objects(&mut objects, &Redactor::patterns_only());
        let (desired, live) = values(&objects[0]);
        assert!(desired.contains("sha256:") && live.contains("sha256:"));
        assert!(!desired.contains("repo-side") && !live.contains("cluster-side"));
    }

    #[test]
    fn tokens_in_other_values_are_masked() {
        let token = format!("{}{}", "ghp_", "Zq3x9Lm2Pw8Rt5Yk1Vb7Nc4Hd6Jf0Gs2Ae8U");
        let mut objects = vec![changed(
            &["data", "config.ini"],
            json!(format!("[auth]\nkey = {token}\n")),
            json!("level = debug"),
        )];
        redact_objects(&mut objects, &Redactor::patterns_only());
        let (desired, live) = values(&objects[0]);
        assert!(!desired.contains(&token[4..]), "{desired}");
        assert_eq!(live, "\"level = debug\"");
    }
}
