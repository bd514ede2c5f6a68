//! YAML output the way `kustomize build` prints it.
//!
//! kustomize v5 serialises each resource through JSON and sigs.k8s.io/yaml (go-yaml v2's
//! emitter): mapping keys sorted with go-yaml's "natural" key order, 2-space indentation,
//! sequences inside mappings not indented, strings quoted only when a plain scalar would read
//! back as another type, multi-line strings as literal blocks, and long plain or quoted
//! scalars folded at spaces past column 80. Scalars are typed with kyaml's rules
//! ([`Schema::KYaml`]), as kustomize reads its input with go-yaml v3.

use std::cmp::Ordering;

use super::node::{Node, Value};
use super::resolve::{looks_like_timestamp, resolve_plain, Resolved, Schema};

const BEST_WIDTH: usize = 80;

/// Emits documents separated by `---`, as `kustomize build` does (no leading separator).
pub fn emit_documents<'a>(docs: impl IntoIterator<Item = &'a Node>) -> String {
    let mut out = String::new();
    for (i, doc) in docs.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&emit_node(doc));
    }
    out
}

/// Emits one document (without a separator), ending with a newline.
pub fn emit_node(node: &Node) -> String {
    let mut w = Writer::default();
    w.top(node);
    w.out.push('\n');
    w.out
}

/// Emits documents as [`emit_documents`] does, with each scalar's [`Origin`] as a trailing
/// comment: `image: nginx:1.2 # apps/base/deployment.yaml:19:18 (images transformer)`
/// (`file:line:column`, then the `via` transformation in parentheses when there is one).
///
/// A literal block scalar gets its comment after the `|` header; mapping keys whose value is
/// a collection (and empty collections) get none. The output is valid YAML that parses to
/// the same values: only comments are added to [`emit_documents`]'s text.
///
/// [`Origin`]: super::node::Origin
pub fn emit_documents_with_origins<'a>(docs: impl IntoIterator<Item = &'a Node>) -> String {
    let mut out = String::new();
    for (i, doc) in docs.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let mut w = Writer {
            origins: true,
            ..Writer::default()
        };
        w.top(doc);
        w.out.push('\n');
        out.push_str(&w.out);
    }
    out
}

#[derive(Default)]
struct Writer {
    out: String,
    column: usize,
    /// Annotate scalars with their origin (see [`emit_documents_with_origins`]).
    origins: bool,
    /// The origin comment of the scalar being written, until it is placed.
    pending: Option<String>,
}

/// A scalar after typing, ready to print.
enum Atom<'a> {
    Text(String),
    Str(&'a str),
}

