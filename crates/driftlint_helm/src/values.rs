//! Helm values: YAML files to JSON-typed trees (numbers float64, as sigs.k8s.io/yaml), Helm's
//! `CoalesceValues`/`MergeValues` (user values over chart defaults, `null` deletes a key,
//! `global` copied down into subcharts) and the `--set` family's strvals grammar.

use serde_json::{Map, Number, Value as Json};
use std::sync::Arc;

use driftlint_yaml::Node;
use gotmpl::Value;

/// Parses a values YAML document into a JSON object with every number a float64, as Helm's
/// `chartutil.ReadValues` (sigs.k8s.io/yaml then `encoding/json` into `interface{}`).
/// An empty document is an empty map. Errors: the YAML error text, or `not a map`.
pub fn parse_values(file: &str, text: &str) -> Result<Map<String, Json>, String> {
    parse_values_doc(file, text).map(|(m, _)| m)
}

/// [`parse_values`], also returning the parsed document (whose nodes carry the origins of
/// the values file's lines), `None` for an empty file.
pub fn parse_values_doc(
    file: &str,
    text: &str,
) -> Result<(Map<String, Json>, Option<Node>), String> {
    parse_values_located(file, text).map_err(|(e, _)| e)
}

/// A values-file error: the message and, for YAML errors, the 1-based line and column.
pub type LocatedError = (String, Option<(u32, u32)>);

/// [`parse_values_doc`] whose error also carries the 1-based line and column of a YAML error
/// (`None` for a document that is not a map).
pub fn parse_values_located(
    file: &str,
    text: &str,
) -> Result<(Map<String, Json>, Option<Node>), LocatedError> {
    let docs = driftlint_yaml::parse_documents(Arc::from(file), text)
        .map_err(|e| (e.to_string(), Some((e.line, e.column))))?;
    let Some(doc) = docs.into_iter().next() else {
        return Ok((Map::new(), None));
    };
    match floats(helm_json(&doc)) {
        Json::Object(m) => Ok((m, Some(doc))),
        Json::Null => Ok((Map::new(), Some(doc))),
        _ => Err((format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal into Go value of type map[string]interface {{}} ({file})"
        ), None)),
    }
}

/// A YAML tree as sigs.k8s.io/yaml's `YAMLToJSON` gives it to Helm: scalars typed by YAML 1.1
/// (go-yaml v2), and map keys decoded the same way and then printed by
/// `convertToJSONableObject`: `y`/`yes`/`on` become `"true"`, `n`/`no`/`off` `"false"`,
/// `0x10` `"16"`, `1.0` `"1"` (Go's `%g`), `~` `"null"`. Later duplicate keys win.
pub fn helm_json(node: &Node) -> Json {
    match &node.value {
        driftlint_yaml::Value::Map(m) => {
            let mut out = Map::new();
            for (k, v) in m.iter() {
                out.insert(helm_key(k), helm_json(v));
            }
            Json::Object(out)
        }
        driftlint_yaml::Value::Seq(items) => Json::Array(items.iter().map(helm_json).collect()),
        driftlint_yaml::Value::Scalar(_) => node.to_json(),
    }
}

/// The string a values-file map key becomes in Helm (see [`helm_json`]).
pub fn helm_key(k: &Node) -> String {
    use driftlint_yaml::Resolved;
    match k.resolve() {
        Some(Resolved::Str(s)) => s.to_string(),
        Some(Resolved::Null) => "null".to_string(),
        Some(Resolved::Bool(b)) => b.to_string(),
        Some(Resolved::Int(n)) => n.to_string(),
        Some(Resolved::Float(f)) => gotmpl::value::format_float_g(f, None, false),
        None => format!("<collection key at {}>", k.origin),
    }
}

/// Every JSON number turned into a float64, as `encoding/json` decodes into `interface{}`.
pub fn floats(v: Json) -> Json {
    match v {
        Json::Number(n) => n
            .as_f64()
            .and_then(Number::from_f64)
            .map_or(Json::Null, Json::Number),
        Json::Array(a) => Json::Array(a.into_iter().map(floats).collect()),
        Json::Object(m) => Json::Object(m.into_iter().map(|(k, v)| (k, floats(v))).collect()),
        other => other,
    }
}

