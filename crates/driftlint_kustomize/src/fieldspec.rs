//! Field specs: "which field of which kinds" a transformer touches, and the walk that finds
//! (and optionally creates) those fields, as kustomize's `api/filters/fieldspec`.
//!
//! A path is slash-separated (`spec/template/metadata/labels`, `\/` escapes a slash inside
//! a key). A sequence met on the way is entered element by element without consuming a
//! path part; `name[]` marks a part whose value is a sequence (never created).

use driftlint_yaml::{Node, Origin, Value};

use super::error::{KustomizeError, Result};
use super::nodeutil::{is_null, str_at};
use super::resid::Gvk;

/// One field spec (kustomize `types.FieldSpec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// Which types it applies to; empty parts are wildcards.
    pub gvk: Gvk,
    /// Slash-separated path.
    pub path: String,
    /// Create the field (and missing parents) when absent.
    pub create: bool,
}

impl FieldSpec {
    /// A spec for `kind` (and optionally `group`/`version`) at `path`.
    pub fn new(group: &str, version: &str, kind: &str, path: &str, create: bool) -> Self {
        FieldSpec {
            gvk: Gvk {
                group: group.to_string(),
                version: version.to_string(),
                kind: kind.to_string(),
            },
            path: path.to_string(),
            create,
        }
    }

    /// True when the spec applies to `obj` (kustomize `isMatchGVK`).
    pub fn matches(&self, obj: &Node) -> bool {
        let api_version = str_at(obj, &["apiVersion"]).unwrap_or("");
        let kind = str_at(obj, &["kind"]).unwrap_or("");
        Gvk::from_api_version(api_version, kind).is_selected(&self.gvk)
    }
}

/// One back reference: objects of `target` type are referred to at `referrers`.
#[derive(Clone, Debug)]
pub struct BackRef {
    /// The referred type (empty parts are wildcards).
    pub target: Gvk,
    /// Where referrers hold the name.
    pub referrers: Vec<FieldSpec>,
}

/// What to create at the end of the path when the field is absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Create {
    /// Never create.
    Nothing,
    /// Create an empty mapping (labels, annotations).
    Map,
    /// Create an empty string scalar (namespace).
    Scalar,
}

/// Splits a field-spec path on `/`, honouring `\/` escapes (kustomize `PathSplitter`).
pub fn split_path(path: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                chars.next();
                if let Some(p) = parts.last_mut() {
                    p.push('/');
                }
            }
            '/' => parts.push(String::new()),
            c => {
                if let Some(p) = parts.last_mut() {
                    p.push(c);
                }
            }
        }
    }
    parts
}

/// Applies `set` to every node `fs` designates in `obj` (when `fs` matches its type),
/// creating missing fields as `create` says when `fs.create` is set. Created nodes carry
/// `origin`.
///
/// Errors: the path crosses a non-null scalar (kustomize: "expected sequence or mapping
/// node"), or `set` fails.
pub fn apply(
    obj: &mut Node,
    fs: &FieldSpec,
    create: Create,
    origin: &Origin,
    set: &mut dyn FnMut(&mut Node) -> Result<()>,
) -> Result<()> {
    if !fs.matches(obj) {
        return Ok(());
    }
    let parts = split_path(&fs.path);
    let create = if fs.create { create } else { Create::Nothing };
    walk(obj, &parts, create, origin, set).map_err(|e| e.with_context(&fs.path))
}

fn walk(
    node: &mut Node,
    path: &[String],
    create: Create,
    origin: &Origin,
    set: &mut dyn FnMut(&mut Node) -> Result<()>,
) -> Result<()> {
    let Some((part, rest)) = path.split_first() else {
        return set(node);
    };
    if is_null(node) {
        return Ok(());
    }
    match &mut node.value {
        Value::Seq(items) => {
            for item in items.iter_mut() {
                walk(item, path, create, origin, set)?;
            }
            Ok(())
        }
        Value::Map(m) => {
            let (name, is_seq) = match part.strip_suffix("[]") {
                Some(n) => (n, true),
                None => (part.as_str(), false),
            };
            if name.is_empty() {
                return Err(KustomizeError::invalid(
                    "cannot set or create an empty field name",
                    Some(origin),
                ));
            }
            let creating = create != Create::Nothing && !is_seq;
            let present = m.get(name).is_some();
            if !present {
                if !creating {
                    return Ok(());
                }
                m.insert(name, new_node(rest.is_empty(), create, origin));
            }
            let Some(field) = m.get_mut(name) else {
                return Ok(());
            };
            if creating && is_null(field) {
                *field = new_node(rest.is_empty(), create, origin);
            }
            walk(field, rest, create, origin, set)
        }
        Value::Scalar(_) => Err(KustomizeError::invalid(
            "expected sequence or mapping node",
            Some(&node.origin),
        )),
    }
}

fn new_node(last: bool, create: Create, origin: &Origin) -> Node {
    if last && create == Create::Scalar {
        Node::string("", origin.clone())
    } else {
        Node::map(origin.clone())
    }
}

impl KustomizeError {
    /// Prefixes an `Invalid` message with the field-spec path being walked.
    pub fn with_context(mut self, path: &str) -> Self {
        if let super::error::ErrorKind::Invalid { message } = &mut self.kind {
            *message = format!("{message} (field path {path})");
        }
        self
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

    fn o() -> Origin {
        Origin::new("k.yaml".into(), 1, 1)
    }

    #[test]
    fn splits_escaped_slashes() {
        assert_eq!(
            split_path("metadata/annotations/a.io\\/b"),
            vec!["metadata", "annotations", "a.io/b"]
        );
    }

    #[test]
    fn enters_sequences_and_creates_maps() {
        let mut d = doc(
            "apiVersion: apps/v1\nkind: StatefulSet\nspec:\n  volumeClaimTemplates:\n  - metadata: {}\n  - spec: {}\n",
        );
        let fs = FieldSpec::new(
            "apps",
            "",
            "StatefulSet",
            "spec/volumeClaimTemplates[]/metadata/labels",
            true,
        );
        let mut n = 0;
        apply(&mut d, &fs, Create::Map, &o(), &mut |node| {
            n += 1;
            assert!(node.as_map().is_some());
            Ok(())
        })
        .expect("applies");
        assert_eq!(n, 2);
    }

    #[test]
    fn skips_other_kinds_and_missing_fields() {
        let mut d = doc("apiVersion: v1\nkind: Service\nspec: {}\n");
        let fs = FieldSpec::new("", "", "Deployment", "spec/selector", true);
        apply(&mut d, &fs, Create::Map, &o(), &mut |_| {
            panic!("not a Deployment")
        })
        .expect("ok");
        let fs = FieldSpec::new("", "", "", "spec/template/metadata/labels", false);
        apply(&mut d, &fs, Create::Map, &o(), &mut |_| panic!("absent")).expect("ok");
    }

    #[test]
    fn scalars_on_the_path_are_errors() {
        let mut d = doc("apiVersion: v1\nkind: X\nspec: text\n");
        let fs = FieldSpec::new("", "", "", "spec/template/labels", true);
        assert!(apply(&mut d, &fs, Create::Map, &o(), &mut |_| Ok(())).is_err());
    }
}