impl Writer {
    fn push(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.column = 0;
            } else {
                self.column += 1;
            }
        }
        self.out.push_str(s);
    }

    fn newline_indent(&mut self, indent: usize) {
        self.out.push('\n');
        self.column = 0;
        self.push(&" ".repeat(indent));
    }

    fn top(&mut self, node: &Node) {
        match &node.value {
            Value::Map(m) if !m.is_empty() => self.map_body(node, 0),
            Value::Seq(s) if !s.is_empty() => self.seq_body(node, 0),
            _ => self.inline_value(node, 0),
        }
    }

    /// Writes a non-empty mapping's entries; the cursor is at `indent` for the first key.
    fn map_body(&mut self, node: &Node, indent: usize) {
        let Some(m) = node.as_map() else { return };
        let mut entries: Vec<(String, &Node)> = m.iter().map(|(k, v)| (key_text(k), v)).collect();
        entries.sort_by(|a, b| natural_cmp(&a.0, &b.0));
        for (i, (key, value)) in entries.into_iter().enumerate() {
            if i > 0 {
                self.newline_indent(indent);
            }
            if is_simple_key(&key) {
                self.key(&key);
            } else {
                // go-yaml writes keys that cannot be simple keys in explicit `? ` form.
                self.push("? ");
                self.string(&key, indent + 2, false);
                self.newline_indent(indent);
            }
            self.push(":");
            self.map_value(value, indent);
        }
    }

    fn map_value(&mut self, value: &Node, indent: usize) {
        match &value.value {
            Value::Map(m) if !m.is_empty() => {
                self.newline_indent(indent + 2);
                self.map_body(value, indent + 2);
            }
            Value::Seq(s) if !s.is_empty() => {
                self.newline_indent(indent);
                self.seq_body(value, indent);
            }
            _ => {
                self.push(" ");
                self.inline_value(value, indent + 2);
            }
        }
    }

    /// Writes a non-empty sequence; the cursor is at `indent` for the first dash.
    fn seq_body(&mut self, node: &Node, indent: usize) {
        let Some(items) = node.as_seq() else { return };
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.newline_indent(indent);
            }
            self.push("- ");
            match &item.value {
                Value::Map(m) if !m.is_empty() => self.map_body(item, indent + 2),
                Value::Seq(s) if !s.is_empty() => self.seq_body(item, indent + 2),
                _ => self.inline_value(item, indent + 2),
            }
        }
    }

    /// Writes a scalar or an empty collection at the cursor; `indent` is for continuations.
    fn inline_value(&mut self, node: &Node, indent: usize) {
        match &node.value {
            Value::Map(_) => self.push("{}"),
            Value::Seq(_) => self.push("[]"),
            Value::Scalar(_) => {
                if self.origins {
                    self.pending = Some(origin_comment(node));
                }
                match atom(node) {
                    Atom::Text(t) => self.push(&t),
                    Atom::Str(s) => self.string(s, indent, false),
                }
                self.flush_comment();
            }
        }
    }

    /// Writes the pending origin comment, if any, at the cursor.
    fn flush_comment(&mut self) {
        if let Some(c) = self.pending.take() {
            self.out.push_str(" # ");
            self.out.push_str(&c);
        }
    }

    fn key(&mut self, key: &str) {
        let indent = self.column;
        self.string(key, indent, true);
    }

    fn string(&mut self, s: &str, indent: usize, simple_key: bool) {
        let a = analyze(s);
        let needs_quotes = !plain_reads_as_string(s);
        if s.contains('\n') && !simple_key {
            if a.block_allowed {
                return self.literal(s, indent);
            }
            return self.double_quoted(s, indent, !simple_key);
        }
        if !needs_quotes && a.block_plain_allowed && !(s.is_empty() && simple_key) {
            return self.plain(s, indent, !simple_key);
        }
        if needs_quotes || !a.single_quoted_allowed {
            if needs_quotes || a.single_quoted_allowed {
                // go-yaml v2 asks for double quotes when a plain scalar would change type.
                return self.double_quoted(s, indent, !simple_key);
            }
            return self.double_quoted(s, indent, !simple_key);
        }
        self.single_quoted(s, indent, !simple_key)
    }

    fn plain(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_space {
                    self.newline_indent(indent);
                } else {
                    self.push(" ");
                }
                spaces = true;
            } else {
                self.push_char(c);
                spaces = false;
            }
        }
    }

    fn single_quoted(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.push("'");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                let interior = i > 0 && i + 1 < chars.len();
                if allow_breaks && !spaces && self.column > BEST_WIDTH && interior && !next_space {
                    self.newline_indent(indent);
                } else {
                    self.push(" ");
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.push("'");
                }
                self.push_char(c);
                spaces = false;
            }
        }
        self.push("'");
    }

    fn double_quoted(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.push("\"");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if let Some(esc) = escape(c) {
                self.push(&esc);
                spaces = false;
            } else if c == ' ' {
                let interior = i > 0 && i + 1 < chars.len();
                if allow_breaks && !spaces && self.column > BEST_WIDTH && interior {
                    self.newline_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.push("\\");
                    }
                } else {
                    self.push(" ");
                }
                spaces = true;
            } else {
                self.push_char(c);
                spaces = false;
            }
        }
        self.push("\"");
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.push("|");
        if s.starts_with(' ') || s.starts_with('\n') {
            self.push("2");
        }
        if !s.ends_with('\n') {
            self.push("-");
        } else if s.len() == 1 || s[..s.len() - 1].ends_with('\n') {
            self.push("+");
        }
        self.flush_comment();
        let body = s.strip_suffix('\n').unwrap_or(s);
        for line in body.split('\n') {
            self.out.push('\n');
            self.column = 0;
            if !line.is_empty() {
                self.push(&" ".repeat(indent));
                self.push(line);
            }
        }
    }

    fn push_char(&mut self, c: char) {
        self.column += 1;
        self.out.push(c);
    }
}

