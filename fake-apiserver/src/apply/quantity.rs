//! Canonical `resource.Quantity` strings, as apimachinery's `Quantity.String()` prints
//! a decoded quantity: `1000m` → `1`, `0.5` → `500m`, `1000` → `1k`, `0.5Gi` → `512Mi`,
//! `1536Mi` → `1536Mi`. The apiserver stores this form, so a desired `cpu: 1000m`
//! reads back as `cpu: "1"`.

use serde_json::Value;

const DECIMAL: [(&str, i32); 10] = [
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];
const BINARY: [(&str, u32); 6] = [
    ("Ki", 1),
    ("Mi", 2),
    ("Gi", 3),
    ("Ti", 4),
    ("Pi", 5),
    ("Ei", 6),
];

/// The canonical form of `q`, or `None` when it is not a quantity this parser knows
/// (exponent forms `1e3`, values beyond 128-bit, more than 9 fractional digits);
/// callers leave such values untouched.
pub fn canonical(q: &str) -> Option<String> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let (mut mant, mut exp) = parse_decimal(num)?;
    if let Some((_, e)) = DECIMAL.iter().find(|(s, _)| *s == suffix) {
        exp += e;
        return decimal(mant, exp);
    }
    let (_, pow) = BINARY.iter().find(|(s, _)| *s == suffix)?;
    mant = mant.checked_mul(1i128.checked_shl(10 * pow)?)?;
    // value = mant * 10^exp; binary output only for integers with |value| >= 1024.
    while exp < 0 && mant % 10 == 0 {
        mant /= 10;
        exp += 1;
    }
    if exp < 0 {
        return decimal(mant, exp);
    }
    let value = mant.checked_mul(10i128.checked_pow(exp as u32)?)?;
    if value.unsigned_abs() < 1024 {
        return decimal(value, 0);
    }
    let (mut v, mut p) = (value, 0usize);
    while p < 6 && v % 1024 == 0 {
        v /= 1024;
        p += 1;
    }
    let suffix = if p == 0 { "" } else { BINARY[p - 1].0 };
    Some(format!("{v}{suffix}"))
}

fn parse_decimal(num: &str) -> Option<(i128, i32)> {
    let (neg, digits) = match num.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, num.strip_prefix('+').unwrap_or(num)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if (int.is_empty() && frac.is_empty()) || frac.len() > 9 {
        return None;
    }
    let all = format!("{int}{frac}");
    if !all.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let m: i128 = all.parse().ok()?;
    Some((if neg { -m } else { m }, -(frac.len() as i32)))
}

/// DecimalSI: the largest exponent that is a multiple of 3 and keeps the mantissa
/// whole (nano at the smallest).
fn decimal(mut mant: i128, mut exp: i32) -> Option<String> {
    if mant == 0 {
        return Some("0".into());
    }
    while mant % 10 == 0 && exp < 18 {
        mant /= 10;
        exp += 1;
    }
    let target = (exp.div_euclid(3) * 3).clamp(-9, 18);
    while exp > target {
        mant = mant.checked_mul(10)?;
        exp -= 1;
    }
    if exp < target {
        return None; // finer than nano: apimachinery rounds up; not reproduced
    }
    let suffix = DECIMAL
        .iter()
        .find(|(_, e)| *e == target)
        .map_or("", |(s, _)| *s);
    Some(format!("{mant}{suffix}"))
}

/// Canonicalises every `resources.limits`/`resources.requests` value (and pod
/// `overhead`) in `v`, numbers included (`cpu: 1` → `"1"`).
pub fn canonicalize_resources(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if matches!(k.as_str(), "limits" | "requests" | "overhead") {
                    if let Some(q) = child.as_object_mut() {
                        for val in q.values_mut() {
                            let s = match val {
                                Value::Number(n) => n.to_string(),
                                Value::String(s) => s.clone(),
                                _ => continue,
                            };
                            *val = Value::String(canonical(&s).unwrap_or(s));
                        }
                    }
                } else {
                    canonicalize_resources(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(canonicalize_resources),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        for (i, o) in [
            ("1000m", "1"),
            ("1500m", "1500m"),
            ("0.5", "500m"),
            ("100m", "100m"),
            ("1000", "1k"),
            ("1200", "1200"),
            ("128Mi", "128Mi"),
            ("0.5Gi", "512Mi"),
            ("1024Mi", "1Gi"),
            ("1536Mi", "1536Mi"),
            ("512", "512"),
            ("1", "1"),
            ("0", "0"),
            ("2G", "2G"),
        ] {
            assert_eq!(canonical(i).as_deref(), Some(o), "{i}");
        }
        assert_eq!(canonical("1e3"), None);
        assert_eq!(canonical("abc"), None);
        assert_eq!(canonical("99999999999999999999999999999999999999Ei"), None);
        assert_eq!(canonical("9999999999999999999999999999999999999.9"), None);
        assert_eq!(canonical("1000P").as_deref(), Some("1E"));
    }
}
