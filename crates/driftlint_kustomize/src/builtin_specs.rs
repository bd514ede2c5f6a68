//! kustomize's builtin transformer configuration (api/konfig/builtinpluginconsts): the
//! default field specs of each builtin transformer and the builtin `nameReference`
//! back references, from which [`TransformerConfig`](super::config::TransformerConfig)
//! starts. Plain tables, with no dependency on the transformers that use them.

use super::fieldspec::{BackRef, FieldSpec};
use super::resid::Gvk;

/// The field specs of `metadata/labels` and pod-template labels (kustomize
/// `metadataLabelsFieldSpecs`, the `templateLabels` configuration).
pub fn template_labels() -> Vec<FieldSpec> {
    let mut v = vec![FieldSpec::new("", "", "", "metadata/labels", true)];
    let t = "spec/template/metadata/labels";
    v.push(FieldSpec::new("", "v1", "ReplicationController", t, true));
    v.push(FieldSpec::new("", "", "Deployment", t, true));
    v.push(FieldSpec::new("", "", "ReplicaSet", t, true));
    v.push(FieldSpec::new("", "", "DaemonSet", t, true));
    v.push(FieldSpec::new("apps", "", "StatefulSet", t, true));
    v.push(FieldSpec::new(
        "apps",
        "",
        "StatefulSet",
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ));
    v.push(FieldSpec::new("batch", "", "Job", t, true));
    v.push(FieldSpec::new(
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/metadata/labels",
        true,
    ));
    v.push(FieldSpec::new(
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ));
    v
}

/// The field specs kustomize's `commonLabels` configuration lists: selectors first, then
/// [`template_labels`].
pub fn common_labels() -> Vec<FieldSpec> {
    let aff = "spec/template/spec/affinity";
    let terms = [
        "podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        "podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        "podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        "podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    ];
    let spread = "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels";
    let mut v = vec![
        FieldSpec::new("", "v1", "Service", "spec/selector", true),
        FieldSpec::new("", "v1", "ReplicationController", "spec/selector", true),
        FieldSpec::new("", "", "Deployment", "spec/selector/matchLabels", true),
    ];
    for t in terms {
        v.push(FieldSpec::new(
            "apps",
            "",
            "Deployment",
            &format!("{aff}/{t}"),
            false,
        ));
    }
    v.push(FieldSpec::new("apps", "", "Deployment", spread, false));
    v.push(FieldSpec::new(
        "",
        "",
        "ReplicaSet",
        "spec/selector/matchLabels",
        true,
    ));
    v.push(FieldSpec::new(
        "",
        "",
        "DaemonSet",
        "spec/selector/matchLabels",
        true,
    ));
    v.push(FieldSpec::new(
        "apps",
        "",
        "StatefulSet",
        "spec/selector/matchLabels",
        true,
    ));
    for t in terms {
        v.push(FieldSpec::new(
            "apps",
            "",
            "StatefulSet",
            &format!("{aff}/{t}"),
            false,
        ));
    }
    v.push(FieldSpec::new("apps", "", "StatefulSet", spread, false));
    v.push(FieldSpec::new(
        "batch",
        "",
        "Job",
        "spec/selector/matchLabels",
        false,
    ));
    v.push(FieldSpec::new(
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/selector/matchLabels",
        false,
    ));
    v.push(FieldSpec::new(
        "policy",
        "",
        "PodDisruptionBudget",
        "spec/selector/matchLabels",
        false,
    ));
    let np = "networking.k8s.io";
    v.push(FieldSpec::new(
        np,
        "",
        "NetworkPolicy",
        "spec/podSelector/matchLabels",
        false,
    ));
    v.push(FieldSpec::new(
        np,
        "",
        "NetworkPolicy",
        "spec/ingress/from/podSelector/matchLabels",
        false,
    ));
    v.push(FieldSpec::new(
        np,
        "",
        "NetworkPolicy",
        "spec/egress/to/podSelector/matchLabels",
        false,
    ));
    v.extend(template_labels());
    v
}

