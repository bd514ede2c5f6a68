//! Provenance tracing for `driftlint check`: while a template executes, which bytes of its
//! output came from which values-file line, and which template line printed the rest.
//!
//! Off by default (one thread-local flag read per map lookup and per printed node), so
//! `helm template` output and speed are unchanged. [`start`] turns it on for the current
//! thread (template execution runs on one thread, see `with_exec_stack`), [`finish`] turns it
//! off and returns what was recorded.
//!
//! How a printed value finds its origin (the approximation, documented for users in the
//! README): values-tree entries are registered by identity (map or list address and key) and
//! strings also by their own address. Each top-level `{{ action }}` collects the registered
//! entries it looks up (also inside `include`/`tpl` it calls). When it prints, the printed
//! value itself (if it is a registered string) or each collected scalar whose text occurs in
//! the printed text as a whole token (a boolean: as the whole text) gives a [`ValueRange`]
//! over those bytes; a collected map
//! or list (`toYaml .Values.resources`) gives one range per leaf found, in key order.
//! Everything printed at top level is also covered by a [`Seg`]: literal text maps byte for
//! byte to its template source, an action's output to the action's position.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use super::value::Value;
use driftlint_yaml::Origin;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static TRACE: RefCell<Trace> = RefCell::new(Trace::default());
}

/// Output bytes `start..end` (of one executed template's output) printed from a value that
/// came from the values line `origin`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueRange {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// The values-file line.
    pub origin: Origin,
}

/// Output bytes `start..end` printed by one top-level template node.
#[derive(Clone, Debug)]
pub struct Seg {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// The template's parse name (`chart/templates/x.yaml`).
    pub file: Arc<str>,
    /// The template's source text.
    pub text: Arc<str>,
    /// Byte offset in `text` of the node.
    pub pos: usize,
    /// True for literal text (output byte `start + k` is source byte `pos + k`); false for an
    /// action, whose whole output maps to `pos`.
    pub literal: bool,
}

/// What one template execution recorded.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    /// Value ranges, in output order.
    pub ranges: Vec<ValueRange>,
    /// Segments, in output order.
    pub segs: Vec<Seg>,
}

#[derive(Default)]
struct Trace {
    entries: HashMap<(usize, Box<str>), Origin>,
    strings: HashMap<usize, Origin>,
    touched: Vec<(Value, Origin)>,
    /// What each enclosing `{{ with }}` pipeline looked up (its dot), innermost last.
    scopes: Vec<Vec<(Value, Origin)>>,
    in_func: usize,
    rec: Recorded,
}

/// Most entries an action collects before older ones are dropped.
const MAX_TOUCHED: usize = 512;

/// Turns tracing on for this thread with an empty registry.
pub fn start() {
    TRACE.with(|t| *t.borrow_mut() = Trace::default());
    ON.with(|c| c.set(true));
}

/// Turns tracing off for this thread and forgets the registry.
pub fn finish() {
    ON.with(|c| c.set(false));
    TRACE.with(|t| *t.borrow_mut() = Trace::default());
}

/// Whether tracing is on for this thread.
#[inline]
pub fn on() -> bool {
    ON.with(Cell::get)
}

/// Takes what was recorded since the last call (one template file's execution).
pub fn take() -> Recorded {
    TRACE.with(|t| std::mem::take(&mut t.borrow_mut().rec))
}

fn with<R>(f: impl FnOnce(&mut Trace) -> R) -> R {
    TRACE.with(|t| f(&mut t.borrow_mut()))
}

fn addr(v: &Value) -> Option<usize> {
    match v {
        Value::Map(m) => Some(m.addr()),
        Value::List(l) => Some(Arc::as_ptr(l) as *const () as usize),
        _ => None,
    }
}

fn str_addr(s: &Arc<str>) -> usize {
    s.as_ptr() as usize
}

/// Registers that `container[key]` (a map key, or a list index as decimal text) came from
/// `origin`; a string value is registered by identity too.
pub fn register(container: &Value, key: &str, value: &Value, origin: &Origin) {
    let Some(a) = addr(container) else {
        return;
    };
    with(|t| {
        if let Value::String(s) = value {
            if !s.is_empty() {
                t.strings.insert(str_addr(s), origin.clone());
            }
        }
        t.entries.insert((a, key.into()), origin.clone());
    });
}

/// Notes a successful lookup of `container[key]` giving `value`.
pub fn touch(container: &Value, key: &str, value: &Value) {
    let Some(a) = addr(container) else {
        return;
    };
    with(|t| {
        let Some(o) = t.entries.get(&(a, key.into())).cloned() else {
            return;
        };
        if t.touched.len() >= MAX_TOUCHED {
            t.touched.remove(0);
        }
        t.touched.push((value.clone(), o));
    });
}

/// Whether output is being produced for a function (`include`, `tpl`), not the file.
pub fn in_func() -> bool {
    with(|t| t.in_func > 0)
}

/// Enters (`true`) or leaves a template executed by a function.
pub fn func_depth(enter: bool) {
    with(|t| {
        if enter {
            t.in_func += 1;
        } else {
            t.in_func = t.in_func.saturating_sub(1);
        }
    });
}

