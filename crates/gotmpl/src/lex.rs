//! The template lexer, mirroring Go's `text/template/parse/lex.go`: text and actions with
//! `{{`/`}}` delimiters, `{{-`/`-}}` trim markers (which need an ASCII space next to the dash),
//! comments `{{/* */}}`, and the tokens inside actions.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Error,
    Eof,
    Text,
    LeftDelim,
    RightDelim,
    Space,
    Assign,
    Declare,
    Pipe,
    String,
    RawString,
    /// A printable ASCII character inside an action, such as `,`.
    Char,
    CharConstant,
    Number,
    Complex,
    Variable,
    Field,
    Dot,
    Identifier,
    Bool,
    Nil,
    LeftParen,
    RightParen,
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Range,
    Template,
    With,
}

impl Kind {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            Kind::Block
                | Kind::Break
                | Kind::Continue
                | Kind::Define
                | Kind::Else
                | Kind::End
                | Kind::If
                | Kind::Range
                | Kind::Template
                | Kind::With
                | Kind::Nil
        )
    }
}

/// One token: its kind and the byte range of its text in the source (`pos..end`). `Copy`:
/// the parser's look-ahead copies tokens freely. An `Error` token's text is the lexer's error
/// message (see [`Lexed::text`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Token {
    pub kind: Kind,
    start: u32,
    stop: u32,
}

impl Token {
    /// A token of `kind` at bytes `pos..end`. Offsets are stored as `u32` (12-byte tokens: a
    /// 1 MB template lexes into megabytes of them); [`lex`] refuses sources longer than
    /// `u32::MAX` bytes.
    pub fn new(kind: Kind, pos: usize, end: usize) -> Token {
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Token {
            kind,
            start: narrow(pos),
            stop: narrow(end),
        }
    }

    /// Byte offset of the token's first byte.
    pub fn pos(&self) -> usize {
        self.start as usize
    }

    /// Byte offset just past the token.
    pub fn end(&self) -> usize {
        self.stop as usize
    }

    /// 1-based line of the token's first byte in `src`, as Go's `item.line`. Counted on
    /// demand (only parse errors need it), which keeps newline counting out of lexing.
    pub fn line(&self, src: &str) -> usize {
        1 + count_newlines(src.get(..self.pos()).unwrap_or(src))
    }
}

/// The tokens of a source text, and the error message when lexing stopped at an error.
pub(crate) struct Lexed {
    /// The tokens; the last is `Eof` or `Error`.
    pub toks: Vec<Token>,
    /// The message of the `Error` token (empty when there is none).
    pub error: String,
}

impl Lexed {
    /// The text of `t` in `src` (the text lexed), or the error message for an `Error` token.
    pub fn text<'a>(&'a self, src: &'a str, t: &Token) -> &'a str {
        match t.kind {
            Kind::Error => &self.error,
            _ => src.get(t.pos()..t.end()).unwrap_or(""),
        }
    }

    /// Go's `item.String()` of `t`, used in "unexpected X in Y" parse errors.
    pub fn describe(&self, src: &str, t: &Token) -> String {
        let val = self.text(src, t);
        match t.kind {
            Kind::Eof => "EOF".to_string(),
            Kind::Error => val.to_string(),
            k if k.is_keyword() => format!("<{val}>"),
            _ if val.chars().count() > 10 => {
                let head: String = val.chars().take(10).collect();
                format!("{}...", super::fmt::go_quote(&head))
            }
            _ => super::fmt::go_quote(val),
        }
    }
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

fn has_left_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

fn count_newlines(s: &str) -> usize {
    s.bytes().filter(|&b| b == b'\n').count()
}

/// Tokenizes the whole input. The last token is `Eof` or `Error` (lexing stops at an error;
/// a source longer than `u32::MAX` bytes is one).
pub(crate) fn lex(input: &str) -> Lexed {
    if u32::try_from(input.len()).is_err() {
        return Lexed {
            toks: vec![Token::new(Kind::Error, 0, 0)],
            error: "template text longer than 4 GiB".into(),
        };
    }
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        paren_depth: 0,
        // About one token per 8 bytes of chart templates; one reservation, not a doubling
        // series of copies.
        out: Vec::with_capacity(input.len() / 8 + 4),
        error: String::new(),
    };
    l.run();
    Lexed {
        toks: l.out,
        error: l.error,
    }
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    paren_depth: i32,
    out: Vec<Token>,
    error: String,
}

enum State {
    Text,
    Inside,
    Done,
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        self.input.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        match self.input.as_bytes().get(self.pos) {
            Some(&b) if b.is_ascii() => Some(b as char),
            _ => self.rest().chars().next(),
        }
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn emit(&mut self, kind: Kind) {
        self.out.push(Token::new(kind, self.start, self.pos));
        self.start = self.pos;
    }

    fn ignore(&mut self) {
        self.start = self.pos;
    }

    fn error(&mut self, msg: String) -> State {
        self.out
            .push(Token::new(Kind::Error, self.start, self.start));
        self.error = msg;
        State::Done
    }

