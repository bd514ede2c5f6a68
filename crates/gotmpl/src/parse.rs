//! The parser, mirroring Go's `text/template/parse/parse.go`: a recursive-descent parser over
//! the token stream that builds one [`Tree`] for the text and one per `{{define}}`/`{{block}}`.
//! Errors read as Go's: `template: NAME:LINE: MESSAGE`.

use std::sync::Arc;

use super::ast::{Arg, Branch, Command, Node, Number, Pipe, Slice, Tree};
use super::lex::{lex, Kind, Lexed, Token};
use super::ParseError;

/// Deepest nesting of control structures and parentheses accepted (Go uses 10000; we keep the
/// parser's stack use small enough for any thread).
pub const MAX_PARSE_DEPTH: usize = 200;

/// Parses `text` as template `name`. Returns the top-level tree and the trees it defines, in
/// definition order. `has_func` answers whether a function name is defined.
pub(crate) fn parse(
    name: &str,
    text: &str,
    has_func: &dyn Fn(&str) -> bool,
) -> Result<Vec<Tree>, ParseError> {
    let text: Arc<str> = Arc::from(text);
    let mut p = Parser {
        lexed: lex(&text),
        i: 0,
        hi: 0,
        name: name.to_string(),
        text: text.clone(),
        vars: vec!["$".into()],
        range_depth: 0,
        depth: 0,
        has_func,
        trees: Vec::new(),
    };
    let root = p.parse_top()?;
    let top = Tree {
        name: name.to_string(),
        parse_name: name.to_string(),
        text,
        root,
    };
    p.add(top)?;
    Ok(p.trees)
}

enum Item {
    Node(Node),
    End,
    Else,
}

struct Parser<'a> {
    lexed: Lexed,
    i: usize,
    hi: usize,
    name: String,
    text: Arc<str>,
    vars: Vec<String>,
    range_depth: usize,
    depth: usize,
    has_func: &'a dyn Fn(&str) -> bool,
    trees: Vec<Tree>,
}

type R<T> = Result<T, ParseError>;

