//! The functions helmfile registers for HCL values (`pkg/hcllang/hcl_functions.go`: go-cty's
//! `function/stdlib`, `tryfunc`, `go-cty-yaml`), those driftlint implements, with go-cty's
//! semantics. The rest of helmfile's list is refused loudly (RENDER002) before evaluation.

use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::{Map, Number, Value};

/// Marks the message of a function driftlint does not implement (RENDER002).
pub(super) const UNSUPPORTED: &str = "not supported by driftlint";

/// The most elements a function builds (`range`, `concat`, `flatten`, ...): an evaluation
/// budget.
pub(crate) const MAX_ITEMS: usize = 10_000;

/// Functions helmfile registers that driftlint does not implement.
const NOT_IMPLEMENTED: &[&str] = &[
    "can",
    "try",
    "csvdecode",
    "format",
    "formatdate",
    "formatlist",
    "regex",
    "regexall",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "timeadd",
    "yamldecode",
    "yamlencode",
];

/// Declares `fn $name(args) -> Result<Value, String>` applying `$op` to the arguments read by
/// `$read` (the table below needs plain `fn` pointers, which cannot capture an operation).
macro_rules! lift {
    ($name:ident, num, $op:expr) => {
        fn $name(a: FuncArgs) -> Result<Value, String> {
            let op: fn(f64) -> f64 = $op;
            Ok(number(op(num(&a[0])?)))
        }
    };
    ($name:ident, num2, $op:expr) => {
        fn $name(a: FuncArgs) -> Result<Value, String> {
            let op: fn(f64, f64) -> f64 = $op;
            Ok(number(op(num(&a[0])?, num(&a[1])?)))
        }
    };
    ($name:ident, str, $op:expr) => {
        fn $name(a: FuncArgs) -> Result<Value, String> {
            let op: fn(&str) -> String = $op;
            Ok(Value::String(op(text(&a[0])?)))
        }
    };
    ($name:ident, str2, $op:expr) => {
        fn $name(a: FuncArgs) -> Result<Value, String> {
            let op: fn(&str, &str) -> String = $op;
            Ok(Value::String(op(text(&a[0])?, text(&a[1])?)))
        }
    };
}

lift!(abs, num, f64::abs);
lift!(ceil, num, f64::ceil);
lift!(floor, num, f64::floor);
lift!(signum, num, |n| if n == 0.0 { 0.0 } else { n.signum() });
lift!(log, num2, |n, b| n.ln() / b.ln());
lift!(pow, num2, f64::powf);
lift!(lower, str, str::to_lowercase);
lift!(upper, str, str::to_uppercase);
lift!(title, str, title_case);
lift!(chomp, str, |s| s
    .strip_suffix("\r\n")
    .or_else(|| s.strip_suffix('\n'))
    .or_else(|| s.strip_suffix('\r'))
    .unwrap_or(s)
    .to_string());
lift!(trimspace, str, |s| s.trim().to_string());
lift!(strrev, str, |s| s.chars().rev().collect());
lift!(trim, str2, |s, c| s
    .trim_matches(|x| c.contains(x))
    .to_string());
lift!(trimprefix, str2, |s, p| s
    .strip_prefix(p)
    .unwrap_or(s)
    .to_string());
lift!(trimsuffix, str2, |s, p| s
    .strip_suffix(p)
    .unwrap_or(s)
    .to_string());

type Func = fn(FuncArgs) -> Result<Value, String>;

fn any() -> ParamType {
    ParamType::Any
}

fn list() -> ParamType {
    ParamType::array_of(ParamType::Any)
}

fn object() -> ParamType {
    ParamType::object_of(ParamType::Any)
}

