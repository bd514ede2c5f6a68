//! A Go `text/template` engine: lexer, parser, executor and builtin functions with Go's
//! semantics and error texts, written against Go's `text/template` and
//! `text/template/parse` packages.
//!
//! ```
//! use gotmpl::{FuncMap, Templates, Value};
//! let mut set = Templates::new("gotpl", FuncMap::builtins());
//! set.parse("t", "{{range $i, $e := .}}{{$i}}={{$e}} {{end}}").unwrap();
//! let out = set.execute("t", &Value::list(vec!["a".into(), "b".into()])).unwrap();
//! assert_eq!(out, "0=a 1=b ");
//! ```
//!
//! Data is a dynamic [`Value`] (Go's `interface{}` world: maps, lists, strings, numbers, bools,
//! nil, plus [`Object`]s with fields and methods). Functions live in a [`FuncMap`]; each gets
//! a [`FuncContext`] through which Helm's `include`/`tpl` execute templates of the same set.
//! [`sprig`] adds Sprig v3's functions ([`sprig::sprig_funcs`]); [`trace`] records which
//! output bytes came from which value, for origins. Nothing here knows Helm or Kubernetes.

mod ast;
mod exec;
pub mod fmt;
pub mod funcs;
mod lex;
mod parse;
pub mod sprig;
pub mod trace;
pub mod value;

use foldhash::HashMap;
use std::cell::Cell;
use std::sync::Arc;

pub use ast::Tree;
pub use funcs::FuncMap;
pub use parse::MAX_PARSE_DEPTH;
pub use value::{Extensions, FuncContext, Function, Param};
pub use value::{MapRef, Object, Value};

/// Deepest chain of template invocations (`{{template}}`, `include`, `tpl`) before execution
/// fails with `exceeded maximum template depth (1000)` (Helm's include limit is also 1000).
pub const MAX_TEMPLATE_DEPTH: usize = 1000;

/// Deepest nesting of lists and pipelines across all active templates before execution fails.
pub const MAX_NESTING: usize = 10_000;

/// Largest output of one template execution (a template file, a `define` run by `template` or
/// `include`, a `tpl` text), in bytes: 32 MiB. An excess fails execution at the node that
/// wrote past it.
pub const MAX_TEMPLATE_OUTPUT_BYTES: usize = 32 << 20;

/// Largest output of all the template files of one chart together (a [`Budget`] shared by
/// its executions), in bytes: 64 MiB.
pub const MAX_CHART_OUTPUT_BYTES: u64 = 64 << 20;

/// Largest string a function may build (`repeat` count × length, `indent`, `printf` widths,
/// `join`, `toYaml`, ...), in bytes: [`MAX_TEMPLATE_OUTPUT_BYTES`]. Checked before building
/// where the size is known from the arguments, else on the result.
pub const MAX_STRING_BYTES: usize = MAX_TEMPLATE_OUTPUT_BYTES;

/// Bytes of strings all function calls of one chart may return together: 256 MiB (bounds
/// what loops building strings can allocate).
pub const MAX_FUNCTION_OUTPUT_BYTES: u64 = 256 << 20;

/// Most elements of a list a function builds (`until`, `untilStep`, `seq`, `list`,
/// `append`, ...) and most iterations of one `range` over an integer: 1,000,000.
pub const MAX_LIST_LEN: usize = 1_000_000;

/// Most `range` iterations of all the executions of one chart together: 10,000,000.
pub const MAX_RANGE_ITERATIONS: u64 = 10_000_000;

/// The execution budget of one chart: the output its template files wrote
/// ([`MAX_CHART_OUTPUT_BYTES`]), the bytes its function calls returned
/// ([`MAX_FUNCTION_OUTPUT_BYTES`]) and its `range` iterations ([`MAX_RANGE_ITERATIONS`]).
/// Clones share the counters; put one in the [`Extensions`] of every execution of a chart
/// (`Extensions::get_mut::<Budget>()`); a fresh `Extensions` starts a fresh budget.
#[derive(Clone, Debug, Default)]
pub struct Budget(Arc<BudgetCounters>);

#[derive(Debug, Default)]
struct BudgetCounters {
    output: std::sync::atomic::AtomicU64,
    function_output: std::sync::atomic::AtomicU64,
    iterations: std::sync::atomic::AtomicU64,
}

/// Which part of a [`Budget`] to charge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetKind {
    /// Output bytes of a chart's template files.
    Output,
    /// Bytes returned by function calls.
    FunctionOutput,
    /// `range` iterations.
    Iterations,
}

