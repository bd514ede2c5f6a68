//! kustomize's ValueAddTransformer (api/internal/builtins/ValueAddTransformer.go, the
//! `valueadd` filter in api/filters/valueadd): puts one value at a field path of the selected
//! objects, as a `transformers:` entry.
//!
//! As kustomize v5.7.1: `value` is trimmed, and defaults to the kustomization directory's
//! base name; `targets` (plus those of the `targetFilePath` file) must not be empty; each
//! target's `fieldPath` is `/`-separated (`\/` escapes a slash in a key), missing maps on the
//! way are created; with `filePathPosition` N > 0 the current value is read as a
//! `/`-separated path and the value is inserted as its N-th part (appended past the end),
//! otherwise the value replaces it. `metadata/namespace` is set by the namespace filter
//! (cluster-scoped kinds are left alone, `default` binding subjects follow).

use std::path::Path;

use driftlint_yaml::{Node, Origin, Resolved, Schema};

use super::decode::Spanned;
use super::error::{KustomizeError, Result};
use super::kustfile::SelectorArgs;
use super::resmap::ResMap;
use super::selector::Selector;

/// One target: where the value goes.
#[derive(Clone, Debug)]
pub struct ValueAddTarget {
    /// `selector` (None: every object).
    pub selector: Option<SelectorArgs>,
    /// `fieldPath`.
    pub field_path: String,
    /// `filePathPosition` (0: replace the value).
    pub position: i64,
}

/// A configured ValueAddTransformer.
#[derive(Clone, Debug)]
pub struct ValueAddArgs {
    /// `value`, trimmed (empty: the kustomization directory's base name).
    pub value: Spanned<String>,
    /// The targets, `targets` then those of `targetFilePath`.
    pub targets: Vec<ValueAddTarget>,
}

/// Checks a configuration as kustomize's `Config` does.
///
/// Errors: no target, an empty `fieldPath`, a negative `filePathPosition` (`Invalid`).
pub fn validate(args: &ValueAddArgs, origin: &Origin) -> Result<()> {
    if args.targets.is_empty() {
        return Err(KustomizeError::invalid(
            "ValueAddTransformer: must specify at least one target",
            Some(origin),
        ));
    }
    for t in &args.targets {
        if t.field_path.is_empty() {
            return Err(KustomizeError::invalid(
                "ValueAddTransformer: fieldPath cannot be empty",
                Some(origin),
            ));
        }
        if t.position < 0 {
            return Err(KustomizeError::invalid(
                format!(
                    "ValueAddTransformer: value of FilePathPosition ({}) cannot be negative",
                    t.position
                ),
                Some(origin),
            ));
        }
    }
    Ok(())
}

/// Applies the transformer to `m`; `dir_name` is the kustomization directory's base name
/// (the default value).
///
/// Errors: invalid selectors; a field path crossing a non-map value.
pub fn apply(m: &mut ResMap, args: &ValueAddArgs, dir_name: &str) -> Result<()> {
    let value = if args.value.value.is_empty() {
        dir_name
    } else {
        args.value.value.as_str()
    };
    let origin = args.value.origin.clone().with_via("ValueAddTransformer");
    for t in &args.targets {
        let hits: Vec<usize> = match &t.selector {
            Some(s) => Selector::compile(s, &args.value.origin)?.select(m),
            None => (0..m.list().len()).collect(),
        };
        if t.field_path == "metadata/namespace" {
            let ns = Spanned::new(value.to_string(), args.value.origin.clone());
            let opts = super::namespace::Options {
                specs: Vec::new(),
                only: Some(hits),
                ..super::namespace::Options::default()
            };
            super::namespace::apply_with(m, &ns, &opts)?;
            continue;
        }
        let fields = split_path(&t.field_path);
        for i in hits {
            let node = &mut m.list_mut()[i].node;
            add(node, &fields, value, t.position, &origin)?;
        }
    }
    Ok(())
}

/// `a/b\/c/d` → `["a", "b/c", "d"]`.
fn split_path(p: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in p.split('/') {
        match out.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('/');
                last.push_str(part);
            }
            _ => out.push(part.to_string()),
        }
    }
    out
}

fn add(node: &mut Node, fields: &[String], value: &str, pos: i64, origin: &Origin) -> Result<()> {
    let Some((last, parents)) = fields.split_last() else {
        return Ok(());
    };
    let mut cur = node;
    for f in parents {
        cur = super::nodeutil::child_map_mut(cur, f, origin).ok_or_else(|| {
            KustomizeError::invalid(
                format!("ValueAddTransformer: {f} is not a map in the field path"),
                Some(origin),
            )
        })?;
    }
    let Some(map) = cur.as_map_mut() else {
        return Ok(());
    };
    let old = map.get(last);
    if old.is_some_and(|o| o.as_scalar().is_none() && !super::nodeutil::is_null(o)) {
        return Err(KustomizeError::invalid(
            format!("ValueAddTransformer: {last} is not a scalar"),
            Some(origin),
        ));
    }
    let old_text = old.and_then(super::nodeutil::scalar_str).unwrap_or("");
    let text = if pos > 0 {
        insert_path_part(old_text, (pos - 1) as usize, value)
    } else {
        value.to_string()
    };
    let was_string =
        old.is_some_and(|o| matches!(o.resolve_with(Schema::KYaml), Some(Resolved::Str(_))));
    let new = if was_string {
        Node::string(text, origin.clone())
    } else {
        Node::plain(text, origin.clone())
    };
    map.insert(last, new);
    Ok(())
}

/// kustomize's `filesys.InsertPathPart`: `part` inserted as the `pos`-th part of the
/// `/`-separated `path` (appended past the end), a leading `/` kept.
fn insert_path_part(path: &str, pos: usize, part: &str) -> String {
    let abs = path.starts_with('/');
    let mut parts: Vec<&str> = path
        .trim_start_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    parts.insert(pos.min(parts.len()), part);
    let joined = parts.join("/");
    if abs {
        format!("/{joined}")
    } else {
        joined
    }
}

/// The base name of the kustomization directory `dir` (repo-relative), else of `root`.
pub fn dir_name(dir: &Path, root: &Path) -> String {
    dir.file_name()
        .or_else(|| root.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_and_insert_as_kustomize() {
        assert_eq!(
            split_path("metadata/annotations/a\\/b"),
            ["metadata", "annotations", "a/b"]
        );
        assert_eq!(insert_path_part("/a/b/c", 1, "42"), "/a/42/b/c");
        assert_eq!(insert_path_part("x/y", 0, "42"), "42/x/y");
        assert_eq!(insert_path_part("", 8, "42"), "42");
    }
}
