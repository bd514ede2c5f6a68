//! Inventory: which live objects belong to the repository's deployers (Flux Kustomizations,
//! Helm releases, a user selector), which of them the repository no longer declares
//! (orphans), and which objects an autoscaler scales.
//!
//! As Flux's kustomize-controller, an object deployed by Kustomization `NS/NAME` carries the
//! labels `kustomize.toolkit.fluxcd.io/name: NAME` and `kustomize.toolkit.fluxcd.io/namespace:
//! NS` on its metadata; as Helm, an object of release `R` in namespace `NS` carries the label
//! `app.kubernetes.io/managed-by: Helm` and the annotations `meta.helm.sh/release-name: R`,
//! `meta.helm.sh/release-namespace: NS` (annotations cannot be selected on, so they are
//! checked after listing). These queries cover only the kinds the repository still declares for
//! an inventory; the deployers' own inventories (a Flux Kustomization's `status.inventory`, its
//! labels over every served kind, a Helm release's storage Secret) are read by the drift run
//! through [`crate::deployer_inventory`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::model::{DriftKind, ObjectDrift};
use driftlint_rules::ObjectRef;
use driftlint_yaml::{Node, Origin};

/// Flux label naming the Kustomization that applied an object.
pub const FLUX_NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
/// Flux label naming that Kustomization's namespace.
pub const FLUX_NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";
/// Flux annotation opting an object out of garbage collection (`disabled`).
pub const FLUX_PRUNE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/prune";
/// Helm's label on every object of a release.
pub const HELM_MANAGED_BY: &str = "app.kubernetes.io/managed-by=Helm";
/// Helm's release-name annotation.
pub const HELM_RELEASE_NAME: &str = "meta.helm.sh/release-name";
/// Helm's release-namespace annotation.
pub const HELM_RELEASE_NAMESPACE: &str = "meta.helm.sh/release-namespace";

/// One list query that finds the live objects of an inventory.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InventoryQuery {
    /// The inventory: `flux:NAMESPACE/NAME` (`flux:NAME` without the namespace label),
    /// `helm:NAMESPACE/RELEASE` or `selector:SELECTOR`.
    pub inventory: String,
    /// Kubernetes label selector to list with (`k=v,k2=v2`).
    pub label_selector: String,
    /// The `(apiVersion, kind)`s to list, sorted: those the repository declares for it.
    pub kinds: Vec<(String /*apiVersion*/, String /*kind*/)>,
    /// Namespace to list in; `None` = all namespaces (and cluster-scoped kinds).
    pub namespace: Option<String>,
}

/// The inventory queries for `desired` (rendered objects): one per Flux Kustomization named by
/// the objects' Flux labels, one per Helm release named by their release annotations (or
/// `app.kubernetes.io/instance` with `managed-by: Helm`, the release namespace then being the
/// object's), and one for `user_selector` (`--selector`) covering every declared kind. Sorted
/// by inventory.
pub fn plan(desired: &[Node], user_selector: Option<&str>) -> Vec<InventoryQuery> {
    let mut groups: BTreeMap<(String, String), BTreeSet<(String, String)>> = BTreeMap::new();
    let mut all_kinds = BTreeSet::new();
    for obj in desired {
        let kind = (
            obj.str_at(&["apiVersion"]).unwrap_or_default().to_string(),
            obj.str_at(&["kind"]).unwrap_or_default().to_string(),
        );
        if let Some(key) = flux_inventory(obj).or_else(|| helm_inventory(obj)) {
            groups.entry(key).or_default().insert(kind.clone());
        }
        all_kinds.insert(kind);
    }
    let mut out: Vec<InventoryQuery> = groups
        .into_iter()
        .map(|((inventory, label_selector), kinds)| InventoryQuery {
            inventory,
            label_selector,
            kinds: kinds.into_iter().collect(),
            namespace: None,
        })
        .collect();
    if let Some(sel) = user_selector.map(str::trim).filter(|s| !s.is_empty()) {
        out.push(InventoryQuery {
            inventory: format!("selector:{sel}"),
            label_selector: sel.to_string(),
            kinds: all_kinds.into_iter().collect(),
            namespace: None,
        });
    }
    out.sort();
    out
}

