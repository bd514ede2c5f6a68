//! The bundled Flux schemas on real Flux documents: the fluxcd/flux2-kustomize-helm-example
//! repository (copied under `testdata/`, see its SOURCE.txt).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::embedded;
use super::*;
use driftlint_yaml::parse_documents;

const EXAMPLE: &str = "src/testdata/flux2-kustomize-helm-example";

/// Every YAML file under `dir`, sorted, as paths relative to the crate root.
fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("testdata readable")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

/// The non-empty documents of `rel` (relative to the example root) as JSON.
fn documents(rel: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(EXAMPLE)
        .join(rel);
    let text = std::fs::read_to_string(&path).expect("readable");
    parse_documents(Arc::from(rel), &text)
        .expect("parses")
        .iter()
        .map(|node| node.to_json())
        .filter(|doc| !doc.is_null())
        .collect()
}

fn validate(catalog: &Catalog, doc: &Value) -> Validation {
    let api_version = doc["apiVersion"].as_str().expect("apiVersion");
    let kind = doc["kind"].as_str().expect("kind");
    catalog.validate(api_version, kind, doc, true)
}

fn catalog() -> Catalog {
    Catalog::newest().expect("catalog")
}

/// The one document of `rel` with this kind.
fn document(rel: &str, kind: &str) -> Value {
    let mut found: Vec<Value> = documents(rel)
        .into_iter()
        .filter(|doc| doc["kind"] == kind)
        .collect();
    assert_eq!(found.len(), 1, "{rel}: one {kind}");
    found.remove(0)
}