impl Budget {
    /// Charges `n` units of `kind`. Errors: the message naming the exceeded budget, once the
    /// total passes its limit.
    pub fn charge(&self, kind: BudgetKind, n: u64) -> Result<(), String> {
        use std::sync::atomic::Ordering::Relaxed;
        let (counter, limit, what, name) = match kind {
            BudgetKind::Output => (
                &self.0.output,
                MAX_CHART_OUTPUT_BYTES,
                "bytes of rendered output",
                "MAX_CHART_OUTPUT_BYTES",
            ),
            BudgetKind::FunctionOutput => (
                &self.0.function_output,
                MAX_FUNCTION_OUTPUT_BYTES,
                "bytes returned by function calls",
                "MAX_FUNCTION_OUTPUT_BYTES",
            ),
            BudgetKind::Iterations => (
                &self.0.iterations,
                MAX_RANGE_ITERATIONS,
                "range iterations",
                "MAX_RANGE_ITERATIONS",
            ),
        };
        let total = counter.fetch_add(n, Relaxed).saturating_add(n);
        if total > limit {
            return Err(format!(
                "the chart exceeds its budget of {limit} {what} ({name})"
            ));
        }
        Ok(())
    }
}

/// The error for a string of `len` bytes above [`MAX_STRING_BYTES`] (`what` builds it).
pub fn string_budget_error(what: &str, len: u128) -> String {
    format!(
        "{what} would build a string of {len} bytes, above the budget of {MAX_STRING_BYTES} bytes (MAX_STRING_BYTES)"
    )
}

/// The error for a list of `len` elements above [`MAX_LIST_LEN`] (`what` builds it).
pub fn list_budget_error(what: &str, len: u128) -> String {
    format!(
        "{what} would build a list of {len} elements, above the budget of {MAX_LIST_LEN} elements (MAX_LIST_LEN)"
    )
}

/// The size a value prints or serializes to, roughly: string bytes plus a few bytes per
/// element, following lists and maps (without recursion, so cyclic or deeply nested maps are
/// fine); stops counting once past `limit` and returns a value above it.
pub fn deep_size(v: &Value, limit: u64) -> u64 {
    let mut total: u64 = 0;
    let mut stack: Vec<Value> = vec![v.clone()];
    while let Some(v) = stack.pop() {
        total = total.saturating_add(match &v {
            Value::String(s) => s.len() as u64 + 2,
            Value::List(l) => {
                total = total.saturating_add(l.len() as u64);
                if total > limit {
                    return total;
                }
                stack.extend(l.iter().cloned());
                2
            }
            Value::Map(m) => {
                let r = m.read();
                let keys: u64 = r.keys().map(|k| k.len() as u64 + 2).sum();
                stack.extend(r.values().cloned());
                keys + 2
            }
            _ => 8,
        });
        if total > limit {
            return total;
        }
    }
    total
}

thread_local! {
    /// True on a thread started by [`with_exec_stack`]: executions run inline there.
    static ON_EXEC_STACK: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` on a thread with a stack sized for [`MAX_NESTING`], on which every template
/// execution runs inline (one thread for a whole chart instead of one per template).
///
/// Errors: the thread could not start, or `f` panicked (as a message).
pub fn with_exec_stack<R: Send>(f: impl FnOnce() -> R + Send) -> Result<R, String> {
    if ON_EXEC_STACK.with(Cell::get) {
        return Ok(f());
    }
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(EXEC_STACK)
            .spawn_scoped(s, || {
                ON_EXEC_STACK.with(|c| c.set(true));
                f()
            })
            .map_err(|e| format!("cannot start template execution thread: {e}"))?
            .join()
            .map_err(|_| "template execution panicked".to_string())
    })
}

/// Stack size of the thread each top-level execution runs on, sized for [`MAX_NESTING`].
const EXEC_STACK: usize = 512 << 20;

/// What a missing map key evaluates to (Go's `missingkey` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// `missingkey=default`/`invalid`: no value; printed `<no value>`, and a field access
    /// on it yields no value again.
    #[default]
    Default,
    /// `missingkey=zero`: the map's zero value, a nil `interface{}` (what Helm uses when not
    /// strict): printed `<no value>`, but `.missing.x` fails with
    /// `nil pointer evaluating interface {}.x`.
    Zero,
    /// `missingkey=error`: `map has no entry for key "x"` (Helm's `--strict`).
    Error,
}

/// A template parse error: `template: NAME:LINE: MESSAGE`, as Go prints it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template: {name}:{line}: {message}")]
pub struct ParseError {
    /// Name the text was parsed under.
    pub name: String,
    /// 1-based line of the token where parsing failed.
    pub line: usize,
    /// Go's message, e.g. `unexpected EOF`.
    pub message: String,
}

/// Where in a template's text something happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// Name of the top-level text holding the node (Go's `ParseName`).
    pub parse_name: String,
    /// 1-based line.
    pub line: usize,
    /// 0-based byte column, as Go prints it in `PARSENAME:LINE:COL`.
    pub byte_column: usize,
    /// 1-based column in characters, as [`driftlint_yaml::Origin`] counts.
    pub column: usize,
}

/// A template execution error, printed as Go does:
/// `template: FILE:LINE:COL: executing "NAME" at <CONTEXT>: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecError {
    /// The executing template's name.
    pub name: String,
    /// `PARSENAME:LINE:COL` (0-based byte column, as Go), when the error has a node.
    pub location: Option<String>,
    /// The same place as fields, when the error has a node.
    pub position: Option<Box<Position>>,
    /// The failing node as template source text (Go's `Node.String()`).
    pub context: String,
    /// The message, e.g. `map has no entry for key "x"`.
    pub message: String,
}

impl ExecError {
    fn bare(name: &str, message: String) -> ExecError {
        ExecError {
            name: name.to_string(),
            location: None,
            position: None,
            context: String::new(),
            message,
        }
    }
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.location {
            Some(loc) => write!(
                f,
                "template: {loc}: executing {} at <{}>: {}",
                fmt::go_quote(&self.name),
                self.context,
                self.message
            ),
            None if self.name.is_empty() => write!(f, "template: {}", self.message),
            None => write!(f, "template: {}: {}", self.name, self.message),
        }
    }
}