/// `(inventory, selector)` of a Flux-labelled object.
fn flux_inventory(obj: &Node) -> Option<(String, String)> {
    let name = obj.str_at(&["metadata", "labels", FLUX_NAME_LABEL])?;
    Some(
        match obj.str_at(&["metadata", "labels", FLUX_NAMESPACE_LABEL]) {
            Some(ns) => (
                format!("flux:{ns}/{name}"),
                format!("{FLUX_NAME_LABEL}={name},{FLUX_NAMESPACE_LABEL}={ns}"),
            ),
            None => (format!("flux:{name}"), format!("{FLUX_NAME_LABEL}={name}")),
        },
    )
}

/// `(inventory, selector)` of an object of a known Helm release.
fn helm_inventory(obj: &Node) -> Option<(String, String)> {
    let helm = obj.str_at(&["metadata", "labels", "app.kubernetes.io/managed-by"]) == Some("Helm");
    let annotation = |k: &str| obj.str_at(&["metadata", "annotations", k]);
    let release = annotation(HELM_RELEASE_NAME).or_else(|| {
        obj.str_at(&["metadata", "labels", "app.kubernetes.io/instance"])
            .filter(|_| helm)
    })?;
    let namespace =
        annotation(HELM_RELEASE_NAMESPACE).or_else(|| obj.str_at(&["metadata", "namespace"]))?;
    Some((
        format!("helm:{namespace}/{release}"),
        HELM_MANAGED_BY.to_string(),
    ))
}

/// The live objects of `query`'s inventory that the repository no longer declares, as
/// [`DriftKind::Orphaned`] verdicts at `owner_origin` (the inventory owner's origin: the Flux
/// Kustomization or release when the repository renders it, else the target that deployed it)
/// with `target` = `owner_target`. `live` are the listed objects (with `kind`/`apiVersion`
/// filled in); each must match the query's selector (re-checked here: equality, `!=` and
/// existence terms) and, for a Helm inventory, carry its release annotations.
///
/// Not orphans: objects `desired` declares (same API group, kind, name, and namespace unless
/// the declared one has none; the version may differ), objects opting out of pruning
/// (`kustomize.toolkit.fluxcd.io/prune: disabled`, Helm's `helm.sh/resource-policy: keep`),
/// objects with `ownerReferences` (created by a controller, not applied) or being deleted.
/// Sorted by object.
pub fn orphans(
    desired: &[ObjectRef],
    query: &InventoryQuery,
    live: &[Value],
    owner_origin: &Origin,
    owner_target: &str,
) -> Vec<ObjectDrift> {
    let members: Vec<&Value> = live
        .iter()
        .filter(|l| selector_matches(&query.label_selector, l) && helm_release_matches(query, l))
        .collect();
    undeclared(
        desired,
        &members,
        &query.inventory,
        owner_origin,
        owner_target,
    )
}

/// The `live` members of an inventory named `inventory` that `desired` does not declare, as
/// [`DriftKind::Orphaned`] verdicts at `owner_origin` (same rules as [`orphans`], without the
/// selector: for inventories that list their members, such as Flux's `status.inventory` or a
/// Helm release's manifest). Sorted by object.
pub fn undeclared(
    desired: &[ObjectRef],
    live: &[&Value],
    inventory: &str,
    owner_origin: &Origin,
    owner_target: &str,
) -> Vec<ObjectDrift> {
    let mut out: Vec<ObjectDrift> = live
        .iter()
        .filter(|l| !opted_out(l))
        .map(|l| live_ref(l))
        .filter(|r| !is_declared(desired, r))
        .map(|object| ObjectDrift {
            object,
            origin: owner_origin.clone(),
            target: owner_target.to_string(),
            drift: DriftKind::Orphaned {
                inventory: inventory.to_string(),
            },
        })
        .collect();
    out.sort_by(|a, b| a.object.cmp(&b.object));
    out
}

/// Whether `desired` declares `object` (same API group, kind and name, and namespace unless
/// the declared one has none; the version may differ).
pub fn is_declared(desired: &[ObjectRef], object: &ObjectRef) -> bool {
    desired.iter().any(|d| same_object(d, object))
}

/// The identity of a live object.
pub fn live_ref(obj: &Value) -> ObjectRef {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str);
    ObjectRef {
        api_version: s("/apiVersion").unwrap_or_default().to_string(),
        kind: s("/kind").unwrap_or_default().to_string(),
        namespace: s("/metadata/namespace").map(str::to_string),
        name: s("/metadata/name").unwrap_or_default().to_string(),
    }
}

fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

fn same_object(declared: &ObjectRef, live: &ObjectRef) -> bool {
    group(&declared.api_version) == group(&live.api_version)
        && declared.kind == live.kind
        && declared.name == live.name
        && (declared.namespace.is_none() || declared.namespace == live.namespace)
}

