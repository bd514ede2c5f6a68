//! The span-aware YAML tree: every node carries the [`Origin`] it came from.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// Where a value came from: a repo-relative file, a 1-based line and column, and optionally
/// the transformation that last set it (`"patch overlays/prod/patch.yaml"`,
/// `"images transformer"`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Origin {
    /// Repo-relative path with `/` separators (or a pseudo name such as `<generated>`).
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// The transformation that last set the value, when it was not the file itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<Arc<str>>,
}

impl Origin {
    /// An origin at `file:line:column` with no transformation note.
    pub fn new(file: Arc<str>, line: u32, column: u32) -> Self {
        Origin {
            file,
            line,
            column,
            via: None,
        }
    }

    /// The same position, noting the transformation `via` that set the value.
    pub fn with_via(mut self, via: impl Into<Arc<str>>) -> Self {
        self.via = Some(via.into());
        self
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// How a scalar was written in the source (or should be written, for constructed values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarStyle {
    /// Unquoted; its type is resolved from its text.
    Plain,
    /// `'single quoted'`: always a string.
    SingleQuoted,
    /// `"double quoted"`: always a string.
    DoubleQuoted,
    /// `|` block: always a string.
    Literal,
    /// `>` block: always a string.
    Folded,
}

/// A scalar: its text after escape processing, its style, and an explicit tag if one was
/// written (`!!str`, `!!int`, or a local tag such as `!Ref`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scalar {
    /// The scalar's content after YAML escape processing.
    pub text: String,
    /// The source style; only `Plain` scalars are type-resolved.
    pub style: ScalarStyle,
    /// The explicit tag, in short form for core tags (`!!str`) or as written otherwise.
    pub tag: Option<Box<str>>,
}

/// Mappings with more entries than this get a hash index for key lookups (built on the
/// first lookup, kept in sync by appends); smaller ones are scanned, which is faster for the
/// handful of keys most Kubernetes maps have.
pub const MAPPING_INDEX_THRESHOLD: usize = 16;

/// An ordered YAML mapping. Keys are nodes (scalars in practice) so that their origin is kept.
///
/// Lookups by key are O(1) on average: above `MAPPING_INDEX_THRESHOLD` entries a hash index
/// from scalar key text to the first entry with that key is built lazily and kept in sync by
/// [`Mapping::push`] and [`Mapping::insert`]; raw mutable access ([`Mapping::entries_mut`]),
/// [`Mapping::remove`] and [`Mapping::retain`] drop it (it is rebuilt on the next lookup).
#[derive(Clone, Default)]
pub struct Mapping {
    // The index is boxed so that a `Mapping` (and so every `Node`) stays small.
    entries: Vec<(Node, Node)>,
    index: OnceLock<Box<KeyIndex>>,
}

/// Scalar key text -> position of the first entry with that key.
type KeyIndex = HashMap<Box<str>, usize>;

impl PartialEq for Mapping {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl fmt::Debug for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mapping")
            .field("entries", &self.entries)
            .finish()
    }
}

/// The value of a [`Node`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A scalar, typed on demand by [`Node::resolve`].
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Mapping),
}

/// A YAML node with the origin of its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The node's value.
    pub value: Value,
    /// Where the value came from.
    pub origin: Origin,
}

impl Mapping {
    /// An empty mapping.
    pub fn new() -> Self {
        Mapping::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the mapping has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Node, &Node)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The entries in order, values mutable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Node, &mut Node)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// Raw access to the entries.
    pub fn entries(&self) -> &[(Node, Node)] {
        &self.entries
    }

    /// Mutable raw access to the entries (for reordering or key rewrites); drops the key
    /// index.
    pub fn entries_mut(&mut self) -> &mut Vec<(Node, Node)> {
        self.index.take();
        &mut self.entries
    }

    /// The keys as strings, in order (non-scalar keys are skipped).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter_map(|(k, _)| k.as_scalar().map(|s| s.text.as_str()))
    }

    fn position(&self, key: &str) -> Option<usize> {
        if self.entries.len() <= MAPPING_INDEX_THRESHOLD && self.index.get().is_none() {
            return self
                .entries
                .iter()
                .position(|(k, _)| k.as_scalar().is_some_and(|s| s.text == key));
        }
        self.index
            .get_or_init(|| {
                let mut index = HashMap::with_capacity(self.entries.len());
                for (i, (k, _)) in self.entries.iter().enumerate() {
                    if let Some(s) = k.as_scalar() {
                        index.entry(s.text.as_str().into()).or_insert(i);
                    }
                }
                Box::new(index)
            })
            .get(key)
            .copied()
    }

    /// Records a just-appended entry at `i` in the index, when one is built.
    fn index_appended(&mut self, i: usize) {
        if let (Some(index), Some(s)) = (self.index.get_mut(), self.entries[i].0.as_scalar()) {
            index.entry(s.text.as_str().into()).or_insert(i);
        }
    }

    /// The value for `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    /// The key node and value for `key`, if present.
    pub fn get_entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.position(key)
            .map(|i| (&self.entries[i].0, &self.entries[i].1))
    }

    /// The value for `key`, mutable.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.position(key).map(move |i| &mut self.entries[i].1)
    }

    /// True when `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key` to `value`: replaces the value in place (keeping the key's position and
    /// origin) or appends a new entry whose key carries the value's origin.
    pub fn insert(&mut self, key: &str, value: Node) {
        match self.position(key) {
            Some(i) => self.entries[i].1 = value,
            None => {
                let k = Node::string(key, value.origin.clone());
                self.push(k, value);
            }
        }
    }

    /// Appends an entry with an explicit key node (no duplicate check; lookups find the
    /// first entry of a key).
    pub fn push(&mut self, key: Node, value: Node) {
        self.entries.push((key, value));
        self.index_appended(self.entries.len() - 1);
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        let i = self.position(key)?;
        self.index.take();
        Some(self.entries.remove(i).1)
    }

    /// Keeps only the entries for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Node, &Node) -> bool) {
        self.index.take();
        self.entries.retain(|(k, v)| keep(k, v));
    }
}

