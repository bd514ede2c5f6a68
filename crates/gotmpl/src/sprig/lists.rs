//! Sprig's list functions (`list.go`, `numeric.go`'s `until`/`untilStep`/`seq`). Each takes
//! `interface{}` and fails as Sprig's `must*` variant does on a non-list
//! (`Cannot find first on type string`); Helm exposes both forms.

use super::conv::{is_empty, kind_of, strslice, strval, to_int64};
use super::{arg, f, fv, iarg, str_list, A, I};
use crate::{FuncMap, Function, Value};

const NIL_DEREF: &str = "runtime error: invalid memory address or nil pointer dereference";

/// The list inside `v`, or Sprig's `Cannot find WHAT on type KIND` error.
fn as_list<'a>(v: &'a Value, msg: &str) -> Result<&'a [Value], String> {
    match v {
        Value::List(l) => Ok(l),
        Value::Nil => Err(NIL_DEREF.into()),
        other => Err(format!("{msg} {}", kind_of(other))),
    }
}

/// Registers `name` and `mustName` for a one-list function.
fn both(m: &mut FuncMap, name: &str, func: Function) {
    let mut must = name.to_string();
    if let Some(c) = must.get(..1) {
        must = format!("must{}{}", c.to_uppercase(), must.get(1..).unwrap_or(""));
    }
    m.insert(&must, func.clone());
    m.insert(name, func);
}

use crate::{list_budget_error, MAX_LIST_LEN};

fn ints(v: impl IntoIterator<Item = i64>) -> Value {
    Value::list(v.into_iter().map(Value::Int).collect())
}

pub(super) fn register(m: &mut FuncMap) {
    m.insert("list", fv(&[], A, |a| Ok(Value::list(a.to_vec()))));
    m.insert("tuple", fv(&[], A, |a| Ok(Value::list(a.to_vec()))));
    both(
        m,
        "first",
        f(&[A], |a| {
            Ok(as_list(arg(a, 0), "Cannot find first on type")?
                .first()
                .cloned()
                .unwrap_or_default())
        }),
    );
    both(
        m,
        "last",
        f(&[A], |a| {
            Ok(as_list(arg(a, 0), "Cannot find last on type")?
                .last()
                .cloned()
                .unwrap_or_default())
        }),
    );
    both(
        m,
        "rest",
        f(&[A], |a| {
            let l = as_list(arg(a, 0), "Cannot find rest on type")?;
            Ok(if l.is_empty() {
                Value::Nil
            } else {
                Value::list(l[1..].to_vec())
            })
        }),
    );
    both(
        m,
        "initial",
        f(&[A], |a| {
            let l = as_list(arg(a, 0), "Cannot find initial on type")?;
            Ok(match l.split_last() {
                None => Value::Nil,
                Some((_, init)) => Value::list(init.to_vec()),
            })
        }),
    );
    let push = f(&[A, A], |a| {
        let mut l = as_list(arg(a, 0), "Cannot push on type")?.to_vec();
        l.push(arg(a, 1).clone());
        Ok(Value::list(l))
    });
    both(m, "append", push.clone());
    both(m, "push", push);
    both(
        m,
        "prepend",
        f(&[A, A], |a| {
            let mut l = vec![arg(a, 1).clone()];
            l.extend_from_slice(as_list(arg(a, 0), "Cannot prepend on type")?);
            Ok(Value::list(l))
        }),
    );
    m.insert(
        "concat",
        fv(&[], A, |a| {
            let mut out = Vec::new();
            for v in a {
                match v {
                    Value::List(l) => out.extend_from_slice(l),
                    other => return Err(format!("Cannot concat type {} as list", kind_of(other))),
                }
            }
            Ok(Value::list(out))
        }),
    );
    register_filters(m);
    register_ranges(m);
}

