//! Helmfile's HCL environment values files (`environments.<env>.values: [x.hcl]`), evaluated
//! as helmfile `pkg/hcllang/hcl_loader.go` evaluates them.
//!
//! All `.hcl` files of one environment's `values:` list are evaluated together, after its YAML
//! entries, and the result is merged on top of them (helmfile's `LoadEnvironmentValues`):
//!
//! - each file holds `values { ... }` blocks (any number) and at most one `locals { ... }`
//!   block; anything else is an error, as helmfile's body schema;
//! - `local.<name>` reads the file's own locals (evaluated first, per file, in dependency
//!   order); `hv.<name>` reads a value of any file;
//! - a value defined in several blocks or files is evaluated once per definition, in file
//!   order, and the results deep-merged (objects key by key, anything else replaced; a null
//!   keeps the earlier value), helmfile's `ctyMergeValues`;
//! - values are evaluated in dependency order over ALL definitions of each name; a reference
//!   to an undefined name or a cycle is an error at the attribute's file:line;
//! - expressions, string templates (`${}`, `%{if}`, `%{for}`), conditionals and arithmetic are
//!   evaluated by the `hcl-rs` crate (`hcl::eval`), with the functions helmfile registers
//!   (`hcl_functions.go`, go-cty's stdlib) that [`funcs`] implements; a call to one it does not
//!   (`can`, `try`, `format`, `regex`, `formatdate`, ...) is RENDER002 at its line;
//! - numbers come out as float64, as helmfile's cty → JSON → Go conversion gives them.
//!
//! Budgets: at most [`MAX_FILE_BYTES`] per file, [`MAX_NESTING`] levels of brackets,
//! [`MAX_FOR_NESTING`] nested `for` expressions/directives per attribute, and functions build
//! at most [`funcs::MAX_ITEMS`] elements.

mod budget;
mod funcs;

use std::collections::{BTreeMap, BTreeSet};

use driftlint_yaml::Origin;
use hcl::edit::Span;
use hcl::eval::{Context, Evaluate};
use hcl::expr::{Expression, TraversalOperator};
use hcl::template::{Directive, Element, Template};
use hcl::Value as HclValue;

/// The largest HCL values file read (bytes).
pub(crate) const MAX_FILE_BYTES: usize = 256 * 1024;
/// The deepest bracket nesting (`{`, `[`, `(`) accepted in an HCL file.
pub(crate) const MAX_NESTING: usize = 64;
/// The deepest nesting of `for` expressions and `%{for}` directives in one attribute.
pub(crate) const MAX_FOR_NESTING: usize = 2;

const VALUES: &str = "values";
const LOCALS: &str = "locals";
const HV: &str = "hv";
const LOCAL: &str = "local";

/// Why the HCL values of an environment cannot be evaluated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HclError {
    /// RENDER002 (a helmfile function driftlint does not implement) rather than RENDER001.
    pub(crate) unsupported: bool,
    /// The message (helmfile's wording where it has one).
    pub(crate) message: String,
    /// The file and line of the attribute (or syntax error) to fix.
    pub(crate) origin: Origin,
}

impl HclError {
    fn new(message: impl Into<String>, origin: &Origin) -> HclError {
        HclError {
            unsupported: false,
            message: message.into(),
            origin: origin.clone(),
        }
    }
}

/// One HCL file to evaluate: its display path (repo-relative, used in origins) and text.
pub(crate) struct HclFile {
    /// The repo-relative path, as origins show it.
    pub(crate) display: String,
    /// The file's text.
    pub(crate) text: String,
}

/// One definition of a name: its expression, where it is and which file holds it.
struct Def {
    expr: Expression,
    origin: Origin,
    file: usize,
}

/// The attributes of the files: values definitions (by name, in file order) and each file's
/// locals.
#[derive(Default)]
struct Parsed {
    values: BTreeMap<String, Vec<Def>>,
    locals: Vec<BTreeMap<String, Def>>,
}

