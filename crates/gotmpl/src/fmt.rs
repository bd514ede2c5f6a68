//! Go's `fmt` as templates reach it: `Sprint`, `Sprintln`, `Sprintf` over [`Value`]s, and
//! `strconv.Quote`. Verbs: `%v %s %d %q %x %X %o %b %c %U %e %E %f %F %g %G %t %%` with the
//! flags `- + # 0 space`, widths and precisions (also `*`). Go's error forms are kept:
//! `%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA int=1)`.

use super::value::{decimal_digits, fmt_e, format_float_g, Value};

/// Go's `fmt.Sprint`: operands joined, with a space between two operands when neither is a
/// string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        out.push_str(&a.to_string());
        prev_string = is_string;
    }
    out
}

/// Go's `fmt.Sprintln`: operands joined by spaces, then a newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut s = args
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    s.push('\n');
    s
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"');
    }
    out.push('"');
    out
}

fn push_escaped(out: &mut String, c: char, quote: char) {
    match c {
        _ if c == quote || c == '\\' => {
            out.push('\\');
            out.push(c);
        }
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        _ if is_print(c) => out.push(c),
        _ if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        _ if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        _ => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// Approximates Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the
/// ASCII space; not controls, other spaces, format characters or private use.
pub(crate) fn is_print(c: char) -> bool {
    let u = c as u32;
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(u,
        0xA0 | 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202F | 0x205F..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0xE000..=0xF8FF | 0xF0000..)
}

/// Go's `%#U`: `U+0041 'A'`.
pub(crate) fn go_unicode(c: char) -> String {
    if is_print(c) {
        format!("U+{:04X} '{c}'", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Go's `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut argi = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        // Past the string budget the caller refuses the result: stop building it.
        if out.len() > super::MAX_STRING_BYTES {
            return out;
        }
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                '0' => spec.zero = true,
                ' ' => spec.space = true,
                _ => break,
            }
            chars.next();
        }
        if chars.peek() == Some(&'*') {
            chars.next();
            match args.get(argi) {
                Some(Value::Int(w)) => {
                    if *w < 0 {
                        spec.minus = true;
                    }
                    spec.width = Some(w.unsigned_abs().min(1 << 20) as usize);
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            argi += 1;
        } else {
            spec.width = read_num(&mut chars);
        }
        if chars.peek() == Some(&'.') {
            chars.next();
            if chars.peek() == Some(&'*') {
                chars.next();
                match args.get(argi) {
                    Some(Value::Int(p)) if *p >= 0 => spec.prec = Some((*p).min(1 << 20) as usize),
                    _ => out.push_str("%!(BADPREC)"),
                }
                argi += 1;
            } else {
                spec.prec = Some(read_num(&mut chars).unwrap_or(0));
            }
        }
        if spec.minus {
            spec.zero = false;
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(argi) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        argi += 1;
        out.push_str(&format_arg(arg, verb, spec));
    }
    if argi < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[argi..]
            .iter()
            .map(|a| match a {
                Value::Nil => "<nil>".to_string(),
                a => format!("{}={a}", a.go_type()),
            })
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

fn read_num(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        chars.next();
        n = Some((n.unwrap_or(0) * 10 + d as usize).min(1 << 20));
    }
    n
}

fn bad_verb(arg: &Value, verb: char) -> String {
    match arg {
        Value::Nil => format!("%!{verb}(<nil>)"),
        a => format!("%!{verb}({}={a})", a.go_type()),
    }
}

fn format_arg(arg: &Value, verb: char, spec: Spec) -> String {
    if verb == 'T' {
        // `%T`: the Go type of the operand (`<nil>` for nil), padded like a string.
        return pad(&arg.go_type(), spec, false);
    }
    match arg {
        Value::Nil => match verb {
            'v' => pad("<nil>", spec, false),
            _ => bad_verb(arg, verb),
        },
        Value::Bool(b) => match verb {
            'v' | 't' => pad(if *b { "true" } else { "false" }, spec, false),
            _ => bad_verb(arg, verb),
        },
        Value::Int(i) => format_int(*i, verb, spec).unwrap_or_else(|| bad_verb(arg, verb)),
        Value::Float(x) => format_float(*x, verb, spec).unwrap_or_else(|| bad_verb(arg, verb)),
        Value::String(s) => format_str(s, verb, spec).unwrap_or_else(|| bad_verb(arg, verb)),
        Value::List(l) => {
            let items: Vec<String> = l.iter().map(|v| format_arg(v, verb, spec)).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Map(m) => {
            let items: Vec<String> = m
                .read()
                .iter()
                .map(|(k, v)| {
                    let key = format_str(k, verb, spec)
                        .unwrap_or_else(|| bad_verb(&k.as_str().into(), verb));
                    format!("{key}:{}", format_arg(v, verb, spec))
                })
                .collect();
            format!("map[{}]", items.join(" "))
        }
        Value::Func(_) | Value::Object(_) => match verb {
            'v' | 's' => pad(&arg.to_string(), spec, false),
            _ => bad_verb(arg, verb),
        },
    }
}

/// Pads `s` to the width in runes; `numeric` zero padding goes after the sign.
fn pad(s: &str, spec: Spec, numeric: bool) -> String {
    let Some(w) = spec.width else {
        return s.to_string();
    };
    let n = s.chars().count();
    if n >= w {
        return s.to_string();
    }
    let fill = w - n;
    if spec.minus {
        return format!("{s}{}", " ".repeat(fill));
    }
    if spec.zero {
        if numeric {
            if let Some(rest) = s.strip_prefix(['+', '-', ' ']) {
                return format!("{}{}{rest}", &s[..1], "0".repeat(fill));
            }
        }
        return format!("{}{s}", "0".repeat(fill));
    }
    format!("{}{s}", " ".repeat(fill))
}

fn format_int(i: i64, verb: char, spec: Spec) -> Option<String> {
    let u = i.unsigned_abs();
    let (mut digits, prefix) = match verb {
        'v' | 'd' => (u.to_string(), ""),
        'b' => (format!("{u:b}"), "0b"),
        'o' | 'O' => (format!("{u:o}"), if verb == 'O' { "0o" } else { "0" }),
        'x' => (format!("{u:x}"), "0x"),
        'X' => (format!("{u:X}"), "0X"),
        'c' => {
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            return Some(pad(&c.to_string(), spec, false));
        }
        'q' => {
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            let mut s = String::from("'");
            push_escaped(&mut s, c, '\'');
            s.push('\'');
            return Some(pad(&s, spec, false));
        }
        'U' => {
            let s = format!("U+{u:04X}");
            return Some(pad(&s, spec, false));
        }
        _ => return None,
    };
    if let Some(p) = spec.prec {
        if p == 0 && i == 0 {
            digits.clear();
        } else if digits.len() < p {
            digits = format!("{}{digits}", "0".repeat(p - digits.len()));
        }
    }
    let mut body = String::new();
    let wants_prefix = (spec.sharp && matches!(verb, 'b' | 'o' | 'x' | 'X')) || verb == 'O';
    if wants_prefix && !(verb == 'o' && digits.starts_with('0')) {
        body.push_str(prefix);
    }
    body.push_str(&digits);
    let sign = if i < 0 {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let mut spec = spec;
    if spec.prec.is_some() {
        spec.zero = false;
    }
    if spec.zero && !sign.is_empty() {
        return Some(pad(&format!("{sign}{body}"), spec, true));
    }
    if spec.zero {
        if let Some(w) = spec.width {
            if body.len() < w {
                return Some(format!("{}{body}", "0".repeat(w - body.len())));
            }
        }
        return Some(body);
    }
    Some(pad(&format!("{sign}{body}"), spec, false))
}

fn format_float(x: f64, verb: char, spec: Spec) -> Option<String> {
    let upper = verb.is_ascii_uppercase();
    let body = if x.is_nan() {
        "NaN".to_string()
    } else if x.is_infinite() {
        "Inf".to_string()
    } else {
        let a = x.abs();
        match verb {
            'v' => format_float_g(a, spec.prec, false),
            'g' | 'G' => format_float_g(a, spec.prec, upper),
            'e' | 'E' => {
                let p = spec.prec.unwrap_or(6);
                let (d, dp) = decimal_digits(a, Some(p + 1));
                fmt_e(&d, dp, p, upper)
            }
            'f' | 'F' => {
                let p = spec.prec.unwrap_or(6);
                format!("{a:.p$}")
            }
            _ => return None,
        }
    };
    let sign = if x.is_sign_negative() && !x.is_nan() {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else if x.is_infinite() {
        "+"
    } else {
        ""
    };
    let mut spec = spec;
    if !x.is_finite() {
        spec.zero = false;
    }
    let s = format!("{sign}{body}");
    if x.is_infinite() && !spec.plus && !spec.space && spec.width.is_none() {
        return Some(s);
    }
    Some(pad(&s, spec, true))
}

fn format_str(s: &str, verb: char, spec: Spec) -> Option<String> {
    match verb {
        'v' | 's' => {
            let t: String = match spec.prec {
                Some(p) => s.chars().take(p).collect(),
                None => s.to_string(),
            };
            Some(pad(&t, spec, false))
        }
        'q' => {
            let t: String = match spec.prec {
                Some(p) => s.chars().take(p).collect(),
                None => s.to_string(),
            };
            let q = if spec.sharp && !t.contains('`') && t.chars().all(|c| c == '\t' || is_print(c))
            {
                format!("`{t}`")
            } else {
                go_quote(&t)
            };
            Some(pad(&q, spec, false))
        }
        'x' | 'X' => {
            let bytes = s.as_bytes();
            let bytes = match spec.prec {
                Some(p) => &bytes[..p.min(bytes.len())],
                None => bytes,
            };
            let mut out = String::new();
            for (i, b) in bytes.iter().enumerate() {
                if spec.space && i > 0 {
                    out.push(' ');
                }
                if spec.sharp && (spec.space || i == 0) {
                    out.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                if verb == 'x' {
                    out.push_str(&format!("{b:02x}"));
                } else {
                    out.push_str(&format!("{b:02X}"));
                }
            }
            Some(pad(&out, spec, false))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, args: &[Value]) -> String {
        sprintf(fmt, args)
    }

    #[test]
    fn printf_verbs_from_go_fmt_docs() {
        assert_eq!(f("%05.2f", &[Value::Float(3.14158)]), "03.14");
        assert_eq!(
            f(
                "%d|%5d|%-5d|%05d",
                &[5.into(), 5.into(), 5.into(), Value::Int(-5)]
            ),
            "5|    5|5    |-0005"
        );
        assert_eq!(
            f(
                "%+d %x %X %o %b",
                &[5.into(), 255.into(), 255.into(), 8.into(), 5.into()]
            ),
            "+5 ff FF 10 101"
        );
        assert_eq!(
            f(
                "%s|%10s|%-4s|%.2s",
                &["ab".into(), "ab".into(), "ab".into(), "héllo".into()]
            ),
            "ab|        ab|ab  |hé"
        );
        assert_eq!(f("%q", &["a\"b\n".into()]), "\"a\\\"b\\n\"");
        assert_eq!(
            f("%v %v", &[Value::Float(1e6), Value::Float(2.5)]),
            "1e+06 2.5"
        );
        assert_eq!(f("%t %v", &[true.into(), Value::Nil]), "true <nil>");
        assert_eq!(f("%x", &["hi".into()]), "6869");
        assert_eq!(f("%e", &[Value::Float(1234.5678)]), "1.234568e+03");
        assert_eq!(f("%g", &[Value::Float(0.000012)]), "1.2e-05");
        assert_eq!(f("%.3f", &[Value::Float(2.0)]), "2.000");
        assert_eq!(f("%f", &[Value::Float(-0.5)]), "-0.500000");
        assert_eq!(f("%6.2f|", &[Value::Float(3.14158)]), "  3.14|");
        assert_eq!(
            f("%c %q %U", &[65.into(), 65.into(), 65.into()]),
            "A 'A' U+0041"
        );
        assert_eq!(f("100%%", &[]), "100%");
        assert_eq!(f("%05s", &["ab".into()]), "000ab");
        assert_eq!(f("%*d", &[3.into(), 7.into()]), "  7");
    }

    #[test]
    fn printf_errors_like_go() {
        assert_eq!(f("%d", &["x".into()]), "%!d(string=x)");
        assert_eq!(f("%s", &[5.into()]), "%!s(int=5)");
        assert_eq!(f("%d %d", &[1.into()]), "1 %!d(MISSING)");
        assert_eq!(f("%d", &[1.into(), "a".into()]), "1%!(EXTRA string=a)");
        assert_eq!(f("%d", &[Value::Nil]), "%!d(<nil>)");
        assert_eq!(f("%d", &[Value::Float(1.5)]), "%!d(float64=1.5)");
    }

    #[test]
    fn collections_apply_the_verb_to_elements() {
        let l = Value::list(vec![1.into(), 2.into()]);
        assert_eq!(f("%v", std::slice::from_ref(&l)), "[1 2]");
        assert_eq!(f("%03d", &[l]), "[001 002]");
        let m = Value::map([("b", Value::Int(2)), ("a", Value::Int(1))]);
        assert_eq!(f("%v", &[m]), "map[a:1 b:2]");
    }

    #[test]
    fn sprint_spacing_follows_go() {
        assert_eq!(sprint(&[1.into(), 2.into()]), "1 2");
        assert_eq!(
            sprint(&["a".into(), 1.into(), 2.into(), "b".into()]),
            "a1 2b"
        );
        assert_eq!(sprintln(&["a".into(), 1.into()]), "a 1\n");
    }

    #[test]
    fn quote_escapes() {
        assert_eq!(go_quote("a\tb\u{1}é"), "\"a\\tb\\x01é\"");
        assert_eq!(go_quote("\u{a0}"), "\"\\u00a0\"");
    }
}
