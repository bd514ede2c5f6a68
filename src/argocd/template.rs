//! ApplicationSet templates rendered as the applicationset-controller renders them
//! (argo-cd `applicationset/utils`, `Render.RenderTemplateParams`): every string value and
//! map key of the template is rendered with one generator's parameters, either by
//! fasttemplate (`{{ path.basename }}`: a tag whose trimmed name is a string parameter is
//! replaced, any other tag is kept as written) or, with `goTemplate: true`, as a Go template
//! with Sprig (`missingkey` from `goTemplateOptions`) through our `gotmpl` engine.

use std::sync::Arc;

use driftlint_yaml::{Node, Value};
use gotmpl::sprig::{sprig_funcs_with, FuncOptions, S};
use gotmpl::{FuncMap, Function, MissingKey, Templates};
use serde_json::{Map, Value as Json};

/// Bytes a rendered template may hold (a hostile generator cannot amplify one template into
/// gigabytes).
const MAX_RENDERED_BYTES: usize = 16 << 20;

/// One generator's parameters: flat `path.basename` keys for fasttemplate, nested maps for
/// Go templates.
pub(crate) type Params = Map<String, Json>;

/// How an ApplicationSet renders its templates.
pub(crate) struct Engine {
    go: Option<(Arc<FuncMap>, MissingKey)>,
}

impl Engine {
    /// fasttemplate, or (with `go_template`) Go templates with `options`
    /// (`missingkey=error|zero|default|invalid`).
    ///
    /// Errors: an option Go's `template.Option` refuses, worded as it panics.
    pub(crate) fn new(go_template: bool, options: &[String]) -> Result<Engine, String> {
        if !go_template {
            return Ok(Engine { go: None });
        }
        let mut missing = MissingKey::Default;
        for o in options {
            missing = match o.as_str() {
                "missingkey=error" => MissingKey::Error,
                "missingkey=zero" => MissingKey::Zero,
                "missingkey=default" | "missingkey=invalid" => MissingKey::Default,
                other => return Err(format!("unrecognized option: {other}")),
            };
        }
        Ok(Engine {
            go: Some((Arc::new(funcs()), missing)),
        })
    }

    /// True for Go templates.
    pub(crate) fn is_go(&self) -> bool {
        self.go.is_some()
    }

    /// Renders one string with `params`.
    ///
    /// Errors: a Go template parse or execution error (Go's wording), an output over the budget.
    pub(crate) fn render_str(&self, text: &str, params: &Params) -> Result<String, String> {
        if !text.contains("{{") {
            return Ok(text.to_string());
        }
        let out = match &self.go {
            None => fasttemplate(text, params),
            Some((funcs, missing)) => {
                let mut t = Templates::with_funcs("", funcs.clone());
                t.set_missing_key(*missing);
                t.parse("", text).map_err(|e| e.to_string())?;
                let data = gotmpl::Value::from(&Json::Object(params.clone()));
                t.execute("", &data).map_err(|e| e.to_string())?
            }
        };
        if out.len() > MAX_RENDERED_BYTES {
            return Err("a rendered template value exceeds 16 MiB (driftlint's budget)".into());
        }
        Ok(out)
    }

    /// Renders every string value and map key of `node` (a copy).
    ///
    /// Errors: as [`Engine::render_str`], with the origin of the value.
    pub(crate) fn render(
        &self,
        node: &Node,
        params: &Params,
    ) -> Result<Node, (String, driftlint_yaml::Origin)> {
        let mut out = node.clone();
        self.render_in_place(&mut out, params)?;
        Ok(out)
    }

    fn render_in_place(
        &self,
        node: &mut Node,
        params: &Params,
    ) -> Result<(), (String, driftlint_yaml::Origin)> {
        let at = node.origin.clone();
        match &mut node.value {
            Value::Scalar(s) => {
                if s.text.contains("{{") {
                    let text = self.render_str(&s.text, params).map_err(|e| (e, at))?;
                    *node = Node::string(text, node.origin.clone());
                }
            }
            Value::Seq(items) => {
                for i in items.iter_mut() {
                    self.render_in_place(i, params)?;
                }
            }
            Value::Map(m) => {
                for (k, v) in m.entries_mut().iter_mut() {
                    self.render_in_place(k, params)?;
                    self.render_in_place(v, params)?;
                }
            }
        }
        Ok(())
    }
}

/// fasttemplate with Argo CD's tag function: `{{ name }}` becomes the string parameter
/// `name` (trimmed); anything else stays as written.
fn fasttemplate(text: &str, params: &Params) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let tag = &after[..end];
        match params.get(tag.trim()) {
            Some(Json::String(v)) if !tag.trim().is_empty() => out.push_str(v),
            _ => {
                out.push_str("{{");
                out.push_str(tag);
                out.push_str("}}");
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Sprig with the functions Argo CD adds (`normalize`); the clock and randomness as Sprig's.
fn funcs() -> FuncMap {
    let mut m = sprig_funcs_with(&FuncOptions::default());
    m.insert(
        "normalize",
        Function::new(&[S], None, |_, a| {
            let s = a.first().map(|v| v.to_string()).unwrap_or_default();
            Ok(sanitize_name(&s).into())
        }),
    );
    m
}

/// Argo CD's `utils.SanitizeName`: lower case, characters outside `[-a-z0-9.]` replaced by
/// `-`, at most 253 bytes, leading and trailing `-`/`.` trimmed.
pub(crate) fn sanitize_name(name: &str) -> String {
    let mut s: String = name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.len() > 253 {
        let mut cut = 253;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s.trim_matches(|c| c == '-' || c == '.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Json::String(v.to_string())))
            .collect()
    }

    #[test]
    fn fasttemplate_replaces_known_string_tags_and_keeps_others() {
        let p = params(&[("path", "a/b"), ("path.basename", "b")]);
        assert_eq!(
            fasttemplate("x-{{ path.basename }}-{{path}}-{{nope}}-{{", &p),
            "x-b-a/b-{{nope}}-{{"
        );
    }

    #[test]
    fn go_templates_see_nested_params_and_sprig() {
        let e = Engine::new(true, &["missingkey=error".into()]).unwrap();
        let mut p = Params::new();
        p.insert("path".into(), serde_json::json!({"basename": "My_App"}));
        let out = e
            .render_str("{{ .path.basename | normalize }}-{{ upper \"x\" }}", &p)
            .unwrap();
        assert_eq!(out, "my-app-X");
        let err = e.render_str("{{ .nope }}", &p).unwrap_err();
        assert!(err.contains("map has no entry for key"), "{err}");
    }

    #[test]
    fn sanitize_name_as_argo_cd() {
        assert_eq!(sanitize_name("-Foo_Bar.baz-"), "foo-bar.baz");
    }
}
