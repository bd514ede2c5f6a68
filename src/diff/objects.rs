//! Pairing the objects of one apply unit across two renderings and diffing each pair.
//!
//! Objects pair by API group (the part of `apiVersion` before `/`, so a version bump is a
//! change), kind, namespace and name; then the ConfigMaps and Secrets left over pair by their
//! name without kustomize's generated hash suffix (`-` and 10 characters of
//! `[a-z0-9]`, kustomize's `api/hasher`), so a changed generated ConfigMap shows as one
//! change. Each pair is printed as `kubectl kustomize` prints it (Secret `data` and
//! `stringData` values replaced by `sha256:<12 hex>`) and diffed line by line (Myers, 3
//! lines of context, at most [`DIFF_TIMEOUT`] per object). The lines a change adds carry the
//! origin of the scalar printed on them: the file and line in the new tree that set it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};
use similar::{DiffTag, TextDiff};

use driftlint_yaml::{emit_documents, emit_documents_with_origins, Node};

/// The longest time spent diffing one object (then the diff is coarser, never wrong).
pub const DIFF_TIMEOUT: Duration = Duration::from_millis(500);
/// At most this many distinct origins are kept per changed object.
pub const MAX_ORIGINS: usize = 8;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only in the new tree.
    Added,
    /// Only in the base.
    Removed,
    /// In both, rendered differently.
    Changed,
}

