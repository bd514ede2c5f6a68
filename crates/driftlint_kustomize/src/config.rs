//! Transformer configuration (kustomize `builtinconfig.TransformerConfig`): the field specs
//! each builtin transformer touches. Starts from kustomize's defaults; `configurations:`
//! files add to it, and a kustomization's configuration flows up into the kustomizations that
//! use it, as kustomize merges accumulators.

use std::collections::HashMap;
use std::path::Path;

use driftlint_yaml::{parse_file, Node, Origin};

use super::builtin_specs;
use super::error::{KustomizeError, Result};
use super::fieldspec::{BackRef, FieldSpec};
use super::loader::{display, Loader};
use super::nodeutil::{is_null, scalar_str};
use super::resid::Gvk;

/// Field specs per transformer, and the name-reference configuration.
#[derive(Clone, Debug)]
pub struct TransformerConfig {
    /// `namePrefix`.
    pub name_prefix: Vec<FieldSpec>,
    /// `nameSuffix`.
    pub name_suffix: Vec<FieldSpec>,
    /// `namespace` (including the specs kustomize implements with dedicated code).
    pub namespace: Vec<FieldSpec>,
    /// `commonLabels` (also `labels` with `includeSelectors`).
    pub common_labels: Vec<FieldSpec>,
    /// `templateLabels` (`labels` with `includeTemplates`).
    pub template_labels: Vec<FieldSpec>,
    /// `commonAnnotations`.
    pub common_annotations: Vec<FieldSpec>,
    /// `images`.
    pub images: Vec<FieldSpec>,
    /// `replicas`.
    pub replicas: Vec<FieldSpec>,
    /// `nameReference`.
    pub name_reference: Vec<BackRef>,
    /// `varReference`.
    pub var_reference: Vec<FieldSpec>,
}

impl Default for TransformerConfig {
    fn default() -> Self {
        let name = vec![FieldSpec::new("", "", "", "metadata/name", false)];
        let mut namespace = vec![
            FieldSpec::new("", "", "", "metadata/namespace", true),
            FieldSpec::new(
                "rbac.authorization.k8s.io",
                "",
                "RoleBinding",
                "subjects[]/namespace",
                false,
            ),
            FieldSpec::new(
                "rbac.authorization.k8s.io",
                "",
                "ClusterRoleBinding",
                "subjects[]/namespace",
                false,
            ),
        ];
        namespace.extend(builtin_specs::namespace());
        TransformerConfig {
            name_prefix: name.clone(),
            name_suffix: name,
            namespace,
            common_labels: builtin_specs::common_labels(),
            template_labels: builtin_specs::template_labels(),
            common_annotations: builtin_specs::common_annotations(),
            images: builtin_specs::images(),
            replicas: builtin_specs::replicas(),
            name_reference: builtin_specs::name_reference(),
            var_reference: builtin_specs::var_reference(),
        }
    }
}

/// kustomize `FsSlice.MergeAll`: adds specs not yet present (same GVK and path); the same
/// spec with a different `create` is a conflict.
fn merge_specs(into: &mut Vec<FieldSpec>, more: &[FieldSpec], origin: &Origin) -> Result<()> {
    if into.as_slice() == more {
        return Ok(());
    }
    let mut known: HashMap<(&Gvk, &str), bool> = HashMap::with_capacity(into.len());
    for x in into.iter() {
        known.entry((&x.gvk, x.path.as_str())).or_insert(x.create);
    }
    let mut added = Vec::new();
    for fs in more {
        match known.get(&(&fs.gvk, fs.path.as_str())) {
            Some(create) if *create != fs.create => {
                return Err(KustomizeError::invalid(
                    format!("conflicting fieldspecs for {}", fs.path),
                    Some(origin),
                ))
            }
            Some(_) => {}
            None => {
                known.insert((&fs.gvk, fs.path.as_str()), fs.create);
                added.push(fs.clone());
            }
        }
    }
    into.extend(added);
    Ok(())
}

impl TransformerConfig {
    /// A configuration with no field specs at all (kustomize `MakeEmptyConfig`), to merge
    /// additions into the defaults.
    pub fn empty() -> Self {
        TransformerConfig {
            name_prefix: Vec::new(),
            name_suffix: Vec::new(),
            namespace: Vec::new(),
            common_labels: Vec::new(),
            template_labels: Vec::new(),
            common_annotations: Vec::new(),
            images: Vec::new(),
            replicas: Vec::new(),
            name_reference: Vec::new(),
            var_reference: Vec::new(),
        }
    }

