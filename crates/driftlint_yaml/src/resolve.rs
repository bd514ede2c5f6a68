//! Scalar type resolution as the Go YAML libraries Kubernetes tools use do it.
//!
//! * [`Schema::Yaml11`] mirrors go-yaml v2 as wrapped by sigs.k8s.io/yaml (what `kubectl apply`
//!   and the API machinery read): `y/yes/on/n/no/off` are booleans, `0755` is octal (493),
//!   `1_000` is 1000, timestamps stay strings.
//! * [`Schema::KYaml`] mirrors go-yaml v3 as used by kustomize's kyaml: only `true/false`
//!   spellings are booleans, everything else as above.

use super::node::{Node, ScalarStyle, Value};

/// Which resolution rules to apply to plain scalars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// go-yaml v2 / sigs.k8s.io/yaml (YAML 1.1 booleans).
    Yaml11,
    /// go-yaml v3 / kyaml (YAML 1.2 booleans, 1.1 octal kept).
    KYaml,
}

/// A scalar's typed value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resolved<'a> {
    /// `null`, `~`, empty.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer that fits in i64.
    Int(i64),
    /// A float (also integers too large for i64).
    Float(f64),
    /// A string.
    Str(&'a str),
}

/// Resolves the text of a plain scalar under `schema`.
pub fn resolve_plain(text: &str, schema: Schema) -> Resolved<'_> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        _ => {}
    }
    if schema == Schema::Yaml11 {
        match text {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return Resolved::Bool(true),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => return Resolved::Bool(false),
            _ => {}
        }
    }
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return Resolved::Str(text);
    }
    let plain = text.replace('_', "");
    if let Some(n) = parse_go_int(&plain) {
        return n;
    }
    if is_yaml_float(&plain) {
        if let Ok(f) = plain.parse::<f64>() {
            return Resolved::Float(f);
        }
    }
    Resolved::Str(text)
}

/// Go's `strconv.ParseInt(s, 0, 64)` (with a ParseUint fallback giving a float), as go-yaml
/// uses it: `0x`, `0o`, `0b` prefixes and a leading `0` for octal.
fn parse_go_int(s: &str) -> Option<Resolved<'static>> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    let signed = if neg {
        -(magnitude as i128)
    } else {
        magnitude as i128
    };
    match i64::try_from(signed) {
        Ok(n) => Some(Resolved::Int(n)),
        Err(_) if signed >= 0 && signed <= u64::MAX as i128 => Some(Resolved::Float(signed as f64)),
        Err(_) => None,
    }
}

/// go-yaml's float pattern: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if int_digits == 0 && i == frac_start {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

/// True when `text` is a YAML timestamp (`2001-12-14`, `2001-12-14t21:59:43.10-05:00`) that
/// Go's `time.Parse` accepts; go-yaml v2 quotes such strings on output.
pub fn looks_like_timestamp(text: &str) -> bool {
    super::timestamp::rfc3339(text).is_some()
}

impl Node {
    /// The typed value of a scalar under sigs.k8s.io/yaml rules; None for collections.
    pub fn resolve(&self) -> Option<Resolved<'_>> {
        self.resolve_with(Schema::Yaml11)
    }

    /// The typed value of a scalar under `schema`; None for collections.
    pub fn resolve_with(&self, schema: Schema) -> Option<Resolved<'_>> {
        let Value::Scalar(s) = &self.value else {
            return None;
        };
        if let Some(tag) = s.tag.as_deref() {
            return Some(resolve_tagged(tag, &s.text, schema));
        }
        Some(match s.style {
            ScalarStyle::Plain => resolve_plain(&s.text, schema),
            _ => Resolved::Str(&s.text),
        })
    }
}

fn resolve_tagged<'a>(tag: &str, text: &'a str, schema: Schema) -> Resolved<'a> {
    let r = resolve_plain(text, schema);
    match (tag, r) {
        ("!!null", _) => Resolved::Null,
        ("!!bool", Resolved::Bool(b)) => Resolved::Bool(b),
        ("!!int", Resolved::Int(n)) => Resolved::Int(n),
        ("!!float", Resolved::Float(f)) => Resolved::Float(f),
        ("!!float", Resolved::Int(n)) => Resolved::Float(n as f64),
        _ => Resolved::Str(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml11_booleans_and_kyaml_strings() {
        assert_eq!(resolve_plain("yes", Schema::Yaml11), Resolved::Bool(true));
        assert_eq!(resolve_plain("off", Schema::Yaml11), Resolved::Bool(false));
        assert_eq!(resolve_plain("yes", Schema::KYaml), Resolved::Str("yes"));
        assert_eq!(resolve_plain("True", Schema::KYaml), Resolved::Bool(true));
    }

    #[test]
    fn numbers_follow_go_parse_int() {
        assert_eq!(resolve_plain("0755", Schema::Yaml11), Resolved::Int(493));
        assert_eq!(resolve_plain("0x1F", Schema::Yaml11), Resolved::Int(31));
        assert_eq!(resolve_plain("1_000", Schema::Yaml11), Resolved::Int(1000));
        assert_eq!(resolve_plain("-3", Schema::Yaml11), Resolved::Int(-3));
        assert_eq!(resolve_plain("08", Schema::Yaml11), Resolved::Float(8.0));
        assert_eq!(
            resolve_plain("1e3", Schema::Yaml11),
            Resolved::Float(1000.0)
        );
        assert_eq!(resolve_plain("1.5", Schema::Yaml11), Resolved::Float(1.5));
        assert_eq!(
            resolve_plain("1.2.3", Schema::Yaml11),
            Resolved::Str("1.2.3")
        );
        assert_eq!(resolve_plain("100m", Schema::Yaml11), Resolved::Str("100m"));
        assert_eq!(resolve_plain("~", Schema::Yaml11), Resolved::Null);
        assert_eq!(resolve_plain(".", Schema::Yaml11), Resolved::Str("."));
    }

    #[test]
    fn timestamps_are_recognised() {
        assert!(looks_like_timestamp("2001-12-14"));
        assert!(looks_like_timestamp("2001-12-14t21:59:43.10-05:00"));
        assert!(!looks_like_timestamp("2001-12"));
        assert!(!looks_like_timestamp("v2001-12-14"));
        assert!(!looks_like_timestamp("2001-13-14"));
        assert!(!looks_like_timestamp("2002-02-30"));
    }
}
