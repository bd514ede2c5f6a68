//! JSON patches (RFC 6902) applied to [`Node`] trees, as kustomize's `patchjson6902` filter
//! (evanphx/json-patch over the object's JSON form). Working on nodes keeps the origins of
//! untouched values; values a patch writes keep the patch's own origins.
//!
//! Patch values are typed as sigs.k8s.io/yaml reads them (YAML 1.1: `yes` is `true`), and
//! after a patch kustomize rewrites `metadata.annotations` values as strings.

use super::budget::{node_size, Budget, MAX_BUILD_SIZE};
use driftlint_yaml::{Node, Origin, Resolved, Schema, Value};

use super::error::{KustomizeError, Result};
use super::nodeutil::{is_empty_map, is_null, scalar_str};

/// One operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    /// `add`, `remove`, `replace`, `move`, `copy` or `test`.
    pub op: String,
    /// Target pointer.
    pub path: String,
    /// Source pointer (`move`, `copy`).
    pub from: Option<String>,
    /// Value (`add`, `replace`, `test`).
    pub value: Option<Node>,
    /// Where the operation was written.
    pub origin: Origin,
}

/// Decodes a parsed patch document (a sequence of operation mappings).
///
/// Errors: not a sequence, an operation without `op`/`path`, an unknown op, a missing
/// `value`/`from`.
pub fn decode(doc: &Node) -> Result<Vec<Operation>> {
    let Some(items) = doc.as_seq() else {
        return Err(KustomizeError::invalid(
            "a JSON patch must be a list of operations",
            Some(&doc.origin),
        ));
    };
    items.iter().map(decode_op).collect()
}

fn decode_op(n: &Node) -> Result<Operation> {
    let text = |k: &str| n.get(k).and_then(scalar_str).map(str::to_string);
    let op = text("op").unwrap_or_default();
    let Some(path) = text("path") else {
        return Err(KustomizeError::invalid(
            "JSON patch operation without a path",
            Some(&n.origin),
        ));
    };
    let needs_value = matches!(op.as_str(), "add" | "replace" | "test");
    let needs_from = matches!(op.as_str(), "move" | "copy");
    if !needs_value && !needs_from && op != "remove" {
        return Err(KustomizeError::invalid(
            format!("unexpected JSON patch operation \"{op}\""),
            Some(&n.origin),
        ));
    }
    let value = n.get("value").cloned().map(yaml11_typed);
    if needs_value && value.is_none() {
        return Err(KustomizeError::invalid(
            format!("JSON patch operation \"{op}\" without a value"),
            Some(&n.origin),
        ));
    }
    let from = text("from");
    if needs_from && from.is_none() {
        return Err(KustomizeError::invalid(
            format!("JSON patch operation \"{op}\" without from"),
            Some(&n.origin),
        ));
    }
    Ok(Operation {
        op,
        path,
        from,
        value,
        origin: n.origin.clone(),
    })
}

/// Rewrites plain scalars whose YAML 1.1 reading differs from kyaml's (booleans such as
/// `yes`, `on`) into their canonical spelling, keeping origins.
fn yaml11_typed(mut n: Node) -> Node {
    match &mut n.value {
        Value::Scalar(_) => {
            let v11 = n.resolve_with(Schema::Yaml11);
            let vk = n.resolve_with(Schema::KYaml);
            if let (Some(Resolved::Bool(b)), Some(Resolved::Str(_))) = (v11, vk) {
                return Node::bool(b, n.origin);
            }
            n
        }
        Value::Seq(items) => {
            let taken = std::mem::take(items);
            *items = taken.into_iter().map(yaml11_typed).collect();
            n
        }
        Value::Map(m) => {
            for (_, v) in m.iter_mut() {
                let taken = std::mem::replace(v, Node::null(v.origin.clone()));
                *v = yaml11_typed(taken);
            }
            n
        }
    }
}

fn parse_pointer(p: &str, origin: &Origin) -> Result<Vec<String>> {
    if p.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = p.strip_prefix('/') else {
        return Err(KustomizeError::invalid(
            format!("JSON pointer \"{p}\" must start with /"),
            Some(origin),
        ));
    };
    Ok(rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn missing(op: &str, path: &str, origin: &Origin) -> KustomizeError {
    KustomizeError::invalid(
        format!("{op} operation does not apply: doc is missing path: \"{path}\""),
        Some(origin),
    )
}

fn child_mut<'a>(n: &'a mut Node, seg: &str) -> Option<&'a mut Node> {
    match &mut n.value {
        Value::Map(m) => m.get_mut(seg),
        Value::Seq(items) => seg.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        Value::Scalar(_) => None,
    }
}

