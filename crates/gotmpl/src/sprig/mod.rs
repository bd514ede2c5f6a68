//! Sprig v3's function set (`TxtFuncMap`, as `github.com/Masterminds/sprig/v3`'s
//! `functions.go`) over Go's builtins; Helm adds its own functions on top (the
//! `driftlint_helm` crate's `funcs`). The helpers below ([`f`], [`fv`], [`arg`], the parameter
//! shorthands) are how functions are declared, here and by callers adding their own.
//!
//! ```
//! use gotmpl::sprig::sprig_funcs;
//! use gotmpl::{Templates, Value};
//! let mut set = Templates::new("gotpl", sprig_funcs());
//! set.parse("t", r#"{{ "hello" | upper | quote }} {{ default "d" "" }}"#).unwrap();
//! assert_eq!(set.execute("t", &Value::Nil).unwrap(), r#""HELLO" d"#);
//! ```
//!
//! Values follow Helm's data model: numbers read from values files are `float64`
//! ([`Value::Float`]), integer literals in templates are `int` ([`Value::Int`]); Sprig's
//! conversions (`cast.ToInt64`, `cast.ToFloat64`) are mirrored in [`conv`].
//!
//! Maps are shared references as in Go ([`Value::Map`] holds a
//! [`MapRef`](crate::MapRef)): Sprig's `set`, `unset`, `merge` and
//! `mergeOverwrite` mutate their first argument in place and return it, so
//! `{{ $_ := set $d "k" 1 }}{{ $d.k }}` prints `1`, also for maps reached through `.Values`.
//! Lists are immutable: Sprig's `append`/`prepend` build new lists, as they do here.

pub mod conv;
mod crypto;
mod crypto_cert;
mod crypto_secret;
mod dates;
mod dicts;
pub mod encoding;
mod lists;
mod math;
pub mod paths;
mod random;
pub mod semver;
mod strings;

use crate::{FuncMap, Function, Param, Value};

pub use semver::{semver_compare, Constraint, Version};

/// Options of the Helm function set.
#[derive(Clone, Debug, Default)]
pub struct FuncOptions {
    /// The instant `now` returns, as Unix seconds in UTC. `None` uses the system clock, which
    /// makes output that calls `now`/`date` non-deterministic.
    pub fixed_now: Option<i64>,
    /// Seed for `randAlphaNum`, `uuidv4` and the other random functions. `None` draws from
    /// the OS (non-deterministic, as Helm); `Some` restarts the same sequence at every
    /// top-level execution, so output is reproducible.
    pub random_seed: Option<u64>,
}

/// Go builtins + Sprig v3, with the system clock (see [`sprig_funcs_with`]).
pub fn sprig_funcs() -> FuncMap {
    sprig_funcs_with(&FuncOptions::default())
}

/// Go builtins + Sprig v3 (`TxtFuncMap`), configured by `opts`. Sprig's functions replace Go
/// builtins of the same name (`slice`), as `template.Funcs` does.
pub fn sprig_funcs_with(opts: &FuncOptions) -> FuncMap {
    let mut m = FuncMap::builtins();
    strings::register(&mut m);
    conv::register(&mut m);
    lists::register(&mut m);
    dicts::register(&mut m);
    math::register(&mut m);
    paths::register(&mut m);
    semver::register(&mut m);
    dates::register(&mut m, opts);
    random::register(&mut m, opts);
    encoding::register(&mut m);
    crypto::register(&mut m, opts);
    m
}

/// Argument `i` (nil when absent).
pub fn arg(a: &[Value], i: usize) -> &Value {
    static NIL: Value = Value::Nil;
    a.get(i).unwrap_or(&NIL)
}

/// The string argument `i` (the engine checked the type for `Param::String` parameters).
pub fn sarg(a: &[Value], i: usize) -> &str {
    arg(a, i).as_str().unwrap_or("")
}

/// The int argument `i` (the engine checked the type for `Param::Int` parameters).
pub fn iarg(a: &[Value], i: usize) -> i64 {
    match arg(a, i) {
        Value::Int(n) => *n,
        _ => 0,
    }
}

/// A function of fixed parameters.
pub fn f(
    params: &[Param],
    body: impl Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static,
) -> Function {
    Function::new(params, None, move |_, a| body(a))
}

/// A variadic function (`fixed` parameters then any number of `rest`).
pub fn fv(
    params: &[Param],
    rest: Param,
    body: impl Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static,
) -> Function {
    Function::new(params, Some(rest), move |_, a| body(a))
}

/// Shorthands for parameter types.
pub const S: Param = Param::String;
pub const A: Param = Param::Any;
pub const I: Param = Param::Int("int");
pub const B: Param = Param::Bool;

/// A list of strings.
pub fn str_list<I2: IntoIterator<Item = String>>(items: I2) -> Value {
    Value::list(items.into_iter().map(Value::from).collect())
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::sprig_funcs_with;
    use super::FuncOptions;
    use crate::{Templates, Value};

    /// Renders `src` with `data` as dot under the Helm function set and a fixed clock.
    pub fn render(src: &str, data: &Value) -> Result<String, String> {
        let opts = FuncOptions {
            fixed_now: Some(1_700_000_000),
            random_seed: Some(1),
        };
        let mut set = Templates::new("gotpl", sprig_funcs_with(&opts));
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