impl std::error::Error for ExecError {}

/// A set of named templates sharing functions and options (Go's associated templates).
/// Cloning is cheap (trees are shared), as Go's `Template.Clone`.
#[derive(Clone)]
pub struct Templates {
    name: String,
    trees: HashMap<String, Arc<Tree>>,
    funcs: Arc<FuncMap>,
    missing_key: MissingKey,
}

impl Templates {
    /// An empty set named `name` (Go's `template.New(name).Funcs(funcs)`).
    pub fn new(name: &str, funcs: FuncMap) -> Templates {
        Templates::with_funcs(name, Arc::new(funcs))
    }

    /// [`Templates::new`] with a function map shared with other sets (building Helm's map of
    /// some 250 functions costs more than rendering a small chart).
    pub fn with_funcs(name: &str, funcs: Arc<FuncMap>) -> Templates {
        Templates {
            name: name.to_string(),
            trees: HashMap::default(),
            funcs,
            missing_key: MissingKey::Default,
        }
    }

    /// Sets the `missingkey` option.
    pub fn set_missing_key(&mut self, mk: MissingKey) {
        self.missing_key = mk;
    }

    /// The `missingkey` option.
    pub fn missing_key(&self) -> MissingKey {
        self.missing_key
    }

    /// The functions.
    pub fn funcs(&self) -> &FuncMap {
        &self.funcs
    }

    /// Parses `text` as template `name`, adding it and its `define`/`block` templates to the
    /// set as Go's `t.New(name).Parse(text)`: a later definition replaces an earlier one unless
    /// the later one is empty. Errors: Go's parse errors (`template: NAME:LINE: ...`).
    pub fn parse(&mut self, name: &str, text: &str) -> Result<(), ParseError> {
        let funcs = self.funcs.clone();
        let trees = parse::parse(name, text, &|f| funcs.contains(f))?;
        for tree in trees {
            let keep_old = tree.is_empty() && self.trees.contains_key(&tree.name);
            if !keep_old {
                self.trees.insert(tree.name.clone(), Arc::new(tree));
            }
        }
        Ok(())
    }

    /// The template named `name`.
    pub fn get(&self, name: &str) -> Option<&Tree> {
        self.trees.get(name).map(Arc::as_ref)
    }

    /// Template names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.trees.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Executes template `name` with `data` as dot and `$` (Go's `ExecuteTemplate`), returning
    /// the output. Runs on a dedicated thread with a large stack so that deep but legal
    /// nesting cannot overflow the caller's stack.
    pub fn execute(&self, name: &str, data: &Value) -> Result<String, ExecError> {
        let mut ext = Extensions::default();
        self.execute_with(name, data, &mut ext)
    }

    /// [`Templates::execute`] with caller-provided per-execution function state.
    pub fn execute_with(
        &self,
        name: &str,
        data: &Value,
        ext: &mut Extensions,
    ) -> Result<String, ExecError> {
        if ON_EXEC_STACK.with(Cell::get) {
            return self.execute_nested(name, data, 0, ext);
        }
        with_exec_stack(|| self.execute_nested(name, data, 0, ext))
            .unwrap_or_else(|e| Err(ExecError::bare(name, e)))
    }

    /// [`Templates::execute_nested`] for a function (`include`, `tpl`) running inside an
    /// execution: the trace records the nested output as the function's. Errors as Go's text.
    pub(crate) fn execute_from_function(
        &self,
        name: &str,
        data: &Value,
        depth: usize,
        ext: &mut Extensions,
    ) -> Result<String, String> {
        let tracing = trace::on();
        if tracing {
            trace::func_depth(true);
        }
        let r = self
            .execute_nested(name, data, depth, ext)
            .map_err(|e| e.to_string());
        if tracing {
            trace::func_depth(false);
        }
        r
    }

    /// Executes on the current thread at template depth `depth`.
    pub(crate) fn execute_nested(
        &self,
        name: &str,
        data: &Value,
        depth: usize,
        ext: &mut Extensions,
    ) -> Result<String, ExecError> {
        let Some(tree) = self.get(name) else {
            return Err(ExecError::bare(
                "",
                format!(
                    "no template {} associated with template {}",
                    fmt::go_quote(name),
                    fmt::go_quote(&self.name)
                ),
            ));
        };
        let dot = match data {
            Value::Nil => exec::Ev::Missing,
            v => exec::Ev::Val(v.clone()),
        };
        let mut ex = exec::Exec::new(self, tree, dot.clone(), depth, ext);
        ex.run(&dot)?;
        Ok(ex.out)
    }
}

#[cfg(test)]
mod tests;
