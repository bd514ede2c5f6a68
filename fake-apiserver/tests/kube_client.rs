//! The real `kube` 5 client, configured from the kubeconfig the fake writes, works
//! unchanged: version, legacy and aggregated discovery, `pinned_kind`, get, get_opt on a
//! missing object, label-selector list, metadata-only list, server-side-apply dry-run
//! with and without force, and the 403 of a forbidden PATCH.

mod common;

use common::fixtures;
use fake_apiserver::FakeApiServer;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{pinned_kind, Discovery};
use kube::Client;
use serde_json::json;

async fn client(srv: &FakeApiServer) -> Client {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    srv.write_kubeconfig(&path, "fake").expect("kubeconfig");
    let kc = Kubeconfig::read_from(&path).expect("kubeconfig parses");
    let opts = KubeConfigOptions {
        context: Some("fake".into()),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .expect("config");
    Client::try_from(config).expect("client")
}

fn desired_web(replicas: i64) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web",
            "kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{
                "env": [{"name": "GITHUB_TOKEN", "value": "ghp_F1xtur3V4lu3N0tAR34lT0k3nDr1ft0000"},
                        {"name": "LOG_LEVEL", "value": "info"}],
                "image": "nginx:latest", "name": "web", "ports": [{"containerPort": 80}]}]}}}
    }))
    .expect("DynamicObject")
}

fn api_code(e: &kube::Error) -> u16 {
    match e {
        kube::Error::Api(s) => s.code,
        _ => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_client_discovers_reads_and_applies() {
    let srv = FakeApiServer::builder()
        .seed_dir(fixtures().join("live-after-drift"))
        .start()
        .expect("starts");
    let client = client(&srv).await;
    let version = client.apiserver_version().await.expect("version");
    assert_eq!(version.git_version, "v1.36.2");

    let legacy = Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    let aggregated = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    let gvk = GroupVersionKind::gvk("apps", "v1", "Deployment");
    for d in [&legacy, &aggregated] {
        assert!(d.has_group("cert-manager.io"));
        let (ar, caps) = d.resolve_gvk(&gvk).expect("Deployment resolves");
        assert_eq!(ar.plural, "deployments");
        assert!(caps.supports_operation("patch"));
    }
    let (ar, _) = pinned_kind(&client, &gvk).await.expect("pinned_kind");

    let deployments: Api<DynamicObject> = Api::namespaced_with(client.clone(), "shop", &ar);
    let live = deployments.get("web").await.expect("get");
    assert_eq!(live.data["spec"]["replicas"], 7);
    assert!(deployments
        .get_opt("missing")
        .await
        .expect("get_opt")
        .is_none());

    let cm_gvk = GroupVersionKind::gvk("", "v1", "ConfigMap");
    let (cm_ar, _) = pinned_kind(&client, &cm_gvk).await.expect("ConfigMap");
    let cms: Api<DynamicObject> = Api::all_with(client.clone(), &cm_ar);
    let lp = ListParams::default().labels("kustomize.toolkit.fluxcd.io/name=apps");
    let names: Vec<String> = cms
        .list(&lp)
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|o| o.metadata.name)
        .collect();
    assert_eq!(names, ["app-settings", "orphan"]);
    let meta = cms.list_metadata(&lp).await.expect("list_metadata");
    assert_eq!(meta.items.len(), 2);

    let pp = PatchParams::apply("kustomize-controller").force().dry_run();
    let applied = deployments
        .patch("web", &pp, &Patch::Apply(&desired_web(4)))
        .await
        .expect("apply dry-run");
    assert_eq!(applied.data["spec"]["replicas"], 4);
    assert_eq!(applied.metadata.generation, Some(4));
    let unforced = PatchParams::apply("kustomize-controller").dry_run();
    let err = deployments
        .patch("web", &unforced, &Patch::Apply(&desired_web(4)))
        .await
        .expect_err("conflict");
    assert_eq!(api_code(&err), 409);
    let still = deployments.get("web").await.expect("get");
    assert_eq!(still.data["spec"]["replicas"], 7, "dry-run never writes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_client_sees_forbidden_patch() {
    let srv = FakeApiServer::builder()
        .seed_dir(fixtures().join("live-after-drift"))
        .forbid_patch(true)
        .start()
        .expect("starts");
    let client = client(&srv).await;
    let (ar, _) = pinned_kind(&client, &GroupVersionKind::gvk("apps", "v1", "Deployment"))
        .await
        .expect("pinned_kind");
    let deployments: Api<DynamicObject> = Api::namespaced_with(client, "shop", &ar);
    let pp = PatchParams::apply("driftlint").force().dry_run();
    let err = deployments
        .patch("web", &pp, &Patch::Apply(&desired_web(4)))
        .await
        .expect_err("forbidden");
    assert_eq!(api_code(&err), 403);
}
