//! Flux's post-build variable substitution (kustomize-controller `postBuild`, through
//! fluxcd/pkg/envsubst), applied to the scalars of rendered objects so every value keeps the
//! origin of what supplied it.
//!
//! Syntax, as the fluxcd/pkg fork of drone/envsubst reads it: `${var}`; `${var:=default}` and
//! `${var:-default}` (default when unset or empty; the default may hold further `${...}`);
//! `${var=default}`/`${var-default}` (default when unset: in Flux's non-strict mode every
//! variable counts as set, so the default never applies); `${var^}`, `${var^^}`, `${var,}`,
//! `${var,,}` (case), `${#var}` (length), `${var:offset}`, `${var:offset:length}`; `$$` is a
//! literal `$` (so `$${var}` leaves `${var}` for a later substitution). A bare `$var` is text.
//! Pattern functions (`${var#p}`, `${var%p}`, `${var/p/r}`) are refused as unsupported.
//! An unset variable becomes the empty string, as in Flux's default (non-strict) mode,
//! unless some variable source is unknown ([`Vars::opaque`]): then its placeholder is kept
//! verbatim, as an opaque value that schema validation and rules treat as unknown.

use std::collections::BTreeMap;

use driftlint_yaml::{Node, Origin, ScalarStyle, Value};

/// Variables of one Flux Kustomization, with where each value was written.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vars {
    /// Name -> (value, origin of the value).
    pub(crate) known: BTreeMap<String, (String, Origin)>,
    /// True when some `substituteFrom` source is not in the repository or not readable (a
    /// SOPS-encrypted Secret, a ConfigMap made in the cluster): an unset variable may be set
    /// there, so its placeholder stays.
    pub(crate) opaque: bool,
}

