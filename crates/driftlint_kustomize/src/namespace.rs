//! The `namespace:` transformer (kustomize NamespaceTransformer, api/filters/namespace):
//! sets `metadata.namespace` on every namespaced object, the namespace of RoleBinding and
//! ClusterRoleBinding subjects named `default`, the name of Namespace objects, and the
//! service namespaces of APIService and CRD conversion webhooks.

use std::collections::HashMap;

use driftlint_yaml::{Node, Origin};

use super::builtin_specs;
use super::decode::Spanned;
use super::error::{KustomizeError, Result};
use super::fieldspec::{self, Create, FieldSpec};
use super::nodeutil::{child_map_mut, is_null, set_key, str_at, string_node};
use super::resmap::{IdKey, ResMap};

/// How RoleBinding/ClusterRoleBinding subjects get the namespace
/// (`setRoleBindingSubjects`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subjects {
    /// Subjects named `default` (kustomize's default).
    DefaultOnly,
    /// Every ServiceAccount subject.
    AllServiceAccounts,
    /// None.
    None,
}

/// Options of one namespace transformation.
#[derive(Clone, Debug)]
pub struct Options {
    /// Field specs besides `metadata/namespace` and binding subjects.
    pub specs: Vec<FieldSpec>,
    /// Only set namespaces that are empty.
    pub unset_only: bool,
    /// Binding subjects handling.
    pub subjects: Subjects,
    /// Only the objects at these indices (a ValueAddTransformer's selection); None: all.
    pub only: Option<Vec<usize>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            specs: builtin_specs::namespace(),
            unset_only: false,
            subjects: Subjects::DefaultOnly,
            only: None,
        }
    }
}

/// Drops the specs kustomize implements with dedicated code (`removeFieldSpecsForHacks`).
pub fn without_hacks(specs: Vec<FieldSpec>) -> Vec<FieldSpec> {
    specs
        .into_iter()
        .filter(|f| {
            let binding = f.gvk.kind == "RoleBinding" || f.gvk.kind == "ClusterRoleBinding";
            f.path != "metadata/namespace" && !(binding && f.path.starts_with("subjects"))
        })
        .collect()
}

/// Applies the namespace `ns` to every object of `m`.
///
/// Errors: two objects end up with the same id ("namespace transformation produces ID
/// conflict"), or a field-spec path crosses a scalar.
#[cfg(test)]
pub fn apply(m: &mut ResMap, ns: &Spanned<String>) -> Result<()> {
    apply_with(m, ns, &Options::default())
}

/// Applies the namespace `ns` with explicit options (a NamespaceTransformer config).
///
/// Errors: as [`apply`].
pub fn apply_with(m: &mut ResMap, ns: &Spanned<String>, opts: &Options) -> Result<()> {
    if ns.value.is_empty() {
        return Ok(());
    }
    let origin = ns.origin.clone().with_via("namespace transformer");
    let set = |n: &mut Node| {
        if !(opts.unset_only && super::nodeutil::scalar_str(n).is_some_and(|v| !v.is_empty())) {
            *n = string_node(&ns.value, &origin);
        }
    };
    // How many objects currently have each id: objects not yet visited keep their old id,
    // as in kustomize, which checks each object against the others right after moving it.
    let mut current: HashMap<IdKey, usize> = HashMap::with_capacity(m.list().len());
    for r in m.list() {
        *current.entry(IdKey::of(&r.cur_id())).or_default() += 1;
    }
    for i in 0..m.list().len() {
        if opts.only.as_ref().is_some_and(|o| !o.contains(&i)) {
            continue;
        }
        let before = IdKey::of(&m.list()[i].cur_id());
        let res = &mut m.list_mut()[i];
        if res.node.as_map().is_none_or(|m| m.is_empty()) {
            continue;
        }
        res.store_previous_id();
        if !res.gvk().is_cluster_scoped() {
            if let Some(md) = child_map_mut(&mut res.node, "metadata", &origin) {
                let mut cur = md
                    .get("namespace")
                    .cloned()
                    .unwrap_or_else(|| string_node("", &origin));
                set(&mut cur);
                set_key(md, "namespace", cur);
            }
        }
        let kind = res.kind().to_string();
        if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
            set_subjects(&mut res.node, opts.subjects, &set, &origin);
        }
        for fs in &opts.specs {
            fieldspec::apply(
                &mut res.node,
                fs,
                Create::Scalar,
                &origin,
                &mut |n: &mut Node| {
                    set(n);
                    Ok(())
                },
            )?;
        }
        let id = m.list()[i].cur_id();
        if let Some(n) = current.get_mut(&before) {
            *n -= 1;
        }
        let same = current.entry(IdKey::of(&id)).or_default();
        *same += 1;
        if *same != 1 {
            return Err(KustomizeError::invalid(
                format!("namespace transformation produces ID conflict: {id}"),
                Some(&ns.origin),
            ));
        }
    }
    Ok(())
}

fn set_subjects(obj: &mut Node, mode: Subjects, set: &dyn Fn(&mut Node), origin: &Origin) {
    let Some(subjects) = obj.get_mut("subjects").and_then(Node::as_seq_mut) else {
        return;
    };
    for s in subjects.iter_mut() {
        let wanted = match mode {
            Subjects::DefaultOnly => str_at(s, &["name"]) == Some("default"),
            Subjects::AllServiceAccounts => str_at(s, &["kind"]) == Some("ServiceAccount"),
            Subjects::None => false,
        };
        if !wanted || is_null(s) || s.as_map().is_none() {
            continue;
        }
        let mut cur = s
            .get("namespace")
            .cloned()
            .unwrap_or_else(|| string_node("", origin));
        set(&mut cur);
        set_key(s, "namespace", cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Resource;
    use driftlint_yaml::parse_documents;

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
        assert_eq!(m.list()[0].name(), "bar");
        assert_eq!(m.list()[0].namespace(), "");
        assert_eq!(m.list()[1].namespace(), "");
        let subjects = m.list()[1].node.get("subjects").expect("subjects");
        assert_eq!(subjects.to_json()[0]["namespace"], "bar");
        assert!(subjects.to_json()[1].get("namespace").is_none());
        let cm = &m.list()[2];
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