/// Evaluates the HCL values files `files` (in `values:` order) as helmfile: the merged `hv`
/// object, as JSON (numbers float64).
///
/// Errors: a file is too large, too deeply nested, or not valid HCL; it has other blocks or
/// top-level attributes; a reference is undefined or cyclic; an expression fails to evaluate
/// or calls an unsupported function (each at the attribute's file:line).
pub(crate) fn evaluate(files: &[HclFile]) -> Result<serde_json::Value, HclError> {
    let mut parsed = Parsed::default();
    for (i, f) in files.iter().enumerate() {
        parse_file(f, i, &mut parsed)?;
    }
    let mut locals = Vec::with_capacity(parsed.locals.len());
    for defs in &parsed.locals {
        locals.push(eval_locals(defs)?);
    }
    let hv = eval_values(&parsed.values, &locals)?;
    Ok(to_json(&HclValue::Object(hv)))
}

/// Parses one file into `out` (values appended to their names, locals as file `index`).
fn parse_file(f: &HclFile, index: usize, out: &mut Parsed) -> Result<(), HclError> {
    let at = |offset: usize| origin_at(&f.display, &f.text, offset);
    if f.text.len() > MAX_FILE_BYTES {
        return Err(HclError::new(
            format!("{}: HCL file larger than {MAX_FILE_BYTES} bytes", f.display),
            &at(0),
        ));
    }
    check_nesting(f, &at)?;
    let body = hcl::edit::parser::parse_body(&f.text).map_err(|e| {
        let loc = e.location();
        HclError::new(
            format!("{}: {}", f.display, e.message()),
            &Origin::new(
                f.display.clone().into(),
                loc.line() as u32,
                loc.column() as u32,
            ),
        )
    })?;
    let mut locals: Option<BTreeMap<String, Def>> = None;
    for structure in body.iter() {
        let start = structure.span().map_or(0, |s| s.start);
        let Some(block) = structure.as_block() else {
            let name = structure.as_attribute().map_or("", |a| a.key.as_str());
            return Err(HclError::new(
                format!("Unsupported argument; An argument named \"{name}\" is not expected here (only `values` and `locals` blocks)"),
                &at(start),
            ));
        };
        let kind = block.ident.as_str();
        if (kind != VALUES && kind != LOCALS) || !block.labels.is_empty() {
            return Err(HclError::new(
                format!("Unsupported block type; Blocks of type \"{kind}\" (with labels: {}) are not expected here", !block.labels.is_empty()),
                &at(start),
            ));
        }
        let defs = block_defs(block, index, &at)?;
        if kind == LOCALS {
            if locals.is_some() {
                return Err(HclError::new(
                    "A file can only support exactly 1 `locals` block",
                    &at(start),
                ));
            }
            locals = Some(defs);
        } else {
            for (name, def) in defs {
                out.values.entry(name).or_default().push(def);
            }
        }
    }
    out.locals.push(locals.unwrap_or_default());
    Ok(())
}

/// The attributes of a `values`/`locals` block (helmfile's `JustAttributes`: no nested blocks,
/// no attribute twice).
fn block_defs(
    block: &hcl::edit::structure::Block,
    file: usize,
    at: &dyn Fn(usize) -> Origin,
) -> Result<BTreeMap<String, Def>, HclError> {
    let mut defs = BTreeMap::new();
    for structure in block.body.iter() {
        let start = structure.span().map_or(0, |s| s.start);
        let Some(attr) = structure.as_attribute() else {
            return Err(HclError::new(
                "Unexpected block; Blocks are not allowed here (a `values`/`locals` block holds attributes only)",
                &at(start),
            ));
        };
        let name = attr.key.as_str().to_string();
        if defs.contains_key(&name) {
            return Err(HclError::new(
                format!(
                    "Attribute redefined; The argument \"{name}\" was already set in this block"
                ),
                &at(start),
            ));
        }
        let def = Def {
            expr: Expression::from(attr.value.clone()),
            origin: at(start),
            file,
        };
        defs.insert(name, def);
    }
    Ok(defs)
}

