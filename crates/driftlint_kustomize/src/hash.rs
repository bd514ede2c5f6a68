//! kustomize's content hash for generated ConfigMaps and Secrets (api/hasher): SHA-256 over
//! Go's `json.Marshal` of `{"data", "kind", "name": ""}` (plus `binaryData`, or `type` and
//! `stringData` for Secrets), first 10 hex digits mapped `0→g 1→h 3→k a→m e→t`.
//!
//! kustomize looks the name up with a path it never finds, so the name is always hashed as
//! the empty string; reproduced here.

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use driftlint_yaml::{Node, Schema, Value};

/// Go's `json.Marshal` of a string: `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u00XX`.
fn go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `json.Marshal` of a decoded JSON value: object keys sorted.
fn go_json(v: &Json, out: &mut String) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&n.to_string()),
        Json::String(s) => go_string(s, out),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(item, out);
            }
            out.push(']');
        }
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(k, out);
                out.push(':');
                go_json(&m[k.as_str()], out);
            }
            out.push('}');
        }
    }
}

/// kustomize `getNodeValues`: a map field as its JSON map, a scalar as its text, absent or
/// null as "".
fn field_value(obj: &Node, key: &str) -> Json {
    match obj.get(key) {
        None => Json::String(String::new()),
        Some(n) => match &n.value {
            Value::Scalar(s) if !super::nodeutil::is_null(n) => Json::String(s.text.clone()),
            Value::Scalar(_) => Json::String(String::new()),
            _ => n.to_json_with(Schema::KYaml),
        },
    }
}

/// Maps hex digits to kustomize's name-safe alphabet (kubectl's `hash.Encode`).
fn encode(hex: &str) -> String {
    hex.chars()
        .take(10)
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// The hash suffix of a ConfigMap or Secret object.
pub fn hash(obj: &Node) -> String {
    let kind = obj
        .get("kind")
        .and_then(super::nodeutil::scalar_str)
        .unwrap_or("");
    let mut m = serde_json::Map::new();
    m.insert("kind".into(), Json::String(kind.to_string()));
    m.insert("name".into(), Json::String(String::new()));
    m.insert("data".into(), field_value(obj, "data"));
    if kind == "Secret" {
        m.insert("type".into(), field_value(obj, "type"));
        if let v @ Json::Object(_) = field_value(obj, "stringData") {
            m.insert("stringData".into(), v);
        }
    } else if let v @ Json::Object(_) = field_value(obj, "binaryData") {
        m.insert("binaryData".into(), v);
    }
    let mut encoded = String::new();
    go_json(&Json::Object(m), &mut encoded);
    let digest = Sha256::digest(encoded.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    encode(&hex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::parse_documents;

    fn h(src: &str) -> String {
        hash(&parse_documents("g".into(), src).expect("parses")[0])
    }

    #[test]
    fn matches_kustomize_v5_7_1() {
        // Values produced by `kubectl kustomize` (v5.7.1) for the same generator inputs.
        assert_eq!(
            h("kind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n"),
            "bdg947hgcc"
        );
        assert_eq!(
            h("kind: ConfigMap\nmetadata: {name: c}\ndata: {k: <&>}\n"),
            "8gm4tgm94f"
        );
        assert_eq!(
            h("kind: ConfigMap\nmetadata: {name: empty}\n"),
            "6ct58987ht"
        );
        assert_eq!(
            h("kind: Secret\nmetadata: {name: s}\ntype: Opaque\ndata: {k: dg==}\n"),
            "ftgtgc4t9f"
        );
    }
}
