//! Strategic merge patches as kustomize applies them: kyaml's `merge2` walker with
//! `ListIncreaseDirection: prepend` (api/filters/patchstrategicmerge).
//!
//! * maps merge field by field; a `null` in the patch deletes the field; `$patch: delete`
//!   deletes the map, `$patch: replace` replaces it;
//! * scalars and lists without a merge strategy are replaced by the patch's value;
//! * lists whose schema says `x-kubernetes-patch-strategy: merge` merge element-wise by
//!   their merge keys (or as a set of scalars), patch-only elements first, reproducing
//!   kyaml's element ordering;
//! * fields the patch does not mention are kept as they are.
//!
//! Values the patch sets keep the patch's origins; everything else keeps its own.

use driftlint_yaml::{Mapping, Node, Value};

use super::error::{KustomizeError, Result};
use super::merge_info::MergeInfo;
use super::nodeutil::{is_empty_map, is_null, scalar_str};

const DIRECTIVE: &str = "$patch";

/// Context of one merge: the schema lookup and the patched object's type.
struct Ctx<'a> {
    info: Option<&'a dyn MergeInfo>,
    api_version: String,
    kind: String,
}

impl Ctx<'_> {
    fn merge_keys(&self, path: &[String]) -> Option<Vec<String>> {
        let info = self.info?;
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        info.list_meta(&self.api_version, &self.kind, &p)?
            .merge_keys()
    }
}

/// Merges `patch` into `target` (an object of `api_version`/`kind` taken from the target).
/// Returns None when the patch deletes the whole object (`$patch: delete`).
///
/// Errors: an unknown `$patch` directive; a patch value of a different node kind than the
/// target's (a map over a scalar, ...), as kyaml's "wrong node kind".
pub fn merge(target: &Node, patch: &Node, info: Option<&dyn MergeInfo>) -> Result<Option<Node>> {
    let ctx = Ctx {
        info,
        api_version: scalar_str_at(target, "apiVersion"),
        kind: scalar_str_at(target, "kind"),
    };
    let mut path = Vec::new();
    walk(&ctx, Some(target.clone()), Some(patch.clone()), &mut path)
}

fn scalar_str_at(n: &Node, key: &str) -> String {
    n.get(key).and_then(scalar_str).unwrap_or("").to_string()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Directive {
    Merge,
    Replace,
    Delete,
}

/// Reads and removes a `$patch` directive from a map (kyaml `determineSmpDirective`).
fn take_directive(n: &mut Node) -> Result<Directive> {
    let Some(m) = n.as_map_mut() else {
        return Ok(Directive::Merge);
    };
    let Some(v) = m.get(DIRECTIVE) else {
        return Ok(Directive::Merge);
    };
    let d = match scalar_str(v).unwrap_or("") {
        "delete" => Directive::Delete,
        "replace" => Directive::Replace,
        "merge" => Directive::Merge,
        other => {
            return Err(KustomizeError::invalid(
                format!("unknown patch strategy '{other}'"),
                Some(&v.origin),
            ))
        }
    };
    m.remove(DIRECTIVE);
    Ok(d)
}

fn kind_name(n: &Node) -> &'static str {
    match n.value {
        Value::Map(_) => "MappingNode",
        Value::Seq(_) => "SequenceNode",
        Value::Scalar(_) => "ScalarNode",
    }
}

fn same_kind(a: &Node, b: &Node) -> bool {
    std::mem::discriminant(&a.value) == std::mem::discriminant(&b.value)
}

/// Merges one value. `dest` is the object's value, `origin` the patch's. Returns None to
/// clear the field.
fn walk(
    ctx: &Ctx,
    dest: Option<Node>,
    origin: Option<Node>,
    path: &mut Vec<String>,
) -> Result<Option<Node>> {
    let Some(origin) = origin else {
        return normalize(ctx, dest, path);
    };
    if is_null(&origin) {
        return Ok(None);
    }
    let dest = dest.filter(|d| !is_null(d));
    if let Some(d) = &dest {
        if !same_kind(d, &origin) {
            return Err(KustomizeError::invalid(
                format!(
                    "wrong node kind: expected {} but got {} in patch at {}",
                    kind_name(d),
                    kind_name(&origin),
                    path.join(".")
                ),
                Some(&origin.origin),
            ));
        }
    }
    match &origin.value {
        Value::Map(_) => walk_map(ctx, dest, origin, path),
        Value::Seq(_) => walk_seq(ctx, dest, origin, path),
        Value::Scalar(_) => Ok(Some(origin)),
    }
}

