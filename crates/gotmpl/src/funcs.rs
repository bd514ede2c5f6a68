//! The function registry and Go's builtin template functions (`text/template/funcs.go`):
//! `and or not len index slice eq ne lt le gt ge print printf println html js urlquery call`.
//!
//! Functions receive a [`FuncContext`], through which engine-aware functions (Helm's
//! `include` and `tpl`) execute named templates or new template text with the current
//! template set, under the engine's depth limit.

use foldhash::HashMap;

use super::fmt::{sprint, sprintf, sprintln};
use super::value::{FuncContext, Function, Lazy, Param, Value};

/// Named functions available to templates (Go's `FuncMap` merged with the builtins).
#[derive(Clone, Default)]
pub struct FuncMap {
    map: HashMap<String, Function>,
}

impl FuncMap {
    /// An empty map (no builtins).
    pub fn new() -> FuncMap {
        FuncMap::default()
    }

    /// Go's builtin functions.
    pub fn builtins() -> FuncMap {
        let mut m = FuncMap::new();
        let mut and = Function::new(&[Param::Any], Some(Param::Any), |_, a| {
            Ok(a.last().cloned().unwrap_or_default())
        });
        and.lazy = Lazy::And;
        let mut or = and.clone();
        or.lazy = Lazy::Or;
        m.insert("and", and);
        m.insert("or", or);
        m.insert(
            "not",
            Function::new(&[Param::Any], None, |_, a| {
                Ok(Value::Bool(!first(a).is_true()))
            }),
        );
        m.insert(
            "len",
            Function::new(&[Param::Any], None, |_, a| length(first(a))),
        );
        m.insert(
            "index",
            Function::new(&[Param::Any], Some(Param::Any), |_, a| index(a)),
        );
        m.insert(
            "slice",
            Function::new(&[Param::Any], Some(Param::Any), |_, a| slice(a)),
        );
        m.insert(
            "eq",
            Function::new(&[Param::Any], Some(Param::Any), |_, a| {
                eq(a).map(Value::Bool)
            }),
        );
        m.insert("ne", cmp_fn(|a, b| eq(&[a.clone(), b.clone()]).map(|e| !e)));
        m.insert("lt", cmp_fn(lt));
        m.insert("le", cmp_fn(le));
        m.insert("gt", cmp_fn(|a, b| le(a, b).map(|x| !x)));
        m.insert("ge", cmp_fn(|a, b| lt(a, b).map(|x| !x)));
        m.insert(
            "print",
            Function::new(&[], Some(Param::Any), |_, a| Ok(sprint(a).into())),
        );
        m.insert(
            "println",
            Function::new(&[], Some(Param::Any), |_, a| Ok(sprintln(a).into())),
        );
        m.insert(
            "printf",
            Function::new(&[Param::String], Some(Param::Any), |_, a| {
                let f = first(a).as_str().unwrap_or("");
                Ok(sprintf(f, a.get(1..).unwrap_or(&[])).into())
            }),
        );
        m.insert(
            "html",
            Function::new(&[], Some(Param::Any), |_, a| {
                Ok(html_escape(&eval_args(a)).into())
            }),
        );
        m.insert(
            "js",
            Function::new(&[], Some(Param::Any), |_, a| {
                Ok(js_escape(&eval_args(a)).into())
            }),
        );
        m.insert(
            "urlquery",
            Function::new(&[], Some(Param::Any), |_, a| {
                Ok(query_escape(&eval_args(a)).into())
            }),
        );
        m.insert("call", Function::new(&[Param::Any], Some(Param::Any), call));
        m
    }

    /// Adds or replaces a function.
    pub fn insert(&mut self, name: &str, f: Function) {
        self.map.insert(name.to_string(), f);
    }

    /// Looks a function up.
    pub fn get(&self, name: &str) -> Option<&Function> {
        self.map.get(name)
    }

    /// Whether `name` is defined.
    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }
}

/// Helm's include recursion limit per template name (`recursionMaxNums`).
pub const INCLUDE_MAX_RECURSION: usize = 1000;

#[derive(Default)]
struct IncludeCounts(HashMap<String, usize>);