impl Parser<'_> {
    fn tok(&self, i: usize) -> Token {
        let last = self.lexed.toks.len().saturating_sub(1);
        self.lexed
            .toks
            .get(i.min(last))
            .copied()
            .unwrap_or(Token::new(Kind::Eof, 0, 0))
    }

    /// The text of `t` (the error message for an `Error` token).
    fn val(&self, t: &Token) -> &str {
        self.lexed.text(&self.text, t)
    }

    /// Go's `item.String()` of `t`.
    fn describe(&self, t: &Token) -> String {
        self.lexed.describe(&self.text, t)
    }

    fn next(&mut self) -> Token {
        let t = self.tok(self.i);
        self.hi = self
            .hi
            .max(self.i.min(self.lexed.toks.len().saturating_sub(1)));
        if self.i < self.lexed.toks.len() {
            self.i += 1;
        }
        t
    }

    fn backup(&mut self) {
        self.i = self.i.saturating_sub(1);
    }

    fn peek(&mut self) -> Token {
        let t = self.next();
        self.backup();
        t
    }

    fn next_non_space(&mut self) -> Token {
        loop {
            let t = self.next();
            if t.kind != Kind::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Token {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn err<T>(&self, msg: impl Into<String>) -> R<T> {
        Err(ParseError {
            name: self.name.clone(),
            line: self.tok(self.hi).line(&self.text),
            message: msg.into(),
        })
    }

    fn unexpected<T>(&self, t: &Token, context: &str) -> R<T> {
        if t.kind == Kind::Error {
            return self.err(self.val(t).to_string());
        }
        self.err(format!("unexpected {} in {context}", self.describe(t)))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> R<Token> {
        let t = self.next_non_space();
        if t.kind != kind {
            return self.unexpected(&t, context);
        }
        Ok(t)
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_PARSE_DEPTH {
            return self.err("max depth exceeded");
        }
        Ok(())
    }

    /// Go's `Tree.add`: a non-empty redefinition within one parse is an error.
    fn add(&mut self, tree: Tree) -> R<()> {
        if let Some(i) = self.trees.iter().position(|t| t.name == tree.name) {
            if self.trees[i].is_empty() {
                self.trees[i] = tree;
            } else if !tree.is_empty() {
                return self.err(format!(
                    "template: multiple definition of template {}",
                    super::fmt::go_quote(&tree.name)
                ));
            }
            return Ok(());
        }
        self.trees.push(tree);
        Ok(())
    }

    fn parse_top(&mut self) -> R<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let save = self.i;
                self.next();
                if self.next_non_space().kind == Kind::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.i = save;
            }
            match self.text_or_action()? {
                Item::Node(n) => root.push(n),
                Item::End => return self.err("unexpected {{end}}"),
                Item::Else => return self.err("unexpected {{else}}"),
            }
        }
        Ok(root)
    }

    fn template_name(&mut self, t: &Token, context: &str) -> R<String> {
        match t.kind {
            Kind::String | Kind::RawString => match unquote(self.val(t)) {
                Some(s) => Ok(s),
                None => self.err("invalid syntax"),
            },
            _ => self.unexpected(t, context),
        }
    }

    fn parse_definition(&mut self) -> R<()> {
        let context = "define clause";
        let t = self.next_non_space();
        if !matches!(t.kind, Kind::String | Kind::RawString) {
            return self.unexpected(&t, context);
        }
        let name = self.template_name(&t, context)?;
        self.expect(Kind::RightDelim, context)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        if !matches!(end, Item::End) {
            return self.err(format!("unexpected {{{{else}}}} in {context}"));
        }
        let tree = self.tree(name, list);
        self.add(tree)
    }

    fn tree(&self, name: String, root: Vec<Node>) -> Tree {
        Tree {
            name,
            parse_name: self.name.clone(),
            text: self.text.clone(),
            root,
        }
    }

    fn item_list(&mut self) -> R<(Vec<Node>, Item)> {
        self.enter()?;
        let mut list = Vec::new();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                end => {
                    self.depth -= 1;
                    return Ok((list, end));
                }
            }
        }
        let t = self.peek_non_space();
        if t.kind == Kind::Error {
            return self.err(self.val(&t).to_string());
        }
        self.err("unexpected EOF")
    }

    fn text_or_action(&mut self) -> R<Item> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Text => Ok(Item::Node(Node::Text(
                Slice::new(&self.text, t.pos()..t.end()),
                t.pos(),
            ))),
            Kind::LeftDelim => self.action(),
            _ => self.unexpected(&t, "input"),
        }
    }

    fn action(&mut self) -> R<Item> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Block => return self.block_control().map(Item::Node),
            Kind::Break | Kind::Continue => return self.loop_control(&t).map(Item::Node),
            Kind::Else => return self.else_control(),
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Item::End);
            }
            Kind::If => return self.control("if").map(|b| Item::Node(Node::If(b))),
            Kind::Range => {
                self.range_depth += 1;
                let b = self.control("range");
                self.range_depth -= 1;
                return b.map(|b| Item::Node(Node::Range(b)));
            }
            Kind::Template => return self.template_control().map(Item::Node),
            Kind::With => return self.control("with").map(|b| Item::Node(Node::With(b))),
            _ => {}
        }
        self.backup();
        Ok(Item::Node(Node::Action(self.pipeline("command")?)))
    }

    fn loop_control(&mut self, t: &Token) -> R<Node> {
        let word = if t.kind == Kind::Break {
            "break"
        } else {
            "continue"
        };
        let next = self.next_non_space();
        if next.kind != Kind::RightDelim {
            return self.unexpected(&next, &format!("{{{{{word}}}}}"));
        }
        if self.range_depth == 0 {
            return self.err(format!("{{{{{word}}}}} outside {{{{range}}}}"));
        }
        Ok(if t.kind == Kind::Break {
            Node::Break(t.pos())
        } else {
            Node::Continue(t.pos())
        })
    }

    fn else_control(&mut self) -> R<Item> {
        let peek = self.peek_non_space();
        if matches!(peek.kind, Kind::If | Kind::With) {
            return Ok(Item::Else);
        }
        self.expect(Kind::RightDelim, "else")?;
        Ok(Item::Else)
    }

    /// `if`, `range` and `with`, with Go's `else if` / `else with` chaining.
    fn control(&mut self, context: &str) -> R<Branch> {
        let mark = self.vars.len();
        let result = self.control_inner(context);
        self.vars.truncate(mark);
        result
    }

    fn control_inner(&mut self, context: &str) -> R<Branch> {
        let pipe = self.pipeline(context)?;
        let (list, next) = self.item_list()?;
        let mut else_list = None;
        if let Item::Else = next {
            let chained = match self.peek().kind {
                Kind::If if context == "if" => Some(("if", Kind::If)),
                Kind::With if context == "with" => Some(("with", Kind::With)),
                _ => None,
            };
            if let Some((ctx, _)) = chained {
                self.next();
                let inner = self.control(ctx)?;
                let node = if ctx == "if" {
                    Node::If(inner)
                } else {
                    Node::With(inner)
                };
                else_list = Some(vec![node]);
            } else {
                let (l, end) = self.item_list()?;
                if !matches!(end, Item::End) {
                    return self.err("expected end; found {{else}}");
                }
                else_list = Some(l);
            }
        }
        Ok(Branch {
            pipe,
            list,
            else_list,
        })
    }

    fn block_control(&mut self) -> R<Node> {
        let context = "block clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, context)?;
        let pipe = self.pipeline(context)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_range = std::mem::take(&mut self.range_depth);
        let body = self.item_list();
        self.vars = saved_vars;
        self.range_depth = saved_range;
        let (list, end) = body?;
        if !matches!(end, Item::End) {
            return self.err(format!("unexpected {{{{else}}}} in {context}"));
        }
        let tree = self.tree(name.clone(), list);
        self.add(tree)?;
        Ok(Node::Template {
            pos: t.pos(),
            name,
            pipe: Some(pipe),
        })
    }

    fn template_control(&mut self) -> R<Node> {
        let context = "template clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, context)?;
        let pipe = if self.next_non_space().kind != Kind::RightDelim {
            self.backup();
            Some(self.pipeline(context)?)
        } else {
            None
        };
        Ok(Node::Template {
            pos: t.pos(),
            name,
            pipe,
        })
    }

    fn pipeline(&mut self, context: &str) -> R<Pipe> {
        self.enter()?;
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos(),
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        self.declarations(&mut pipe, context)?;
        loop {
            let t = self.next_non_space();
            match t.kind {
                Kind::RightDelim | Kind::RightParen => {
                    self.check_pipeline(&pipe, context)?;
                    if t.kind == Kind::RightParen {
                        self.backup();
                    }
                    self.depth -= 1;
                    return Ok(pipe);
                }
                Kind::Bool
                | Kind::CharConstant
                | Kind::Complex
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return self.unexpected(&t, context),
            }
        }
    }

    fn declarations(&mut self, pipe: &mut Pipe, context: &str) -> R<()> {
        loop {
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                return Ok(());
            }
            let save = self.i;
            self.next_non_space();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    let name = self.val(&v).to_string();
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    return Ok(());
                }
                Kind::Char if self.val(&next) == "," => {
                    self.next_non_space();
                    let name = self.val(&v).to_string();
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => continue,
                            _ => return self.err("range can only initialize variables"),
                        }
                    }
                    return self.err(format!("too many declarations in {context}"));
                }
                _ => {
                    self.i = save;
                    return Ok(());
                }
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> R<()> {
        if pipe.cmds.is_empty() {
            return self.err(format!("missing value for {context}"));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args.first(),
                Some(
                    Arg::Bool(..)
                        | Arg::Dot(_)
                        | Arg::Nil(_)
                        | Arg::Number(..)
                        | Arg::String { .. }
                )
            ) {
                return self.err(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                ));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> R<Command> {
        let mut cmd = Command {
            pos: self.peek_non_space().pos(),
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let t = self.next();
            match t.kind {
                Kind::Space => continue,
                Kind::Error => return self.err(self.val(&t).to_string()),
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return self.err(format!("unexpected {} in operand", self.describe(&t))),
            }
            break;
        }
        if cmd.args.is_empty() {
            return self.err("empty command");
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> R<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let pos = self.peek().pos();
        let mut fields = Vec::new();
        while self.peek().kind == Kind::Field {
            let f = self.next();
            fields.push(self.field_name(&f));
        }
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                idents.extend(fields);
                Arg::Field { pos, idents }
            }
            Arg::Variable { mut idents, .. } => {
                idents.extend(fields);
                Arg::Variable { pos, idents }
            }
            Arg::Bool(..) | Arg::String { .. } | Arg::Number(..) | Arg::Nil(_) | Arg::Dot(_) => {
                return self.err(format!(
                    "unexpected . after term {}",
                    super::fmt::go_quote(&node.to_string())
                ))
            }
            other => Arg::Chain {
                pos,
                node: Box::new(other),
                fields,
            },
        }))
    }

    fn term(&mut self) -> R<Option<Arg>> {
        let t = self.next_non_space();
        let pos = t.pos();
        Ok(Some(match t.kind {
            Kind::Error => return self.err(self.val(&t).to_string()),
            Kind::Identifier => {
                if !(self.has_func)(self.val(&t)) {
                    return self.err(format!(
                        "function {} not defined",
                        super::fmt::go_quote(self.val(&t))
                    ));
                }
                Arg::Identifier {
                    pos,
                    name: Slice::new(&self.text, t.pos()..t.end()),
                }
            }
            Kind::Dot => Arg::Dot(pos),
            Kind::Nil => Arg::Nil(pos),
            Kind::Variable => self.use_var(&t)?,
            Kind::Field => Arg::Field {
                pos,
                idents: vec![self.field_name(&t)],
            },
            Kind::Bool => Arg::Bool(pos, self.val(&t) == "true"),
            Kind::CharConstant | Kind::Complex | Kind::Number => {
                match parse_number(self.val(&t), t.kind) {
                    Ok(n) => Arg::Number(pos, Box::new(n)),
                    Err(e) => return self.err(e),
                }
            }
            Kind::LeftParen => {
                let pipe = self.pipeline("parenthesized pipeline")?;
                let close = self.next();
                if close.kind != Kind::RightParen {
                    return self.err(format!(
                        "unclosed right paren: unexpected {}",
                        self.describe(&close)
                    ));
                }
                Arg::Pipe(Box::new(pipe))
            }
            Kind::String | Kind::RawString => match unquote(self.val(&t)) {
                Some(text) => Arg::String {
                    pos,
                    quoted: Slice::new(&self.text, t.pos()..t.end()),
                    text: Arc::from(text),
                },
                None => return self.err("invalid syntax"),
            },
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }

    /// A field token's name without its leading `.`, as a slice of the source.
    fn field_name(&self, t: &Token) -> Slice {
        let dot = usize::from(self.val(t).starts_with('.'));
        Slice::new(&self.text, t.pos() + dot..t.end())
    }

    /// A `$x.a.b` variable token, split at its dots into slices of the source; the variable
    /// must be declared.
    fn use_var(&self, t: &Token) -> R<Arg> {
        let pos = t.pos();
        let mut idents = Vec::new();
        let mut start = pos;
        for part in self.val(t).split('.') {
            idents.push(Slice::new(&self.text, start..start + part.len()));
            start += part.len() + 1;
        }
        let first = idents.first().map_or("", |s| &**s);
        if !self.vars.iter().any(|v| v == first) {
            return self.err(format!(
                "undefined variable {}",
                super::fmt::go_quote(first)
            ));
        }
        Ok(Arg::Variable { pos, idents })
    }
}

/// Go's `strconv.Unquote` for `"..."` and `` `...` `` literals.
pub(crate) fn unquote(s: &str) -> Option<String> {
    if let Some(raw) = s.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        if raw.contains('`') {
            return None;
        }
        return Some(raw.replace('\r', ""));
    }
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains(['\\', '"', '\n']) {
        return Some(inner.to_string());
    }
    let mut out = String::new();
    let mut rest = inner;
    while !rest.is_empty() {
        if rest.starts_with('"') || rest.starts_with('\n') {
            return None;
        }
        let (c, tail) = unquote_char(rest, b'"')?;
        out.push_str(&c);
        rest = tail;
    }
    Some(out)
}

/// Go's `strconv.UnquoteChar`: decodes one (possibly escaped) character, returning it as a
/// string (`\xNN` of a non-ASCII byte gives U+FFFD, since Rust strings are UTF-8) and the tail.
pub(crate) fn unquote_char(s: &str, quote: u8) -> Option<(String, &str)> {
    let mut chars = s.chars();
    let c = chars.next()?;
    if c != '\\' {
        if c as u32 == quote as u32 && (quote == b'\'' || quote == b'"') {
            return None;
        }
        return Some((c.to_string(), chars.as_str()));
    }
    let e = chars.next()?;
    let rest = chars.as_str();
    let simple = match e {
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\u{b}'),
        '\\' => Some('\\'),
        '\'' | '"' if e as u32 == quote as u32 => Some(e),
        _ => None,
    };
    if let Some(c) = simple {
        return Some((c.to_string(), rest));
    }
    let (n, radix) = match e {
        'x' => (2, 16),
        'u' => (4, 16),
        'U' => (8, 16),
        '0'..='7' => (2, 8),
        _ => return None,
    };
    let (digits, tail) = if radix == 8 {
        let all = s.get(1..4)?;
        (all, s.get(4..)?)
    } else {
        (rest.get(..n)?, rest.get(n..)?)
    };
    let v = u32::from_str_radix(digits, radix).ok()?;
    match e {
        'x' if v >= 0x80 => Some(('\u{FFFD}'.to_string(), tail)),
        'x' => Some((char::from_u32(v)?.to_string(), tail)),
        '0'..='7' if v > 255 => None,
        '0'..='7' if v >= 0x80 => Some(('\u{FFFD}'.to_string(), tail)),
        _ => Some((char::from_u32(v)?.to_string(), tail)),
    }
}

/// Go's `parse.newNumber`: every interpretation (int, uint, float) of a literal that succeeds.
pub(crate) fn parse_number(text: &str, kind: Kind) -> Result<Number, String> {
    let mut n = Number {
        text: text.to_string(),
        int: None,
        uint: None,
        float: None,
    };
    if kind == Kind::CharConstant {
        let inner = text.get(1..).unwrap_or("");
        let (c, tail) = unquote_char(inner, b'\'').ok_or("invalid syntax")?;
        if tail != "'" {
            return Err(format!("malformed character constant: {text}"));
        }
        let r = c.chars().next().map_or(0, |c| c as i64);
        n.int = Some(r);
        n.uint = Some(r as u64);
        n.float = Some(r as f64);
        return Ok(n);
    }
    if kind == Kind::Complex || text.ends_with('i') {
        return Err(format!(
            "complex number constants are not supported: {}",
            super::fmt::go_quote(text)
        ));
    }
    let int = parse_go_int(text);
    if let Some(v) = int {
        if v >= 0 && v <= u64::MAX as i128 {
            n.uint = Some(v as u64);
        }
        if v >= i64::MIN as i128 && v <= i64::MAX as i128 {
            n.int = Some(v as i64);
        }
    }
    if let Some(i) = n.int {
        n.float = Some(i as f64);
    } else if let Some(u) = n.uint {
        n.float = Some(u as f64);
    } else if let Some(f) = parse_go_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", super::fmt::go_quote(text)));
        }
        n.float = Some(f);
        if f.fract() == 0.0 && (-9.223372036854776e18..9.223372036854776e18).contains(&f) {
            n.int = Some(f as i64);
        }
        if f.fract() == 0.0 && (0.0..1.8446744073709552e19).contains(&f) {
            n.uint = Some(f as u64);
        }
    }
    if n.int.is_none() && n.uint.is_none() && n.float.is_none() {
        return Err(format!(
            "illegal number syntax: {}",
            super::fmt::go_quote(text)
        ));
    }
    Ok(n)
}