/// One object that differs between the base and the new tree.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectDiff {
    /// Added, removed or changed.
    pub change: Change,
    /// `apiVersion` (the new one, unless removed).
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.namespace`, when set.
    pub namespace: Option<String>,
    /// `metadata.name` (the new one, unless removed).
    pub name: String,
    /// The base's name when it differs (a generated name with another hash suffix).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_name: Option<String>,
    /// Unified diff of the rendered YAML (`--- base`/`+++ new` headers, 3 lines of context).
    pub diff: String,
    /// Lines added and removed.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
    /// Where the added lines come from in the new tree: `file:line`, then the transformation
    /// in parentheses when one set the value; distinct, in diff order, at most [`MAX_ORIGINS`].
    pub origins: Vec<String>,
}

impl ObjectDiff {
    /// A core `v1` Secret (its values are shown as hashes).
    pub fn is_secret(&self) -> bool {
        self.api_version == "v1" && self.kind == "Secret"
    }

    /// `apps/v1 Deployment web -n prod`-style one-line name: `Kind namespace/name`.
    pub fn title(&self) -> String {
        let ns = self
            .namespace
            .as_deref()
            .map(|n| format!("{n}/"))
            .unwrap_or_default();
        match &self.old_name {
            Some(old) => format!("{} {ns}{old} → {}", self.kind, self.name),
            None => format!("{} {ns}{}", self.kind, self.name),
        }
    }
}

/// The identity objects pair by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    group: String,
    kind: String,
    namespace: String,
    name: String,
}

fn key(obj: &Node) -> Key {
    let api = obj.str_at(&["apiVersion"]).unwrap_or("");
    let group = api.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    Key {
        group: group.to_string(),
        kind: obj.str_at(&["kind"]).unwrap_or("").to_string(),
        namespace: obj
            .str_at(&["metadata", "namespace"])
            .unwrap_or("")
            .to_string(),
        name: obj.str_at(&["metadata", "name"]).unwrap_or("").to_string(),
    }
}

/// `name` without a kustomize hash suffix (`-` and 10 of `[a-z0-9]`) on a ConfigMap or Secret.
fn generated_base(k: &Key) -> Option<Key> {
    if !(k.group.is_empty() && matches!(k.kind.as_str(), "ConfigMap" | "Secret")) {
        return None;
    }
    let (stem, suffix) = k.name.rsplit_once('-')?;
    let hashed = suffix.len() == 10
        && suffix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !stem.is_empty();
    hashed.then(|| Key {
        name: stem.to_string(),
        ..k.clone()
    })
}

/// The differing objects of one unit, in key order; the second value counts the unchanged.
pub fn diff_objects(base: &[Node], new: &[Node]) -> (Vec<ObjectDiff>, usize) {
    let mut old: BTreeMap<Key, &Node> = base.iter().map(|o| (key(o), o)).collect();
    let mut pairs: Vec<(Option<&Node>, Option<&Node>)> = Vec::new();
    let mut unmatched_new = Vec::new();
    for o in new {
        match old.remove(&key(o)) {
            Some(b) => pairs.push((Some(b), Some(o))),
            None => unmatched_new.push(o),
        }
    }
    let mut by_stem: BTreeMap<Key, Vec<Key>> = BTreeMap::new();
    for k in old.keys() {
        if let Some(stem) = generated_base(k) {
            by_stem.entry(stem).or_default().push(k.clone());
        }
    }
    for o in unmatched_new {
        let stem = generated_base(&key(o));
        let found = stem
            .and_then(|s| by_stem.get_mut(&s))
            .and_then(|ks| (!ks.is_empty()).then(|| ks.remove(0)));
        match found.and_then(|k| old.remove(&k)) {
            Some(b) => pairs.push((Some(b), Some(o))),
            None => pairs.push((None, Some(o))),
        }
    }
    pairs.extend(old.into_values().map(|b| (Some(b), None)));
    let mut unchanged = 0;
    let mut out = Vec::new();
    for (b, n) in pairs {
        match diff_pair(b, n) {
            Some(d) => out.push(d),
            None => unchanged += 1,
        }
    }
    out.sort_by(|a, b| {
        (&a.kind, &a.namespace, &a.name, &a.api_version).cmp(&(
            &b.kind,
            &b.namespace,
            &b.name,
            &b.api_version,
        ))
    });
    (out, unchanged)
}

/// The diff of one pair; `None` when both print the same.
fn diff_pair(base: Option<&Node>, new: Option<&Node>) -> Option<ObjectDiff> {
    // Equal trees (values and origins) print the same: most objects of a change.
    if base.is_some() && base == new {
        return None;
    }
    let b = base.map(masked);
    let n = new.map(masked);
    let old_text = b
        .as_deref()
        .map(|o| emit_documents([o]))
        .unwrap_or_default();
    let new_text = n
        .as_deref()
        .map(|o| emit_documents([o]))
        .unwrap_or_default();
    if base.is_some() && new.is_some() && old_text == new_text {
        return None;
    }
    let with_origins = n
        .as_ref()
        .map(|o| emit_documents_with_origins([o.as_ref()]))
        .unwrap_or_default();
    let line_origins = line_origins(&new_text, &with_origins);
    let diff = TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_lines(old_text.as_str(), new_text.as_str());
    let (mut added, mut removed) = (0, 0);
    let mut origins: Vec<String> = Vec::new();
    for op in diff.ops() {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        if tag == DiffTag::Equal {
            continue;
        }
        removed += old_range.len();
        added += new_range.len();
        // An added object comes from where it starts; its other lines add nothing.
        let lines = match base {
            None => new_range.start..new_range.start + 1,
            Some(_) => new_range,
        };
        for o in origins_of(&line_origins, lines) {
            if origins.len() < MAX_ORIGINS && !origins.contains(&o) {
                origins.push(o);
            }
        }
    }
    let shown = n.as_deref().or(b.as_deref())?;
    let k = key(shown);
    let old_name = match (&b, &n) {
        (Some(b), Some(_)) if key(b).name != k.name => Some(key(b).name),
        _ => None,
    };
    Some(ObjectDiff {
        change: match (base, new) {
            (Some(_), Some(_)) => Change::Changed,
            (None, _) => Change::Added,
            (_, None) => Change::Removed,
        },
        api_version: shown.str_at(&["apiVersion"]).unwrap_or("").to_string(),
        kind: k.kind,
        namespace: (!k.namespace.is_empty()).then_some(k.namespace),
        name: k.name,
        old_name,
        diff: diff
            .unified_diff()
            .context_radius(3)
            .header("base", "new")
            .to_string(),
        added,
        removed,
        origins,
    })
}

/// The origins of the lines in `range` (new-side line indexes): each line's own origin
/// comment; when none of them has one (a key whose value is a block), the nearest origin
/// above the range.
fn origins_of(lines: &[Option<String>], range: std::ops::Range<usize>) -> Vec<String> {
    let own: Vec<String> = lines
        .get(range.clone())
        .unwrap_or(&[])
        .iter()
        .flatten()
        .cloned()
        .collect();
    if !own.is_empty() || range.is_empty() {
        return own;
    }
    lines[..range.start.min(lines.len())]
        .iter()
        .rev()
        .flatten()
        .next()
        .cloned()
        .into_iter()
        .collect()
}

/// For each line of `plain`, the origin its counterpart in `with_origins` (the same text
/// with trailing ` # file:line:column (via)` comments) names, as `file:line (via)`; a line
/// of a literal block takes its header's.
fn line_origins(plain: &str, with_origins: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut block: Option<(usize, String)> = None;
    for (p, w) in plain.lines().zip(with_origins.lines()) {
        let indent = p.len() - p.trim_start().len();
        let own = w
            .strip_prefix(p)
            .and_then(|rest| rest.strip_prefix(" # "))
            .map(short_origin);
        if block.as_ref().is_some_and(|(i, _)| indent <= *i) {
            block = None;
        }
        let origin = own
            .clone()
            .or_else(|| block.as_ref().map(|(_, o)| o.clone()));
        if let Some(o) = own.filter(|_| p.ends_with('|') || p.ends_with("|-")) {
            block = Some((indent, o));
        }
        out.push(origin);
    }
    out
}