fn opted_out(obj: &Value) -> bool {
    let ann = |k: &str| {
        obj.pointer("/metadata/annotations")
            .and_then(|a| a.get(k))
            .and_then(Value::as_str)
    };
    ann(FLUX_PRUNE_ANNOTATION) == Some("disabled")
        || ann("helm.sh/resource-policy") == Some("keep")
        || obj
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .is_some_and(|o| !o.is_empty())
        || obj.pointer("/metadata/deletionTimestamp").is_some()
}

fn helm_release_matches(query: &InventoryQuery, obj: &Value) -> bool {
    let Some(rest) = query.inventory.strip_prefix("helm:") else {
        return true;
    };
    let Some((ns, release)) = rest.split_once('/') else {
        return false;
    };
    let ann = |k: &str| {
        obj.pointer("/metadata/annotations")
            .and_then(|a| a.get(k))
            .and_then(Value::as_str)
    };
    ann(HELM_RELEASE_NAME) == Some(release) && ann(HELM_RELEASE_NAMESPACE) == Some(ns)
}

/// Whether `obj`'s labels satisfy an equality-based label selector (`k=v`, `k==v`, `k!=v`,
/// `k`, `!k`, comma separated). Set-based terms (`k in (a,b)`) are not evaluated here and
/// match (the API server already applied them when listing).
pub fn selector_matches(selector: &str, obj: &Value) -> bool {
    let labels = obj.pointer("/metadata/labels");
    let label = |k: &str| labels.and_then(|l| l.get(k.trim())).and_then(Value::as_str);
    split_terms(selector).iter().all(|term| {
        let term = term.trim();
        if term.is_empty() || term.contains(" in ") || term.contains(" notin ") {
            return true;
        }
        if let Some((k, v)) = term.split_once("!=") {
            return label(k) != Some(v.trim());
        }
        if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            return label(k) == Some(v.trim());
        }
        match term.strip_prefix('!') {
            Some(k) => label(k).is_none(),
            None => label(term).is_some(),
        }
    })
}

/// Splits a selector on commas outside parentheses.
fn split_terms(selector: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0usize, 0);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&selector[start..]);
    out
}

/// The objects whose `spec.replicas` an autoscaler owns, so that their replicas are never
/// drift: the `spec.scaleTargetRef` of every `HorizontalPodAutoscaler` (any `autoscaling/*`
/// version) and KEDA `ScaledObject` (`keda.sh/*`; its `kind` defaults to `Deployment` and
/// `apiVersion` to `apps/v1`, as KEDA does), in `desired` (rendered) and in `live` (as the API
/// returns them, with `kind`/`apiVersion` filled in), in the autoscaler's namespace. A rendered
/// autoscaler without `metadata.namespace` contributes its target with no namespace and, when
/// the target is found in `desired` with a namespace, that one too.
pub fn hpa_targets(desired: &[Node], live: &[Value]) -> BTreeSet<ObjectRef> {
    let mut out = BTreeSet::new();
    for d in desired {
        if let Some(target) = scale_target(&d.to_json()) {
            out.insert(target);
        }
    }
    for l in live {
        if let Some(target) = scale_target(l) {
            out.insert(target);
        }
    }
    let unnamespaced: Vec<ObjectRef> = out
        .iter()
        .filter(|t| t.namespace.is_none())
        .cloned()
        .collect();
    for t in unnamespaced {
        for d in desired {
            let r = ObjectRef::of(d);
            if r.namespace.is_some()
                && r.kind == t.kind
                && r.name == t.name
                && r.api_version == t.api_version
            {
                out.insert(r);
            }
        }
    }
    out
}

