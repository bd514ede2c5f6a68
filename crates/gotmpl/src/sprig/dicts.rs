//! Sprig's dictionary functions (`dict.go`): `dict get set unset hasKey pluck keys values
//! merge mergeOverwrite deepCopy omit pick dig`.
//!
//! Go maps are references and Sprig's `set`, `unset`, `merge` and `mergeOverwrite` mutate
//! their first argument in place and return it, so the change is seen through every variable
//! (and `.Values`) holding that map ([`MapRef`] is shared); `dict`, `pick`, `omit` and
//! `deepCopy` build new maps.

use std::collections::BTreeMap;

use super::conv::{is_empty, strval};
use super::{arg, f, fv, sarg, str_list, A, S};
use crate::{FuncMap, MapRef, Value};

type Map = BTreeMap<String, Value>;

/// The engine's type error for a `map[string]interface {}` parameter.
fn not_a_map(v: &Value) -> String {
    format!(
        "wrong type for value; expected map[string]interface {{}}; got {}",
        v.go_type()
    )
}

/// Refuses to store `v` into `dst` when that would make `dst` contain itself (Go accepts it
/// and then recurses forever when the map is printed or encoded).
fn no_cycle(dst: &MapRef, v: &Value) -> Result<(), String> {
    if v.reaches_map(dst) {
        return Err("unsupported: storing a map inside itself (cyclic map)".into());
    }
    Ok(())
}

/// A shallow copy of map argument `i` (nested maps stay shared), or the type error.
/// A nil argument is Go's nil map: readable as empty (assignment to it fails, see `set`).
fn map_arg(a: &[Value], i: usize) -> Result<Map, String> {
    match arg(a, i) {
        Value::Map(m) => Ok(m.snapshot()),
        Value::Nil => Ok(Map::new()),
        other => Err(not_a_map(other)),
    }
}

/// The map argument `i` itself, for functions mutating it; a nil map cannot be assigned to.
fn map_ref_arg(a: &[Value], i: usize) -> Result<&MapRef, String> {
    match arg(a, i) {
        Value::Map(m) => Ok(m),
        Value::Nil => Err("assignment to entry in nil map".into()),
        other => Err(not_a_map(other)),
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
            let d = map_ref_arg(a, 0)?;
            no_cycle(d, arg(a, 2))?;
            d.write().insert(sarg(a, 1).to_string(), arg(a, 2).clone());
            Ok(Value::Map(d.clone()))
        }),
    );
    m.insert(
        "unset",
        f(&[A, S], |a| {
            // Go's delete on a nil map is a no-op.
            if matches!(arg(a, 0), Value::Nil) {
                return Ok(Value::Map(MapRef::default()));
            }
            let d = map_ref_arg(a, 0)?;
            d.write().remove(sarg(a, 1));
            Ok(Value::Map(d.clone()))
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
            Ok(filter(&d, |k| keys.contains(&k)))
        }),
    );
    m.insert(
        "omit",
        fv(&[A], S, |a| {
            let d = map_arg(a, 0)?;
            let keys: Vec<&str> = (1..a.len()).map(|i| sarg(a, i)).collect();
            Ok(filter(&d, |k| !keys.contains(&k)))
        }),
    );
    m.insert("dig", fv(&[A], A, dig));
    let copy = f(&[A], |a| match arg(a, 0) {
        Value::Nil => Err("copy: cannot copy nil".into()),
        v => Ok(v.deep_copy()),
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
    let (def, mut cur) = (&rest[0], rest[1].clone());
    for k in keys {
        let Value::String(k) = k else {
            return Err(conversion(k, "string"));
        };
        let Value::Map(m) = &cur else {
            return Err(conversion(&cur, "map[string]interface {}"));
        };
        match m.get(k.as_ref()) {
            None => return Ok(def.clone()),
            Some(v) => cur = v,
        }
    }
    Ok(cur)
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
                // mergo gives a nil destination a fresh map.
                let dst = match arg(a, 0) {
                    Value::Nil => MapRef::default(),
                    _ => map_ref_arg(a, 0)?.clone(),
                };
                for i in 1..a.len() {
                    merge_into(&dst, map_arg(a, i)?, overwrite)?;
                }
                Ok(Value::Map(dst))
            }),
        );
    }
}