/// Helm's `include NAME DATA`: executes a named template and returns its output as a string,
/// failing with Helm's message when one name nests more than 1000 times.
pub fn include() -> Function {
    Function::new(&[Param::String, Param::Any], None, |ctx, a| {
        let name = first(a).as_str().unwrap_or("").to_string();
        let data = a.get(1).cloned().unwrap_or_default();
        let counts = &mut ctx.state::<IncludeCounts>().0;
        let n = counts.entry(name.clone()).or_insert(0);
        if *n > INCLUDE_MAX_RECURSION {
            return Err(format!(
                "rendering template has a nested reference name: {name}: unable to execute template"
            ));
        }
        *n += 1;
        let result = ctx.execute_template(&name, data);
        if let Some(n) = ctx.state::<IncludeCounts>().0.get_mut(&name) {
            *n = n.saturating_sub(1);
        }
        result.map(Value::from)
    })
}

fn first(a: &[Value]) -> &Value {
    static NIL: Value = Value::Nil;
    a.first().unwrap_or(&NIL)
}

fn cmp_fn(f: fn(&Value, &Value) -> Result<bool, String>) -> Function {
    Function::new(&[Param::Any, Param::Any], None, move |_, a| {
        let b = a.get(1).unwrap_or(&Value::Nil);
        f(first(a), b).map(Value::Bool)
    })
}

fn length(v: &Value) -> Result<Value, String> {
    match v {
        Value::String(s) => Ok(Value::Int(s.len() as i64)),
        Value::List(l) => Ok(Value::Int(l.len() as i64)),
        Value::Map(m) => Ok(Value::Int(m.len() as i64)),
        Value::Nil => Err("reflect: call of reflect.Value.Type on zero Value".into()),
        other => Err(format!("len of type {}", other.go_type())),
    }
}

