//! Server-side defaulting of kube-apiserver v1.36 for the kinds drift tests use
//! (README point 1): Deployment/StatefulSet/DaemonSet, pod templates and containers,
//! Service, Namespace, CRD, Secret, HPA. Only missing fields are filled, as the
//! apiserver's defaulters do on every write.

use crate::util::cluster_ip_from;
use serde_json::{json, Map, Value};

/// Context for defaults that are allocated rather than constant.
pub struct DefaultCtx<'a> {
    /// Seed for the ClusterIP allocation (`namespace/name`).
    pub seed: &'a str,
    /// The object is being created (allocates ClusterIPs, sets create-only status).
    pub create: bool,
}

/// Applies the defaults of `kind` to `obj`.
pub fn apply_defaults(kind: &str, obj: &mut Value, ctx: &DefaultCtx) {
    match kind {
        "Deployment" => deployment(obj),
        "StatefulSet" => statefulset(obj),
        "DaemonSet" => daemonset(obj),
        "ReplicaSet" | "Job" => template_at(obj, &["spec", "template"]),
        "Service" => service(obj, ctx),
        "Namespace" => namespace(obj),
        "CustomResourceDefinition" => crd(obj, ctx),
        "Secret" => fill(obj, "type", json!("Opaque")),
        "HorizontalPodAutoscaler" => hpa(obj),
        _ => {}
    }
}

fn fill(obj: &mut Value, key: &str, v: Value) {
    if let Some(m) = obj.as_object_mut() {
        m.entry(key.to_string()).or_insert(v);
    }
}

fn child<'a>(obj: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    let m = obj.as_object_mut()?;
    Some(
        m.entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new())),
    )
}

fn at<'a>(obj: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    let mut cur = obj;
    for p in path {
        cur = cur.get_mut(*p)?;
    }
    Some(cur)
}

fn deployment(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec") else {
        return;
    };
    fill(spec, "replicas", json!(1));
    fill(spec, "progressDeadlineSeconds", json!(600));
    fill(spec, "revisionHistoryLimit", json!(10));
    if let Some(strategy) = child(spec, "strategy") {
        fill(strategy, "type", json!("RollingUpdate"));
        if strategy.get("type") == Some(&json!("RollingUpdate")) {
            if let Some(ru) = child(strategy, "rollingUpdate") {
                fill(ru, "maxSurge", json!("25%"));
                fill(ru, "maxUnavailable", json!("25%"));
            }
        }
    }
    template_at(obj, &["spec", "template"]);
}

fn statefulset(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec") else {
        return;
    };
    fill(spec, "replicas", json!(1));
    fill(spec, "podManagementPolicy", json!("OrderedReady"));
    fill(spec, "revisionHistoryLimit", json!(10));
    fill(
        spec,
        "persistentVolumeClaimRetentionPolicy",
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
    );
    if let Some(us) = child(spec, "updateStrategy") {
        fill(us, "type", json!("RollingUpdate"));
        if us.get("type") == Some(&json!("RollingUpdate")) {
            if let Some(ru) = child(us, "rollingUpdate") {
                fill(ru, "partition", json!(0));
            }
        }
    }
    template_at(obj, &["spec", "template"]);
}

fn daemonset(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec") else {
        return;
    };
    fill(spec, "revisionHistoryLimit", json!(10));
    if let Some(us) = child(spec, "updateStrategy") {
        fill(us, "type", json!("RollingUpdate"));
        if us.get("type") == Some(&json!("RollingUpdate")) {
            if let Some(ru) = child(us, "rollingUpdate") {
                fill(ru, "maxSurge", json!(0));
                fill(ru, "maxUnavailable", json!(1));
            }
        }
    }
    template_at(obj, &["spec", "template"]);
}

fn template_at(obj: &mut Value, path: &[&str]) {
    let Some(spec) = at(obj, path).and_then(|t| t.get_mut("spec")) else {
        return;
    };
    fill(spec, "dnsPolicy", json!("ClusterFirst"));
    fill(spec, "restartPolicy", json!("Always"));
    fill(spec, "schedulerName", json!("default-scheduler"));
    fill(spec, "securityContext", json!({}));
    fill(spec, "terminationGracePeriodSeconds", json!(30));
    for list in ["containers", "initContainers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
            cs.iter_mut().for_each(container);
        }
    }
    if let Some(vols) = spec.get_mut("volumes").and_then(Value::as_array_mut) {
        for v in vols {
            for src in ["configMap", "secret"] {
                if let Some(s) = v.get_mut(src) {
                    fill(s, "defaultMode", json!(420));
                }
            }
        }
    }
}