/// Rejects files nesting brackets deeper than [`MAX_NESTING`] before the (recursive) parser
/// sees them.
fn check_nesting(f: &HclFile, at: &dyn Fn(usize) -> Origin) -> Result<(), HclError> {
    let mut depth = 0usize;
    for (i, b) in f.text.bytes().enumerate() {
        match b {
            b'{' | b'[' | b'(' => depth += 1,
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_NESTING {
            return Err(HclError::new(
                format!("{}: nested deeper than {MAX_NESTING} levels", f.display),
                &at(i),
            ));
        }
    }
    Ok(())
}

/// The 1-based line and column of byte `offset` of `text`.
fn origin_at(display: &str, text: &str, offset: usize) -> Origin {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    Origin::new(display.to_string().into(), line as u32, column as u32)
}

/// One file's locals, evaluated in dependency order (`local.<name>` references).
fn eval_locals(defs: &BTreeMap<String, Def>) -> Result<hcl::Map<String, HclValue>, HclError> {
    let mut deps = BTreeMap::new();
    for (name, def) in defs {
        deps.insert(name.clone(), references(def, LOCAL)?);
    }
    let order = plan(&deps, |n| &defs[n].origin)?;
    let mut out = hcl::Map::new();
    for name in order {
        let mut ctx = funcs::context();
        ctx.declare_var(LOCAL, HclValue::Object(out.clone()));
        let v = eval_def(&defs[&name], &ctx, &hcl::Map::new(), Some(&out))?;
        out.insert(name, v);
    }
    Ok(out)
}

/// The values, each name evaluated (all its definitions, merged) once the names it reads are.
fn eval_values(
    values: &BTreeMap<String, Vec<Def>>,
    locals: &[hcl::Map<String, HclValue>],
) -> Result<hcl::Map<String, HclValue>, HclError> {
    let mut deps = BTreeMap::new();
    for (name, defs) in values {
        let mut all = BTreeSet::new();
        for def in defs {
            all.extend(references(def, HV)?);
        }
        deps.insert(name.clone(), all);
    }
    let order = plan(&deps, |n| &values[n][0].origin)?;
    let mut hv = hcl::Map::new();
    for name in order {
        let mut merged = HclValue::Null;
        for def in &values[&name] {
            let mut ctx = funcs::context();
            ctx.declare_var(HV, HclValue::Object(hv.clone()));
            if let Some(l) = locals.get(def.file).filter(|l| !l.is_empty()) {
                ctx.declare_var(LOCAL, HclValue::Object(l.clone()));
            }
            let local = locals.get(def.file);
            merged = merge(merged, eval_def(def, &ctx, &hv, local)?);
        }
        hv.insert(name, merged);
    }
    Ok(hv)
}

/// Evaluates one definition within the [`budget`] (`hv`/`local` are the values it may read);
/// an error names the attribute's file:line.
fn eval_def(
    def: &Def,
    ctx: &Context,
    hv: &hcl::Map<String, HclValue>,
    local: Option<&hcl::Map<String, HclValue>>,
) -> Result<HclValue, HclError> {
    let sizes = |root: &str, name: &str| {
        let map = match root {
            HV => Some(hv),
            LOCAL => local,
            _ => None,
        };
        map.and_then(|m| m.get(name)).map_or(0, budget::size)
    };
    let work = budget::work(&def.expr, &sizes);
    if work > budget::MAX_WORK {
        return Err(HclError::new(
            format!(
                "evaluating this attribute would build about {work} values (over the budget of {}): loops over large collections multiply",
                budget::MAX_WORK
            ),
            &def.origin,
        ));
    }
    def.expr.evaluate(ctx).map_err(|e| {
        let message = e.to_string();
        HclError {
            unsupported: message.contains(funcs::UNSUPPORTED),
            message: format!("error when trying to evaluate variable: {message}"),
            origin: def.origin.clone(),
        }
    })
}

/// helmfile's `ctyMergeValues`: objects merge key by key; a null keeps `a`; else `b` wins.
fn merge(a: HclValue, b: HclValue) -> HclValue {
    match (a, b) {
        (a, HclValue::Null) => a,
        (HclValue::Object(mut a), HclValue::Object(b)) => {
            for (k, bv) in b {
                let merged = match a.shift_remove(&k) {
                    Some(av) => merge(av, bv),
                    None => bv,
                };
                a.insert(k, merged);
            }
            HclValue::Object(a)
        }
        (_, b) => b,
    }
}

/// A deterministic topological order of `deps` (name → names it reads): names whose
/// dependencies are all placed come first, alphabetically.
///
/// Errors: a name reads an undefined one (helmfile's message), or names read each other in a
/// cycle (at the first such name's origin).
fn plan<'a>(
    deps: &BTreeMap<String, BTreeSet<String>>,
    origin: impl Fn(&str) -> &'a Origin,
) -> Result<Vec<String>, HclError> {
    for (name, ds) in deps {
        if let Some(missing) = ds.iter().find(|d| !deps.contains_key(*d)) {
            return Err(HclError::new(
                format!("variables \"{name}\" depend(s) on undefined vars \"{missing}\""),
                origin(name),
            ));
        }
    }
    let mut order: Vec<String> = Vec::with_capacity(deps.len());
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    while order.len() < deps.len() {
        let ready: Vec<&String> = deps
            .iter()
            .filter(|(n, ds)| {
                !placed.contains(n.as_str()) && ds.iter().all(|d| placed.contains(d.as_str()))
            })
            .map(|(n, _)| n)
            .collect();
        if ready.is_empty() {
            let stuck: Vec<&str> = deps
                .keys()
                .map(String::as_str)
                .filter(|n| !placed.contains(n))
                .collect();
            return Err(HclError::new(
                format!(
                    "dependency cycle between HCL variables: {}",
                    stuck.join(", ")
                ),
                origin(stuck[0]),
            ));
        }
        for n in ready {
            placed.insert(n);
            order.push(n.clone());
        }
    }
    Ok(order)
}