/// name, fixed parameters, variadic parameter, implementation.
fn table() -> Vec<(&'static str, Vec<ParamType>, Option<ParamType>, Func)> {
    use ParamType::{Number as N, String as S};
    vec![
        ("abs", vec![N], None, abs),
        ("ceil", vec![N], None, ceil),
        ("floor", vec![N], None, floor),
        ("signum", vec![N], None, signum),
        ("log", vec![N, N], None, log),
        ("pow", vec![N, N], None, pow),
        ("max", vec![], Some(N), max),
        ("min", vec![], Some(N), min),
        ("parseint", vec![any(), N], None, parseint),
        ("lower", vec![S], None, lower),
        ("upper", vec![S], None, upper),
        ("title", vec![S], None, title),
        ("chomp", vec![S], None, chomp),
        ("trimspace", vec![S], None, trimspace),
        ("strrev", vec![S], None, strrev),
        ("strlen", vec![S], None, strlen),
        ("trim", vec![S, S], None, trim),
        ("trimprefix", vec![S, S], None, trimprefix),
        ("trimsuffix", vec![S, S], None, trimsuffix),
        ("substr", vec![S, N, N], None, substr),
        ("indent", vec![N, S], None, indent),
        ("split", vec![S, S], None, split),
        ("join", vec![S], Some(list()), join),
        ("length", vec![any()], None, length),
        ("keys", vec![object()], None, keys),
        ("values", vec![object()], None, values),
        ("lookup", vec![object(), S, any()], None, lookup),
        ("merge", vec![], Some(ParamType::nullable(object())), merge),
        ("concat", vec![], Some(list()), concat),
        ("contains", vec![list(), any()], None, contains),
        ("distinct", vec![list()], None, distinct),
        ("element", vec![list(), N], None, element),
        ("flatten", vec![list()], None, flatten),
        ("reverselist", vec![list()], None, reverselist),
        ("slice", vec![list(), N, N], None, slice),
        ("sort", vec![list()], None, sort),
        ("compact", vec![list()], None, compact),
        ("coalesce", vec![], Some(any()), coalesce),
        ("coalescelist", vec![], Some(any()), coalescelist),
        ("chunklist", vec![list(), N], None, chunklist),
        ("range", vec![], Some(N), range),
        ("zipmap", vec![list(), list()], None, zipmap),
        ("jsonencode", vec![any()], None, jsonencode),
        ("jsondecode", vec![S], None, jsondecode),
    ]
}

/// An evaluation context with every implemented function declared.
pub(super) fn context() -> Context<'static> {
    let mut ctx = Context::new();
    for (name, params, rest, f) in table() {
        let mut b = FuncDef::builder().params(params);
        if let Some(r) = rest {
            b = b.variadic_param(r);
        }
        ctx.declare_func(name, b.build(f));
    }
    ctx
}

/// Checks a called function's name: `Err((unsupported, message))` for a function helmfile
/// registers that driftlint does not implement (RENDER002), or one helmfile does not register.
pub(super) fn check_name(name: &str) -> Result<(), (bool, String)> {
    if table().iter().any(|(n, ..)| *n == name) {
        return Ok(());
    }
    if NOT_IMPLEMENTED.contains(&name) {
        return Err((
            true,
            format!("HCL function {name}() is {UNSUPPORTED} (helmfile registers it)"),
        ));
    }
    Err((
        false,
        format!("Call to unknown function; There is no function named \"{name}\"."),
    ))
}

fn num(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| format!("{v} is not a number")),
        _ => Err(format!("a number is required, got {v}")),
    }
}

fn text(v: &Value) -> Result<&str, String> {
    v.as_str()
        .ok_or_else(|| format!("a string is required, got {v}"))
}

fn items(v: &Value) -> Result<&Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("a list is required, got {v}"))
}

/// A number value: an integer when `f` is one (as cty's big.Float prints).
fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::Number(Number::from(f as i64))
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

fn budget(n: usize) -> Result<(), String> {
    if n > MAX_ITEMS {
        return Err(format!(
            "result of {n} elements exceeds the budget of {MAX_ITEMS}"
        ));
    }
    Ok(())
}

/// An index argument: a whole number in `0..=len`.
fn index(v: &Value, len: usize) -> Result<usize, String> {
    let f = num(v)?;
    if f.fract() != 0.0 || f < 0.0 || f > len as f64 {
        return Err(format!("invalid index {f} (length {len})"));
    }
    Ok(f as usize)
}

fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric() && c != '_' && c != '\'';
    }
    out
}

fn max(a: FuncArgs) -> Result<Value, String> {
    fold(&a, f64::max)
}

fn min(a: FuncArgs) -> Result<Value, String> {
    fold(&a, f64::min)
}

fn fold(a: &[Value], op: fn(f64, f64) -> f64) -> Result<Value, String> {
    let mut acc: Option<f64> = None;
    for v in a {
        let n = num(v)?;
        acc = Some(acc.map_or(n, |x| op(x, n)));
    }
    acc.map(number)
        .ok_or_else(|| "must pass at least one number".to_string())
}

