//! Inventory: which live objects belong to the repository's deployers (Flux Kustomizations,
//! Helm releases, a user selector), which of them the repository no longer declares
//! (orphans), and which objects an autoscaler scales.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::report::ObjectRef;
use crate::yaml::Node;

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