/// A value the patch does not mention: kept, except that nested element-merged lists are
/// re-normalised as kyaml's walker does.
fn normalize(ctx: &Ctx, dest: Option<Node>, path: &mut Vec<String>) -> Result<Option<Node>> {
    let Some(mut d) = dest else {
        return Ok(None);
    };
    match &mut d.value {
        Value::Map(m) => {
            merge_fields(ctx, m, None, path)?;
            Ok(Some(d))
        }
        Value::Seq(_) => match ctx.merge_keys(path) {
            Some(keys) => set_assoc(ctx, d, None, keys, path),
            None => Ok(Some(d)),
        },
        Value::Scalar(_) => Ok(Some(d)),
    }
}

fn walk_map(
    ctx: &Ctx,
    dest: Option<Node>,
    mut origin: Node,
    path: &mut Vec<String>,
) -> Result<Option<Node>> {
    let directive = take_directive(&mut origin)?;
    let mut base = match (directive, dest) {
        (Directive::Delete, _) => return Ok(None),
        (Directive::Merge, Some(d)) => d,
        (_, _) => origin.clone(),
    };
    if let Some(m) = base.as_map_mut() {
        m.remove(DIRECTIVE);
        let patch = origin.as_map();
        merge_fields(ctx, m, patch, path)?;
    }
    Ok(Some(base))
}

/// Merges every field of `patch` (and re-walks every field of `dest`) into `dest`.
fn merge_fields(
    ctx: &Ctx,
    dest: &mut Mapping,
    patch: Option<&Mapping>,
    path: &mut Vec<String>,
) -> Result<()> {
    let mut keys: Vec<String> = dest.keys().map(str::to_string).collect();
    if let Some(p) = patch {
        for k in p.keys() {
            if !keys.iter().any(|x| x == k) {
                keys.push(k.to_string());
            }
        }
    }
    for key in keys {
        let d = dest.get(&key).cloned();
        let o = patch.and_then(|p| p.get(&key)).cloned();
        path.push(key.clone());
        let merged = walk(ctx, d, o, path);
        path.pop();
        match merged? {
            Some(v) => {
                if dest.contains_key(&key) {
                    dest.insert(&key, v);
                } else if let Some((k, _)) = patch.and_then(|p| p.get_entry(&key)) {
                    dest.push(k.clone(), v);
                }
            }
            None => {
                dest.remove(&key);
            }
        }
    }
    Ok(())
}

fn walk_seq(
    ctx: &Ctx,
    dest: Option<Node>,
    origin: Node,
    path: &mut Vec<String>,
) -> Result<Option<Node>> {
    let Some(keys) = ctx.merge_keys(path) else {
        return Ok(Some(origin));
    };
    let base = dest.unwrap_or_else(|| origin.clone());
    set_assoc(ctx, base, Some(origin), keys, path)
}

/// The text kyaml compares for a field value (`YNode().Value`): scalar text, empty for
/// collections.
fn raw_text(n: &Node) -> &str {
    n.as_scalar().map(|s| s.text.as_str()).unwrap_or("")
}

/// kyaml `ElementValuesList`: for each element, the value of each key ("" when absent,
/// null or empty).
fn element_values_list(list: &[Node], keys: &[String]) -> Vec<Vec<String>> {
    list.iter()
        .map(|e| {
            keys.iter()
                .map(|k| match e.get(k) {
                    Some(f) if !(is_null(f) || is_empty_collection(f)) => raw_text(f).to_string(),
                    _ => String::new(),
                })
                .collect()
        })
        .collect()
}

fn is_empty_collection(n: &Node) -> bool {
    match &n.value {
        Value::Map(m) => m.is_empty(),
        Value::Seq(s) => s.is_empty(),
        Value::Scalar(_) => false,
    }
}

/// kyaml `mergeValues`: key tuples that agree except where one side is empty are unified.
fn merge_values(mut list: Vec<Vec<String>>) -> Vec<Vec<String>> {
    for i in 0..list.len() {
        for j in 0..list.len() {
            if let Some(m) = match_values(&list[i], &list[j]) {
                list[i] = m.clone();
                list[j] = m;
            }
        }
    }
    list
}

fn match_values(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut out = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
            out.push(x.clone());
        } else if !x.is_empty() && !y.is_empty() {
            return None;
        } else if !x.is_empty() {
            out.push(x.clone());
        } else {
            out.push(y.clone());
        }
    }
    common.then_some(out)
}

