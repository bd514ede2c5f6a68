//! Helm's own template functions (`pkg/engine/funcs.go` and `engine.go`): `toYaml mustToYaml
//! fromYaml fromYamlArray toJson fromJson fromJsonArray include tpl required fail lookup`.

use std::sync::Arc;

use driftlint_yaml::{emit_node, parse_documents, Mapping, Node, Origin, Value as YValue};
use gotmpl::funcs::include;
use gotmpl::sprig::encoding::{from_json, to_json, JsonStyle};
use gotmpl::sprig::{arg, f, sarg, sprig_funcs_with, A, S};
use gotmpl::{FuncMap, Function, Param, Value};

/// Start of a message from `required`/`fail`, as Helm's `warnWrap`; Helm's
/// `cleanupExecError` reports only the text between the delimiters as
/// `execution error at (FILE:LINE:COL): MESSAGE`.
pub const WARN_START: &str = "HELM_ERR_START";
/// End of a message from `required`/`fail` (see [`WARN_START`]).
pub const WARN_END: &str = "HELM_ERR_END";

/// The message wrapped by `required`/`fail` inside a template error text, if any.
pub fn extract_warning(error_text: &str) -> Option<&str> {
    let start = error_text.find(WARN_START)? + WARN_START.len();
    let len = error_text.get(start..)?.find(WARN_END)?;
    error_text.get(start..start + len)
}

pub use gotmpl::sprig::FuncOptions;

/// Go builtins + Sprig v3 + Helm functions, with the system clock (see [`helm_funcs_with`]).
///
/// ```
/// use driftlint_helm::funcs::helm_funcs;
/// use gotmpl::{Templates, Value};
/// let mut set = Templates::new("gotpl", helm_funcs());
/// set.parse("t", r#"{{ "hello" | upper | quote }} {{ dict "a" 1 | toYaml }}"#).unwrap();
/// assert_eq!(set.execute("t", &Value::Nil).unwrap(), "\"HELLO\" a: 1");
/// ```
pub fn helm_funcs() -> FuncMap {
    helm_funcs_with(&FuncOptions::default())
}

/// Go builtins + Sprig v3 + Helm functions, configured by `opts`. Helm's functions replace
/// Sprig's of the same name, and Sprig's replace Go builtins (`slice`), as in Helm's
/// `funcMap()` added with `template.Funcs`.
pub fn helm_funcs_with(opts: &FuncOptions) -> FuncMap {
    let mut m = sprig_funcs_with(opts);
    register(&mut m);
    m
}

fn warn_wrap(msg: &str) -> String {
    format!("{WARN_START}{msg}{WARN_END}")
}

/// Helm's `toYaml` (sigs.k8s.io/yaml `Marshal`: through JSON, keys sorted, integral numbers
/// as integers), trailing newline trimmed; a value JSON cannot encode gives `""`.
pub fn to_yaml(v: &Value) -> String {
    let origin = Origin::new(Arc::from(""), 0, 0);
    match yaml_node(v, &origin) {
        Some(node) => emit_node(&node).trim_end_matches('\n').to_string(),
        None => String::new(),
    }
}

fn yaml_node(v: &Value, o: &Origin) -> Option<Node> {
    Some(match v {
        Value::Nil => Node::null(o.clone()),
        Value::Bool(b) => Node::bool(*b, o.clone()),
        Value::Int(i) => Node::int(*i, o.clone()),
        Value::Float(x) => Node::plain(yaml_float(*x)?, o.clone()),
        Value::String(s) => Node::string(s.to_string(), o.clone()),
        Value::List(l) => {
            let items = l
                .iter()
                .map(|i| yaml_node(i, o))
                .collect::<Option<Vec<_>>>()?;
            Node::new(YValue::Seq(items), o.clone())
        }
        Value::Map(m) => {
            let mut map = Mapping::new();
            for (k, item) in m.read().iter() {
                map.push(Node::string(k.clone(), o.clone()), yaml_node(item, o)?);
            }
            Node::new(YValue::Map(map), o.clone())
        }
        Value::Func(_) | Value::Object(_) => return None,
    })
}

/// A float as it comes out of JSON → go-yaml v2: integral values in `i64` range as integers,
/// others in Go's `%g` shortest form; non-finite values have no JSON form.
fn yaml_float(x: f64) -> Option<String> {
    if !x.is_finite() {
        return None;
    }
    if x.fract() == 0.0 && x.abs() < 9.2e18 {
        return Some((x as i64).to_string());
    }
    Some(gotmpl::value::format_float_g(x, None, false))
}

/// Parses the first YAML document of `s` as sigs.k8s.io/yaml `Unmarshal` does (through
/// JSON, so numbers become `float64`). Errors carry our YAML parser's message.
pub fn from_yaml(s: &str) -> Result<Value, String> {
    let docs = parse_documents(Arc::from("fromYaml"), s).map_err(|e| {
        format!(
            "error converting YAML to JSON: yaml: line {}: {}",
            e.line, e.message
        )
    })?;
    Ok(docs
        .first()
        .map_or(Value::Nil, |d| Value::from(&d.to_json())))
}