/// The names a definition reads through `root.<name>` (`root` is `hv` or `local`), as
/// helmfile's `parseSingleAttrRef` over `Expr.Variables()`.
///
/// Errors: `root` used bare (except `local` in a values block, which reads the whole object),
/// `root[...]`, a function helmfile does not register or driftlint does not implement, or
/// `for` nested deeper than [`MAX_FOR_NESTING`].
fn references(def: &Def, root: &str) -> Result<BTreeSet<String>, HclError> {
    let mut walk = Walk {
        root,
        names: BTreeSet::new(),
        shadowed: Vec::new(),
        for_depth: 0,
    };
    walk.expr(&def.expr)
        .map_err(|(unsupported, message)| HclError {
            unsupported,
            message,
            origin: def.origin.clone(),
        })?;
    Ok(walk.names)
}

type WalkResult = Result<(), (bool, String)>;

/// A walk over an expression collecting `root.<name>` references.
struct Walk<'r> {
    root: &'r str,
    names: BTreeSet<String>,
    /// `for` variables in scope (they hide a variable of the same name).
    shadowed: Vec<String>,
    for_depth: usize,
}

impl Walk<'_> {
    fn expr(&mut self, e: &Expression) -> WalkResult {
        match e {
            Expression::Array(items) => items.iter().try_for_each(|i| self.expr(i)),
            Expression::Object(o) => o.iter().try_for_each(|(k, v)| {
                if let hcl::ObjectKey::Expression(k) = k {
                    self.expr(k)?;
                }
                self.expr(v)
            }),
            Expression::TemplateExpr(t) => {
                let template = Template::from_expr(t).map_err(|e| (false, e.to_string()))?;
                self.template(&template)
            }
            Expression::Variable(v) => self.bare(v.as_str()),
            Expression::Traversal(t) => self.traversal(&t.expr, &t.operators),
            Expression::FuncCall(call) => {
                funcs::check_name(call.name.name.as_str())?;
                call.args.iter().try_for_each(|a| self.expr(a))
            }
            Expression::Parenthesis(inner) => self.expr(inner),
            Expression::Conditional(c) => {
                self.expr(&c.cond_expr)?;
                self.expr(&c.true_expr)?;
                self.expr(&c.false_expr)
            }
            Expression::Operation(op) => match op.as_ref() {
                hcl::expr::Operation::Unary(u) => self.expr(&u.expr),
                hcl::expr::Operation::Binary(b) => {
                    self.expr(&b.lhs_expr)?;
                    self.expr(&b.rhs_expr)
                }
            },
            Expression::ForExpr(f) => {
                self.expr(&f.collection_expr)?;
                let vars = [Some(&f.value_var), f.key_var.as_ref()];
                self.scoped(vars.into_iter().flatten(), |w| {
                    if let Some(k) = &f.key_expr {
                        w.expr(k)?;
                    }
                    if let Some(c) = &f.cond_expr {
                        w.expr(c)?;
                    }
                    w.expr(&f.value_expr)
                })
            }
            _ => Ok(()),
        }
    }

    fn template(&mut self, t: &Template) -> WalkResult {
        for element in t.elements() {
            match element {
                Element::Literal(_) => {}
                Element::Interpolation(i) => self.expr(&i.expr)?,
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(i) => {
                        self.expr(&i.cond_expr)?;
                        self.template(&i.true_template)?;
                        if let Some(f) = &i.false_template {
                            self.template(f)?;
                        }
                    }
                    Directive::For(f) => {
                        self.expr(&f.collection_expr)?;
                        let vars = [Some(&f.value_var), f.key_var.as_ref()];
                        self.scoped(vars.into_iter().flatten(), |w| w.template(&f.template))?;
                    }
                },
            }
        }
        Ok(())
    }

    /// Runs `inner` with the `for` variables `vars` in scope, one `for` level deeper.
    fn scoped<'i>(
        &mut self,
        vars: impl Iterator<Item = &'i hcl::Identifier>,
        inner: impl FnOnce(&mut Self) -> WalkResult,
    ) -> WalkResult {
        if self.for_depth >= MAX_FOR_NESTING {
            return Err((
                true,
                format!("`for` nested deeper than {MAX_FOR_NESTING} levels (an evaluation budget)"),
            ));
        }
        let before = self.shadowed.len();
        self.shadowed.extend(vars.map(|v| v.as_str().to_string()));
        self.for_depth += 1;
        let result = inner(self);
        self.for_depth -= 1;
        self.shadowed.truncate(before);
        result
    }

    fn is_root(&self, name: &str) -> bool {
        name == self.root && !self.shadowed.iter().any(|s| s == name)
    }

    /// A variable used without an attribute.
    fn bare(&mut self, name: &str) -> WalkResult {
        if !self.is_root(name) {
            return Ok(());
        }
        Err((
            false,
            format!("Invalid reference; The \"{name}\" object cannot be accessed directly. Instead, access it from one of its root."),
        ))
    }

    fn traversal(&mut self, base: &Expression, ops: &[TraversalOperator]) -> WalkResult {
        for op in ops {
            if let TraversalOperator::Index(i) = op {
                self.expr(i)?;
            }
        }
        let Expression::Variable(v) = base else {
            return self.expr(base);
        };
        if !self.is_root(v.as_str()) {
            return Ok(());
        }
        match ops.first() {
            Some(TraversalOperator::GetAttr(name)) => {
                self.names.insert(name.as_str().to_string());
                Ok(())
            }
            _ => Err((
                false,
                format!(
                    "Invalid reference; The \"{}\" object does not support this operation.",
                    v.as_str()
                ),
            )),
        }
    }
}

/// An HCL value as JSON with helmfile's number types (every number a float64).
fn to_json(v: &HclValue) -> serde_json::Value {
    match v {
        HclValue::Null => serde_json::Value::Null,
        HclValue::Bool(b) => serde_json::Value::Bool(*b),
        HclValue::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        HclValue::String(s) => serde_json::Value::String(s.clone()),
        HclValue::Array(a) => serde_json::Value::Array(a.iter().map(to_json).collect()),
        HclValue::Object(o) => {
            serde_json::Value::Object(o.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests;
