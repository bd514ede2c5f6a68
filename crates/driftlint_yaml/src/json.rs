//! Conversions between [`Node`] trees and `serde_json::Value`, as sigs.k8s.io/yaml's
//! YAMLToJSON does (map keys become strings; non-finite floats have no JSON form and become null).

use serde_json::{Map, Number, Value as Json};

use super::node::{Mapping, Node, Origin, Value};
use super::resolve::{Resolved, Schema};

impl Node {
    /// The JSON value of this tree under sigs.k8s.io/yaml (YAML 1.1) resolution.
    pub fn to_json(&self) -> Json {
        self.to_json_with(Schema::Yaml11)
    }

    /// The JSON value of this tree under `schema`.
    pub fn to_json_with(&self, schema: Schema) -> Json {
        match &self.value {
            Value::Scalar(_) => match self.resolve_with(schema) {
                Some(Resolved::Null) | None => Json::Null,
                Some(Resolved::Bool(b)) => Json::Bool(b),
                Some(Resolved::Int(n)) => Json::Number(n.into()),
                Some(Resolved::Float(f)) => Number::from_f64(f).map_or(Json::Null, Json::Number),
                Some(Resolved::Str(s)) => Json::String(s.to_string()),
            },
            Value::Seq(items) => {
                Json::Array(items.iter().map(|n| n.to_json_with(schema)).collect())
            }
            Value::Map(m) => {
                let mut out = Map::new();
                for (k, v) in m.iter() {
                    out.insert(key_string(k, schema), v.to_json_with(schema));
                }
                Json::Object(out)
            }
        }
    }

    /// Builds a tree from JSON, every node at `origin`. Strings become string nodes (never
    /// re-typed), numbers and booleans plain scalars.
    pub fn from_json(json: &Json, origin: &Origin) -> Node {
        match json {
            Json::Null => Node::null(origin.clone()),
            Json::Bool(b) => Node::bool(*b, origin.clone()),
            Json::Number(n) => Node::plain(n.to_string(), origin.clone()),
            Json::String(s) => Node::string(s.clone(), origin.clone()),
            Json::Array(items) => Node::new(
                Value::Seq(items.iter().map(|j| Node::from_json(j, origin)).collect()),
                origin.clone(),
            ),
            Json::Object(map) => {
                let mut m = Mapping::new();
                for (k, v) in map {
                    m.push(
                        Node::string(k.clone(), origin.clone()),
                        Node::from_json(v, origin),
                    );
                }
                Node::new(Value::Map(m), origin.clone())
            }
        }
    }
}

impl Node {
    /// The node `to_json_with(schema)` would hold under `key` when this is a mapping (the last
    /// entry whose key converts to `key`, as JSON object insertion keeps the last), without
    /// converting the tree. `None` for a missing key or a node that is not a mapping.
    pub fn json_get(&self, key: &str, schema: Schema) -> Option<&Node> {
        let Value::Map(m) = &self.value else {
            return None;
        };
        m.iter()
            .filter(|(k, _)| key_is(k, key, schema))
            .last()
            .map(|(_, v)| v)
    }

    /// The string `to_json_with(schema)` would give for this node, when it gives a string.
    pub fn json_str(&self, schema: Schema) -> Option<&str> {
        match (&self.value, self.resolve_with(schema)) {
            (Value::Scalar(_), Some(Resolved::Str(s))) => Some(s),
            _ => None,
        }
    }
}

/// Whether [`key_string`] of `k` is `key`, without allocating for scalar keys.
fn key_is(k: &Node, key: &str, schema: Schema) -> bool {
    match k.resolve_with(schema) {
        Some(Resolved::Str(s)) => s == key,
        Some(Resolved::Null) => key == "null",
        Some(_) => k.as_scalar().is_some_and(|s| s.text == key),
        None => key_string(k, schema) == key,
    }
}

fn key_string(k: &Node, schema: Schema) -> String {
    match k.resolve_with(schema) {
        Some(Resolved::Str(s)) => s.to_string(),
        Some(Resolved::Null) => "null".to_string(),
        Some(_) => k.as_scalar().map(|s| s.text.clone()).unwrap_or_default(),
        None => format!("<collection key at {}>", k.origin),
    }
}

#[cfg(test)]
mod tests {
    use crate::parse_documents;

    #[test]
    fn yaml_to_json_matches_sigs_yaml() {
        let docs = parse_documents("t.yaml".into(), "a: yes\nb: 0755\nc: [1, '2', ~]\n1: x\n")
            .expect("parses");
        let j = docs[0].to_json();
        assert_eq!(
            j,
            serde_json::json!({"a": true, "b": 493, "c": [1, "2", null], "1": "x"})
        );
    }

    #[test]
    fn json_round_trips_through_nodes() {
        let j = serde_json::json!({"a": "3", "b": 3, "c": [true, null]});
        let origin = crate::Origin::new("x".into(), 1, 1);
        assert_eq!(super::Node::from_json(&j, &origin).to_json(), j);
    }
}