fn parseint(a: FuncArgs) -> Result<Value, String> {
    let s = match &a[0] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => return Err(format!("cannot parse {other} as an integer")),
    };
    let base = num(&a[1])?;
    if !(2.0..=62.0).contains(&base) || base.fract() != 0.0 || base > 36.0 {
        return Err(format!(
            "base must be a whole number between 2 and 36, got {base}"
        ));
    }
    i64::from_str_radix(&s, base as u32)
        .map(|i| Value::Number(Number::from(i)))
        .map_err(|_| format!("cannot parse {s:?} as a base {base} integer"))
}

fn strlen(a: FuncArgs) -> Result<Value, String> {
    Ok(number(text(&a[0])?.chars().count() as f64))
}

fn substr(a: FuncArgs) -> Result<Value, String> {
    let chars: Vec<char> = text(&a[0])?.chars().collect();
    let len = chars.len() as i64;
    let mut offset = num(&a[1])? as i64;
    let length = num(&a[2])? as i64;
    if offset < 0 {
        offset = (len + offset).max(0);
    }
    let start = offset.min(len) as usize;
    let end = if length < 0 {
        len
    } else {
        (offset + length).min(len)
    } as usize;
    Ok(Value::String(chars[start..end.max(start)].iter().collect()))
}

fn indent(a: FuncArgs) -> Result<Value, String> {
    let n = index(&a[0], 1024)?;
    let pad = " ".repeat(n);
    let s = text(&a[1])?;
    let lines: Vec<&str> = s.split('\n').collect();
    let mut out = lines[0].to_string();
    for l in &lines[1..] {
        out.push('\n');
        out.push_str(&pad);
        out.push_str(l);
    }
    Ok(Value::String(out))
}

fn split(a: FuncArgs) -> Result<Value, String> {
    let (sep, s) = (text(&a[0])?, text(&a[1])?);
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(sep).map(Value::from).collect()
    };
    budget(parts.len())?;
    Ok(Value::Array(parts))
}

fn join(a: FuncArgs) -> Result<Value, String> {
    let sep = text(&a[0])?;
    let mut parts = Vec::new();
    for l in &a[1..] {
        for v in items(l)? {
            parts.push(match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => return Err(format!("join: element {other} is not a string")),
            });
        }
    }
    Ok(Value::String(parts.join(sep)))
}

fn length(a: FuncArgs) -> Result<Value, String> {
    let n = match &a[0] {
        Value::String(s) => s.chars().count(),
        Value::Array(l) => l.len(),
        Value::Object(o) => o.len(),
        other => return Err(format!("length: {other} is not a collection or string")),
    };
    Ok(number(n as f64))
}

fn sorted_keys(o: &Map<String, Value>) -> Vec<&String> {
    let mut keys: Vec<&String> = o.keys().collect();
    keys.sort();
    keys
}

fn keys(a: FuncArgs) -> Result<Value, String> {
    let o = a[0].as_object().ok_or("keys: an object is required")?;
    Ok(Value::Array(
        sorted_keys(o)
            .into_iter()
            .map(|k| Value::from(k.as_str()))
            .collect(),
    ))
}

fn values(a: FuncArgs) -> Result<Value, String> {
    let o = a[0].as_object().ok_or("values: an object is required")?;
    Ok(Value::Array(
        sorted_keys(o).into_iter().map(|k| o[k].clone()).collect(),
    ))
}

fn lookup(a: FuncArgs) -> Result<Value, String> {
    let o = a[0].as_object().ok_or("lookup: an object is required")?;
    Ok(o.get(text(&a[1])?).unwrap_or(&a[2]).clone())
}

