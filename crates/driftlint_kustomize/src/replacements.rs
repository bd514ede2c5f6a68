//! `replacements:` (kustomize ReplacementTransformer, api/filters/replacement): copy a field
//! of one object (the source) into fields of other objects (the targets), optionally as one
//! part of a delimited string.
//!
//! Paths are dot-separated (`spec.template.spec.containers.[name=app].image`): `[k=v]`
//! selects sequence elements (a regular expression on targets, exact on the source), a
//! number selects an element by index, `*` every element, `[a.b/c]` is a key containing dots.

use regex::Regex;

use driftlint_yaml::{Node, Origin, ScalarStyle, Value};

use std::path::Path;

use super::budget::{node_size, Budget};
use super::error::{KustomizeError, Result};
use super::kustfile::{
    self, FieldOptions, IdSelector, ReplacementArgs, ReplacementEntry, TargetArgs,
};
use super::loader::{display, Loader};
use super::nodeutil::{is_null, scalar_str};
use super::resid::{Gvk, ResId};
use super::resmap::ResMap;
use super::resource::Resource;
use super::selector::LabelSelector;

/// kyaml `SmarterPathSplitter(path, ".")`: dots inside brackets do not split; `[k=v]`
/// keeps its brackets, `[key]` loses them; empty parts are dropped.
pub fn split_path(path: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ => {}
        }
        if c == '.' && depth == 0 {
            parts.push(String::new());
        } else if let Some(p) = parts.last_mut() {
            p.push(c);
        }
    }
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .map(
            |p| match p.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
                Some(inner) if !inner.contains('=') => inner.to_string(),
                _ => p,
            },
        )
        .collect()
}

fn list_index(part: &str) -> Option<(&str, &str)> {
    part.strip_prefix('[')?.strip_suffix(']')?.split_once('=')
}

fn field_text(n: &Node) -> &str {
    n.as_scalar().map(|s| s.text.as_str()).unwrap_or("")
}

/// Source lookup (kyaml `PathGetter`): exact element matches, no creation.
fn lookup<'a>(n: &'a Node, parts: &[String]) -> Option<&'a Node> {
    let Some((part, rest)) = parts.split_first() else {
        return Some(n);
    };
    if is_null(n) {
        return None;
    }
    let next = match &n.value {
        Value::Seq(items) => {
            if let Ok(i) = part.parse::<usize>() {
                items.get(i)
            } else if part == "-" {
                items.last()
            } else if let Some((k, v)) = list_index(part) {
                items.iter().find(|e| {
                    if k.is_empty() {
                        field_text(e) == v
                    } else {
                        e.get(k).is_some_and(|f| field_text(f) == v)
                    }
                })
            } else {
                None
            }
        }
        Value::Map(m) => m.get(part),
        Value::Scalar(_) => None,
    }?;
    lookup(next, rest)
}

fn new_part(next: Option<&String>, leaf: &Node) -> Node {
    let o = leaf.origin.clone();
    match next {
        None => match leaf.value {
            Value::Map(_) => Node::map(o),
            Value::Seq(_) => Node::seq(o),
            Value::Scalar(_) => Node::plain("", o),
        },
        Some(p) if p.parse::<usize>().is_ok() || list_index(p).is_some() => Node::seq(o),
        Some(_) => Node::map(o),
    }
}