fn unmarshal_error(v: &Value, target: &str) -> String {
    let kind = match v {
        Value::List(_) => "array",
        Value::Map(_) => "object",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        _ => "number",
    };
    format!("json: cannot unmarshal {kind} into Go value of type {target}")
}

const MAP_T: &str = "map[string]interface {}";
const LIST_T: &str = "[]interface {}";

/// Into a map, as `json.Unmarshal` into `map[string]interface{}` (null leaves it empty).
fn as_map(v: Result<Value, String>, yaml: bool) -> Value {
    let err = |e: String| Value::map([("Error", Value::from(e))]);
    match v {
        Ok(m @ Value::Map(_)) => m,
        Ok(Value::Nil) => Value::map::<String>([]),
        Ok(other) if yaml => err(format!(
            "error unmarshaling JSON: while decoding JSON: {}",
            unmarshal_error(&other, MAP_T)
        )),
        Ok(other) => err(unmarshal_error(&other, MAP_T)),
        Err(e) => err(e),
    }
}

/// Into a list, as `json.Unmarshal` into `[]interface{}`; errors as a one-element list.
fn as_list(v: Result<Value, String>, yaml: bool) -> Value {
    let err = |e: String| Value::list(vec![Value::from(e)]);
    match v {
        Ok(l @ Value::List(_)) => l,
        Ok(Value::Nil) => Value::list(Vec::new()),
        Ok(other) if yaml => err(format!(
            "error unmarshaling JSON: while decoding JSON: {}",
            unmarshal_error(&other, LIST_T)
        )),
        Ok(other) => err(unmarshal_error(&other, LIST_T)),
        Err(e) => err(e),
    }
}

pub(super) fn register(m: &mut FuncMap) {
    m.insert("toYaml", f(&[A], |a| Ok(to_yaml(arg(a, 0)).into())));
    m.insert(
        "mustToYaml",
        f(&[A], |a| match arg(a, 0) {
            v @ (Value::Func(_) | Value::Object(_)) => Err(format!(
                "error marshaling into JSON: json: unsupported type: {}",
                v.go_type()
            )),
            v => match to_json(v, JsonStyle::Compact) {
                Err(e) => Err(format!("error marshaling into JSON: {e}")),
                Ok(_) => Ok(to_yaml(v).into()),
            },
        }),
    );
    m.insert(
        "fromYaml",
        f(&[S], |a| Ok(as_map(from_yaml(sarg(a, 0)), true))),
    );
    m.insert(
        "fromYamlArray",
        f(&[S], |a| Ok(as_list(from_yaml(sarg(a, 0)), true))),
    );
    m.insert(
        "toJson",
        f(&[A], |a| {
            Ok(to_json(arg(a, 0), JsonStyle::Compact)
                .unwrap_or_default()
                .into())
        }),
    );
    m.insert(
        "fromJson",
        f(&[S], |a| Ok(as_map(from_json(sarg(a, 0)), false))),
    );
    m.insert(
        "fromJsonArray",
        f(&[S], |a| Ok(as_list(from_json(sarg(a, 0)), false))),
    );
    m.insert("include", include());
    m.insert("tpl", tpl());
    m.insert(
        "required",
        f(&[S, A], |a| match arg(a, 1) {
            Value::Nil => Err(warn_wrap(sarg(a, 0))),
            Value::String(s) if s.is_empty() => Err(warn_wrap(sarg(a, 0))),
            v => Ok(v.clone()),
        }),
    );
    m.insert("fail", f(&[S], |a| Err(warn_wrap(sarg(a, 0)))));
    m.insert("lookup", f(&[S, S, S, S], |_| Ok(Value::map::<String>([]))));
}

/// Helm's `tpl TEXT DATA`: parses TEXT as template `gotpl` (the name of Helm's root template)
/// in a copy of the current set and executes it with DATA; `<no value>` is removed from the
/// output as Helm does. Errors: `cannot parse template "TEXT": ...` and
/// `error during tpl function execution for "TEXT": ...`.
pub fn tpl() -> Function {
    Function::new(&[Param::String, Param::Any], None, |ctx, a| {
        let text = sarg(a, 0).to_string();
        let data = arg(a, 1).clone();
        let quoted = gotmpl::fmt::go_quote(&text);
        match ctx.execute_text("gotpl", &text, data) {
            Ok(s) => Ok(s.replace("<no value>", "").into()),
            Err(e) if e.starts_with("template: gotpl:") && !e.contains("executing") => {
                Err(format!("cannot parse template {quoted}: {e}"))
            }
            Err(e) => Err(format!(
                "error during tpl function execution for {quoted}: {e}"
            )),
        }
    })
}