/// Helm's `mergeMaps` for `-f`/`--set` layers: `over` merged into `base` recursively,
/// later values winning; maps merge, everything else replaces.
pub fn merge_maps(base: &mut Map<String, Json>, over: Map<String, Json>) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Json::Object(b)), Json::Object(o)) => merge_maps(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Helm's `coalesceValues`: chart defaults `defaults` filled into the user values `dst`
/// (user wins). A user `null` deletes a key the defaults have; other nulls stay.
pub fn coalesce(dst: &mut Map<String, Json>, defaults: &Map<String, Json>) {
    for (k, dv) in defaults {
        match dst.get_mut(k) {
            None => {
                dst.insert(k.clone(), dv.clone());
            }
            Some(Json::Null) => {
                dst.remove(k);
            }
            Some(Json::Object(d)) => {
                if let Json::Object(src) = dv {
                    coalesce(d, src);
                }
            }
            Some(_) => {}
        }
    }
}

/// Copies the parent's `global` map into a subchart's values (`dst`), the subchart's own
/// globals losing to the parent's, as Helm's `coalesceGlobals` (which always leaves a
/// `global` map in the subchart's values).
pub fn push_globals(parent: &Map<String, Json>, dst: &mut Map<String, Json>) {
    let mut g = match dst.remove("global") {
        Some(Json::Object(g)) => g,
        Some(other) => {
            // Helm: "skipping globals because destination is not a table".
            dst.insert("global".into(), other);
            return;
        }
        None => Map::new(),
    };
    if let Some(Json::Object(pg)) = parent.get("global") {
        merge_maps(&mut g, pg.clone());
    }
    dst.insert("global".into(), Json::Object(g));
}

/// Converts JSON to a template value: integers stay `int` (from `--set`), other numbers
/// float64, objects sorted maps.
pub fn to_value(v: &Json) -> Value {
    match v {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) if !n.is_f64() => Value::Int(i),
            _ => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Value::str(s),
        Json::Array(a) => Value::list(a.iter().map(to_value).collect()),
        Json::Object(m) => Value::map(m.iter().map(|(k, v)| (k.clone(), to_value(v)))),
    }
}

/// How a `--set`-family flag types its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetKind {
    /// `--set`: `true`/`false`/`null`/integers typed, the rest strings.
    Typed,
    /// `--set-string`: every value a string.
    String,
    /// `--set-json`: every value JSON.
    Json,
}

/// Deepest `a.b.c` name nesting in one `--set`-family key: 30, as Helm's
/// `strvals.MaxNestedNameLevel` (its message: `value name nested level is greater than
/// maximum supported nested level of 30`).
pub const MAX_SET_NAME_LEVEL: usize = 30;

/// Deepest nesting of names and list indexes together (`a[0][0]...`) in one `--set`-family
/// key: 256 (Helm has no limit for indexes; the parser recurses once per level).
pub const MAX_SET_NESTING: usize = 256;

/// Parses one `--set`-family argument (`a.b[0].c=x,d=y`, `\,` and `\.` escapes) into `dst`,
/// as Helm's `strvals.ParseInto`/`ParseIntoString`/`ParseJSON`.
/// Errors: Helm's strvals messages (`key "x" has no value`, ...).
pub fn parse_set(arg: &str, kind: SetKind, dst: &mut Map<String, Json>) -> Result<(), String> {
    let mut p = Parser {
        s: arg.chars().collect(),
        i: 0,
        kind,
        literal: None,
        names: 0,
        nesting: 0,
    };
    while p.i < p.s.len() {
        p.names = 0;
        p.nesting = 0;
        p.key_into(dst)?;
    }
    Ok(())
}

/// Sets `key` (a dotted/indexed path, as `--set-file`) to the string `value` in `dst`.
pub fn set_string_at(key: &str, value: &str, dst: &mut Map<String, Json>) -> Result<(), String> {
    let mut p = Parser {
        s: key.chars().collect(),
        i: 0,
        kind: SetKind::String,
        literal: None,
        names: 0,
        nesting: 0,
    };
    p.literal = Some(value.to_string());
    p.key_into(dst)
}

struct Parser {
    s: Vec<char>,
    i: usize,
    kind: SetKind,
    literal: Option<String>,
    /// `.` levels of the current key.
    names: usize,
    /// `.` and `[` levels of the current key.
    nesting: usize,
}