/// kustomize's `commonAnnotations` field specs.
pub fn common_annotations() -> Vec<FieldSpec> {
    let t = "spec/template/metadata/annotations";
    vec![
        FieldSpec::new("", "", "", "metadata/annotations", true),
        FieldSpec::new("", "v1", "ReplicationController", t, true),
        FieldSpec::new("", "", "Deployment", t, true),
        FieldSpec::new("", "", "ReplicaSet", t, true),
        FieldSpec::new("", "", "DaemonSet", t, true),
        FieldSpec::new("", "", "StatefulSet", t, true),
        FieldSpec::new("batch", "", "Job", t, true),
        FieldSpec::new(
            "batch",
            "",
            "CronJob",
            "spec/jobTemplate/metadata/annotations",
            true,
        ),
        FieldSpec::new(
            "batch",
            "",
            "CronJob",
            "spec/jobTemplate/spec/template/metadata/annotations",
            true,
        ),
    ]
}

/// kustomize's `images` field specs.
pub fn images() -> Vec<FieldSpec> {
    [
        "spec/containers[]/image",
        "spec/initContainers[]/image",
        "spec/volumes[]/image/reference",
        "spec/template/spec/containers[]/image",
        "spec/template/spec/initContainers[]/image",
        "spec/template/spec/volumes[]/image/reference",
    ]
    .iter()
    .map(|p| FieldSpec::new("", "", "", p, true))
    .collect()
}

/// kustomize's `replicas` field specs.
pub fn replicas() -> Vec<FieldSpec> {
    [
        "Deployment",
        "ReplicationController",
        "ReplicaSet",
        "StatefulSet",
    ]
    .iter()
    .map(|k| FieldSpec::new("", "", k, "spec/replicas", true))
    .collect()
}