#[cfg(test)]
mod testutil {
    use super::{helm_funcs_with, FuncOptions};
    use gotmpl::{Templates, Value};

    /// Renders `src` with `data` as dot under the Helm function set and a fixed clock.
    pub fn render(src: &str, data: &Value) -> Result<String, String> {
        let opts = FuncOptions {
            fixed_now: Some(1_700_000_000),
            random_seed: Some(1),
        };
        let mut set = Templates::new("gotpl", helm_funcs_with(&opts));
        set.parse("t", src).map_err(|e| e.to_string())?;
        set.execute("t", data).map_err(|e| e.to_string())
    }

    /// Renders with nil data, panicking on error (tests only).
    pub fn r(src: &str) -> String {
        match render(src, &Value::Nil) {
            Ok(s) => s,
            Err(e) => panic!("render {src:?}: {e}"),
        }
    }

    /// The error text of rendering `src`.
    pub fn err(src: &str) -> String {
        match render(src, &Value::Nil) {
            Ok(s) => panic!("expected error from {src:?}, got {s:?}"),
            Err(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::{err, r, render};
    use super::*;

    #[test]
    fn to_yaml_matches_sigs_yaml() {
        let v = Value::map([
            ("replicas", Value::Float(1.0)),
            ("ratio", Value::Float(0.5)),
            ("big", Value::Float(1e6)),
            ("name", "on".into()),
            ("list", Value::list(vec!["a".into(), Value::Int(2)])),
            ("empty", Value::map::<String>([])),
            ("none", Value::Nil),
        ]);
        assert_eq!(
            to_yaml(&v),
            "big: 1000000\nempty: {}\nlist:\n- a\n- 2\nname: \"on\"\nnone: null\nratio: 0.5\nreplicas: 1"
        );
        assert_eq!(to_yaml(&Value::Nil), "null");
        assert_eq!(to_yaml(&Value::Float(f64::NAN)), "");
        assert!(err("{{ mustToYaml (list 1 (now)) }}").contains("unsupported type"));
        assert_eq!(r("{{ mustToYaml (dict \"a\" 1) }}"), "a: 1");
        let data = Value::map([("r", Value::map([("cpu", "100m".into())]))]);
        assert_eq!(
            render("r:{{ toYaml .r | nindent 2 }}", &data).unwrap(),
            "r:\n  cpu: 100m"
        );
    }

    #[test]
    fn from_yaml_and_json() {
        assert_eq!(
            r(r#"{{ (fromYaml "a: 1\nb: [x]").a }} {{ (fromYaml "a: 1").a | kindOf }}"#),
            "1 float64"
        );
        assert!(r(r#"{{ (fromYaml "- a").Error }}"#).contains("cannot unmarshal array"));
        assert_eq!(r(r#"{{ fromYamlArray "- a\n- 2" }}"#), "[a 2]");
        assert_eq!(r(r#"{{ (fromJson "{\"a\": {\"b\": 2}}").a.b }}"#), "2");
        assert!(!r(r#"{{ (fromJson "{").Error }}"#).is_empty());
        assert_eq!(r(r#"{{ fromJsonArray "[1, \"x\"]" }}"#), "[1 x]");
        assert_eq!(
            r(r#"{{ toJson (dict "a" 1 "b" (list "x")) }}"#),
            r#"{"a":1,"b":["x"]}"#
        );
    }

    #[test]
    fn required_fail_lookup() {
        let e = err(r#"{{ required "A valid .Values.who entry required!" .who }}"#);
        assert_eq!(
            extract_warning(&e),
            Some("A valid .Values.who entry required!")
        );
        let data = Value::map([("who", Value::str("me"))]);
        assert_eq!(render(r#"{{ required "x" .who }}"#, &data).unwrap(), "me");
        assert!(err(r#"{{ required "x" "" }}"#).contains("HELM_ERR_STARTxHELM_ERR_END"));
        assert_eq!(extract_warning(&err(r#"{{ fail "boom" }}"#)), Some("boom"));
        assert_eq!(r(r#"{{ lookup "v1" "Secret" "ns" "n" }}"#), "map[]");
    }

    #[test]
    fn tpl_renders_with_defines() {
        let data = Value::map([
            ("name", Value::str("web")),
            ("t", "{{ .name | upper }}".into()),
        ]);
        let src = r#"{{ define "x" }}X{{ end }}{{ tpl .t . }} {{ tpl "{{ include \"x\" . }}" . }}"#;
        assert_eq!(render(src, &data).unwrap(), "WEB X");
        let e = err(r#"{{ tpl "{{ index 1 2 }}" nil }}"#);
        assert!(e.contains("error during tpl function execution"), "{e}");
        assert!(err(r#"{{ tpl "{{ if }}" . }}"#).contains("cannot parse template"));
    }

    #[test]
    fn unknown_functions_fail_at_parse_time() {
        let e = err("{{ env \"HOME\" }}");
        assert!(e.contains("function \"env\" not defined"), "{e}");
    }
}
