//! The tracer of a chart render: the values-file documents, which template file each parse
//! name came from, and what the engine recorded (see [`gotmpl::trace`]); how `.Values`
//! entries are registered with their origins and how Helm's `<no value>` is stripped while
//! keeping the recorded byte ranges right. [`crate::traced`] turns this into origins.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::values::{floats, helm_json, helm_key};
use driftlint_yaml::{self as yaml, Node, Origin};
use gotmpl::trace::{self, Recorded};
use gotmpl::Value;

/// State of one traced render: values-file documents and what the engine recorded.
#[derive(Default)]
pub(crate) struct Tracer {
    /// User `-f` documents, highest priority (last given) first.
    pub user_docs: Vec<Arc<Node>>,
    /// Template parse name → repo-relative file.
    pub files: HashMap<String, String>,
    /// Per rendered file (in `render_all`'s output order).
    pub recorded: Vec<Recorded>,
}

/// An ancestor chart's `values.yaml` and its value path from the root chart.
pub(crate) type Chain = [(Option<Arc<Node>>, Vec<String>)];

/// Registers the origin of every entry of a chart's `.Values` (`json` as coalesced, `value`
/// its template value) with the tracer.
pub(crate) fn register_values(
    tracer: &Tracer,
    chain: &Chain,
    json: &Map<String, Json>,
    value: &Value,
) {
    let prefix = chain.last().map(|(_, p)| p.clone()).unwrap_or_default();
    let mut path = Vec::new();
    register_map(tracer, chain, &prefix, &mut path, json, value);
}

fn register_map(
    tracer: &Tracer,
    chain: &Chain,
    prefix: &[String],
    path: &mut Vec<String>,
    json: &Map<String, Json>,
    value: &Value,
) {
    let Value::Map(m) = value else {
        return;
    };
    for (k, jv) in json {
        let Some(xv) = m.get(k) else {
            continue;
        };
        path.push(k.clone());
        if let Some(o) = find_origin(tracer, chain, prefix, path, jv) {
            trace::register(value, k, &xv, &o);
        }
        register_child(tracer, chain, prefix, path, jv, &xv);
        path.pop();
    }
}

fn register_child(
    tracer: &Tracer,
    chain: &Chain,
    prefix: &[String],
    path: &mut Vec<String>,
    jv: &Json,
    xv: &Value,
) {
    match (jv, xv) {
        (Json::Object(jm), Value::Map(_)) => register_map(tracer, chain, prefix, path, jm, xv),
        (Json::Array(items), Value::List(list)) => {
            for (i, (ji, vi)) in items.iter().zip(list.iter()).enumerate() {
                path.push(i.to_string());
                if let Some(o) = find_origin(tracer, chain, prefix, path, ji) {
                    trace::register(xv, &i.to_string(), vi, &o);
                }
                register_child(tracer, chain, prefix, path, ji, vi);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The values-file node that supplied `path` (relative to the chart whose value path from
/// the root is `prefix`): user files first, then each chart's `values.yaml` from the root
/// down; `global.*` is looked up at the root's `global` first. A candidate counts when its
/// value equals the final one (maps: when it exists), so merge subtleties never give a wrong
/// line, at worst none.
fn find_origin(
    tracer: &Tracer,
    chain: &Chain,
    prefix: &[String],
    path: &[String],
    want: &Json,
) -> Option<Origin> {
    let mut tries: Vec<(&Node, Vec<String>)> = Vec::new();
    let global = path.first().is_some_and(|p| p == "global");
    for doc in &tracer.user_docs {
        if global {
            tries.push((doc, path.to_vec()));
        }
        tries.push((doc, [prefix, path].concat()));
    }
    for (doc, at) in chain {
        let Some(doc) = doc else { continue };
        let rel = prefix.get(at.len()..).unwrap_or(&[]);
        if global {
            tries.push((doc, path.to_vec()));
        }
        tries.push((doc, [rel, path].concat()));
    }
    for (doc, p) in tries {
        let Some(node) = node_at(doc, &p) else {
            continue;
        };
        let same = match want {
            Json::Object(_) => node.as_map().is_some(),
            _ => floats(helm_json(node)) == *want,
        };
        if same {
            return Some(node.origin.clone());
        }
    }
    None
}

fn node_at<'a>(doc: &'a Node, path: &[String]) -> Option<&'a Node> {
    let mut cur = doc;
    for seg in path {
        cur = match &cur.value {
            yaml::Value::Map(m) => m
                .iter()
                .filter(|(k, _)| helm_key(k) == *seg)
                .map(|(_, v)| v)
                .last()?,
            yaml::Value::Seq(items) => items.get(seg.parse::<usize>().ok()?)?,
            yaml::Value::Scalar(_) => return None,
        };
    }
    Some(cur)
}

/// Helm removes `<no value>` from each rendered file: the same on `text`, moving recorded
/// offsets along.
pub(crate) fn strip_no_value(text: &str, rec: &mut Recorded) -> String {
    const NV: &str = "<no value>";
    let hits: Vec<usize> = text.match_indices(NV).map(|(i, _)| i).collect();
    if hits.is_empty() {
        return text.to_string();
    }
    let map = |old: usize| {
        let mut new = old;
        for &h in &hits {
            if h + NV.len() <= old {
                new -= NV.len();
            } else if h < old {
                new -= old - h;
            }
        }
        new
    };
    for r in &mut rec.ranges {
        r.start = map(r.start);
        r.end = map(r.end);
    }
    for s in &mut rec.segs {
        s.start = map(s.start);
        s.end = map(s.end);
    }
    rec.ranges.retain(|r| r.end > r.start);
    text.replace(NV, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use gotmpl::trace::{Seg, ValueRange};

    #[test]
    fn no_value_removal_moves_offsets() {
        let mut rec = Recorded {
            ranges: vec![ValueRange {
                start: 14,
                end: 16,
                origin: Origin::new("v".into(), 1, 1),
            }],
            segs: vec![Seg {
                start: 0,
                end: 16,
                file: "t".into(),
                text: "x".into(),
                pos: 0,
                literal: true,
            }],
        };
        let out = strip_no_value("a:<no value>\nb:cd", &mut rec);
        assert_eq!(out, "a:\nb:cd");
        assert_eq!((rec.ranges[0].start, rec.ranges[0].end), (4, 6));
        assert_eq!(rec.segs[0].end, 6);
    }
}
