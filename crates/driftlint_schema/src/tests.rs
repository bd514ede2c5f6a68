//! Tests of the public schema API on the embedded data.

use rayon::prelude::*;
use serde_json::{json, Value};

use super::*;

fn catalog(version: &str) -> Catalog {
    Catalog::builtin(version).expect("embedded version")
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "creationTimestamp": null,
                     "labels": {"app": "web"}, "annotations": {"a": "b"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "web"}, "creationTimestamp": null},
                "spec": {
                    "containers": [{
                        "name": "web",
                        "image": "nginx:1.27",
                        "imagePullPolicy": "IfNotPresent",
                        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": 1, "memory": "128Mi"}},
                        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 10},
                        "livenessProbe": {"tcpSocket": {"port": 8080}},
                        "env": [{"name": "A", "value": "1"}, {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                        "securityContext": {"runAsNonRoot": true, "allowPrivilegeEscalation": false},
                    }],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    })
}

fn pointers(validation: &Validation) -> Vec<(String, String)> {
    match validation {
        Validation::Invalid(found) => found
            .iter()
            .map(|v| (v.pointer.clone(), v.message.clone()))
            .collect(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn catalog_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Catalog>();
}

#[test]
fn versions() {
    assert_eq!(Catalog::supported_versions().len(), 13);
    assert_eq!(Catalog::supported_versions()[0], "1.25");
    assert_eq!(Catalog::newest_version(), "1.37");
    assert_eq!(Catalog::newest().expect("newest").kube_version(), "1.37");
    assert_eq!(catalog("v1.30.2").kube_version(), "1.30");
    let err = Catalog::builtin("1.24")
        .err()
        .expect("1.24 is not embedded");
    assert_eq!(
        err.to_string(),
        "unsupported Kubernetes version \"1.24\": schemas are embedded for \
         1.25, 1.26, 1.27, 1.28, 1.29, 1.30, 1.31, 1.32, 1.33, 1.34, 1.35, 1.36, 1.37"
    );
}

#[test]
fn deployment_validates_on_1_37() {
    let catalog = catalog("1.37");
    assert!(catalog.knows("apps/v1", "Deployment"));
    assert!(catalog.is_builtin_kind("apps/v1", "Deployment"));
    assert_eq!(
        catalog.validate("apps/v1", "Deployment", &deployment(), false),
        Validation::Valid
    );
    assert_eq!(
        catalog.validate("apps/v1", "Deployment", &deployment(), true),
        Validation::Valid
    );
}

#[test]
fn service_with_named_target_port_validates() {
    let service = json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8081}]},
    });
    assert_eq!(
        catalog("1.37").validate("v1", "Service", &service, true),
        Validation::Valid
    );
}