/// `file:line:column (via)`, on one line.
fn origin_comment(node: &Node) -> String {
    let o = &node.origin;
    let mut c = o.to_string();
    if let Some(via) = &o.via {
        c.push_str(&format!(" ({via})"));
    }
    c.chars()
        .map(|ch| if ch.is_control() { ' ' } else { ch })
        .collect()
}

/// libyaml's simple-key check: at most 128 bytes and on one line.
fn is_simple_key(key: &str) -> bool {
    key.len() <= 128 && !key.chars().any(is_break)
}

fn key_text(k: &Node) -> String {
    match k.resolve_with(Schema::KYaml) {
        Some(Resolved::Null) => "null".to_string(),
        Some(_) => k.as_scalar().map(|s| s.text.clone()).unwrap_or_default(),
        None => String::new(),
    }
}

fn atom(node: &Node) -> Atom<'_> {
    match node.resolve_with(Schema::KYaml) {
        Some(Resolved::Null) | None => Atom::Text("null".into()),
        Some(Resolved::Bool(b)) => Atom::Text(b.to_string()),
        Some(Resolved::Int(n)) => Atom::Text(n.to_string()),
        Some(Resolved::Float(f)) => {
            Atom::Text(big_integer(node).unwrap_or_else(|| format_float(f)))
        }
        Some(Resolved::Str(s)) => Atom::Str(s),
    }
}

/// An integer literal beyond i64 but within u64 prints exactly (Go decodes it as uint64).
fn big_integer(node: &Node) -> Option<String> {
    let text = node.as_scalar()?.text.replace('_', "");
    let digits = text.strip_prefix('+').unwrap_or(&text);
    let n: u64 = digits.parse().ok()?;
    (n > i64::MAX as u64).then(|| n.to_string())
}

/// A float as it reads after kustomize's JSON round trip: integral values below 1e21 print
/// as integers (JSON gives `1000000`, which go-yaml reads back as an int); everything else
/// prints as Go's `strconv.FormatFloat(f, 'g', -1, 64)`.
fn format_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    if f.fract() == 0.0 && f.abs() < 1e21 {
        return format!("{}", f as i128);
    }
    go_format_g(f)
}

/// Go's `%g` with the shortest representation: exponent form when the decimal exponent is
/// below -4 or at least max(digits, 6)-ish (Go's `eprec` rule), else positional.
fn go_format_g(f: f64) -> String {
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let nd = digits.len() as i32;
    let dp = exp + 1;
    let mut eprec = 6;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    let sign = if f < 0.0 { "-" } else { "" };
    if exp < -4 || exp >= eprec {
        let (head, tail) = digits.split_at(1);
        let frac = if tail.is_empty() {
            String::new()
        } else {
            format!(".{tail}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{head}{frac}e{esign}{:02}", exp.abs());
    }
    if dp <= 0 {
        return format!("{sign}0.{}{digits}", "0".repeat((-dp) as usize));
    }
    let dp = dp as usize;
    if dp >= digits.len() {
        return format!("{sign}{digits}{}", "0".repeat(dp - digits.len()));
    }
    format!("{sign}{}.{}", &digits[..dp], &digits[dp..])
}

/// True when go-yaml v2 would read `s` back as a string if written plain.
fn plain_reads_as_string(s: &str) -> bool {
    if s.is_empty() || s == "<<" || looks_like_timestamp(s) || is_base60_float(s) {
        return false;
    }
    matches!(resolve_plain(s, Schema::Yaml11), Resolved::Str(_))
}

/// go-yaml v2's `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (main, frac) = match s.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (s, None),
    };
    if frac.is_some_and(|f| !f.chars().all(|c| c.is_ascii_digit() || c == '_')) {
        return false;
    }
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or("");
    let head_ok = head.starts_with(|c: char| c.is_ascii_digit())
        && head.chars().all(|c| c.is_ascii_digit() || c == '_');
    let rest: Vec<&str> = parts.collect();
    head_ok
        && !rest.is_empty()
        && rest.iter().all(|p| {
            let b = p.as_bytes();
            match b.len() {
                1 => b[0].is_ascii_digit(),
                2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
                _ => false,
            }
        })
}

