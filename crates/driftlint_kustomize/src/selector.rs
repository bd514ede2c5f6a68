//! Patch target selection (kustomize `types.Selector` and `ResMap.Select`): group, version,
//! kind, name and namespace are anchored regular expressions; name and namespace match the
//! original or the current id; label and annotation selectors use the Kubernetes selector
//! syntax (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`).

use regex::Regex;

use driftlint_yaml::Origin;

use super::error::{KustomizeError, Result};
use super::kustfile::SelectorArgs;
use super::resmap::ResMap;
use super::resource::Resource;

/// One requirement of a label/annotation selector.
#[derive(Clone, Debug, PartialEq)]
enum Requirement {
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

impl Requirement {
    fn matches(&self, labels: &[(String, String)]) -> bool {
        let get = |k: &str| {
            labels
                .iter()
                .find(|(lk, _)| lk == k)
                .map(|(_, v)| v.as_str())
        };
        match self {
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
            Requirement::In(k, vs) => get(k).is_some_and(|v| vs.iter().any(|x| x == v)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|v| !vs.iter().any(|x| x == v)),
        }
    }
}

/// A parsed label selector; empty matches everything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelSelector {
    reqs: Vec<Requirement>,
}

impl LabelSelector {
    /// Parses the Kubernetes label-selector syntax.
    ///
    /// Errors: malformed requirements (unbalanced parentheses, empty keys, `>`/`<`).
    pub fn parse(s: &str, origin: &Origin) -> Result<LabelSelector> {
        let bad = |why: &str| {
            KustomizeError::invalid(format!("invalid selector \"{s}\": {why}"), Some(origin))
        };
        let mut reqs = Vec::new();
        for part in split_top_level(s).map_err(|w| bad(&w))? {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            reqs.push(parse_requirement(part).map_err(|w| bad(&w))?);
        }
        Ok(LabelSelector { reqs })
    }

    /// True when every requirement holds for `labels`.
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        self.reqs.iter().all(|r| r.matches(labels))
    }
}

fn split_top_level(s: &str) -> std::result::Result<Vec<String>, String> {
    let mut parts = vec![String::new()];
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return Err("unbalanced parentheses".into());
        }
        if c == ',' && depth == 0 {
            parts.push(String::new());
        } else if let Some(p) = parts.last_mut() {
            p.push(c);
        }
    }
    if depth != 0 {
        return Err("unbalanced parentheses".into());
    }
    Ok(parts)
}

fn parse_set(rest: &str) -> std::result::Result<Vec<String>, String> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or("expected a parenthesised set")?;
    Ok(inner.split(',').map(|v| v.trim().to_string()).collect())
}

fn valid_key(k: &str) -> std::result::Result<String, String> {
    let k = k.trim();
    if k.is_empty() || k.contains(char::is_whitespace) {
        return Err(format!("invalid key \"{k}\""));
    }
    Ok(k.to_string())
}

fn parse_requirement(part: &str) -> std::result::Result<Requirement, String> {
    if let Some(k) = part.strip_prefix('!') {
        return Ok(Requirement::NotExists(valid_key(k)?));
    }
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(Requirement::NotIn(
            valid_key(k)?,
            vec![v.trim().to_string()],
        ));
    }
    if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Ok(Requirement::In(valid_key(k)?, vec![v.trim().to_string()]));
    }
    if part.contains('>') || part.contains('<') {
        return Err("numeric comparisons are not supported".into());
    }
    let words: Vec<&str> = part.split_whitespace().collect();
    match words.as_slice() {
        [k] => Ok(Requirement::Exists(valid_key(k)?)),
        [k, op, ..] if *op == "in" || *op == "notin" => {
            let rest = part
                .trim_start()
                .strip_prefix(k)
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix(op))
                .unwrap_or("");
            let set = parse_set(rest)?;
            let key = valid_key(k)?;
            Ok(if *op == "in" {
                Requirement::In(key, set)
            } else {
                Requirement::NotIn(key, set)
            })
        }
        _ => Err(format!("cannot parse requirement \"{part}\"")),
    }
}

/// A compiled selector.
pub struct Selector {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: LabelSelector,
    annotations: LabelSelector,
}

fn anchored(s: &str, origin: &Origin) -> Result<Option<Regex>> {
    if s.is_empty() {
        return Ok(None);
    }
    Regex::new(&format!("^(?:{s})$")).map(Some).map_err(|e| {
        KustomizeError::invalid(format!("invalid selector regex {s:?}: {e}"), Some(origin))
    })
}

impl Selector {
    /// Compiles `args`.
    ///
    /// Errors: invalid regular expressions or selector syntax.
    pub fn compile(args: &SelectorArgs, origin: &Origin) -> Result<Selector> {
        Ok(Selector {
            group: anchored(&args.group, origin)?,
            version: anchored(&args.version, origin)?,
            kind: anchored(&args.kind, origin)?,
            name: anchored(&args.name, origin)?,
            namespace: anchored(&args.namespace, origin)?,
            labels: LabelSelector::parse(&args.label_selector, origin)?,
            annotations: LabelSelector::parse(&args.annotation_selector, origin)?,
        })
    }

    /// True when `res` is selected (kustomize `resWrangler.Select`).
    pub fn matches(&self, res: &Resource) -> bool {
        let is = |re: &Option<Regex>, s: &str| re.as_ref().is_none_or(|r| r.is_match(s));
        let cur = res.cur_id();
        let org = res.org_id();
        if !is(&self.namespace, org.effective_namespace())
            && !is(&self.namespace, cur.effective_namespace())
        {
            return false;
        }
        if !is(&self.name, &org.name) && !is(&self.name, &cur.name) {
            return false;
        }
        let gvk = res.gvk();
        is(&self.group, &gvk.group)
            && is(&self.version, &gvk.version)
            && is(&self.kind, &gvk.kind)
            && self.labels.matches(&res.labels())
            && self.annotations.matches(&res.annotations())
    }

    /// Indexes of the selected objects of `m`, in order.
    pub fn select(&self, m: &ResMap) -> Vec<usize> {
        m.list()
            .iter()
            .enumerate()
            .filter(|(_, r)| self.matches(r))
            .map(|(i, _)| i)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::parse_documents;

    fn o() -> Origin {
        Origin::new("k.yaml".into(), 1, 1)
    }

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selector_syntax() {
        let s =
            LabelSelector::parse("app=web, tier in (a, b),!legacy,env!=prod", &o()).expect("ok");
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "b")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "c")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "a"), ("legacy", "")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "a"), ("env", "prod")])));
        assert!(LabelSelector::parse("a in (b", &o()).is_err());
        assert!(LabelSelector::parse("a > 3", &o()).is_err());
        assert!(LabelSelector::parse("", &o()).expect("empty").matches(&[]));
    }

    #[test]
    fn regex_fields_are_anchored() {
        let r = Resource::new(
            parse_documents(
                "r".into(),
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-1\n",
            )
            .expect("parses")
            .remove(0),
        );
        let sel = |name: &str, kind: &str| {
            Selector::compile(
                &SelectorArgs {
                    name: name.into(),
                    kind: kind.into(),
                    ..SelectorArgs::default()
                },
                &o(),
            )
            .expect("compiles")
        };
        assert!(sel("web-.*", "Deployment").matches(&r));
        assert!(!sel("web", "").matches(&r));
        assert!(!sel("", "Deploy").matches(&r));
        let ns = Selector::compile(
            &SelectorArgs {
                namespace: "default".into(),
                ..SelectorArgs::default()
            },
            &o(),
        )
        .expect("compiles");
        assert!(ns.matches(&r));
    }
}