/// A top-level action starts: forget earlier lookups, except those of the enclosing
/// `{{ with }}` pipelines (`{{ with .Values.x }}{{ toYaml . }}` prints what `with` looked up).
pub fn action_start() {
    with(|t| {
        if t.in_func == 0 {
            t.touched = t.scopes.last().cloned().unwrap_or_default();
        }
    });
}

/// A `{{ with }}` body starts: what its pipeline looked up stays collected for the actions
/// inside it (top level only; a no-op inside functions).
pub fn push_scope() {
    with(|t| {
        if t.in_func == 0 {
            let scope = t.touched.clone();
            t.scopes.push(scope);
        }
    });
}

/// A `{{ with }}` body ends (pairs with [`push_scope`]).
pub fn pop_scope() {
    with(|t| {
        if t.in_func == 0 {
            t.scopes.pop();
        }
    });
}

/// Records a segment (top level only).
pub fn seg(seg: Seg) {
    with(|t| {
        if t.in_func == 0 && seg.end > seg.start {
            t.rec.segs.push(seg);
        }
    });
}

/// Marks the current record length, for [`shift_since`].
pub fn mark() -> (usize, usize) {
    with(|t| (t.rec.ranges.len(), t.rec.segs.len()))
}

/// Moves everything recorded since `mark` by `by` bytes (a `{{template}}`'s output appended
/// to its caller's at that offset).
pub fn shift_since(mark: (usize, usize), by: usize) {
    with(|t| {
        for r in t.rec.ranges.iter_mut().skip(mark.0) {
            r.start += by;
            r.end += by;
        }
        for s in t.rec.segs.iter_mut().skip(mark.1) {
            s.start += by;
            s.end += by;
        }
    });
}

/// A top-level action printed `printed` as `text` at output offset `at`: records the value
/// ranges it holds (see the module docs).
pub fn printed(at: usize, text: &str, printed: &Value) {
    with(|t| {
        if t.in_func > 0 || text.is_empty() {
            return;
        }
        if let Value::String(s) = printed {
            if let Some(o) = t.strings.get(&str_addr(s)) {
                let origin = o.clone();
                t.rec.ranges.push(ValueRange {
                    start: at,
                    end: at + text.len(),
                    origin,
                });
                return;
            }
        }
        let mut found = Vec::new();
        for (v, o) in &t.touched {
            match v {
                Value::Map(_) | Value::List(_) => {
                    let mut cursor = 0;
                    leaves(t, v, text, &mut cursor, &mut found);
                }
                Value::Func(_) | Value::Object(_) | Value::Nil => {}
                // A flag tested by an `if` inside an `include` says nothing about a `true`
                // printed elsewhere in its output: a boolean counts only when printed alone.
                Value::Bool(b) if text.trim().trim_matches(['"', '\'']) != b.to_string() => {}
                scalar => {
                    if let Some(i) = find_token(text, &scalar.to_string(), 0) {
                        found.push((i, i + scalar.to_string().len(), o.clone()));
                    }
                }
            }
        }
        found.sort_by_key(|(s, e, _)| (*s, *e));
        for (s, e, origin) in found {
            t.rec.ranges.push(ValueRange {
                start: at + s,
                end: at + e,
                origin,
            });
        }
    });
}

/// The leaves of a map or list (in Go's sorted key order, as `toYaml` prints them) found in
/// `text` one after the other from `cursor`.
fn leaves(
    t: &Trace,
    v: &Value,
    text: &str,
    cursor: &mut usize,
    found: &mut Vec<(usize, usize, Origin)>,
) {
    let Some(a) = addr(v) else {
        return;
    };
    let items: Vec<(String, Value)> = match v {
        Value::Map(m) => m.snapshot().into_iter().collect(),
        Value::List(l) => l
            .iter()
            .enumerate()
            .map(|(i, x)| (i.to_string(), x.clone()))
            .collect(),
        _ => return,
    };
    for (k, x) in items {
        match &x {
            Value::Map(_) | Value::List(_) => leaves(t, &x, text, cursor, found),
            Value::Func(_) | Value::Object(_) | Value::Nil => {}
            scalar => {
                let Some(o) = t.entries.get(&(a, k.as_str().into())) else {
                    continue;
                };
                let needle = scalar.to_string();
                if let Some(i) = find_token(text, &needle, *cursor) {
                    found.push((i, i + needle.len(), o.clone()));
                    *cursor = i + needle.len();
                }
            }
        }
    }
}

/// The first occurrence of `needle` in `hay` at or after `from` that is a whole token (not
/// preceded or followed by a letter, digit or `_`).
fn find_token(hay: &str, needle: &str, from: usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let rest = hay.get(from..)?;
    rest.match_indices(needle)
        .map(|(i, _)| from + i)
        .find(|&i| {
            let before = hay.get(..i).and_then(|h| h.chars().next_back());
            let after = hay.get(i + needle.len()..).and_then(|h| h.chars().next());
            !word(before) && !word(after)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_respect_word_boundaries() {
        assert_eq!(find_token("nginx:latest", "latest", 0), Some(6));
        assert_eq!(find_token("myapp app", "app", 0), Some(6));
        assert_eq!(find_token("\"1\"", "1", 0), Some(1));
        assert_eq!(find_token("v10", "1", 0), None);
    }
}
