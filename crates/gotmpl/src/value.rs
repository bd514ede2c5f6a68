//! The dynamic value model templates execute over, standing in for Go's `interface{}` data
//! (what Helm hands to `text/template`: `map[string]interface{}`, `[]interface{}`, strings,
//! float64 numbers, bools and nil), plus opaque objects with fields and methods.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use foldhash::HashMap;

use super::{Templates, MAX_TEMPLATE_DEPTH};

/// A dynamic template value.
///
/// Maps are ordered by key because Go's `range` and `fmt` visit map keys in sorted order.
/// Integers of every Go kind are `Int`; Go's `float32`/`float64` are `Float`.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// Go's untyped nil (a nil `interface{}`), printed `<nil>` by fmt.
    #[default]
    Nil,
    /// Go `bool`.
    Bool(bool),
    /// Go `int` (64-bit).
    Int(i64),
    /// Go `float64`.
    Float(f64),
    /// Go `string`. Rust strings are UTF-8; Go byte-slicing that splits a rune is lossy here.
    String(Arc<str>),
    /// Go `[]interface{}`.
    List(Arc<Vec<Value>>),
    /// Go `map[string]interface{}`, sorted by key. A shared reference, as Go maps are: cloning
    /// the value aliases the map (see [`MapRef`]).
    Map(MapRef),
    /// A function value (for `call`), like a Go `func` field.
    Func(Function),
    /// A Go struct or pointer with exported fields and methods (Helm's `.Capabilities`, `.Files`).
    Object(Arc<dyn Object>),
}

/// A shared, mutable Go map (`map[string]interface{}`): clones alias the same entries, so a
/// Sprig `set` through one variable is seen through every other (and through `.Values`), as
/// Go map references behave. Fresh maps come only from constructors (`dict`, `deepCopy`,
/// decoding). Send + Sync (an `Arc<RwLock<..>>`); locks are held only for the duration of a
/// read or a single mutation, never across template execution.
#[derive(Clone, Default)]
pub struct MapRef(Arc<RwLock<BTreeMap<String, Value>>>);

impl MapRef {
    /// A new map owning `entries`.
    pub fn new(entries: BTreeMap<String, Value>) -> Self {
        MapRef(Arc::new(RwLock::new(entries)))
    }

    /// Read access to the entries (sorted by key). Do not mutate this map while holding it.
    pub fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, Value>> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Write access to the entries, seen through every alias of this map.
    pub fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<String, Value>> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }

    /// A shallow copy of the entries (nested maps stay shared, as a Go map copy loop).
    pub fn snapshot(&self) -> BTreeMap<String, Value> {
        self.read().clone()
    }

    /// The value at `key` (aliasing nested maps).
    pub fn get(&self, key: &str) -> Option<Value> {
        self.read().get(key).cloned()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// The map's identity (its allocation address), stable while any handle lives.
    pub fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as *const () as usize
    }

    /// Whether both handles name the same Go map.
    pub fn ptr_eq(&self, other: &MapRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl PartialEq for MapRef {
    /// Entry-wise equality (as `reflect.DeepEqual`); the same map is always equal to itself.
    fn eq(&self, other: &Self) -> bool {
        if self.ptr_eq(other) {
            return true;
        }
        let (a, b) = (self.snapshot(), other.snapshot());
        a == b
    }
}

impl fmt::Debug for MapRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.read().iter()).finish()
    }
}

impl Value {
    /// Whether `map` is this value or is reachable from it through lists and maps. Mutators
    /// check this before storing a value into `map`, so maps never become cyclic (Go would
    /// recurse forever printing one; this engine rejects building it).
    pub fn reaches_map(&self, map: &MapRef) -> bool {
        match self {
            Value::List(l) => l.iter().any(|v| v.reaches_map(map)),
            Value::Map(m) => m.ptr_eq(map) || m.snapshot().values().any(|v| v.reaches_map(map)),
            _ => false,
        }
    }

    /// Sprig's `deepCopy` (copystructure): a value sharing no map with `self`; lists and maps
    /// are copied recursively, scalars and objects are kept.
    pub fn deep_copy(&self) -> Value {
        match self {
            Value::List(l) => Value::list(l.iter().map(Value::deep_copy).collect()),
            Value::Map(m) => {
                let entries = m.snapshot();
                Value::Map(MapRef::new(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k, v.deep_copy()))
                        .collect(),
                ))
            }
            other => other.clone(),
        }
    }
}