/// Why a value cannot be substituted (Flux: `envsubst error: variable substitution failed`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SubstError {
    /// `${` with no closing `}`, an empty name or a malformed function.
    #[error("variable substitution failed: {0}")]
    Bad(&'static str),
    /// A function Flux supports but driftlint does not evaluate.
    #[error("variable substitution function `{0}` is not supported by driftlint")]
    Unsupported(String),
    /// Over one of driftlint's budgets (output bytes of a unit, nesting of defaults).
    #[error("variable substitution stopped: {0} (driftlint's budget)")]
    Budget(&'static str),
    /// The text of a substituted plain scalar is not one YAML value (Flux: `YAMLToJSON`).
    #[error("YAMLToJSON: substituted value {0:?} is not one YAML value")]
    Structure(String),
}

/// The result of substituting one string.
struct Expanded {
    text: String,
    /// The first variable whose value was used.
    first: Option<String>,
}

impl Vars {
    /// True when there is anything to substitute with (Flux skips substitution entirely
    /// when no variable is defined; with an unknown source it may not be).
    pub(crate) fn active(&self) -> bool {
        !self.known.is_empty() || self.opaque
    }

    /// Substitutes every key and scalar of `obj` in place. A changed scalar takes the origin
    /// of the first variable's value, with `via` naming the placeholder's position. Each
    /// changed scalar's new text is charged to `budget` (bytes left for the unit).
    ///
    /// Errors: the first [`SubstError`], with the origin of the scalar holding it;
    /// [`SubstError::Budget`] when the substituted text outgrows `budget`.
    pub(crate) fn apply(
        &self,
        obj: &mut Node,
        budget: &mut u64,
    ) -> Result<(), (SubstError, Origin)> {
        match &mut obj.value {
            Value::Scalar(s) => {
                if !s.text.contains('$') {
                    return Ok(());
                }
                let e = self.expand(&s.text).map_err(|e| (e, obj.origin.clone()))?;
                if e.text == s.text {
                    return Ok(());
                }
                *budget = budget.checked_sub(e.text.len() as u64).ok_or_else(|| {
                    (
                        SubstError::Budget("the unit's substituted values exceed 64 MiB"),
                        obj.origin.clone(),
                    )
                })?;
                let reread =
                    s.style == ScalarStyle::Plain && s.tag.is_none() && !s.text.contains('\n');
                let at = obj.origin.clone();
                let origin = match e.first.as_ref().and_then(|v| self.known.get(v)) {
                    Some((_, value_at)) => value_at
                        .clone()
                        .with_via(format!("substituted at {}:{}", at.file, at.line)),
                    None => at.clone(),
                };
                if reread {
                    let mut node = reread_plain(&e.text)
                        .ok_or_else(|| (SubstError::Structure(e.text.clone()), at.clone()))?;
                    node.set_origin_deep(&origin);
                    *obj = node;
                } else {
                    s.text = e.text;
                    obj.origin = origin;
                }
                Ok(())
            }
            Value::Seq(items) => items.iter_mut().try_for_each(|i| self.apply(i, budget)),
            Value::Map(m) => m.entries_mut().iter_mut().try_for_each(|(k, v)| {
                self.apply(k, budget)?;
                self.apply(v, budget)
            }),
        }
    }

    fn expand(&self, text: &str) -> Result<Expanded, SubstError> {
        let mut p = Parser {
            chars: text.chars().collect(),
            pos: 0,
            vars: self,
            first: None,
            depth: 0,
        };
        let text = p.text(None)?;
        Ok(Expanded {
            text,
            first: p.first,
        })
    }
}

/// What Flux reads back from a plain scalar whose text became `text` (the resource is
/// substituted as YAML text and parsed again): `"x"` is the string `x`, `3` an integer,
/// `{a: 1}` a mapping. `None` when it is not one YAML value (Flux fails with `YAMLToJSON`).
fn reread_plain(text: &str) -> Option<Node> {
    let doc = format!("v: {text}\n");
    let mut docs = driftlint_yaml::parse_documents("<substituted>".into(), &doc).ok()?;
    let mut root = docs.pop()?;
    if !docs.is_empty() {
        return None;
    }
    let map = root.as_map_mut()?;
    if map.len() != 1 {
        return None;
    }
    map.remove("v")
}

/// How deeply defaults may nest (`${a:=${b:=${c}}}` is 3).
const MAX_NESTING: usize = 64;

struct Parser<'v> {
    chars: Vec<char>,
    pos: usize,
    vars: &'v Vars,
    first: Option<String>,
    /// Defaults being read, one inside the other.
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn at(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.chars.get(self.pos + i) == Some(&c))
    }

    /// Text up to the end, or up to `stop` (the closing `}` of a default) at depth 0.
    fn text(&mut self, stop: Option<char>) -> Result<String, SubstError> {
        if stop.is_some() {
            self.depth += 1;
            if self.depth > MAX_NESTING {
                return Err(SubstError::Budget("defaults nested more than 64 deep"));
            }
        }
        let out = self.text_inner(stop);
        if stop.is_some() {
            self.depth -= 1;
        }
        out
    }

    fn text_inner(&mut self, stop: Option<char>) -> Result<String, SubstError> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                return Ok(out);
            }
            if self.at("$$") {
                out.push('$');
                self.pos += 2;
            } else if self.at("${") {
                let start = self.pos;
                self.pos += 2;
                let value = self.expression()?;
                match value {
                    Some(v) => out.push_str(&v),
                    None => out.extend(&self.chars[start..self.pos]),
                }
            } else {
                out.push(c);
                self.pos += 1;
            }
        }
        match stop {
            Some(_) => Err(SubstError::Bad("missing closing brace")),
            None => Ok(out),
        }
    }

    /// After `${`: evaluates up to and including the closing `}`. `None` keeps the
    /// placeholder (an unknown variable while a source is opaque).
    fn expression(&mut self) -> Result<Option<String>, SubstError> {
        if self.peek() == Some('#') {
            self.pos += 1;
            let name = self.name()?;
            self.close()?;
            return Ok(self.lookup(&name).map(|v| v.chars().count().to_string()));
        }
        let name = self.name()?;
        let value = self.lookup(&name);
        let op: String = self.chars[self.pos..].iter().take(2).collect::<String>();
        if op.is_empty() {
            return Err(SubstError::Bad("missing closing brace"));
        }
        if op.starts_with('}') {
            self.pos += 1;
            return Ok(value);
        }
        if op == ":=" || op == ":-" {
            self.pos += 2;
            let default = self.text(Some('}'))?;
            self.pos += 1;
            return Ok(match value {
                Some(v) if !v.is_empty() => Some(v),
                Some(_) => Some(default),
                None => None,
            });
        }
        if op.starts_with('=') || op.starts_with('-') {
            self.pos += 1;
            self.text(Some('}'))?;
            self.pos += 1;
            return Ok(value);
        }
        if op == "^^" || op == ",," {
            self.pos += 2;
            self.close()?;
            return Ok(value.map(|v| case_all(&v, op == "^^")));
        }
        if op.starts_with('^') || op.starts_with(',') {
            self.pos += 1;
            self.close()?;
            return Ok(value.map(|v| case_first(&v, op.starts_with('^'))));
        }
        if op.starts_with(':') {
            self.pos += 1;
            let spec = self.text(Some('}'))?;
            self.pos += 1;
            return substring(value, &spec).map_err(|_| SubstError::Bad("bad substitution"));
        }
        let rest: String = self.chars[self.pos..]
            .iter()
            .take_while(|c| **c != '}')
            .collect();
        Err(SubstError::Unsupported(format!("${{{name}{rest}}}")))
    }

    fn name(&mut self) -> Result<String, SubstError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(SubstError::Bad("unable to parse variable name"));
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    fn close(&mut self) -> Result<(), SubstError> {
        if self.peek() == Some('}') {
            self.pos += 1;
            Ok(())
        } else {
            Err(SubstError::Bad("bad substitution"))
        }
    }

    /// The value of `name`: known, else empty (Flux non-strict), else `None` when a source
    /// is opaque.
    fn lookup(&mut self, name: &str) -> Option<String> {
        match self.vars.known.get(name) {
            Some((v, _)) => {
                self.first.get_or_insert_with(|| name.to_string());
                Some(v.clone())
            }
            None if self.vars.opaque => None,
            None => Some(String::new()),
        }
    }
}