/// kyaml `validateKeys`: the keys (and their values) that have a value somewhere in
/// `all`; all keys when none does.
fn validate_keys(
    all: &[Vec<String>],
    values: &[String],
    keys: &[String],
) -> (Vec<String>, Vec<String>) {
    let valid: Vec<bool> = (0..keys.len())
        .map(|i| {
            all.iter()
                .any(|vs| vs.get(i).is_some_and(|v| !v.is_empty()))
        })
        .collect();
    if !valid.iter().any(|v| *v) {
        return (keys.to_vec(), values.to_vec());
    }
    let k = keys
        .iter()
        .zip(&valid)
        .filter(|(_, v)| **v)
        .map(|(k, _)| k.clone())
        .collect();
    let v = values
        .iter()
        .enumerate()
        .filter(|(i, v)| !v.is_empty() || valid.get(*i).copied().unwrap_or(false))
        .map(|(_, v)| v.clone())
        .collect();
    (k, v)
}

/// kyaml `ElementMatcher`: index of the first element matching all key/value pairs.
fn element_list(list: &[Node], keys: &[String], values: &[String]) -> Option<usize> {
    if keys.is_empty() || keys[0].is_empty() {
        let want = values.first().map(String::as_str).unwrap_or("");
        return list.iter().position(|e| raw_text(e) == want);
    }
    if keys.len() != values.len() {
        return None;
    }
    list.iter().position(|e| {
        e.as_map().is_some()
            && keys
                .iter()
                .zip(values)
                .all(|(k, v)| e.get(k).is_some_and(|f| raw_text(f) == v))
    })
}

/// kyaml `FieldMatcher{Name, StringValue}` on a list element.
fn field_matches(elem: &Node, name: &str, value: &str) -> Result<bool> {
    if is_null(elem) {
        return Ok(false);
    }
    if name.is_empty() {
        return match &elem.value {
            Value::Scalar(_) => Ok(raw_text(elem) == value),
            _ => Err(wrong_kind(elem, "ScalarNode")),
        };
    }
    let Some(m) = elem.as_map() else {
        return Err(wrong_kind(elem, "MappingNode"));
    };
    Ok(m.get(name)
        .is_some_and(|f| value.is_empty() || raw_text(f) == value))
}

fn wrong_kind(n: &Node, want: &str) -> KustomizeError {
    KustomizeError::invalid(
        format!("wrong node kind: expected {want} but got {}", kind_name(n)),
        Some(&n.origin),
    )
}

/// kyaml `ElementSetter`: replaces every element matching keys/values with `element`
/// (deletes them when None), appends `element` when nothing matched. Null and empty-map
/// elements are dropped on the way.
fn element_set(
    list: &mut Vec<Node>,
    element: Option<&Node>,
    keys: &[String],
    values: &[String],
) -> Result<()> {
    let blank = [String::new()];
    let keys = if keys.is_empty() { &blank[..] } else { keys };
    let mapping_setter = !keys[0].is_empty() && values.first().is_some_and(|v| !v.is_empty());
    let mut out = Vec::with_capacity(list.len() + 1);
    let mut found_any = false;
    for elem in list.drain(..) {
        if is_null(&elem) || is_empty_map(&elem) {
            continue;
        }
        if elem.as_map().is_none() && mapping_setter {
            out.push(elem);
            continue;
        }
        let mut matched = false;
        let mut found = true;
        for (j, key) in keys.iter().enumerate() {
            if let Some(v) = values.get(j) {
                matched = field_matches(&elem, key, v)?;
            }
            if !matched {
                found = false;
                break;
            }
        }
        if !found {
            if !values.is_empty() {
                out.push(elem);
            }
            continue;
        }
        found_any = true;
        if let Some(e) = element {
            out.push(e.clone());
        }
    }
    *list = out;
    if let Some(e) = element.filter(|e| !is_null(e)) {
        if !found_any {
            list.push(e.clone());
        }
    }
    Ok(())
}

/// kyaml `appendListNode(dst, src, keys)`.
fn append_list_node(dst: &mut Vec<Node>, src: &[Node], keys: &[String]) -> Result<()> {
    for elem in src {
        if keys.first().is_none_or(String::is_empty) {
            let v = [raw_text(elem).to_string()];
            element_set(dst, Some(elem), &[String::new()], &v)?;
            continue;
        }
        let mut v = Vec::new();
        for key in keys {
            let field = match &elem.value {
                Value::Map(m) => m.get(key),
                _ if is_null(elem) => None,
                _ => return Err(wrong_kind(elem, "MappingNode")),
            };
            match field {
                None => dst.push(elem.clone()),
                Some(f) => v.push(raw_text(f).to_string()),
            }
        }
        if keys.len() > 1 {
            element_set(dst, None, keys, &v)?;
        }
        element_set(dst, Some(elem), keys, &v)?;
    }
    Ok(())
}

