//! Sprig's value conversions (`strval`, `cast.ToInt64`, `cast.ToFloat64`) and its type,
//! default and logic functions: `toString toStrings int int64 float64 atoi kindOf kindIs
//! typeOf typeIs typeIsLike deepEqual default empty coalesce ternary`.

use super::{arg, f, fv, str_list, A, B, S};
use crate::{FuncMap, Value};

/// Sprig's `strval`: strings as they are, everything else as Go's `fmt.Sprintf("%v")`.
pub fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// Sprig's `empty` (reflection over Go zero values): nil, false, 0, and empty strings,
/// lists and maps are empty; structs and functions are not.
pub fn is_empty(v: &Value) -> bool {
    !v.is_true()
}

/// `spf13/cast.ToInt64` as Sprig calls it (errors become 0): integers as they are, floats
/// truncated toward zero, bools 1/0, strings parsed by `strconv.ParseInt(s, 0, 0)` after a
/// trailing `.0…` is trimmed (so `"0x1F"` is 31 and `"1.5"` is 0), anything else 0.
pub fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Float(x) if x.is_nan() => i64::MIN,
        Value::Float(x) => *x as i64,
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_go_int(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// `spf13/cast.ToFloat64` (errors become 0): numbers, bools 1/0, strings by
/// `strconv.ParseFloat`.
pub fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(x) => *x,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => parse_go_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

fn trim_zero_decimal(s: &str) -> &str {
    match s.split_once('.') {
        Some((head, tail)) if !head.is_empty() && tail.bytes().all(|b| b == b'0') => head,
        _ => s,
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal input (also `Inf`, `NaN`, underscores rejected).
pub fn parse_go_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if matches!(body, "inf" | "infinity" | "nan") {
        return s.parse().ok();
    }
    if body.is_empty() || !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    s.parse().ok()
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, `0x`/`0o`/`0b`/leading-`0` prefixes,
/// underscores between digits when a prefix is present.
pub fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    let digits = if prefixed && digits.contains('_') {
        if digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
            return None;
        }
        digits.replace('_', "")
    } else {
        digits
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let mag = i128::from_str_radix(&digits, radix).ok()?;
    let v = if neg { -mag } else { mag };
    i64::try_from(v).ok()
}

/// Go's reflect kind name of a value (Sprig's `kindOf`).
pub fn kind_of(v: &Value) -> String {
    match v {
        Value::Nil => "invalid".into(),
        Value::Bool(_) => "bool".into(),
        Value::Int(_) => "int".into(),
        Value::Float(_) => "float64".into(),
        Value::String(_) => "string".into(),
        Value::List(_) => "slice".into(),
        Value::Map(_) => "map".into(),
        Value::Func(_) => "func".into(),
        Value::Object(o) if o.type_name().starts_with('*') => "ptr".into(),
        Value::Object(_) => "struct".into(),
    }
}

/// Sprig's `typeOf` (`fmt.Sprintf("%T")`).
pub fn type_of(v: &Value) -> String {
    v.go_type()
}

/// Sprig's `strslice`: a list's elements as strings (nil elements dropped), a nil value as an
/// empty list, anything else as a one-element list.
pub fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l
            .iter()
            .filter(|x| !matches!(x, Value::Nil))
            .map(strval)
            .collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

pub(super) fn register(m: &mut FuncMap) {
    m.insert("toString", f(&[A], |a| Ok(strval(arg(a, 0)).into())));
    m.insert("toStrings", f(&[A], |a| Ok(str_list(strslice(arg(a, 0))))));
    m.insert("int", f(&[A], |a| Ok(Value::Int(to_int64(arg(a, 0))))));
    m.insert("int64", f(&[A], |a| Ok(Value::Int(to_int64(arg(a, 0))))));
    m.insert(
        "float64",
        f(&[A], |a| Ok(Value::Float(to_float64(arg(a, 0))))),
    );
    m.insert(
        "atoi",
        f(&[S], |a| {
            let s = super::sarg(a, 0);
            let parsed = s.strip_prefix('+').unwrap_or(s).parse::<i64>().ok();
            Ok(Value::Int(
                parsed.filter(|_| !s.starts_with("+-")).unwrap_or(0),
            ))
        }),
    );
    m.insert("kindOf", f(&[A], |a| Ok(kind_of(arg(a, 0)).into())));
    m.insert(
        "kindIs",
        f(&[S, A], |a| {
            Ok(Value::Bool(super::sarg(a, 0) == kind_of(arg(a, 1))))
        }),
    );
    m.insert("typeOf", f(&[A], |a| Ok(type_of(arg(a, 0)).into())));
    m.insert(
        "typeIs",
        f(&[S, A], |a| {
            Ok(Value::Bool(super::sarg(a, 0) == type_of(arg(a, 1))))
        }),
    );
    m.insert(
        "typeIsLike",
        f(&[S, A], |a| {
            let (target, t) = (super::sarg(a, 0), type_of(arg(a, 1)));
            Ok(Value::Bool(target == t || format!("*{target}") == t))
        }),
    );
    m.insert(
        "deepEqual",
        f(&[A, A], |a| Ok(Value::Bool(arg(a, 0) == arg(a, 1)))),
    );
    register_logic(m);
}

fn register_logic(m: &mut FuncMap) {
    m.insert(
        "default",
        fv(&[A], A, |a| {
            let given = a.get(1..).unwrap_or(&[]);
            match given.first() {
                Some(g) if !is_empty(g) => Ok(g.clone()),
                _ => Ok(arg(a, 0).clone()),
            }
        }),
    );
    m.insert("empty", f(&[A], |a| Ok(Value::Bool(is_empty(arg(a, 0))))));
    m.insert(
        "coalesce",
        fv(&[], A, |a| {
            Ok(a.iter().find(|v| !is_empty(v)).cloned().unwrap_or_default())
        }),
    );
    m.insert(
        "all",
        fv(&[], A, |a| Ok(Value::Bool(a.iter().all(|v| !is_empty(v))))),
    );
    m.insert(
        "any",
        fv(&[], A, |a| Ok(Value::Bool(a.iter().any(|v| !is_empty(v))))),
    );
    m.insert(
        "ternary",
        f(&[A, A, B], |a| {
            let pick = matches!(arg(a, 2), Value::Bool(true));
            Ok(arg(a, if pick { 0 } else { 1 }).clone())
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{err, r, render};
    use super::*;

    #[test]
    fn cast_semantics() {
        assert_eq!(to_int64(&Value::Float(1e6)), 1_000_000);
        assert_eq!(to_int64(&Value::Float(-2.7)), -2);
        assert_eq!(to_int64(&"0x1F".into()), 31);
        assert_eq!(to_int64(&"010".into()), 8);
        assert_eq!(to_int64(&"12.00".into()), 12);
        assert_eq!(to_int64(&"1.5".into()), 0);
        assert_eq!(to_int64(&"abc".into()), 0);
        assert_eq!(to_float64(&"3.25".into()), 3.25);
        assert_eq!(to_float64(&Value::Bool(true)), 1.0);
    }

    #[test]
    fn conversions() {
        let data = Value::map([("n", Value::Float(1e6)), ("x", Value::Float(3.0))]);
        assert_eq!(render("{{ int .n }}", &data).unwrap(), "1000000");
        assert_eq!(render("{{ .n }}", &data).unwrap(), "1e+06");
        assert_eq!(render("{{ toString .n }}", &data).unwrap(), "1e+06");
        assert_eq!(render("{{ int64 \"42\" }}", &data).unwrap(), "42");
        assert_eq!(r("{{ float64 \"1.5\" }}"), "1.5");
        assert_eq!(r("{{ atoi \"12\" }} {{ atoi \"x\" }}"), "12 0");
        assert_eq!(r("{{ toStrings (list 1 2 nil \"a\") }}"), "[1 2 a]");
        assert_eq!(r("{{ toString nil }}"), "<nil>");
    }

    #[test]
    fn kinds_and_types() {
        let data = Value::map([("m", Value::map([("a", Value::Int(1))]))]);
        assert_eq!(
            render(
                "{{ kindOf .m }} {{ typeOf .m }} {{ kindIs \"map\" .m }}",
                &data
            )
            .unwrap(),
            "map map[string]interface {} true"
        );
        assert_eq!(
            r("{{ kindOf (list) }} {{ kindOf 1 }} {{ kindOf 1.5 }}"),
            "slice int float64"
        );
        assert_eq!(
            r("{{ typeIs \"string\" \"x\" }} {{ typeOf nil }}"),
            "true <nil>"
        );
        assert_eq!(r("{{ deepEqual (list 1 2) (list 1 2) }}"), "true");
    }

    #[test]
    fn defaults_and_logic() {
        // Sprig docs: `default "foo" .Bar` gives foo when .Bar is empty.
        assert_eq!(r("{{ default \"foo\" \"\" }}"), "foo");
        assert_eq!(r("{{ default \"foo\" \"bar\" }}"), "bar");
        assert_eq!(
            r("{{ default 3 0 }} {{ default 3 false }} {{ default 3 (list) }}"),
            "3 3 3"
        );
        assert_eq!(r("{{ default \"foo\" }}"), "foo");
        assert_eq!(
            r("{{ empty 0 }} {{ empty \"x\" }} {{ empty (dict) }}"),
            "true false true"
        );
        assert_eq!(r("{{ coalesce 0 \"\" \"x\" \"y\" }}"), "x");
        assert_eq!(r("{{ coalesce 0 \"\" }}"), "<no value>");
        assert_eq!(
            r("{{ ternary \"a\" \"b\" true }} {{ true | ternary 1 2 }}"),
            "a 1"
        );
        assert!(err("{{ ternary 1 2 \"x\" }}").contains("expected bool"));
    }
}
