//! `crds:` (kustomize `accumulator.LoadConfigFromCRDs`): files of OpenAPI definitions
//! (`{TYPE NAME: {Schema: {properties: ...}}}`, JSON or YAML) whose `x-kubernetes-*`
//! extensions teach the transformers about custom types:
//!
//! - `x-kubernetes-annotation` on a property: `commonAnnotations` also sets that field;
//! - `x-kubernetes-label-selector`: `commonLabels` also sets it;
//! - `x-kubernetes-identity`: `namePrefix` also prefixes it;
//! - `x-kubernetes-object-ref-api-version` with `x-kubernetes-object-ref-kind` (and
//!   optionally `x-kubernetes-object-ref-name-key`, default `name`): the property refers to
//!   an object of that kind by name, so renames are followed (a name-reference spec).
//!
//! As kustomize: only definitions whose properties include `kind`, `apiVersion` and
//! `metadata` are roots; the field specs apply to the kind named by the definition name's
//! last dotted part (any group and version); `$ref` properties are followed by exact type
//! name; extension keys are matched in lower case and only string values count; the
//! definition's schema key is matched case-insensitively (Go's `encoding/json`).

use std::collections::HashSet;
use std::path::Path;

use driftlint_yaml::{parse_file, Mapping, Node};

use super::config::TransformerConfig;
use super::decode::Spanned;
use super::error::{KustomizeError, Result};
use super::fieldspec::{BackRef, FieldSpec};
use super::loader::{display, Loader};
use super::nodeutil::is_null;
use super::resid::Gvk;

/// Loads every `crds:` file of the kustomization in `dir` into one configuration (to be
/// merged into the accumulated one).
///
/// Errors: unreadable or escaping files, malformed YAML/JSON, a file that is not a map of
/// definitions (kustomize: "unable to parse open API definition from FILE"), `$ref`
/// cycles (kustomize recurses forever on them), conflicting field specs.
pub fn load(loader: &Loader, dir: &Path, entries: &[Spanned<String>]) -> Result<TransformerConfig> {
    let mut tc = TransformerConfig::empty();
    for e in entries {
        let (file, text) = loader.read_restricted(dir, &e.value, &e.origin)?;
        let parsed = parse_file(display(&file).into(), &text)?;
        let bad = |why: &str| {
            KustomizeError::invalid(
                format!(
                    "unable to parse open API definition from '{}': {why}",
                    e.value
                ),
                Some(&e.origin),
            )
        };
        let doc = parsed
            .documents
            .into_iter()
            .find(|d| !is_null(d))
            .ok_or_else(|| bad("the file is empty"))?;
        let defs = doc
            .as_map()
            .ok_or_else(|| bad("expected a map of type names to definitions"))?;
        let other = from_definitions(defs).map_err(|why| bad(&why))?;
        tc.merge(&other, &e.origin)?;
    }
    Ok(tc)
}

/// The configuration contributed by one file's definitions (kustomize
/// `makeConfigFromApiMap`). Errors (as text): a definition that is not a mapping, a
/// `$ref` cycle.
fn from_definitions(defs: &Mapping) -> std::result::Result<TransformerConfig, String> {
    let mut tc = TransformerConfig::empty();
    let mut names: Vec<(&str, &Node)> = defs
        .iter()
        .filter_map(|(k, v)| Some((k.as_scalar()?.text.as_str(), v)))
        .collect();
    names.sort_by(|a, b| a.0.cmp(b.0));
    for (name, def) in &names {
        if def.as_map().is_none() && !is_null(def) {
            return Err(format!("definition {name} is not a mapping"));
        }
        let props = properties(def);
        let is_root = ["kind", "apiVersion", "metadata"]
            .iter()
            .all(|k| props.is_some_and(|p| p.contains_key(k)));
        if !is_root {
            continue;
        }
        let kind = name.rsplit('.').next().unwrap_or(name);
        let mut walk = Walk {
            defs,
            kind,
            tc: &mut tc,
            active: HashSet::new(),
        };
        walk.type_name(name, &[])?;
    }
    Ok(tc)
}

/// The `properties` of a definition's schema (`Schema`, matched case-insensitively).
fn properties(def: &Node) -> Option<&Mapping> {
    let m = def.as_map()?;
    let schema = m.get("Schema").or_else(|| {
        m.iter()
            .find(|(k, _)| {
                k.as_scalar()
                    .is_some_and(|s| s.text.eq_ignore_ascii_case("schema"))
            })
            .map(|(_, v)| v)
    })?;
    schema.get("properties")?.as_map()
}

/// A string-valued extension of a property (kustomize `Extensions.GetString`).
fn extension<'a>(property: &'a Node, key: &str) -> Option<&'a str> {
    property.get(key).and_then(Node::as_str)
}

/// The recursive walk of one root type (kustomize `loadCrdIntoConfig`).
struct Walk<'a> {
    defs: &'a Mapping,
    kind: &'a str,
    tc: &'a mut TransformerConfig,
    /// Type names on the current `$ref` chain, to refuse cycles.
    active: HashSet<String>,
}

