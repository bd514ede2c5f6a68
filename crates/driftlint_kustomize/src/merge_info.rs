//! Strategic-merge metadata lookup: which lists are merged by key, and by which keys.
//!
//! Kustomize reads `x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key` and
//! `x-kubernetes-list-map-keys` from the OpenAPI schema of the patched object's type
//! (kyaml `ResourceSchema.PatchStrategyAndKeyList`). Objects whose type has no schema
//! (custom resources) get no merge keys: their lists are replaced by the patch's.

/// Patch metadata of one list field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListMeta {
    /// `x-kubernetes-patch-merge-key` (`name` for containers).
    pub merge_key: Option<String>,
    /// `x-kubernetes-patch-strategy` split on `,` (`merge`, `retainKeys`, `replace`).
    pub strategies: Vec<String>,
    /// `x-kubernetes-list-map-keys` (`[containerPort, protocol]` for container ports).
    pub list_map_keys: Vec<String>,
}

impl ListMeta {
    /// The merge keys when the list is merged element-wise (strategy `merge`): the list-map
    /// keys when present, else the merge key; an empty vector means a list of scalars merged
    /// as a set. None when the patch's list replaces the object's.
    pub fn merge_keys(&self) -> Option<Vec<String>> {
        if !self.strategies.iter().any(|s| s == "merge") {
            return None;
        }
        if !self.list_map_keys.is_empty() {
            return Some(self.list_map_keys.clone());
        }
        Some(self.merge_key.iter().cloned().collect())
    }
}

/// Schema lookups for strategic merge patches. Implementations must be shareable across
/// threads (many overlays render in parallel).
pub trait MergeInfo: Send + Sync {
    /// The patch metadata of the field at `path` in objects of `api_version`/`kind`.
    ///
    /// `path` is the chain of field names from the object root; list levels are not
    /// represented (the path of container ports is `spec.template.spec.containers.ports`),
    /// and map-valued fields (`additionalProperties`) continue with the map key. Returns None
    /// when the type or the field is unknown to the schema, or the field is not a list.
    fn list_meta(&self, api_version: &str, kind: &str, path: &[&str]) -> Option<ListMeta>;
}

/// The current apiVersion of a type that kustomize's embedded schema (Kubernetes 1.21.2)
/// still serves under a beta apiVersion the catalog (1.25+) no longer has, so that, say, a
/// `batch/v1beta1` CronJob merges its containers by name as kustomize does. apiVersions
/// already gone in 1.21 (`extensions/v1beta1` Deployments, `apps/v1beta2`) have no schema in
/// kustomize either, and get none here.
fn modern_api_version(api_version: &str, kind: &str) -> Option<&'static str> {
    Some(match (api_version, kind) {
        ("batch/v1beta1", "CronJob") => "batch/v1",
        ("policy/v1beta1", "PodDisruptionBudget") => "policy/v1",
        ("extensions/v1beta1" | "networking.k8s.io/v1beta1", "Ingress") => "networking.k8s.io/v1",
        ("networking.k8s.io/v1beta1", "IngressClass") => "networking.k8s.io/v1",
        ("autoscaling/v2beta1" | "autoscaling/v2beta2", "HorizontalPodAutoscaler") => {
            "autoscaling/v2"
        }
        ("rbac.authorization.k8s.io/v1beta1", _) => "rbac.authorization.k8s.io/v1",
        ("storage.k8s.io/v1beta1", _) => "storage.k8s.io/v1",
        ("admissionregistration.k8s.io/v1beta1", _) => "admissionregistration.k8s.io/v1",
        ("apiextensions.k8s.io/v1beta1", _) => "apiextensions.k8s.io/v1",
        ("apiregistration.k8s.io/v1beta1", _) => "apiregistration.k8s.io/v1",
        ("scheduling.k8s.io/v1beta1", _) => "scheduling.k8s.io/v1",
        ("coordination.k8s.io/v1beta1", _) => "coordination.k8s.io/v1",
        ("discovery.k8s.io/v1beta1", _) => "discovery.k8s.io/v1",
        ("events.k8s.io/v1beta1", _) => "events.k8s.io/v1",
        ("certificates.k8s.io/v1beta1", _) => "certificates.k8s.io/v1",
        ("node.k8s.io/v1beta1", _) => "node.k8s.io/v1",
        _ => return None,
    })
}

/// The embedded schema catalog answers for built-in Kubernetes types only: kustomize has no
/// schema for custom resources (Flux objects, CRDs registered in the catalog), whose lists
/// a strategic merge patch therefore replaces. Built-in types under an apiVersion the
/// catalog no longer carries use their current apiVersion's schema.
impl MergeInfo for driftlint_schema::Catalog {
    fn list_meta(&self, api_version: &str, kind: &str, path: &[&str]) -> Option<ListMeta> {
        let api_version = if self.is_builtin_kind(api_version, kind) {
            api_version
        } else {
            let modern = modern_api_version(api_version, kind)?;
            if !self.is_builtin_kind(modern, kind) {
                return None;
            }
            modern
        };
        let meta = self.list_patch_meta(api_version, kind, path)?;
        Some(ListMeta {
            merge_key: meta.merge_key,
            strategies: meta.strategies,
            list_map_keys: meta.list_map_keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keys_follow_kyaml() {
        let containers = ListMeta {
            merge_key: Some("name".into()),
            strategies: vec!["merge".into()],
            list_map_keys: vec![],
        };
        assert_eq!(containers.merge_keys(), Some(vec!["name".to_string()]));
        let ports = ListMeta {
            merge_key: Some("containerPort".into()),
            strategies: vec!["merge".into()],
            list_map_keys: vec!["containerPort".into(), "protocol".into()],
        };
        assert_eq!(ports.merge_keys().map(|k| k.len()), Some(2));
        let finalizers = ListMeta {
            strategies: vec!["merge".into()],
            ..ListMeta::default()
        };
        assert_eq!(finalizers.merge_keys(), Some(vec![]));
        let atomic = ListMeta {
            list_map_keys: vec!["name".into()],
            ..ListMeta::default()
        };
        assert_eq!(atomic.merge_keys(), None);
    }

    #[test]
    fn catalog_gives_core_merge_keys_and_nothing_for_crds() {
        let catalog = driftlint_schema::Catalog::newest().expect("embedded catalog");
        let path = ["spec", "template", "spec", "containers"];
        let m = catalog
            .list_meta("apps/v1", "Deployment", &path)
            .expect("containers");
        assert_eq!(m.merge_keys(), Some(vec!["name".to_string()]));
        let ports = ["spec", "template", "spec", "containers", "ports"];
        let p = catalog
            .list_meta("apps/v1", "Deployment", &ports)
            .expect("ports");
        assert_eq!(
            p.merge_keys(),
            Some(vec!["containerPort".to_string(), "protocol".to_string()])
        );
        let cron = [
            "spec",
            "jobTemplate",
            "spec",
            "template",
            "spec",
            "containers",
        ];
        let legacy = catalog
            .list_meta("batch/v1beta1", "CronJob", &cron)
            .expect("a 1.21 beta apiVersion falls back");
        assert_eq!(legacy.merge_keys(), Some(vec!["name".to_string()]));
        assert!(catalog
            .list_meta("extensions/v1beta1", "Deployment", &path)
            .is_none());
        let hr = ["spec", "values"];
        assert!(catalog
            .list_meta("helm.toolkit.fluxcd.io/v2", "HelmRelease", &hr)
            .is_none());
    }
}