/// Go's underscore rule: `_` only between digits or after a base prefix.
fn underscores_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let mut prev_digit_or_prefix = false;
    if b.len() >= i + 2 && b[i] == b'0' && matches!(b[i + 1] | 0x20, b'x' | b'o' | b'b') {
        i += 2;
        prev_digit_or_prefix = true;
    }
    let mut prev_underscore = false;
    while i < b.len() {
        let c = b[i];
        if c == b'_' {
            if !prev_digit_or_prefix {
                return false;
            }
            prev_underscore = true;
            prev_digit_or_prefix = false;
        } else if c.is_ascii_hexdigit() {
            prev_digit_or_prefix = true;
            prev_underscore = false;
        } else {
            if prev_underscore {
                return false;
            }
            prev_digit_or_prefix = false;
        }
        i += 1;
    }
    !prev_underscore
}

/// Go's `strconv.ParseInt(s, 0, 64)` syntax (wider range, checked by the caller).
fn parse_go_int(text: &str) -> Option<i128> {
    if text.contains('_') && !underscores_ok(text) {
        return None;
    }
    let clean = text.replace('_', "");
    let (neg, body) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, clean.as_str()),
    };
    let lower = body.to_ascii_lowercase();
    let (digits, radix) = if let Some(h) = lower.strip_prefix("0x") {
        (h, 16)
    } else if let Some(o) = lower.strip_prefix("0o") {
        (o, 8)
    } else if let Some(b) = lower.strip_prefix("0b") {
        (b, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u128::from_str_radix(digits, radix).ok()?;
    let v = i128::try_from(v).ok()?;
    Some(if neg { -v } else { v })
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal and hexadecimal (`0x1.8p3`) forms.
fn parse_go_float(text: &str) -> Option<f64> {
    if text.contains('_') && !underscores_ok(text) {
        return None;
    }
    let clean = text.replace('_', "");
    let (neg, body) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, clean.as_str()),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        let (mant, exp) = h.split_once(['p', 'P'])?;
        let exp: i32 = exp.parse().ok()?;
        let (ip, fp) = mant.split_once('.').unwrap_or((mant, ""));
        if ip.is_empty() && fp.is_empty() {
            return None;
        }
        let mut m = 0f64;
        for c in ip.chars().chain(fp.chars()) {
            m = m * 16.0 + f64::from(c.to_digit(16)?);
        }
        m * 2f64.powi(exp - 4 * fp.len() as i32)
    } else {
        if !body
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Vec<Tree>, String> {
        parse("t", text, &|n| n == "printf" || n == "len").map_err(|e| e.to_string())
    }

    #[test]
    fn number_forms_follow_go_literals() {
        let n = |s: &str| parse_number(s, Kind::Number).unwrap();
        assert_eq!(n("0x1F").int, Some(31));
        assert_eq!(n("0o17").int, Some(15));
        assert_eq!(n("017").int, Some(15));
        assert_eq!(n("0b101").int, Some(5));
        assert_eq!(n("1_000").int, Some(1000));
        assert_eq!(n("1e3").float, Some(1000.0));
        assert_eq!(n("1e3").int, Some(1000));
        assert_eq!(n("0x1p-2").float, Some(0.25));
        assert_eq!(n("-7").int, Some(-7));
        assert!(parse_number("1__0", Kind::Number).is_err());
        assert_eq!(
            parse_number("99999999999999999999", Kind::Number).unwrap_err(),
            "integer overflow: \"99999999999999999999\""
        );
        let c = parse_number("'a'", Kind::CharConstant).unwrap();
        assert_eq!(c.int, Some(97));
        let c = parse_number("'\\n'", Kind::CharConstant).unwrap();
        assert_eq!(c.int, Some(10));
    }

    #[test]
    fn unquote_go_escapes() {
        assert_eq!(unquote(r#""a\tb\x41\u00e9\101""#).unwrap(), "a\tbAéA");
        assert_eq!(unquote("`a\\n`").unwrap(), "a\\n");
        assert!(unquote(r#""\q""#).is_none());
    }

    #[test]
    fn defines_become_trees() {
        let trees = p(r#"{{define "a"}}A{{end}}x{{block "b" .}}B{{end}}"#).unwrap();
        let names: Vec<&str> = trees.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b", "t"]);
    }

    #[test]
    fn go_parse_errors() {
        assert_eq!(
            p("{{end}}").unwrap_err(),
            "template: t:1: unexpected {{end}}"
        );
        assert_eq!(p("{{if .x}}").unwrap_err(), "template: t:1: unexpected EOF");
        assert_eq!(
            p("{{nope 1}}").unwrap_err(),
            "template: t:1: function \"nope\" not defined"
        );
        assert_eq!(
            p("\n{{$x}}").unwrap_err(),
            "template: t:2: undefined variable \"$x\""
        );
        assert_eq!(
            p("{{break}}").unwrap_err(),
            "template: t:1: {{break}} outside {{range}}"
        );
        assert_eq!(
            p("{{}}").unwrap_err(),
            "template: t:1: missing value for command"
        );
        assert_eq!(
            p("{{.x | 3}}").unwrap_err(),
            "template: t:1: non executable command in pipeline stage 2"
        );
        assert_eq!(
            p("{{with $x := 1}}{{end}}{{$x}}").unwrap_err(),
            "template: t:1: undefined variable \"$x\""
        );
        assert_eq!(
            p("{{range $a, $b, $c := .}}{{end}}").unwrap_err(),
            "template: t:1: too many declarations in range"
        );
        assert_eq!(
            p("{{true.x}}").unwrap_err(),
            "template: t:1: unexpected . after term \"true\""
        );
        assert_eq!(
            p("{{3.x}}").unwrap_err(),
            "template: t:1: bad number syntax: \"3.x\""
        );
        assert_eq!(
            p("{{.x )}}").unwrap_err(),
            "template: t:1: unexpected right paren U+0029 ')'"
        );
        assert_eq!(
            p(r#"{{define "a"}}1{{end}}{{define "a"}}2{{end}}"#).unwrap_err(),
            "template: t:1: template: multiple definition of template \"a\""
        );
    }

    #[test]
    fn else_if_and_else_with_chain() {
        let t = p("{{if 1}}a{{else if 2}}b{{else}}c{{end}}").unwrap();
        let Node::If(b) = &t[0].root[0] else {
            panic!("not an if")
        };
        assert!(matches!(b.else_list.as_deref(), Some([Node::If(_)])));
        assert!(p("{{with 1}}a{{else with 2}}b{{end}}").is_ok());
        assert!(p("{{range .}}a{{else if 2}}b{{end}}").is_err());
    }

    #[test]
    fn field_chain_context_renders_like_go() {
        let t = p("{{(len .a).b | printf \"%d\" $}}").unwrap();
        let Node::Action(pipe) = &t[0].root[0] else {
            panic!("not an action")
        };
        assert_eq!(pipe.to_string(), "(len .a).b | printf \"%d\" $");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "{{".to_string() + &"(".repeat(5000) + "1" + &")".repeat(5000) + "}}";
        assert_eq!(p(&text).unwrap_err(), "template: t:1: max depth exceeded");
        let text = "{{if 1}}".repeat(5000);
        assert!(p(&text).is_err());
    }
}
