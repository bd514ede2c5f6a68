//! Small helpers over [`Node`] trees shared by the transformers.

use driftlint_yaml::{Mapping, Node, Origin, Resolved, Schema, Value};

/// The text of a scalar that is not null (kyaml reads names and keys as raw scalar text,
/// whatever their type): `3`, `true`, `foo`. None for null scalars and collections.
pub fn scalar_str(n: &Node) -> Option<&str> {
    match (&n.value, n.resolve_with(Schema::KYaml)) {
        (Value::Scalar(s), Some(r)) if r != Resolved::Null => Some(s.text.as_str()),
        _ => None,
    }
}

/// The scalar text at a path of mapping keys.
pub fn str_at<'a>(n: &'a Node, path: &[&str]) -> Option<&'a str> {
    n.get_path(path).and_then(scalar_str)
}

/// True for a null scalar (`null`, `~`, empty, `!!null`).
pub fn is_null(n: &Node) -> bool {
    matches!(n.resolve_with(Schema::KYaml), Some(Resolved::Null))
}

/// True for an empty mapping.
pub fn is_empty_map(n: &Node) -> bool {
    n.as_map().is_some_and(Mapping::is_empty)
}

/// The mapping at `key` in `map_node`, created (as an empty mapping at `origin`) when absent
/// or null. None when `map_node` is not a mapping or the value is another kind.
pub fn child_map_mut<'a>(
    map_node: &'a mut Node,
    key: &str,
    origin: &Origin,
) -> Option<&'a mut Node> {
    let m = map_node.as_map_mut()?;
    let absent = m.get(key).is_none_or(is_null);
    if absent {
        m.insert(key, Node::map(origin.clone()));
    }
    let child = m.get_mut(key)?;
    child.as_map().is_some().then_some(child)
}

/// Sets `key` in a mapping node to `value`; the key node gets the value's origin when new.
pub fn set_key(map_node: &mut Node, key: &str, value: Node) {
    if let Some(m) = map_node.as_map_mut() {
        m.insert(key, value);
    }
}

/// A string-typed scalar (quoted on output when it would read as another type).
pub fn string_node(text: &str, origin: &Origin) -> Node {
    Node::string(text, origin.clone())
}

/// The string values of a `map[string]string`-shaped node (labels, annotations), in order.
pub fn string_map(n: Option<&Node>) -> Vec<(String, String)> {
    let Some(m) = n.and_then(Node::as_map) else {
        return Vec::new();
    };
    m.iter()
        .filter_map(|(k, v)| {
            Some((
                scalar_str(k)?.to_string(),
                scalar_str(v).unwrap_or("").to_string(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::parse_documents;

    #[test]
    fn scalar_text_ignores_null_and_collections() {
        let d = parse_documents("t".into(), "a: 3\nb: ~\nc: {x: 1}\nd: yes\n").expect("parses");
        assert_eq!(str_at(&d[0], &["a"]), Some("3"));
        assert_eq!(str_at(&d[0], &["b"]), None);
        assert_eq!(str_at(&d[0], &["c"]), None);
        assert_eq!(str_at(&d[0], &["d"]), Some("yes"));
    }

    #[test]
    fn child_maps_are_created_over_null() {
        let mut d = parse_documents("t".into(), "metadata:\n  labels:\n").expect("parses");
        let o = Origin::new("k".into(), 1, 1);
        let md = child_map_mut(&mut d[0], "metadata", &o).expect("metadata");
        let labels = child_map_mut(md, "labels", &o).expect("labels");
        set_key(labels, "a", string_node("b", &o));
        assert_eq!(str_at(&d[0], &["metadata", "labels", "a"]), Some("b"));
    }
}

/// Rewrites every folded block scalar (`>`) under `n` as kyaml (yaml.v3) reads it: where a
/// more-indented line (one starting with a space or tab) follows a normal line, possibly
/// after empty lines, yaml.v3 keeps one line break more than YAML 1.2 says
/// (`>-\n  [\n    X\n  ]` is `"[\n\n  X\n]"`, not `"[\n  X\n]"`). sigs.k8s.io/yaml (go-yaml
/// v2, Helm) follows the specification, so this applies to what kustomize reads only.
pub fn kyaml_folded_scalars(n: &mut Node) {
    match &mut n.value {
        Value::Scalar(s) if s.style == driftlint_yaml::ScalarStyle::Folded => {
            s.text = kyaml_folded(&s.text);
        }
        Value::Scalar(_) => {}
        Value::Seq(items) => items.iter_mut().for_each(kyaml_folded_scalars),
        Value::Map(m) => m.iter_mut().for_each(|(_, v)| kyaml_folded_scalars(v)),
    }
}

/// The value of a folded scalar as yaml.v3 reads it, from its YAML 1.2 value `text` (in
/// which every more-indented source line is a line of its own, and a line not starting with
/// a blank is one or more folded normal lines).
fn kyaml_folded(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut after_normal = false;
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let more_indented = line.starts_with([' ', '\t']);
        if more_indented && after_normal {
            out.push('\n');
        }
        if !line.is_empty() {
            after_normal = !more_indented;
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod folded_tests {
    use super::*;

    /// Expected values from `kubectl kustomize` (v1.35.2, kustomize v5.7.1) of a ConfigMap
    /// holding these folded scalars (printed by kubectl as `|-`, `|`, `|+` or quoted).
    #[test]
    fn folded_scalars_read_as_yaml_v3_reads_them() {
        let src = "a: >-\n  [\n    X\n  ]\nb: >-\n  a\n  b\n    c\n  d\nc: >\n  a\n\n    c\n  d\ne: >-\n  a\n    b\n    c\n  d\n\n  e\nf: >+\n  a\n    b\n\ng: >-\n  a\n  \tb\n  c\nh: >-\n  plain\n  folded\n";
        let mut doc =
            driftlint_yaml::parse_documents("t.yaml".into(), src).expect("parses")[0].clone();
        kyaml_folded_scalars(&mut doc);
        let text = |k: &str| {
            doc.get(k)
                .and_then(|n| n.as_scalar())
                .map(|s| s.text.clone())
        };
        assert_eq!(text("a").as_deref(), Some("[\n\n  X\n]"));
        assert_eq!(text("b").as_deref(), Some("a b\n\n  c\nd"));
        assert_eq!(text("c").as_deref(), Some("a\n\n\n  c\nd\n"));
        assert_eq!(text("e").as_deref(), Some("a\n\n  b\n  c\nd\ne"));
        assert_eq!(text("f").as_deref(), Some("a\n\n  b\n\n"));
        assert_eq!(text("g").as_deref(), Some("a\n\n\tb\nc"));
        assert_eq!(text("h").as_deref(), Some("plain folded"));
    }
}