/// Target matching (kyaml `PathMatcher`): collects mutable references to the matched
/// fields, creating missing ones when `create` is set.
fn matches<'a>(
    n: &'a mut Node,
    parts: &[String],
    create: Option<&Node>,
    out: &mut Vec<&'a mut Node>,
) -> Result<()> {
    let Some((part, rest)) = parts.split_first() else {
        out.push(n);
        return Ok(());
    };
    let origin = n.origin.clone();
    if let Ok(idx) = part.parse::<usize>() {
        let Some(items) = n.as_seq_mut() else {
            return Err(KustomizeError::invalid(
                format!("{part}: not a sequence"),
                Some(&origin),
            ));
        };
        if items.len() == idx {
            if let Some(leaf) = create {
                items.push(new_part(rest.first(), leaf));
            }
        }
        let len = items.len();
        let Some(e) = items.get_mut(idx) else {
            return Err(KustomizeError::invalid(
                format!("index {idx} specified but only {len} elements found"),
                Some(&origin),
            ));
        };
        return matches(e, rest, create, out);
    }
    if let Some((k, v)) = list_index(part) {
        let re = Regex::new(v).map_err(|e| {
            KustomizeError::invalid(format!("invalid regex {v:?}: {e}"), Some(&origin))
        })?;
        let Some(items) = n.as_seq_mut() else {
            return Ok(());
        };
        let hit = |e: &Node| {
            if k.is_empty() {
                e.as_scalar().is_some_and(|s| re.is_match(s.text.trim()))
            } else {
                e.get(k).is_some_and(|f| re.is_match(field_text(f).trim()))
            }
        };
        if !items.iter().any(hit) {
            let Some(_) = create else { return Ok(()) };
            let value = Node::plain(v, origin.clone());
            if k.is_empty() {
                items.push(value);
            } else {
                let mut m = Node::map(origin.clone());
                super::nodeutil::set_key(&mut m, k, value);
                items.push(m);
            }
        }
        for e in items.iter_mut().filter(|e| hit(e)) {
            matches(e, rest, create, out)?;
        }
        return Ok(());
    }
    if part == "*" {
        if let Some(items) = n.as_seq_mut() {
            for e in items.iter_mut() {
                matches(e, rest, create, out)?;
            }
        }
        return Ok(());
    }
    if is_null(n) {
        match create {
            Some(_) => *n = Node::map(origin.clone()),
            None => return Ok(()),
        }
    }
    let Some(m) = n.as_map_mut() else {
        return Err(KustomizeError::invalid(
            format!("wrong node kind for field {part}: expected a mapping"),
            Some(&origin),
        ));
    };
    if !m.contains_key(part) {
        let Some(leaf) = create else { return Ok(()) };
        m.insert(part, new_part(rest.first(), leaf));
    }
    match m.get_mut(part) {
        Some(f) => matches(f, rest, create, out),
        None => Ok(()),
    }
}

fn ids(r: &Resource) -> Vec<ResId> {
    r.all_ids()
}

fn selected_by(id: &ResId, s: &IdSelector) -> bool {
    (s.name.is_empty() || s.name == id.name)
        && (s.namespace.is_empty() || {
            let sel = ResId {
                gvk: s.gvk.clone(),
                name: String::new(),
                namespace: s.namespace.clone(),
            };
            sel.effective_namespace() == id.effective_namespace()
        })
        && id.gvk.is_selected(&s.gvk)
}

fn labels_match(r: &Resource, s: &IdSelector, origin: &Origin) -> Result<bool> {
    let l = LabelSelector::parse(&s.label_selector, origin)?;
    let a = LabelSelector::parse(&s.annotation_selector, origin)?;
    Ok(l.matches(&r.labels()) && a.matches(&r.annotations()))
}

fn refine(value: &Node, opts: &FieldOptions, origin: &Origin) -> Result<Node> {
    if opts.delimiter.is_empty() {
        return Ok(value.clone());
    }
    let Value::Scalar(s) = &value.value else {
        return Err(KustomizeError::invalid(
            "delimiter option can only be used with scalar nodes",
            Some(origin),
        ));
    };
    let parts: Vec<&str> = s.text.split(opts.delimiter.as_str()).collect();
    let part = usize::try_from(opts.index)
        .ok()
        .and_then(|i| parts.get(i))
        .ok_or_else(|| {
            KustomizeError::invalid(
                format!(
                    "options.index {} is out of bounds for value {}",
                    opts.index, s.text
                ),
                Some(origin),
            )
        })?;
    let mut n = value.clone();
    if let Value::Scalar(sc) = &mut n.value {
        sc.text = part.to_string();
    }
    Ok(n)
}