fn register_filters(m: &mut FuncMap) {
    both(
        m,
        "uniq",
        f(&[A], |a| {
            let mut out: Vec<Value> = Vec::new();
            for v in as_list(arg(a, 0), "Cannot find uniq on type")? {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Ok(Value::list(out))
        }),
    );
    both(
        m,
        "without",
        fv(&[A], A, |a| {
            let omit = a.get(1..).unwrap_or(&[]);
            let l = as_list(arg(a, 0), "Cannot find without on type")?;
            Ok(Value::list(
                l.iter().filter(|v| !omit.contains(v)).cloned().collect(),
            ))
        }),
    );
    both(
        m,
        "has",
        f(&[A, A], |a| match arg(a, 1) {
            Value::Nil => Ok(Value::Bool(false)),
            h => Ok(Value::Bool(
                as_list(h, "Cannot find has on type")?.contains(arg(a, 0)),
            )),
        }),
    );
    both(
        m,
        "compact",
        f(&[A], |a| {
            let l = as_list(arg(a, 0), "Cannot compact on type")?;
            Ok(Value::list(
                l.iter().filter(|v| !is_empty(v)).cloned().collect(),
            ))
        }),
    );
    both(
        m,
        "reverse",
        f(&[A], |a| {
            let mut l = as_list(arg(a, 0), "Cannot find reverse on type")?.to_vec();
            l.reverse();
            Ok(Value::list(l))
        }),
    );
    m.insert(
        "sortAlpha",
        f(&[A], |a| {
            Ok(match arg(a, 0) {
                v @ Value::List(_) => {
                    let mut s = strslice(v);
                    s.sort();
                    str_list(s)
                }
                other => str_list([strval(other)]),
            })
        }),
    );
    both(
        m,
        "slice",
        fv(&[A], A, |a| slice(arg(a, 0), a.get(1..).unwrap_or(&[]))),
    );
    both(
        m,
        "chunk",
        f(&[I, A], |a| {
            let size = iarg(a, 0);
            let l = as_list(arg(a, 1), "Cannot chunk type")?;
            if size <= 0 {
                return Err("runtime error: integer divide by zero".into());
            }
            let chunks = l.chunks(size as usize).map(|c| Value::list(c.to_vec()));
            Ok(Value::list(chunks.collect()))
        }),
    );
}

/// Sprig's `slice LIST [START [END]]` (indices through `cast.ToInt`).
fn slice(list: &Value, idx: &[Value]) -> Result<Value, String> {
    let l = match list {
        Value::List(l) => l,
        Value::Nil => return Err(NIL_DEREF.into()),
        other => {
            return Err(format!(
                "list should be type of slice or array but {}",
                kind_of(other)
            ))
        }
    };
    if l.is_empty() {
        return Ok(Value::Nil);
    }
    let start = idx.first().map_or(0, to_int64);
    let end = idx.get(1).map_or(l.len() as i64, to_int64);
    if start < 0 || end < start || end > l.len() as i64 {
        return Err(format!(
            "reflect: slice index out of range [{start}:{end}] with capacity {}",
            l.len()
        ));
    }
    Ok(Value::list(l[start as usize..end as usize].to_vec()))
}

/// Sprig's `untilStep`.
/// Sprig's `untilStep` loop (`start`, `start+step`, ... strictly before `stop`), computed
/// without overflow. Errors: more than [`MAX_LIST_LEN`] elements (`what` names the function).
pub(crate) fn until_step(
    start: i128,
    stop: i128,
    step: i128,
    what: &str,
) -> Result<Vec<i64>, String> {
    let count = match step {
        s if s > 0 && stop > start => (stop - start + s - 1) / s,
        s if s < 0 && stop < start => (start - stop - s - 1) / -s,
        _ => 0,
    };
    if count > MAX_LIST_LEN as i128 {
        return Err(list_budget_error(what, count as u128));
    }
    Ok((0..count)
        .map(|k| i64::try_from(start + k * step).unwrap_or_default())
        .collect())
}

fn register_ranges(m: &mut FuncMap) {
    m.insert(
        "until",
        f(&[I], |a| {
            let n = iarg(a, 0);
            Ok(ints(until_step(
                0,
                n.into(),
                if n < 0 { -1 } else { 1 },
                "until",
            )?))
        }),
    );
    m.insert(
        "untilStep",
        f(&[I, I, I], |a| {
            Ok(ints(until_step(
                iarg(a, 0).into(),
                iarg(a, 1).into(),
                iarg(a, 2).into(),
                "untilStep",
            )?))
        }),
    );
    m.insert("seq", fv(&[], I, |a| Ok(seq(a)?.into())));
}

/// Sprig's `seq` (as GNU seq: `seq END`, `seq START END`, `seq START STEP END`). Errors:
/// more than [`MAX_LIST_LEN`] numbers.
fn seq(a: &[Value]) -> Result<String, String> {
    let p: Vec<i128> = (0..a.len()).map(|i| i128::from(iarg(a, i))).collect();
    let nums = match p.as_slice() {
        [end] => {
            let inc = if *end < 1 { -1 } else { 1 };
            until_step(1, end + inc, inc, "seq")?
        }
        [start, end] => {
            let inc = if end < start { -1 } else { 1 };
            until_step(*start, end + inc, inc, "seq")?
        }
        [start, step, end] => {
            let inc = if end < start { -1 } else { 1 };
            if (end < start && *step > 0) || (end >= start && *step < 0) {
                return Ok(String::new());
            }
            until_step(*start, end + inc, *step, "seq")?
        }
        _ => return Ok(String::new()),
    };
    let s: Vec<String> = nums.iter().map(i64::to_string).collect();
    Ok(s.join(" "))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{err, r};

    #[test]
    fn accessors() {
        // Sprig docs examples.
        assert_eq!(r("{{ first (list 1 2 3) }} {{ last (list 1 2 3) }}"), "1 3");
        assert_eq!(
            r("{{ rest (list 1 2 3) }} {{ initial (list 1 2 3) }}"),
            "[2 3] [1 2]"
        );
        assert_eq!(
            r("{{ append (list 1 2 3) 4 }} {{ prepend (list 1 2 3) 0 }}"),
            "[1 2 3 4] [0 1 2 3]"
        );
        assert_eq!(
            r("{{ concat (list 1 2 3) (list 4 5) (list 6) }}"),
            "[1 2 3 4 5 6]"
        );
        assert!(err("{{ first \"abc\" }}").contains("Cannot find first on type string"));
        assert!(err("{{ concat (list 1) 2 }}").contains("Cannot concat type int as list"));
    }

    #[test]
    fn filters() {
        assert_eq!(r("{{ uniq (list 1 1 1 2) }}"), "[1 2]");
        assert_eq!(r("{{ without (list 1 2 3 4) 1 3 }}"), "[2 4]");
        assert_eq!(
            r("{{ has 4 (list 1 2 3 4) }} {{ has \"x\" nil }}"),
            "true false"
        );
        assert_eq!(
            r("{{ compact (list 1 \"\" \"foo\" true 0) }}"),
            "[1 foo true]"
        );
        assert_eq!(r("{{ reverse (list 1 2 3) }}"), "[3 2 1]");
        assert_eq!(r("{{ sortAlpha (list \"b\" \"c\" \"a\") }}"), "[a b c]");
        assert_eq!(
            r("{{ slice (list 1 2 3 4 5) 1 3 }} {{ slice (list 1 2 3) 1 }}"),
            "[2 3] [2 3]"
        );
        assert_eq!(r("{{ chunk 2 (list 1 2 3) }}"), "[[1 2] [3]]");
    }

    #[test]
    fn ranges() {
        assert_eq!(r("{{ until 5 }} {{ until -2 }}"), "[0 1 2 3 4] [0 -1]");
        assert_eq!(r("{{ untilStep 3 6 2 }}"), "[3 5]");
        // Sprig docs: seq 5 → 1 2 3 4 5; seq -3 → 1 0 -1 -2 -3; seq 0 2 → 0 1 2;
        // seq 2 -2 → 2 1 0 -1 -2; seq 0 2 10 → 0 2 4 6 8 10; seq 0 -2 -5 → 0 -2 -4.
        assert_eq!(
            r("{{ seq 5 }}|{{ seq -3 }}|{{ seq 0 2 }}"),
            "1 2 3 4 5|1 0 -1 -2 -3|0 1 2"
        );
        assert_eq!(
            r("{{ seq 2 -2 }}|{{ seq 0 2 10 }}|{{ seq 0 -2 -5 }}"),
            "2 1 0 -1 -2|0 2 4 6 8 10|0 -2 -4"
        );
    }
}
