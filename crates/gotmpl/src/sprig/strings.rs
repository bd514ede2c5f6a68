//! Sprig's string functions (`functions.go`, `strings.go`, `regex.go`): case, trimming,
//! truncation, indentation, wrapping, splitting/joining, quoting and regular expressions.
//! Lengths and offsets are in bytes, as Go's; a cut inside a multi-byte character is
//! replaced lossily.

use regex::Regex;

use super::conv::{strslice, strval};
use super::{arg, f, fv, iarg, sarg, str_list, A, I, S};
use crate::fmt::go_quote;
use crate::{string_budget_error, MAX_STRING_BYTES};
use crate::{FuncMap, Value};

fn s1(body: fn(&str) -> String) -> crate::Function {
    f(&[S], move |a| Ok(body(sarg(a, 0)).into()))
}

fn s2(body: fn(&str, &str) -> String) -> crate::Function {
    f(&[S, S], move |a| Ok(body(sarg(a, 0), sarg(a, 1)).into()))
}

fn b2(body: fn(&str, &str) -> bool) -> crate::Function {
    f(&[S, S], move |a| {
        Ok(Value::Bool(body(sarg(a, 0), sarg(a, 1))))
    })
}

/// Go's byte slice `s[from..to]`, lossy when it cuts a character.
fn byte_slice(s: &str, from: usize, to: usize) -> String {
    String::from_utf8_lossy(s.as_bytes().get(from..to).unwrap_or(&[])).into_owned()
}

pub(super) fn register(m: &mut FuncMap) {
    m.insert("upper", s1(str::to_uppercase));
    m.insert("lower", s1(str::to_lowercase));
    m.insert("title", s1(title));
    m.insert("untitle", s1(untitle));
    m.insert(
        "trim",
        s1(|s| s.trim_matches(char::is_whitespace).to_string()),
    );
    m.insert(
        "nospace",
        s1(|s| s.chars().filter(|c| !c.is_whitespace()).collect()),
    );
    m.insert("camelcase", s1(camelcase));
    m.insert("hello", f(&[], |_| Ok("Hello!".into())));
    m.insert("swapcase", s1(swapcase));
    m.insert(
        "trimAll",
        s2(|cut, s| s.trim_matches(|c| cut.contains(c)).to_string()),
    );
    m.insert(
        "trimall",
        s2(|cut, s| s.trim_matches(|c| cut.contains(c)).to_string()),
    );
    m.insert(
        "trimPrefix",
        s2(|p, s| s.strip_prefix(p).unwrap_or(s).to_string()),
    );
    m.insert(
        "trimSuffix",
        s2(|p, s| s.strip_suffix(p).unwrap_or(s).to_string()),
    );
    m.insert("contains", b2(|sub, s| s.contains(sub)));
    m.insert("hasPrefix", b2(|p, s| s.starts_with(p)));
    m.insert("hasSuffix", b2(|p, s| s.ends_with(p)));
    m.insert(
        "replace",
        f(&[S, S, S], |a| {
            let (old, new, s) = (sarg(a, 0), sarg(a, 1), sarg(a, 2));
            if new.len() > old.len() {
                let hits = if old.is_empty() {
                    s.chars().count() + 1
                } else {
                    s.matches(old).count()
                };
                let size = s.len() as u128 + hits as u128 * (new.len() - old.len()) as u128;
                if size > MAX_STRING_BYTES as u128 {
                    return Err(string_budget_error("replace", size));
                }
            }
            Ok(s.replace(old, new).into())
        }),
    );
    m.insert(
        "repeat",
        f(&[I, S], |a| {
            let n = iarg(a, 0);
            if n < 0 {
                return Err("strings: negative Repeat count".into());
            }
            let size = n as u128 * sarg(a, 1).len() as u128;
            if size > MAX_STRING_BYTES as u128 {
                return Err(string_budget_error("repeat", size));
            }
            Ok(sarg(a, 1).repeat(n as usize).into())
        }),
    );
    m.insert(
        "trunc",
        f(&[I, S], |a| Ok(trunc(iarg(a, 0), sarg(a, 1)).into())),
    );
    m.insert(
        "substr",
        f(&[I, I, S], |a| substr(iarg(a, 0), iarg(a, 1), sarg(a, 2))),
    );
    m.insert(
        "abbrev",
        f(&[I, S], |a| Ok(abbrev(iarg(a, 0), sarg(a, 1)).into())),
    );
    m.insert(
        "indent",
        f(&[I, S], |a| Ok(indent(iarg(a, 0), sarg(a, 1))?.into())),
    );
    m.insert(
        "nindent",
        f(&[I, S], |a| {
            Ok(format!("\n{}", indent(iarg(a, 0), sarg(a, 1))?).into())
        }),
    );
    m.insert(
        "wrap",
        f(&[I, S], |a| {
            Ok(wrap(sarg(a, 1), iarg(a, 0), "\n", false).into())
        }),
    );
    m.insert(
        "wrapWith",
        f(&[I, S, S], |a| {
            Ok(wrap(sarg(a, 2), iarg(a, 0), sarg(a, 1), true).into())
        }),
    );
    m.insert(
        "plural",
        f(&[S, S, I], |a| {
            Ok(arg(a, if iarg(a, 2) == 1 { 0 } else { 1 }).clone())
        }),
    );
    register_join(m);
    register_quote(m);
    register_regex(m);
}

