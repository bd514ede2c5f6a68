//! `images:` (kustomize ImageTagTransformer): rewrites container images whose name matches.
//!
//! As kustomize, two passes run per entry: the legacy one updates `image` in every
//! `containers`/`initContainers` field at any depth of any object, then the field-spec one
//! updates `spec[/template/spec]/{containers,initContainers}[]/image` and image volume
//! references (CustomResourceDefinitions excluded).

use regex::Regex;

use driftlint_yaml::{Node, Origin, Value};

use super::error::Result;
use super::fieldspec::{self, Create, FieldSpec};
use super::kustfile::ImageArgs;
use super::nodeutil::{scalar_str, string_node};
use super::resmap::ResMap;

/// Splits `name[:tag][@digest]`, ignoring colons in a registry host (kustomize
/// `image.Split`).
pub fn split(image: &str) -> (String, String, String) {
    let slash = image.find('/').filter(|i| *i > 0).unwrap_or(0);
    let search = &image[slash..];
    let at = search.find('@').map(|i| i + slash);
    let colon = search.find(':').map(|i| i + slash);
    match (colon, at) {
        (None, None) => (image.to_string(), String::new(), String::new()),
        (c, Some(a)) if c.is_none_or(|c| a < c) => (
            image[..a].to_string(),
            String::new(),
            image[a + 1..].to_string(),
        ),
        (Some(c), Some(a)) => (
            image[..c].to_string(),
            image[c + 1..a].to_string(),
            image[a + 1..].to_string(),
        ),
        (Some(c), None) => (
            image[..c].to_string(),
            image[c + 1..].to_string(),
            String::new(),
        ),
        (None, Some(_)) => (image.to_string(), String::new(), String::new()),
    }
}

/// One compiled `images` entry.
struct Updater<'a> {
    args: &'a ImageArgs,
    pattern: Option<Regex>,
    origin: Origin,
}

impl<'a> Updater<'a> {
    fn new(args: &'a ImageArgs) -> Self {
        // kustomize `image.IsImageMatched`: the name is used as a regular expression.
        let pattern = Regex::new(&format!(
            "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$",
            args.name
        ))
        .ok();
        let origin = args
            .new_tag
            .as_ref()
            .or(args.digest.as_ref())
            .or(args.new_name.as_ref())
            .or(args.tag_suffix.as_ref())
            .map(|s| s.origin.clone())
            .unwrap_or_else(|| args.origin.clone())
            .with_via("images transformer");
        Updater {
            args,
            pattern,
            origin,
        }
    }

    fn updated(&self, value: &str) -> Option<String> {
        if !self.pattern.as_ref().is_some_and(|p| p.is_match(value)) {
            return None;
        }
        let (mut name, mut tag, mut digest) = split(value);
        let a = self.args;
        if let Some(n) = &a.new_name {
            name = n.value.clone();
        }
        match (&a.new_tag, &a.digest) {
            (Some(t), Some(d)) => {
                tag = t.value.clone();
                digest = d.value.clone();
            }
            (Some(t), None) => {
                tag = t.value.clone();
                digest.clear();
            }
            (None, Some(d)) => {
                tag.clear();
                digest = d.value.clone();
            }
            (None, None) => {
                if let Some(s) = &a.tag_suffix {
                    tag.push_str(&s.value);
                }
            }
        }
        if !tag.is_empty() {
            name = format!("{name}:{tag}");
        }
        if !digest.is_empty() {
            name = format!("{name}@{digest}");
        }
        Some(name)
    }

    /// An entry naming no new name, tag, digest or suffix leaves images as they are, so
    /// they keep their own origin.
    fn is_noop(&self) -> bool {
        let a = self.args;
        a.new_name.is_none() && a.new_tag.is_none() && a.digest.is_none() && a.tag_suffix.is_none()
    }

    fn set(&self, n: &mut Node) {
        if self.is_noop() && n.as_str().is_some() {
            return;
        }
        if let Some(new) = scalar_str(n).and_then(|v| self.updated(v)) {
            *n = string_node(&new, &self.origin);
        }
    }

    fn update_container(&self, c: &mut Node) {
        if let Some(image) = c.get_mut("image") {
            self.set(image);
        }
    }

    /// kustomize's legacy filter: every `containers`/`initContainers` field, any depth.
    fn legacy(&self, n: &mut Node) {
        match &mut n.value {
            Value::Seq(items) => items.iter_mut().for_each(|i| self.legacy(i)),
            Value::Map(m) => {
                for (k, v) in m.iter_mut() {
                    self.legacy(v);
                    let key = k.as_scalar().map(|s| s.text.as_str());
                    if matches!(key, Some("containers") | Some("initContainers")) {
                        match &mut v.value {
                            Value::Seq(items) => {
                                items.iter_mut().for_each(|c| self.update_container(c))
                            }
                            Value::Map(_) => self.update_container(v),
                            Value::Scalar(_) => {}
                        }
                    }
                }
            }
            Value::Scalar(_) => {}
        }
    }
}

