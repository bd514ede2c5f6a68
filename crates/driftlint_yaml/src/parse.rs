//! Multi-document YAML parsing into [`Node`] trees with origins, over the `granit-parser`
//! event stream (the parser under serde-saphyr).
//!
//! Semantics mirrored from the Go YAML libraries Kubernetes tools use: anchors and aliases are
//! expanded, merge keys (`<<`) are expanded with the mapping's own keys taking precedence, and a
//! duplicate key is an error (as kustomize's kyaml reports `mapping key "x" already defined`).

use std::collections::HashMap;
use std::sync::Arc;

use granit_parser::{Event, Parser, ScalarStyle as GStyle, ScanError, Span};

use super::node::{Mapping, Node, Origin, Scalar, ScalarStyle, Value};

/// At most this many nodes may be produced by alias expansion in one file (billion laughs).
pub const MAX_ALIAS_NODES: usize = 1_000_000;

/// At most this many levels of nested collections, aliases included: every tree walk in
/// driftlint (clone, drop, emit, JSON conversion) is recursive, so a pull request must not
/// build a tree that reaches the stack's end. The parser refuses more than
/// [`PARSER_NESTING`] flow (`[`, `{`) and as many block levels itself; this bounds trees
/// that aliases stack on one another (`b: &b [[*a]]`, `c: [[*b]]`, ...).
pub const MAX_DEPTH: usize = 1_000;

/// granit-parser's default limit of flow levels, and of block levels.
const PARSER_NESTING: usize = 255;

/// A YAML syntax or structure error at `file:line:column`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct YamlError {
    /// Repo-relative file.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong, in the parser's words.
    pub message: String,
}

/// A `#` comment: its position and text after the `#`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// 1-based line.
    pub line: u32,
    /// 1-based column of the `#`.
    pub column: u32,
    /// Text after `#`.
    pub text: String,
}

/// One parsed file: its documents (empty documents are kept as null nodes) and its comments.
#[derive(Debug, Clone, Default)]
pub struct ParsedFile {
    /// The documents, in order.
    pub documents: Vec<Node>,
    /// Every comment, in order.
    pub comments: Vec<Comment>,
}

/// Parses every document of `src`; `file` names it in origins and errors.
///
/// Errors: a [`YamlError`] for syntax errors, unknown aliases, duplicate keys, merge keys whose
/// value is not a mapping, alias expansion beyond `MAX_ALIAS_NODES` nodes, and nesting
/// deeper than `MAX_DEPTH` levels (at the collection that goes too deep).
pub fn parse_file(file: Arc<str>, src: &str) -> Result<ParsedFile, YamlError> {
    Builder::new(file, src).run()
}

/// Parses `src` and returns its documents (see [`parse_file`]).
pub fn parse_documents(file: Arc<str>, src: &str) -> Result<Vec<Node>, YamlError> {
    parse_file(file, src).map(|p| p.documents)
}

enum Frame {
    Seq(Node),
    Map(Node, Option<Node>, Vec<Node>),
}

struct Builder<'a> {
    file: Arc<str>,
    src: &'a str,
    stack: Vec<(Frame, usize)>,
    /// For each open collection, the height of its tallest finished child.
    heights: Vec<usize>,
    /// Anchored nodes with their heights.
    anchors: HashMap<usize, (Node, usize)>,
    out: ParsedFile,
    alias_nodes: usize,
}

impl<'a> Builder<'a> {
    fn new(file: Arc<str>, src: &'a str) -> Self {
        Builder {
            file,
            src,
            stack: Vec::new(),
            heights: Vec::new(),
            anchors: HashMap::new(),
            out: ParsedFile::default(),
            alias_nodes: 0,
        }
    }

    fn origin(&self, span: &Span) -> Origin {
        Origin::new(
            self.file.clone(),
            span.start.line() as u32,
            span.start.col() as u32 + 1,
        )
    }

    fn error(&self, span: &Span, message: impl Into<String>) -> YamlError {
        YamlError {
            file: self.file.clone(),
            line: span.start.line() as u32,
            column: span.start.col() as u32 + 1,
            message: message.into(),
        }
    }

    fn scan_error(&self, e: &ScanError) -> YamlError {
        let mut message = e.info();
        if message == "recursion limit exceeded" {
            message = format!("collections nested deeper than {PARSER_NESTING} levels ({message})");
        }
        YamlError {
            file: self.file.clone(),
            line: e.marker().line() as u32,
            column: e.marker().col() as u32 + 1,
            message,
        }
    }

