//! `Status` error bodies, shaped exactly as kube-apiserver v1.36 writes them
//! (key order `kind, apiVersion, metadata, status, message, reason, details, code`).

use serde_json::{json, Map, Value};

/// An error answer: HTTP code plus a `Status` body (or plain text for unserved paths).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// Response body: a `Status` object, or `None` for the plain-text `404 page not found`.
    pub body: Option<Value>,
    /// Extra response headers (`Retry-After`, `X-Content-Type-Options`).
    pub headers: Vec<(&'static str, String)>,
}

/// The resource a `Status` speaks about: `group` is empty for the core group,
/// `resource` is the plural (`configmaps`).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// API group, "" for core.
    pub group: &'a str,
    /// Plural resource name.
    pub resource: &'a str,
    /// Object name.
    pub name: &'a str,
    /// Namespace, "" when cluster-scoped.
    pub namespace: &'a str,
}

impl Target<'_> {
    /// `configmaps` or `deployments.apps`, as `schema.GroupResource.String()`.
    fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

fn status(code: u16, message: &str, reason: Option<&str>, details: Option<Value>) -> Value {
    let mut m = Map::new();
    m.insert("kind".into(), json!("Status"));
    m.insert("apiVersion".into(), json!("v1"));
    m.insert("metadata".into(), json!({}));
    m.insert("status".into(), json!("Failure"));
    m.insert("message".into(), json!(message));
    if let Some(r) = reason {
        m.insert("reason".into(), json!(r));
    }
    if let Some(d) = details {
        m.insert("details".into(), d);
    }
    m.insert("code".into(), json!(code));
    Value::Object(m)
}

fn details(t: &Target, kind: &str) -> Value {
    let mut d = Map::new();
    d.insert("name".into(), json!(t.name));
    if !t.group.is_empty() {
        d.insert("group".into(), json!(t.group));
    }
    d.insert("kind".into(), json!(kind));
    Value::Object(d)
}

impl ApiError {
    fn new(code: u16, body: Value) -> Self {
        ApiError {
            code,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    /// `404 page not found` as text/plain: unserved group, version or resource.
    pub fn page_not_found() -> Self {
        ApiError {
            code: 404,
            body: None,
            headers: vec![("X-Content-Type-Options", "nosniff".into())],
        }
    }

    /// 404 `NotFound`: `configmaps "x" not found`, details.kind = plural resource.
    pub fn not_found(t: &Target) -> Self {
        let msg = format!("{} \"{}\" not found", t.group_resource(), t.name);
        let body = status(404, &msg, Some("NotFound"), Some(details(t, t.resource)));
        Self::new(404, body)
    }

    /// 403 `Forbidden` from RBAC for `verb` by `user`, as the recorded
    /// `apply-dry-run-force-forbidden-403`.
    pub fn forbidden(t: &Target, user: &str, verb: &str) -> Self {
        let scope = if t.namespace.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace \"{}\"", t.namespace)
        };
        let msg = format!(
            "{} \"{}\" is forbidden: User \"{user}\" cannot {verb} resource \"{}\" in API group \"{}\" {scope}",
            t.group_resource(),
            t.name,
            t.resource,
            t.group
        );
        let body = status(403, &msg, Some("Forbidden"), Some(details(t, t.resource)));
        let mut e = Self::new(403, body);
        e.headers.push(("X-Content-Type-Options", "nosniff".into()));
        e
    }

    /// 422 `Invalid` with `FieldValueInvalid` causes; details.kind is the Kind.
    pub fn invalid(t: &Target, kind: &str, causes: &[(String, String)]) -> Self {
        let group_kind = if t.group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{}", t.group)
        };
        let joined: Vec<String> = causes.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        let msg = match joined.len() {
            1 => format!("{group_kind} \"{}\" is invalid: {}", t.name, joined[0]),
            _ => format!(
                "{group_kind} \"{}\" is invalid: [{}]",
                t.name,
                joined.join(", ")
            ),
        };
        let mut d = details(t, kind);
        let list: Vec<Value> = causes
            .iter()
            .map(|(f, m)| json!({"reason": "FieldValueInvalid", "message": m, "field": f}))
            .collect();
        if let Some(obj) = d.as_object_mut() {
            obj.insert("causes".into(), Value::Array(list));
        }
        Self::new(422, status(422, &msg, Some("Invalid"), Some(d)))
    }

    /// 409 `Conflict` from server-side apply; `conflicts` are (manager description, field path).
    pub fn apply_conflict(message: &str, causes: &[(String, String)]) -> Self {
        let list: Vec<Value> = causes
            .iter()
            .map(|(m, f)| json!({"reason": "FieldManagerConflict", "message": m, "field": f}))
            .collect();
        let body = status(
            409,
            message,
            Some("Conflict"),
            Some(json!({ "causes": list })),
        );
        Self::new(409, body)
    }

    /// 500 without a reason (e.g. `failed to create typed patch object ...`).
    pub fn internal(message: &str) -> Self {
        Self::new(500, status(500, message, None, None))
    }

    /// 400 `BadRequest` (unparsable body, label selector, unsupported parameter).
    pub fn bad_request(message: &str) -> Self {
        Self::new(400, status(400, message, Some("BadRequest"), None))
    }

    /// 405 `MethodNotAllowed`, for verbs this fake does not implement.
    pub fn method_not_allowed(message: &str) -> Self {
        Self::new(405, status(405, message, Some("MethodNotAllowed"), None))
    }

    /// 415 `UnsupportedMediaType` for PATCH bodies other than apply patches.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        let msg = format!("the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml (fake-apiserver implements server-side apply only; got {content_type:?})");
        Self::new(415, status(415, &msg, Some("UnsupportedMediaType"), None))
    }

    /// 429 `TooManyRequests` with `Retry-After: 1`, as API Priority and Fairness rejects.
    pub fn too_many_requests() -> Self {
        let body = status(
            429,
            "Too many requests, please try again later.",
            Some("TooManyRequests"),
            Some(json!({"retryAfterSeconds": 1})),
        );
        let mut e = Self::new(429, body);
        e.headers.push(("Retry-After", "1".into()));
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/cluster/");

    fn recorded(name: &str) -> String {
        std::fs::read_to_string(format!("{FIX}{name}"))
            .unwrap_or_default()
            .trim_end()
            .to_string()
    }

    #[test]
    fn not_found_is_byte_exact() {
        let t = Target {
            group: "",
            resource: "configmaps",
            name: "feature-flags",
            namespace: "platform",
        };
        let body = ApiError::not_found(&t).body.unwrap_or_default();
        assert_eq!(
            body.to_string(),
            recorded("raw-http/get-missing-object-404.response.json")
        );
    }

    #[test]
    fn forbidden_and_invalid_are_byte_exact() {
        let t = Target {
            group: "apps",
            resource: "deployments",
            name: "web",
            namespace: "shop",
        };
        let f = ApiError::forbidden(&t, "lab-nobody", "patch");
        assert_eq!(
            f.body.unwrap_or_default().to_string(),
            recorded("raw-http/apply-dry-run-force-forbidden-403.response.json")
        );
        let cause = (
            "spec.replicas".to_string(),
            "Invalid value: -1: must be greater than or equal to 0".to_string(),
        );
        let i = ApiError::invalid(&t, "Deployment", &[cause]);
        assert_eq!(
            i.body.unwrap_or_default().to_string(),
            recorded("raw-http/apply-dry-run-invalid-422.response.json")
        );
    }
}