/// Applies one `images` entry to every object of `m`.
///
/// Errors: a field-spec path crossing a scalar.
#[cfg(test)]
pub fn apply(m: &mut ResMap, args: &ImageArgs) -> Result<()> {
    apply_with(m, args, &super::builtin_specs::images())
}

/// Applies one image rule with explicit field specs (an ImageTagTransformer config).
///
/// Errors: a field-spec path crossing a scalar.
pub fn apply_with(m: &mut ResMap, args: &ImageArgs, specs: &[FieldSpec]) -> Result<()> {
    let u = Updater::new(args);
    for res in m.list_mut() {
        u.legacy(&mut res.node);
        if res.kind() == "CustomResourceDefinition" {
            continue;
        }
        for fs in specs {
            fieldspec::apply(
                &mut res.node,
                fs,
                Create::Nothing,
                &u.origin,
                &mut |n: &mut Node| {
                    u.set(n);
                    Ok(())
                },
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Spanned;
    use crate::resource::Resource;
    use driftlint_yaml::parse_documents;

    #[test]
    fn splits_like_kustomize() {
        let s = |i: &str| split(i);
        assert_eq!(s("nginx"), ("nginx".into(), "".into(), "".into()));
        assert_eq!(s("nginx:1.2"), ("nginx".into(), "1.2".into(), "".into()));
        assert_eq!(
            s("nginx@sha256:ab"),
            ("nginx".into(), "".into(), "sha256:ab".into())
        );
        assert_eq!(
            s("nginx:1@sha256:ab"),
            ("nginx".into(), "1".into(), "sha256:ab".into())
        );
        assert_eq!(
            s("localhost:5000/nginx"),
            ("localhost:5000/nginx".into(), "".into(), "".into())
        );
        assert_eq!(
            s("localhost:5000/nginx:v"),
            ("localhost:5000/nginx".into(), "v".into(), "".into())
        );
    }

    fn img(
        name: &str,
        tag: Option<&str>,
        new_name: Option<&str>,
        digest: Option<&str>,
    ) -> ImageArgs {
        let o = Origin::new("k.yaml".into(), 5, 11);
        let sp = |v: Option<&str>| v.map(|v| Spanned::new(v.to_string(), o.clone()));
        ImageArgs {
            name: name.into(),
            new_name: sp(new_name),
            new_tag: sp(tag),
            digest: sp(digest),
            tag_suffix: None,
            origin: o.clone(),
        }
    }

    #[test]
    fn rewrites_matching_images_anywhere() {
        let mut m = ResMap::new();
        let src = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - image: nginx@sha256:abc\n  - image: nginxx\n  - image: docker.io/nginx:1\n  initContainers:\n  - image: nginx\n---\napiVersion: x/v1\nkind: Foo\nmetadata:\n  name: f\nspec:\n  deep:\n    containers:\n      image: nginx:1\n";
        for d in parse_documents("r.yaml".into(), src).expect("parses") {
            m.append(Resource::new(d), None).expect("unique");
        }
        apply(&mut m, &img("nginx", Some("2"), None, None)).expect("applies");
        apply(
            &mut m,
            &img("docker.io/nginx", None, Some("foo/bar"), Some("sha256:1")),
        )
        .expect("applies");
        let p = m.list()[0].node.to_json();
        assert_eq!(p["spec"]["containers"][0]["image"], "nginx:2");
        assert_eq!(p["spec"]["containers"][1]["image"], "nginxx");
        assert_eq!(p["spec"]["containers"][2]["image"], "foo/bar@sha256:1");
        assert_eq!(p["spec"]["initContainers"][0]["image"], "nginx:2");
        let f = m.list()[1].node.to_json();
        assert_eq!(f["spec"]["deep"]["containers"]["image"], "nginx:2");
        let via = m.list()[0]
            .node
            .get_path(&["spec", "initContainers"])
            .and_then(|c| c.as_seq())
            .and_then(|c| c[0].get("image"))
            .and_then(|i| i.origin.via.clone());
        assert_eq!(via.as_deref(), Some("images transformer"));
    }

    #[test]
    fn an_entry_without_changes_keeps_the_image_origin() {
        let mut m = ResMap::new();
        let src = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - image: nginx:1\n";
        for d in parse_documents("r.yaml".into(), src).expect("parses") {
            m.append(Resource::new(d), None).expect("unique");
        }
        apply(&mut m, &img("nginx", None, None, None)).expect("applies");
        let image = m.list()[0]
            .node
            .get_path(&["spec", "containers"])
            .and_then(|c| c.as_seq())
            .and_then(|c| c[0].get("image"))
            .cloned();
        let o = image.map(|i| (i.as_str().map(String::from), i.origin));
        let (text, origin) = o.expect("image");
        assert_eq!(text.as_deref(), Some("nginx:1"));
        assert_eq!((origin.line, origin.via), (7, None));
    }
}
