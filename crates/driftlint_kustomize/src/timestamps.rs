//! kustomize prints each object through yaml.v3 and JSON: an unquoted value that yaml.v3
//! reads as a timestamp (`2001-12-14`, `2001-12-14T21:59:43.10-05:00`,
//! `2001-12-14 21:59:43`) comes out as Go's RFC 3339 form of that time
//! (`"2001-12-14T00:00:00Z"`). Values Go's `time.Parse` rejects (month 13, Feb 30) stay.

use driftlint_yaml::{rfc3339, Node, ScalarStyle, Value};

/// Rewrites every timestamp-valued plain scalar below `n` (map values and list items).
pub fn normalize(n: &mut Node) {
    match &mut n.value {
        Value::Scalar(s) => {
            let plain = s.style == ScalarStyle::Plain
                && s.tag.as_deref().is_none_or(|t| t == "!!timestamp");
            if plain {
                if let Some(t) = rfc3339(&s.text) {
                    *n = Node::string(t, n.origin.clone());
                }
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(normalize),
        Value::Map(m) => {
            for (_, v) in m.iter_mut() {
                normalize(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_values_change() {
        let mut d = driftlint_yaml::parse_documents(
            "r".into(),
            "a: 2001-12-14\nb: '2001-12-14'\nc: [2001-12-14]\n2001-12-14: k\n",
        )
        .expect("parses")
        .remove(0);
        normalize(&mut d);
        assert_eq!(
            d.to_json(),
            serde_json::json!({"a": "2001-12-14T00:00:00Z", "b": "2001-12-14", "c": ["2001-12-14T00:00:00Z"], "2001-12-14": "k"})
        );
    }
}
