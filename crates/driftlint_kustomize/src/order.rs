//! kustomize's default output order ("legacy" sort, api/builtins/SortOrderTransformer):
//! by kind rank (Namespace first ... ValidatingWebhookConfiguration last, other kinds in
//! between), then by `group_version_kind`, then namespace (`~X` when empty), then name.

use std::cmp::Ordering;

use super::resid::{Gvk, ResId};
use super::resource::Resource;

/// kustomize's default `orderFirst` kinds.
pub const ORDER_FIRST: [&str; 22] = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// kustomize's default `orderLast` kinds.
pub const ORDER_LAST: [&str; 2] = [
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The kind lists of a legacy sort (`sortOptions.legacySortOptions`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Legacy {
    /// Kinds first, in this order.
    pub first: Vec<String>,
    /// Kinds last, in this order.
    pub last: Vec<String>,
}

impl Default for Legacy {
    fn default() -> Self {
        Legacy {
            first: ORDER_FIRST.iter().map(|s| s.to_string()).collect(),
            last: ORDER_LAST.iter().map(|s| s.to_string()).collect(),
        }
    }
}

fn rank(kind: &str, l: &Legacy) -> i64 {
    if let Some(i) = l.first.iter().position(|k| k == kind) {
        return i as i64 - l.first.len() as i64;
    }
    l.last
        .iter()
        .position(|k| k == kind)
        .map_or(0, |i| i as i64 + 1)
}

fn legacy_gvk(g: &Gvk) -> String {
    let or = |s: &str, d: &str| {
        if s.is_empty() {
            d.to_string()
        } else {
            s.to_string()
        }
    };
    format!(
        "{}_{}_{}",
        or(&g.group, "~G"),
        or(&g.version, "~V"),
        or(&g.kind, "~K")
    )
}

fn legacy_id(id: &ResId) -> String {
    let ns = if id.namespace.is_empty() {
        "~X"
    } else {
        &id.namespace
    };
    let name = if id.name.is_empty() { "~N" } else { &id.name };
    format!("{}|{ns}|{name}", id.gvk.id_string())
}

/// Compares two ids in kustomize's legacy order.
pub fn compare(a: &ResId, b: &ResId, l: &Legacy) -> Ordering {
    if a.gvk != b.gvk {
        return rank(&a.gvk.kind, l)
            .cmp(&rank(&b.gvk.kind, l))
            .then_with(|| legacy_gvk(&a.gvk).cmp(&legacy_gvk(&b.gvk)));
    }
    legacy_id(a).cmp(&legacy_id(b))
}

/// Sorts objects in kustomize's legacy order (stable for equal ids).
pub fn sort(list: &mut Vec<Resource>, l: &Legacy) {
    let mut keyed: Vec<(ResId, Resource)> = list.drain(..).map(|r| (r.cur_id(), r)).collect();
    keyed.sort_by(|a, b| compare(&a.0, &b.0, l));
    list.extend(keyed.into_iter().map(|(_, r)| r));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(av: &str, kind: &str, name: &str, ns: &str) -> ResId {
        ResId {
            gvk: Gvk::from_api_version(av, kind),
            name: name.into(),
            namespace: ns.into(),
        }
    }

    #[test]
    fn kinds_then_ids() {
        let ns = id("v1", "Namespace", "a", "");
        let cm = id("v1", "ConfigMap", "a", "");
        let crd = id("example.com/v1", "Foo", "a", "");
        let vwc = id(
            "admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration",
            "a",
            "",
        );
        let l = Legacy::default();
        assert_eq!(compare(&ns, &cm, &l), Ordering::Less);
        assert_eq!(compare(&cm, &crd, &l), Ordering::Less);
        assert_eq!(compare(&crd, &vwc, &l), Ordering::Less);
        let with_ns = id("v1", "ConfigMap", "z", "b");
        assert_eq!(
            compare(&with_ns, &cm, &l),
            Ordering::Less,
            "~X sorts after namespaces"
        );
        let b = id("v1", "ConfigMap", "b", "");
        assert_eq!(compare(&cm, &b, &l), Ordering::Less);
        let custom = Legacy {
            first: vec!["Foo".into()],
            last: vec!["Namespace".into()],
        };
        assert_eq!(compare(&ns, &crd, &custom), Ordering::Greater);
    }
}
