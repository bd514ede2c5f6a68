//! Sprig's arithmetic (`numeric.go`): integer functions convert every argument with
//! `cast.ToInt64` and return `int64` (`add sub mul div mod add1 max min`); the `…f` variants
//! and `floor ceil round` use `cast.ToFloat64` and return `float64`.

use super::conv::{to_float64, to_int64};
use super::{arg, f, fv, iarg, A, I};
use crate::{FuncMap, Param, Value};

const DIV_ZERO: &str = "runtime error: integer divide by zero";

fn fold_i(a: &[Value], op: fn(i64, i64) -> i64) -> Value {
    let mut it = a.iter().map(to_int64);
    let first = it.next().unwrap_or(0);
    Value::Int(it.fold(first, op))
}

fn fold_f(a: &[Value], op: fn(f64, f64) -> f64) -> Value {
    let mut it = a.iter().map(to_float64);
    let first = it.next().unwrap_or(0.0);
    Value::Float(it.fold(first, op))
}

pub(super) fn register(m: &mut FuncMap) {
    m.insert(
        "add",
        fv(&[], A, |a| {
            Ok(Value::Int(
                a.iter().map(to_int64).fold(0, i64::wrapping_add),
            ))
        }),
    );
    m.insert(
        "add1",
        f(&[A], |a| {
            Ok(Value::Int(to_int64(arg(a, 0)).wrapping_add(1)))
        }),
    );
    m.insert("sub", f(&[A, A], |a| Ok(fold_i(a, i64::wrapping_sub))));
    m.insert("mul", fv(&[A], A, |a| Ok(fold_i(a, i64::wrapping_mul))));
    m.insert("div", f(&[A, A], |a| int_div(a, i64::wrapping_div)));
    m.insert("mod", f(&[A, A], |a| int_div(a, i64::wrapping_rem)));
    m.insert("max", fv(&[A], A, |a| Ok(fold_i(a, i64::max))));
    m.insert("biggest", fv(&[A], A, |a| Ok(fold_i(a, i64::max))));
    m.insert("min", fv(&[A], A, |a| Ok(fold_i(a, i64::min))));
    m.insert(
        "toDecimal",
        f(&[A], |a| {
            let s = super::conv::strval(arg(a, 0));
            Ok(Value::Int(i64::from_str_radix(&s, 8).unwrap_or(0)))
        }),
    );
    m.insert(
        "addf",
        fv(&[], A, |a| Ok(Value::Float(a.iter().map(to_float64).sum()))),
    );
    m.insert(
        "add1f",
        f(&[A], |a| Ok(Value::Float(to_float64(arg(a, 0)) + 1.0))),
    );
    m.insert("subf", fv(&[A], A, |a| Ok(fold_f(a, |x, y| x - y))));
    m.insert("mulf", fv(&[A], A, |a| Ok(fold_f(a, |x, y| x * y))));
    m.insert("divf", fv(&[A], A, |a| Ok(fold_f(a, |x, y| x / y))));
    m.insert("maxf", fv(&[A], A, |a| Ok(fold_f(a, f64::max))));
    m.insert("minf", fv(&[A], A, |a| Ok(fold_f(a, f64::min))));
    m.insert(
        "floor",
        f(&[A], |a| Ok(Value::Float(to_float64(arg(a, 0)).floor()))),
    );
    m.insert(
        "ceil",
        f(&[A], |a| Ok(Value::Float(to_float64(arg(a, 0)).ceil()))),
    );
    m.insert(
        "round",
        fv(&[A, I], Param::Float, |a| {
            let on = match arg(a, 2) {
                Value::Float(x) => *x,
                _ => 0.5,
            };
            Ok(Value::Float(round(to_float64(arg(a, 0)), iarg(a, 1), on)))
        }),
    );
}

fn int_div(a: &[Value], op: fn(i64, i64) -> i64) -> Result<Value, String> {
    let (x, y) = (to_int64(arg(a, 0)), to_int64(arg(a, 1)));
    if y == 0 {
        return Err(DIV_ZERO.into());
    }
    Ok(Value::Int(op(x, y)))
}

/// Sprig's `round VALUE PLACES [ROUND_ON]`: rounds up when the fraction at `places` is at
/// least `round_on` (0.5 by default).
fn round(val: f64, places: i64, round_on: f64) -> f64 {
    let pow = 10f64.powf(places as f64);
    let digit = pow * val;
    let frac = digit.fract();
    let r = if frac >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    r / pow
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{err, r, render};
    use crate::Value;

    #[test]
    fn integer_math() {
        assert_eq!(
            r("{{ add 1 2 3 }} {{ add1 5 }} {{ sub 5 7 }} {{ mul 2 3 4 }}"),
            "6 6 -2 24"
        );
        assert_eq!(
            r("{{ div 7 2 }} {{ mod 7 3 }} {{ max 1 5 3 }} {{ min 4 2 8 }}"),
            "3 1 5 2"
        );
        assert_eq!(r("{{ add \"3\" 1.9 }}"), "4");
        // Sprig docs: toDecimal "0777" → 511.
        assert_eq!(
            r("{{ toDecimal \"0777\" }} {{ toDecimal \"9\" }} {{ biggest 1 7 3 }}"),
            "511 0 7"
        );
        assert!(err("{{ div 1 0 }}").contains("integer divide by zero"));
        // Values-file numbers are float64 and are truncated by cast.ToInt64.
        let data = Value::map([("replicas", Value::Float(3.0))]);
        assert_eq!(render("{{ add .replicas 1 }}", &data).unwrap(), "4");
    }

    #[test]
    fn float_math() {
        // Sprig docs: round 123.555555 3 → 123.556; floor 123.9999 → 123; ceil 123.001 → 124.
        assert_eq!(
            r("{{ round 123.555555 3 }} {{ floor 123.9999 }} {{ ceil 123.001 }}"),
            "123.556 123 124"
        );
        assert_eq!(r("{{ round 2.4 0 }} {{ round 2.4 0 0.3 }}"), "2 3");
        assert_eq!(
            r("{{ addf 1.5 2 }} {{ subf 2 0.5 }} {{ mulf 1.5 2 }} {{ divf 3 2 }}"),
            "3.5 1.5 3 1.5"
        );
        assert_eq!(r("{{ maxf 1 2.5 }} {{ minf 1 2.5 }}"), "2.5 1");
    }
}