/// cty's `merge`: shallow, later arguments win, nulls skipped.
fn merge(a: FuncArgs) -> Result<Value, String> {
    let mut out = Map::new();
    for v in a.iter() {
        if let Some(o) = v.as_object() {
            for (k, v) in o {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(Value::Object(out))
}

fn concat(a: FuncArgs) -> Result<Value, String> {
    let mut out = Vec::new();
    for l in a.iter() {
        out.extend(items(l)?.iter().cloned());
        budget(out.len())?;
    }
    Ok(Value::Array(out))
}

fn contains(a: FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(items(&a[0])?.contains(&a[1])))
}

fn distinct(a: FuncArgs) -> Result<Value, String> {
    let mut out: Vec<Value> = Vec::new();
    for v in items(&a[0])? {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    Ok(Value::Array(out))
}

/// cty's `element`: the index wraps around the list's length.
fn element(a: FuncArgs) -> Result<Value, String> {
    let l = items(&a[0])?;
    if l.is_empty() {
        return Err("cannot use element function with an empty list".into());
    }
    let i = index(&a[1], usize::MAX)?;
    Ok(l[i % l.len()].clone())
}

fn flatten(a: FuncArgs) -> Result<Value, String> {
    fn walk(l: &[Value], out: &mut Vec<Value>, depth: usize) -> Result<(), String> {
        if depth > super::MAX_NESTING {
            return Err("flatten: nested too deeply".into());
        }
        for v in l {
            match v {
                Value::Array(inner) => walk(inner, out, depth + 1)?,
                other => out.push(other.clone()),
            }
            budget(out.len())?;
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(items(&a[0])?, &mut out, 0)?;
    Ok(Value::Array(out))
}

fn reverselist(a: FuncArgs) -> Result<Value, String> {
    Ok(Value::Array(items(&a[0])?.iter().rev().cloned().collect()))
}

fn slice(a: FuncArgs) -> Result<Value, String> {
    let l = items(&a[0])?;
    let (start, end) = (index(&a[1], l.len())?, index(&a[2], l.len())?);
    if start > end {
        return Err(format!("slice: start {start} is after end {end}"));
    }
    Ok(Value::Array(l[start..end].to_vec()))
}

/// cty's `sort`: a list of strings, lexicographically.
fn sort(a: FuncArgs) -> Result<Value, String> {
    let mut out: Vec<String> = Vec::new();
    for v in items(&a[0])? {
        out.push(match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => return Err(format!("sort: {other} is not a string")),
        });
    }
    out.sort();
    Ok(Value::Array(out.into_iter().map(Value::String).collect()))
}

fn compact(a: FuncArgs) -> Result<Value, String> {
    let l = items(&a[0])?;
    Ok(Value::Array(
        l.iter()
            .filter(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
            .cloned()
            .collect(),
    ))
}

/// cty's `coalesce`: the first argument that is neither null nor an empty string.
fn coalesce(a: FuncArgs) -> Result<Value, String> {
    a.iter()
        .find(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| "no non-null, non-empty-string arguments".to_string())
}

fn coalescelist(a: FuncArgs) -> Result<Value, String> {
    for v in a.iter() {
        if !items(v)?.is_empty() {
            return Ok(v.clone());
        }
    }
    Err("no non-null arguments".into())
}

fn chunklist(a: FuncArgs) -> Result<Value, String> {
    let l = items(&a[0])?;
    let size = index(&a[1], MAX_ITEMS)?;
    if size == 0 {
        return Ok(Value::Array(vec![Value::Array(l.clone())]));
    }
    Ok(Value::Array(
        l.chunks(size).map(|c| Value::Array(c.to_vec())).collect(),
    ))
}

/// cty's `range(limit)`, `range(start, limit)`, `range(start, limit, step)`.
fn range(a: FuncArgs) -> Result<Value, String> {
    let n: Vec<f64> = a.iter().map(num).collect::<Result<_, _>>()?;
    let (start, limit, step) = match n.as_slice() {
        [l] => (0.0, *l, 1.0),
        [s, l] => (*s, *l, if l >= s { 1.0 } else { -1.0 }),
        [s, l, st] => (*s, *l, *st),
        _ => return Err("range: 1 to 3 arguments".into()),
    };
    if step == 0.0 || (step > 0.0) != (limit >= start) && limit != start {
        return Err("range: the step must move start towards limit".into());
    }
    let count = ((limit - start) / step).ceil().max(0.0);
    budget(count as usize)?;
    Ok(Value::Array(
        (0..count as usize)
            .map(|i| number(start + step * i as f64))
            .collect(),
    ))
}

fn zipmap(a: FuncArgs) -> Result<Value, String> {
    let (k, v) = (items(&a[0])?, items(&a[1])?);
    if k.len() != v.len() {
        return Err("zipmap: the number of keys and values differ".into());
    }
    let mut out = Map::new();
    for (k, v) in k.iter().zip(v) {
        out.insert(text(k)?.to_string(), v.clone());
    }
    Ok(Value::Object(out))
}

fn jsonencode(a: FuncArgs) -> Result<Value, String> {
    serde_json::to_string(&super::to_json(&a[0]))
        .map(Value::String)
        .map_err(|e| e.to_string())
}

fn jsondecode(a: FuncArgs) -> Result<Value, String> {
    let s = text(&a[0])?;
    if s.len() > super::MAX_FILE_BYTES {
        return Err("jsondecode: input too large".into());
    }
    let v: serde_json::Value = serde_json::from_str(s).map_err(|e| e.to_string())?;
    Ok(from_json(&v))
}

fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => number(n.as_f64().unwrap_or_default()),
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
    }
}