/// What ended a key.
enum Stop {
    Eq,
    Dot,
    Index,
    Comma,
    End,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    /// Reads up to one of `stops` (consumed), honouring `\` escapes.
    fn until(&mut self, stops: &[char]) -> (String, Option<char>) {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            if c == '\\' {
                if let Some(n) = self.peek() {
                    out.push(n);
                    self.i += 1;
                }
                continue;
            }
            if stops.contains(&c) {
                return (out, Some(c));
            }
            out.push(c);
        }
        (out, None)
    }

    fn key(&mut self) -> (String, Stop) {
        let (k, stop) = self.until(&['=', '.', '[', ',']);
        let stop = match stop {
            Some('=') => Stop::Eq,
            Some('.') => Stop::Dot,
            Some('[') => Stop::Index,
            Some(_) => Stop::Comma,
            None => Stop::End,
        };
        (k, stop)
    }

    fn key_into(&mut self, dst: &mut Map<String, Json>) -> Result<(), String> {
        let (k, stop) = self.key();
        if self.literal.is_some() && matches!(stop, Stop::End) {
            let v = self.literal.take().unwrap_or_default();
            dst.insert(k, Json::String(v));
            return Ok(());
        }
        match stop {
            Stop::Eq => {
                let v = self.value()?;
                dst.insert(k, v);
                Ok(())
            }
            Stop::Dot => {
                self.names += 1;
                if self.names > MAX_SET_NAME_LEVEL {
                    return Err(format!("value name nested level is greater than maximum supported nested level of {MAX_SET_NAME_LEVEL}"));
                }
                self.deeper()?;
                let mut child = match dst.remove(&k) {
                    Some(Json::Object(m)) => m,
                    _ => Map::new(),
                };
                let r = self.key_into(&mut child);
                dst.insert(k, Json::Object(child));
                r
            }
            Stop::Index => {
                self.deeper()?;
                let mut list = match dst.remove(&k) {
                    Some(Json::Array(a)) => a,
                    _ => Vec::new(),
                };
                let r = self.index_into(&mut list);
                dst.insert(k, Json::Array(list));
                r
            }
            Stop::Comma => Err(format!("key {k:?} has no value (cannot end with ,)")),
            Stop::End => Err(format!("key {k:?} has no value")),
        }
    }

    /// One more level of nesting. Errors: beyond [`MAX_SET_NESTING`].
    fn deeper(&mut self) -> Result<(), String> {
        self.nesting += 1;
        if self.nesting > MAX_SET_NESTING {
            return Err(format!(
                "key nesting is deeper than the maximum of {MAX_SET_NESTING} levels"
            ));
        }
        Ok(())
    }

    fn index_into(&mut self, list: &mut Vec<Json>) -> Result<(), String> {
        let (digits, stop) = self.until(&[']']);
        if stop.is_none() {
            return Err(format!("unexpected end of index: {digits}"));
        }
        let idx: usize = digits.trim().parse().map_err(|_| {
            format!("failed to parse index: strconv.Atoi: parsing {digits:?}: invalid syntax")
        })?;
        if idx > 65536 {
            return Err(format!(
                "index of {idx} is greater than maximum supported index of 65536"
            ));
        }
        while list.len() <= idx {
            list.push(Json::Null);
        }
        let next = self.peek();
        self.i += 1;
        match next {
            Some('=') if self.literal.is_none() => {
                list[idx] = self.value()?;
                Ok(())
            }
            None if self.literal.is_some() => {
                list[idx] = Json::String(self.literal.take().unwrap_or_default());
                Ok(())
            }
            Some('.') => {
                let mut child = match std::mem::take(&mut list[idx]) {
                    Json::Object(m) => m,
                    _ => Map::new(),
                };
                let r = self.key_into(&mut child);
                list[idx] = Json::Object(child);
                r
            }
            Some('[') => {
                self.deeper()?;
                let mut inner = match std::mem::take(&mut list[idx]) {
                    Json::Array(a) => a,
                    _ => Vec::new(),
                };
                let r = self.index_into(&mut inner);
                list[idx] = Json::Array(inner);
                r
            }
            _ => Err("key has no value".to_string()),
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        if self.kind == SetKind::Json {
            return self.json_value();
        }
        if self.peek() == Some('{') {
            self.i += 1;
            let (inner, stop) = self.until(&['}']);
            if stop.is_none() {
                return Err("list must terminate with '}'".to_string());
            }
            if self.peek() == Some(',') {
                self.i += 1;
            }
            let items = inner.split(',').map(|v| self.typed(v)).collect();
            return Ok(Json::Array(items));
        }
        let (v, _) = self.until(&[',']);
        Ok(self.typed(&v))
    }

    fn json_value(&mut self) -> Result<Json, String> {
        let rest: String = self.s[self.i..].iter().collect();
        let mut de = serde_json::Deserializer::from_str(&rest).into_iter::<Json>();
        match de.next() {
            Some(Ok(v)) => {
                let used = rest[..de.byte_offset()].chars().count();
                self.i += used;
                if self.peek() == Some(',') {
                    self.i += 1;
                }
                Ok(v)
            }
            Some(Err(e)) => Err(e.to_string()),
            None => Ok(Json::Null),
        }
    }

    /// Helm's `typedVal`: `true`, `false`, `null` and integers (no leading zero) are typed.
    fn typed(&self, v: &str) -> Json {
        if self.kind == SetKind::String {
            return Json::String(v.to_string());
        }
        match v {
            "true" => return Json::Bool(true),
            "false" => return Json::Bool(false),
            "null" => return Json::Null,
            "0" => return Json::Number(0.into()),
            _ => {}
        }
        if !v.starts_with('0') {
            if let Ok(n) = v.parse::<i64>() {
                return Json::Number(n.into());
            }
        }
        Json::String(v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(args: &[(&str, SetKind)], base: Json) -> Json {
        let mut m = match base {
            Json::Object(m) => m,
            _ => Map::new(),
        };
        for (a, k) in args {
            let mut layer = Map::new();
            parse_set(a, *k, &mut layer).unwrap();
            merge_maps(&mut m, layer);
        }
        Json::Object(m)
    }

    #[test]
    fn strvals_like_helm() {
        // Observed with helm v4.1.4 `--set 'a.b=null,x\.y=1\,2,l[1].n=007,z={a,b},t=true'`.
        let v = set(
            &[
                (
                    r"a.b=null,x\.y=1\,2,l[1].n=007,z={a,b},t=true",
                    SetKind::Typed,
                ),
                (r#"j={"k":[1,2.5]}"#, SetKind::Json),
                ("s=5", SetKind::String),
            ],
            json!({}),
        );
        assert_eq!(
            v,
            json!({"a": {"b": null}, "x.y": "1,2", "l": [null, {"n": "007"}], "z": ["a", "b"],
                   "t": true, "j": {"k": [1, 2.5]}, "s": "5"})
        );
        assert_eq!(
            set(&[("n=12,e=", SetKind::Typed)], json!({}))["n"],
            json!(12)
        );
        assert_eq!(set(&[("e=", SetKind::Typed)], json!({}))["e"], json!(""));
        let mut m = Map::new();
        assert_eq!(
            parse_set("a.b", SetKind::Typed, &mut m).unwrap_err(),
            r#"key "b" has no value"#
        );
    }

    #[test]
    fn keys_decode_as_sigs_yaml() {
        // Observed with helm v4.1.4: `n: 1`, `y: 2`, `yes: 3`, `on: off`, `k: {no: x, 1.5: f,
        // 0x10: h}`, `v: [y, n, no]` gives `.Values | toJson` =
        // {"false":1,"k":{"1.5":"f","16":"h","false":"x"},"true":false,"v":[true,false,false]}.
        let v = parse_values(
            "v.yaml",
            "n: 1\ny: 2\nyes: 3\non: off\nk:\n  no: x\n  1.5: f\n  0x10: h\nv: [y, n, no]\n",
        )
        .unwrap();
        assert_eq!(
            Json::Object(v),
            json!({"false": 1.0, "k": {"1.5": "f", "16": "h", "false": "x"}, "true": false,
                   "v": [true, false, false]})
        );
    }

    #[test]
    fn coalesce_null_deletes_default_only() {
        let mut user = match json!({"a": {"b": null, "x": null}, "keep": 1}) {
            Json::Object(m) => m,
            _ => unreachable!(),
        };
        let defaults = match json!({"a": {"b": 1, "c": 2}, "keep": 5, "d": [1]}) {
            Json::Object(m) => m,
            _ => unreachable!(),
        };
        coalesce(&mut user, &defaults);
        assert_eq!(
            Json::Object(user),
            json!({"a": {"c": 2, "x": null}, "keep": 1, "d": [1]})
        );
    }

    #[test]
    fn globals_flow_down_and_numbers_are_floats() {
        let parent = match json!({"global": {"r": "p", "o": 1}}) {
            Json::Object(m) => m,
            _ => unreachable!(),
        };
        let mut sub = match json!({"global": {"r": "s", "mine": true}}) {
            Json::Object(m) => m,
            _ => unreachable!(),
        };
        push_globals(&parent, &mut sub);
        assert_eq!(sub["global"], json!({"r": "p", "o": 1, "mine": true}));
        let v = parse_values("v.yaml", "x: 3\nf: 1.5\n").unwrap();
        assert!(matches!(to_value(&v["x"]), Value::Float(x) if x == 3.0));
        assert!(matches!(to_value(&json!(3)), Value::Int(3)));
        let mut m = Map::new();
        set_string_at("a.b[0]", "text", &mut m).unwrap();
        assert_eq!(Json::Object(m), json!({"a": {"b": ["text"]}}));
    }
}