/// kustomize `setFieldValue`: a scalar target keeps its type and style and takes the
/// value's text (joined into its delimited parts when asked); other targets are replaced.
fn set_value(target: &mut Node, value: &Node, opts: &FieldOptions, origin: &Origin) -> Result<()> {
    let mut value = value.clone();
    if !opts.delimiter.is_empty() {
        let Value::Scalar(ts) = &target.value else {
            return Err(KustomizeError::invalid(
                "delimiter option can only be used with scalar nodes",
                Some(origin),
            ));
        };
        let mut tv: Vec<String> = ts
            .text
            .split(opts.delimiter.as_str())
            .map(str::to_string)
            .collect();
        let v = scalar_str(&value).unwrap_or("").to_string();
        match usize::try_from(opts.index) {
            Err(_) => tv.insert(0, v),
            Ok(i) if i >= tv.len() => tv.push(v),
            Ok(i) => tv[i] = v,
        }
        if let Value::Scalar(vs) = &mut value.value {
            vs.text = tv.join(&opts.delimiter);
        }
    }
    if let (Value::Scalar(_), Value::Scalar(vs)) = (&target.value, &value.value) {
        let text = vs.text.clone();
        let was_null = is_null(target);
        if let Value::Scalar(ts) = &mut target.value {
            ts.text = text;
            if was_null {
                ts.tag = None;
                ts.style = ScalarStyle::Plain;
            }
        }
        target.origin = value.origin;
    } else {
        *target = value;
    }
    Ok(())
}