/// A Go struct-like value: named fields and methods, as reached by `.Name` in a template.
pub trait Object: fmt::Debug + Send + Sync {
    /// Go type name used in error messages, e.g. `*chart.Metadata`.
    fn type_name(&self) -> String;
    /// The exported field `name`, or `None` when the type has no such field.
    fn field(&self, name: &str) -> Option<Value>;
    /// The method `name` bound to this object, or `None`.
    fn method(&self, name: &str) -> Option<Function> {
        let _ = name;
        None
    }
    /// How Go's `fmt` prints the value with `%v` (e.g. `{a b}` for a struct).
    fn format(&self) -> String;
    /// The Go map or slice this object's type is defined as (Helm's `files` is a
    /// `map[string][]byte`, `VersionSet` a `[]string`), for `range` and encoders; `None` for
    /// structs.
    fn underlying(&self) -> Option<Value> {
        None
    }
}

impl Value {
    /// Builds a string value.
    pub fn str(s: &str) -> Value {
        Value::String(Arc::from(s))
    }

    /// Builds a list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    /// Builds a map value from `(key, value)` pairs.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(MapRef::new(
            pairs.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        ))
    }

    /// Go's type name for this value as it appears in `text/template` errors.
    pub fn go_type(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Func(f) => f.go_type(),
            Value::Object(o) => o.type_name(),
        }
    }

    /// Go's truth (`template.IsTrue`): false, 0, nil, and empty strings, lists and maps are
    /// false; structs and functions are true.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Func(_) | Value::Object(_) => true,
        }
    }

    /// The string inside a `String` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a == b,
            (Value::Func(a), Value::Func(b)) => a.same(b),
            (Value::Object(a), Value::Object(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(Arc::from(s))
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::list(v)
    }
}
impl From<BTreeMap<String, Value>> for Value {
    fn from(m: BTreeMap<String, Value>) -> Self {
        Value::Map(MapRef::new(m))
    }
}

impl From<&serde_json::Value> for Value {
    /// Converts JSON as Go's `encoding/json` into `interface{}` does: every number is `float64`.
    fn from(j: &serde_json::Value) -> Self {
        match j {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::str(s),
            serde_json::Value::Array(a) => Value::list(a.iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => {
                Value::map(o.iter().map(|(k, v)| (k.clone(), Value::from(v))))
            }
        }
    }
}

impl fmt::Display for Value {
    /// Go's `fmt.Sprint(v)` (`%v`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("<nil>"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&format_float_g(*x, None, false)),
            Value::String(s) => f.write_str(s),
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("map[")?;
                for (i, (k, v)) in m.read().iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{k}:{v}")?;
                }
                f.write_str("]")
            }
            Value::Func(func) => f.write_str(&func.go_type()),
            Value::Object(o) => f.write_str(&o.format()),
        }
    }
}