fn get<'a>(n: &'a Node, segs: &[String]) -> Option<&'a Node> {
    segs.iter().try_fold(n, |cur, seg| match &cur.value {
        Value::Map(m) => m.get(seg),
        Value::Seq(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        Value::Scalar(_) => None,
    })
}

fn parent_mut<'a>(doc: &'a mut Node, segs: &[String]) -> Option<&'a mut Node> {
    let mut cur = doc;
    for seg in segs {
        cur = child_mut(cur, seg)?;
    }
    Some(cur)
}

/// Applies `ops` in order to `doc`, which may not grow past [`MAX_BUILD_SIZE`] (a `copy`
/// of a field into itself doubles the object).
///
/// Errors: paths that do not exist where the operation needs them, out-of-range indexes,
/// failed `test` operations; a too large result ([`ErrorKind::TooLarge`] at the operation).
///
/// [`ErrorKind::TooLarge`]: super::error::ErrorKind::TooLarge
pub fn apply(doc: &mut Node, ops: &[Operation]) -> Result<()> {
    apply_within(doc, ops, MAX_BUILD_SIZE)
}

/// [`apply`] with a size budget of `limit` estimated bytes for `doc`.
pub fn apply_within(doc: &mut Node, ops: &[Operation], limit: u64) -> Result<()> {
    let mut budget = Budget::new(node_size(doc), limit);
    for op in ops {
        if op.op == "copy" {
            let from = parse_pointer(op.from.as_deref().unwrap_or(""), &op.origin)?;
            let bytes = get(doc, &from).map_or(0, node_size);
            budget.charge(bytes, "JSON patch copy", &op.origin)?;
        }
        apply_one(doc, op)?;
    }
    Ok(())
}

fn apply_one(doc: &mut Node, op: &Operation) -> Result<()> {
    let segs = parse_pointer(&op.path, &op.origin)?;
    match op.op.as_str() {
        "add" => add(
            doc,
            &segs,
            op.value
                .clone()
                .unwrap_or_else(|| Node::null(op.origin.clone())),
            op,
        ),
        "replace" => replace(
            doc,
            &segs,
            op.value
                .clone()
                .unwrap_or_else(|| Node::null(op.origin.clone())),
            op,
        ),
        "remove" => remove(doc, &segs, op).map(|_| ()),
        "move" | "copy" => {
            let from = parse_pointer(op.from.as_deref().unwrap_or(""), &op.origin)?;
            let value = if op.op == "move" {
                remove(doc, &from, op)?
            } else {
                get(doc, &from)
                    .cloned()
                    .ok_or_else(|| missing(&op.op, op.from.as_deref().unwrap_or(""), &op.origin))?
            };
            add(doc, &segs, value, op)
        }
        _ => test(doc, &segs, op),
    }
}

fn add(doc: &mut Node, segs: &[String], value: Node, op: &Operation) -> Result<()> {
    let Some((last, parents)) = segs.split_last() else {
        *doc = value;
        return Ok(());
    };
    let parent = parent_mut(doc, parents).ok_or_else(|| missing("add", &op.path, &op.origin))?;
    match &mut parent.value {
        Value::Map(m) => {
            m.insert(last, value);
            Ok(())
        }
        Value::Seq(items) => {
            let idx = if last == "-" {
                items.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= items.len())
                    .ok_or_else(|| out_of_range(op))?
            };
            items.insert(idx, value);
            Ok(())
        }
        Value::Scalar(_) => Err(missing("add", &op.path, &op.origin)),
    }
}

fn replace(doc: &mut Node, segs: &[String], value: Node, op: &Operation) -> Result<()> {
    let Some((last, parents)) = segs.split_last() else {
        *doc = value;
        return Ok(());
    };
    let parent =
        parent_mut(doc, parents).ok_or_else(|| missing("replace", &op.path, &op.origin))?;
    match &mut parent.value {
        Value::Map(m) => {
            m.insert(last, value);
            Ok(())
        }
        Value::Seq(items) => {
            let slot = last
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get_mut(i))
                .ok_or_else(|| out_of_range(op))?;
            *slot = value;
            Ok(())
        }
        Value::Scalar(_) => Err(missing("replace", &op.path, &op.origin)),
    }
}

fn remove(doc: &mut Node, segs: &[String], op: &Operation) -> Result<Node> {
    let path = if op.op == "move" {
        op.from.as_deref().unwrap_or("")
    } else {
        op.path.as_str()
    };
    let Some((last, parents)) = segs.split_last() else {
        return Err(missing(&op.op, path, &op.origin));
    };
    let parent = parent_mut(doc, parents).ok_or_else(|| missing(&op.op, path, &op.origin))?;
    match &mut parent.value {
        Value::Map(m) => m
            .remove(last)
            .ok_or_else(|| missing(&op.op, path, &op.origin)),
        Value::Seq(items) => {
            let idx = last
                .parse::<usize>()
                .ok()
                .filter(|i| *i < items.len())
                .ok_or_else(|| out_of_range(op))?;
            Ok(items.remove(idx))
        }
        Value::Scalar(_) => Err(missing(&op.op, path, &op.origin)),
    }
}

