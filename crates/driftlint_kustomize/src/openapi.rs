//! `openapi: {path: FILE}`: a custom OpenAPI document (swagger `definitions`, JSON or YAML)
//! that replaces kustomize's built-in schema for strategic merge patches (kyaml
//! `openapi.SetSchema`). Types are found by `x-kubernetes-group-version-kind`; list metadata
//! comes from `x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key` and
//! `x-kubernetes-list-map-keys`, following `$ref`s.

use serde_json::Value as Json;

use super::merge_info::{ListMeta, MergeInfo};
use super::resid::Gvk;

/// A parsed custom schema.
#[derive(Clone, Debug)]
pub struct CustomSchema {
    definitions: serde_json::Map<String, Json>,
}

impl CustomSchema {
    /// Wraps a parsed document; None when it has no `definitions` object.
    pub fn from_json(doc: &Json) -> Option<CustomSchema> {
        let definitions = doc.get("definitions")?.as_object()?.clone();
        Some(CustomSchema { definitions })
    }

    fn resolve<'a>(&'a self, s: &'a Json) -> &'a Json {
        let mut cur = s;
        for _ in 0..64 {
            let Some(r) = cur.get("$ref").and_then(Json::as_str) else {
                return cur;
            };
            match r
                .strip_prefix("#/definitions/")
                .and_then(|name| self.definitions.get(name))
            {
                Some(next) => cur = next,
                None => return cur,
            }
        }
        cur
    }

    fn root(&self, api_version: &str, kind: &str) -> Option<&Json> {
        let want = Gvk::from_api_version(api_version, kind);
        self.definitions.values().find(|d| {
            d.get("x-kubernetes-group-version-kind")
                .and_then(Json::as_array)
                .is_some_and(|gvks| {
                    gvks.iter().any(|g| {
                        let s = |k: &str| g.get(k).and_then(Json::as_str).unwrap_or("");
                        s("group") == want.group
                            && s("version") == want.version
                            && s("kind") == want.kind
                    })
                })
        })
    }

    fn field<'a>(&'a self, s: &'a Json, name: &str) -> Option<&'a Json> {
        let mut s = self.resolve(s);
        if let Some(items) = s.get("items") {
            s = self.resolve(items);
        }
        if let Some(p) = s.get("properties").and_then(|p| p.get(name)) {
            return Some(p);
        }
        s.get("additionalProperties").filter(|a| a.is_object())
    }
}

impl MergeInfo for CustomSchema {
    fn list_meta(&self, api_version: &str, kind: &str, path: &[&str]) -> Option<ListMeta> {
        let mut s = self.root(api_version, kind)?;
        for p in path {
            s = self.field(s, p)?;
        }
        let s = self.resolve(s);
        let text = |k: &str| s.get(k).and_then(Json::as_str).map(str::to_string);
        let strategies = text("x-kubernetes-patch-strategy")
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_default();
        let list_map_keys = s
            .get("x-kubernetes-list-map-keys")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Json::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Some(ListMeta {
            merge_key: text("x-kubernetes-patch-merge-key"),
            strategies,
            list_map_keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_merge_keys_through_refs() {
        let doc = serde_json::json!({"definitions": {
            "v1alpha1.MyResource": {
                "x-kubernetes-group-version-kind": [{"group": "example.com", "kind": "MyResource", "version": "v1alpha1"}],
                "properties": {"spec": {"properties": {"template": {"$ref": "#/definitions/Pod"}}}}
            },
            "Pod": {"properties": {"spec": {"properties": {"containers": {
                "items": {"$ref": "#/definitions/Container"},
                "x-kubernetes-patch-merge-key": "name",
                "x-kubernetes-patch-strategy": "merge"
            }}}}},
            "Container": {"properties": {"ports": {
                "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
                "x-kubernetes-patch-merge-key": "containerPort",
                "x-kubernetes-patch-strategy": "merge"
            }}}
        }});
        let s = CustomSchema::from_json(&doc).expect("schema");
        let c = s
            .list_meta(
                "example.com/v1alpha1",
                "MyResource",
                &["spec", "template", "spec", "containers"],
            )
            .expect("containers");
        assert_eq!(c.merge_keys(), Some(vec!["name".to_string()]));
        let p = s
            .list_meta(
                "example.com/v1alpha1",
                "MyResource",
                &["spec", "template", "spec", "containers", "ports"],
            )
            .expect("ports");
        assert_eq!(p.merge_keys().map(|k| k.len()), Some(2));
        assert!(s.list_meta("apps/v1", "Deployment", &["spec"]).is_none());
    }
}
