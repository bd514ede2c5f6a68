//! `vars:` (deprecated in kustomize, still honoured): `$(NAME)` references in the fields of
//! kustomize's `varReference` configuration are replaced, at the end of the build, by a
//! field of the object the var names (api/filters/refvar, Kubernetes' `$(VAR)` expansion:
//! `$$` escapes, unknown names stay as written, a field that is exactly `$(NAME)` takes the
//! value with its type).

use std::collections::{BTreeMap, BTreeSet};

use driftlint_yaml::{Node, Origin, Resolved, Schema, Value};

use super::budget::{node_size, Budget};
use super::error::{KustomizeError, Result};
use super::fieldspec::{self, Create, FieldSpec};
use super::resmap::ResMap;

/// The value of a field path (`spec.ports[0].port`), typed.
fn field_value<'a>(n: &'a Node, path: &str) -> Option<&'a Node> {
    let mut parts = Vec::new();
    for p in path.split('.') {
        match p.split_once('[') {
            Some((name, idx)) => {
                if !name.is_empty() {
                    parts.push(name.to_string());
                }
                parts.push(idx.trim_end_matches(']').to_string());
            }
            None => parts.push(p.to_string()),
        }
    }
    parts.iter().try_fold(n, |cur, p| match &cur.value {
        Value::Map(m) => m.get(p),
        Value::Seq(items) => p.parse::<usize>().ok().and_then(|i| items.get(i)),
        Value::Scalar(_) => None,
    })
}

/// The replacement map: var name -> the referenced field's node.
fn values(m: &ResMap) -> Result<BTreeMap<String, Node>> {
    let mut out = BTreeMap::new();
    for v in &m.vars {
        let hits = m.matching_any_id(|id| id.gvk == v.gvk && id.name == v.obj_name);
        let i = match hits.as_slice() {
            [one] => *one,
            [] => {
                return Err(KustomizeError::invalid(
                    format!(
                        "var '{}' cannot be mapped to a field in the set of known resources",
                        v.name
                    ),
                    Some(&v.origin),
                ))
            }
            _ => {
                return Err(KustomizeError::invalid(
                    format!(
                        "found {} resId matches for var {} (unable to disambiguate)",
                        hits.len(),
                        v.name
                    ),
                    Some(&v.origin),
                ))
            }
        };
        let node = field_value(&m.list()[i].node, &v.field_path).ok_or_else(|| {
            KustomizeError::invalid(
                format!(
                    "field specified in var '{}' not found in corresponding resource",
                    v.name
                ),
                Some(&v.origin),
            )
        })?;
        let mut node = node.clone();
        node.origin = node.origin.with_via(format!("var {}", v.name));
        out.insert(v.name.clone(), node);
    }
    Ok(out)
}

/// The text a var contributes inside a larger string.
fn as_text(n: &Node) -> String {
    match n.resolve_with(Schema::KYaml) {
        Some(Resolved::Null) => String::new(),
        Some(_) => n.as_scalar().map(|s| s.text.clone()).unwrap_or_default(),
        None => n.to_json_with(Schema::KYaml).to_string(),
    }
}