fn escape(c: char) -> Option<String> {
    let simple = match c {
        '\0' => "\\0",
        '\u{7}' => "\\a",
        '\u{8}' => "\\b",
        '\t' => "\\t",
        '\n' => "\\n",
        '\u{b}' => "\\v",
        '\u{c}' => "\\f",
        '\r' => "\\r",
        '\u{1b}' => "\\e",
        '"' => "\\\"",
        '\\' => "\\\\",
        '\u{85}' => "\\N",
        '\u{a0}' => "\\_",
        '\u{2028}' => "\\L",
        '\u{2029}' => "\\P",
        _ => "",
    };
    if !simple.is_empty() {
        return Some(simple.to_string());
    }
    if is_printable(c) && c != '\u{feff}' {
        return None;
    }
    let n = c as u32;
    Some(if n <= 0xff {
        format!("\\x{n:02X}")
    } else if n <= 0xffff {
        format!("\\u{n:04X}")
    } else {
        format!("\\U{n:08X}")
    })
}

/// libyaml's `IS_PRINTABLE` as go-yaml (v2 and v3) ports it: a test on the UTF-8 bytes
/// that admits `\n`, ASCII `0x20..=0x7E`, `U+00A0..=U+D7FF` and `U+E000..=U+FFFD` but not
/// NEL (`U+0085`) nor anything beyond the Basic Multilingual Plane, so kubectl double-quotes
/// a string holding an emoji and writes it as `\U0001F440`.
fn is_printable(c: char) -> bool {
    matches!(c as u32, 0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD) && c != '\u{feff}'
}

#[derive(Debug)]
struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// libyaml's `yaml_emitter_analyze_scalar`, for block context.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut previous_space, mut previous_break) =
        (false, false, false, false);
    let (mut line_breaks, mut special) = (false, false);
    let mut preceded_by_ws = true;
    let last = chars.len() - 1;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_ws = chars.get(i + 1).is_none_or(|n| is_blank(*n));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= i == last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= i == last;
            space_break |= previous_space;
            previous_break = true;
            previous_space = false;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_ws = is_blank(c);
    }
    let mut a = Analysis {
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t' || is_break(c)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// go-yaml v2's key order (`keyList.Less`) as a total order: symbols sort before digit runs,
/// digit runs before letters; digit runs compare by value, then shorter first; letters and
/// symbols by code point; a prefix sorts first. Go's comparator is not transitive on some
/// inputs (digits differing mid-run), and Rust's sort requires a total order, so those rare
/// keys (never seen in Kubernetes objects) may order differently from go-yaml.
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (ta, tb) = (tokens(a), tokens(b));
    for (x, y) in ta.iter().zip(tb.iter()) {
        let o = x.cmp(y);
        if o != Ordering::Equal {
            return o;
        }
    }
    ta.len().cmp(&tb.len())
}

/// A key token; the derived order is symbols, then digit runs, then letters.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum KeyToken<'a> {
    Symbol(char),
    /// Digits without leading zeros (compared by length, then text), then the run's length.
    Number(usize, &'a str, usize),
    Letter(char),
}

