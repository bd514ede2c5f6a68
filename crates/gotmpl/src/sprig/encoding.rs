//! Go's `encoding/json` output for template values (used by `toJson` and friends) and
//! Sprig's deterministic encodings and digests: `b64enc b64dec b32enc b32dec sha1sum
//! sha256sum sha512sum adler32sum`, plus `toPrettyJson toRawJson mustToJson
//! mustToPrettyJson mustToRawJson mustFromJson`.

use data_encoding::{BASE32, BASE64};
use sha2::{Digest, Sha256, Sha512};

use super::{f, sarg, A, S};
use crate::value::{decimal_digits, fmt_e, fmt_f};
use crate::{FuncMap, Value};

/// How [`to_json`] lays out its output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonStyle {
    /// `json.Marshal`: compact, `<>&` escaped as `\u003c` etc.
    Compact,
    /// `json.MarshalIndent(v, "", "  ")`.
    Pretty,
    /// An encoder with `SetEscapeHTML(false)`, compact.
    Raw,
}

/// Go's `encoding/json` text of a value: map keys sorted, floats as Go formats them (`1`,
/// `1.5`, `1e+21`, `1e-7`). Errors as Go's: `json: unsupported value: NaN`, and for
/// functions and opaque objects `json: unsupported type: T`.
pub fn to_json(v: &Value, style: JsonStyle) -> Result<String, String> {
    let mut out = String::new();
    write_json(&mut out, v, style, 0)?;
    Ok(out)
}

fn newline(out: &mut String, style: JsonStyle, depth: usize) {
    if style == JsonStyle::Pretty {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    }
}

fn write_json(out: &mut String, v: &Value, style: JsonStyle, depth: usize) -> Result<(), String> {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(x) => out.push_str(&json_float(*x)?),
        Value::String(s) => json_string(out, s, style != JsonStyle::Raw),
        Value::List(l) => {
            out.push('[');
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, style, depth + 1);
                write_json(out, item, style, depth + 1)?;
            }
            if !l.is_empty() {
                newline(out, style, depth);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, item)) in m.read().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, style, depth + 1);
                json_string(out, k, style != JsonStyle::Raw);
                out.push(':');
                if style == JsonStyle::Pretty {
                    out.push(' ');
                }
                write_json(out, item, style, depth + 1)?;
            }
            if !m.is_empty() {
                newline(out, style, depth);
            }
            out.push('}');
        }
        Value::Object(o) if o.underlying().is_some() => {
            if let Some(u) = o.underlying() {
                write_json(out, &u, style, depth)?;
            }
        }
        Value::Func(_) | Value::Object(_) => {
            return Err(format!("json: unsupported type: {}", v.go_type()))
        }
    }
    Ok(())
}

/// Go's JSON float encoding: `%f`-style shortest digits, `%e` below 1e-6 or from 1e21 on.
pub fn json_float(x: f64) -> Result<String, String> {
    if !x.is_finite() {
        let s = crate::value::format_float_g(x, None, false);
        return Err(format!("json: unsupported value: {s}"));
    }
    let abs = x.abs();
    let (digits, dp) = decimal_digits(abs, None);
    let body = if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = fmt_e(&digits, dp, digits.len().saturating_sub(1), false);
        match e.split_once("e-0") {
            Some((m, d)) => format!("{m}e-{d}"),
            None => e,
        }
    } else {
        fmt_f(&digits, dp, (digits.len() as i32 - dp).max(0) as usize)
    };
    Ok(if x.is_sign_negative() && x != 0.0 {
        format!("-{body}")
    } else {
        body
    })
}