impl Walk<'_> {
    fn spec(&self, path: &[&str]) -> FieldSpec {
        FieldSpec::new("", "", self.kind, &path.join("/"), false)
    }

    fn type_name(&mut self, name: &str, path: &[&str]) -> std::result::Result<(), String> {
        let Some(def) = self.defs.get(name) else {
            return Ok(());
        };
        if !self.active.insert(name.to_string()) {
            return Err(format!("$ref cycle through {name}"));
        }
        for (key, property) in properties(def).map(Mapping::iter).into_iter().flatten() {
            let Some(prop) = key.as_scalar().map(|s| s.text.as_str()) else {
                continue;
            };
            let mut here: Vec<&str> = path.to_vec();
            here.push(prop);
            self.property(property, &here)?;
        }
        self.active.remove(name);
        Ok(())
    }

    fn property(&mut self, property: &Node, path: &[&str]) -> std::result::Result<(), String> {
        if extension(property, "x-kubernetes-annotation").is_some() {
            let fs = self.spec(path);
            self.tc.common_annotations.push(fs);
        }
        if extension(property, "x-kubernetes-label-selector").is_some() {
            let fs = self.spec(path);
            self.tc.common_labels.push(fs);
        }
        if extension(property, "x-kubernetes-identity").is_some() {
            let fs = self.spec(path);
            self.tc.name_prefix.push(fs);
        }
        let version = extension(property, "x-kubernetes-object-ref-api-version");
        let kind = extension(property, "x-kubernetes-object-ref-kind");
        if let (Some(version), Some(kind)) = (version, kind) {
            let key = extension(property, "x-kubernetes-object-ref-name-key").unwrap_or("name");
            let mut at = path.to_vec();
            at.push(key);
            let fs = self.spec(&at);
            self.tc.name_reference.push(BackRef {
                target: Gvk {
                    group: String::new(),
                    version: version.to_string(),
                    kind: kind.to_string(),
                },
                referrers: vec![fs],
            });
        }
        match property.get("$ref").and_then(Node::as_str) {
            Some(r) if !r.is_empty() => self.type_name(r, path),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::parse_documents;

    const DEFS: &str = r#"{
  "example.com/v1.MyKind": {"Schema": {"properties": {
    "apiVersion": {}, "kind": {}, "metadata": {},
    "spec": {"$ref": "example.com/v1.MyKindSpec"}}}},
  "example.com/v1.MyKindSpec": {"schema": {"properties": {
    "secretRef": {"x-kubernetes-object-ref-api-version": "v1",
                  "x-kubernetes-object-ref-kind": "Secret"},
    "cm": {"x-kubernetes-object-ref-api-version": "v1",
           "x-kubernetes-object-ref-kind": "ConfigMap",
           "x-kubernetes-object-ref-name-key": "ref"},
    "sel": {"x-kubernetes-label-selector": ""},
    "notes": {"x-kubernetes-annotation": ""},
    "upper": {"X-Kubernetes-Annotation": ""},
    "ident": {"x-kubernetes-identity": ""},
    "notString": {"x-kubernetes-identity": true}}}},
  "example.com/v1.Unrooted": {"Schema": {"properties": {
    "sel": {"x-kubernetes-label-selector": ""}}}}
}"#;

    fn config(src: &str) -> std::result::Result<TransformerConfig, String> {
        let doc = parse_documents("c.json".into(), src)
            .expect("parses")
            .remove(0);
        from_definitions(doc.as_map().expect("map"))
    }

    fn paths(specs: &[FieldSpec]) -> Vec<(String, String)> {
        specs
            .iter()
            .map(|f| (f.gvk.kind.clone(), f.path.clone()))
            .collect()
    }

    #[test]
    fn extensions_become_field_specs_of_the_root_kind() {
        let tc = config(DEFS).expect("loads");
        let mk = |p: &str| ("MyKind".to_string(), p.to_string());
        assert_eq!(paths(&tc.common_labels), vec![mk("spec/sel")]);
        assert_eq!(paths(&tc.common_annotations), vec![mk("spec/notes")]);
        assert_eq!(paths(&tc.name_prefix), vec![mk("spec/ident")]);
        type Ref = (String, String, Vec<(String, String)>);
        let refs: Vec<Ref> = tc
            .name_reference
            .iter()
            .map(|b| {
                (
                    b.target.kind.clone(),
                    b.target.version.clone(),
                    paths(&b.referrers),
                )
            })
            .collect();
        assert_eq!(
            refs,
            vec![
                (
                    "Secret".into(),
                    "v1".into(),
                    vec![mk("spec/secretRef/name")]
                ),
                ("ConfigMap".into(), "v1".into(), vec![mk("spec/cm/ref")]),
            ]
        );
        assert!(tc.namespace.is_empty() && tc.images.is_empty());
    }

    #[test]
    fn ref_cycles_and_bad_definitions_are_refused() {
        let cyc = r#"{"a.v1.K": {"Schema": {"properties": {"apiVersion": {}, "kind": {},
            "metadata": {}, "spec": {"$ref": "a.v1.K"}}}}}"#;
        assert!(config(cyc).unwrap_err().contains("cycle"));
        assert!(config(r#"{"a.v1.K": [1]}"#).is_err());
    }
}
