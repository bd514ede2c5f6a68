//! Read-only mode's view of fields the repository removed: a field the manager that applied
//! the object owns (its `managedFields` entry, `fieldsV1`) that the repository no longer sets
//! is drift, because that manager's next server-side apply deletes it (unless another manager
//! also owns it, which the server decides; read-only mode reports it anyway, as the applier
//! gave it up). Server mode needs none of this: its dry-run applies as that manager
//! (`--field-manager auto`) and the server removes the field itself.
//!
//! A removed Secret `data` key's live value is shown as its hash, as elsewhere.
//!
//! Limits: only map fields (`f:` entries) are followed; list items (`k:`, `v:`, `i:`) are not
//! (a removed container or port shows in server mode only). `status`, the server-set
//! `metadata` fields and deployer-set labels and annotations (Flux's, Helm's) are never
//! removed fields.

use serde_json::{Map, Value};

use super::compare::{object_ref, origin_at, CompareContext};
use super::model::{FieldDrift, FieldPath, PathSegment};
use super::normalize::mask_secret_data;
use driftlint_yaml::Node;

/// Most fieldsV1 entries looked at per object (a budget against hostile answers).
const MAX_ENTRIES: usize = 100_000;

/// The fields `manager` applied to `live` (`operation: Apply`, not a subresource) that
/// `desired` does not set, with `desired: None`, the live value and the origin of the nearest
/// ancestor the repository sets. A field under an object's `spec.replicas` scaled by an
/// autoscaler, and fields `ctx.ignore` ignores, are left out. Sorted by path.
pub fn removed_fields(
    desired: &Node,
    live: &Value,
    manager: &str,
    ctx: &CompareContext,
) -> Vec<FieldDrift> {
    let Some(owned) = applied_fields(live, manager) else {
        return Vec::new();
    };
    let object = object_ref(desired, live);
    let mut walk = Walk {
        desired,
        secret: object.kind == "Secret" && object.api_version == "v1",
        out: Vec::new(),
        budget: MAX_ENTRIES,
    };
    walk.map(owned, Some(desired), Some(live), &mut Vec::new());
    let scaled = ctx.hpa_targets.contains(&object);
    let mut out: Vec<FieldDrift> = walk
        .out
        .into_iter()
        .filter(|f| !(scaled && f.path.to_string() == "spec.replicas"))
        .filter(|f| !ctx.ignore.is_ignored(&object, desired, live, &f.path))
        .collect();
    out.sort_by(|x, y| x.path.cmp(&y.path));
    out
}

/// The `fieldsV1` of `manager`'s Apply entry on the object itself.
fn applied_fields<'a>(live: &'a Value, manager: &str) -> Option<&'a Map<String, Value>> {
    live.pointer("/metadata/managedFields")?
        .as_array()?
        .iter()
        .find(|e| {
            e.get("manager").and_then(Value::as_str) == Some(manager)
                && e.get("operation").and_then(Value::as_str) == Some("Apply")
                && e.get("subresource").is_none_or(|s| s.as_str() == Some(""))
        })?
        .get("fieldsV1")?
        .as_object()
}

struct Walk<'a> {
    desired: &'a Node,
    /// A v1 Secret: `data` values are shown as hashes only.
    secret: bool,
    out: Vec<FieldDrift>,
    budget: usize,
}

