//! The `namespace:` transformer (kustomize NamespaceTransformer, api/filters/namespace):
//! sets `metadata.namespace` on every namespaced object, the namespace of RoleBinding and
//! ClusterRoleBinding subjects named `default`, the name of Namespace objects, and the
//! service namespaces of APIService and CRD conversion webhooks.

use crate::yaml::{Node, Origin};

use super::decode::Spanned;
use super::error::{KustomizeError, Result};
use super::fieldspec::{self, Create, FieldSpec};
use super::nodeutil::{child_map_mut, is_null, set_key, str_at, string_node};
use super::resmap::ResMap;

/// Field specs of kustomize's namespace configuration beyond `metadata/namespace` and
/// `subjects`, which are handled by dedicated code as kustomize does.
fn field_specs() -> Vec<FieldSpec> {
    vec![
        FieldSpec::new("", "", "Namespace", "metadata/name", true),
        FieldSpec::new(
            "apiregistration.k8s.io",
            "",
            "APIService",
            "spec/service/namespace",
            true,
        ),
        FieldSpec::new(
            "apiextensions.k8s.io",
            "",
            "CustomResourceDefinition",
            "spec/conversion/webhook/clientConfig/service/namespace",
            false,
        ),
    ]
}

/// Applies the namespace `ns` to every object of `m`.
///
/// Errors: two objects end up with the same id ("namespace transformation produces ID
/// conflict"), or a field-spec path crosses a scalar.
pub fn apply(m: &mut ResMap, ns: &Spanned<String>) -> Result<()> {
    if ns.value.is_empty() {
        return Ok(());
    }
    let origin = ns.origin.clone().with_via("namespace transformer");
    for i in 0..m.list.len() {
        let res = &mut m.list[i];
        if res.node.as_map().is_none_or(|m| m.is_empty()) {
            continue;
        }
        res.store_previous_id();
        if !res.gvk().is_cluster_scoped() {
            if let Some(md) = child_map_mut(&mut res.node, "metadata", &origin) {
                set_key(md, "namespace", string_node(&ns.value, &origin));
            }
        }
        let kind = res.kind().to_string();
        if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
            set_default_subjects(&mut res.node, &ns.value, &origin);
        }
        for fs in field_specs() {
            fieldspec::apply(
                &mut res.node,
                &fs,
                Create::Scalar,
                &origin,
                &mut |n: &mut Node| {
                    *n = string_node(&ns.value, &origin);
                    Ok(())
                },
            )?;
        }
        let id = m.list[i].cur_id();
        let same = m.list.iter().filter(|r| r.cur_id().equals(&id)).count();
        if same != 1 {
            return Err(KustomizeError::invalid(
                format!("namespace transformation produces ID conflict: {id}"),
                Some(&ns.origin),
            ));
        }
    }
    Ok(())
}

fn set_default_subjects(obj: &mut Node, ns: &str, origin: &Origin) {
    let Some(subjects) = obj.get_mut("subjects").and_then(Node::as_seq_mut) else {
        return;
    };
    for s in subjects.iter_mut() {
        if str_at(s, &["name"]) != Some("default") || is_null(s) {
            continue;
        }
        set_key(s, "namespace", string_node(ns, origin));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::kustomize::resource::Resource;
    use crate::yaml::parse_documents;

    fn map(src: &str) -> ResMap {
        let mut m = ResMap::new();
        for d in parse_documents("r.yaml".into(), src).expect("parses") {
            m.append(Resource::new(d), None).expect("unique");
        }
        m
    }

    fn ns() -> Spanned<String> {
        Spanned::new(
            "bar".into(),
            Origin::new("k/kustomization.yaml".into(), 2, 12),
        )
    }

    #[test]
    fn sets_namespaces_as_kustomize() {
        let mut m = map(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: foo\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: crb\nsubjects:\n- kind: ServiceAccount\n  name: default\n  namespace: other\n- kind: ServiceAccount\n  name: sa\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: old\n",
        );
        apply(&mut m, &ns()).expect("applies");
        assert_eq!(m.list[0].name(), "bar");
        assert_eq!(m.list[0].namespace(), "");
        assert_eq!(m.list[1].namespace(), "");
        let subjects = m.list[1].node.get("subjects").expect("subjects");
        assert_eq!(subjects.to_json()[0]["namespace"], "bar");
        assert!(subjects.to_json()[1].get("namespace").is_none());
        let cm = &m.list[2];
        assert_eq!(cm.namespace(), "bar");
        let o = &cm
            .node
            .get_path(&["metadata", "namespace"])
            .expect("ns")
            .origin;
        assert_eq!(
            (o.line, o.via.as_deref()),
            (2, Some("namespace transformer"))
        );
        assert_eq!(cm.prev_ids[0].namespace, "old");
    }

    #[test]
    fn conflicts_are_errors() {
        let mut m = map(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: b\n",
        );
        assert!(apply(&mut m, &ns()).is_err());
    }
}