/// dario.cat/mergo's map merge as Sprig calls it: maps on both sides merge recursively; a nil
/// source value is skipped (or, with `overwrite`, written); otherwise the source value is
/// written when `overwrite` is set or the destination key is missing or empty (Go zero value).
/// `dst` and its nested maps are mutated in place (written values alias the source's maps, as
/// in Go). `src` is a snapshot and no lock is held across the recursion, so aliasing between
/// source and destination cannot deadlock.
fn merge_into(dst: &MapRef, src: Map, overwrite: bool) -> Result<(), String> {
    for (k, sv) in src {
        if matches!(sv, Value::Nil) {
            if overwrite {
                dst.write().insert(k, Value::Nil);
            }
            continue;
        }
        let dv = dst.get(&k);
        match (dv, &sv) {
            (Some(Value::Map(dm)), Value::Map(sm)) => {
                if !dm.ptr_eq(sm) {
                    merge_into(&dm, sm.snapshot(), overwrite)?;
                }
            }
            (Some(dv), _) if !overwrite && !is_empty(&dv) => {}
            _ => {
                no_cycle(dst, &sv)?;
                dst.write().insert(k, sv);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{err, r, render};
    use crate::Value;

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
    fn maps_are_shared_references() {
        // Go maps are references: `set` through one variable is seen through another.
        assert_eq!(
            r(r#"{{ $d := dict "a" 1 }}{{ $e := $d }}{{ $_ := set $e "b" 2 }}{{ $d }}"#),
            "map[a:1 b:2]"
        );
        assert_eq!(
            r(r#"{{ $d := dict "a" 1 "b" 2 }}{{ $_ := unset $d "a" }}{{ $d }}"#),
            "map[b:2]"
        );
        // A nested map reached through a field is the same map.
        assert_eq!(
            r(r#"{{ $d := dict "n" (dict) }}{{ $_ := set $d.n "x" 1 }}{{ $d }}"#),
            "map[n:map[x:1]]"
        );
        // set returns its (mutated) first argument.
        assert_eq!(
            r(r#"{{ $d := dict }}{{ $e := set $d "a" 1 }}{{ $_ := set $e "b" 2 }}{{ $d }}"#),
            "map[a:1 b:2]"
        );
        // dict always builds an independent map.
        assert_eq!(
            r(r#"{{ $d := dict "a" 1 }}{{ $e := dict "a" 1 }}{{ $_ := set $e "a" 2 }}{{ $d }}"#),
            "map[a:1]"
        );
        // deepCopy shares nothing, even nested maps.
        assert_eq!(
            r(
                r#"{{ $d := dict "n" (dict "x" 1) }}{{ $c := deepCopy $d }}{{ $_ := set $c.n "x" 2 }}{{ $_ := set $c "y" 3 }}{{ $d }} {{ $c }}"#
            ),
            "map[n:map[x:1]] map[n:map[x:2] y:3]"
        );
    }

    #[test]
    fn set_on_values_is_seen_later() {
        // Helm charts do `set .Values "k" v` and read `.Values.k` afterwards.
        let data = Value::map([(
            "Values",
            Value::map([("sub", Value::map([("a", Value::Int(1))]))]),
        )]);
        let t = r#"{{ $_ := set .Values.sub "b" 2 }}{{ $v := .Values }}{{ $_ := set $v "c" 3 }}{{ .Values.sub.b }} {{ .Values.c }}"#;
        assert_eq!(render(t, &data).unwrap(), "2 3");
    }

    #[test]
    fn merge_mutates_destination() {
        // merge writes into dst (and its nested maps) and returns dst itself.
        assert_eq!(
            r(
                r#"{{ $d := dict "a" 1 "n" (dict "x" 1) }}{{ $n := $d.n }}{{ $r := merge $d (dict "b" 2 "n" (dict "y" 2)) }}{{ $d }} {{ $n }} {{ $_ := set $r "c" 3 }}{{ $d.c }}"#
            ),
            "map[a:1 b:2 n:map[x:1 y:2]] map[x:1 y:2] 3"
        );
        assert_eq!(
            r(r#"{{ $d := dict "a" 1 }}{{ $_ := mergeOverwrite $d (dict "a" 2) }}{{ $d }}"#),
            "map[a:2]"
        );
        // Sources are not modified; merging a map into itself terminates.
        assert_eq!(
            r(
                r#"{{ $s := dict "a" 1 }}{{ $_ := merge (dict "b" 2) $s }}{{ $s }} {{ merge $s $s }}"#
            ),
            "map[a:1] map[a:1]"
        );
        // Cyclic maps are refused loudly (Go would recurse forever printing them).
        assert!(err(r#"{{ $d := dict }}{{ $_ := set $d "self" $d }}"#).contains("cyclic map"));
        assert!(err(r#"{{ $d := dict }}{{ $_ := set $d "l" (list 1 $d) }}"#).contains("cyclic"));
        assert!(err(r#"{{ $d := dict }}{{ $_ := merge $d (dict "x" $d) }}"#).contains("cyclic"));
        // A nil destination gets a fresh map.
        assert_eq!(r(r#"{{ merge nil (dict "a" 1) }}"#), "map[a:1]");
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