fn violations(outcome: Validation) -> Vec<(String, String)> {
    match outcome {
        Validation::Invalid(found) => found.into_iter().map(|v| (v.pointer, v.message)).collect(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn one(pointer: &str, message: &str) -> Vec<(String, String)> {
    vec![(pointer.to_owned(), message.to_owned())]
}

#[test]
fn bundle_records_the_crd_catalog() {
    let catalog = catalog();
    let source = "Flux v2.8 CRDs from datreeio/CRDs-catalog@7b1e26e (MIT)";
    assert_eq!(catalog.flux_bundle_source(), source);
    assert_eq!(
        catalog
            .schema_source("helm.toolkit.fluxcd.io/v2", "HelmRelease")
            .as_deref(),
        Some(format!("bundled {source}").as_str())
    );
    assert!(!catalog.is_builtin_kind("helm.toolkit.fluxcd.io/v2", "HelmRelease"));
}

#[test]
fn bundled_kinds_and_versions() {
    let catalog = catalog();
    let expected = [
        (
            "source.toolkit.fluxcd.io",
            "GitRepository",
            &["v1", "v1beta1", "v1beta2"][..],
        ),
        (
            "source.toolkit.fluxcd.io",
            "HelmRepository",
            &["v1", "v1beta1", "v1beta2"],
        ),
        (
            "source.toolkit.fluxcd.io",
            "HelmChart",
            &["v1", "v1beta1", "v1beta2"],
        ),
        (
            "source.toolkit.fluxcd.io",
            "Bucket",
            &["v1", "v1beta1", "v1beta2"],
        ),
        (
            "source.toolkit.fluxcd.io",
            "OCIRepository",
            &["v1", "v1beta2"],
        ),
        ("source.toolkit.fluxcd.io", "ExternalArtifact", &["v1"]),
        (
            "kustomize.toolkit.fluxcd.io",
            "Kustomization",
            &["v1", "v1beta1", "v1beta2"],
        ),
        (
            "helm.toolkit.fluxcd.io",
            "HelmRelease",
            &["v1", "v2", "v2beta1", "v2beta2"],
        ),
        (
            "notification.toolkit.fluxcd.io",
            "Receiver",
            &["v1", "v1beta1", "v1beta2"],
        ),
        (
            "notification.toolkit.fluxcd.io",
            "Alert",
            &["v1beta1", "v1beta2", "v1beta3"],
        ),
        (
            "notification.toolkit.fluxcd.io",
            "Provider",
            &["v1beta1", "v1beta2", "v1beta3"],
        ),
        (
            "image.toolkit.fluxcd.io",
            "ImageRepository",
            &["v1", "v1alpha1", "v1alpha2", "v1beta1", "v1beta2"],
        ),
        (
            "image.toolkit.fluxcd.io",
            "ImagePolicy",
            &["v1", "v1alpha1", "v1alpha2", "v1beta1", "v1beta2"],
        ),
        (
            "image.toolkit.fluxcd.io",
            "ImageUpdateAutomation",
            &["v1", "v1alpha1", "v1alpha2", "v1beta1", "v1beta2"],
        ),
        (
            "source.extensions.fluxcd.io",
            "ArtifactGenerator",
            &["v1beta1"],
        ),
        ("fluxcd.controlplane.io", "FluxInstance", &["v1"]),
        ("fluxcd.controlplane.io", "FluxReport", &["v1"]),
        ("fluxcd.controlplane.io", "ResourceSet", &["v1"]),
        (
            "fluxcd.controlplane.io",
            "ResourceSetInputProvider",
            &["v1"],
        ),
    ];
    let mut count = 0;
    for (group, kind, versions) in expected {
        for version in versions {
            assert!(
                catalog.knows(&format!("{group}/{version}"), kind),
                "{group}/{version} {kind}"
            );
            count += 1;
        }
    }
    assert_eq!(embedded::flux().expect("decodes").kinds.len(), count);
    // No List kinds (a CRD serves none) and nothing the CRDs do not serve.
    assert!(!catalog.knows("helm.toolkit.fluxcd.io/v2", "HelmReleaseList"));
    assert!(!catalog.knows("notification.toolkit.fluxcd.io/v1", "Alert"));
}

#[test]
fn every_bundled_kind_compiles_on_oldest_and_newest() {
    let kinds = embedded::flux().expect("decodes").kinds.keys_sorted();
    for version in ["1.25", "1.37"] {
        let catalog = Catalog::builtin(version).expect("catalog");
        for (api_version, kind) in &kinds {
            for strict in [false, true] {
                let object = serde_json::json!({"apiVersion": api_version, "kind": kind,
                                                "metadata": {"name": "x"}});
                if let Validation::Invalid(found) =
                    catalog.validate(api_version, kind, &object, strict)
                {
                    assert!(
                        !found.iter().any(|v| v.message.contains("does not compile")),
                        "{version} {api_version} {kind}: {found:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn example_helm_release_v2_validates_strict() {
    let release = document("apps/base/podinfo/release.yaml", "HelmRelease");
    assert_eq!(validate(&catalog(), &release), Validation::Valid);
    // chartRef form, OCIRepository source (infrastructure/controllers).
    for rel in [
        "infrastructure/controllers/cert-manager.yaml",
        "infrastructure/controllers/envoy-gateway.yaml",
    ] {
        assert_eq!(
            validate(&catalog(), &document(rel, "HelmRelease")),
            Validation::Valid,
            "{rel}"
        );
    }
}

#[test]
fn helm_release_typos_fail_strict_with_their_pointer() {
    let catalog = catalog();
    let release = document("apps/base/podinfo/release.yaml", "HelmRelease");
    let mut typo = release.clone();
    typo["spec"]["releaseNmae"] = typo["spec"]["releaseName"].take();
    typo["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("releaseName");
    let av = "helm.toolkit.fluxcd.io/v2";
    assert_eq!(
        catalog.validate(av, "HelmRelease", &typo, false),
        Validation::Valid
    );
    assert_eq!(
        violations(catalog.validate(av, "HelmRelease", &typo, true)),
        one("/spec/releaseNmae", "unknown field \"releaseNmae\"")
    );
    let mut nested = release.clone();
    nested["spec"]["chart"]["spec"]["sourceRef"]["namespce"] = "flux-system".into();
    assert_eq!(
        violations(validate(&catalog, &nested)),
        one(
            "/spec/chart/spec/sourceRef/namespce",
            "unknown field \"namespce\""
        )
    );
    let mut meta = release.clone();
    meta["metadata"]["lables"] = serde_json::json!({"a": "b"});
    assert_eq!(
        violations(validate(&catalog, &meta)),
        one("/metadata/lables", "unknown field \"lables\"")
    );
}

#[test]
fn helm_release_constraints_come_from_the_package() {
    let catalog = catalog();
    let release = document("apps/base/podinfo/release.yaml", "HelmRelease");
    let mut bad = release.clone();
    bad["spec"]["install"]["strategy"]["name"] = "RetryForever".into();
    bad["spec"]["chart"]["spec"]["sourceRef"]["kind"] = "OCIRepository".into();
    bad["spec"]["maxHistory"] = "5".into();
    bad["spec"]["chart"]["spec"]["chart"] = "".into();
    bad["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("interval");
    assert_eq!(
        violations(validate(&catalog, &bad)),
        vec![
            ("/spec".to_owned(), "missing required field \"interval\"".to_owned()),
            (
                "/spec/chart/spec/chart".to_owned(),
                "\"\" is shorter than 1 characters".to_owned()
            ),
            (
                "/spec/chart/spec/sourceRef/kind".to_owned(),
                "\"OCIRepository\" is not one of \"HelmRepository\", \"GitRepository\" or \"Bucket\""
                    .to_owned()
            ),
            (
                "/spec/install/strategy/name".to_owned(),
                "\"RetryForever\" is not one of \"RemediateOnFailure\" or \"RetryOnFailure\""
                    .to_owned()
            ),
            ("/spec/maxHistory".to_owned(), "\"5\" is not of type \"integer\"".to_owned()),
        ]
    );
}

#[test]
fn example_sources_validate_strict() {
    let catalog = catalog();
    let repository = document("apps/base/podinfo/repository.yaml", "HelmRepository");
    assert_eq!(validate(&catalog, &repository), Validation::Valid);
    let mut oci = repository.clone();
    oci["spec"]["type"] = "docker".into();
    assert_eq!(
        violations(validate(&catalog, &oci)),
        one(
            "/spec/type",
            "\"docker\" is not one of \"default\" or \"oci\""
        )
    );
    let repo = document(
        "infrastructure/controllers/cert-manager.yaml",
        "OCIRepository",
    );
    assert_eq!(validate(&catalog, &repo), Validation::Valid);
    let mut bad = repo.clone();
    bad["spec"]["url"] = "https://quay.io/jetstack/charts/cert-manager".into();
    bad["spec"]["layerSelector"]["operation"] = "untar".into();
    assert_eq!(
        violations(validate(&catalog, &bad)),
        vec![
            (
                "/spec/layerSelector/operation".to_owned(),
                "\"untar\" is not one of \"extract\" or \"copy\"".to_owned()
            ),
            (
                "/spec/url".to_owned(),
                "\"https://quay.io/jetstack/charts/cert-manager\" does not match the pattern \"^oci://.*$\""
                    .to_owned()
            ),
        ]
    );
}

#[test]
fn example_flux_kustomizations_validate_strict() {
    let catalog = catalog();
    let mut seen = 0;
    for rel in [
        "clusters/staging/apps.yaml",
        "clusters/staging/infrastructure.yaml",
    ] {
        for doc in documents(rel) {
            assert_eq!(doc["apiVersion"], "kustomize.toolkit.fluxcd.io/v1", "{rel}");
            assert_eq!(validate(&catalog, &doc), Validation::Valid, "{rel}");
            seen += 1;
        }
    }
    assert_eq!(seen, 3);
    let mut typo = documents("clusters/staging/infrastructure.yaml").remove(1);
    typo["spec"]["patches"][0]["target"]["knd"] = "Issuer".into();
    typo["spec"]["wait"] = "yes".into();
    assert_eq!(
        violations(validate(&catalog, &typo)),
        vec![
            (
                "/spec/patches/0/target/knd".to_owned(),
                "unknown field \"knd\"".to_owned()
            ),
            (
                "/spec/wait".to_owned(),
                "\"yes\" is not of type \"boolean\"".to_owned()
            ),
        ]
    );
}

/// Every document of the example repository, strict. The two `podinfo-values.yaml` files are
/// kustomize patches (partial HelmReleases), not complete objects; kustomize.config.k8s.io,
/// cert-manager, Gateway API and ArtifactGenerator (source-watcher) kinds have no bundled
/// schema.
#[test]
fn every_example_document() {
    let catalog = catalog();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE);
    let mut files = Vec::new();
    yaml_files(&root, &mut files);
    let mut got = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(&root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        for (index, doc) in documents(&rel).iter().enumerate() {
            let outcome = match validate(&catalog, doc) {
                Validation::Valid => "valid".to_owned(),
                Validation::NoSchema => "no schema".to_owned(),
                Validation::Invalid(found) => found
                    .iter()
                    .map(|v| format!("{} {}", v.pointer, v.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            got.push(format!(
                "{rel}#{index} {} {}: {outcome}",
                doc["apiVersion"].as_str().unwrap_or(""),
                doc["kind"].as_str().unwrap_or("")
            ));
        }
    }
    let patch = "/spec missing required field \"interval\"; \
                 /spec/chart/spec missing required field \"chart\"; \
                 /spec/chart/spec missing required field \"sourceRef\"";
    let expected = [
        "apps/base/podinfo/kustomization.yaml#0 kustomize.config.k8s.io/v1beta1 Kustomization: no schema",
        "apps/base/podinfo/namespace.yaml#0 v1 Namespace: valid",
        "apps/base/podinfo/release.yaml#0 helm.toolkit.fluxcd.io/v2 HelmRelease: valid",
        "apps/base/podinfo/repository.yaml#0 source.toolkit.fluxcd.io/v1 HelmRepository: valid",
        "apps/production/kustomization.yaml#0 kustomize.config.k8s.io/v1beta1 Kustomization: no schema",
        &format!("apps/production/podinfo-values.yaml#0 helm.toolkit.fluxcd.io/v2 HelmRelease: {patch}"),
        "apps/staging/kustomization.yaml#0 kustomize.config.k8s.io/v1beta1 Kustomization: no schema",
        &format!("apps/staging/podinfo-values.yaml#0 helm.toolkit.fluxcd.io/v2 HelmRelease: {patch}"),
        "clusters/production/apps.yaml#0 kustomize.toolkit.fluxcd.io/v1 Kustomization: valid",
        "clusters/production/artifacts.yaml#0 source.extensions.fluxcd.io/v1beta1 ArtifactGenerator: valid",
        "clusters/production/flux-system/kustomization.yaml#0 kustomize.config.k8s.io/v1beta1 Kustomization: no schema",
        "clusters/production/infrastructure.yaml#0 kustomize.toolkit.fluxcd.io/v1 Kustomization: valid",
        "clusters/production/infrastructure.yaml#1 kustomize.toolkit.fluxcd.io/v1 Kustomization: valid",
        "clusters/staging/apps.yaml#0 kustomize.toolkit.fluxcd.io/v1 Kustomization: valid",
        "clusters/staging/artifacts.yaml#0 source.extensions.fluxcd.io/v1beta1 ArtifactGenerator: valid",
        "clusters/staging/flux-system/kustomization.yaml#0 kustomize.config.k8s.io/v1beta1 Kustomization: no schema",
        "clusters/staging/infrastructure.yaml#0 kustomize.toolkit.fluxcd.io/v1 Kustomization: valid",
        "clusters/staging/infrastructure.yaml#1 kustomize.toolkit.fluxcd.io/v1 Kustomization: valid",
        "infrastructure/configs/cluster-issuers.yaml#0 cert-manager.io/v1 ClusterIssuer: valid",
        "infrastructure/configs/gateway.yaml#0 gateway.networking.k8s.io/v1 GatewayClass: valid",
        "infrastructure/configs/gateway.yaml#1 gateway.networking.k8s.io/v1 Gateway: valid",
        "infrastructure/configs/kustomization.yaml#0 kustomize.config.k8s.io/v1beta1 Kustomization: no schema",
        "infrastructure/controllers/cert-manager.yaml#0 v1 Namespace: valid",
        "infrastructure/controllers/cert-manager.yaml#1 source.toolkit.fluxcd.io/v1 OCIRepository: valid",
        "infrastructure/controllers/cert-manager.yaml#2 helm.toolkit.fluxcd.io/v2 HelmRelease: valid",
        "infrastructure/controllers/envoy-gateway.yaml#0 v1 Namespace: valid",
        "infrastructure/controllers/envoy-gateway.yaml#1 source.toolkit.fluxcd.io/v1 OCIRepository: valid",
        "infrastructure/controllers/envoy-gateway.yaml#2 helm.toolkit.fluxcd.io/v2 HelmRelease: valid",
        "infrastructure/controllers/kustomization.yaml#0 kustomize.config.k8s.io/v1beta1 Kustomization: no schema",
    ];
    assert_eq!(got, expected);
}

#[test]
fn crd_patterns_are_kept_and_non_strict_accepts_unknown_fields() {
    let catalog = catalog();
    let release = document("apps/base/podinfo/release.yaml", "HelmRelease");
    let mut bad = release.clone();
    bad["spec"]["interval"] = "15 minutes".into();
    let found =
        violations(catalog.validate("helm.toolkit.fluxcd.io/v2", "HelmRelease", &bad, false));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "/spec/interval");
    assert!(found[0].1.contains("does not match"), "{}", found[0].1);
    // The catalog's files carry `additionalProperties: false` (strict); the bundle does not, so
    // an unknown field is an error only in strict mode.
    let mut extra = release;
    extra["spec"]["colour"] = "blue".into();
    let api = "helm.toolkit.fluxcd.io/v2";
    assert_eq!(
        catalog.validate(api, "HelmRelease", &extra, false),
        Validation::Valid
    );
    assert_eq!(
        violations(catalog.validate(api, "HelmRelease", &extra, true)),
        one("/spec/colour", "unknown field \"colour\"")
    );
}

#[test]
fn flux_operator_kinds_and_extended_alert_sources() {
    let catalog = catalog();
    let alert = serde_json::json!({
        "apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
        "metadata": {"name": "a", "namespace": "flux-system"},
        "spec": {"providerRef": {"name": "slack"},
                 "eventSources": [{"kind": "FluxInstance", "name": "flux"},
                                  {"kind": "ArtifactGenerator", "name": "*"}]},
    });
    assert_eq!(validate(&catalog, &alert), Validation::Valid);
    let instance = serde_json::json!({
        "apiVersion": "fluxcd.controlplane.io/v1", "kind": "FluxInstance",
        "metadata": {"name": "flux", "namespace": "flux-system"},
        "spec": {"distribution": {"version": "2.x", "registry": "ghcr.io/fluxcd"}},
    });
    assert_eq!(validate(&catalog, &instance), Validation::Valid);
}