/// Kubernetes `$(VAR)` expansion. Returns the replacement node when anything changed.
///
/// Errors: the expansion would outgrow `budget` (charged with what each reference adds).
fn expand(
    s: &str,
    vars: &BTreeMap<String, Node>,
    used: &mut BTreeSet<String>,
    at: &Origin,
    budget: &mut Budget,
) -> Result<Option<Node>> {
    if let Some(name) = s.strip_prefix("$(").and_then(|r| r.strip_suffix(')')) {
        if !name.contains(')') {
            if let Some(v) = vars.get(name) {
                used.insert(name.to_string());
                budget.charge(node_size(v), "vars", at)?;
                return Ok(Some(v.clone()));
            }
        }
    }
    let mut out = String::new();
    let mut changed = false;
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            changed = true;
            rest = r;
        } else if let Some(r) = after.strip_prefix('(') {
            match r.find(')') {
                Some(end) => {
                    let name = &r[..end];
                    match vars.get(name) {
                        Some(v) => {
                            used.insert(name.to_string());
                            let text = as_text(v);
                            budget.charge(text.len() as u64, "vars", at)?;
                            out.push_str(&text);
                            changed = true;
                        }
                        None => {
                            out.push_str("$(");
                            out.push_str(name);
                            out.push(')');
                        }
                    }
                    rest = &r[end + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = r;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(changed.then(|| Node::string(out, at.clone().with_via("vars"))))
}

fn is_string(n: &Node) -> bool {
    matches!(n.resolve_with(Schema::KYaml), Some(Resolved::Str(_)))
}

fn set(
    n: &mut Node,
    vars: &BTreeMap<String, Node>,
    used: &mut BTreeSet<String>,
    budget: &mut Budget,
) -> Result<()> {
    if is_string(n) {
        let text = n.as_scalar().map(|s| s.text.clone()).unwrap_or_default();
        if let Some(new) = expand(&text, vars, used, &n.origin, budget)? {
            *n = new;
        }
        return Ok(());
    }
    match &mut n.value {
        Value::Scalar(_) => {}
        Value::Seq(items) => {
            for i in items.iter_mut() {
                set(i, vars, used, budget)?;
            }
        }
        Value::Map(m) => {
            for (_, v) in m.iter_mut() {
                if v.as_scalar().is_some() {
                    set(v, vars, used, budget)?;
                }
            }
        }
    }
    Ok(())
}

/// Resolves every var in `m` (kustomize `ResolveVars`). Returns the names of vars that no
/// field referenced.
///
/// Errors: a var whose object or field does not exist, or that matches several objects.
pub fn resolve(m: &mut ResMap, specs: &[FieldSpec], limit: u64) -> Result<Vec<String>> {
    let vars = values(m)?;
    if vars.is_empty() {
        return Ok(Vec::new());
    }
    let mut budget = Budget::of_map(m, limit);
    let mut used = BTreeSet::new();
    for res in m.list_mut() {
        let origin = res.node.origin.clone();
        for fs in specs {
            fieldspec::apply(
                &mut res.node,
                fs,
                Create::Nothing,
                &origin,
                &mut |n: &mut Node| set(n, &vars, &mut used, &mut budget),
            )?;
        }
    }
    Ok(vars
        .keys()
        .filter(|k| !used.contains(*k))
        .cloned()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, Node> {
        let o = Origin::new("s.yaml".into(), 1, 1);
        let mut m = BTreeMap::new();
        m.insert("SVC".to_string(), Node::string("p-svc", o.clone()));
        m.insert("PORT".to_string(), Node::int(80, o));
        m
    }

    fn ex(s: &str) -> Option<serde_json::Value> {
        let mut used = BTreeSet::new();
        let mut budget = Budget::new(0, u64::MAX);
        let at = Origin::new("r".into(), 1, 1);
        expand(s, &vars(), &mut used, &at, &mut budget)
            .expect("within the budget")
            .map(|n| n.to_json())
    }

    #[test]
    fn expansion_follows_kubernetes() {
        assert_eq!(ex("$(SVC)"), Some(serde_json::json!("p-svc")));
        assert_eq!(ex("$(PORT)"), Some(serde_json::json!(80)));
        assert_eq!(ex("a-$(PORT)-b"), Some(serde_json::json!("a-80-b")));
        assert_eq!(ex("$$(SVC)"), Some(serde_json::json!("$(SVC)")));
        assert_eq!(ex("$(UNKNOWN)"), None);
        assert_eq!(ex("plain"), None);
        assert_eq!(ex("$(open"), None);
    }

    #[test]
    fn field_paths_index_lists() {
        let d = driftlint_yaml::parse_documents("r".into(), "spec:\n  ports:\n  - port: 80\n")
            .expect("parses")
            .remove(0);
        assert_eq!(
            field_value(&d, "spec.ports[0].port").map(Node::to_json),
            Some(serde_json::json!(80))
        );
        assert!(field_value(&d, "spec.ports[1].port").is_none());
    }
}
