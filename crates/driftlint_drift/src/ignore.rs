//! Ignore rules for drift, in the shape of Argo CD's `ignoreDifferences` (gitops-engine
//! `pkg/diff` normalisers): by JSON pointer, or by the managers that own a field in the live
//! object's `metadata.managedFields`.
//!
//! Sources:
//! - `.driftlint.yaml` `drift.ignoreDifferences`: a list of entries
//!   `{group, kind, name, namespace, jsonPointers: [...], managedFieldsManagers: [...]}`;
//!   `group`/`kind`/`name`/`namespace` are globs (`*`, `?`, `[a-z]`) and each one left out
//!   matches every object; `group` is `""` for the core group, as in Argo CD.
//! - per object, annotations on the rendered object:
//!   `driftlint.io/ignore-differences: "/spec/replicas,/data/FOO"` (JSON pointers) and
//!   `driftlint.io/ignore-managers: "kubectl-set,hpa"` (manager names).
//! - Flux's `kustomize.toolkit.fluxcd.io/ssa: Ignore` (kustomize-controller neither creates nor
//!   updates the object) and `IfNotPresent` (created when missing, never updated): the object's
//!   fields are not compared ([`IgnoreRules::skips_object`]); with `Ignore` a missing object is
//!   not drift either ([`IgnoreRules::skips_missing`]).
//!
//! A field is ignored when its path is at or under an ignored pointer (a pointer token matches
//! a list item by its index in the live object, or `*` matches any token), or when the live
//! object's managedFields name at least one owner of the field and every owner is an ignored
//! manager (`fieldsV1` sets are read as the apiserver writes them: `f:<field>`,
//! `k:{<merge keys>}`, `v:<value>`, `.`; an owned leaf above the field owns everything below).

use globset::{Glob, GlobMatcher};
use serde_json::Value;

use super::model::{FieldPath, PathSegment};
use driftlint_rules::ObjectRef;
use driftlint_yaml::{Node, Origin};

/// Annotation listing JSON pointers whose drift is ignored on this object (comma separated).
pub const IGNORE_DIFFERENCES_ANNOTATION: &str = "driftlint.io/ignore-differences";
/// Annotation listing field managers whose fields' drift is ignored on this object.
pub const IGNORE_MANAGERS_ANNOTATION: &str = "driftlint.io/ignore-managers";
/// Flux kustomize-controller's per-object apply policy annotation.
pub const FLUX_SSA_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/ssa";

/// A problem in the `drift.ignoreDifferences` section, at its line of `.driftlint.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({origin})")]
pub struct IgnoreRulesError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub origin: Origin,
}

/// One `drift.ignoreDifferences` entry.
#[derive(Clone, Debug)]
pub struct IgnoreEntry {
    /// API group glob (`""` = core, `apps`, `cert-manager.io`); `None` matches all.
    pub group: Option<GlobMatcher>,
    /// Kind glob; `None` matches all.
    pub kind: Option<GlobMatcher>,
    /// Name glob; `None` matches all.
    pub name: Option<GlobMatcher>,
    /// Namespace glob (`""` for cluster-scoped objects); `None` matches all.
    pub namespace: Option<GlobMatcher>,
    /// RFC 6901 JSON pointers whose subtree is ignored.
    pub json_pointers: Vec<String>,
    /// Managers (as in `managedFields[].manager`) whose fields are ignored.
    pub managers: Vec<String>,
    /// Where the entry is written in the configuration.
    pub origin: Origin,
}

/// Every configured ignore rule (the per-object annotations are read at match time).
#[derive(Clone, Debug, Default)]
pub struct IgnoreRules {
    /// The `drift.ignoreDifferences` entries, in configuration order.
    pub entries: Vec<IgnoreEntry>,
}

impl IgnoreRules {
    /// Parses `drift.ignoreDifferences` (a list of mappings, see the module docs).
    ///
    /// Errors: a [`IgnoreRulesError`] at the offending line for a non-list, a non-mapping entry, an
    /// unknown key, a non-string value, an invalid glob, or a pointer not starting with `/`.
    pub fn parse(node: &Node) -> Result<IgnoreRules, IgnoreRulesError> {
        let items = node
            .as_seq()
            .ok_or_else(|| err("drift.ignoreDifferences must be a list", node))?;
        let entries = items.iter().map(entry).collect::<Result<_, _>>()?;
        Ok(IgnoreRules { entries })
    }

    /// True when Flux never updates `desired` (`kustomize.toolkit.fluxcd.io/ssa: Ignore` or
    /// `IfNotPresent`, case-insensitive): its fields are not drift.
    pub fn skips_object(desired: &Node) -> bool {
        matches!(
            ssa_policy(desired).as_deref(),
            Some("ignore" | "ifnotpresent")
        )
    }

