//! Field sets as server-side apply tracks them (`fieldsV1`): a tree of path elements
//! (`f:name` field, `k:{"name":"web"}` associative-list item, `v:"x"` set item) where a
//! node is a *member* when the manager owns that exact field (`{}` leaf, or `"."` on a
//! node that also has children), as sigs.k8s.io/structured-merge-diff's `fieldpath.Set`.

use super::schema::{atomic_map, list_type, ListType};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One path element in `fieldsV1` spelling (`f:spec`, `k:{"name":"web"}`, `v:"x"`).
pub type Element = String;

/// A set of owned field paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    member: bool,
    children: BTreeMap<Element, FieldSet>,
}

impl FieldSet {
    /// Reads a `fieldsV1` value; non-object nodes are treated as leaves.
    pub fn from_json(v: &Value) -> Self {
        let mut set = FieldSet::default();
        let Some(m) = v.as_object() else {
            set.member = true;
            return set;
        };
        if m.is_empty() {
            set.member = true;
        }
        for (k, child) in m {
            if k == "." {
                set.member = true;
            } else {
                set.children.insert(k.clone(), FieldSet::from_json(child));
            }
        }
        set
    }

    /// Writes `fieldsV1`: `"."` first on members with children, then children in
    /// element order.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if self.member && !self.children.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for (k, c) in &self.children {
            m.insert(k.clone(), c.to_json());
        }
        Value::Object(m)
    }

    /// Whether the set owns nothing.
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.values().all(FieldSet::is_empty)
    }

    /// Every member path, depth first in element order.
    pub fn members(&self) -> Vec<Vec<Element>> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<Element>, out: &mut Vec<Vec<Element>>) {
        if self.member && !prefix.is_empty() {
            out.push(prefix.clone());
        }
        for (k, c) in &self.children {
            prefix.push(k.clone());
            c.collect(prefix, out);
            prefix.pop();
        }
    }

    /// Whether `path` is a member.
    pub fn contains(&self, path: &[Element]) -> bool {
        match path.split_first() {
            None => self.member,
            Some((head, rest)) => self.children.get(head).is_some_and(|c| c.contains(rest)),
        }
    }

    /// Whether `path` has members below it (not counting itself).
    pub fn has_children_at(&self, path: &[Element]) -> bool {
        match path.split_first() {
            None => !self.children.is_empty(),
            Some((head, rest)) => self
                .children
                .get(head)
                .is_some_and(|c| c.has_children_at(rest)),
        }
    }

    /// Adds `path` as a member.
    pub fn insert(&mut self, path: &[Element]) {
        match path.split_first() {
            None => self.member = true,
            Some((head, rest)) => self.children.entry(head.clone()).or_default().insert(rest),
        }
    }

    /// Removes membership of `path` (children stay), pruning emptied nodes.
    pub fn remove(&mut self, path: &[Element]) {
        match path.split_first() {
            None => self.member = false,
            Some((head, rest)) => {
                if let Some(c) = self.children.get_mut(head) {
                    c.remove(rest);
                    if c.is_empty() {
                        self.children.remove(head);
                    }
                }
            }
        }
    }

    /// Members of `self` that are not members of `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        for p in other.members() {
            out.remove(&p);
        }
        out
    }
}

/// The field set an apply configuration sets: every field present in `obj` except
/// `apiVersion`, `kind`, `status` and the identity/system fields of `metadata`; atomic
/// maps and lists, empty maps and scalars are leaves; associative-list items are keyed
/// members with their fields below; nulls are skipped.
pub fn applied_set(kind: &str, obj: &Value) -> FieldSet {
    const SKIP_META: [&str; 8] = [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "managedFields",
        "selfLink",
    ];
    let mut set = FieldSet::default();
    let Some(m) = obj.as_object() else {
        return set;
    };
    for (k, v) in m {
        if matches!(k.as_str(), "apiVersion" | "kind" | "status") || v.is_null() {
            continue;
        }
        let child = if k == "metadata" {
            let mut meta = FieldSet::default();
            for (mk, mv) in v.as_object().into_iter().flatten() {
                if !SKIP_META.contains(&mk.as_str()) && !mv.is_null() {
                    let s = walk(kind, &mut vec!["metadata", mk.as_str()], mv);
                    meta.children.insert(format!("f:{mk}"), s);
                }
            }
            meta
        } else {
            walk(kind, &mut vec![k.as_str()], v)
        };
        if !child.is_empty() {
            set.children.insert(format!("f:{k}"), child);
        }
    }
    set
}

fn walk<'a>(kind: &str, path: &mut Vec<&'a str>, v: &'a Value) -> FieldSet {
    let mut set = FieldSet::default();
    match v {
        Value::Object(m) if !m.is_empty() && !atomic_map(kind, path) => {
            for (k, child) in m.iter().filter(|(_, c)| !c.is_null()) {
                path.push(k.as_str());
                set.children
                    .insert(format!("f:{k}"), walk(kind, path, child));
                path.pop();
            }
        }
        Value::Array(items) => match list_type(kind, path) {
            ListType::Map(keys) => {
                for item in items {
                    let Some(key) = item_key(&keys, item) else {
                        continue;
                    };
                    path.push("[]");
                    let mut node = walk(kind, path, item);
                    path.pop();
                    node.member = true;
                    set.children.insert(key, node);
                }
            }
            ListType::Set => {
                for item in items {
                    let node = FieldSet {
                        member: true,
                        children: BTreeMap::new(),
                    };
                    set.children.insert(format!("v:{item}"), node);
                }
            }
            ListType::Atomic => set.member = true,
        },
        _ => set.member = true,
    }
    set
}