/// Decimal digits of a finite, non-negative float and its decimal point position: the value
/// is `0.DIGITS × 10^dp` (as Go's strconv `decimal`). `sig` rounds to that many significant
/// digits (None: shortest round-trip). Trailing zeros are dropped.
pub(crate) fn decimal_digits(x: f64, sig: Option<usize>) -> (Vec<u8>, i32) {
    if x == 0.0 {
        return (Vec::new(), 0);
    }
    let s = match sig {
        None => format!("{x:e}"),
        Some(p) => format!("{:.*e}", p.max(1) - 1, x),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    (digits, exp + 1)
}

/// Go's `%e`-style exponent suffix: `e+06`, `e-10`, `e+100`.
fn exp_suffix(exp: i32, upper: bool) -> String {
    let e = if upper { 'E' } else { 'e' };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{e}{sign}{:02}", exp.abs())
}

/// `%e` from digits with `decimals` digits after the point (Go's strconv fmtE).
pub(crate) fn fmt_e(digits: &[u8], dp: i32, decimals: usize, upper: bool) -> String {
    let mut out = String::new();
    out.push(digits.first().map_or('0', |d| *d as char));
    if decimals > 0 {
        out.push('.');
        for i in 1..=decimals {
            out.push(digits.get(i).map_or('0', |d| *d as char));
        }
    }
    let exp = if digits.is_empty() { 0 } else { dp - 1 };
    out.push_str(&exp_suffix(exp, upper));
    out
}

/// `%f` from digits with `decimals` digits after the point (Go's strconv fmtF).
pub(crate) fn fmt_f(digits: &[u8], dp: i32, decimals: usize) -> String {
    let mut out = String::new();
    if dp > 0 {
        for i in 0..dp as usize {
            out.push(digits.get(i).map_or('0', |d| *d as char));
        }
    } else {
        out.push('0');
    }
    if decimals > 0 {
        out.push('.');
        for i in 0..decimals as i32 {
            let j = dp + i;
            let d = if j < 0 { None } else { digits.get(j as usize) };
            out.push(d.map_or('0', |d| *d as char));
        }
    }
    out
}

/// Go's `%g` (prec None = shortest, which is also `%v`) for a float, with sign, `+Inf`, `NaN`.
pub fn format_float_g(x: f64, prec: Option<usize>, upper: bool) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = x.is_sign_negative();
    let (digits, dp) = decimal_digits(x.abs(), prec.map(|p| p.max(1)));
    let nd = digits.len() as i32;
    let mut p = match prec {
        None => nd.max(1),
        Some(p) => p.max(1) as i32,
    };
    let mut eprec = p;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    if prec.is_none() {
        eprec = 6;
    }
    let exp = dp - 1;
    let body = if !digits.is_empty() && (exp < -4 || exp >= eprec) {
        if p > nd {
            p = nd;
        }
        fmt_e(&digits, dp, (p - 1).max(0) as usize, upper)
    } else {
        if p > dp {
            p = nd;
        }
        fmt_f(&digits, dp, (p - dp).max(0) as usize)
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

/// The Go parameter type a function declares; the engine converts and checks arguments
/// against it as `text/template` does (`wrong type for value; expected string; got int`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// `interface{}` or `reflect.Value`: anything, a missing value arrives as `Nil`.
    Any,
    /// `string`.
    String,
    /// `bool`.
    Bool,
    /// An integer type, named as Go names it (`int`, `int64`).
    Int(&'static str),
    /// `float64`.
    Float,
}

impl Param {
    /// The Go type name.
    pub fn go_name(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::String => "string",
            Param::Bool => "bool",
            Param::Int(n) => n,
            Param::Float => "float64",
        }
    }
}

/// The body of a function: arguments already checked against the signature. An `Err` string
/// becomes Go's `error calling NAME: MESSAGE`.
pub type FnBody =
    dyn Fn(&mut FuncContext<'_>, &[Value]) -> Result<Value, String> + Send + Sync + 'static;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lazy {
    No,
    And,
    Or,
}

/// A template function: fixed parameters, an optional variadic tail, and its body.
#[derive(Clone)]
pub struct Function {
    pub(crate) params: Arc<[Param]>,
    pub(crate) variadic: Option<Param>,
    pub(crate) call: Arc<FnBody>,
    pub(crate) lazy: Lazy,
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Function({})", self.go_type())
    }
}

impl Function {
    /// A function with the given fixed parameters and optional variadic element type.
    pub fn new(
        params: &[Param],
        variadic: Option<Param>,
        body: impl Fn(&mut FuncContext<'_>, &[Value]) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Function {
        Function {
            params: params.into(),
            variadic,
            call: Arc::new(body),
            lazy: Lazy::No,
        }
    }

    /// Go's spelling of the function type, e.g. `func(string, ...interface {}) interface {}`.
    pub fn go_type(&self) -> String {
        let mut parts: Vec<String> = self
            .params
            .iter()
            .map(|p| p.go_name().to_string())
            .collect();
        if let Some(v) = self.variadic {
            parts.push(format!("...{}", v.go_name()));
        }
        format!("func({}) interface {{}}", parts.join(", "))
    }

    pub(crate) fn same(&self, other: &Function) -> bool {
        Arc::ptr_eq(&self.call, &other.call)
    }

    /// Calls the function with already evaluated arguments, checking the arity as Go's
    /// builtin `call` does.
    pub fn invoke(&self, ctx: &mut FuncContext<'_>, args: &[Value]) -> Result<Value, String> {
        let fixed = self.params.len();
        if self.variadic.is_some() {
            if args.len() < fixed {
                return Err(format!(
                    "wrong number of args: got {} want at least {fixed}",
                    args.len()
                ));
            }
        } else if args.len() != fixed {
            return Err(format!(
                "wrong number of args: got {} want {fixed}",
                args.len()
            ));
        }
        for (i, a) in args.iter().enumerate() {
            let p = self
                .params
                .get(i)
                .copied()
                .or(self.variadic)
                .unwrap_or(Param::Any);
            if !param_accepts(p, a) {
                return Err(format!(
                    "arg {i}: value has type {}; should be {}",
                    a.go_type(),
                    p.go_name()
                ));
            }
        }
        (self.call)(ctx, args)
    }
}

/// Whether a value is assignable to a parameter type.
pub(crate) fn param_accepts(p: Param, v: &Value) -> bool {
    matches!(
        (p, v),
        (Param::Any, _)
            | (Param::String, Value::String(_))
            | (Param::Bool, Value::Bool(_))
            | (Param::Int(_), Value::Int(_))
            | (Param::Float, Value::Float(_))
    )
}

/// Per-execution state that functions can keep (e.g. Helm's include counter), keyed by type
/// and shared by nested `include`/`tpl` executions.
#[derive(Default)]
pub struct Extensions {
    map: HashMap<TypeId, Box<dyn Any + Send>>,
}

impl Extensions {
    /// The state of type `T`, created with `Default` on first use.
    pub fn get_mut<T: Any + Send + Default>(&mut self) -> &mut T {
        let entry = self
            .map
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()));
        if !entry.is::<T>() {
            *entry = Box::new(T::default());
        }
        match entry.downcast_mut::<T>() {
            Some(t) => t,
            None => unreachable!("entry was just set to T"),
        }
    }
}