fn scale_target(obj: &Value) -> Option<ObjectRef> {
    let api_version = obj.get("apiVersion")?.as_str()?;
    let kind = obj.get("kind")?.as_str()?;
    let keda = api_version.starts_with("keda.sh/") && kind == "ScaledObject";
    let hpa = api_version.starts_with("autoscaling/") && kind == "HorizontalPodAutoscaler";
    if !keda && !hpa {
        return None;
    }
    let target = obj.pointer("/spec/scaleTargetRef")?;
    let field = |k: &str| target.get(k).and_then(Value::as_str).map(str::to_string);
    let (default_version, default_kind) = if keda {
        (Some("apps/v1".to_string()), Some("Deployment".to_string()))
    } else {
        (None, None)
    };
    Some(ObjectRef {
        api_version: field("apiVersion").or(default_version)?,
        kind: field("kind").or(default_kind)?,
        namespace: obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_string),
        name: field("name")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use serde_json::json;

    fn listed(file: &str, api_version: &str, kind: &str) -> Vec<Value> {
        let list = fixtures::json("live-after-drift", file).expect("list fixture");
        let items = list["items"].as_array().cloned().unwrap_or_default();
        items
            .into_iter()
            .map(|mut i| {
                i["apiVersion"] = json!(api_version);
                i["kind"] = json!(kind);
                i
            })
            .collect()
    }

    #[test]
    fn plan_finds_the_flux_inventories_and_the_user_selector() {
        let desired = fixtures::desired();
        let plan = plan(&desired, Some("team=shop"));
        let names: Vec<&str> = plan.iter().map(|q| q.inventory.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "flux:flux-system/apps",
                "flux:flux-system/infra-configs",
                "selector:team=shop"
            ]
        );
        let apps = &plan[0];
        assert_eq!(
            apps.label_selector,
            "kustomize.toolkit.fluxcd.io/name=apps,kustomize.toolkit.fluxcd.io/namespace=flux-system"
        );
        assert!(apps.kinds.contains(&("v1".into(), "ConfigMap".into())));
        assert!(!apps
            .kinds
            .iter()
            .any(|(_, k)| k == "HorizontalPodAutoscaler"));
        assert_eq!(plan[2].kinds.len(), 12, "{:?}", plan[2].kinds);
    }

    #[test]
    fn helm_release_annotations_make_an_inventory() {
        let doc = driftlint_yaml::parse_documents(
            "t.yaml".into(),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {app.kubernetes.io/managed-by: Helm, app.kubernetes.io/instance: web}\n  namespace: shop\n",
        )
        .expect("parses");
        let q = plan(&doc, None);
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].inventory, "helm:shop/web");
        let origin = Origin::new("x".into(), 1, 1);
        let other_release = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "shop",
            "labels": {"app.kubernetes.io/managed-by": "Helm"},
            "annotations": {"meta.helm.sh/release-name": "api", "meta.helm.sh/release-namespace": "shop"}}});
        let mut ours = other_release.clone();
        ours["metadata"]["annotations"]["meta.helm.sh/release-name"] = json!("web");
        let found = orphans(
            &[ObjectRef::of(&doc[0])],
            &q[0],
            &[other_release, ours],
            &origin,
            "chart",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].object.name, "b");
    }

    #[test]
    fn the_orphan_configmap_is_found_and_opt_outs_are_respected() {
        let desired = fixtures::desired();
        let refs: Vec<ObjectRef> = desired.iter().map(ObjectRef::of).collect();
        let query = plan(&desired, None).remove(0);
        let mut live = listed("list.raw.configmaps.json", "v1", "ConfigMap");
        let origin = Origin::new("clusters/prod/apps.yaml".into(), 3, 1);
        let found = orphans(&refs, &query, &live, &origin, "clusters/prod");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].object.to_string(), "ConfigMap shop/orphan");
        assert_eq!(found[0].origin, origin);
        assert_eq!(
            found[0].drift,
            DriftKind::Orphaned {
                inventory: "flux:flux-system/apps".into()
            }
        );
        for item in &mut live {
            item["metadata"]["annotations"] =
                json!({"kustomize.toolkit.fluxcd.io/prune": "disabled"});
        }
        assert_eq!(
            orphans(&refs, &query, &live, &origin, "clusters/prod"),
            vec![]
        );
    }

    #[test]
    fn selectors_are_rechecked() {
        let obj = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
        assert!(selector_matches("a=1,b==2", &obj));
        assert!(selector_matches("a,!c,b!=3", &obj));
        assert!(!selector_matches("a=2", &obj));
        assert!(!selector_matches("c", &obj));
        assert!(selector_matches("a in (1,2)", &obj));
    }

    #[test]
    fn hpa_targets_come_from_desired_and_live_autoscalers() {
        let desired = fixtures::desired();
        let targets = hpa_targets(&desired, &[]);
        let names: Vec<String> = targets.iter().map(ToString::to_string).collect();
        assert_eq!(names, vec!["Deployment podinfo/podinfo"]);
        let keda = json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "metadata": {"name": "s", "namespace": "shop"}, "spec": {"scaleTargetRef": {"name": "web"}}});
        let targets = hpa_targets(&[], &[keda]);
        assert_eq!(
            targets
                .into_iter()
                .next()
                .map(|t| (t.api_version.clone(), t.to_string())),
            Some(("apps/v1".into(), "Deployment shop/web".into()))
        );
    }
}