fn primitive_values(sources: [Option<&[Node]>; 2]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for src in sources.into_iter().flatten() {
        for item in src {
            let t = raw_text(item).to_string();
            if !out.iter().any(|v| v[0] == t) {
                out.push(vec![t]);
            }
        }
    }
    out
}

fn keyed_values(sources: [Option<&[Node]>; 2], keys: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for src in sources.into_iter().flatten() {
        for vs in element_values_list(src, keys) {
            if !vs.is_empty() && !out.contains(&vs) {
                out.push(vs);
            }
        }
    }
    out
}

fn is_replace_directive(n: Option<&Node>) -> bool {
    n.and_then(|n| n.get(DIRECTIVE))
        .and_then(scalar_str)
        .is_some_and(|d| d == "replace")
}

/// kyaml `setAssociativeSequenceElements` with prepend ordering. `dest` is the object's
/// list (or the patch's when the object has none), `origin` the patch's list.
fn set_assoc(
    ctx: &Ctx,
    dest: Node,
    origin: Option<Node>,
    keys: Vec<String>,
    path: &mut Vec<String>,
) -> Result<Option<Node>> {
    let list_origin = dest.origin.clone();
    let mut dest_list = into_items(dest);
    let origin_list = origin.map(into_items);
    let (values_list, keys) = values_and_keys(origin_list.as_deref(), &dest_list, keys);
    let mut items: Vec<Node> = Vec::new();
    let mut valid_keys = Vec::new();
    for values in values_list.iter().filter(|v| !v.is_empty()) {
        let (vk, vv) = validate_keys(&values_list, values, &keys);
        valid_keys = vk.clone();
        let (k2, v2) = validate_keys(std::slice::from_ref(&vv), &vv, &vk);
        let di = element_list(&dest_list, &k2, &v2);
        let oe = origin_list
            .as_deref()
            .and_then(|o| element_list(o, &k2, &v2).map(|i| o[i].clone()));
        let replace = is_replace_directive(oe.as_ref());
        let de = di.map(|i| dest_list[i].clone());
        let merged = walk(ctx, de, oe, path)?;
        let Some(mut val) = merged.filter(|v| !is_null(v) && !is_empty_map(v)) else {
            element_set(&mut dest_list, None, &vk, &vv)?;
            continue;
        };
        ensure_keys(&mut val, &vk, &vv);
        // kyaml merges into the object's element in place (unless replaced).
        if let Some(i) = di.filter(|_| val.as_map().is_some() && !replace) {
            dest_list[i] = val.clone();
        }
        element_set(&mut items, Some(&val), &vk, &vv)?;
    }
    if !values_list.is_empty() {
        append_list_node(&mut items, &dest_list, &valid_keys)?;
    }
    Ok(Some(Node::new(Value::Seq(items), list_origin)))
}

fn into_items(n: Node) -> Vec<Node> {
    match n.value {
        Value::Seq(items) => items,
        _ => Vec::new(),
    }
}

/// The merge-key value tuples (patch elements first) and the keys (`[""]` for scalar lists).
fn values_and_keys(
    origin: Option<&[Node]>,
    dest: &[Node],
    keys: Vec<String>,
) -> (Vec<Vec<String>>, Vec<String>) {
    if keys.is_empty() {
        return (primitive_values([origin, Some(dest)]), vec![String::new()]);
    }
    let v = keyed_values([origin, Some(dest)], &keys);
    let v = if keys.len() > 1 { merge_values(v) } else { v };
    (v, keys)
}

