//! The executor, mirroring Go's `text/template/exec.go`: walks a tree with a dot value and a
//! variable stack, evaluating pipelines left to right (each command's result is the next
//! one's final argument). Go's distinction between a missing value (invalid `reflect.Value`,
//! printed `<no value>`) and a nil `interface{}` stored in a map or list (which field access
//! reports as `nil pointer evaluating interface {}.x`) is kept by [`Ev`].

use std::fmt;
use std::sync::Arc;

use super::ast::{Arg, Branch, Command, Node, Pipe, Slice, Tree};
use super::fmt::go_quote;
use super::value::Value;
use super::value::{param_accepts, FuncContext, Function, Lazy, Param};
use super::{
    Budget, BudgetKind, ExecError, MissingKey, Templates, MAX_LIST_LEN, MAX_NESTING,
    MAX_STRING_BYTES, MAX_TEMPLATE_DEPTH, MAX_TEMPLATE_OUTPUT_BYTES,
};

/// Functions whose result is about as large as their arguments printed: their arguments'
/// [`super::deep_size`] is checked against [`MAX_STRING_BYTES`] before the call (a list
/// holding one large string a million times would otherwise be printed in full).
const SERIALIZERS: &[&str] = &[
    "toJson",
    "mustToJson",
    "toPrettyJson",
    "mustToPrettyJson",
    "toRawJson",
    "mustToRawJson",
    "toYaml",
    "mustToYaml",
    "toYamlPretty",
    "toToml",
    "join",
    "cat",
    "print",
    "println",
    "printf",
    "quote",
    "squote",
    "toStrings",
    "sortAlpha",
    "b64enc",
    "b32enc",
    "html",
    "js",
    "urlquery",
];

/// A `fmt::Write` into a template's output that refuses to grow it past `limit` bytes.
struct Bounded<'o> {
    out: &'o mut String,
    limit: usize,
}

impl fmt::Write for Bounded<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.out.len().saturating_add(s.len()) > self.limit {
            return Err(fmt::Error);
        }
        self.out.push_str(s);
        Ok(())
    }
}

/// An evaluated value with Go's static-type distinction.
#[derive(Clone, Debug)]
pub(crate) enum Ev {
    /// An invalid `reflect.Value`: no value at all.
    Missing,
    /// A value of a concrete type.
    Val(Value),
    /// A value held in an `interface{}` slot (a map or list element), possibly nil.
    Boxed(Value),
}

impl Ev {
    fn unbox(self) -> Ev {
        match self {
            Ev::Boxed(Value::Nil) | Ev::Val(Value::Nil) => Ev::Missing,
            Ev::Boxed(v) => Ev::Val(v),
            other => other,
        }
    }

    fn value(&self) -> &Value {
        static NIL: Value = Value::Nil;
        match self {
            Ev::Missing => &NIL,
            Ev::Val(v) | Ev::Boxed(v) => v,
        }
    }

    fn go_type(&self) -> String {
        match self {
            Ev::Missing => "<nil>".into(),
            Ev::Boxed(_) => "interface {}".into(),
            Ev::Val(v) => v.go_type(),
        }
    }

    fn from_result(v: Value) -> Ev {
        match v {
            Value::Nil => Ev::Boxed(Value::Nil),
            v => Ev::Val(v),
        }
    }
}