fn register_join(m: &mut FuncMap) {
    m.insert(
        "cat",
        fv(&[], A, |a| {
            let parts: Vec<String> = a
                .iter()
                .filter(|v| !matches!(v, Value::Nil))
                .map(|v| v.to_string())
                .collect();
            Ok(parts.join(" ").into())
        }),
    );
    m.insert(
        "join",
        f(&[S, A], |a| Ok(strslice(arg(a, 1)).join(sarg(a, 0)).into())),
    );
    m.insert(
        "splitList",
        f(&[S, S], |a| {
            Ok(str_list(go_split(sarg(a, 1), sarg(a, 0), -1)))
        }),
    );
    m.insert(
        "split",
        f(&[S, S], |a| {
            Ok(indexed(go_split(sarg(a, 1), sarg(a, 0), -1)))
        }),
    );
    m.insert(
        "splitn",
        f(&[S, I, S], |a| {
            Ok(indexed(go_split(sarg(a, 2), sarg(a, 0), iarg(a, 1))))
        }),
    );
}

fn register_quote(m: &mut FuncMap) {
    m.insert(
        "quote",
        fv(&[], A, |a| Ok(quote_all(a, |s| go_quote(&s)).into())),
    );
    m.insert(
        "squote",
        fv(&[], A, |a| Ok(quote_all(a, |s| format!("'{s}'")).into())),
    );
}

/// Sprig's `quote`/`squote`: each non-nil argument's `strval`, quoted, joined by spaces.
fn quote_all(a: &[Value], q: fn(String) -> String) -> String {
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !matches!(v, Value::Nil))
        .map(|v| q(strval(v)))
        .collect();
    parts.join(" ")
}

/// `split`'s map: `_0`, `_1`, ... to the parts.
fn indexed(parts: Vec<String>) -> Value {
    Value::map(
        parts
            .into_iter()
            .enumerate()
            .map(|(i, p)| (format!("_{i}"), Value::from(p))),
    )
}

/// Go's `strings.SplitN(s, sep, n)` (`n < 0`: all; `n == 0`: none; empty `sep` splits into
/// characters).
pub(crate) fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let limit = if n < 0 { usize::MAX } else { n as usize };
    if sep.is_empty() {
        let chars: Vec<char> = s.chars().collect();
        let mut out: Vec<String> = Vec::new();
        for (i, c) in chars.iter().enumerate() {
            if out.len() + 1 == limit {
                out.push(chars[i..].iter().collect());
                return out;
            }
            out.push(c.to_string());
        }
        return out;
    }
    s.splitn(limit, sep).map(str::to_string).collect()
}