    /// True when Flux does not even create `desired` (`ssa: Ignore`): missing is not drift.
    pub fn skips_missing(desired: &Node) -> bool {
        ssa_policy(desired).as_deref() == Some("ignore")
    }

    /// Whether drift at `path` of `object` is ignored: by a pointer of a matching entry or of
    /// the object's `driftlint.io/ignore-differences` annotation, or because every manager
    /// owning the field in `live`'s managedFields is ignored (matching entries and the
    /// `driftlint.io/ignore-managers` annotation).
    pub fn is_ignored(
        &self,
        object: &ObjectRef,
        desired: &Node,
        live: &Value,
        path: &FieldPath,
    ) -> bool {
        let matching: Vec<&IgnoreEntry> =
            self.entries.iter().filter(|e| e.matches(object)).collect();
        let mut pointers: Vec<String> = annotation_list(desired, IGNORE_DIFFERENCES_ANNOTATION);
        pointers.extend(
            matching
                .iter()
                .flat_map(|e| e.json_pointers.iter().cloned()),
        );
        let mut managers: Vec<String> = annotation_list(desired, IGNORE_MANAGERS_ANNOTATION);
        managers.extend(matching.iter().flat_map(|e| e.managers.iter().cloned()));
        if !pointers.is_empty() {
            let tokens = concrete_tokens(path, live, &desired.to_json());
            if pointers.iter().any(|p| pointer_covers(p, &tokens)) {
                return true;
            }
        }
        if managers.is_empty() {
            return false;
        }
        let owners = owners(live, path);
        !owners.is_empty() && owners.iter().all(|o| managers.iter().any(|m| m == o))
    }
}

impl IgnoreEntry {
    /// True when the entry's globs match `object`.
    pub fn matches(&self, object: &ObjectRef) -> bool {
        let group = object.api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let hit = |m: &Option<GlobMatcher>, v: &str| m.as_ref().is_none_or(|m| m.is_match(v));
        hit(&self.group, group)
            && hit(&self.kind, &object.kind)
            && hit(&self.name, &object.name)
            && hit(&self.namespace, object.namespace.as_deref().unwrap_or(""))
    }
}

fn err(message: impl Into<String>, node: &Node) -> IgnoreRulesError {
    IgnoreRulesError {
        message: message.into(),
        origin: node.origin.clone(),
    }
}

fn entry(node: &Node) -> Result<IgnoreEntry, IgnoreRulesError> {
    let map = node
        .as_map()
        .ok_or_else(|| err("an ignoreDifferences entry must be a mapping", node))?;
    let mut e = IgnoreEntry {
        group: None,
        kind: None,
        name: None,
        namespace: None,
        json_pointers: Vec::new(),
        managers: Vec::new(),
        origin: node.origin.clone(),
    };
    for (k, v) in map.iter() {
        match k.as_scalar().map(|s| s.text.as_str()).unwrap_or("") {
            "group" => e.group = Some(glob(v)?),
            "kind" => e.kind = Some(glob(v)?),
            "name" => e.name = Some(glob(v)?),
            "namespace" => e.namespace = Some(glob(v)?),
            "jsonPointers" => e.json_pointers = pointers(v)?,
            "managedFieldsManagers" => e.managers = strings(v)?,
            other => {
                return Err(err(
                    format!("unknown ignoreDifferences key {other:?} (known: group, kind, name, namespace, jsonPointers, managedFieldsManagers)"),
                    k,
                ))
            }
        }
    }
    Ok(e)
}

fn string(node: &Node) -> Result<String, IgnoreRulesError> {
    match node.as_scalar() {
        Some(s) if !node.is_null() => Ok(s.text.clone()),
        _ => Err(err("expected a string", node)),
    }
}

fn strings(node: &Node) -> Result<Vec<String>, IgnoreRulesError> {
    node.as_seq()
        .ok_or_else(|| err("expected a list of strings", node))?
        .iter()
        .map(string)
        .collect()
}

fn pointers(node: &Node) -> Result<Vec<String>, IgnoreRulesError> {
    let items = node
        .as_seq()
        .ok_or_else(|| err("jsonPointers must be a list of JSON pointers", node))?;
    items
        .iter()
        .map(|n| {
            let p = string(n)?;
            if p.starts_with('/') {
                Ok(p)
            } else {
                Err(err(format!("JSON pointer {p:?} must start with \"/\""), n))
            }
        })
        .collect()
}

fn glob(node: &Node) -> Result<GlobMatcher, IgnoreRulesError> {
    let text = string(node)?;
    Glob::new(&text)
        .map(|g| g.compile_matcher())
        .map_err(|e| err(format!("invalid glob {text:?}: {e}"), node))
}

