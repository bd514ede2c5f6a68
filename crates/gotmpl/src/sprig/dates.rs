//! Sprig's date functions: `now date dateInZone htmlDate htmlDateInZone unixEpoch`, with
//! Go's reference-time layouts (`2006-01-02T15:04:05Z07:00`).
//!
//! `now` reads [`FuncOptions::fixed_now`] when set (deterministic output), else the system
//! clock. Only UTC is supported: Go's `Local` zone is taken as UTC (Helm in containers), and
//! `dateInZone` with any other zone fails loudly rather than silently printing UTC.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{arg, f, sarg, FuncOptions, A, S};
use crate::{FuncMap, Object, Value};

/// A Go `time.Time` in UTC: Unix seconds and nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Time {
    /// Seconds since the Unix epoch.
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl Object for Time {
    fn type_name(&self) -> String {
        "time.Time".into()
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str) -> Option<crate::Function> {
        let t = *self;
        let v = match name {
            "Unix" => Value::Int(t.secs),
            "Year" => Value::Int(civil(t.secs).0),
            "YearDay" => Value::Int(year_day(t.secs)),
            "UTC" => Value::Object(Arc::new(t)),
            "String" => t.format().into(),
            _ => return None,
        };
        Some(crate::Function::new(&[], None, move |_, _| Ok(v.clone())))
    }
    /// Go's `Time.String()`: `2006-01-02 15:04:05.999999999 +0000 UTC`.
    fn format(&self) -> String {
        format_layout("2006-01-02 15:04:05.999999999 -0700 MST", self)
    }
}

/// Days since the epoch → (year, month 1-12, day 1-31), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn civil(secs: i64) -> (i64, u32, u32) {
    civil_from_days(secs.div_euclid(86_400))
}

fn year_day(secs: i64) -> i64 {
    let (y, _, _) = civil(secs);
    let mut d = secs.div_euclid(86_400);
    let mut n = 1;
    while civil_from_days(d - 1).0 == y {
        d -= 1;
        n += 1;
    }
    n
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// The layout elements Go recognises, longest first where prefixes overlap (fractional
/// seconds are handled separately).
const TOKENS: [&str; 33] = [
    "January",
    "Jan",
    "Monday",
    "Mon",
    "MST",
    "2006",
    "002",
    "__2",
    "_2",
    "01",
    "02",
    "03",
    "04",
    "05",
    "06",
    "15",
    "PM",
    "pm",
    "-07:00:00",
    "-070000",
    "-07:00",
    "-0700",
    "-07",
    "Z07:00:00",
    "Z070000",
    "Z07:00",
    "Z0700",
    "Z07",
    "1",
    "2",
    "3",
    "4",
    "5",
];

/// Go's `Time.Format(layout)` for a UTC time. Fractional seconds: `.000…`/`.999…` (and
/// `,`), any run length 1-9.
pub fn format_layout(layout: &str, t: &Time) -> String {
    let (y, mo, d) = civil(t.secs);
    let sod = t.secs.rem_euclid(86_400);
    let (h, mi, s) = (sod / 3600, sod / 60 % 60, sod % 60);
    let wd = (t.secs.div_euclid(86_400) + 4).rem_euclid(7) as usize;
    let mut out = String::new();
    let mut rest = layout;
    while !rest.is_empty() {
        if let Some((tok, len)) = frac_token(rest) {
            out.push_str(&fraction(tok, len, t.nanos));
            rest = &rest[len + 1..];
            continue;
        }
        let Some(tok) = TOKENS.iter().find(|k| rest.starts_with(**k)) else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        };
        let m = MONTHS.get(mo as usize - 1).copied().unwrap_or("");
        let h12 = if h % 12 == 0 { 12 } else { h % 12 };
        let piece = match *tok {
            "January" => m.to_string(),
            "Jan" => m.get(..3).unwrap_or(m).to_string(),
            "Monday" => DAYS[wd].to_string(),
            "Mon" => DAYS[wd].get(..3).unwrap_or("").to_string(),
            "MST" => "UTC".into(),
            "2006" => format!("{y:04}"),
            "06" => format!("{:02}", y.rem_euclid(100)),
            "002" => format!("{:03}", year_day(t.secs)),
            "__2" => format!("{:>3}", year_day(t.secs)),
            "_2" => format!("{d:>2}"),
            "01" => format!("{mo:02}"),
            "02" => format!("{d:02}"),
            "03" => format!("{h12:02}"),
            "04" => format!("{mi:02}"),
            "05" => format!("{s:02}"),
            "15" => format!("{h:02}"),
            "PM" => (if h >= 12 { "PM" } else { "AM" }).into(),
            "pm" => (if h >= 12 { "pm" } else { "am" }).into(),
            "-07:00:00" => "+00:00:00".into(),
            "-070000" => "+000000".into(),
            "-07:00" => "+00:00".into(),
            "-0700" => "+0000".into(),
            "-07" => "+00".into(),
            z if z.starts_with('Z') => "Z".into(),
            "1" => mo.to_string(),
            "2" => d.to_string(),
            "3" => h12.to_string(),
            "4" => mi.to_string(),
            "5" => s.to_string(),
            other => other.to_string(),
        };
        out.push_str(&piece);
        rest = &rest[tok.len()..];
    }
    out
}

