//! Sprig's dictionary functions (`dict.go`): `dict get set unset hasKey pluck keys values
//! merge mergeOverwrite deepCopy omit pick dig`.
//!
//! Go maps are references and Sprig's `set`, `unset`, `merge` and `mergeOverwrite` mutate
//! their first argument; here they return the updated map (see the module note in
//! [`super`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::conv::{is_empty, strval};
use super::{arg, f, fv, sarg, str_list, A, S};
use crate::render::helm::template::{FuncMap, Value};

type Map = BTreeMap<String, Value>;

/// The map argument `i`, or the engine's type error for a `map[string]interface {}` parameter.
/// A nil argument is Go's nil map: readable as empty (assignment to it fails, see `set`).
fn map_arg(a: &[Value], i: usize) -> Result<&Map, String> {
    static EMPTY: Map = Map::new();
    match arg(a, i) {
        Value::Map(m) => Ok(m),
        Value::Nil => Ok(&EMPTY),
        other => Err(format!(
            "wrong type for value; expected map[string]interface {{}}; got {}",
            other.go_type()
        )),
    }
}

pub(super) fn register(m: &mut FuncMap) {
    m.insert(
        "dict",
        fv(&[], A, |a| {
            let mut out = Map::new();
            for pair in a.chunks(2) {
                let key = strval(&pair[0]);
                out.insert(key, pair.get(1).cloned().unwrap_or_else(|| Value::str("")));
            }
            Ok(out.into())
        }),
    );
    m.insert(
        "get",
        f(&[A, S], |a| {
            Ok(map_arg(a, 0)?
                .get(sarg(a, 1))
                .cloned()
                .unwrap_or_else(|| Value::str("")))
        }),
    );
    m.insert(
        "set",
        f(&[A, S, A], |a| {
            if matches!(arg(a, 0), Value::Nil) {
                return Err("assignment to entry in nil map".into());
            }
            let mut d = map_arg(a, 0)?.clone();
            d.insert(sarg(a, 1).to_string(), arg(a, 2).clone());
            Ok(d.into())
        }),
    );
    m.insert(
        "unset",
        f(&[A, S], |a| {
            let mut d = map_arg(a, 0)?.clone();
            d.remove(sarg(a, 1));
            Ok(d.into())
        }),
    );
    m.insert(
        "hasKey",
        f(&[A, S], |a| {
            Ok(Value::Bool(map_arg(a, 0)?.contains_key(sarg(a, 1))))
        }),
    );
    m.insert(
        "pluck",
        fv(&[S], A, |a| {
            let mut out = Vec::new();
            for i in 1..a.len() {
                if let Some(v) = map_arg(a, i)?.get(sarg(a, 0)) {
                    out.push(v.clone());
                }
            }
            Ok(Value::list(out))
        }),
    );
    m.insert(
        "keys",
        fv(&[], A, |a| {
            let mut out = Vec::new();
            for i in 0..a.len() {
                out.extend(map_arg(a, i)?.keys().cloned());
            }
            Ok(str_list(out))
        }),
    );
    m.insert(
        "values",
        f(&[A], |a| {
            Ok(Value::list(map_arg(a, 0)?.values().cloned().collect()))
        }),
    );
    m.insert(
        "pick",
        fv(&[A], S, |a| {
            let d = map_arg(a, 0)?;
            let keys: Vec<&str> = (1..a.len()).map(|i| sarg(a, i)).collect();
            Ok(filter(d, |k| keys.contains(&k)))
        }),
    );
    m.insert(
        "omit",
        fv(&[A], S, |a| {
            let d = map_arg(a, 0)?;
            let keys: Vec<&str> = (1..a.len()).map(|i| sarg(a, i)).collect();
            Ok(filter(d, |k| !keys.contains(&k)))
        }),
    );
    m.insert("dig", fv(&[A], A, dig));
    let copy = f(&[A], |a| match arg(a, 0) {
        Value::Nil => Err("copy: cannot copy nil".into()),
        v => Ok(v.clone()),
    });
    m.insert("deepCopy", copy.clone());
    m.insert("mustDeepCopy", copy);
    register_merge(m);
}