/// What a function sees of the engine while it runs.
pub struct FuncContext<'a> {
    pub(crate) set: &'a Templates,
    pub(crate) depth: usize,
    pub(crate) ext: &'a mut Extensions,
}

impl FuncContext<'_> {
    /// Executes the named template of the current set with `data` as dot, one template level
    /// deeper (Go's `ExecuteTemplate`). Errors carry Go's full error text.
    pub fn execute_template(&mut self, name: &str, data: Value) -> Result<String, String> {
        if self.depth >= MAX_TEMPLATE_DEPTH {
            return Err(format!(
                "exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})"
            ));
        }
        self.set
            .execute_from_function(name, &data, self.depth + 1, self.ext)
    }

    /// Parses `text` as template `name` into a copy of the current set (so its `define`s are
    /// visible to it, and the set itself is unchanged) and executes it with `data`, as Helm's
    /// `tpl` does with `parent.Clone()` and `New(name).Parse(text)`. Parse errors and execution
    /// errors are returned as Go's text.
    pub fn execute_text(&mut self, name: &str, text: &str, data: Value) -> Result<String, String> {
        if self.depth >= MAX_TEMPLATE_DEPTH {
            return Err(format!(
                "exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})"
            ));
        }
        let mut set = self.set.clone();
        set.parse(name, text).map_err(|e| e.to_string())?;
        set.execute_from_function(name, &data, self.depth + 1, self.ext)
    }

    /// The current template nesting depth (0 at the top-level execution).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Per-execution state of type `T` (see [`Extensions`]).
    pub fn state<T: Any + Send + Default>(&mut self) -> &mut T {
        self.ext.get_mut::<T>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_v_float_formatting() {
        // fmt.Sprint(float64) uses %g with the shortest digits and exponent threshold 21 → 6.
        assert_eq!(format_float_g(1.0, None, false), "1");
        assert_eq!(format_float_g(3.5, None, false), "3.5");
        assert_eq!(format_float_g(100000.0, None, false), "100000");
        assert_eq!(format_float_g(1000000.0, None, false), "1e+06");
        assert_eq!(format_float_g(1234567.0, None, false), "1.234567e+06");
        assert_eq!(format_float_g(0.0001, None, false), "0.0001");
        assert_eq!(format_float_g(0.00001, None, false), "1e-05");
        assert_eq!(format_float_g(-2.5, None, false), "-2.5");
        assert_eq!(format_float_g(0.0, None, false), "0");
        assert_eq!(format_float_g(f64::INFINITY, None, false), "+Inf");
    }

    #[test]
    fn go_g_with_precision() {
        assert_eq!(format_float_g(3.14158, Some(3), false), "3.14");
        assert_eq!(format_float_g(1.0, Some(3), false), "1");
        assert_eq!(format_float_g(123456.0, Some(2), false), "1.2e+05");
    }

    #[test]
    fn sprint_of_collections() {
        let v = Value::map([
            ("b", Value::Int(2)),
            (
                "a",
                Value::list(vec![Value::Int(1), Value::Nil, "x".into()]),
            ),
        ]);
        assert_eq!(v.to_string(), "map[a:[1 <nil> x] b:2]");
    }

    #[test]
    fn truthiness_follows_go_zero_values() {
        assert!(!Value::Int(0).is_true());
        assert!(!Value::str("").is_true());
        assert!(!Value::list(vec![]).is_true());
        assert!(Value::Float(0.5).is_true());
        assert!(!Value::Nil.is_true());
    }
}