#[test]
fn unknown_field_fails_strict_only() {
    let catalog = catalog("1.37");
    let mut object = deployment();
    object["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = json!("Always");
    assert_eq!(
        catalog.validate("apps/v1", "Deployment", &object, false),
        Validation::Valid
    );
    assert_eq!(
        pointers(&catalog.validate("apps/v1", "Deployment", &object, true)),
        vec![(
            "/spec/template/spec/containers/0/imagePullPolicyy".to_owned(),
            "unknown field \"imagePullPolicyy\"".to_owned()
        )]
    );
}

#[test]
fn wrong_type_and_missing_field_fail() {
    let catalog = catalog("1.37");
    let mut object = deployment();
    object["spec"]["replicas"] = json!("abc");
    object["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] =
        json!("http");
    object["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("selector");
    let expected = vec![
        (
            "/spec".to_owned(),
            "missing required field \"selector\"".to_owned(),
        ),
        (
            "/spec/replicas".to_owned(),
            "\"abc\" is not of type \"integer\"".to_owned(),
        ),
        (
            "/spec/template/spec/containers/0/ports/0/containerPort".to_owned(),
            "\"http\" is not of type \"integer\"".to_owned(),
        ),
    ];
    assert_eq!(
        pointers(&catalog.validate("apps/v1", "Deployment", &object, false)),
        expected
    );
    assert_eq!(
        pointers(&catalog.validate("apps/v1", "Deployment", &object, true)),
        expected
    );
}

#[test]
fn enum_violation_lists_allowed_values() {
    // The built-in schemas pin apiVersion and kind with an enum.
    let mut object = deployment();
    object["apiVersion"] = json!("apps/v1beta2");
    assert_eq!(
        pointers(&catalog("1.37").validate("apps/v1", "Deployment", &object, false)),
        vec![(
            "/apiVersion".to_owned(),
            "\"apps/v1beta2\" is not one of \"apps/v1\"".to_owned()
        )]
    );
}

#[test]
fn removed_api_has_no_schema() {
    let catalog = catalog("1.37");
    let ingress = json!({"apiVersion": "extensions/v1beta1", "kind": "Ingress", "metadata": {"name": "x"}, "spec": {}});
    assert!(!catalog.knows("extensions/v1beta1", "Ingress"));
    assert!(!catalog.is_builtin_kind("extensions/v1beta1", "Ingress"));
    assert_eq!(
        catalog.validate("extensions/v1beta1", "Ingress", &ingress, false),
        Validation::NoSchema
    );
    assert!(catalog.knows("networking.k8s.io/v1", "Ingress"));
    assert_eq!(
        catalog.list_patch_meta("extensions/v1beta1", "Ingress", &["spec"]),
        None
    );
}

#[test]
fn old_apis_exist_in_old_versions() {
    let hpa = json!({
        "apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "minReplicas": 2, "maxReplicas": 5,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
    });
    let old = catalog("1.25");
    assert!(old.is_builtin_kind("autoscaling/v2beta2", "HorizontalPodAutoscaler"));
    assert_eq!(
        old.validate("autoscaling/v2beta2", "HorizontalPodAutoscaler", &hpa, true),
        Validation::Valid
    );
    let new = catalog("1.26");
    assert_eq!(
        new.validate("autoscaling/v2beta2", "HorizontalPodAutoscaler", &hpa, true),
        Validation::NoSchema
    );
}

#[test]
fn fields_follow_the_kubernetes_version() {
    // Service.spec.trafficDistribution appeared in Kubernetes 1.30.
    let service = json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"ports": [{"port": 80}], "trafficDistribution": "PreferClose"},
    });
    assert_eq!(
        pointers(&catalog("1.29").validate("v1", "Service", &service, true)),
        vec![(
            "/spec/trafficDistribution".to_owned(),
            "unknown field \"trafficDistribution\"".to_owned()
        )]
    );
    assert_eq!(
        catalog("1.30").validate("v1", "Service", &service, true),
        Validation::Valid
    );
}

#[test]
fn patch_meta_of_pod_template_lists() {
    let catalog = catalog("1.37");
    let pod_spec = ["spec", "template", "spec"];
    let at = |tail: &[&str]| {
        let path: Vec<&str> = pod_spec.iter().chain(tail).copied().collect();
        catalog.list_patch_meta("apps/v1", "Deployment", &path)
    };
    let containers = at(&["containers"]).expect("containers");
    assert_eq!(containers.merge_key.as_deref(), Some("name"));
    assert_eq!(containers.strategies, vec!["merge"]);
    assert_eq!(containers.list_type.as_deref(), Some("map"));
    assert_eq!(containers.list_map_keys, vec!["name"]);
    let volumes = at(&["volumes"]).expect("volumes");
    assert_eq!(volumes.merge_key.as_deref(), Some("name"));
    assert_eq!(volumes.strategies, vec!["merge", "retainKeys"]);
    let ports = at(&["containers", "ports"]).expect("ports");
    assert_eq!(ports.merge_key.as_deref(), Some("containerPort"));
    assert_eq!(ports.strategies, vec!["merge"]);
    assert_eq!(ports.list_map_keys, vec!["containerPort", "protocol"]);
    let env = at(&["containers", "env"]).expect("env");
    assert_eq!(env.merge_key.as_deref(), Some("name"));
    assert_eq!(at(&["containers", "image"]), Some(PatchMeta::default()));
    assert_eq!(at(&["containers", "nope"]), None);
    let strategy = catalog
        .list_patch_meta("apps/v1", "Deployment", &["spec", "strategy"])
        .expect("strategy");
    assert_eq!(strategy.strategies, vec!["retainKeys"]);
    assert_eq!(catalog.list_patch_meta("apps/v1", "Deployment", &[]), None);
    let finalizers = catalog
        .list_patch_meta("v1", "Pod", &["metadata", "finalizers"])
        .expect("finalizers");
    assert_eq!(finalizers.list_type.as_deref(), Some("set"));
}