    fn run(&mut self) {
        let mut state = State::Text;
        loop {
            state = match state {
                State::Text => self.lex_text(),
                State::Inside => self.lex_inside(),
                State::Done => return,
            };
        }
    }

    fn lex_text(&mut self) -> State {
        let Some(x) = memchr::memmem::find(self.rest().as_bytes(), LEFT.as_bytes()) else {
            self.pos = self.input.len();
            if self.pos > self.start {
                self.emit(Kind::Text);
            }
            self.emit(Kind::Eof);
            return State::Done;
        };
        self.pos += x;
        let after = self.pos + LEFT.len();
        let trim = if has_left_trim(&self.input[after..]) {
            let text = &self.input[self.start..self.pos];
            text.len() - text.trim_end_matches(is_space).len()
        } else {
            0
        };
        self.pos -= trim;
        if self.pos > self.start {
            self.emit(Kind::Text);
        }
        self.pos += trim;
        self.ignore();
        self.lex_left_delim()
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim(rest) && rest[2..].starts_with(RIGHT) {
            return (true, true);
        }
        (rest.starts_with(RIGHT), false)
    }

    fn lex_left_delim(&mut self) -> State {
        self.pos += LEFT.len();
        let trim = has_left_trim(self.rest());
        let after = if trim { 2 } else { 0 };
        if self.rest()[after..].starts_with("/*") {
            self.pos += after;
            self.ignore();
            return self.lex_comment();
        }
        self.emit(Kind::LeftDelim);
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        State::Inside
    }