fn ssa_policy(desired: &Node) -> Option<String> {
    desired
        .get_path(&["metadata", "annotations", FLUX_SSA_ANNOTATION])
        .and_then(Node::scalar_text)
        .map(str::to_ascii_lowercase)
}

/// The comma-separated items of an annotation, trimmed, empty ones dropped.
fn annotation_list(desired: &Node, key: &str) -> Vec<String> {
    desired
        .get_path(&["metadata", "annotations", key])
        .and_then(Node::scalar_text)
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The path as JSON pointer tokens: a keyed segment becomes the index of its item in `live`
/// (or, when live lacks it, in `desired`); an unresolvable one becomes `-`.
fn concrete_tokens(path: &FieldPath, live: &Value, desired: &Value) -> Vec<String> {
    let mut cursors = [Some(live), Some(desired)];
    let mut out = Vec::new();
    for seg in &path.0 {
        let token = match seg {
            PathSegment::Field(f) => f.clone(),
            PathSegment::Index(i) => i.to_string(),
            PathSegment::Key(keys) => cursors
                .iter()
                .find_map(|c| c.and_then(|v| keyed_index(v, keys)))
                .map_or_else(|| "-".to_string(), |i| i.to_string()),
        };
        for c in cursors.iter_mut() {
            *c = c.and_then(|v| match v {
                Value::Object(m) => m.get(&token),
                Value::Array(a) => token.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            });
        }
        out.push(token);
    }
    out
}

fn keyed_index(list: &Value, keys: &[(String, String)]) -> Option<usize> {
    list.as_array()?
        .iter()
        .position(|item| key_value_matches(item, keys))
}

/// True when `item` (a JSON map) has every key of `keys` with that value (as a string); a
/// missing `protocol` is `TCP`.
fn key_value_matches(item: &Value, keys: &[(String, String)]) -> bool {
    keys.iter().all(|(k, v)| match item.get(k) {
        Some(Value::String(s)) => s == v,
        Some(other @ (Value::Number(_) | Value::Bool(_))) => &other.to_string() == v,
        None => k == "protocol" && v == "TCP",
        _ => false,
    })
}

/// True when the JSON pointer `pointer` names `tokens` or one of its ancestors (`*` matches
/// any one token).
fn pointer_covers(pointer: &str, tokens: &[String]) -> bool {
    let pattern: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    pattern.len() <= tokens.len() && pattern.iter().zip(tokens).all(|(p, t)| p == "*" || p == t)
}

/// The managers whose `fieldsV1` set in `live`'s managedFields owns the field at `path` (or an
/// atomic ancestor of it, or something below it), sorted and de-duplicated.
pub fn owners(live: &Value, path: &FieldPath) -> Vec<String> {
    let entries = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out: Vec<String> = entries
        .iter()
        .filter(|e| {
            e.get("fieldsV1")
                .is_some_and(|set| owns(set, live, &path.0))
        })
        .filter_map(|e| e.get("manager").and_then(Value::as_str).map(str::to_string))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Walks a `fieldsV1` set along `path` (with `obj` the live value at the same place, to
/// resolve `v:` items of set lists).
fn owns(set: &Value, obj: &Value, path: &[PathSegment]) -> bool {
    let Some((seg, rest)) = path.split_first() else {
        return true;
    };
    let Some(children) = set.as_object() else {
        return false;
    };
    if children.keys().all(|k| k == ".") {
        // An owned leaf (atomic map or list, or a scalar) owns everything below it.
        return true;
    }
    let (child, next_obj) = match seg {
        PathSegment::Field(f) => (children.get(&format!("f:{f}")), obj.get(f.as_str())),
        PathSegment::Key(keys) => {
            let child = children.iter().find_map(|(k, v)| {
                let parsed: Value = serde_json::from_str(k.strip_prefix("k:")?).ok()?;
                let same_len = parsed.as_object().is_some_and(|m| m.len() == keys.len());
                (same_len && key_value_matches(&parsed, keys)).then_some(v)
            });
            let item = obj
                .as_array()
                .and_then(|a| a.iter().find(|i| key_value_matches(i, keys)));
            (child, item)
        }
        PathSegment::Index(i) => {
            let item = obj.as_array().and_then(|a| a.get(*i));
            let child = item.and_then(|item| {
                children.iter().find_map(|(k, v)| {
                    let parsed: Value = serde_json::from_str(k.strip_prefix("v:")?).ok()?;
                    (&parsed == item).then_some(v)
                })
            });
            (child, item)
        }
    };
    match child {
        Some(c) => owns(c, next_obj.unwrap_or(&Value::Null), rest),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::parse_documents;
    use serde_json::json;

    fn f(s: &str) -> PathSegment {
        PathSegment::Field(s.into())
    }

    fn node(src: &str) -> Node {
        parse_documents("t.yaml".into(), src)
            .expect("parses")
            .remove(0)
    }

    fn obj(name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: name.into(),
        }
    }

    fn live() -> Value {
        json!({
            "metadata": {"managedFields": [
                {"manager": "kustomize-controller", "operation": "Apply",
                 "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                     "k:{\"name\":\"web\"}": {".": {}, "f:name": {}, "f:env": {}}}}}}}},
                {"manager": "kubectl", "operation": "Update", "subresource": "scale",
                 "fieldsV1": {"f:spec": {"f:replicas": {}}}},
                {"manager": "kubectl-set", "operation": "Update",
                 "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                     "k:{\"name\":\"web\"}": {"f:image": {}}}}}}}}
            ]},
            "spec": {"replicas": 7, "template": {"spec": {"containers": [
                {"name": "sidecar"}, {"name": "web", "image": "nginx:1.27"}]}}}
        })
    }

    fn image_path() -> FieldPath {
        FieldPath(vec![
            f("spec"),
            f("template"),
            f("spec"),
            f("containers"),
            PathSegment::Key(vec![("name".into(), "web".into())]),
            f("image"),
        ])
    }

    #[test]
    fn owners_follow_fields_v1() {
        assert_eq!(owners(&live(), &image_path()), vec!["kubectl-set"]);
        let replicas = FieldPath(vec![f("spec"), f("replicas")]);
        assert_eq!(owners(&live(), &replicas), vec!["kubectl"]);
        let env = FieldPath(vec![
            f("spec"),
            f("template"),
            f("spec"),
            f("containers"),
            PathSegment::Key(vec![("name".into(), "web".into())]),
            f("env"),
            PathSegment::Index(0),
        ]);
        assert_eq!(owners(&live(), &env), vec!["kustomize-controller"]);
    }

    #[test]
    fn annotations_ignore_pointers_and_managers() {
        let desired = node(
            "metadata:\n  annotations:\n    driftlint.io/ignore-differences: /spec/template/spec/containers/1/image\n",
        );
        let rules = IgnoreRules::default();
        assert!(rules.is_ignored(&obj("web"), &desired, &live(), &image_path()));
        let replicas = FieldPath(vec![f("spec"), f("replicas")]);
        assert!(!rules.is_ignored(&obj("web"), &desired, &live(), &replicas));
        let by_manager =
            node("metadata:\n  annotations:\n    driftlint.io/ignore-managers: kubectl, hpa\n");
        assert!(rules.is_ignored(&obj("web"), &by_manager, &live(), &replicas));
        assert!(!rules.is_ignored(&obj("web"), &by_manager, &live(), &image_path()));
    }

    #[test]
    fn config_entries_match_by_glob() {
        let cfg = node(
            "- group: apps\n  kind: Deploy*\n  namespace: shop\n  jsonPointers: [/spec/replicas]\n- kind: ConfigMap\n  managedFieldsManagers: [kubectl-set]\n",
        );
        let rules = IgnoreRules::parse(&cfg).expect("valid");
        let desired = node("kind: Deployment\n");
        let replicas = FieldPath(vec![f("spec"), f("replicas")]);
        assert!(rules.is_ignored(&obj("web"), &desired, &live(), &replicas));
        assert!(!rules.is_ignored(&obj("web"), &desired, &live(), &image_path()));
        let mut other = obj("web");
        other.namespace = Some("prod".into());
        assert!(!rules.is_ignored(&other, &desired, &live(), &replicas));
    }

    #[test]
    fn config_errors_point_at_their_line() {
        let e = IgnoreRules::parse(&node("- kind: A\n  jsonPointer: [/x]\n")).unwrap_err();
        assert_eq!(e.origin.line, 2);
        let e = IgnoreRules::parse(&node("- jsonPointers: [spec/x]\n")).unwrap_err();
        assert!(e.message.contains("must start"), "{}", e.message);
        assert!(IgnoreRules::parse(&node("a: b\n")).is_err());
    }

    #[test]
    fn flux_ssa_annotation_skips_objects() {
        let ignore =
            node("metadata:\n  annotations:\n    kustomize.toolkit.fluxcd.io/ssa: Ignore\n");
        let once =
            node("metadata:\n  annotations:\n    kustomize.toolkit.fluxcd.io/ssa: IfNotPresent\n");
        assert!(IgnoreRules::skips_object(&ignore) && IgnoreRules::skips_missing(&ignore));
        assert!(IgnoreRules::skips_object(&once) && !IgnoreRules::skips_missing(&once));
        assert!(!IgnoreRules::skips_object(&node("kind: A\n")));
    }
}