/// A fractional-seconds element at the start of `rest`: its kind (`.`/`,` for zero-padded,
/// shifted by 128 for trailing-zero-trimmed `9`s) and digit count.
fn frac_token(rest: &str) -> Option<(char, usize)> {
    let b = rest.as_bytes();
    let sep = *b.first()?;
    if sep != b'.' && sep != b',' {
        return None;
    }
    let digit = *b.get(1)?;
    if digit != b'0' && digit != b'9' {
        return None;
    }
    let n = b[1..].iter().take_while(|c| **c == digit).count();
    let next_is_digit = b.get(1 + n).is_some_and(u8::is_ascii_digit);
    if next_is_digit {
        return None;
    }
    Some((
        if digit == b'0' {
            sep as char
        } else {
            (sep + 128) as char
        },
        n.min(9),
    ))
}

fn fraction(tok: char, len: usize, nanos: u32) -> String {
    let digits = format!("{nanos:09}");
    let (sep, trim) = match tok {
        '.' | ',' => (tok, false),
        c => (((c as u8) - 128) as char, true),
    };
    let mut d = digits.get(..len).unwrap_or("").to_string();
    if trim {
        while d.ends_with('0') {
            d.pop();
        }
        if d.is_empty() {
            return String::new();
        }
    }
    format!("{sep}{d}")
}

fn now(opts: &FuncOptions) -> Time {
    if let Some(secs) = opts.fixed_now {
        return Time { secs, nanos: 0 };
    }
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Time {
        secs: d.as_secs() as i64,
        nanos: d.subsec_nanos(),
    }
}

/// Sprig's date argument: a time, or integer Unix seconds; anything else is "now".
fn as_time(v: &Value, opts: &FuncOptions) -> Time {
    match v {
        Value::Object(o) if o.type_name() == "time.Time" => {
            parse_string_form(&o.format()).unwrap_or_else(|| now(opts))
        }
        Value::Int(i) => Time { secs: *i, nanos: 0 },
        _ => now(opts),
    }
}