/// The node an error is reported at (Go's `state.node`).
#[derive(Clone, Copy)]
enum At<'a> {
    None,
    Node(&'a Node),
    Pipe(&'a Pipe),
    Cmd(&'a Command),
    Arg(&'a Arg),
}

/// Non-local exits: errors, and `{{break}}`/`{{continue}}` travelling up to their range.
pub(crate) enum Flow {
    Err(ExecError),
    Break,
    Continue,
}

type R<T> = Result<T, Flow>;

pub(crate) struct Exec<'a, 'e> {
    pub set: &'a Templates,
    pub tree: &'a Tree,
    /// Variables in scope, innermost last; names borrow from the parse tree.
    pub vars: Vec<(&'a str, Ev)>,
    pub depth: usize,
    pub nesting: usize,
    pub ext: &'e mut super::value::Extensions,
    pub out: String,
    at: At<'a>,
}

impl<'a, 'e> Exec<'a, 'e> {
    pub fn new(
        set: &'a Templates,
        tree: &'a Tree,
        dot: Ev,
        depth: usize,
        ext: &'e mut super::value::Extensions,
    ) -> Self {
        Exec {
            set,
            tree,
            vars: vec![("$", dot)],
            depth,
            nesting: 0,
            ext,
            out: String::new(),
            at: At::None,
        }
    }

    /// Runs the tree; `{{break}}` cannot escape a range (the parser ensures it).
    pub fn run(&mut self, dot: &Ev) -> Result<(), ExecError> {
        let tree = self.tree;
        match self.walk_list(dot, &tree.root) {
            Ok(()) | Err(Flow::Break | Flow::Continue) => Ok(()),
            Err(Flow::Err(e)) => Err(e),
        }
    }

    fn error<T>(&self, msg: impl Into<String>) -> R<T> {
        let msg = msg.into();
        let (pos, context) = match self.at {
            At::None => return Err(Flow::Err(ExecError::bare(&self.tree.name, msg))),
            At::Node(n) => (node_pos(n), NodeDisplay(n).to_string()),
            At::Pipe(p) => (p.pos, p.to_string()),
            At::Cmd(c) => (c.pos, c.to_string()),
            At::Arg(a) => (a.pos(), a.to_string()),
        };
        Err(Flow::Err(ExecError {
            name: self.tree.name.clone(),
            location: Some(self.tree.location(pos)),
            position: Some(Box::new(self.tree.position(pos))),
            context,
            message: msg,
        }))
    }

    fn walk_list(&mut self, dot: &Ev, list: &'a [Node]) -> R<()> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return self.error(format!("exceeded maximum nesting depth ({MAX_NESTING})"));
        }
        for n in list {
            self.walk(dot, n)?;
        }
        self.nesting -= 1;
        Ok(())
    }

    fn walk(&mut self, dot: &Ev, node: &'a Node) -> R<()> {
        self.at = At::Node(node);
        match node {
            Node::Text(t, pos) => {
                self.reserve_output(t.len())?;
                if super::trace::on() {
                    self.trace_seg(self.out.len(), self.out.len() + t.len(), *pos, true);
                }
                self.out.push_str(t)
            }
            Node::Action(pipe) => {
                let tracing = super::trace::on();
                if tracing {
                    super::trace::action_start();
                }
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at = At::Node(node);
                    let start = self.out.len();
                    self.print_value(node, &v)?;
                    if tracing {
                        self.trace_print(start, &v, pipe.pos);
                    }
                }
            }
            Node::If(b) => self.walk_if_or_with(false, dot, b)?,
            Node::With(b) => self.walk_if_or_with(true, dot, b)?,
            Node::Range(b) => self.walk_range(dot, node, b)?,
            Node::Template { name, pipe, .. } => self.walk_template(dot, node, name, pipe)?,
            Node::Break(_) => return Err(Flow::Break),
            Node::Continue(_) => return Err(Flow::Continue),
        }
        Ok(())
    }

    /// Checks that `n` more bytes fit this execution's [`MAX_TEMPLATE_OUTPUT_BYTES`] and, for
    /// a template file's own execution (depth 0), charges them to the chart's budget.
    fn reserve_output(&mut self, n: usize) -> R<()> {
        if self.out.len().saturating_add(n) > MAX_TEMPLATE_OUTPUT_BYTES {
            return self.error(format!(
                "the template's output exceeds its budget of {MAX_TEMPLATE_OUTPUT_BYTES} bytes (MAX_TEMPLATE_OUTPUT_BYTES)"
            ));
        }
        if self.depth == 0 {
            if let Err(e) = self
                .ext
                .get_mut::<Budget>()
                .charge(BudgetKind::Output, n as u64)
            {
                return self.error(e);
            }
        }
        Ok(())
    }

    fn trace_seg(&self, start: usize, end: usize, pos: usize, literal: bool) {
        super::trace::seg(super::trace::Seg {
            start,
            end,
            file: Arc::from(self.tree.parse_name.as_str()),
            text: self.tree.text.clone(),
            pos,
            literal,
        });
    }

    fn trace_print(&self, start: usize, v: &Ev, pos: usize) {
        let end = self.out.len();
        self.trace_seg(start, end, pos, false);
        if let Ev::Val(v) | Ev::Boxed(v) = v {
            super::trace::printed(start, self.out.get(start..end).unwrap_or(""), v);
        }
    }

    fn print_value(&mut self, node: &'a Node, v: &Ev) -> R<()> {
        match v {
            Ev::Missing => self.out.push_str("<no value>"),
            Ev::Val(Value::Func(f)) | Ev::Boxed(Value::Func(f)) => {
                let text = NodeDisplay(node).to_string();
                return self.error(format!("can't print {text} of type {}", f.go_type()));
            }
            Ev::Val(v) | Ev::Boxed(v) => {
                use std::fmt::Write;
                let room = MAX_TEMPLATE_OUTPUT_BYTES.saturating_sub(self.out.len());
                let size = match v {
                    Value::String(s) => s.len() as u64,
                    Value::List(_) | Value::Map(_) => super::deep_size(v, room as u64),
                    _ => 0,
                };
                self.reserve_output(usize::try_from(size).unwrap_or(usize::MAX))?;
                let start = self.out.len();
                let mut w = Bounded {
                    out: &mut self.out,
                    limit: MAX_TEMPLATE_OUTPUT_BYTES,
                };
                if write!(w, "{v}").is_err() {
                    return self.error(format!(
                        "the template's output exceeds its budget of {MAX_TEMPLATE_OUTPUT_BYTES} bytes (MAX_TEMPLATE_OUTPUT_BYTES)"
                    ));
                }
                // The estimate was charged; charge what the text came to beyond it.
                let written = (self.out.len() - start) as u64;
                if written > size {
                    let more = usize::try_from(written - size).unwrap_or(usize::MAX);
                    self.out.truncate(start);
                    self.reserve_output(more)?;
                    let _ = write!(self.out, "{v}");
                }
            }
        }
        Ok(())
    }

    fn walk_if_or_with(&mut self, with: bool, dot: &Ev, b: &'a Branch) -> R<()> {
        let mark = self.vars.len();
        let result = (|| {
            let scoped = with && super::trace::on();
            if scoped {
                super::trace::action_start();
            }
            let val = self.eval_pipeline(dot, &b.pipe)?;
            if val.value().is_true() {
                if with {
                    if scoped {
                        super::trace::push_scope();
                    }
                    let r = self.walk_list(&val, &b.list);
                    if scoped {
                        super::trace::pop_scope();
                    }
                    r
                } else {
                    self.walk_list(dot, &b.list)
                }
            } else if let Some(e) = &b.else_list {
                self.walk_list(dot, e)
            } else {
                Ok(())
            }
        })();
        self.vars.truncate(mark);
        result
    }

    fn walk_range(&mut self, dot: &Ev, node: &'a Node, r: &'a Branch) -> R<()> {
        self.at = At::Node(node);
        let mark = self.vars.len();
        let result = self.range_body(dot, r);
        self.vars.truncate(mark);
        match result {
            Ok(true) => Ok(()),
            Ok(false) => match &r.else_list {
                Some(e) => self.walk_list(dot, e),
                None => Ok(()),
            },
            Err(e) => Err(e),
        }
    }

    /// Iterates; `Ok(false)` means "nothing to iterate: run the else branch".
    fn range_body(&mut self, dot: &Ev, r: &'a Branch) -> R<bool> {
        let val = self.eval_pipeline(dot, &r.pipe)?;
        let mark = self.vars.len();
        let under = match val.value() {
            Value::Object(o) => o.underlying(),
            _ => None,
        };
        let items: Vec<(Ev, Ev)> = match under.as_ref().unwrap_or(val.value()) {
            Value::List(l) => l
                .iter()
                .enumerate()
                .map(|(i, v)| (Ev::Val(Value::Int(i as i64)), Ev::Boxed(v.clone())))
                .collect(),
            Value::Map(m) => m
                .read()
                .iter()
                .map(|(k, v)| (Ev::Val(Value::str(k)), Ev::Boxed(v.clone())))
                .collect(),
            Value::Int(n) => {
                if r.pipe.decl.len() > 1 {
                    return self.error(format!(
                        "can't use {n} to iterate over more than one variable"
                    ));
                }
                if *n > MAX_LIST_LEN as i64 {
                    return self.error(super::list_budget_error(
                        &format!("range over {n}"),
                        *n as u128,
                    ));
                }
                (0..(*n).max(0))
                    .map(|i| (Ev::Val(Value::Int(i)), Ev::Val(Value::Int(i))))
                    .collect()
            }
            Value::Nil => Vec::new(),
            other => return self.error(format!("range can't iterate over {other}")),
        };
        if items.is_empty() {
            return Ok(false);
        }
        for (index, elem) in items {
            if let Err(e) = self
                .ext
                .get_mut::<Budget>()
                .charge(BudgetKind::Iterations, 1)
            {
                return self.error(e);
            }
            let n = r.pipe.decl.len();
            if n > 0 {
                if let Some(slot) = self.vars.get_mut(mark - 1) {
                    slot.1 = elem.clone();
                }
            }
            if n > 1 {
                if let Some(slot) = self.vars.get_mut(mark - 2) {
                    slot.1 = index;
                }
            }
            let step = self.walk_list(&elem, &r.list);
            self.vars.truncate(mark);
            match step {
                Ok(()) | Err(Flow::Continue) => {}
                Err(Flow::Break) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    fn walk_template(
        &mut self,
        dot: &Ev,
        node: &'a Node,
        name: &str,
        pipe: &'a Option<Pipe>,
    ) -> R<()> {
        self.at = At::Node(node);
        let Some(tree) = self.set.get(name) else {
            return self.error(format!("template {} not defined", go_quote(name)));
        };
        if self.depth >= MAX_TEMPLATE_DEPTH {
            return self.error(format!(
                "exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})"
            ));
        }
        let new_dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Ev::Missing,
        };
        let mark = super::trace::on().then(super::trace::mark);
        let (result, sub_out) = {
            let mut sub = Exec::new(self.set, tree, new_dot.clone(), self.depth + 1, self.ext);
            sub.nesting = self.nesting;
            let result = sub.walk_list(&new_dot, &tree.root);
            (result, sub.out)
        };
        if let Some(mark) = mark {
            super::trace::shift_since(mark, self.out.len());
        }
        if !matches!(result, Err(Flow::Err(_))) {
            self.at = At::Node(node);
            self.reserve_output(sub_out.len())?;
        }
        self.out.push_str(&sub_out);
        match result {
            Err(Flow::Err(e)) => Err(Flow::Err(e)),
            _ => Ok(()),
        }
    }

    fn eval_pipeline(&mut self, dot: &Ev, pipe: &'a Pipe) -> R<Ev> {
        self.at = At::Pipe(pipe);
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return self.error(format!("exceeded maximum nesting depth ({MAX_NESTING})"));
        }
        let mut value: Option<Ev> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?.unbox());
        }
        self.nesting -= 1;
        let value = value.unwrap_or(Ev::Missing);
        for var in &pipe.decl {
            if pipe.is_assign {
                self.set_var(var, value.clone())?;
            } else {
                self.vars.push((var.as_str(), value.clone()));
            }
        }
        Ok(value)
    }

    fn set_var(&mut self, name: &str, v: Ev) -> R<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
            Some(slot) => {
                slot.1 = v;
                Ok(())
            }
            None => self.error(format!("undefined variable: {name}")),
        }
    }

    fn var_value(&self, name: &str) -> R<Ev> {
        match self.vars.iter().rev().find(|(n, _)| *n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => self.error(format!("undefined variable: {name}")),
        }
    }

    fn not_a_function(&self, args: &[Arg], fin: &Option<Ev>) -> R<()> {
        if args.len() > 1 || fin.is_some() {
            let first = args.first().map(ToString::to_string).unwrap_or_default();
            return self.error(format!("can't give argument to non-function {first}"));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Ev, cmd: &'a Command, fin: Option<Ev>) -> R<Ev> {
        let Some(first) = cmd.args.first() else {
            return Ok(Ev::Missing);
        };
        match first {
            Arg::Field { idents, .. } => {
                self.at = At::Arg(first);
                return self.eval_field_chain(dot, dot.clone(), idents, &cmd.args, fin);
            }
            Arg::Chain { node, fields, .. } => {
                return self.eval_chain(dot, first, node, fields, &cmd.args, fin)
            }
            Arg::Identifier { name, .. } => {
                self.at = At::Arg(first);
                return self.eval_function(dot, name, At::Cmd(cmd), &cmd.args, fin);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &fin)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable { idents, .. } => {
                return self.eval_variable(dot, first, idents, &cmd.args, fin)
            }
            _ => {}
        }
        self.at = At::Arg(first);
        self.not_a_function(&cmd.args, &fin)?;
        match first {
            Arg::Bool(_, b) => Ok(Ev::Val(Value::Bool(*b))),
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => self.error("nil is not a command"),
            Arg::Number(..) => self.ideal_constant(first),
            Arg::String { text, .. } => Ok(Ev::Val(Value::String(text.clone()))),
            _ => self.error(format!(
                "can't evaluate command {}",
                go_quote(&first.to_string())
            )),
        }
    }

    fn ideal_constant(&mut self, arg: &'a Arg) -> R<Ev> {
        self.at = At::Arg(arg);
        let Arg::Number(_, n) = arg else {
            return Ok(Ev::Missing);
        };
        let t = &n.text;
        let is_hex_int = t.len() > 2
            && t.starts_with('0')
            && matches!(t.as_bytes()[1], b'x' | b'X')
            && !t.contains(['p', 'P']);
        let is_rune = t.starts_with('\'');
        if let Some(f) = n.float {
            if !is_hex_int && !is_rune && t.contains(['.', 'e', 'E', 'p', 'P']) {
                return Ok(Ev::Val(Value::Float(f)));
            }
        }
        match n.int {
            Some(i) => Ok(Ev::Val(Value::Int(i))),
            None if n.uint.is_some() => self.error(format!("{t} overflows int")),
            None => Ok(Ev::Missing),
        }
    }

    fn eval_chain(
        &mut self,
        dot: &Ev,
        chain: &'a Arg,
        node: &'a Arg,
        fields: &[Slice],
        args: &'a [Arg],
        fin: Option<Ev>,
    ) -> R<Ev> {
        self.at = At::Arg(chain);
        if let Arg::Nil(_) = node {
            return self.error(format!("indirection through explicit nil in {chain}"));
        }
        let recv = self.eval_arg_untyped(dot, node)?;
        self.eval_field_chain(dot, recv, fields, args, fin)
    }

    fn eval_variable(
        &mut self,
        dot: &Ev,
        var: &'a Arg,
        idents: &[Slice],
        args: &'a [Arg],
        fin: Option<Ev>,
    ) -> R<Ev> {
        self.at = At::Arg(var);
        let name = idents.first().map_or("$", |s| &**s);
        let value = self.var_value(name)?;
        if idents.len() == 1 {
            self.not_a_function(args, &fin)?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, &idents[1..], args, fin)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Ev,
        mut recv: Ev,
        idents: &[Slice],
        args: &'a [Arg],
        fin: Option<Ev>,
    ) -> R<Ev> {
        let Some((last, init)) = idents.split_last() else {
            return Ok(recv);
        };
        for ident in init {
            recv = self.eval_field(dot, ident, &[], None, recv)?;
        }
        self.eval_field(dot, last, args, fin, recv)
    }

    fn eval_field(
        &mut self,
        dot: &Ev,
        name: &str,
        args: &'a [Arg],
        fin: Option<Ev>,
        recv: Ev,
    ) -> R<Ev> {
        let missing_key = self.set.missing_key();
        let typ = recv.go_type();
        let v = match recv {
            Ev::Missing => {
                if missing_key == MissingKey::Error {
                    return self.error(format!("nil data; no entry for key {}", go_quote(name)));
                }
                return Ok(Ev::Missing);
            }
            Ev::Boxed(Value::Nil) | Ev::Val(Value::Nil) => {
                return self.error(format!("nil pointer evaluating {typ}.{name}"));
            }
            Ev::Val(v) | Ev::Boxed(v) => v,
        };
        if let Value::Object(o) = &v {
            if let Some(m) = o.method(name) {
                let at = self.at;
                return self.eval_call(dot, &m, at, name, args, fin);
            }
        }
        let has_args = args.len() > 1 || fin.is_some();
        match &v {
            Value::Map(m) => {
                if has_args {
                    return self.error(format!("{name} is not a method but has arguments"));
                }
                match m.get(name) {
                    Some(x) => {
                        if super::trace::on() {
                            super::trace::touch(&v, name, &x);
                        }
                        Ok(Ev::Boxed(x))
                    }
                    None => match missing_key {
                        MissingKey::Default => Ok(Ev::Missing),
                        MissingKey::Zero => Ok(Ev::Boxed(Value::Nil)),
                        MissingKey::Error => {
                            self.error(format!("map has no entry for key {}", go_quote(name)))
                        }
                    },
                }
            }
            Value::Object(o) => match o.field(name) {
                Some(x) => {
                    if has_args {
                        return self.error(format!(
                            "{name} has arguments but cannot be invoked as function"
                        ));
                    }
                    Ok(Ev::from_result(x))
                }
                None => self.error(format!("can't evaluate field {name} in type {typ}")),
            },
            _ => self.error(format!("can't evaluate field {name} in type {typ}")),
        }
    }

    fn eval_function(
        &mut self,
        dot: &Ev,
        name: &str,
        cmd: At<'a>,
        args: &'a [Arg],
        fin: Option<Ev>,
    ) -> R<Ev> {
        let Some(f) = self.set.funcs().get(name).cloned() else {
            return self.error(format!("{} is not a defined function", go_quote(name)));
        };
        self.eval_call(dot, &f, cmd, name, args, fin)
    }

    fn eval_call(
        &mut self,
        dot: &Ev,
        f: &Function,
        node: At<'a>,
        name: &str,
        args: &'a [Arg],
        fin: Option<Ev>,
    ) -> R<Ev> {
        let args = args.get(1..).unwrap_or(&[]);
        let num_in = args.len() + usize::from(fin.is_some());
        let fixed = f.params.len();
        if f.variadic.is_some() {
            if num_in < fixed {
                return self.error(format!(
                    "wrong number of args for {name}: want at least {fixed} got {}",
                    args.len()
                ));
            }
        } else if num_in != fixed {
            return self.error(format!(
                "wrong number of args for {name}: want {fixed} got {num_in}"
            ));
        }
        let param = |i: usize| {
            f.params
                .get(i)
                .copied()
                .or(f.variadic)
                .unwrap_or(Param::Any)
        };
        if f.lazy != Lazy::No {
            return self.eval_and_or(dot, f.lazy, args, fin);
        }
        let mut argv = Vec::with_capacity(num_in);
        for (i, a) in args.iter().enumerate() {
            argv.push(self.eval_arg(dot, param(i), a)?);
        }
        if let Some(fv) = fin {
            argv.push(self.validate_type(fv, param(num_in - 1))?);
        }
        if SERIALIZERS.contains(&name) {
            let limit = MAX_STRING_BYTES as u64;
            let size = argv.iter().fold(0u64, |acc, a| {
                acc.saturating_add(super::deep_size(a, limit))
            });
            if size > limit {
                self.at = node;
                return self.error(format!(
                    "error calling {name}: {}",
                    super::string_budget_error(name, size.into())
                ));
            }
        }
        let mut ctx = FuncContext {
            set: self.set,
            depth: self.depth,
            ext: self.ext,
        };
        let result = (f.call)(&mut ctx, &argv).and_then(|v| {
            let fits = match &v {
                Value::String(s) if s.len() > MAX_STRING_BYTES => {
                    Err(super::string_budget_error(name, s.len() as u128))
                }
                Value::List(l) if l.len() > MAX_LIST_LEN => {
                    Err(super::list_budget_error(name, l.len() as u128))
                }
                Value::String(s) => self
                    .ext
                    .get_mut::<Budget>()
                    .charge(BudgetKind::FunctionOutput, s.len() as u64),
                _ => Ok(()),
            };
            fits.map(|()| v)
        });
        match result {
            Ok(v) => Ok(Ev::from_result(v)),
            Err(e) => {
                self.at = node;
                self.error(format!("error calling {name}: {e}"))
            }
        }
    }

    fn eval_and_or(&mut self, dot: &Ev, lazy: Lazy, args: &'a [Arg], fin: Option<Ev>) -> R<Ev> {
        let want = lazy == Lazy::Or;
        let mut v = Value::Nil;
        for a in args {
            v = self.eval_arg(dot, Param::Any, a)?;
            if v.is_true() == want {
                return Ok(Ev::from_result(v));
            }
        }
        if let Some(fv) = fin {
            v = fv.value().clone();
        }
        Ok(Ev::from_result(v))
    }

    fn validate_type(&self, v: Ev, p: Param) -> R<Value> {
        match (&v, p) {
            (Ev::Missing, Param::Any) => Ok(Value::Nil),
            (Ev::Missing, p) => self.error(format!("invalid value; expected {}", p.go_name())),
            (_, Param::Any) => Ok(v.value().clone()),
            (Ev::Boxed(Value::Nil), p) => self.error(format!(
                "wrong type for value; expected {}; got interface {{}}",
                p.go_name()
            )),
            (Ev::Val(x) | Ev::Boxed(x), p) if param_accepts(p, x) => Ok(x.clone()),
            (_, p) => self.error(format!(
                "wrong type for value; expected {}; got {}",
                p.go_name(),
                v.value().go_type()
            )),
        }
    }

    /// Go's `evalArg` with a nil type: the value as evaluated, for chain receivers.
    fn eval_arg_untyped(&mut self, dot: &Ev, n: &'a Arg) -> R<Ev> {
        self.at = At::Arg(n);
        match n {
            Arg::Pipe(p) => self.eval_pipeline(dot, p),
            Arg::Identifier { name, .. } => self.eval_function(dot, name, At::Arg(n), &[], None),
            Arg::Field { idents, .. } => {
                self.eval_field_chain(dot, dot.clone(), idents, std::slice::from_ref(n), None)
            }
            Arg::Variable { idents, .. } => self.eval_variable(dot, n, idents, &[], None),
            Arg::Chain { node, fields, .. } => self.eval_chain(dot, n, node, fields, &[], None),
            Arg::Dot(_) => Ok(dot.clone()),
            other => {
                let v = self.eval_arg(dot, Param::Any, other)?;
                Ok(Ev::Val(v))
            }
        }
    }

    fn eval_arg(&mut self, dot: &Ev, p: Param, n: &'a Arg) -> R<Value> {
        self.at = At::Arg(n);
        let v = match n {
            Arg::Dot(_) => dot.clone(),
            Arg::Nil(_) => {
                if p == Param::Any {
                    return Ok(Value::Nil);
                }
                return self.error(format!("cannot assign nil to {}", p.go_name()));
            }
            Arg::Field { idents, .. } => {
                self.eval_field_chain(dot, dot.clone(), idents, std::slice::from_ref(n), None)?
            }
            Arg::Variable { idents, .. } => self.eval_variable(dot, n, idents, &[], None)?,
            Arg::Pipe(pipe) => self.eval_pipeline(dot, pipe)?,
            Arg::Identifier { name, .. } => self.eval_function(dot, name, At::Arg(n), &[], None)?,
            Arg::Chain { node, fields, .. } => self.eval_chain(dot, n, node, fields, &[], None)?,
            Arg::Bool(_, b) => return self.literal(p, n, Value::Bool(*b)),
            Arg::String { text, .. } => return self.literal(p, n, Value::String(text.clone())),
            Arg::Number(_, num) => {
                return match p {
                    Param::Int(_) => match num.int {
                        Some(i) => Ok(Value::Int(i)),
                        None => self.error(format!("expected integer; found {n}")),
                    },
                    Param::Float => match num.float {
                        Some(f) => Ok(Value::Float(f)),
                        None => self.error(format!("expected float; found {n}")),
                    },
                    Param::Any => Ok(self.ideal_constant(n)?.value().clone()),
                    Param::String => self.error(format!("expected string; found {n}")),
                    Param::Bool => self.error(format!("expected bool; found {n}")),
                };
            }
        };
        self.validate_type(v, p)
    }

    fn literal(&self, p: Param, n: &Arg, v: Value) -> R<Value> {
        match (p, &v) {
            (Param::Any, _) | (Param::Bool, Value::Bool(_)) | (Param::String, Value::String(_)) => {
                Ok(v)
            }
            (Param::Bool, _) => self.error(format!("expected bool; found {n}")),
            (Param::String, _) => self.error(format!("expected string; found {n}")),
            (Param::Int(_), _) => self.error(format!("expected integer; found {n}")),
            (Param::Float, _) => self.error(format!("expected float; found {n}")),
        }
    }
}

