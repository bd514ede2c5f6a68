//! The slice of the Kubernetes OpenAPI schema that server-side apply needs here: which
//! lists are associative (`x-kubernetes-list-type: map` and their keys, with key
//! defaults), which are sets, and which maps/structs are atomic. Paths are field names
//! from the object root with `[]` standing for "an item of this list".

use serde_json::{json, Value};

/// How a list is merged and tracked in managedFields.
#[derive(Debug, Clone, PartialEq)]
pub enum ListType {
    /// Items identified by these key fields (`k:{...}`); a key field may have a
    /// schema default (container/Service port `protocol` defaults to `TCP`).
    Map(Vec<(&'static str, Option<Value>)>),
    /// Scalar items identified by value (`v:...`), e.g. `metadata.finalizers`.
    Set,
    /// Replaced whole, owned as one leaf.
    Atomic,
}

const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// The list type of the list at `path` in an object of `kind`.
pub fn list_type(kind: &str, path: &[&str]) -> ListType {
    let Some(last) = path.last() else {
        return ListType::Atomic;
    };
    let name = |k: &'static str| ListType::Map(vec![(k, None)]);
    match *last {
        "containers" | "initContainers" | "ephemeralContainers" => name("name"),
        "env" | "volumes" | "imagePullSecrets" | "resourceClaims" => name("name"),
        "volumeMounts" => name("mountPath"),
        "volumeDevices" => name("devicePath"),
        "hostAliases" => name("ip"),
        "conditions" => name("type"),
        "ownerReferences" => name("uid"),
        "topologySpreadConstraints" => {
            ListType::Map(vec![("topologyKey", None), ("whenUnsatisfiable", None)])
        }
        "finalizers" if path == ["metadata", "finalizers"] => ListType::Set,
        "ports" if is_container_item(path) => ListType::Map(vec![
            ("containerPort", None),
            ("protocol", Some(json!("TCP"))),
        ]),
        "ports" if kind == "Service" && path == ["spec", "ports"] => {
            ListType::Map(vec![("port", None), ("protocol", Some(json!("TCP")))])
        }
        _ => ListType::Atomic,
    }
}

fn is_container_item(path: &[&str]) -> bool {
    path.len() >= 3
        && path[path.len() - 2] == "[]"
        && CONTAINER_LISTS.contains(&path[path.len() - 3])
}

/// Whether the map at `path` is atomic (`x-kubernetes-map-type: atomic` or
/// `+structType=atomic`): LabelSelectors, Service `spec.selector`, RBAC `roleRef`.
pub fn atomic_map(_kind: &str, path: &[&str]) -> bool {
    matches!(
        path.last().copied(),
        Some("selector" | "labelSelector" | "namespaceSelector" | "podSelector" | "roleRef")
    )
}

/// Whether objects of this kind carry `metadata.generation` (README point 2): workload
/// controllers, CRDs and custom resources; not ConfigMap, Secret, Service,
/// ServiceAccount, Namespace, HPA or RBAC objects.
pub fn has_generation(group: &str, kind: &str) -> bool {
    const BUILTIN_GROUPS: [&str; 8] = [
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "apiextensions.k8s.io",
    ];
    let workload = matches!(
        kind,
        "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "Job"
            | "CronJob"
            | "CustomResourceDefinition"
            | "PodDisruptionBudget"
            | "Ingress"
            | "NetworkPolicy"
    );
    let custom = !BUILTIN_GROUPS.contains(&group) && !group.ends_with(".k8s.io");
    workload || custom
}

/// Known fields of a few built-in types, for the "field not declared in schema" 500 the
/// typed patch conversion returns. `None` = not checked (custom resources are
/// preserved-unknown here, and most built-ins are not listed).
pub fn known_fields(kind: &str, path: &[&str]) -> Option<&'static [&'static str]> {
    const TOP_SPEC_STATUS: &[&str] = &["apiVersion", "kind", "metadata", "spec", "status"];
    const METADATA: &[&str] = &[
        "name",
        "generateName",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
        "selfLink",
    ];
    const DEPLOYMENT_SPEC: &[&str] = &[
        "replicas",
        "selector",
        "template",
        "strategy",
        "minReadySeconds",
        "revisionHistoryLimit",
        "paused",
        "progressDeadlineSeconds",
    ];
    const SERVICE_SPEC: &[&str] = &[
        "ports",
        "selector",
        "clusterIP",
        "clusterIPs",
        "type",
        "externalIPs",
        "sessionAffinity",
        "loadBalancerIP",
        "loadBalancerSourceRanges",
        "externalName",
        "externalTrafficPolicy",
        "healthCheckNodePort",
        "publishNotReadyAddresses",
        "sessionAffinityConfig",
        "ipFamilies",
        "ipFamilyPolicy",
        "allocateLoadBalancerNodePorts",
        "loadBalancerClass",
        "internalTrafficPolicy",
        "trafficDistribution",
    ];
    match (kind, path) {
        (_, ["metadata"]) => Some(METADATA),
        ("ConfigMap", []) => Some(&[
            "apiVersion",
            "kind",
            "metadata",
            "data",
            "binaryData",
            "immutable",
        ]),
        ("Secret", []) => Some(&[
            "apiVersion",
            "kind",
            "metadata",
            "data",
            "stringData",
            "type",
            "immutable",
        ]),
        ("ServiceAccount", []) => Some(&[
            "apiVersion",
            "kind",
            "metadata",
            "secrets",
            "imagePullSecrets",
            "automountServiceAccountToken",
        ]),
        ("Deployment" | "Service" | "Namespace" | "StatefulSet" | "DaemonSet", []) => {
            Some(TOP_SPEC_STATUS)
        }
        ("Deployment", ["spec"]) => Some(DEPLOYMENT_SPEC),
        ("Service", ["spec"]) => Some(SERVICE_SPEC),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_types() {
        let c = ["spec", "template", "spec", "containers", "[]", "ports"];
        assert!(matches!(list_type("Deployment", &c), ListType::Map(k) if k.len() == 2));
        assert!(
            matches!(list_type("Service", &["spec", "ports"]), ListType::Map(k) if k[0].0 == "port")
        );
        assert_eq!(
            list_type(
                "Deployment",
                &["spec", "template", "spec", "containers", "[]", "command"]
            ),
            ListType::Atomic
        );
        assert_eq!(
            list_type("ConfigMap", &["metadata", "finalizers"]),
            ListType::Set
        );
        assert!(atomic_map("Deployment", &["spec", "selector"]));
        assert!(has_generation("apps", "Deployment"));
        assert!(has_generation("cert-manager.io", "Certificate"));
        assert!(!has_generation("autoscaling", "HorizontalPodAutoscaler"));
        assert!(!has_generation("", "ConfigMap"));
    }
}