    /// Merges `other` into `self` (kustomize `TransformerConfig.Merge`).
    ///
    /// Errors: conflicting field specs.
    pub fn merge(&mut self, other: &TransformerConfig, origin: &Origin) -> Result<()> {
        merge_specs(&mut self.name_prefix, &other.name_prefix, origin)?;
        merge_specs(&mut self.name_suffix, &other.name_suffix, origin)?;
        merge_specs(&mut self.namespace, &other.namespace, origin)?;
        merge_specs(&mut self.common_labels, &other.common_labels, origin)?;
        merge_specs(&mut self.template_labels, &other.template_labels, origin)?;
        merge_specs(
            &mut self.common_annotations,
            &other.common_annotations,
            origin,
        )?;
        merge_specs(&mut self.images, &other.images, origin)?;
        merge_specs(&mut self.replicas, &other.replicas, origin)?;
        merge_specs(&mut self.var_reference, &other.var_reference, origin)?;
        for br in &other.name_reference {
            match self
                .name_reference
                .iter_mut()
                .find(|x| x.target == br.target)
            {
                Some(x) => merge_specs(&mut x.referrers, &br.referrers, origin)?,
                None => self.name_reference.push(br.clone()),
            }
        }
        Ok(())
    }

    /// Loads a `configurations:` file referenced from the kustomization in `dir` and merges
    /// it into `self`.
    ///
    /// Errors: unreadable or escaping file, malformed YAML, conflicting specs.
    pub fn load_into(
        &mut self,
        loader: &Loader,
        dir: &Path,
        rel: &str,
        origin: &Origin,
    ) -> Result<()> {
        let (file, text) = loader.read_restricted(dir, rel, origin)?;
        let parsed = parse_file(display(&file).into(), &text)?;
        let Some(doc) = parsed.documents.into_iter().find(|d| !is_null(d)) else {
            return Ok(());
        };
        let other = decode(&doc)?;
        self.merge(&other, origin)
    }
}

fn text(n: Option<&Node>) -> String {
    n.and_then(scalar_str).unwrap_or("").to_string()
}

fn specs(n: Option<&Node>) -> Vec<FieldSpec> {
    n.and_then(Node::as_seq)
        .map(|items| {
            items
                .iter()
                .map(|f| {
                    FieldSpec::new(
                        &text(f.get("group")),
                        &text(f.get("version")),
                        &text(f.get("kind")),
                        &text(f.get("path")),
                        text(f.get("create")) == "true",
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Decodes a configuration file; absent sections are empty (kustomize reads it leniently).
fn decode(doc: &Node) -> Result<TransformerConfig> {
    let name_reference = doc
        .get("nameReference")
        .and_then(Node::as_seq)
        .map(|items| {
            items
                .iter()
                .map(|b| BackRef {
                    target: Gvk {
                        group: text(b.get("group")),
                        version: text(b.get("version")),
                        kind: text(b.get("kind")),
                    },
                    referrers: specs(b.get("fieldSpecs")),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(TransformerConfig {
        name_prefix: specs(doc.get("namePrefix")),
        name_suffix: specs(doc.get("nameSuffix")),
        namespace: specs(doc.get("namespace")),
        common_labels: specs(doc.get("commonLabels")),
        template_labels: specs(doc.get("templateLabels")),
        common_annotations: specs(doc.get("commonAnnotations")),
        images: specs(doc.get("images")),
        replicas: specs(doc.get("replicas")),
        var_reference: specs(doc.get("varReference")),
        name_reference,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::parse_documents;

    #[test]
    fn merges_name_references_and_specs() {
        let doc = parse_documents(
            "c.yaml".into(),
            "nameReference:\n- kind: Service\n  version: v1\n  fieldSpecs:\n  - kind: CustomResourceDefinition\n    group: apiextensions.k8s.io\n    path: spec/conversion/webhook/clientConfig/service/name\nnamespace:\n- kind: CustomResourceDefinition\n  group: apiextensions.k8s.io\n  path: spec/conversion/webhook/clientConfig/service/namespace\n  create: false\n",
        )
        .expect("parses")
        .remove(0);
        let other = decode(&doc).expect("decodes");
        let mut tc = TransformerConfig::default();
        let before = tc.namespace.len();
        let o = Origin::new("k".into(), 1, 1);
        tc.merge(&other, &o).expect("merges");
        assert_eq!(tc.namespace.len(), before, "same spec already present");
        let svc = tc
            .name_reference
            .iter()
            .find(|b| b.target.kind == "Service")
            .expect("service");
        assert!(svc
            .referrers
            .iter()
            .any(|f| f.gvk.kind == "CustomResourceDefinition"));
        let conflict = TransformerConfig {
            namespace: vec![FieldSpec::new("", "", "", "metadata/namespace", false)],
            ..TransformerConfig::default()
        };
        assert!(TransformerConfig::default().merge(&conflict, &o).is_err());
    }
}