fn case_all(v: &str, upper: bool) -> String {
    if upper {
        v.to_uppercase()
    } else {
        v.to_lowercase()
    }
}

fn case_first(v: &str, upper: bool) -> String {
    let mut chars = v.chars();
    match chars.next() {
        Some(c) => case_all(&c.to_string(), upper) + chars.as_str(),
        None => String::new(),
    }
}

/// `${var:offset}` / `${var:offset:length}` on characters, as the fork does (a negative or
/// out-of-range offset clamps).
fn substring(value: Option<String>, spec: &str) -> Result<Option<String>, ()> {
    let Some(v) = value else { return Ok(None) };
    let mut parts = spec.splitn(2, ':');
    let offset: i64 = parts.next().unwrap_or("").trim().parse().map_err(|_| ())?;
    let chars: Vec<char> = v.chars().collect();
    let len = chars.len() as i64;
    let start = if offset < 0 {
        (len + offset).max(0)
    } else {
        offset.min(len)
    } as usize;
    let end = match parts.next() {
        Some(l) => {
            let l: i64 = l.trim().parse().map_err(|_| ())?;
            (start as i64 + l.max(0)).min(len) as usize
        }
        None => chars.len(),
    };
    Ok(Some(chars[start..end.max(start)].iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)], opaque: bool) -> Vars {
        Vars {
            known: pairs
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        (v.to_string(), Origin::new("ks.yaml".into(), 7, 5)),
                    )
                })
                .collect(),
            opaque,
        }
    }

    /// A budget no test value reaches.
    fn unlimited() -> u64 {
        u64::MAX
    }

    fn expand(text: &str, v: &Vars) -> Result<String, SubstError> {
        v.expand(text).map(|e| e.text)
    }

    #[test]
    fn flux_syntax() {
        let v = vars(&[("APP", "web"), ("EMPTY", "")], false);
        assert_eq!(expand("${APP}", &v).unwrap(), "web");
        assert_eq!(expand("x-${APP}-y", &v).unwrap(), "x-web-y");
        assert_eq!(expand("${MISSING}", &v).unwrap(), "");
        assert_eq!(expand("${MISSING:=dflt}", &v).unwrap(), "dflt");
        assert_eq!(expand("${EMPTY:-dflt}", &v).unwrap(), "dflt");
        assert_eq!(expand("${APP:=dflt}", &v).unwrap(), "web");
        assert_eq!(expand("${MISSING:=${APP}}", &v).unwrap(), "web");
        assert_eq!(expand("${MISSING=dflt}", &v).unwrap(), "");
        assert_eq!(expand("$${APP}", &v).unwrap(), "${APP}");
        assert_eq!(expand("a$$b", &v).unwrap(), "a$b");
        assert_eq!(expand("$APP $ x", &v).unwrap(), "$APP $ x");
        assert_eq!(expand("${APP^^}", &v).unwrap(), "WEB");
        assert_eq!(expand("${APP^}", &v).unwrap(), "Web");
        assert_eq!(expand("${#APP}", &v).unwrap(), "3");
        assert_eq!(expand("${APP:1}", &v).unwrap(), "eb");
        assert_eq!(expand("${APP:0:2}", &v).unwrap(), "we");
    }

    #[test]
    fn errors() {
        let v = vars(&[("APP", "web")], false);
        assert_eq!(
            expand("${APP", &v),
            Err(SubstError::Bad("missing closing brace"))
        );
        assert_eq!(
            expand("${}", &v),
            Err(SubstError::Bad("unable to parse variable name"))
        );
        assert!(matches!(
            expand("${APP/w/v}", &v),
            Err(SubstError::Unsupported(_))
        ));
    }

    #[test]
    fn opaque_sources_keep_unknown_placeholders() {
        let v = vars(&[("APP", "web")], true);
        assert_eq!(expand("${APP}.${DOMAIN}", &v).unwrap(), "web.${DOMAIN}");
        assert_eq!(expand("${DOMAIN:=x}", &v).unwrap(), "${DOMAIN:=x}");
    }

    #[test]
    fn a_substituted_scalar_points_at_the_value() {
        let v = vars(&[("REPLICAS", "3")], false);
        let mut doc = driftlint_yaml::parse_documents(
            "d.yaml".into(),
            "spec:\n  replicas: ${REPLICAS}\n  q: \"${REPLICAS}\"\n",
        )
        .unwrap()
        .remove(0);
        v.apply(&mut doc, &mut unlimited()).unwrap();
        let r = doc.get_path(&["spec", "replicas"]).unwrap();
        assert_eq!(r.origin.line, 7);
        assert_eq!(r.origin.via.as_deref(), Some("substituted at d.yaml:2"));
        assert_eq!(doc.to_json()["spec"]["replicas"], serde_json::json!(3));
        assert_eq!(doc.to_json()["spec"]["q"], serde_json::json!("3"));
    }

    #[test]
    fn structure_changing_values_are_refused() {
        let v = vars(&[("X", "a: b")], false);
        let mut doc = driftlint_yaml::parse_documents("d.yaml".into(), "k: ${X}\n")
            .unwrap()
            .remove(0);
        assert!(matches!(
            v.apply(&mut doc, &mut unlimited()),
            Err((SubstError::Structure(_), _))
        ));
    }

    #[test]
    fn a_plain_scalar_is_read_again_as_flux_reads_the_substituted_text() {
        let v = vars(&[("APP", "web")], false);
        let text = "a: ${CLIENT:-\"${APP}\"}\nc: \"${MISSING:-[1]}\"\nd: ${MISSING:-[1, 2]}\n";
        let mut doc = driftlint_yaml::parse_documents("d.yaml".into(), text)
            .unwrap()
            .remove(0);
        v.apply(&mut doc, &mut unlimited()).unwrap();
        assert_eq!(
            doc.to_json(),
            serde_json::json!({"a": "web", "c": "[1]", "d": [1, 2]})
        );
    }
}