    fn run(mut self) -> Result<ParsedFile, YamlError> {
        let src = self.src;
        let mut doc_has_root = false;
        let mut src_end = None;
        for item in Parser::new_from_str(src) {
            let (event, span) = item.map_err(|e| self.scan_error(&e))?;
            match event {
                Event::DocumentStart(..) => {
                    doc_has_root = false;
                    self.anchors.clear();
                }
                Event::DocumentEnd if !doc_has_root => {
                    let origin = self.origin(&span);
                    self.out.documents.push(Node::plain("", origin));
                }
                Event::Comment(text, _) => self.out.comments.push(Comment {
                    line: span.start.line() as u32,
                    column: span.start.col() as u32 + 1,
                    text: text.into_owned(),
                }),
                Event::Scalar(text, style, anchor, tag) => {
                    let tag = tag.map(|t| short_tag(t.handle(), t.suffix()));
                    let mut text = text.into_owned();
                    if matches!(style, GStyle::Literal | GStyle::Folded)
                        && text.ends_with('\n')
                        && block_at_unterminated_end(src, &span, &mut src_end)
                    {
                        text.pop();
                    }
                    let node = Node::new(
                        Value::Scalar(Scalar {
                            text,
                            style: convert_style(style),
                            tag,
                        }),
                        self.origin(&span),
                    );
                    doc_has_root |= self.complete(node, anchor, 1, &span)?;
                }
                Event::SequenceStart(_, anchor, _) => {
                    self.open(&span)?;
                    let node = Node::seq(self.origin(&span));
                    self.stack.push((Frame::Seq(node), anchor));
                }
                Event::MappingStart(_, anchor, _) => {
                    self.open(&span)?;
                    let node = Node::map(self.origin(&span));
                    self.stack
                        .push((Frame::Map(node, None, Vec::new()), anchor));
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (Some((frame, anchor)), Some(tallest)) =
                        (self.stack.pop(), self.heights.pop())
                    else {
                        return Err(self.error(&span, "unbalanced collection end"));
                    };
                    let node = match frame {
                        Frame::Seq(n) => n,
                        Frame::Map(n, _, merges) => self.apply_merges(n, merges, &span)?,
                    };
                    doc_has_root |= self.complete(node, anchor, tallest + 1, &span)?;
                }
                Event::Alias(id) => {
                    let Some((target, height)) = self.anchors.get(&id).cloned() else {
                        return Err(self.error(&span, "unknown anchor"));
                    };
                    self.alias_nodes += count_nodes(&target);
                    if self.alias_nodes > MAX_ALIAS_NODES {
                        let msg = format!("alias expansion exceeds {MAX_ALIAS_NODES} nodes");
                        return Err(self.error(&span, msg));
                    }
                    if self.stack.len() + height > MAX_DEPTH {
                        return Err(self.too_deep(&span));
                    }
                    doc_has_root |= self.complete(target, 0, height, &span)?;
                }
                _ => {}
            }
        }
        Ok(self.out)
    }