    fn lex_comment(&mut self) -> State {
        self.pos += 2;
        let Some(i) = self.rest().find("*/") else {
            return self.error("unclosed comment".into());
        };
        self.pos += i + 2;
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.error("comment ends before closing delimiter".into());
        }
        if trim {
            self.pos += 2;
        }
        self.pos += RIGHT.len();
        if trim {
            self.skip_left_space();
        }
        self.ignore();
        State::Text
    }

    fn skip_left_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches(is_space).len();
    }

    fn lex_right_delim(&mut self) -> State {
        let trim = has_right_trim(self.rest());
        if trim {
            self.pos += 2;
            self.ignore();
        }
        self.pos += RIGHT.len();
        self.emit(Kind::RightDelim);
        if trim {
            self.skip_left_space();
            self.ignore();
        }
        State::Text
    }

    fn lex_inside(&mut self) -> State {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return self.lex_right_delim();
            }
            return self.error("unclosed left paren".into());
        }
        let Some(c) = self.next() else {
            return self.error("unclosed action".into());
        };
        match c {
            c if is_space(c) => {
                self.pos -= 1;
                return self.lex_space();
            }
            '=' => self.emit(Kind::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return self.error("expected :=".into());
                }
                self.emit(Kind::Declare);
            }
            '|' => self.emit(Kind::Pipe),
            '"' => return self.lex_quote(),
            '`' => return self.lex_raw_quote(),
            '$' => return self.lex_variable(),
            '\'' => return self.lex_char(),
            '.' if self.peek().is_some_and(|d| !d.is_ascii_digit()) => {
                return self.lex_field_or_variable(Kind::Field)
            }
            '.' | '+' | '-' | '0'..='9' => {
                self.pos -= 1;
                return self.lex_number();
            }
            c if is_alnum(c) => {
                self.pos -= c.len_utf8();
                return self.lex_identifier();
            }
            '(' => {
                self.emit(Kind::LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.error("unexpected right paren U+0029 ')'".into());
                }
                self.emit(Kind::RightParen);
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(Kind::Char),
            c => {
                return self.error(format!(
                    "unrecognized character in action: {}",
                    super::fmt::go_unicode(c)
                ))
            }
        }
        State::Inside
    }

    fn lex_space(&mut self) -> State {
        let mut n = 0;
        while self.peek().is_some_and(is_space) {
            self.next();
            n += 1;
        }
        let before = self.pos - 1;
        let tail = &self.input[before..];
        if has_right_trim(tail) && tail[2..].starts_with(RIGHT) {
            self.pos = before;
            if n == 1 {
                return self.lex_right_delim();
            }
        }
        self.emit(Kind::Space);
        State::Inside
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(' | '}') => true,
            _ => false,
        }
    }

    fn bad_char(&mut self) -> State {
        let c = self.peek().unwrap_or('\u{FFFD}');
        self.error(format!("bad character {}", super::fmt::go_unicode(c)))
    }

    fn lex_identifier(&mut self) -> State {
        while self.peek().is_some_and(is_alnum) {
            self.next();
        }
        if !self.at_terminator() {
            return self.bad_char();
        }
        let kind = match &self.input[self.start..self.pos] {
            "block" => Kind::Block,
            "break" => Kind::Break,
            "continue" => Kind::Continue,
            "define" => Kind::Define,
            "else" => Kind::Else,
            "end" => Kind::End,
            "if" => Kind::If,
            "range" => Kind::Range,
            "nil" => Kind::Nil,
            "template" => Kind::Template,
            "with" => Kind::With,
            "true" | "false" => Kind::Bool,
            _ => Kind::Identifier,
        };
        self.emit(kind);
        State::Inside
    }

    fn lex_variable(&mut self) -> State {
        if self.at_terminator() {
            self.emit(Kind::Variable);
            return State::Inside;
        }
        self.lex_field_or_variable(Kind::Variable)
    }

    fn lex_field_or_variable(&mut self, kind: Kind) -> State {
        if self.at_terminator() {
            self.emit(if kind == Kind::Variable {
                Kind::Variable
            } else {
                Kind::Dot
            });
            return State::Inside;
        }
        while self.peek().is_some_and(is_alnum) {
            self.next();
        }
        if !self.at_terminator() {
            return self.bad_char();
        }
        self.emit(kind);
        State::Inside
    }

    fn lex_char(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some(c) if c != '\n' => {}
                    _ => return self.error("unterminated character constant".into()),
                },
                None | Some('\n') => return self.error("unterminated character constant".into()),
                Some('\'') => break,
                _ => {}
            }
        }
        self.emit(Kind::CharConstant);
        State::Inside
    }

    fn lex_quote(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some(c) if c != '\n' => {}
                    _ => return self.error("unterminated quoted string".into()),
                },
                None | Some('\n') => return self.error("unterminated quoted string".into()),
                Some('"') => break,
                _ => {}
            }
        }
        self.emit(Kind::String);
        State::Inside
    }

    fn lex_raw_quote(&mut self) -> State {
        loop {
            match self.next() {
                None => return self.error("unterminated raw quoted string".into()),
                Some('`') => break,
                _ => {}
            }
        }
        self.emit(Kind::RawString);
        State::Inside
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.next();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alnum) {
            self.next();
            return false;
        }
        true
    }

    fn lex_number(&mut self) -> State {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_string();
            return self.error(format!(
                "bad number syntax: {}",
                super::fmt::go_quote(&text)
            ));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let text = self.input[self.start..self.pos].to_string();
                return self.error(format!(
                    "bad number syntax: {}",
                    super::fmt::go_quote(&text)
                ));
            }
            self.emit(Kind::Complex);
            return State::Inside;
        }
        self.emit(Kind::Number);
        State::Inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Kind, String)> {
        let l = lex(s);
        l.toks
            .iter()
            .map(|t| (t.kind, l.text(s, t).to_string()))
            .collect()
    }

    #[test]
    fn trim_markers_eat_surrounding_space() {
        let toks = kinds("a  {{- 3 -}}  b");
        assert_eq!(toks[0], (Kind::Text, "a".into()));
        assert_eq!(toks[2], (Kind::Number, "3".into()));
        assert_eq!(toks[4], (Kind::Text, "b".into()));
    }

    #[test]
    fn dash_without_space_is_a_number() {
        let toks = kinds("{{-3}}");
        assert_eq!(toks[1], (Kind::Number, "-3".into()));
    }

    #[test]
    fn comments_vanish_and_trim() {
        let toks = kinds("x {{- /* c */ -}} y");
        assert_eq!(toks[0], (Kind::Text, "x".into()));
        assert_eq!(toks[1], (Kind::Text, "y".into()));
    }

    #[test]
    fn comment_errors() {
        assert_eq!(kinds("{{/* x").last().unwrap().1, "unclosed comment");
        assert_eq!(
            kinds("{{/* x */ }}").last().unwrap().1,
            "comment ends before closing delimiter"
        );
    }

    #[test]
    fn lexes_fields_variables_and_keywords() {
        let toks: Vec<Kind> = lex("{{range $i, $e := .a.b}}")
            .toks
            .iter()
            .map(|t| t.kind)
            .collect();
        assert_eq!(
            toks,
            vec![
                Kind::LeftDelim,
                Kind::Range,
                Kind::Space,
                Kind::Variable,
                Kind::Char,
                Kind::Space,
                Kind::Variable,
                Kind::Space,
                Kind::Declare,
                Kind::Space,
                Kind::Field,
                Kind::Field,
                Kind::RightDelim,
                Kind::Eof
            ]
        );
    }

    #[test]
    fn lex_errors_name_the_problem() {
        assert_eq!(kinds("{{").last().unwrap().1, "unclosed action");
        assert_eq!(
            kinds("{{\"abc}}").last().unwrap().1,
            "unterminated quoted string"
        );
        assert_eq!(
            kinds("{{3k}}").last().unwrap().1,
            "bad number syntax: \"3k\""
        );
        assert_eq!(kinds("{{(3}}").last().unwrap().1, "unclosed left paren");
        assert_eq!(kinds("{{a:b}}").last().unwrap().1, "expected :=");
    }

    #[test]
    fn lines_are_counted() {
        let src = "a\nb{{\n.x}}";
        let toks = lex(src).toks;
        let field = toks.iter().find(|t| t.kind == Kind::Field).unwrap();
        assert_eq!(field.line(src), 3);
    }
}