fn filter(d: &Map, keep: impl Fn(&str) -> bool) -> Value {
    let out: Map = d
        .iter()
        .filter(|(k, _)| keep(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.into()
}

/// Go's failed type assertion message.
fn conversion(v: &Value, want: &str) -> String {
    let got = if matches!(v, Value::Nil) {
        "nil".to_string()
    } else {
        v.go_type()
    };
    format!("interface conversion: interface {{}} is {got}, not {want}")
}

/// Sprig's `dig KEY... DEFAULT DICT`: walks the keys through nested maps, giving DEFAULT at
/// the first missing key; a non-map on the way fails as Go's type assertion.
fn dig(a: &[Value]) -> Result<Value, String> {
    if a.len() < 3 {
        return Err("dig needs at least three arguments".into());
    }
    let (keys, rest) = a.split_at(a.len() - 2);
    let (def, mut cur) = (&rest[0], &rest[1]);
    for k in keys {
        let Value::String(k) = k else {
            return Err(conversion(k, "string"));
        };
        let Value::Map(m) = cur else {
            return Err(conversion(cur, "map[string]interface {}"));
        };
        match m.get(k.as_ref()) {
            None => return Ok(def.clone()),
            Some(v) => cur = v,
        }
    }
    Ok(cur.clone())
}

fn register_merge(m: &mut FuncMap) {
    for (name, overwrite) in [
        ("merge", false),
        ("mustMerge", false),
        ("mergeOverwrite", true),
        ("mustMergeOverwrite", true),
    ] {
        m.insert(
            name,
            fv(&[A], A, move |a| {
                let mut dst = map_arg(a, 0)?.clone();
                for i in 1..a.len() {
                    merge_into(&mut dst, map_arg(a, i)?, overwrite);
                }
                Ok(dst.into())
            }),
        );
    }
}

/// dario.cat/mergo's map merge as Sprig calls it: maps on both sides merge recursively; a nil
/// source value is skipped (or, with `overwrite`, written); otherwise the source value is
/// written when `overwrite` is set or the destination key is missing or empty (Go zero value).
fn merge_into(dst: &mut Map, src: &Map, overwrite: bool) {
    for (k, sv) in src {
        if matches!(sv, Value::Nil) {
            if overwrite {
                dst.insert(k.clone(), Value::Nil);
            }
            continue;
        }
        match (dst.get_mut(k), sv) {
            (Some(Value::Map(dm)), Value::Map(sm)) => {
                merge_into(Arc::make_mut(dm), sm, overwrite);
            }
            (Some(dv), _) if !overwrite && !is_empty(dv) => {}
            _ => {
                dst.insert(k.clone(), sv.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{err, r, render};
    use crate::render::helm::template::Value;

    #[test]
    fn build_and_read() {
        assert_eq!(
            r(r#"{{ dict "name1" "value1" "name2" "value2" }}"#),
            "map[name1:value1 name2:value2]"
        );
        assert_eq!(r(r#"{{ dict "a" }}"#), "map[a:]");
        assert_eq!(
            r(r#"{{ get (dict "a" 1) "a" }}|{{ get (dict "a" 1) "b" }}"#),
            "1|"
        );
        assert_eq!(
            r(r#"{{ set (dict "a" 1) "b" 2 }} {{ unset (dict "a" 1 "b" 2) "a" }}"#),
            "map[a:1 b:2] map[b:2]"
        );
        assert_eq!(r(r#"{{ hasKey (dict "a" 1) "a" }}"#), "true");
        assert_eq!(
            r(r#"{{ pluck "name1" (dict "name1" "v1") (dict "name1" "v2") (dict) }}"#),
            "[v1 v2]"
        );
        assert_eq!(
            r(r#"{{ keys (dict "b" 1 "a" 2) | sortAlpha }} {{ values (dict "a" 1) }}"#),
            "[a b] [1]"
        );
        assert_eq!(
            r(r#"{{ pick (dict "a" 1 "b" 2 "c" 3) "a" "b" }} {{ omit (dict "a" 1 "b" 2) "a" }}"#),
            "map[a:1 b:2] map[b:2]"
        );
        assert!(err(r#"{{ get "x" "a" }}"#).contains("expected map[string]interface {}"));
        // A nil (missing) value is Go's nil map: readable, not assignable.
        assert_eq!(
            r(r#"{{ hasKey nil "a" }} {{ get nil "a" }}|{{ keys nil }} {{ omit nil "a" }}"#),
            "false |[] map[]"
        );
        assert!(err(r#"{{ set nil "a" 1 }}"#).contains("assignment to entry in nil map"));
    }

    #[test]
    fn dig_paths() {
        // Sprig docs: dig "user" "role" "humanName" "guest" $dict.
        let data = Value::map([(
            "d",
            Value::map([(
                "user",
                Value::map([("role", Value::map([("humanName", "admin".into())]))]),
            )]),
        )]);
        let t = r#"{{ dig "user" "role" "humanName" "guest" .d }} {{ dig "user" "x" "guest" .d }}"#;
        assert_eq!(render(t, &data).unwrap(), "admin guest");
        assert!(render(r#"{{ dig "user" "role" "humanName" "x" "d" .d }}"#, &data).is_err());
    }

    #[test]
    fn merging() {
        // Sprig docs: merge keeps the destination's non-empty values.
        assert_eq!(
            r(
                r#"{{ merge (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "x" 2 "y" 2)) }}"#
            ),
            "map[a:1 b:3 n:map[x:1 y:2]]"
        );
        // mergo treats zero values as empty: a false destination is filled.
        assert_eq!(
            r(r#"{{ merge (dict "a" false) (dict "a" true) }}"#),
            "map[a:true]"
        );
        assert_eq!(
            r(
                r#"{{ mergeOverwrite (dict "a" 1 "n" (dict "x" 1 "z" 0)) (dict "a" 2 "n" (dict "x" 2)) }}"#
            ),
            "map[a:2 n:map[x:2 z:0]]"
        );
        assert_eq!(
            r(r#"{{ mergeOverwrite (dict "a" 1) (dict "a" nil) }}"#),
            "map[a:<nil>]"
        );
        assert_eq!(r(r#"{{ merge (dict "a" 1) (dict "a" nil) }}"#), "map[a:1]");
    }
}