    /// Opens a collection, refusing to nest deeper than [`MAX_DEPTH`].
    fn open(&mut self, span: &Span) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.too_deep(span));
        }
        self.heights.push(0);
        Ok(())
    }

    fn too_deep(&self, span: &Span) -> YamlError {
        let msg = format!("collections nested deeper than {MAX_DEPTH} levels");
        self.error(span, msg)
    }

    /// Attaches a finished node of `height` levels to its parent; returns true when it
    /// became a document root.
    fn complete(
        &mut self,
        node: Node,
        anchor: usize,
        height: usize,
        span: &Span,
    ) -> Result<bool, YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), height));
        }
        if let Some(tallest) = self.heights.last_mut() {
            *tallest = (*tallest).max(height);
        }
        let Some((frame, _)) = self.stack.last_mut() else {
            self.out.documents.push(node);
            return Ok(true);
        };
        match frame {
            Frame::Seq(seq) => {
                if let Value::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Frame::Map(map, pending_key, merges) => match pending_key.take() {
                None if node.as_scalar().is_none() => {
                    let msg = "mapping keys must be scalars (sigs.k8s.io/yaml cannot convert a collection key to JSON)";
                    return Err(self.error(span, msg).at(&node.origin));
                }
                None => *pending_key = Some(node),
                Some(key) => {
                    let is_merge = key.as_scalar().is_some_and(|s| {
                        s.text == "<<" && s.style == ScalarStyle::Plain && s.tag.is_none()
                    });
                    if is_merge {
                        merges.push(node);
                    } else {
                        let dup = key.as_scalar().and_then(|s| {
                            map.as_map()
                                .filter(|m| m.contains_key(&s.text))
                                .map(|_| s.text.clone())
                        });
                        if let Some(k) = dup {
                            let msg = format!("mapping key \"{k}\" already defined");
                            return Err(self.error(span, msg).at(&key.origin));
                        }
                        if let Value::Map(m) = &mut map.value {
                            m.push(key, node);
                        }
                    }
                }
            },
        }
        Ok(false)
    }

    /// Expands `<<` merge keys: the mapping's own keys win, then earlier merge sources.
    fn apply_merges(
        &self,
        mut node: Node,
        merges: Vec<Node>,
        span: &Span,
    ) -> Result<Node, YamlError> {
        let mut sources = Vec::new();
        for m in merges {
            match m.value {
                Value::Map(map) => sources.push(map),
                Value::Seq(items) => {
                    for item in items {
                        match item.value {
                            Value::Map(map) => sources.push(map),
                            _ => {
                                return Err(
                                    self.error(span, "merge key sequence item is not a mapping")
                                )
                            }
                        }
                    }
                }
                Value::Scalar(_) => {
                    return Err(self.error(span, "merge key value is not a mapping"))
                }
            }
        }
        if let Value::Map(own) = &mut node.value {
            for source in sources {
                merge_missing(own, source);
            }
        }
        Ok(node)
    }
}

fn merge_missing(own: &mut Mapping, source: Mapping) {
    for (k, v) in source.entries().iter().cloned() {
        let present = k.as_scalar().is_some_and(|s| own.contains_key(&s.text));
        if !present {
            own.push(k, v);
        }
    }
}

impl YamlError {
    fn at(mut self, origin: &Origin) -> Self {
        self.line = origin.line;
        self.column = origin.column;
        self
    }
}

fn count_nodes(n: &Node) -> usize {
    1 + match &n.value {
        Value::Scalar(_) => 0,
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(m) => m.iter().map(|(_, v)| 1 + count_nodes(v)).sum(),
    }
}

/// Whether a block scalar ending at `span` holds the last line of `src` and that line has no
/// line break (the file ends without one): then, as YAML 1.2 says and the Go libraries do,
/// its last line break is not there to keep (`|` at end of file reads `"x"`, not `"x\n"`).
/// `end` caches the character count of `src` without trailing whitespace.
fn block_at_unterminated_end(src: &str, span: &Span, end: &mut Option<usize>) -> bool {
    if src.ends_with(['\n', '\r']) {
        return false;
    }
    let last = *end.get_or_insert_with(|| src.trim_end().chars().count());
    span.end.index() >= last
}

fn convert_style(s: GStyle) -> ScalarStyle {
    match s {
        GStyle::SingleQuoted => ScalarStyle::SingleQuoted,
        GStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
        GStyle::Literal => ScalarStyle::Literal,
        GStyle::Folded => ScalarStyle::Folded,
        _ => ScalarStyle::Plain,
    }
}