/// huandu/xstrings `SwapCase`: upper-case letters lowered, lower-case letters raised.
fn swapcase(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_uppercase() {
            out.extend(c.to_lowercase());
        } else if c.is_lowercase() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Go's `strings.Title`: upper-cases the first letter of each word.
fn title(s: &str) -> String {
    let mut prev = ' ';
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_separator(prev) {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

/// Go's `strings.Title` word separator test.
fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphanumeric() {
        return false;
    }
    c.is_whitespace()
}

/// Sprig's `untitle`: lower-cases the first letter of each space-separated word.
fn untitle(s: &str) -> String {
    let mut prev_space = true;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if prev_space && c.is_uppercase() {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        prev_space = c.is_whitespace();
    }
    out
}

/// huandu/xstrings `ToCamelCase`: connectors (`_`, `-`, spaces) removed and the following
/// letter upper-cased; the first letter upper-cased; leading connectors kept.
fn camelcase(s: &str) -> String {
    let is_conn = |c: char| c == '_' || c == '-' || c.is_whitespace();
    let mut chars = s.chars();
    let mut out = String::new();
    let mut r0 = None;
    for c in chars.by_ref() {
        if !is_conn(c) {
            r0 = Some(c.to_uppercase().next().unwrap_or(c));
            break;
        }
        out.push(c);
    }
    let Some(mut r0) = r0 else { return out };
    for c in chars {
        let r1 = r0;
        r0 = c;
        if is_conn(r0) && is_conn(r1) {
            out.push(r1);
            continue;
        }
        if is_conn(r1) {
            r0 = r0.to_uppercase().next().unwrap_or(r0);
        } else {
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

/// Sprig's `trunc`: the first `c` bytes, or for negative `c` the last `-c` bytes.
fn trunc(c: i64, s: &str) -> String {
    let len = s.len() as i64;
    if c < 0 && len + c > 0 {
        return byte_slice(s, (len + c) as usize, s.len());
    }
    if c >= 0 && len > c {
        return byte_slice(s, 0, c as usize);
    }
    s.to_string()
}

/// Sprig's `substr start end s` (negative start: from 0; negative or too large end: to the
/// end). Out-of-range bounds fail as Go's slice panic does.
fn substr(start: i64, end: i64, s: &str) -> Result<Value, String> {
    let len = s.len() as i64;
    let (from, to) = if start < 0 {
        (0, end)
    } else if end < 0 || end > len {
        (start, len)
    } else {
        (start, end)
    };
    if to < 0 || to > len || from > to {
        return Err(format!(
            "runtime error: slice bounds out of range [{from}:{to}] with length {len}"
        ));
    }
    Ok(byte_slice(s, from as usize, to as usize).into())
}

/// Sprig's `abbrev` (goutils `Abbreviate`): strings longer than `width` cut to `width - 3`
/// bytes plus `...`; widths below 4 leave the string unchanged.
fn abbrev(width: i64, s: &str) -> String {
    if width < 4 || s.len() as i64 <= width {
        return s.to_string();
    }
    format!("{}...", byte_slice(s, 0, (width - 3) as usize))
}

/// Sprig's `indent`: `n` spaces before the text and after every newline in it; a negative
/// `n` fails as Go's `strings.Repeat` panics.
fn indent(n: i64, s: &str) -> Result<String, String> {
    if n < 0 {
        return Err("strings: negative Repeat count".into());
    }
    let lines = 1 + s.matches('\n').count() as u128;
    let size = s.len() as u128 + lines * n as u128;
    if size > MAX_STRING_BYTES as u128 {
        return Err(string_budget_error("indent", size));
    }
    let pad = " ".repeat(n as usize);
    Ok(format!("{pad}{}", s.replace('\n', &format!("\n{pad}"))))
}

/// goutils `WrapCustom(s, width, newline, wrapLongWords)` as Sprig's `wrap`/`wrapWith`.
fn wrap(s: &str, width: i64, newline: &str, long_words: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let nl = if newline.is_empty() { "\n" } else { newline };
    let width = width.max(1) as usize;
    let b = s.as_bytes();
    let (len, mut off) = (b.len(), 0usize);
    let mut out = String::new();
    while len - off > width {
        if b.get(off) == Some(&b' ') {
            off += 1;
            continue;
        }
        let end = (width + off + 1).min(len);
        let space = s.get(off..end).and_then(|w| w.rfind(' ')).map(|i| i + off);
        if let Some(at) = space {
            out.push_str(&byte_slice(s, off, at));
            out.push_str(nl);
            off = at + 1;
        } else if long_words {
            out.push_str(&byte_slice(s, off, off + width));
            out.push_str(nl);
            off += width;
        } else {
            match s.get(width + off..).and_then(|t| t.find(' ')) {
                None => {
                    out.push_str(&byte_slice(s, off, len));
                    off = len;
                }
                Some(i) => {
                    let at = i + width + off;
                    out.push_str(&byte_slice(s, off, at));
                    out.push_str(nl);
                    off = at + 1;
                }
            }
        }
    }
    out.push_str(&byte_slice(s, off, len));
    out
}

/// Compiles a Go RE2 pattern. Go's Perl classes `\d \w \s` (and negations) are ASCII-only
/// while Rust's are Unicode-aware, so they are rewritten to ASCII classes first. Compiled
/// patterns are cached per thread (a chart calls the same `regex*` function once per object).
fn compile(re: &str) -> Result<Regex, String> {
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, Regex>> =
            std::cell::RefCell::default();
    }
    if let Some(r) = CACHE.with(|c| c.borrow().get(re).cloned()) {
        return Ok(r);
    }
    let r = Regex::new(&ascii_perl_classes(re))
        .map_err(|e| format!("regexp: Compile({}): {e}", go_quote(re)))?;
    CACHE.with(|c| c.borrow_mut().insert(re.to_string(), r.clone()));
    Ok(r)
}

/// Rewrites `\d \D \w \W \s \S` to Go's ASCII meanings, inside and outside brackets.
fn ascii_perl_classes(re: &str) -> String {
    let mut out = String::with_capacity(re.len());
    let mut chars = re.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push(c);
                    break;
                };
                let class = match n {
                    'd' => "[:digit:]",
                    'D' => "[:^digit:]",
                    'w' => "[:word:]",
                    'W' => "[:^word:]",
                    's' => "\\t\\n\\x0C\\r ",
                    'S' => "[:^space:]",
                    _ => "",
                };
                if class.is_empty() {
                    out.push(c);
                    out.push(n);
                } else if in_class {
                    out.push_str(class);
                } else {
                    out.push_str(&format!("[{class}]"));
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push(']');
                    chars.next();
                }
            }
            '[' if chars.peek() == Some(&':') => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == ']' {
                        break;
                    }
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn register_regex(m: &mut FuncMap) {
    m.insert(
        "regexMatch",
        f(&[S, S], |a| {
            Ok(Value::Bool(
                compile(sarg(a, 0)).is_ok_and(|r| r.is_match(sarg(a, 1))),
            ))
        }),
    );
    m.insert(
        "mustRegexMatch",
        f(&[S, S], |a| {
            Ok(Value::Bool(compile(sarg(a, 0))?.is_match(sarg(a, 1))))
        }),
    );
    m.insert(
        "regexFind",
        f(&[S, S], |a| {
            let r = compile(sarg(a, 0))?;
            Ok(r.find(sarg(a, 1)).map_or("", |m| m.as_str()).into())
        }),
    );
    m.insert(
        "regexFindAll",
        f(&[S, S, I], |a| {
            let r = compile(sarg(a, 0))?;
            let n = iarg(a, 2);
            let limit = if n < 0 { usize::MAX } else { n as usize };
            Ok(str_list(
                r.find_iter(sarg(a, 1))
                    .take(limit)
                    .map(|m| m.as_str().to_string()),
            ))
        }),
    );
    m.insert(
        "regexReplaceAll",
        f(&[S, S, S], |a| {
            let r = compile(sarg(a, 0))?;
            Ok(r.replace_all(sarg(a, 1), sarg(a, 2)).into_owned().into())
        }),
    );
    m.insert(
        "regexReplaceAllLiteral",
        f(&[S, S, S], |a| {
            let r = compile(sarg(a, 0))?;
            Ok(r.replace_all(sarg(a, 1), regex::NoExpand(sarg(a, 2)))
                .into_owned()
                .into())
        }),
    );
    m.insert(
        "regexSplit",
        f(&[S, S, I], |a| {
            let r = compile(sarg(a, 0))?;
            Ok(str_list(regex_split(&r, sarg(a, 1), iarg(a, 2))))
        }),
    );
    for name in [
        "regexFind",
        "regexFindAll",
        "regexReplaceAll",
        "regexReplaceAllLiteral",
        "regexSplit",
    ] {
        if let Some(func) = m.get(name).cloned() {
            m.insert(&format!("must{}{}", "R", &name[1..]), func);
        }
    }
    m.insert("regexQuoteMeta", s1(regex::escape));
}

/// Go's `Regexp.Split(s, n)`.
fn regex_split(r: &Regex, s: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if !r.as_str().is_empty() && s.is_empty() {
        return vec![String::new()];
    }
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let mut out = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for m in r.find_iter(s).take(limit) {
        if n > 0 && out.len() == limit - 1 {
            break;
        }
        end = m.start();
        if m.end() != 0 {
            out.push(byte_slice(s, beg, end));
        }
        beg = m.end();
    }
    if end != s.len() {
        out.push(byte_slice(s, beg, s.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{err, r, render};
    use crate::Value;

    #[test]
    fn case_and_trim() {
        // Expected values from the Sprig string function docs.
        assert_eq!(
            r(r#"{{ upper "hello" }} {{ lower "HELLO" }}"#),
            "HELLO hello"
        );
        assert_eq!(
            r(r#"{{ title "hello world" }}|{{ untitle "Hello World" }}"#),
            "Hello World|hello world"
        );
        assert_eq!(
            r(r#"{{ trim "   hello    " }}|{{ trimAll "$" "$5.00" }}"#),
            "hello|5.00"
        );
        assert_eq!(
            r(r#"{{ trimSuffix "-" "hello-" }} {{ trimPrefix "-" "-hello" }}"#),
            "hello hello"
        );
        assert_eq!(r(r#"{{ nospace "hello w o r l d" }}"#), "helloworld");
        assert_eq!(r(r#"{{ camelcase "http_server" }}"#), "HttpServer");
        // Sprig docs: swapcase "This Is A.Test" → "tHIS iS a.tEST".
        assert_eq!(r(r#"{{ swapcase "This Is A.Test" }}"#), "tHIS iS a.tEST");
    }

    #[test]
    fn cutting() {
        assert_eq!(
            r(r#"{{ trunc 5 "hello world" }}|{{ trunc -5 "hello world" }}"#),
            "hello|world"
        );
        assert_eq!(r(r#"{{ trunc 63 "short" }}"#), "short");
        assert_eq!(r(r#"{{ substr 0 5 "hello world" }}"#), "hello");
        assert_eq!(r(r#"{{ abbrev 5 "hello world" }}"#), "he...");
        assert_eq!(r(r#"{{ repeat 3 "hello" }}"#), "hellohellohello");
        assert_eq!(
            r(r#"{{ replace " " "-" "I Am Henry VIII" }}"#),
            "I-Am-Henry-VIII"
        );
        assert!(err(r#"{{ substr 3 1 "abcdef" }}"#).contains("slice bounds out of range"));
    }

    #[test]
    fn indentation_and_wrapping() {
        assert_eq!(r(r#"{{ indent 4 "a\nb" }}"#), "    a\n    b");
        assert_eq!(r(r#"{{ "a: 1\nb: 2" | nindent 2 }}"#), "\n  a: 1\n  b: 2");
        assert_eq!(r(r#"{{ wrap 80 "short" }}"#), "short");
        assert!(err(r#"{{ indent -1 "x" }}"#).contains("negative Repeat count"));
        assert_eq!(r(r#"{{ wrap 5 "Hello World" }}"#), "Hello\nWorld");
        assert_eq!(r(r#"{{ wrapWith 5 "\t" "Hello World" }}"#), "Hello\tWorld");
        assert_eq!(r(r#"{{ wrap 3 "abcdefgh ij" }}"#), "abcdefgh\nij");
        // indent requires an int: a float64 from values fails as Go's reflection does.
        let data = Value::map([("n", Value::Float(2.0))]);
        assert!(render("{{ indent .n \"x\" }}", &data)
            .unwrap_err()
            .contains("expected int"));
    }

    #[test]
    fn quoting() {
        assert_eq!(
            r(r#"{{ quote "a\"b" }} {{ squote "x" }} {{ quote 1 2 }}"#),
            r#""a\"b" 'x' "1" "2""#
        );
        assert_eq!(r(r#"{{ quote nil }}|{{ quote }}"#), "|");
        let data = Value::map([("f", Value::Float(1.0)), ("b", Value::Bool(true))]);
        assert_eq!(
            render("{{ .f | quote }} {{ .b | quote }}", &data).unwrap(),
            r#""1" "true""#
        );
        assert_eq!(
            r(r#"{{ cat "hello" "beautiful" "world" }}"#),
            "hello beautiful world"
        );
        assert_eq!(r(r#"{{ cat "a" nil 1 }}"#), "a 1");
    }

    #[test]
    fn split_join() {
        assert_eq!(r(r#"{{ join "-" (list "a" "b" 1) }}"#), "a-b-1");
        assert_eq!(r(r#"{{ splitList "$" "foo$bar$baz" }}"#), "[foo bar baz]");
        assert_eq!(
            r(r#"{{ $a := split "$" "foo$bar$baz" }}{{ $a._0 }} {{ $a._2 }}"#),
            "foo baz"
        );
        assert_eq!(
            r(r#"{{ $a := splitn "$" 2 "foo$bar$baz" }}{{ $a._0 }} {{ $a._1 }}"#),
            "foo bar$baz"
        );
        assert_eq!(r(r#"{{ splitList "" "abc" }}"#), "[a b c]");
        assert_eq!(
            r(
                r#"{{ contains "cat" "catch" }} {{ hasPrefix "cat" "catch" }} {{ hasSuffix "x" "catch" }}"#
            ),
            "true true false"
        );
    }

    #[test]
    fn regexes() {
        assert_eq!(
            r(
                r#"{{ regexMatch "^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[A-Za-z]{2,}$" "test@acme.com" }}"#
            ),
            "true"
        );
        assert_eq!(
            r(r#"{{ regexFindAll "[2,4,6,8]" "123456789" -1 }}"#),
            "[2 4 6 8]"
        );
        assert_eq!(
            r(r#"{{ regexFindAll "[2,4,6,8]" "123456789" 2 }}"#),
            "[2 4]"
        );
        assert_eq!(r(r#"{{ regexFind "[a-zA-Z][1-9]" "abcd1234" }}"#), "d1");
        assert_eq!(
            r(r#"{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}"#),
            "-W-xxW-"
        );
        assert_eq!(
            r(r#"{{ regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}" }}"#),
            "-${1}-${1}-"
        );
        assert_eq!(r(r#"{{ regexSplit "z+" "pizza" -1 }}"#), "[pi a]");
        assert_eq!(r(r#"{{ regexSplit "z+" "pizza" 1 }}"#), "[pizza]");
        assert!(err(r#"{{ regexFind "(" "x" }}"#).contains("regexp: Compile"));
        // Go's \d, \w and \s are ASCII-only.
        assert_eq!(
            r(r#"{{ regexMatch "^\\d+$" "١٢" }} {{ regexMatch "^\\d+$" "12" }}"#),
            "false true"
        );
        assert_eq!(
            r(r#"{{ regexFindAll "[\\w-]+" "añb-c d" -1 }}"#),
            "[a b-c d]"
        );
        assert_eq!(
            r(r#"{{ regexReplaceAll "\\s+" "a \t b" "_" }} {{ regexSplit "[^\\S]" "a b" -1 }}"#),
            "a_b [a b]"
        );
    }
}
