//! Strict decoding of kustomization YAML into typed values, as kustomize's
//! `yaml.UnmarshalStrict` does: YAML 1.1 scalar typing (sigs.k8s.io/yaml), field names
//! matched case-insensitively (Go's encoding/json), unknown fields and type mismatches are
//! errors that point at the offending line.

use std::collections::BTreeMap;

use driftlint_yaml::{Node, Origin, Resolved, Value};

use super::error::{KustomizeError, Result};

/// A decoded value with the origin of the YAML node it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub origin: Origin,
}

impl<T> Spanned<T> {
    /// A value at `origin`.
    pub fn new(value: T, origin: Origin) -> Self {
        Spanned { value, origin }
    }
}

/// An ordered `map[string]string` with the origin of each value.
pub type Pairs = Vec<(String, Spanned<String>)>;

fn type_name(n: &Node) -> &'static str {
    match &n.value {
        Value::Map(_) => "object",
        Value::Seq(_) => "array",
        Value::Scalar(_) => match n.resolve() {
            Some(Resolved::Bool(_)) => "bool",
            Some(Resolved::Int(_)) | Some(Resolved::Float(_)) => "number",
            Some(Resolved::Null) => "null",
            _ => "string",
        },
    }
}

fn mismatch(n: &Node, what: &str, want: &str) -> KustomizeError {
    KustomizeError::invalid(
        format!(
            "cannot unmarshal {} into {what} of type {want}",
            type_name(n)
        ),
        Some(&n.origin),
    )
}

/// True for YAML null (`~`, `null`, empty).
pub fn is_null(n: &Node) -> bool {
    matches!(n.resolve(), Some(Resolved::Null))
}

/// A JSON string field; null reads as empty.
pub fn string(n: &Node, what: &str) -> Result<Spanned<String>> {
    match n.resolve() {
        Some(Resolved::Str(s)) => Ok(Spanned::new(s.to_string(), n.origin.clone())),
        Some(Resolved::Null) => Ok(Spanned::new(String::new(), n.origin.clone())),
        _ => Err(mismatch(n, what, "string")),
    }
}

/// A JSON bool field; null reads as false.
pub fn boolean(n: &Node, what: &str) -> Result<bool> {
    match n.resolve() {
        Some(Resolved::Bool(b)) => Ok(b),
        Some(Resolved::Null) => Ok(false),
        _ => Err(mismatch(n, what, "bool")),
    }
}

/// A JSON integer field; null reads as 0.
pub fn integer(n: &Node, what: &str) -> Result<i64> {
    match n.resolve() {
        Some(Resolved::Int(i)) => Ok(i),
        Some(Resolved::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        Some(Resolved::Null) => Ok(0),
        _ => Err(mismatch(n, what, "int64")),
    }
}

/// The items of a JSON array field; null reads as empty.
pub fn seq<'a>(n: &'a Node, what: &str) -> Result<&'a [Node]> {
    match &n.value {
        Value::Seq(items) => Ok(items),
        _ if is_null(n) => Ok(&[]),
        _ => Err(mismatch(n, what, "array")),
    }
}

/// A `[]string` field.
pub fn strings(n: &Node, what: &str) -> Result<Vec<Spanned<String>>> {
    seq(n, what)?.iter().map(|i| string(i, what)).collect()
}

/// A `map[string]string` field, in source order.
pub fn string_map(n: &Node, what: &str) -> Result<Pairs> {
    let Some(m) = n.as_map() else {
        return if is_null(n) {
            Ok(Vec::new())
        } else {
            Err(mismatch(n, what, "map[string]string"))
        };
    };
    m.iter()
        .map(|(k, v)| Ok((key_text(k), string(v, what)?)))
        .collect()
}

/// A `map[string]bool` field.
pub fn bool_map(n: &Node, what: &str) -> Result<BTreeMap<String, bool>> {
    let Some(m) = n.as_map() else {
        return if is_null(n) {
            Ok(BTreeMap::new())
        } else {
            Err(mismatch(n, what, "map[string]bool"))
        };
    };
    m.iter()
        .map(|(k, v)| Ok((key_text(k), boolean(v, what)?)))
        .collect()
}

fn key_text(k: &Node) -> String {
    k.as_scalar().map(|s| s.text.clone()).unwrap_or_default()
}

/// The fields of a JSON object, matched against `allowed` names case-insensitively (exact
/// matches first, as Go's encoding/json). Returns (canonical name, value) pairs in source
/// order; null objects have no fields.
///
/// Errors: the node is not an object; a field is not in `allowed` (`unknown field "x"`).
pub fn fields<'a>(
    n: &'a Node,
    allowed: &[&'static str],
    what: &str,
) -> Result<Vec<(&'static str, &'a Node)>> {
    let Some(m) = n.as_map() else {
        return if is_null(n) {
            Ok(Vec::new())
        } else {
            Err(mismatch(n, what, "object"))
        };
    };
    let mut out = Vec::new();
    for (k, v) in m.iter() {
        let key = key_text(k);
        let name = allowed
            .iter()
            .find(|a| **a == key)
            .or_else(|| allowed.iter().find(|a| a.eq_ignore_ascii_case(&key)));
        match name {
            Some(name) => out.push((*name, v)),
            None => {
                return Err(KustomizeError::invalid(
                    format!("unknown field \"{key}\" in {what}"),
                    Some(&k.origin),
                ))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::parse_documents;

    fn doc(src: &str) -> Node {
        parse_documents("k.yaml".into(), src)
            .expect("parses")
            .remove(0)
    }

    #[test]
    fn fields_are_case_insensitive_and_strict() {
        let d = doc("namePrefix: a\nNAMESUFFIX: b\n");
        let f = fields(&d, &["namePrefix", "nameSuffix"], "Kustomization").expect("ok");
        assert_eq!(f[1].0, "nameSuffix");
        let bad = doc("a: 1\nbogus: 2\n");
        let err = fields(&bad, &["a"], "Kustomization").unwrap_err();
        assert_eq!(err.origin.as_ref().map(|o| o.line), Some(2));
        assert!(err.to_string().contains("unknown field \"bogus\""));
    }

    #[test]
    fn yaml11_typing_is_enforced() {
        let d = doc("a: yes\nb: '1'\nc: 1\n");
        assert!(string(d.get("a").expect("a"), "a").is_err());
        assert_eq!(string(d.get("b").expect("b"), "b").expect("ok").value, "1");
        assert!(string(d.get("c").expect("c"), "c").is_err());
        assert!(boolean(d.get("a").expect("a"), "a").expect("bool"));
    }

    #[test]
    fn maps_and_lists() {
        let d = doc("m: {x: v, z: ~}\nl: [a, b]\nn:\n");
        let m = string_map(d.get("m").expect("m"), "m").expect("map");
        assert_eq!(m[1].1.value, "");
        assert_eq!(strings(d.get("l").expect("l"), "l").expect("l").len(), 2);
        assert!(strings(d.get("n").expect("n"), "n")
            .expect("null")
            .is_empty());
        assert!(string_map(d.get("l").expect("l"), "l").is_err());
    }
}
