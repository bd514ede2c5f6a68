//! Helmfile's state values: layering (`values:` defaults < environment values < values a parent
//! helmfile passes < `--state-values-set`) and the conversions between YAML trees and template
//! values. Mirrors helmfile `pkg/environment/environment.go` (`GetMergedValues`) and
//! `pkg/maputil` (mergo `WithOverride`): maps merge key by key, a later list replaces an earlier
//! one, except lists from `--state-values-set`, which merge element by element (helmfile's
//! sparse array merge: `top.array[0]=x` changes only the first element).

use std::collections::BTreeMap;

use driftlint_yaml::Node;
use gotmpl::Value;

/// An empty template map.
pub(crate) fn empty_map() -> Value {
    Value::map::<String>([])
}

/// A YAML tree as template data (through JSON, as helmfile decodes YAML into
/// `map[string]interface{}`; integers stay integers).
pub(crate) fn from_node(node: &Node) -> Value {
    from_json(&node.to_json())
}

/// JSON as template data with helmfile's (go-yaml's) number types: integers stay `int`,
/// others are `float64` (Helm's values, read through JSON, are all `float64`).
pub(crate) fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or_default()),
        },
        serde_json::Value::Array(a) => Value::list(a.iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            Value::map(o.iter().map(|(k, v)| (k.clone(), from_json(v))))
        }
        other => Value::from(other),
    }
}

/// `over` merged onto `base` (both left untouched): maps key by key, scalars and lists from
/// `over` win; with `sparse`, lists merge element by element and a nil element of `over`
/// keeps `base`'s.
pub(crate) fn merge(base: &Value, over: &Value, sparse: bool) -> Value {
    match (base, over) {
        (Value::Map(b), Value::Map(o)) => {
            let mut out: BTreeMap<String, Value> = b.snapshot();
            for (k, v) in o.snapshot() {
                let merged = match out.get(&k) {
                    Some(old) => merge(old, &v, sparse),
                    None => v.deep_copy(),
                };
                out.insert(k, merged);
            }
            Value::Map(gotmpl::MapRef::new(out))
        }
        (Value::List(b), Value::List(o)) if sparse => {
            let n = b.len().max(o.len());
            let items = (0..n)
                .map(|i| match (b.get(i), o.get(i)) {
                    (Some(old), Some(Value::Nil) | None) => old.deep_copy(),
                    (Some(old), Some(new)) => merge(old, new, sparse),
                    (None, Some(new)) => new.deep_copy(),
                    (None, None) => Value::Nil,
                })
                .collect();
            Value::list(items)
        }
        (_, Value::Nil) if sparse => base.deep_copy(),
        _ => over.deep_copy(),
    }
}

/// Reads `path` (`a.b.c`) in a map of values: `None` when a step is missing or not a map.
pub(crate) fn at_path(values: &Value, path: &str) -> Option<Value> {
    let mut cur = values.clone();
    for seg in path.split('.') {
        let next = match &cur {
            Value::Map(m) => m.get(seg)?,
            _ => return None,
        };
        cur = next;
    }
    Some(cur)
}

/// One `--state-values-set KEY=VALUE` as a map, parsed as Helm's `--set` (strvals: `a.b[1]=x`,
/// typed scalars), so that lists come out with nil holes for the sparse merge.
///
/// Errors: strvals' message for a malformed argument.
pub(crate) fn parse_state_value_set(arg: &str) -> Result<Value, String> {
    let mut dst = serde_json::Map::new();
    driftlint_helm::values::parse_set(arg, driftlint_helm::SetKind::Typed, &mut dst)?;
    Ok(from_json(&serde_json::Value::Object(dst)))
}

/// The string a scalar value of a helmfile field gives (`installed: true`, `version: 1.2`),
/// as helmfile reads a YAML scalar into a string field.
pub(crate) fn scalar_string(node: &Node) -> Option<String> {
    node.as_scalar().map(|s| s.text.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        let docs = driftlint_yaml::parse_documents("t".into(), text).expect("yaml");
        from_node(&docs[0])
    }

    fn json(v: &Value) -> String {
        gotmpl::sprig::encoding::to_json(v, gotmpl::sprig::encoding::JsonStyle::Compact)
            .expect("json")
    }

    #[test]
    fn later_lists_replace_unless_sparse() {
        let base = yaml("l: [a, b, c]\nm: {x: 1, y: 2}\n");
        let over = yaml("l: [o]\nm: {y: 3}\n");
        assert_eq!(
            json(&merge(&base, &over, false)),
            r#"{"l":["o"],"m":{"x":1,"y":3}}"#
        );
        let set = parse_state_value_set("l[1]=z").expect("set");
        assert_eq!(
            json(&merge(&base, &set, true)),
            r#"{"l":["a","z","c"],"m":{"x":1,"y":2}}"#
        );
    }

    #[test]
    fn integers_stay_integers() {
        assert!(matches!(at_path(&yaml("n: 2\n"), "n"), Some(Value::Int(2))));
    }

    #[test]
    fn paths_read_nested_maps() {
        let v = yaml("a: {b: {c: true}}\n");
        assert!(matches!(at_path(&v, "a.b.c"), Some(Value::Bool(true))));
        assert!(at_path(&v, "a.x.c").is_none());
    }
}