/// The `k:{...}` element of an associative-list item: key fields in name order,
/// compact JSON, missing keys filled from their schema default; `None` when a key
/// without default is missing.
pub fn item_key(keys: &[(&'static str, Option<Value>)], item: &Value) -> Option<Element> {
    let mut sorted: Vec<&(&str, Option<Value>)> = keys.iter().collect();
    sorted.sort_by_key(|(k, _)| *k);
    let mut m = Map::new();
    for (k, default) in sorted {
        let v = item.get(*k).cloned().or_else(|| default.clone())?;
        m.insert((*k).to_string(), v);
    }
    Some(format!("k:{}", Value::Object(m)))
}

/// Human form of a path, as structured-merge-diff prints it in conflicts:
/// `.spec.template.spec.containers[name="web"].image`.
pub fn display_path(path: &[Element]) -> String {
    let mut out = String::new();
    for e in path {
        if let Some(f) = e.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = e.strip_prefix("k:") {
            let parsed: Value = serde_json::from_str(k).unwrap_or(Value::Null);
            let parts: Vec<String> = parsed
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, v)| format!("{name}={v}"))
                .collect();
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = e.strip_prefix("v:") {
            out.push_str(&format!("[={v}]"));
        }
    }
    out
}

/// Finds the value at a field-set path in an object. List items are matched on their
/// key fields; a missing `protocol` key field counts as its schema default `TCP`.
pub fn get_at<'a>(obj: &'a Value, path: &[Element]) -> Option<&'a Value> {
    let mut cur = obj;
    for e in path {
        cur = step(cur, e)?;
    }
    Some(cur)
}

fn step<'a>(cur: &'a Value, e: &str) -> Option<&'a Value> {
    if let Some(f) = e.strip_prefix("f:") {
        return cur.get(f);
    }
    let items = cur.as_array()?;
    let idx = find_item(items, e)?;
    items.get(idx)
}

/// Index of the list item an element (`k:{...}` or `v:...`) names.
pub fn find_item(items: &[Value], e: &str) -> Option<usize> {
    if let Some(k) = e.strip_prefix("k:") {
        let key: Value = serde_json::from_str(k).ok()?;
        let key = key.as_object()?;
        return items.iter().position(|it| {
            key.iter().all(|(name, want)| match it.get(name) {
                Some(have) => have == want,
                None => name == "protocol" && want == "TCP",
            })
        });
    }
    let v: Value = serde_json::from_str(e.strip_prefix("v:")?).ok()?;
    items.iter().position(|it| *it == v)
}

/// Removes the field or list item at `path` from `obj`; absent paths are ignored.
pub fn remove_at(obj: &mut Value, path: &[Element]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = obj;
    for e in parents {
        let next = if let Some(f) = e.strip_prefix("f:") {
            cur.get_mut(f)
        } else {
            let Some(items) = cur.as_array_mut() else {
                return;
            };
            match find_item(items, e) {
                Some(i) => items.get_mut(i),
                None => None,
            }
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = cur.as_object_mut() {
            m.shift_remove(f);
        }
    } else if let Some(items) = cur.as_array_mut() {
        if let Some(i) = find_item(items, last) {
            items.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/cluster/");

    fn read(name: &str) -> Value {
        let text = std::fs::read_to_string(format!("{FIX}{name}")).unwrap_or_default();
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    #[test]
    fn roundtrips_fields_v1() {
        let live = read("live-after-drift/shop.Deployment.web.json");
        for mf in live["metadata"]["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let set = FieldSet::from_json(&mf["fieldsV1"]);
            assert_eq!(set.to_json(), mf["fieldsV1"]);
        }
    }

    #[test]
    fn applied_set_of_desired_deployment_matches_recorded_apply_entry() {
        let live = read("live-after-apply/shop.Deployment.web.json");
        let desired = read("raw-http/get-deployment.response.json");
        assert!(desired.is_object());
        let patch = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web",
                "kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}},
            "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{
                    "env": [{"name": "GITHUB_TOKEN", "value": "x"}, {"name": "LOG_LEVEL", "value": "info"}],
                    "image": "nginx:latest", "name": "web", "ports": [{"containerPort": 80}]}]}}}
        });
        let set = applied_set("Deployment", &patch);
        let recorded = &live["metadata"]["managedFields"][0]["fieldsV1"];
        assert_eq!(set.to_json(), *recorded);
    }

    #[test]
    fn paths_display_and_resolve() {
        let p: Vec<String> = [
            "f:spec",
            "f:template",
            "f:spec",
            "f:containers",
            "k:{\"name\":\"web\"}",
            "f:image",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            display_path(&p),
            ".spec.template.spec.containers[name=\"web\"].image"
        );
        let live = read("live-after-drift/shop.Deployment.web.json");
        assert_eq!(get_at(&live, &p), Some(&json!("nginx:1.27")));
        let mut obj = live.clone();
        remove_at(&mut obj, &p);
        assert_eq!(get_at(&obj, &p), None);
        let port = ["f:spec", "f:ports", "k:{\"port\":80,\"protocol\":\"TCP\"}"].map(String::from);
        let svc = read("live-after-drift/shop.Service.web.json");
        assert!(get_at(&svc, &port).is_some());
    }

    #[test]
    fn set_algebra() {
        let a = FieldSet::from_json(&json!({"f:data": {"f:A": {}, "f:B": {}}}));
        let b = FieldSet::from_json(&json!({"f:data": {"f:B": {}}}));
        assert_eq!(a.difference(&b).to_json(), json!({"f:data": {"f:A": {}}}));
        assert!(b.difference(&a).is_empty());
        assert_eq!(a.members().len(), 2);
    }
}