/// Parses `YYYY-MM-DD hh:mm:ss[.fffffffff] +0000 UTC` back into a time.
fn parse_string_form(s: &str) -> Option<Time> {
    let (date, rest) = s.split_once(' ')?;
    let (clock, _) = rest.split_once(' ')?;
    let mut dp = date.splitn(3, '-');
    let (y, m, d): (i64, i64, i64) = (
        dp.next()?.parse().ok()?,
        dp.next()?.parse().ok()?,
        dp.next()?.parse().ok()?,
    );
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut cp = hms.splitn(3, ':');
    let (h, mi, sec): (i64, i64, i64) = (
        cp.next()?.parse().ok()?,
        cp.next()?.parse().ok()?,
        cp.next()?.parse().ok()?,
    );
    let nanos = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").get(..9)?.parse().ok()?
    };
    Some(Time {
        secs: days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60 + sec,
        nanos,
    })
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn in_zone(zone: &str) -> Result<(), String> {
    match zone {
        "" | "UTC" | "Local" | "Etc/UTC" => Ok(()),
        other => Err(format!("time zone {other:?} is not supported (only UTC)")),
    }
}

pub(super) fn register(m: &mut FuncMap, opts: &FuncOptions) {
    let o = opts.clone();
    m.insert("now", f(&[], move |_| Ok(Value::Object(Arc::new(now(&o))))));
    let o = opts.clone();
    m.insert(
        "date",
        f(&[S, A], move |a| {
            Ok(format_layout(sarg(a, 0), &as_time(arg(a, 1), &o)).into())
        }),
    );
    let o = opts.clone();
    m.insert(
        "dateInZone",
        f(&[S, A, S], move |a| {
            in_zone(sarg(a, 2))?;
            Ok(format_layout(sarg(a, 0), &as_time(arg(a, 1), &o)).into())
        }),
    );
    let o = opts.clone();
    m.insert(
        "htmlDate",
        f(&[A], move |a| {
            Ok(format_layout("2006-01-02", &as_time(arg(a, 0), &o)).into())
        }),
    );
    let o = opts.clone();
    m.insert(
        "htmlDateInZone",
        f(&[A, S], move |a| {
            in_zone(sarg(a, 1))?;
            Ok(format_layout("2006-01-02", &as_time(arg(a, 0), &o)).into())
        }),
    );
    let o = opts.clone();
    m.insert(
        "unixEpoch",
        f(&[A], move |a| {
            Ok(as_time(arg(a, 0), &o).secs.to_string().into())
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{err, r};
    use super::*;

    #[test]
    fn go_layouts() {
        // Go's reference time: Mon Jan 2 15:04:05 UTC 2006 = 1136214245.
        let t = Time {
            secs: 1_136_214_245,
            nanos: 123_400_000,
        };
        assert_eq!(
            format_layout("2006-01-02T15:04:05Z07:00", &t),
            "2006-01-02T15:04:05Z"
        );
        assert_eq!(
            format_layout("Mon Jan _2 15:04:05 MST 2006", &t),
            "Mon Jan  2 15:04:05 UTC 2006"
        );
        assert_eq!(
            format_layout("Monday, 02-Jan-06 3:04PM", &t),
            "Monday, 02-Jan-06 3:04PM"
        );
        assert_eq!(
            format_layout("15:04:05.000 .999999999 -0700", &t),
            "15:04:05.123 .1234 +0000"
        );
        assert_eq!(t.format(), "2006-01-02 15:04:05.1234 +0000 UTC");
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(951_782_400), (2000, 2, 29));
        assert_eq!(parse_string_form(&t.format()), Some(t));
    }

    #[test]
    fn template_dates_with_fixed_clock() {
        // testutil fixes now at 1700000000 = 2023-11-14T22:13:20Z.
        assert_eq!(
            r(r#"{{ now | date "2006-01-02T15:04:05Z07:00" }}"#),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            r(r#"{{ date "2006" 0 }} {{ now | unixEpoch }}"#),
            "1970 1700000000"
        );
        assert_eq!(
            r(r#"{{ dateInZone "2006-01-02" (now) "UTC" }} {{ htmlDate now }}"#),
            "2023-11-14 2023-11-14"
        );
        assert!(err(r#"{{ dateInZone "2006" (now) "Europe/Berlin" }}"#).contains("not supported"));
    }
}
