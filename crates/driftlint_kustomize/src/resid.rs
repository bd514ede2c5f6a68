//! Resource identity as kustomize tracks it (kyaml `resid.Gvk` and `resid.ResId`).

use std::fmt;

/// Group, version and kind of an object, parsed from `apiVersion` and `kind`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Gvk {
    /// API group (`apps`); empty for the core group.
    pub group: String,
    /// API version (`v1`).
    pub version: String,
    /// Kind (`Deployment`).
    pub kind: String,
}

impl Gvk {
    /// Parses `apiVersion` as kyaml's `ParseGroupVersion` does (`apps/v1` -> `apps`, `v1`).
    pub fn from_api_version(api_version: &str, kind: &str) -> Gvk {
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        Gvk {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        }
    }

    /// The `apiVersion` string (`apps/v1`, `v1`).
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// True when `selector` selects this GVK: empty selector fields are wildcards
    /// (kyaml `Gvk.IsSelected`).
    pub fn is_selected(&self, selector: &Gvk) -> bool {
        (selector.group.is_empty() || selector.group == self.group)
            && (selector.version.is_empty() || selector.version == self.version)
            && (selector.kind.is_empty() || selector.kind == self.kind)
    }

    /// True when the type is certainly cluster-scoped per kustomize's embedded OpenAPI data
    /// (Kubernetes v1.21.2). Unknown types (CRDs) are namespaced, as in kustomize.
    pub fn is_cluster_scoped(&self) -> bool {
        let av = self.api_version();
        CLUSTER_SCOPED.iter().any(|(versions, kinds)| {
            versions.contains(&av.as_str()) && kinds.contains(&&*self.kind)
        })
    }

    /// kyaml's `Gvk.String()`: `kind.version.group` with placeholders for empty parts.
    pub fn id_string(&self) -> String {
        let or = |s: &str, d: &str| {
            if s.is_empty() {
                d.to_string()
            } else {
                s.to_string()
            }
        };
        format!(
            "{}.{}.{}",
            or(&self.kind, "[noKind]"),
            or(&self.version, "[noVer]"),
            or(&self.group, "[noGrp]")
        )
    }
}

/// Cluster-scoped types of Kubernetes v1.21.2 (kustomize's embedded schema), by apiVersion.
const CLUSTER_SCOPED: &[(&[&str], &[&str])] = &[
    (
        &["v1"],
        &["Namespace", "Node", "PersistentVolume", "ComponentStatus"],
    ),
    (
        &[
            "admissionregistration.k8s.io/v1",
            "admissionregistration.k8s.io/v1beta1",
        ],
        &[
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        ],
    ),
    (
        &["apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1"],
        &["CustomResourceDefinition"],
    ),
    (
        &[
            "apiregistration.k8s.io/v1",
            "apiregistration.k8s.io/v1beta1",
        ],
        &["APIService"],
    ),
    (
        &["authentication.k8s.io/v1", "authentication.k8s.io/v1beta1"],
        &["TokenReview"],
    ),
    (
        &["authorization.k8s.io/v1", "authorization.k8s.io/v1beta1"],
        &[
            "SelfSubjectAccessReview",
            "SelfSubjectRulesReview",
            "SubjectAccessReview",
        ],
    ),
    (
        &["certificates.k8s.io/v1", "certificates.k8s.io/v1beta1"],
        &["CertificateSigningRequest"],
    ),
    (
        &[
            "flowcontrol.apiserver.k8s.io/v1alpha1",
            "flowcontrol.apiserver.k8s.io/v1beta1",
        ],
        &["FlowSchema", "PriorityLevelConfiguration"],
    ),
    (
        &["networking.k8s.io/v1", "networking.k8s.io/v1beta1"],
        &["IngressClass"],
    ),
    (
        &[
            "node.k8s.io/v1",
            "node.k8s.io/v1beta1",
            "node.k8s.io/v1alpha1",
        ],
        &["RuntimeClass"],
    ),
    (&["policy/v1beta1"], &["PodSecurityPolicy"]),
    (
        &[
            "rbac.authorization.k8s.io/v1",
            "rbac.authorization.k8s.io/v1beta1",
            "rbac.authorization.k8s.io/v1alpha1",
        ],
        &["ClusterRole", "ClusterRoleBinding"],
    ),
    (
        &[
            "scheduling.k8s.io/v1",
            "scheduling.k8s.io/v1beta1",
            "scheduling.k8s.io/v1alpha1",
        ],
        &["PriorityClass"],
    ),
    (
        &["storage.k8s.io/v1", "storage.k8s.io/v1beta1"],
        &["StorageClass", "VolumeAttachment", "CSIDriver", "CSINode"],
    ),
    (&["storage.k8s.io/v1alpha1"], &["VolumeAttachment"]),
    (&["internal.apiserver.k8s.io/v1alpha1"], &["StorageVersion"]),
];

/// An object's identity: GVK, name and namespace (kyaml `resid.ResId`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResId {
    /// The object's type.
    pub gvk: Gvk,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` as written (may be empty).
    pub namespace: String,
}

impl ResId {
    /// The namespace kustomize compares: empty for cluster-scoped types, `default` for a
    /// namespaced object without one (kyaml `EffectiveNamespace`).
    pub fn effective_namespace(&self) -> &str {
        if self.gvk.is_cluster_scoped() {
            "_non_namespaceable_"
        } else if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }

    /// kyaml `ResId.Equals`: same GVK, name and effective namespace (the engine compares
    /// `resmap::IdKey`s, which are equal exactly when this holds).
    #[cfg(test)]
    pub fn equals(&self, other: &ResId) -> bool {
        self.gvk == other.gvk
            && self.name == other.name
            && self.effective_namespace() == other.effective_namespace()
    }
}

impl fmt::Display for ResId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = if self.namespace.is_empty() {
            "[noNs]"
        } else {
            &self.namespace
        };
        write!(f, "{}/{}.{}", self.gvk.id_string(), self.name, ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_group_version() {
        let g = Gvk::from_api_version("apps/v1", "Deployment");
        assert_eq!((g.group.as_str(), g.version.as_str()), ("apps", "v1"));
        assert_eq!(g.api_version(), "apps/v1");
        let core = Gvk::from_api_version("v1", "Service");
        assert_eq!(core.group, "");
        assert_eq!(core.api_version(), "v1");
    }

    #[test]
    fn selection_uses_wildcards() {
        let g = Gvk::from_api_version("apps/v1", "Deployment");
        assert!(g.is_selected(&Gvk::from_api_version("", "Deployment")));
        assert!(!g.is_selected(&Gvk::from_api_version("extensions/v1beta1", "Deployment")));
    }

    #[test]
    fn cluster_scope_follows_kustomize_schema() {
        assert!(Gvk::from_api_version("v1", "Namespace").is_cluster_scoped());
        assert!(
            Gvk::from_api_version("rbac.authorization.k8s.io/v1", "ClusterRole")
                .is_cluster_scoped()
        );
        assert!(!Gvk::from_api_version("cert-manager.io/v1", "ClusterIssuer").is_cluster_scoped());
        assert!(!Gvk::from_api_version("v1", "ConfigMap").is_cluster_scoped());
    }

    #[test]
    fn effective_namespace_defaults() {
        let id = ResId {
            gvk: Gvk::from_api_version("v1", "ConfigMap"),
            name: "a".into(),
            namespace: String::new(),
        };
        let mut other = id.clone();
        other.namespace = "default".into();
        assert!(id.equals(&other));
    }
}
