//! The parse tree, shaped like Go's `text/template/parse` nodes. `Display` renders nodes as Go's
//! `Node.String()` does, which is the `<...>` context in execution errors.

use std::fmt;
use std::sync::Arc;

/// A parsed template: its name, the name of the text it was parsed from (for error locations)
/// and its body.
#[derive(Debug, Clone)]
pub struct Tree {
    /// Template name (`define` name or the top-level name).
    pub name: String,
    /// Name of the top-level template whose text holds this tree (Go's `ParseName`).
    pub parse_name: String,
    /// The full source text, to turn byte offsets into line:column.
    pub text: Arc<str>,
    /// The body.
    pub root: Vec<Node>,
}

impl Tree {
    /// Go's `ErrorContext` location: `PARSENAME:LINE:COL` with a 1-based line and a 0-based
    /// byte column.
    pub fn location(&self, pos: usize) -> String {
        let p = self.position(pos);
        format!("{}:{}:{}", p.parse_name, p.line, p.byte_column)
    }

    /// The byte offset `pos` of the text as a [`super::Position`].
    pub fn position(&self, pos: usize) -> super::Position {
        let head = self.text.get(..pos).unwrap_or(&self.text);
        let line = 1 + head.matches('\n').count();
        let line_start = head.rfind('\n').map_or(0, |i| i + 1);
        let on_line = head.get(line_start..).unwrap_or("");
        super::Position {
            parse_name: self.parse_name.clone(),
            line,
            byte_column: on_line.len(),
            column: on_line.chars().count() + 1,
        }
    }

    /// Whether the body holds nothing but white space (Go's `parse.IsEmptyTree`).
    pub fn is_empty(&self) -> bool {
        self.root.iter().all(|n| match n {
            Node::Text(t, _) => t.trim().is_empty(),
            _ => false,
        })
    }
}

/// A piece of a shared source text (a token's text, a text node), so that lexing and parsing
/// a large template do not copy its text piece by piece. Dereferences to the `str`.
#[derive(Clone)]
pub struct Slice {
    src: Arc<str>,
    start: usize,
    end: usize,
}

impl Slice {
    /// `src[range]`; an out-of-range or non-boundary range gives the empty string.
    pub fn new(src: &Arc<str>, range: std::ops::Range<usize>) -> Slice {
        let ok = src.get(range.clone()).is_some();
        Slice {
            src: src.clone(),
            start: if ok { range.start } else { 0 },
            end: if ok { range.end } else { 0 },
        }
    }

    /// A slice owning `text` whole (for texts that are not in the source, e.g. messages).
    pub fn owned(text: &str) -> Slice {
        Slice {
            src: Arc::from(text),
            start: 0,
            end: text.len(),
        }
    }
}

impl std::ops::Deref for Slice {
    type Target = str;
    fn deref(&self) -> &str {
        self.src.get(self.start..self.end).unwrap_or("")
    }
}

impl fmt::Debug for Slice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for Slice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl PartialEq for Slice {
    fn eq(&self, other: &Slice) -> bool {
        **self == **other
    }
}

/// A statement in a template body.
#[derive(Debug, Clone)]
pub enum Node {
    /// Literal text and the byte offset in the source where it starts.
    Text(Slice, usize),
    /// `{{pipeline}}`.
    Action(Pipe),
    /// `{{if}}`.
    If(Branch),
    /// `{{range}}`.
    Range(Branch),
    /// `{{with}}`.
    With(Branch),
    /// `{{template "name" pipeline}}` (also what `{{block}}` leaves in place).
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipe>,
    },
    /// `{{break}}`.
    Break(usize),
    /// `{{continue}}`.
    Continue(usize),
}

/// The shared shape of `if`, `range` and `with`.
#[derive(Debug, Clone)]
pub struct Branch {
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

/// A pipeline with optional variable declarations: `$x := a | b c`.
#[derive(Debug, Clone)]
pub struct Pipe {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

/// One command of a pipeline: an operand followed by arguments.
#[derive(Debug, Clone)]
pub struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// A parsed number literal with every interpretation that succeeded (Go's `NumberNode`).
#[derive(Debug, Clone)]
pub struct Number {
    pub text: String,
    pub int: Option<i64>,
    pub uint: Option<u64>,
    pub float: Option<f64>,
}

/// An operand.
#[derive(Debug, Clone)]
pub enum Arg {
    /// `.a.b`.
    Field { pos: usize, idents: Vec<Slice> },
    /// `$x.a.b`; `idents[0]` is the variable name with its `$`.
    Variable { pos: usize, idents: Vec<Slice> },
    /// `(pipeline).a.b` or `fn.a`.
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<Slice>,
    },
    /// A function name.
    Identifier { pos: usize, name: Slice },
    /// A parenthesized pipeline.
    Pipe(Box<Pipe>),
    /// `.`.
    Dot(usize),
    /// `nil`.
    Nil(usize),
    /// `true`/`false`.
    Bool(usize, bool),
    /// A number or character constant (boxed: it is the largest operand, and rare).
    Number(usize, Box<Number>),
    /// A string literal: quoted source text and its value.
    String {
        pos: usize,
        quoted: Slice,
        text: Arc<str>,
    },
}

impl Arg {
    /// Byte offset of the operand.
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Identifier { pos, .. }
            | Arg::String { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
            Arg::Dot(p) | Arg::Nil(p) | Arg::Bool(p, _) | Arg::Number(p, _) => *p,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Variable { idents, .. } => {
                for (i, ident) in idents.iter().enumerate() {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(ident)?;
                }
                Ok(())
            }
            Arg::Chain { node, fields, .. } => {
                match node.as_ref() {
                    Arg::Pipe(p) => write!(f, "({p})")?,
                    other => write!(f, "{other}")?,
                }
                for i in fields {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Identifier { name, .. } => f.write_str(name),
            Arg::Pipe(p) => write!(f, "{p}"),
            Arg::Dot(_) => f.write_str("."),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Bool(_, b) => write!(f, "{b}"),
            Arg::Number(_, n) => f.write_str(&n.text),
            Arg::String { quoted, .. } => f.write_str(quoted),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match a {
                Arg::Pipe(p) => write!(f, "({p})")?,
                other => write!(f, "{other}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}