fn json_string(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Parses JSON text into a value as Go's `json.Unmarshal` into `interface{}` (numbers become
/// `float64`). Errors are serde_json's messages, not Go's.
pub fn from_json(s: &str) -> Result<Value, String> {
    serde_json::from_str::<serde_json::Value>(s)
        .map(|j| Value::from(&j))
        .map_err(|e| e.to_string())
}

pub(super) fn register(m: &mut FuncMap) {
    for (name, style, must) in [
        ("mustToJson", JsonStyle::Compact, true),
        ("toPrettyJson", JsonStyle::Pretty, false),
        ("mustToPrettyJson", JsonStyle::Pretty, true),
        ("toRawJson", JsonStyle::Raw, false),
        ("mustToRawJson", JsonStyle::Raw, true),
    ] {
        m.insert(
            name,
            f(&[A], move |a| match to_json(super::arg(a, 0), style) {
                Ok(s) => Ok(s.into()),
                Err(e) if must => Err(e),
                Err(_) => Ok("".into()),
            }),
        );
    }
    m.insert("mustFromJson", f(&[S], |a| from_json(sarg(a, 0))));
    m.insert(
        "b64enc",
        f(&[S], |a| Ok(BASE64.encode(sarg(a, 0).as_bytes()).into())),
    );
    m.insert(
        "b32enc",
        f(&[S], |a| Ok(BASE32.encode(sarg(a, 0).as_bytes()).into())),
    );
    m.insert(
        "b64dec",
        f(&[S], |a| Ok(decode(&BASE64, "base64", sarg(a, 0)).into())),
    );
    m.insert(
        "b32dec",
        f(&[S], |a| Ok(decode(&BASE32, "base32", sarg(a, 0)).into())),
    );
    m.insert(
        "sha256sum",
        f(&[S], |a| {
            Ok(hex(&Sha256::digest(sarg(a, 0).as_bytes())).into())
        }),
    );
    m.insert(
        "sha512sum",
        f(&[S], |a| {
            Ok(hex(&Sha512::digest(sarg(a, 0).as_bytes())).into())
        }),
    );
    m.insert(
        "sha1sum",
        f(&[S], |a| Ok(hex(&sha1(sarg(a, 0).as_bytes())).into())),
    );
    m.insert(
        "adler32sum",
        f(&[S], |a| {
            Ok(adler32(sarg(a, 0).as_bytes()).to_string().into())
        }),
    );
}

/// Sprig's decoders: the decoded bytes (lossy UTF-8), or on error Go's error text as the
/// result (`illegal base64 data at input byte N`).
fn decode(enc: &data_encoding::Encoding, name: &str, s: &str) -> String {
    match enc.decode(s.as_bytes()) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => format!("illegal {name} data at input byte {}", e.position),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Adler-32 (RFC 1950), as Go's `hash/adler32.Checksum`.
pub fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// SHA-1 (FIPS 180-4), for Sprig's `sha1sum`.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (fv, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(fv)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::r;
    use super::*;

    #[test]
    fn digests() {
        // FIPS/RFC test vectors.
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(adler32(b"Wikipedia"), 0x11E60398);
        assert_eq!(
            r(r#"{{ sha256sum "abc" }}"#),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(r(r#"{{ adler32sum "Wikipedia" }}"#), "300286872");
    }

    #[test]
    fn base_encodings() {
        assert_eq!(
            r(r#"{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }}"#),
            "aGVsbG8= hello"
        );
        assert_eq!(
            r(r#"{{ b32enc "hello" }} {{ b32dec "NBSWY3DP" }}"#),
            "NBSWY3DP hello"
        );
        assert!(r(r#"{{ b64dec "%%" }}"#).starts_with("illegal base64 data at input byte"));
    }

    #[test]
    fn go_json_encoding() {
        let v = Value::map([
            ("b", Value::Float(1.0)),
            (
                "a",
                Value::list(vec![
                    Value::Float(1.5),
                    Value::Float(1e21),
                    Value::Float(1e-7),
                ]),
            ),
            ("h", "<&>".into()),
        ]);
        assert_eq!(
            to_json(&v, JsonStyle::Compact).unwrap(),
            r#"{"a":[1.5,1e+21,1e-7],"b":1,"h":"\u003c\u0026\u003e"}"#
        );
        assert_eq!(
            to_json(&v, JsonStyle::Raw).unwrap(),
            r#"{"a":[1.5,1e+21,1e-7],"b":1,"h":"<&>"}"#
        );
        let p = Value::map([
            ("a", Value::list(vec![Value::Int(1)])),
            ("e", Value::map::<String>([])),
        ]);
        assert_eq!(
            to_json(&p, JsonStyle::Pretty).unwrap(),
            "{\n  \"a\": [\n    1\n  ],\n  \"e\": {}\n}"
        );
        assert_eq!(json_float(100000000.0).unwrap(), "100000000");
        assert_eq!(json_float(0.000001).unwrap(), "0.000001");
        assert!(to_json(&Value::Float(f64::NAN), JsonStyle::Compact).is_err());
    }
}