/// Field specs of kustomize's namespace configuration beyond `metadata/namespace` and
/// `subjects`, which are handled by dedicated code as kustomize does.
pub fn namespace() -> Vec<FieldSpec> {
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

/// kustomize's default `varReference` field specs.
pub fn var_reference() -> Vec<FieldSpec> {
    let mut v = Vec::new();
    let pod = [
        "containers/args",
        "containers/command",
        "containers/env/value",
        "containers/volumeMounts/mountPath",
        "initContainers/args",
        "initContainers/command",
        "initContainers/env/value",
        "initContainers/volumeMounts/mountPath",
        "volumes/nfs/server",
    ];
    let prefixes = [
        ("CronJob", "spec/jobTemplate/spec/template/spec"),
        ("DaemonSet", "spec/template/spec"),
        ("Deployment", "spec/template/spec"),
        ("Job", "spec/template/spec"),
        ("Pod", "spec"),
        ("ReplicaSet", "spec/template/spec"),
        ("StatefulSet", "spec/template/spec"),
    ];
    for (kind, prefix) in prefixes {
        for p in pod {
            if kind == "StatefulSet" && p == "volumes/nfs/server" {
                continue;
            }
            v.push(FieldSpec::new(
                "",
                "",
                kind,
                &format!("{prefix}/{p}"),
                false,
            ));
        }
    }
    for (kind, path) in [
        ("Ingress", "spec/rules/host"),
        ("Ingress", "spec/tls/hosts"),
        ("Ingress", "spec/tls/secretName"),
        ("Service", "spec/ports/port"),
        ("Service", "spec/ports/targetPort"),
        ("StatefulSet", "spec/volumeClaimTemplates/spec/nfs/server"),
        ("PersistentVolume", "spec/nfs/server"),
        ("", "metadata/labels"),
        ("", "metadata/annotations"),
    ] {
        v.push(FieldSpec::new("", "", kind, path, false));
    }
    v
}

fn gvk(group: &str, version: &str, kind: &str) -> Gvk {
    Gvk {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
    }
}

const WORKLOADS: [&str; 5] = [
    "Deployment",
    "ReplicaSet",
    "DaemonSet",
    "StatefulSet",
    "Job",
];

/// Field specs for `suffixes` under the pod spec of Pods, the workload kinds and CronJobs.
fn pod_specs(suffixes: &[&str], workloads: &[&str]) -> Vec<FieldSpec> {
    let mut v = Vec::new();
    for s in suffixes {
        v.push(FieldSpec::new("", "v1", "Pod", &format!("spec/{s}"), false));
    }
    for w in workloads {
        for s in suffixes {
            v.push(FieldSpec::new(
                "",
                "",
                w,
                &format!("spec/template/spec/{s}"),
                false,
            ));
        }
    }
    for s in suffixes {
        v.push(FieldSpec::new(
            "",
            "",
            "CronJob",
            &format!("spec/jobTemplate/spec/template/spec/{s}"),
            false,
        ));
    }
    v
}

fn fs(group: &str, version: &str, kind: &str, path: &str) -> FieldSpec {
    FieldSpec::new(group, version, kind, path, false)
}

/// kustomize's builtin nameReference configuration.
pub fn name_reference() -> Vec<BackRef> {
    let hpa = |k: &str| BackRef {
        target: gvk("", "", k),
        referrers: vec![fs(
            "",
            "",
            "HorizontalPodAutoscaler",
            "spec/scaleTargetRef/name",
        )],
    };
    let mut cm = pod_specs(
        &[
            "volumes/configMap/name",
            "containers/env/valueFrom/configMapKeyRef/name",
            "initContainers/env/valueFrom/configMapKeyRef/name",
            "containers/envFrom/configMapRef/name",
            "initContainers/envFrom/configMapRef/name",
            "volumes/projected/sources/configMap/name",
        ],
        &WORKLOADS,
    );
    cm.extend([
        fs("", "", "Node", "spec/configSource/configMap"),
        fs("", "", "Role", "rules/resourceNames"),
        fs("", "", "ClusterRole", "rules/resourceNames"),
        fs(
            "",
            "",
            "Ingress",
            "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap",
        ),
        fs(
            "serving.knative.dev",
            "v1",
            "Service",
            "spec/template/spec/containers/env/valueFrom/configMapKeyRef/name",
        ),
        fs(
            "serving.knative.dev",
            "v1",
            "Service",
            "spec/template/spec/containers/envFrom/configMapRef/name",
        ),
    ]);
    let mut secret = pod_specs(
        &[
            "volumes/secret/secretName",
            "containers/env/valueFrom/secretKeyRef/name",
            "initContainers/env/valueFrom/secretKeyRef/name",
            "containers/envFrom/secretRef/name",
            "initContainers/envFrom/secretRef/name",
            "imagePullSecrets/name",
            "volumes/projected/sources/secret/name",
        ],
        &WORKLOADS,
    );
    secret.extend([
        fs("", "", "Ingress", "spec/tls/secretName"),
        fs(
            "",
            "",
            "Ingress",
            "metadata/annotations/ingress.kubernetes.io\\/auth-secret",
        ),
        fs(
            "",
            "",
            "Ingress",
            "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret",
        ),
        fs(
            "",
            "",
            "Ingress",
            "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret",
        ),
        fs("", "", "ServiceAccount", "imagePullSecrets/name"),
        fs("", "", "StorageClass", "parameters/secretName"),
        fs("", "", "StorageClass", "parameters/adminSecretName"),
        fs("", "", "StorageClass", "parameters/userSecretName"),
        fs("", "", "StorageClass", "parameters/secretRef"),
        fs("", "", "Role", "rules/resourceNames"),
        fs("", "", "ClusterRole", "rules/resourceNames"),
        fs(
            "serving.knative.dev",
            "v1",
            "Service",
            "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
        ),
        fs("", "", "PersistentVolume", "spec/azureFile/secretName"),
    ]);
    let rbac = "rbac.authorization.k8s.io";
    let adm = "admissionregistration.k8s.io";
    let sa_workloads = [
        "StatefulSet",
        "Deployment",
        "ReplicationController",
        "Job",
        "DaemonSet",
    ];
    let mut sa = vec![
        fs(rbac, "", "RoleBinding", "subjects"),
        fs(rbac, "", "ClusterRoleBinding", "subjects"),
        fs("", "", "Pod", "spec/serviceAccountName"),
    ];
    sa.extend(
        sa_workloads
            .iter()
            .map(|k| fs("", "", k, "spec/template/spec/serviceAccountName")),
    );
    sa.push(fs(
        "",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/spec/serviceAccountName",
    ));
    let pvc_workloads = [
        "StatefulSet",
        "Deployment",
        "ReplicationController",
        "Job",
        "DaemonSet",
    ];
    let mut pvc = vec![fs(
        "",
        "",
        "Pod",
        "spec/volumes/persistentVolumeClaim/claimName",
    )];
    pvc.extend(pvc_workloads.iter().map(|k| {
        fs(
            "",
            "",
            k,
            "spec/template/spec/volumes/persistentVolumeClaim/claimName",
        )
    }));
    pvc.push(fs(
        "",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/spec/volumes/persistentVolumeClaim/claimName",
    ));
    let mut prio = vec![fs("", "", "Pod", "spec/priorityClassName")];
    prio.extend(
        pvc_workloads
            .iter()
            .map(|k| fs("", "", k, "spec/template/spec/priorityClassName")),
    );
    prio.push(fs(
        "",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/spec/priorityClassName",
    ));
    vec![
        hpa("Deployment"),
        hpa("ReplicationController"),
        hpa("ReplicaSet"),
        hpa("StatefulSet"),
        BackRef {
            target: gvk("", "v1", "ConfigMap"),
            referrers: cm,
        },
        BackRef {
            target: gvk("", "v1", "Secret"),
            referrers: secret,
        },
        BackRef {
            target: gvk("", "v1", "Service"),
            referrers: vec![
                fs("apps", "", "StatefulSet", "spec/serviceName"),
                fs(
                    "",
                    "",
                    "Ingress",
                    "spec/rules/http/paths/backend/serviceName",
                ),
                fs("", "", "Ingress", "spec/backend/serviceName"),
                fs(
                    "",
                    "",
                    "Ingress",
                    "spec/rules/http/paths/backend/service/name",
                ),
                fs("", "", "Ingress", "spec/defaultBackend/service/name"),
                fs(
                    "apiregistration.k8s.io",
                    "",
                    "APIService",
                    "spec/service/name",
                ),
                fs(
                    adm,
                    "",
                    "ValidatingWebhookConfiguration",
                    "webhooks/clientConfig/service",
                ),
                fs(
                    adm,
                    "",
                    "MutatingWebhookConfiguration",
                    "webhooks/clientConfig/service",
                ),
            ],
        },
        BackRef {
            target: gvk(rbac, "", "Role"),
            referrers: vec![fs(rbac, "", "RoleBinding", "roleRef/name")],
        },
        BackRef {
            target: gvk(rbac, "", "ClusterRole"),
            referrers: vec![
                fs(rbac, "", "RoleBinding", "roleRef/name"),
                fs(rbac, "", "ClusterRoleBinding", "roleRef/name"),
            ],
        },
        BackRef {
            target: gvk("", "v1", "ServiceAccount"),
            referrers: sa,
        },
        BackRef {
            target: gvk("", "v1", "PersistentVolumeClaim"),
            referrers: pvc,
        },
        BackRef {
            target: gvk("", "v1", "PersistentVolume"),
            referrers: vec![
                fs("", "", "PersistentVolumeClaim", "spec/volumeName"),
                fs("", "", "ClusterRole", "rules/resourceNames"),
            ],
        },
        BackRef {
            target: gvk("storage.k8s.io", "v1", "StorageClass"),
            referrers: vec![
                fs("", "", "PersistentVolume", "spec/storageClassName"),
                fs("", "", "PersistentVolumeClaim", "spec/storageClassName"),
                fs(
                    "",
                    "",
                    "StatefulSet",
                    "spec/volumeClaimTemplates/spec/storageClassName",
                ),
            ],
        },
        BackRef {
            target: gvk("scheduling.k8s.io", "v1", "PriorityClass"),
            referrers: prio,
        },
        // kustomize writes this group with a version suffix, so it never matches; kept as is.
        BackRef {
            target: gvk("networking.k8s.io/v1", "v1", "IngressClass"),
            referrers: vec![fs("", "", "Ingress", "spec/ingressClassName")],
        },
    ]
}