/// The replacements of `replacements` entries of the kustomization in `dir`: inline ones,
/// and those of each `path:` file (one replacement or a list).
///
/// Errors: unreadable or escaping files, YAML and decoding errors.
pub fn load_entries(
    loader: &Loader,
    dir: &Path,
    entries: &[ReplacementEntry],
) -> Result<Vec<ReplacementArgs>> {
    let mut out = Vec::new();
    for e in entries {
        match e {
            ReplacementEntry::Inline(r) => out.push((**r).clone()),
            ReplacementEntry::Path(p) => {
                let (file, text) = loader.read_restricted(dir, &p.value, &p.origin)?;
                let parsed = driftlint_yaml::parse_file(display(&file).into(), &text)?;
                for doc in parsed.documents.iter().filter(|d| !is_null(d)) {
                    let what = "replacement";
                    match doc.as_seq() {
                        Some(items) => {
                            for i in items {
                                out.push(kustfile::decode_replacement(i, what)?);
                            }
                        }
                        None => out.push(kustfile::decode_replacement(doc, what)?),
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Applies `replacements` in order to every object of `m`, within a size budget of `limit`
/// estimated bytes for all objects (a replacement that copies a field into itself doubles
/// the object: forty of them would need terabytes).
///
/// Errors: no or several source objects, a missing source field, a target field that does
/// not exist (without `create`), an out-of-range index; [`ErrorKind::TooLarge`] at the
/// replacement when the objects would outgrow the budget.
///
/// [`ErrorKind::TooLarge`]: super::error::ErrorKind::TooLarge
pub fn apply(m: &mut ResMap, replacements: &[ReplacementArgs], limit: u64) -> Result<()> {
    let mut budget = Budget::of_map(m, limit);
    for r in replacements {
        let src: Vec<usize> = (0..m.list().len())
            .filter(|i| {
                ids(&m.list()[*i])
                    .iter()
                    .any(|id| selected_by(id, &r.source))
            })
            .collect();
        let idx = match src.as_slice() {
            [one] => *one,
            [] => {
                let sel = super::resid::ResId {
                    gvk: r.source.gvk.clone(),
                    name: r.source.name.clone(),
                    namespace: r.source.namespace.clone(),
                };
                return Err(KustomizeError::invalid(
                    format!("nothing selected by the replacement source {sel}"),
                    Some(&r.origin),
                ));
            }
            _ => {
                return Err(KustomizeError::invalid(
                    "more than one match for the replacement source",
                    Some(&r.origin),
                ))
            }
        };
        let path = split_path(&r.field_path);
        let found = lookup(&m.list()[idx].node, &path)
            .filter(|n| !is_null(n) && !super::nodeutil::is_empty_map(n))
            .ok_or_else(|| {
                KustomizeError::invalid(
                    format!(
                        "fieldPath `{}` is missing for replacement source",
                        r.field_path
                    ),
                    Some(&r.origin),
                )
            })?;
        let mut value = refine(found, &r.source_options, &r.origin)?;
        value.origin = value
            .origin
            .clone()
            .with_via(format!("replacement ({}:{})", r.origin.file, r.origin.line));
        let cost = Cost {
            bytes: node_size(&value),
            origin: &r.origin,
        };
        for t in &r.targets {
            apply_target(m, &value, t, &mut budget, &cost)?;
        }
    }
    Ok(())
}

/// What setting one target field costs, and the replacement to blame.
struct Cost<'a> {
    bytes: u64,
    origin: &'a Origin,
}

fn apply_target(
    m: &mut ResMap,
    value: &Node,
    t: &TargetArgs,
    budget: &mut Budget,
    cost: &Cost,
) -> Result<()> {
    let what = "replacement";
    for res in m.list_mut() {
        if !labels_match(res, &t.select, &t.origin)? {
            continue;
        }
        let rid = ids(res);
        if !rid.iter().any(|id| selected_by(id, &t.select)) {
            continue;
        }
        let rejected = t.reject.iter().any(|r| {
            let has_id = !(r.gvk == Gvk::default() && r.name.is_empty() && r.namespace.is_empty());
            has_id && rid.iter().any(|id| selected_by(id, r))
        });
        if rejected {
            continue;
        }
        for fp in &t.field_paths {
            let parts = split_path(&fp.value);
            let mut found = Vec::new();
            let create = t.options.create.then_some(value);
            if create.is_some() {
                budget.charge(cost.bytes, what, cost.origin)?;
            }
            matches(&mut res.node, &parts, create, &mut found)?;
            if found.is_empty() {
                return Err(KustomizeError::invalid(
                    format!(
                        "unable to find field \"{}\" in replacement target",
                        fp.value
                    ),
                    Some(&fp.origin),
                ));
            }
            for f in found {
                budget.charge(cost.bytes, what, cost.origin)?;
                set_value(f, value, &t.options, &fp.origin)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Spanned;
    use driftlint_yaml::parse_documents;

    #[test]
    fn splits_paths_like_kyaml() {
        assert_eq!(
            split_path(".metadata.annotations.[cert-manager.io/inject-ca-from]"),
            vec!["metadata", "annotations", "cert-manager.io/inject-ca-from"]
        );
        assert_eq!(
            split_path("spec.containers.[name=a.b].image"),
            vec!["spec", "containers", "[name=a.b]", "image"]
        );
    }

    fn map(src: &str) -> ResMap {
        let mut m = ResMap::default();
        for d in parse_documents("r.yaml".into(), src).expect("parses") {
            m.append(Resource::new(d), None).expect("unique");
        }
        m
    }

    fn o() -> Origin {
        Origin::new("k.yaml".into(), 3, 1)
    }

    fn sel(kind: &str, name: &str) -> IdSelector {
        IdSelector {
            gvk: Gvk {
                kind: kind.into(),
                ..Gvk::default()
            },
            name: name.into(),
            ..IdSelector::default()
        }
    }

    #[test]
    fn copies_with_delimiters_and_creation() {
        let mut m = map(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n  namespace: sys\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  port: \"1\"\n",
        );
        let target = |delim: &str, index: i64| TargetArgs {
            select: sel("ConfigMap", ""),
            reject: vec![],
            field_paths: vec![Spanned::new("metadata.annotations.[a.io/ref]".into(), o())],
            options: FieldOptions {
                delimiter: delim.into(),
                index,
                create: true,
            },
            origin: o(),
        };
        let r = |path: &str, index: i64| ReplacementArgs {
            source: sel("Service", "svc"),
            field_path: path.into(),
            source_options: FieldOptions::default(),
            targets: vec![target("/", index)],
            origin: o(),
        };
        apply(
            &mut m,
            &[r("metadata.namespace", 0), r("metadata.name", 1)],
            u64::MAX,
        )
        .expect("applies");
        let c = m.list()[1].node.to_json();
        assert_eq!(c["metadata"]["annotations"]["a.io/ref"], "sys/svc");
        let missing = ReplacementArgs {
            source: sel("Service", "svc"),
            field_path: "spec.nope".into(),
            source_options: FieldOptions::default(),
            targets: vec![],
            origin: o(),
        };
        assert!(apply(&mut m, &[missing], u64::MAX).is_err());
    }
}