/// `file:line:column (via)` → `file:line (via)`.
fn short_origin(comment: &str) -> String {
    let (loc, via) = match comment.find(" (") {
        Some(i) => comment.split_at(i),
        None => (comment, ""),
    };
    let loc = match loc.rsplit_once(':') {
        Some((head, col)) if col.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => loc,
    };
    format!("{loc}{via}")
}

/// A copy of `obj` whose Secret values (`data`, `stringData`) are `sha256:<12 hex>` of the
/// value, so a diff shows that a value changed but never the value.
fn masked(obj: &Node) -> Cow<'_, Node> {
    let is_secret =
        obj.str_at(&["apiVersion"]) == Some("v1") && obj.str_at(&["kind"]) == Some("Secret");
    if !is_secret {
        return Cow::Borrowed(obj);
    }
    let mut o = obj.clone();
    for field in ["data", "stringData"] {
        if let Some(map) = o.get_mut(field).and_then(Node::as_map_mut) {
            for (_, v) in map.iter_mut() {
                let text = v.as_scalar().map(|s| s.text.clone()).unwrap_or_default();
                *v = Node::string(hash(&text), v.origin.clone());
            }
        }
    }
    Cow::Owned(o)
}

/// `sha256:` and the first 12 hex digits of the SHA-256 of `value`, as drift reports show
/// sensitive values.
pub fn hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    format!("sha256:{}", &data_encoding::HEXLOWER.encode(&digest)[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(src: &str) -> Vec<Node> {
        driftlint_yaml::parse_documents("t.yaml".into(), src).expect("parses")
    }

    #[test]
    fn a_changed_image_is_one_change_with_its_origin() {
        let base = docs("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  image: nginx:1.0\n");
        let new = docs("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  image: nginx:1.1\n");
        let (diffs, unchanged) = diff_objects(&base, &new);
        assert_eq!(unchanged, 0);
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].change, Change::Changed);
        assert_eq!(diffs[0].origins, ["t.yaml:6"]);
        assert!(diffs[0]
            .diff
            .contains("-  image: nginx:1.0\n+  image: nginx:1.1\n"));
    }

    #[test]
    fn generated_names_pair_across_sides() {
        let base = docs("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-5t2hk8bm8g\ndata:\n  a: \"1\"\n");
        let new = docs("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-7f9c6tb48m\ndata:\n  a: \"2\"\n");
        let (diffs, _) = diff_objects(&base, &new);
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].old_name.as_deref(), Some("cfg-5t2hk8bm8g"));
        assert_eq!(
            diffs[0].title(),
            "ConfigMap cfg-5t2hk8bm8g → cfg-7f9c6tb48m"
        );
    }

    #[test]
    fn secret_values_are_hashes() {
        let base = docs("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: hunter2\n");
        let new = docs("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: hunter3\n");
        let (diffs, _) = diff_objects(&base, &new);
        assert!(!diffs[0].diff.contains("hunter"), "{}", diffs[0].diff);
        assert!(diffs[0].diff.contains(&hash("hunter3")));
    }

    #[test]
    fn added_and_removed_objects() {
        let base = docs("apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n");
        let new = docs("apiVersion: v1\nkind: Service\nmetadata:\n  name: b\n");
        let (diffs, _) = diff_objects(&base, &new);
        let changes: Vec<_> = diffs.iter().map(|d| (d.change, d.name.as_str())).collect();
        assert_eq!(changes, [(Change::Removed, "a"), (Change::Added, "b")]);
    }

    #[test]
    fn origin_comments_shorten() {
        assert_eq!(
            short_origin("a/b.yaml:3:7 (images transformer)"),
            "a/b.yaml:3 (images transformer)"
        );
        assert_eq!(short_origin("a.yaml:3:7"), "a.yaml:3");
    }
}