fn tokens(s: &str) -> Vec<KeyToken<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_digit() {
            let len = rest
                .find(|ch: char| !ch.is_ascii_digit())
                .unwrap_or(rest.len());
            let run = &rest[..len];
            let value = run.trim_start_matches('0');
            out.push(KeyToken::Number(value.len(), value, len));
            rest = &rest[len..];
        } else {
            out.push(if c.is_alphabetic() {
                KeyToken::Letter(c)
            } else {
                KeyToken::Symbol(c)
            });
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_documents;

    fn roundtrip(src: &str) -> String {
        let docs = parse_documents("t.yaml".into(), src).expect("parses");
        emit_documents(docs.iter())
    }

    #[test]
    fn sorts_keys_and_flattens_flow_style() {
        let out = roundtrip("kind: Pod\napiVersion: v1\nspec:\n  args: ['sh', '-c', \"x y\"]\n");
        assert_eq!(
            out,
            "apiVersion: v1\nkind: Pod\nspec:\n  args:\n  - sh\n  - -c\n  - x y\n"
        );
    }

    #[test]
    fn quotes_strings_that_would_change_type() {
        let out =
            roundtrip("a: \"80\"\nb: 'yes'\nc: \"\"\nd: \"2021-01-01\"\ne: \"1:20\"\nf: yes\n");
        assert_eq!(
            out,
            "a: \"80\"\nb: \"yes\"\nc: \"\"\nd: \"2021-01-01\"\ne: \"1:20\"\nf: \"yes\"\n"
        );
    }

    #[test]
    fn indicators_force_single_quotes() {
        let out = roundtrip("a: '*'\nb: ': x'\nc: '- x'\nd: 'a #b'\ne: 'a:b'\n");
        assert_eq!(out, "a: '*'\nb: ': x'\nc: '- x'\nd: 'a #b'\ne: a:b\n");
    }

    /// kubectl kustomize (v1.35.2) prints `a: "\U0001F440 x"` and `b: "x\n\U0001F3F7 y"` for
    /// these: go-yaml's printable test stops at the Basic Multilingual Plane.
    #[test]
    fn characters_beyond_the_bmp_are_escaped_in_double_quotes() {
        let out = roundtrip("a: \"\u{1F440} x\"\nb: \"x\\n\u{1F3F7} y\"\nc: \"é ü\"\n");
        assert_eq!(
            out,
            "a: \"\\U0001F440 x\"\nb: \"x\\n\\U0001F3F7 y\"\nc: é ü\n"
        );
    }

    #[test]
    fn literal_blocks_with_chomping() {
        let out = roundtrip("a: \"x\\ny\"\nb: \"x\\n\"\nc: \"x\\n\\n\"\n");
        assert_eq!(out, "a: |-\n  x\n  y\nb: |\n  x\nc: |+\n  x\n\n");
    }

    #[test]
    fn long_plain_strings_fold_past_column_80() {
        let text = "ClusterClass is a template which can be used to create managed topologies.";
        let out = roundtrip(&format!(
            "a:\n  b:\n    c:\n      d:\n        description: {text}\n"
        ));
        assert!(
            out.contains("create managed\n          topologies."),
            "{out}"
        );
    }

    #[test]
    fn numbers_and_nulls() {
        let out = roundtrip("a: 1.0\nb: 0.5\nc: ~\nd: 0755\ne: {}\nf: []\n");
        assert_eq!(out, "a: 1\nb: 0.5\nc: null\nd: 493\ne: {}\nf: []\n");
    }

    #[test]
    fn floats_print_as_go_does() {
        let out = roundtrip("a: 123456789.123\nb: 1000000.5\nc: 100000.5\nd: 0.00001\ne: 1e21\nf: -2.5\ng: 12345678901234567890\n");
        assert_eq!(
            out,
            "a: 1.23456789123e+08\nb: 1.0000005e+06\nc: 100000.5\nd: 1e-05\ne: 1e+21\nf: -2.5\ng: 12345678901234567890\n"
        );
    }

    #[test]
    fn invalid_dates_are_not_quoted() {
        let out = roundtrip("a: \"2001-13-14\"\nb: \"2002-02-30\"\nc: \"2004-02-29\"\n");
        assert_eq!(out, "a: 2001-13-14\nb: 2002-02-30\nc: \"2004-02-29\"\n");
    }

    #[test]
    fn multi_line_and_long_keys_use_explicit_form() {
        // Found by the kustomization_loader fuzzer; expected bytes from kubectl kustomize.
        let long = "k".repeat(130);
        let out = roundtrip(&format!("data: {{\"a\\nb\": \"2\", {long}: x, c: d}}\n"));
        assert_eq!(
            out,
            format!("data:\n  ? |-\n    a\n    b\n  : \"2\"\n  c: d\n  ? {long}\n  : x\n")
        );
    }

    #[test]
    fn natural_key_order() {
        let mut keys = vec!["a10", "a9", "b", "-x", "A", "a", "7", "007", "x.y", "x1"];
        keys.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            keys,
            vec!["-x", "7", "007", "A", "a", "a9", "a10", "b", "x.y", "x1"]
        );
    }

    #[test]
    fn key_order_is_total_on_the_fuzzer_crash() {
        // Found by `cargo fuzz run yaml_parse`: go-yaml's comparator is not transitive here.
        let src = "x0:1:\n6336z6e66666666666666666666660 :\n630001000!00 :\n630080001]0)0!00 :\n";
        let docs = parse_documents("t.yaml".into(), src).expect("parses");
        emit_documents(docs.iter());
    }

    #[test]
    fn origins_as_trailing_comments() {
        let src = "a: 1\nb:\n  c: |\n    x\n    y\n  d: []\ne:\n- \"s\"\n- k: v\n";
        let docs = parse_documents("t.yaml".into(), src).expect("parses");
        let mut doc = docs[0].clone();
        if let Some(n) = doc.get_mut("a") {
            n.origin = n.origin.clone().with_via("images transformer");
        }
        let out = emit_documents_with_origins(docs.iter().chain([&doc]));
        assert_eq!(
            out,
            "a: 1 # t.yaml:1:4\nb:\n  c: | # t.yaml:4:5\n    x\n    y\n  d: []\ne:\n- s # t.yaml:8:3\n- k: v # t.yaml:9:6\n---\na: 1 # t.yaml:1:4 (images transformer)\nb:\n  c: | # t.yaml:4:5\n    x\n    y\n  d: []\ne:\n- s # t.yaml:8:3\n- k: v # t.yaml:9:6\n"
        );
        let again = parse_documents("u.yaml".into(), &out).expect("reparses");
        let plain = parse_documents("v.yaml".into(), &emit_documents(docs.iter())).expect("ok");
        assert_eq!(again[0].to_json(), plain[0].to_json());
    }

    #[test]
    fn origin_comments_leave_folded_scalars_intact() {
        let long = "word ".repeat(30);
        let src = format!("a:\n  b: \"{}\"\n  c: \"x\\n y \"\n", long.trim_end());
        let docs = parse_documents("t.yaml".into(), &src).expect("parses");
        let with = emit_documents_with_origins(docs.iter());
        let without = emit_documents(docs.iter());
        let stripped: String = with
            .lines()
            .map(|l| l.split(" # t.yaml").next().unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(stripped + "\n", without);
        let again = parse_documents("u.yaml".into(), &with).expect("reparses");
        assert_eq!(again[0].to_json(), docs[0].to_json());
    }

    #[test]
    fn nested_sequences_and_maps_in_sequences() {
        let out = roundtrip("l:\n- name: a\n  v: 1\n- - x\n  - z\n");
        assert_eq!(out, "l:\n- name: a\n  v: 1\n- - x\n  - z\n");
    }
}
