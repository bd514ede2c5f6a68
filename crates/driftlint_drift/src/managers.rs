//! Which field manager a server-side-apply dry-run applies as (`--field-manager auto|NAME`).
//!
//! Server-side apply removes a field from an object only when the manager applying no longer
//! sets it and no other manager owns it. So a dry-run as `driftlint` never shows a field the
//! repository removed: the GitOps tool that applied the object still owns it. Applying as that
//! tool (`kustomize-controller`, `helm-controller`, `argocd-controller`, `helm`... read from the
//! live object's `managedFields`) gives what its next reconciliation would give, as Flux's own
//! drift detection sees it. The metadata those tools add themselves when they apply (Flux's
//! `kustomize.toolkit.fluxcd.io/*` labels, Helm's `meta.helm.sh/*` annotations) is added to the
//! dry-run body, as the tool would, so it is not reported as removed.

use serde_json::{Map, Value};

/// How to choose the field manager of each dry-run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FieldManager {
    /// The manager that applied the live object (see [`applying_manager`]), else `driftlint`.
    #[default]
    Auto,
    /// Always this manager.
    Named(String),
}

impl FieldManager {
    /// `auto` or a manager name (1 to 128 printable ASCII characters, as the API server
    /// requires).
    ///
    /// Errors: an empty, too long or non-printable name.
    pub fn parse(text: &str) -> Result<FieldManager, String> {
        match text {
            "auto" => Ok(FieldManager::Auto),
            n if !n.is_empty()
                && n.len() <= 128
                && n.bytes().all(|b| b.is_ascii_graphic() || b == b' ') =>
            {
                Ok(FieldManager::Named(n.to_string()))
            }
            _ => Err(format!(
                "--field-manager must be `auto` or 1 to 128 printable characters, not {text:?}"
            )),
        }
    }

    /// The manager to apply `live` as; `fallback` (driftlint's own) when `Auto` finds none.
    pub fn for_object(&self, live: &Value, fallback: &str) -> String {
        match self {
            FieldManager::Named(n) => n.clone(),
            FieldManager::Auto => applying_manager(live).unwrap_or_else(|| fallback.to_string()),
        }
    }
}

/// The GitOps appliers recognised first, in this order, when several applied one object.
pub const KNOWN_APPLIERS: [&str; 4] = [
    "kustomize-controller",
    "helm-controller",
    "argocd-controller",
    "helm",
];

/// The manager that applied `live`: among its `managedFields` entries with
/// `operation: Apply` on the object itself (not a subresource) and not `driftlint`, a known
/// GitOps applier ([`KNOWN_APPLIERS`], in that order), else the first one. `None` when nothing
/// was applied server-side (client-side `kubectl apply`, `create`).
pub fn applying_manager(live: &Value) -> Option<String> {
    let appliers: Vec<&str> = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| e.get("operation").and_then(Value::as_str) == Some("Apply"))
        .filter(|e| e.get("subresource").is_none_or(|s| s.as_str() == Some("")))
        .filter_map(|e| e.get("manager").and_then(Value::as_str))
        .filter(|m| *m != "driftlint")
        .collect();
    KNOWN_APPLIERS
        .iter()
        .find(|k| appliers.contains(k))
        .copied()
        .or(appliers.first().copied())
        .map(str::to_string)
}

/// Whether a label or annotation key is one a deployer sets itself when it applies.
fn deployer_key(key: &str) -> bool {
    key.starts_with("kustomize.toolkit.fluxcd.io/")
        || key.starts_with("helm.toolkit.fluxcd.io/")
        || key.starts_with("meta.helm.sh/")
}

/// Whether `field` (`labels`, `annotations`) entry `key: value` of a live object is one a
/// deployer sets itself: keys deployers own (Flux's and Helm's labels and annotations), and
/// the label `app.kubernetes.io/managed-by: Helm` Helm adds to every object of a release it
/// installs (Helm's `setMetadataVisitor`), whatever the chart renders.
pub fn deployer_set(field: &str, key: &str, value: &Value) -> bool {
    deployer_key(key)
        || (field == "labels" && key == HELM_MANAGED_BY && value.as_str() == Some("Helm"))
}

/// The label Helm sets to `Helm` on every object of a release.
const HELM_MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// Adds to `body` (a dry-run's object) the labels and annotations of `live` that deployers
/// set themselves (`kustomize.toolkit.fluxcd.io/*`, `helm.toolkit.fluxcd.io/*`,
/// `meta.helm.sh/*`, Helm's `app.kubernetes.io/managed-by: Helm`: [`deployer_set`]) and
/// `body` lacks; values `body` sets are kept.
pub fn add_deployer_metadata(body: &mut Value, live: &Value) {
    for field in ["labels", "annotations"] {
        let Some(Value::Object(theirs)) = live.pointer(&format!("/metadata/{field}")) else {
            continue;
        };
        let carried: Vec<(&String, &Value)> = theirs
            .iter()
            .filter(|(k, v)| deployer_set(field, k, v))
            .collect();
        if carried.is_empty() {
            continue;
        }
        let Some(Value::Object(meta)) = body.get_mut("metadata") else {
            continue;
        };
        let slot = meta
            .entry(field)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(ours) = slot {
            for (k, v) in carried {
                ours.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_applier_is_read_from_managed_fields() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "kubectl", "operation": "Update", "subresource": "scale"},
            {"manager": "driftlint", "operation": "Apply"},
            {"manager": "custom-tool", "operation": "Apply"},
            {"manager": "kustomize-controller", "operation": "Apply"},
            {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status"}
        ]}});
        assert_eq!(
            applying_manager(&live).as_deref(),
            Some("kustomize-controller")
        );
        let other = json!({"metadata": {"managedFields": [
            {"manager": "kubectl-client-side-apply", "operation": "Update"},
            {"manager": "custom-tool", "operation": "Apply"}
        ]}});
        assert_eq!(applying_manager(&other).as_deref(), Some("custom-tool"));
        let none = json!({"metadata": {"managedFields": [{"manager": "kubectl-create", "operation": "Update"}]}});
        assert_eq!(applying_manager(&none), None);
        assert_eq!(
            FieldManager::Auto.for_object(&none, "driftlint"),
            "driftlint"
        );
        assert_eq!(
            FieldManager::parse("helm"),
            Ok(FieldManager::Named("helm".into()))
        );
        assert!(FieldManager::parse("").is_err());
        assert!(FieldManager::parse("a\nb").is_err());
    }

    #[test]
    fn deployer_metadata_is_carried_and_the_repository_wins() {
        let live = json!({"metadata": {
            "labels": {"kustomize.toolkit.fluxcd.io/name": "apps", "hotfix": "manual",
                "app.kubernetes.io/managed-by": "Helm"},
            "annotations": {"meta.helm.sh/release-name": "live"}}});
        let mut body = json!({"metadata": {"name": "x", "annotations": {"meta.helm.sh/release-name": "repo"}}});
        add_deployer_metadata(&mut body, &live);
        assert_eq!(
            body,
            json!({"metadata": {"name": "x",
                "annotations": {"meta.helm.sh/release-name": "repo"},
                "labels": {"kustomize.toolkit.fluxcd.io/name": "apps",
                    "app.kubernetes.io/managed-by": "Helm"}}})
        );
        // Another tool's `managed-by` is the repository's to set.
        let live = json!({"metadata": {"labels": {"app.kubernetes.io/managed-by": "kustomize"}}});
        let mut body = json!({"metadata": {"name": "x"}});
        add_deployer_metadata(&mut body, &live);
        assert_eq!(body, json!({"metadata": {"name": "x"}}));
    }
}