/// Sets the merge keys a merged element lacks (kyaml `setAssociativeSequenceElements`).
fn ensure_keys(val: &mut Node, keys: &[String], values: &[String]) {
    let origin = val.origin.clone();
    let Some(m) = val.as_map_mut() else { return };
    for (key, value) in keys.iter().zip(values) {
        if !key.is_empty() && !value.is_empty() && !m.contains_key(key) {
            m.insert(key, Node::plain(value.as_str(), origin.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge_info::ListMeta;
    use driftlint_yaml::parse_documents;

    /// Merge metadata for a handful of core fields, standing in for the schema catalog.
    struct Fixture;

    impl MergeInfo for Fixture {
        fn list_meta(&self, _av: &str, kind: &str, path: &[&str]) -> Option<ListMeta> {
            if kind != "Deployment" {
                return None;
            }
            let merge = |key: Option<&str>, map_keys: &[&str]| ListMeta {
                merge_key: key.map(str::to_string),
                strategies: vec!["merge".into()],
                list_map_keys: map_keys.iter().map(|s| s.to_string()).collect(),
            };
            match path.join(".").as_str() {
                "spec.template.spec.containers" => Some(merge(Some("name"), &[])),
                "spec.template.spec.containers.ports" => {
                    Some(merge(Some("containerPort"), &["containerPort", "protocol"]))
                }
                "metadata.finalizers" => Some(merge(None, &[])),
                _ => None,
            }
        }
    }

    fn doc(src: &str) -> Node {
        parse_documents("t.yaml".into(), src)
            .expect("parses")
            .remove(0)
    }

    fn run(target: &str, patch: &str) -> serde_json::Value {
        merge(&doc(target), &doc(patch), Some(&Fixture))
            .expect("merges")
            .map(|n| n.to_json())
            .unwrap_or(serde_json::Value::Null)
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels: {x: null}\nspec:\n  selector: null\n  template:\n    spec:\n      containers:\n      - name: c\n        image: i\n        ports:\n        - containerPort: 80\n          protocol: TCP\n        - containerPort: 90\n      - name: e\n        image: j\n";

    #[test]
    fn merges_lists_by_key_with_kyaml_ordering() {
        let out = run(
            DEPLOY,
            "spec:\n  template:\n    spec:\n      containers:\n      - name: c\n        ports:\n        - containerPort: 90\n          name: x\n        - containerPort: 80\n          protocol: UDP\n      - name: e\n        $patch: delete\n",
        );
        let c = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(c.as_array().map(Vec::len), Some(1));
        assert_eq!(
            c[0]["ports"],
            serde_json::json!([
                {"containerPort": 80, "protocol": "UDP"},
                {"containerPort": 80, "protocol": "TCP"},
                {"containerPort": 90, "name": "x"}
            ])
        );
        assert_eq!(out["spec"]["selector"], serde_json::Value::Null);
        assert!(out["spec"]
            .as_object()
            .is_some_and(|m| m.contains_key("selector")));
    }

    #[test]
    fn new_elements_are_prepended() {
        let out = run(
            DEPLOY,
            "spec:\n  template:\n    spec:\n      containers:\n      - name: z\n        image: new\n",
        );
        let names: Vec<_> = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .map(|a| a.iter().map(|c| c["name"].clone()).collect())
            .unwrap_or_default();
        assert_eq!(names, vec!["z", "c", "e"]);
    }

    #[test]
    fn nulls_delete_and_replace_directive() {
        let out = run(
            "apiVersion: x/v1\nkind: Foo\nspec:\n  a: 1\n  m: {p: 1, q: 2}\n  l: [1, 2]\n",
            "spec:\n  a: null\n  m:\n    $patch: replace\n    r: 3\n  l: [3]\n  n: {k: null, v: 1}\n",
        );
        assert_eq!(
            out["spec"],
            serde_json::json!({"m": {"r": 3}, "l": [3], "n": {"v": 1}})
        );
    }

    #[test]
    fn whole_object_delete_and_kind_mismatch() {
        let d = doc(DEPLOY);
        assert!(merge(&d, &doc("$patch: delete\n"), Some(&Fixture))
            .expect("ok")
            .is_none());
        assert!(merge(&d, &doc("spec: [1]\n"), Some(&Fixture)).is_err());
        assert!(merge(&d, &doc("spec:\n  $patch: frob\n"), Some(&Fixture)).is_err());
    }

    #[test]
    fn primitive_set_lists_union_patch_first() {
        let out = run(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  finalizers: [a, b]\n",
            "metadata:\n  finalizers: [c, a]\n",
        );
        assert_eq!(
            out["metadata"]["finalizers"],
            serde_json::json!(["c", "a", "b"])
        );
    }

    #[test]
    fn patch_values_carry_patch_origins() {
        let t = doc(DEPLOY);
        let p = parse_documents("p.yaml".into(), "spec:\n  replicas: 3\n")
            .expect("parses")
            .remove(0);
        let out = merge(&t, &p, Some(&Fixture)).expect("ok").expect("kept");
        let r = out.get_path(&["spec", "replicas"]).expect("replicas");
        assert_eq!((&*r.origin.file, r.origin.line), ("p.yaml", 2));
        let n = out.get_path(&["metadata", "name"]).expect("name");
        assert_eq!(&*n.origin.file, "t.yaml");
    }
}