fn test(doc: &Node, segs: &[String], op: &Operation) -> Result<()> {
    let actual = get(doc, segs).map(|n| n.to_json_with(Schema::KYaml));
    let expected = op.value.as_ref().map(|n| n.to_json_with(Schema::Yaml11));
    if actual.is_some() && actual == expected {
        Ok(())
    } else {
        Err(KustomizeError::invalid(
            format!("testing value {} failed", op.path),
            Some(&op.origin),
        ))
    }
}

fn out_of_range(op: &Operation) -> KustomizeError {
    KustomizeError::invalid(
        format!(
            "{} operation does not apply: index out of range: {}",
            op.op, op.path
        ),
        Some(&op.origin),
    )
}

/// After a JSON patch kustomize re-reads and re-writes `metadata.annotations` as a string
/// map: every value becomes a string, and an empty map disappears.
pub fn restring_annotations(obj: &mut Node) {
    let Some(md) = obj.get_mut("metadata").and_then(Node::as_map_mut) else {
        return;
    };
    let drop = md
        .get("annotations")
        .is_some_and(|a| is_null(a) || is_empty_map(a));
    if drop {
        md.remove("annotations");
        return;
    }
    let Some(ann) = md.get_mut("annotations").and_then(Node::as_map_mut) else {
        return;
    };
    for (_, v) in ann.iter_mut() {
        if let Value::Scalar(_) = &v.value {
            let text = match v.resolve_with(Schema::KYaml) {
                Some(Resolved::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => {
                    format!("{}", f as i64)
                }
                Some(Resolved::Float(f)) => f.to_string(),
                Some(Resolved::Int(i)) => i.to_string(),
                Some(Resolved::Bool(b)) => b.to_string(),
                Some(Resolved::Str(s)) => s.to_string(),
                Some(Resolved::Null) | None => String::new(),
            };
            *v = Node::string(text, v.origin.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::parse_documents;

    fn doc(src: &str) -> Node {
        parse_documents("r.yaml".into(), src)
            .expect("parses")
            .remove(0)
    }

    fn run(target: &str, patch: &str) -> Result<Node> {
        let mut d = doc(target);
        let ops = decode(&doc(patch))?;
        apply(&mut d, &ops)?;
        Ok(d)
    }

    #[test]
    fn add_replace_remove_move_copy() {
        let out = run(
            "a: {b: 1}\nl: [x, yy]\n",
            "- {op: add, path: /a/c, value: 2}\n- {op: add, path: /l/1, value: z}\n- {op: add, path: /l/-, value: w}\n- {op: replace, path: /a/b, value: 3}\n- {op: remove, path: /l/0}\n- {op: copy, from: /a/b, path: /a/d}\n- {op: move, from: /a/c, path: /e}\n",
        )
        .expect("applies");
        assert_eq!(
            out.to_json(),
            serde_json::json!({"a": {"b": 3, "d": 3}, "l": ["z", "yy", "w"], "e": 2})
        );
    }

    #[test]
    fn patch_values_keep_their_origin() {
        let out = run("a: 1\n", "- op: add\n  path: /b\n  value: hi\n").expect("applies");
        let b = out.get("b").expect("b");
        assert_eq!(b.origin.line, 3);
    }

    #[test]
    fn missing_paths_and_failed_tests_are_errors() {
        assert!(run("a: 1\n", "- {op: remove, path: /b}\n").is_err());
        assert!(run("a: 1\n", "- {op: add, path: /x/y, value: 1}\n").is_err());
        assert!(run("l: [1]\n", "- {op: add, path: /l/5, value: 1}\n").is_err());
        assert!(run("a: 1\n", "- {op: test, path: /a, value: 2}\n").is_err());
        assert!(run("a: 1\n", "- {op: test, path: /a, value: 1}\n").is_ok());
        assert!(run("a: 1\n", "- {op: frob, path: /a}\n").is_err());
        assert!(run("a: 1\n", "{op: add}\n").is_err());
    }

    #[test]
    fn yaml11_values_and_annotation_strings() {
        let mut out = run(
            "metadata: {name: x}\n",
            "- {op: add, path: /metadata/annotations, value: {a: yes, c: 0755}}\n",
        )
        .expect("applies");
        restring_annotations(&mut out);
        assert_eq!(
            out.get_path(&["metadata", "annotations"])
                .map(|a| a.to_json()),
            Some(serde_json::json!({"a": "true", "c": "493"}))
        );
    }
}