fn short_tag(handle: &str, suffix: &str) -> Box<str> {
    if handle == "tag:yaml.org,2002:" {
        format!("!!{suffix}").into()
    } else {
        format!("{handle}{suffix}").into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Resolved;

    fn parse(src: &str) -> Vec<Node> {
        parse_documents("t.yaml".into(), src).expect("parses")
    }

    /// kubectl kustomize prints these as `|-` and `'line1 line2  '`: a block scalar ending
    /// the file without a line break has no final line break to clip or keep.
    #[test]
    fn block_scalars_at_an_unterminated_end_of_file_lose_the_last_break() {
        let text = |src: &str| {
            parse(src)[0]
                .get("a")
                .and_then(Node::as_str)
                .map(str::to_string)
        };
        assert_eq!(text("a: |\n  l1\n  l2").as_deref(), Some("l1\nl2"));
        assert_eq!(text("a: >\n  l1\n  l2  ").as_deref(), Some("l1 l2  "));
        assert_eq!(text("a: |\n  l1\n  l2\n").as_deref(), Some("l1\nl2\n"));
        assert_eq!(text("a: |\n  l1\nb: x").as_deref(), Some("l1\n"));
    }

    #[test]
    fn origins_point_at_values() {
        let docs = parse("a: 1\nb:\n  c: hello\n");
        let c = docs[0].get_path(&["b", "c"]).expect("b.c");
        assert_eq!((c.origin.line, c.origin.column), (3, 6));
        assert_eq!(c.as_str(), Some("hello"));
    }

    #[test]
    fn multi_documents_and_empty_ones() {
        let docs = parse("a: 1\n---\n# only a comment\n---\nb: 2\n");
        assert_eq!(docs.len(), 3);
        assert!(docs[1].is_null());
        assert_eq!(
            docs[2].get("b").and_then(Node::resolve),
            Some(Resolved::Int(2))
        );
    }

    #[test]
    fn merge_keys_expand_with_own_keys_winning() {
        let docs = parse("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n");
        let d = docs[0].get("d").expect("d");
        assert_eq!(d.get("x").and_then(Node::resolve), Some(Resolved::Int(1)));
        assert_eq!(d.get("y").and_then(Node::resolve), Some(Resolved::Int(3)));
        assert!(!d.as_map().expect("map").contains_key("<<"));
    }

    #[test]
    fn duplicate_keys_are_errors_at_the_second_key() {
        let err = parse_documents("t.yaml".into(), "a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("already defined"), "{}", err.message);
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let err = parse_documents("t.yaml".into(), "a: [1, 2\nb: c\n").unwrap_err();
        assert!(err.line >= 1);
        assert_eq!(&*err.file, "t.yaml");
    }

    #[test]
    fn collection_keys_are_refused() {
        // Found by `cargo fuzz run yaml_parse`: nested complex keys made JSON conversion
        // exponential. Kubernetes tools cannot use them either.
        let err = parse_documents("t.yaml".into(), "? [a, b]\n: c\n").unwrap_err();
        assert!(
            err.message.contains("mapping keys must be scalars"),
            "{}",
            err.message
        );
        assert!(parse_documents("t.yaml".into(), "? ? ? ? ? ? ? ? x\n").is_err());
    }

    #[test]
    fn comments_are_collected() {
        let p = parse_file("t.yaml".into(), "a: 1 # driftlint:ignore PIN001 ok\n").expect("ok");
        assert_eq!(p.comments.len(), 1);
        assert_eq!(p.comments[0].line, 1);
        assert!(p.comments[0].text.contains("driftlint:ignore"));
    }

    #[test]
    fn quoted_scalars_stay_strings() {
        let docs = parse("a: \"80\"\nb: '0755'\nc: 0755\n");
        assert_eq!(docs[0].get("a").and_then(Node::as_str), Some("80"));
        assert_eq!(docs[0].get("b").and_then(Node::as_str), Some("0755"));
        assert_eq!(
            docs[0].get("c").and_then(Node::resolve),
            Some(Resolved::Int(493))
        );
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse_documents("t.yaml".into(), &src).is_err());
    }

    #[test]
    fn deep_nesting_is_refused_at_its_line() {
        // The parser itself stops 100,000 `[` (and deep block nesting) at 255 levels.
        let src = format!("a: 1\nb: {}\n", "[".repeat(100_000));
        let err = parse_documents("t.yaml".into(), &src).unwrap_err();
        assert!(
            err.message.contains("nested deeper than 255"),
            "{}",
            err.message
        );
        assert_eq!(err.line, 2);
        let src = format!("{}x\n", "- ".repeat(5_000));
        let err = parse_documents("t.yaml".into(), &src).unwrap_err();
        assert!(err.message.contains("nested deeper"), "{}", err.message);
    }

    #[test]
    fn aliases_cannot_stack_depth() {
        // Each anchor nests the previous one 200 levels deeper: without a depth count the
        // tree grows 200 levels per line, past any stack (its drop alone overflowed).
        let (open, close) = ("[".repeat(200), "]".repeat(200));
        let mut src = format!("a0: &a0 {open}x{close}\n");
        for i in 1..200 {
            src.push_str(&format!("a{i}: &a{i} {open}*a{}{close}\n", i - 1));
        }
        let err = parse_documents("t.yaml".into(), &src).unwrap_err();
        assert!(
            err.message.contains("nested deeper than 1000"),
            "{}",
            err.message
        );
        assert_eq!(err.line, 5, "a4 would be 1,000 levels deep");
        let ok = format!("a0: &a0 {open}x{close}\na1: {open}*a0{close}\n");
        assert!(parse_documents("t.yaml".into(), &ok).is_ok());
    }
}
