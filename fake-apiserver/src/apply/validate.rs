//! The two request checks of server-side apply this fake reproduces: unknown fields
//! (the typed-patch conversion fails with a reason-less 500, README point 9) and
//! `spec.replicas < 0` on scalable workloads (422 `FieldValueInvalid`).

use super::schema::known_fields;
use serde_json::Value;

/// The first field of `patch` not declared in the (partial) schema of `kind`, as
/// `.spec.replicaz`; checked at the root, `metadata` and `spec`.
pub fn unknown_field(kind: &str, patch: &Value) -> Option<String> {
    let paths: [&[&str]; 3] = [&[], &["metadata"], &["spec"]];
    for path in paths {
        let Some(known) = known_fields(kind, path) else {
            continue;
        };
        let mut node = patch;
        for p in path {
            match node.get(*p) {
                Some(n) => node = n,
                None => break,
            }
        }
        let Some(m) = node.as_object() else { continue };
        if let Some(bad) = m.keys().find(|k| !known.contains(&k.as_str())) {
            let mut s = String::new();
            for p in path {
                s.push('.');
                s.push_str(p);
            }
            return Some(format!("{s}.{bad}"));
        }
    }
    None
}

/// Field-level validation errors `(field, message)` for the merged object.
pub fn invalid_fields(kind: &str, obj: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if matches!(kind, "Deployment" | "StatefulSet" | "ReplicaSet") {
        if let Some(r) = obj.pointer("/spec/replicas").and_then(Value::as_i64) {
            if r < 0 {
                out.push((
                    "spec.replicas".to_string(),
                    format!("Invalid value: {r}: must be greater than or equal to 0"),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_unknown_spec_field() {
        let p = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 4, "replicaz": 3}});
        assert_eq!(
            unknown_field("Deployment", &p),
            Some(".spec.replicaz".into())
        );
        assert_eq!(unknown_field("Certificate", &p), None);
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labelz": {}}, "data": {}});
        assert_eq!(
            unknown_field("ConfigMap", &cm),
            Some(".metadata.labelz".into())
        );
    }

    #[test]
    fn negative_replicas() {
        let d = json!({"spec": {"replicas": -1}});
        assert_eq!(invalid_fields("Deployment", &d).len(), 1);
        assert!(invalid_fields("Deployment", &json!({"spec": {"replicas": 0}})).is_empty());
    }
}