impl Walk<'_> {
    /// Follows the `f:` entries of `owned` in `desired` and `live` at `path`.
    fn map(
        &mut self,
        owned: &Map<String, Value>,
        desired: Option<&Node>,
        live: Option<&Value>,
        path: &mut Vec<PathSegment>,
    ) {
        for (key, sub) in owned {
            if self.budget == 0 {
                return;
            }
            self.budget -= 1;
            let Some(name) = key.strip_prefix("f:") else {
                continue;
            };
            if never_removed(path, name) {
                continue;
            }
            let live_child = live.and_then(|l| l.get(name));
            let Some(live_child) = live_child else {
                continue;
            };
            if helm_set(path, name, live_child) {
                continue;
            }
            let desired_child = desired.and_then(|d| d.get(name));
            path.push(PathSegment::Field(name.to_string()));
            let children = sub
                .as_object()
                .filter(|c| c.keys().any(|k| k.starts_with("f:")));
            match (desired_child, children) {
                // A map the repository no longer sets at all: each owned leaf under it.
                (None, Some(children)) => self.map(children, None, Some(live_child), path),
                (None, None) => self.removed(path, live_child),
                (Some(d), Some(children)) if d.as_map().is_some() => {
                    self.map(children, Some(d), Some(live_child), path)
                }
                _ => {}
            }
            path.pop();
        }
    }

    fn removed(&mut self, path: &[PathSegment], live: &Value) {
        let sensitive =
            self.secret && matches!(path.first(), Some(PathSegment::Field(f)) if f == "data");
        let live = match sensitive {
            true => mask_secret_data(live),
            false => live.clone(),
        };
        let path = FieldPath(path.to_vec());
        self.out.push(FieldDrift {
            origin: origin_at(self.desired, &path),
            path,
            desired: None,
            live: Some(live),
            sensitive,
        });
    }
}

/// `status`, server-set metadata and deployer-set labels and annotations.
fn never_removed(path: &[PathSegment], name: &str) -> bool {
    let field = |i: usize| match path.get(i) {
        Some(PathSegment::Field(f)) => Some(f.as_str()),
        _ => None,
    };
    match (path.len(), field(0)) {
        (0, _) => matches!(name, "status" | "apiVersion" | "kind"),
        (1, Some("metadata")) => !matches!(name, "labels" | "annotations"),
        (2, Some("metadata")) => {
            name.starts_with("kustomize.toolkit.fluxcd.io/")
                || name.starts_with("helm.toolkit.fluxcd.io/")
                || name.starts_with("meta.helm.sh/")
        }
        _ => false,
    }
}

/// Helm's `app.kubernetes.io/managed-by: Helm` label (Helm sets it on every object of a
/// release, whatever the chart renders).
fn helm_set(path: &[PathSegment], name: &str, live: &Value) -> bool {
    let labels = matches!(path, [PathSegment::Field(m), PathSegment::Field(l)]
        if m == "metadata" && l == "labels");
    labels && super::managers::deployer_set("labels", name, live)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ignore::IgnoreRules;
    use serde_json::json;
    use std::collections::BTreeSet;
    use std::sync::Arc;

    #[test]
    fn a_field_the_applier_owns_and_the_repository_dropped_is_removed() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\n  namespace: n\ndata:\n  LOG_LEVEL: info\n";
        let desired = driftlint_yaml::parse_documents(Arc::from("a.yaml"), text)
            .unwrap()
            .remove(0);
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "s", "namespace": "n",
                "labels": {"kustomize.toolkit.fluxcd.io/name": "apps", "gone": "x"},
                "managedFields": [
                    {"manager": "kustomize-controller", "operation": "Apply", "fieldsV1": {
                        "f:data": {"f:LOG_LEVEL": {}, "f:MODE": {}},
                        "f:metadata": {"f:labels": {"f:kustomize.toolkit.fluxcd.io/name": {}, "f:gone": {}}}}},
                    {"manager": "kubectl-patch", "operation": "Update", "fieldsV1": {
                        "f:data": {"f:EXTRA": {}}}}]},
            "data": {"LOG_LEVEL": "info", "MODE": "prod", "EXTRA": "1"}});
        let catalog = driftlint_schema::Catalog::newest().unwrap();
        let (hpa, ignore) = (BTreeSet::new(), IgnoreRules::default());
        let ctx = CompareContext {
            catalog: &catalog,
            hpa_targets: &hpa,
            ignore: &ignore,
        };
        let got = removed_fields(&desired, &live, "kustomize-controller", &ctx);
        let paths: Vec<String> = got.iter().map(|f| f.path.to_string()).collect();
        assert_eq!(paths, ["data.MODE", "metadata.labels.gone"]);
        assert_eq!(got[0].live, Some(json!("prod")));
        assert_eq!(
            got[0].origin.line, 6,
            "at the nearest ancestor the repository sets"
        );
        assert!(removed_fields(&desired, &live, "helm", &ctx).is_empty());
    }
}