impl Node {
    /// A node with `value` at `origin`.
    pub fn new(value: Value, origin: Origin) -> Self {
        Node { value, origin }
    }

    /// A plain scalar whose text is written as-is and typed on demand (`"3"` is an int).
    pub fn plain(text: impl Into<String>, origin: Origin) -> Self {
        Node::scalar(text.into(), ScalarStyle::Plain, None, origin)
    }

    /// A string value, whatever its text looks like (`"3"` stays the string "3").
    pub fn string(text: impl Into<String>, origin: Origin) -> Self {
        Node::scalar(
            text.into(),
            ScalarStyle::Plain,
            Some("!!str".into()),
            origin,
        )
    }

    /// A null value.
    pub fn null(origin: Origin) -> Self {
        Node::plain("null", origin)
    }

    /// An integer value.
    pub fn int(n: i64, origin: Origin) -> Self {
        Node::plain(n.to_string(), origin)
    }

    /// A boolean value.
    pub fn bool(b: bool, origin: Origin) -> Self {
        Node::plain(if b { "true" } else { "false" }, origin)
    }

    /// An empty mapping.
    pub fn map(origin: Origin) -> Self {
        Node::new(Value::Map(Mapping::new()), origin)
    }

    /// An empty sequence.
    pub fn seq(origin: Origin) -> Self {
        Node::new(Value::Seq(Vec::new()), origin)
    }

    fn scalar(text: String, style: ScalarStyle, tag: Option<Box<str>>, origin: Origin) -> Self {
        Node::new(Value::Scalar(Scalar { text, style, tag }), origin)
    }

    /// The mapping, if this is one.
    pub fn as_map(&self) -> Option<&Mapping> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The mapping, mutable, if this is one.
    pub fn as_map_mut(&mut self) -> Option<&mut Mapping> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The sequence, if this is one.
    pub fn as_seq(&self) -> Option<&Vec<Node>> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The sequence, mutable, if this is one.
    pub fn as_seq_mut(&mut self) -> Option<&mut Vec<Node>> {
        match &mut self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The scalar, if this is one.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The scalar's text when this node resolves to a string (not null/bool/number).
    pub fn as_str(&self) -> Option<&str> {
        match self.resolve() {
            Some(super::Resolved::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The scalar's text whatever its type (`3`, `true`, `foo`); None for collections and null.
    pub fn scalar_text(&self) -> Option<&str> {
        match self.resolve() {
            Some(super::Resolved::Null) | None => None,
            Some(_) => self.as_scalar().map(|s| s.text.as_str()),
        }
    }

    /// True for a null scalar (`null`, `~`, empty).
    pub fn is_null(&self) -> bool {
        matches!(self.resolve(), Some(super::Resolved::Null))
    }

    /// The value at `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// The value at `key`, mutable, when this is a mapping.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.as_map_mut().and_then(|m| m.get_mut(key))
    }

    /// Follows a path of mapping keys (`["metadata", "name"]`).
    pub fn get_path(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, k| n.get(k))
    }

    /// Follows a path of mapping keys, mutable.
    pub fn get_path_mut(&mut self, path: &[&str]) -> Option<&mut Node> {
        let mut node = self;
        for k in path {
            node = node.get_mut(k)?;
        }
        Some(node)
    }

    /// The string at a path of mapping keys.
    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        self.get_path(path).and_then(Node::as_str)
    }

    /// Sets `origin` on this node and every node below it.
    pub fn set_origin_deep(&mut self, origin: &Origin) {
        self.origin = origin.clone();
        match &mut self.value {
            Value::Scalar(_) => {}
            Value::Seq(items) => items.iter_mut().for_each(|n| n.set_origin_deep(origin)),
            Value::Map(m) => m.entries.iter_mut().for_each(|(k, v)| {
                k.origin = origin.clone();
                v.set_origin_deep(origin);
            }),
        }
    }

    /// Visits this node and every descendant, depth first, with its path from this node
    /// (map keys as strings, sequence indexes as decimal strings).
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&[PathSegment<'a>], &'a Node)) {
        let mut path = Vec::new();
        self.walk_inner(&mut path, f);
    }

    fn walk_inner<'a>(
        &'a self,
        path: &mut Vec<PathSegment<'a>>,
        f: &mut dyn FnMut(&[PathSegment<'a>], &'a Node),
    ) {
        f(path, self);
        match &self.value {
            Value::Scalar(_) => {}
            Value::Seq(items) => {
                for (i, n) in items.iter().enumerate() {
                    path.push(PathSegment::Index(i));
                    n.walk_inner(path, f);
                    path.pop();
                }
            }
            Value::Map(m) => {
                for (k, v) in m.iter() {
                    let key = k.as_scalar().map(|s| s.text.as_str()).unwrap_or("");
                    path.push(PathSegment::Key(key));
                    v.walk_inner(path, f);
                    path.pop();
                }
            }
        }
    }
}

/// One step of a path into a tree: a mapping key or a sequence index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathSegment<'a> {
    /// A mapping key.
    Key(&'a str),
    /// A sequence index.
    Index(usize),
}

/// Renders a path as a JSON pointer (`/spec/containers/0/image`), escaping `~` and `/`.
pub fn json_pointer(path: &[PathSegment<'_>]) -> String {
    let mut out = String::new();
    for seg in path {
        out.push('/');
        match seg {
            PathSegment::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
            PathSegment::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}