fn node_pos(n: &Node) -> usize {
    match n {
        Node::Text(..) => 0,
        Node::Action(p) => p.pos,
        Node::If(b) | Node::Range(b) | Node::With(b) => b.pipe.pos,
        Node::Template { pos, .. } | Node::Break(pos) | Node::Continue(pos) => *pos,
    }
}

/// Go's `Node.String()` for statements.
struct NodeDisplay<'n>(&'n Node);

fn write_list(f: &mut fmt::Formatter<'_>, list: &[Node]) -> fmt::Result {
    for n in list {
        write!(f, "{}", NodeDisplay(n))?;
    }
    Ok(())
}

impl fmt::Display for NodeDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (word, b) = match self.0 {
            Node::Text(t, _) => return f.write_str(t),
            Node::Action(p) => return write!(f, "{{{{{p}}}}}"),
            Node::Template { name, pipe, .. } => {
                return match pipe {
                    Some(p) => write!(f, "{{{{template {} {p}}}}}", go_quote(name)),
                    None => write!(f, "{{{{template {}}}}}", go_quote(name)),
                }
            }
            Node::Break(_) => return f.write_str("{{break}}"),
            Node::Continue(_) => return f.write_str("{{continue}}"),
            Node::If(b) => ("if", b),
            Node::Range(b) => ("range", b),
            Node::With(b) => ("with", b),
        };
        write!(f, "{{{{{word} {}}}}}", b.pipe)?;
        write_list(f, &b.list)?;
        if let Some(e) = &b.else_list {
            f.write_str("{{else}}")?;
            write_list(f, e)?;
        }
        f.write_str("{{end}}")
    }
}