fn widget_spec_schema() -> Value {
    json!({
        "type": "object",
        "required": ["size"],
        "properties": {
            "size": {"type": "integer", "minimum": 1, "exclusiveMaximum": true, "maximum": 10},
            "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
            "mode": {"type": "string", "enum": ["fast", "slow"], "default": "fast"},
            "interval": {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"},
            "note": {"type": "string", "nullable": true},
            "values": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "items": {
                "type": "array",
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
            },
        },
    })
}

fn widget_crd() -> Value {
    let schema = json!({
        "type": "object",
        "description": "A widget.",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": widget_spec_schema(),
        },
    });
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.dev"},
        "spec": {
            "group": "example.dev",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": schema}}],
        },
    })
}

#[test]
fn crd_added_at_runtime_validates_its_resources() {
    let mut catalog = catalog("1.37");
    assert!(!catalog.knows("example.dev/v1", "Widget"));
    catalog
        .add_crd(&widget_crd(), "crds/widget.yaml:1")
        .expect("CRD registers");
    assert!(catalog.knows("example.dev/v1", "Widget"));
    assert!(!catalog.is_builtin_kind("example.dev/v1", "Widget"));
    assert_eq!(
        catalog.schema_source("example.dev/v1", "Widget").as_deref(),
        Some("crds/widget.yaml:1")
    );
    let good = json!({
        "apiVersion": "example.dev/v1", "kind": "Widget",
        "metadata": {"name": "w", "labels": {"a": "b"}, "creationTimestamp": null},
        "spec": {"size": 9, "port": "http", "mode": "slow", "interval": "1m30s", "note": null, "mode2": null,
                 "values": {"anything": {"goes": [1, 2]}}, "items": [{"name": "a"}]},
    });
    let mut good_strict = good.clone();
    good_strict["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("mode2");
    assert_eq!(
        catalog.validate("example.dev/v1", "Widget", &good, false),
        Validation::Valid
    );
    assert_eq!(
        catalog.validate("example.dev/v1", "Widget", &good_strict, true),
        Validation::Valid
    );
    let bad = json!({
        "apiVersion": "example.dev/v1", "kind": "Widget",
        "metadata": {"name": "w", "labels": "oops"},
        "spec": {"size": 10, "port": 1.5, "mode": "medium", "interval": "soon", "extra": true, "items": [{}]},
    });
    assert_eq!(
        pointers(&catalog.validate("example.dev/v1", "Widget", &bad, true)),
        vec![
            (
                "/metadata/labels".to_owned(),
                "\"oops\" is not of type \"object\"".to_owned()
            ),
            (
                "/spec/extra".to_owned(),
                "unknown field \"extra\"".to_owned()
            ),
            (
                "/spec/interval".to_owned(),
                "\"soon\" does not match the pattern \"^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$\""
                    .to_owned()
            ),
            (
                "/spec/items/0".to_owned(),
                "missing required field \"name\"".to_owned()
            ),
            (
                "/spec/mode".to_owned(),
                "\"medium\" is not one of \"fast\" or \"slow\"".to_owned()
            ),
            (
                "/spec/port".to_owned(),
                "1.5 is not of type \"integer\" or \"string\"".to_owned()
            ),
            (
                "/spec/size".to_owned(),
                "10 must be less than 10".to_owned()
            ),
        ]
    );
    let meta = catalog
        .list_patch_meta("example.dev/v1", "Widget", &["spec", "items"])
        .expect("items");
    assert_eq!(meta.list_type.as_deref(), Some("map"));
    assert_eq!(meta.list_map_keys, vec!["name"]);
    assert_eq!(
        catalog
            .list_patch_meta("example.dev/v1", "Widget", &["metadata", "ownerReferences"])
            .and_then(|m| m.merge_key),
        Some("uid".to_owned())
    );
}

#[test]
fn crd_without_object_fields_still_accepts_them() {
    let mut crd = widget_crd();
    let props = crd
        .pointer_mut("/spec/versions/0/schema/openAPIV3Schema/properties")
        .expect("props");
    let props = props.as_object_mut().expect("object");
    for field in ["apiVersion", "kind", "metadata"] {
        props.remove(field);
    }
    let mut catalog = catalog("1.37");
    catalog.add_crd(&crd, "w.yaml:1").expect("registers");
    let object = json!({"apiVersion": "example.dev/v1", "kind": "Widget", "metadata": {"name": "w", "bogus": 1}, "spec": {"size": 1}});
    assert_eq!(
        pointers(&catalog.validate("example.dev/v1", "Widget", &object, true)),
        vec![(
            "/metadata/bogus".to_owned(),
            "unknown field \"bogus\"".to_owned()
        )]
    );
}

#[test]
fn broken_crd_schema_fails_at_registration() {
    let mut crd = widget_crd();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        ["interval"]["pattern"] = json!("(?<=a)b");
    let mut catalog = catalog("1.37");
    let err = catalog
        .add_crd(&crd, "w.yaml:7")
        .expect_err("look-behind is not RE2");
    assert!(matches!(err, SchemaError::CrdSchema { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("w.yaml:7: schema of example.dev/v1 Widget does not compile"),
        "{err}"
    );
    assert!(!catalog.knows("example.dev/v1", "Widget"));
}

#[test]
fn replacing_a_crd_drops_cached_validators() {
    let mut catalog = catalog("1.37");
    catalog
        .add_crd(&widget_crd(), "v1.yaml")
        .expect("registers");
    let object = json!({"apiVersion": "example.dev/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1, "color": "red"}});
    assert!(matches!(
        catalog.validate("example.dev/v1", "Widget", &object, true),
        Validation::Invalid(_)
    ));
    let mut crd = widget_crd();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        ["color"] = json!({"type": "string"});
    catalog.add_crd(&crd, "v2.yaml").expect("registers");
    assert_eq!(
        catalog.validate("example.dev/v1", "Widget", &object, true),
        Validation::Valid
    );
}

#[test]
fn bundled_flux_source_is_recorded() {
    let catalog = catalog("1.37");
    let flux = embedded::flux().expect("decodes");
    assert_eq!(catalog.flux_bundle_source(), flux.source);
    assert!(
        flux.source.contains("datreeio/CRDs-catalog@7b1e26e"),
        "{}",
        flux.source
    );
    assert!(flux.kinds.len() > 0);
    assert!(catalog.knows("helm.toolkit.fluxcd.io/v2", "HelmRelease"));
}

#[test]
fn flux_helm_release_validates() {
    let catalog = catalog("1.37");
    let release = json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": "podinfo", "namespace": "podinfo"},
        "spec": {"interval": "10m", "chart": {"spec": {"chart": "podinfo", "version": "6.x",
                 "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}},
                 "values": {"replicaCount": 2}},
    });
    assert!(catalog.knows("helm.toolkit.fluxcd.io/v2", "HelmRelease"));
    assert_eq!(
        catalog.validate("helm.toolkit.fluxcd.io/v2", "HelmRelease", &release, true),
        Validation::Valid
    );
    let mut bad = release.clone();
    bad["spec"]["intervall"] = json!("5m");
    assert_eq!(
        pointers(&catalog.validate("helm.toolkit.fluxcd.io/v2", "HelmRelease", &bad, true)),
        vec![(
            "/spec/intervall".to_owned(),
            "unknown field \"intervall\"".to_owned()
        )]
    );
}

#[test]
fn validators_are_shared_across_threads_and_deterministic() {
    let catalog = catalog("1.37");
    let objects: Vec<Value> = (0..64)
        .map(|i| {
            let mut object = deployment();
            object["metadata"]["name"] = json!(format!("web-{i}"));
            match i % 4 {
                1 => object["spec"]["replicas"] = json!(format!("{i}")),
                2 => {
                    object["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] =
                        json!("Always")
                }
                _ => {}
            }
            object
        })
        .collect();
    let sequential: Vec<Validation> = objects
        .iter()
        .map(|o| catalog.validate("apps/v1", "Deployment", o, true))
        .collect();
    for _ in 0..3 {
        let parallel: Vec<Validation> = objects
            .par_iter()
            .map(|o| catalog.validate("apps/v1", "Deployment", o, true))
            .collect();
        assert_eq!(parallel, sequential);
    }
    assert_eq!(
        sequential
            .iter()
            .filter(|v| **v == Validation::Valid)
            .count(),
        32
    );
    let cache = catalog.validators.read().expect("not poisoned");
    let entry = cache.get("apps/v1", "Deployment").expect("cached");
    assert!(
        entry[1].is_some() && entry[0].is_none(),
        "one strict validator, compiled once"
    );
}

#[test]
fn every_builtin_kind_of_every_version_compiles() {
    for version in Catalog::supported_versions() {
        let catalog = catalog(version);
        let kinds = embedded::KubeVersion::get(version)
            .expect("decodes")
            .kinds_for_tests();
        assert!(kinds.len() > 100, "{version}: {} kinds", kinds.len());
        for (api_version, kind) in kinds {
            for strict in [false, true] {
                let outcome = catalog.validate(
                    &api_version,
                    &kind,
                    &json!({"apiVersion": api_version, "kind": kind}),
                    strict,
                );
                if let Validation::Invalid(found) = &outcome {
                    assert!(
                        !found.iter().any(|v| v.message.contains("does not compile")),
                        "{version} {api_version} {kind}: {found:?}"
                    );
                }
                assert_ne!(
                    outcome,
                    Validation::NoSchema,
                    "{version} {api_version} {kind}"
                );
            }
        }
    }
}

/// Timing probe, not a test of speed: `cargo test --release timing_probe -- --ignored --nocapture`.
#[test]
#[ignore = "prints timings; run on demand in release mode"]
fn timing_probe() {
    use std::time::Instant;
    let start = Instant::now();
    let catalog = catalog("1.37");
    let built = start.elapsed();
    let object = deployment();
    assert_eq!(
        catalog.validate("apps/v1", "Deployment", &object, true),
        Validation::Valid
    );
    let first = start.elapsed();
    let rounds = 20_000;
    let again = Instant::now();
    for _ in 0..rounds {
        assert_eq!(
            catalog.validate("apps/v1", "Deployment", &object, true),
            Validation::Valid
        );
    }
    let per_object = again.elapsed() / rounds;
    let mut bad = object.clone();
    bad["spec"]["replicas"] = json!("x");
    let invalid = Instant::now();
    for _ in 0..1000 {
        assert!(matches!(
            catalog.validate("apps/v1", "Deployment", &bad, true),
            Validation::Invalid(_)
        ));
    }
    let per_invalid = invalid.elapsed() / 1000;
    println!(
        "Catalog::builtin(1.37): {built:?}; + first Deployment validation: {first:?}; \
         per valid Deployment: {per_object:?}; per invalid Deployment: {per_invalid:?}"
    );
}

#[test]
fn apis_served_only_by_newer_versions() {
    let old = catalog("1.33");
    assert_eq!(
        old.served_from("resource.k8s.io/v1", "ResourceClaim"),
        Some("1.34")
    );
    assert_eq!(old.served_from("apps/v1", "Deployment"), None);
    assert_eq!(old.served_from("example.dev/v1", "Widget"), None);
    assert_eq!(
        catalog("1.37").served_from("resource.k8s.io/v1", "ResourceClaim"),
        None
    );
}

#[test]
fn crd_catalog_groups_are_known_and_repository_crds_come_first() {
    let mut catalog = catalog("1.33");
    let api = "external-secrets.io/v1";
    assert!(catalog.knows(api, "ExternalSecret"));
    assert!(catalog.knows_group("external-secrets.io"));
    assert!(catalog.knows_group("fluxcd.controlplane.io"));
    assert!(!catalog.knows_group("example.dev"));
    assert!(catalog
        .kinds_in_group("external-secrets.io")
        .contains(&("v1".to_owned(), "ClusterSecretStore".to_owned())));
    let source = catalog
        .catalog_source(api, "ExternalSecret")
        .expect("catalog");
    assert!(
        source.contains("datreeio/CRDs-catalog@7b1e26e (MIT), embedded"),
        "{source}"
    );
    assert_eq!(catalog.catalog_source("apps/v1", "Deployment"), None);
    // A checkout given at run time comes before the embedded groups, a CRD before both.
    let text = r#"{"type":"object","properties":{"spec":{"type":"object","additionalProperties":false,"properties":{"x":{"type":"string"}}}}}"#;
    let files = vec![(
        "external-secrets.io".into(),
        "externalsecret_v1.json".into(),
        text.into(),
    )];
    catalog.add_crd_catalog_files("--crd-catalog /c".into(), files);
    let source = catalog
        .catalog_source(api, "ExternalSecret")
        .expect("catalog");
    assert!(
        source.starts_with("CRD catalog --crd-catalog /c"),
        "{source}"
    );
    let object = json!({"apiVersion": api, "kind": "ExternalSecret", "metadata": {"name": "s"}, "spec": {"x": 1}});
    assert!(matches!(
        catalog.validate(api, "ExternalSecret", &object, false),
        Validation::Invalid(_)
    ));
    let mut crd = widget_crd();
    crd["spec"]["group"] = json!("external-secrets.io");
    crd["spec"]["names"]["kind"] = json!("ExternalSecret");
    catalog.add_crd(&crd, "crds/es.yaml").expect("registers");
    assert_eq!(catalog.catalog_source(api, "ExternalSecret"), None);
}

#[test]
fn flux_placeholders_are_opaque_but_fields_are_still_checked() {
    let c = catalog("1.31");
    let mut d = deployment();
    let spec = &mut d["spec"]["template"]["spec"];
    spec["containers"][0]["ports"][0]["containerPort"] = json!("${PORT}");
    spec["containers"][0]["imagePullPolicy"] = json!("${POLICY:=Always}");
    spec["containers"][0]["resources"]["limits"]["cpu"] = json!("${CPU:-1}");
    spec["containers"][0]["securityContext"]["runAsNonRoot"] = json!("${NON_ROOT}");
    spec["volumes"][0]["emptyDir"] = json!("${EMPTY}");
    d["spec"]["replicas"] = json!("${REPLICAS}");
    assert_eq!(
        c.validate("apps/v1", "Deployment", &d, true),
        Validation::Valid
    );

    d["spec"]["template"]["spec"]["containers"][0]["portz"] = json!("${P}");
    d["spec"]["replicas"] = json!("$${REPLICAS}");
    d["spec"]["selector"] = json!({});
    let got = pointers(&c.validate("apps/v1", "Deployment", &d, true));
    let ptrs: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        ptrs,
        ["/spec/replicas", "/spec/template/spec/containers/0/portz"],
        "{got:?}"
    );
    d["spec"].as_object_mut().unwrap().remove("selector");
    let got = pointers(&c.validate("apps/v1", "Deployment", &d, true));
    assert!(
        got.iter()
            .any(|(_, m)| m.contains("missing required field \"selector\"")),
        "{got:?}"
    );
}

#[test]
fn sops_metadata_and_ciphertext_are_not_violations() {
    let c = catalog("1.31");
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "type": "Opaque",
        "stringData": {"password": "ENC[AES256_GCM,data:abc=,iv:x,tag:y,type:str]"},
        "sops": {"mac": "ENC[AES256_GCM,data:x,type:str]", "version": "3.9.0", "age": [{"recipient": "age1x"}]},
    });
    assert_eq!(c.validate("v1", "Secret", &secret, true), Validation::Valid);
    let mut d = deployment();
    d["spec"]["replicas"] = json!("ENC[AES256_GCM,data:Mw==,type:int]");
    let got = pointers(&c.validate("apps/v1", "Deployment", &d, true));
    assert_eq!(
        got[0].0, "/spec/replicas",
        "ciphertext outside a SOPS file counts"
    );
    d["sops"] = json!({"version": "3.9.0"});
    assert_eq!(
        c.validate("apps/v1", "Deployment", &d, true),
        Validation::Valid
    );
    d["sops"] = json!("not metadata");
    assert!(matches!(
        c.validate("apps/v1", "Deployment", &d, true),
        Validation::Invalid(_)
    ));
}
