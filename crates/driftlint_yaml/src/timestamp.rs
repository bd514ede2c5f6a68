//! YAML timestamps as go-yaml reads them (`2001-12-14`, `2001-12-14T21:59:43.10-05:00`,
//! `2001-12-14 21:59:43`): the formats `2006-1-2T15:4:5.999999999Z07:00` (also with `t`),
//! `2006-1-2 15:4:5.999999999` and `2006-1-2`, validated as Go's `time.Parse` does (month 13
//! or February 30 is not a timestamp).

/// Reads 1..=max ASCII digits at the start of `s`.
fn digits(s: &str, max: usize) -> Option<(u32, &str)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

/// Parses `YYYY-M-D`, returning (year, month, day) and the rest.
fn date(s: &str) -> Option<((u32, u32, u32), &str)> {
    let year_len = s.bytes().take_while(u8::is_ascii_digit).count();
    if year_len != 4 {
        return None;
    }
    let (y, rest) = digits(s, 4)?;
    let (m, rest) = digits(rest.strip_prefix('-')?, 2)?;
    let (d, rest) = digits(rest.strip_prefix('-')?, 2)?;
    ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then_some(((y, m, d), rest))
}

/// Hour, minute, second and fraction digits (trailing zeros removed).
type Clock = (u32, u32, u32, String);

/// Parses `H:M:S[.fraction]`, returning the clock and the rest.
fn clock(s: &str) -> Option<(Clock, &str)> {
    let (h, rest) = digits(s, 2)?;
    let (mi, rest) = digits(rest.strip_prefix(':')?, 2)?;
    let (se, mut rest) = digits(rest.strip_prefix(':')?, 2)?;
    let mut frac = String::new();
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 9 {
            return None;
        }
        frac = r[..n].trim_end_matches('0').to_string();
        rest = &r[n..];
    }
    (h < 24 && mi < 60 && se < 60).then_some(((h, mi, se, frac), rest))
}

/// Parses `Z` or `±hh:mm`, returning the offset in minutes.
fn zone(s: &str) -> Option<i32> {
    if s == "Z" {
        return Some(0);
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let b = s.as_bytes();
    if b.len() != 6 || b[3] != b':' || !s[1..3].bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let h: i32 = s[1..3].parse().ok()?;
    let m: i32 = s[4..6].parse().ok()?;
    (h < 24 && m < 60).then_some(sign * (h * 60 + m))
}

/// Go's RFC 3339 (nano) rendering of a YAML timestamp, or None when `s` is not one.
pub fn rfc3339(s: &str) -> Option<String> {
    let ((y, mo, d), rest) = date(s)?;
    let (time, offset) = if rest.is_empty() {
        ((0, 0, 0, String::new()), 0)
    } else if let Some(r) = rest.strip_prefix(['T', 't']) {
        let (t, z) = clock(r)?;
        (t, zone(z)?)
    } else if let Some(r) = rest.strip_prefix(' ') {
        let (t, z) = clock(r)?;
        if !z.is_empty() {
            return None;
        }
        (t, 0)
    } else {
        return None;
    };
    let (h, mi, se, frac) = time;
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    let tz = if offset == 0 {
        "Z".to_string()
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let a = offset.abs();
        format!("{sign}{:02}:{:02}", a / 60, a % 60)
    };
    Some(format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}{frac}{tz}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_kustomize_output() {
        // Pairs observed with `kubectl kustomize` (kustomize v5.7.1).
        let cases = [
            ("2001-12-14", Some("2001-12-14T00:00:00Z")),
            ("2001-2-3", Some("2001-02-03T00:00:00Z")),
            (
                "2001-12-14T21:59:43.10-05:00",
                Some("2001-12-14T21:59:43.1-05:00"),
            ),
            ("2001-12-14 21:59:43.10", Some("2001-12-14T21:59:43.1Z")),
            ("2001-12-14t21:59:43Z", Some("2001-12-14T21:59:43Z")),
            ("2001-12-14T21:59:43.000Z", Some("2001-12-14T21:59:43Z")),
            (
                "2001-12-14T21:59:43+01:00",
                Some("2001-12-14T21:59:43+01:00"),
            ),
            ("2001-12-14 21:59:43.10 -5", None),
            ("12001-12-14", None),
            ("2001-13-14", None),
            ("2002-02-30", None),
            ("2004-02-29", Some("2004-02-29T00:00:00Z")),
        ];
        for (input, want) in cases {
            assert_eq!(rfc3339(input).as_deref(), want, "{input}");
        }
    }
}
