//! `commonLabels:` and `labels:` (kustomize LabelTransformer): set labels at the field specs
//! of kustomize's `commonLabels` configuration (metadata, selectors, pod templates), or,
//! for `labels` entries, only metadata unless `includeSelectors`/`includeTemplates` say so.

use driftlint_yaml::{Node, Origin};

use super::decode::Pairs;
use super::error::{KustomizeError, Result};
use super::fieldspec::{self, Create, FieldSpec};
use super::kustfile::LabelArgs;
use super::nodeutil::{is_null, string_node};
use super::resmap::ResMap;

/// Sets string entries `pairs` in every map `specs` designate (kustomize's labels and
/// annotations filters). `via` names the transformer in origins.
pub fn set_entries(m: &mut ResMap, pairs: &Pairs, specs: &[FieldSpec], via: &str) -> Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    let mut sorted: Vec<_> = pairs.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for res in m.list_mut() {
        for (key, value) in &sorted {
            let origin = value.origin.clone().with_via(via);
            for fs in specs {
                fieldspec::apply(
                    &mut res.node,
                    fs,
                    Create::Map,
                    &origin,
                    &mut |n: &mut Node| set_entry(n, key, &value.value, &origin),
                )?;
            }
        }
    }
    Ok(())
}

fn set_entry(n: &mut Node, key: &str, value: &str, origin: &Origin) -> Result<()> {
    if is_null(n) {
        *n = Node::map(origin.clone());
    }
    match n.as_map_mut() {
        Some(m) => {
            m.insert(key, string_node(value, origin));
            Ok(())
        }
        None => Err(KustomizeError::invalid(
            format!("wrong node kind: expected MappingNode to set {key}"),
            Some(&n.origin),
        )),
    }
}

/// Applies `labels:` entries, then `commonLabels`, as kustomize's LabelTransformer
/// configuration does.
pub fn apply(
    m: &mut ResMap,
    labels: &[LabelArgs],
    common: &Pairs,
    tc: &super::config::TransformerConfig,
) -> Result<()> {
    for l in labels {
        let mut specs: Vec<FieldSpec> = l
            .fields
            .iter()
            .map(|f| FieldSpec::new(&f.group, &f.version, &f.kind, &f.path, f.create))
            .collect();
        if l.include_selectors {
            specs.extend(tc.common_labels.iter().cloned());
        } else {
            specs.push(FieldSpec::new("", "", "", "metadata/labels", true));
            if l.include_templates {
                specs.extend(tc.template_labels.iter().cloned());
            }
        }
        set_entries(m, &l.pairs, &specs, "labels transformer")?;
    }
    set_entries(m, common, &tc.common_labels, "commonLabels transformer")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Spanned;
    use crate::resource::Resource;
    use driftlint_yaml::parse_documents;

    fn map(src: &str) -> ResMap {
        let mut m = ResMap::new();
        for d in parse_documents("r.yaml".into(), src).expect("parses") {
            m.append(Resource::new(d), None).expect("unique");
        }
        m
    }

    fn pairs(k: &str, v: &str) -> Pairs {
        vec![(
            k.into(),
            Spanned::new(v.into(), Origin::new("k.yaml".into(), 3, 8)),
        )]
    }

    const SRC: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec: {}\n---\napiVersion: example.com/v1\nkind: Foo\nmetadata:\n  name: f\nspec:\n  template:\n    metadata: {}\n";

    #[test]
    fn common_labels_reach_selectors_and_templates() {
        let mut m = map(SRC);
        apply(&mut m, &[], &pairs("app", "x"), &Default::default()).expect("applies");
        let d = m.list()[0].node.to_json();
        assert_eq!(d["spec"]["selector"]["matchLabels"]["app"], "x");
        assert_eq!(d["spec"]["template"]["metadata"]["labels"]["app"], "x");
        let f = m.list()[1].node.to_json();
        assert_eq!(f["metadata"]["labels"]["app"], "x");
        assert_eq!(f["spec"]["template"]["metadata"], serde_json::json!({}));
    }

    #[test]
    fn labels_entries_respect_include_flags() {
        let mut m = map(SRC);
        let l = LabelArgs {
            pairs: pairs("a", "b"),
            include_selectors: false,
            include_templates: true,
            fields: vec![],
            origin: Origin::new("k.yaml".into(), 2, 1),
        };
        apply(&mut m, &[l], &vec![], &Default::default()).expect("applies");
        let d = m.list()[0].node.to_json();
        assert_eq!(d["spec"]["template"]["metadata"]["labels"]["a"], "b");
        assert!(d["spec"].get("selector").is_none());
    }
}