/// `imagePullPolicy` is `Always` for `:latest` or untagged images, else `IfNotPresent`.
fn pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn container(c: &mut Value) {
    let policy = pull_policy(c.get("image").and_then(Value::as_str).unwrap_or(""));
    fill(c, "imagePullPolicy", json!(policy));
    fill(c, "resources", json!({}));
    fill(c, "terminationMessagePath", json!("/dev/termination-log"));
    fill(c, "terminationMessagePolicy", json!("File"));
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        ports
            .iter_mut()
            .for_each(|p| fill(p, "protocol", json!("TCP")));
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe) {
            fill(p, "failureThreshold", json!(3));
            fill(p, "periodSeconds", json!(10));
            fill(p, "successThreshold", json!(1));
            fill(p, "timeoutSeconds", json!(1));
            if let Some(h) = p.get_mut("httpGet") {
                fill(h, "scheme", json!("HTTP"));
            }
        }
    }
    if let Some(res) = c.get_mut("resources") {
        for side in ["limits", "requests"] {
            if let Some(m) = res.get_mut(side).and_then(Value::as_object_mut) {
                for q in m.values_mut().filter(|q| q.is_number()) {
                    *q = json!(q.to_string());
                }
            }
        }
    }
}

fn service(obj: &mut Value, ctx: &DefaultCtx) {
    let Some(spec) = obj.get_mut("spec") else {
        return;
    };
    fill(spec, "type", json!("ClusterIP"));
    let external_name = spec.get("type") == Some(&json!("ExternalName"));
    if ctx.create && !external_name {
        fill(spec, "clusterIP", json!(cluster_ip_from(ctx.seed)));
        let ip = spec.get("clusterIP").cloned().unwrap_or(Value::Null);
        fill(spec, "clusterIPs", json!([ip]));
    }
    if !external_name {
        fill(spec, "internalTrafficPolicy", json!("Cluster"));
        fill(spec, "ipFamilies", json!(["IPv4"]));
        fill(spec, "ipFamilyPolicy", json!("SingleStack"));
    }
    fill(spec, "sessionAffinity", json!("None"));
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            fill(p, "protocol", json!("TCP"));
            let port = p.get("port").cloned().unwrap_or(Value::Null);
            fill(p, "targetPort", port);
        }
    }
    if ctx.create {
        fill(obj, "status", json!({"loadBalancer": {}}));
    }
}

fn namespace(obj: &mut Value) {
    let name = obj
        .pointer("/metadata/name")
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(meta) = obj.get_mut("metadata") {
        if let Some(labels) = child(meta, "labels") {
            fill(labels, "kubernetes.io/metadata.name", name);
        }
    }
    if let Some(spec) = child(obj, "spec") {
        fill(spec, "finalizers", json!(["kubernetes"]));
    }
    if let Some(status) = child(obj, "status") {
        fill(status, "phase", json!("Active"));
    }
}

fn crd(obj: &mut Value, ctx: &DefaultCtx) {
    if let Some(spec) = obj.get_mut("spec") {
        if let Some(conv) = child(spec, "conversion") {
            fill(conv, "strategy", json!("None"));
        }
    }
    if ctx.create {
        // As the CRD strategy's PrepareForCreate: status reset, stored version recorded.
        let stored: Vec<Value> = obj
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|v| v.get("storage") == Some(&json!(true)))
            .filter_map(|v| v.get("name").cloned())
            .collect();
        fill(
            obj,
            "status",
            json!({"acceptedNames": {"plural": "", "kind": ""}, "storedVersions": stored}),
        );
    }
}

fn hpa(obj: &mut Value) {
    let v2 = obj.get("apiVersion") == Some(&json!("autoscaling/v2"));
    let Some(spec) = obj.get_mut("spec") else {
        return;
    };
    fill(spec, "minReplicas", json!(1));
    if v2 {
        fill(
            spec,
            "metrics",
            json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_defaults_as_recorded() {
        let mut d = json!({"spec": {"selector": {}, "template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:latest", "ports": [{"containerPort": 80}]},
            {"name": "b", "image": "redis:8.8.0"}]}}}});
        apply_defaults(
            "Deployment",
            &mut d,
            &DefaultCtx {
                seed: "shop/web",
                create: true,
            },
        );
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(
            d["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
        );
        let c = &d["spec"]["template"]["spec"]["containers"];
        assert_eq!(c[0]["imagePullPolicy"], "Always");
        assert_eq!(c[1]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c[0]["ports"][0]["protocol"], "TCP");
        assert_eq!(
            d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"],
            30
        );
    }

    #[test]
    fn service_and_namespace_defaults() {
        let mut s = json!({"spec": {"ports": [{"port": 80}]}});
        apply_defaults(
            "Service",
            &mut s,
            &DefaultCtx {
                seed: "shop/web",
                create: true,
            },
        );
        assert_eq!(
            s["spec"]["ports"][0],
            json!({"port": 80, "protocol": "TCP", "targetPort": 80})
        );
        assert_eq!(s["spec"]["clusterIPs"][0], s["spec"]["clusterIP"]);
        assert_eq!(s["status"], json!({"loadBalancer": {}}));
        let mut n = json!({"metadata": {"name": "shop"}});
        apply_defaults(
            "Namespace",
            &mut n,
            &DefaultCtx {
                seed: "shop",
                create: true,
            },
        );
        assert_eq!(
            n["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "shop"
        );
        assert_eq!(n["status"]["phase"], "Active");
    }
}