/// Go's `indexArg`: an integer index in `0..=cap`.
fn index_arg(i: &Value, cap: usize) -> Result<usize, String> {
    let x = match i {
        Value::Int(x) => *x,
        Value::Nil => return Err("cannot index slice/array with nil".into()),
        other => {
            return Err(format!(
                "cannot index slice/array with type {}",
                other.go_type()
            ))
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index(a: &[Value]) -> Result<Value, String> {
    let mut item = first(a).clone();
    if matches!(item, Value::Nil) {
        return Err("index of untyped nil".into());
    }
    for i in a.get(1..).unwrap_or(&[]) {
        item = match &item {
            Value::List(l) => {
                let x = index_arg(i, l.len())?;
                l.get(x)
                    .cloned()
                    .ok_or_else(|| format!("index out of range: {x}"))?
            }
            Value::String(s) => {
                let x = index_arg(i, s.len())?;
                let b = s
                    .as_bytes()
                    .get(x)
                    .ok_or_else(|| format!("index out of range: {x}"))?;
                Value::Int(i64::from(*b))
            }
            Value::Map(m) => match i {
                Value::String(k) => m.get(k.as_ref()).unwrap_or(Value::Nil),
                Value::Nil => return Err("value is nil; should be of type string".into()),
                other => {
                    return Err(format!(
                        "value has type {}; should be string",
                        other.go_type()
                    ))
                }
            },
            Value::Nil => return Err("index of nil pointer".into()),
            other => return Err(format!("can't index item of type {}", other.go_type())),
        };
    }
    Ok(item)
}

fn slice(a: &[Value]) -> Result<Value, String> {
    let item = first(a);
    let idx = a.get(1..).unwrap_or(&[]);
    if matches!(item, Value::Nil) {
        return Err("slice of untyped nil".into());
    }
    if idx.len() > 3 {
        return Err(format!("too many slice indexes: {}", idx.len()));
    }
    let len = match item {
        Value::String(s) => {
            if idx.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::List(l) => l.len(),
        other => return Err(format!("can't slice item of type {}", other.go_type())),
    };
    let mut bounds = [0, len, len];
    for (k, i) in idx.iter().enumerate() {
        bounds[k] = index_arg(i, len)?;
    }
    if bounds[0] > bounds[1] {
        return Err(format!(
            "invalid slice index: {} > {}",
            bounds[0], bounds[1]
        ));
    }
    if idx.len() == 3 && bounds[1] > bounds[2] {
        return Err(format!(
            "invalid slice index: {} > {}",
            bounds[1], bounds[2]
        ));
    }
    Ok(match item {
        Value::String(s) => {
            let bytes = s.as_bytes().get(bounds[0]..bounds[1]).unwrap_or(&[]);
            Value::from(String::from_utf8_lossy(bytes).into_owned())
        }
        Value::List(l) => Value::list(l.get(bounds[0]..bounds[1]).unwrap_or(&[]).to_vec()),
        _ => Value::Nil,
    })
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum BasicKind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
    Other,
}

fn basic_kind(v: &Value) -> BasicKind {
    match v {
        Value::Nil => BasicKind::Invalid,
        Value::Bool(_) => BasicKind::Bool,
        Value::Int(_) => BasicKind::Int,
        Value::Float(_) => BasicKind::Float,
        Value::String(_) => BasicKind::String,
        _ => BasicKind::Other,
    }
}

const BAD_COMPARISON: &str = "incompatible types for comparison";
const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";

/// Go's `eq arg1 arg2...`: true when arg1 equals any of the others.
fn eq(a: &[Value]) -> Result<bool, String> {
    let a1 = first(a);
    let rest = a.get(1..).unwrap_or(&[]);
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(a1);
    for b in rest {
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            if k1 != BasicKind::Invalid && k2 != BasicKind::Invalid {
                return Err(BAD_COMPARISON.into());
            }
            false
        } else {
            match (a1, b) {
                (Value::List(_) | Value::Map(_), _) => {
                    return Err(format!("non-comparable type {a1}: {}", a1.go_type()))
                }
                (_, Value::List(_) | Value::Map(_)) => {
                    return Err(format!("non-comparable type {b}: {}", b.go_type()))
                }
                _ => a1 == b,
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if matches!(k1, BasicKind::Invalid | BasicKind::Other)
        || matches!(k2, BasicKind::Invalid | BasicKind::Other)
    {
        return Err(BAD_COMPARISON_TYPE.into());
    }
    if k1 != k2 {
        return Err(BAD_COMPARISON.into());
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::String(x), Value::String(y)) => Ok(x < y),
        _ => Err(BAD_COMPARISON_TYPE.into()),
    }
}

fn le(a: &Value, b: &Value) -> Result<bool, String> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(&[a.clone(), b.clone()])
}

/// Go's `evalArgs`: a lone string argument as is, otherwise `fmt.Sprint` of the arguments.
fn eval_args(a: &[Value]) -> String {
    if let [Value::String(s)] = a {
        return s.to_string();
    }
    sprint(a)
}

/// Go's `template.HTMLEscapeString`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if (c as u32) < 0x80 || super::fmt::is_print(c) => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04X}"));
                }
            }
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn call(ctx: &mut FuncContext<'_>, a: &[Value]) -> Result<Value, String> {
    match first(a) {
        Value::Func(f) => f.invoke(ctx, a.get(1..).unwrap_or(&[])),
        Value::Nil => Err("call of nil".into()),
        other => Err(format!("non-function of type {}", other.go_type())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapers_match_go() {
        assert_eq!(
            html_escape("<a href=\"x\">&'"),
            "&lt;a href=&#34;x&#34;&gt;&amp;&#39;"
        );
        assert_eq!(
            js_escape("a'b\"<=>&\n"),
            "a\\'b\\\"\\u003C\\u003D\\u003E\\u0026\\u000A"
        );
        assert_eq!(query_escape("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn comparisons_follow_go_basic_kinds() {
        assert_eq!(eq(&[1.into(), 2.into(), 1.into()]), Ok(true));
        assert_eq!(
            eq(&[1.into(), Value::Float(1.0)]),
            Err(BAD_COMPARISON.into())
        );
        assert_eq!(eq(&[Value::Nil, Value::Nil]), Ok(true));
        assert_eq!(eq(&[Value::Nil, "a".into()]), Ok(false));
        assert_eq!(lt(&"a".into(), &"b".into()), Ok(true));
        assert_eq!(lt(&Value::Nil, &1.into()), Err(BAD_COMPARISON_TYPE.into()));
        assert_eq!(
            lt(&true.into(), &false.into()),
            Err(BAD_COMPARISON_TYPE.into())
        );
        assert_eq!(le(&2.into(), &2.into()), Ok(true));
    }

    #[test]
    fn index_and_slice_errors() {
        let l = Value::list(vec![1.into(), 2.into()]);
        assert_eq!(index(&[l.clone(), 1.into()]), Ok(Value::Int(2)));
        assert_eq!(
            index(&[l.clone(), 2.into()]),
            Err("index out of range: 2".into())
        );
        assert_eq!(
            index(&[l.clone(), Value::Int(-1)]),
            Err("index out of range: -1".into())
        );
        assert_eq!(
            index(&[Value::Nil, 1.into()]),
            Err("index of untyped nil".into())
        );
        assert_eq!(
            slice(&[l.clone(), 1.into()]),
            Ok(Value::list(vec![2.into()]))
        );
        assert_eq!(
            slice(&["hello".into(), 1.into(), 3.into()]),
            Ok("el".into())
        );
        assert_eq!(
            slice(&[l, 2.into(), 1.into()]),
            Err("invalid slice index: 2 > 1".into())
        );
    }
}
