//! API discovery: which resource (plural, scope) serves an apiVersion/kind.
//!
//! As `kubectl`'s RESTMapper, but only for the group-versions the repository renders: one
//! `GET /api/v1` or `GET /apis/{group}/{version}` (`APIResourceList`) per group-version, in
//! parallel. Subresources (`deployments/scale`) are skipped. A group-version the server does not
//! serve answers 404 with a plain-text body: every kind in it is [`Resolution::NotServed`].

use serde_json::Value;

use super::transport::ApiFailure;

/// The REST resource that serves one kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiResource {
    /// API group, `""` for the core group.
    pub group: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// `apiVersion` as written in objects (`v1`, `apps/v1`).
    pub api_version: String,
    /// The kind, e.g. `Deployment`.
    pub kind: String,
    /// The plural resource name used in URLs, e.g. `deployments`.
    pub plural: String,
    /// True when objects live in a namespace.
    pub namespaced: bool,
}

impl ApiResource {
    /// The collection path: `/api/v1/namespaces/NS/configmaps`,
    /// `/apis/apps/v1/deployments` (all namespaces when `namespace` is `None` for a namespaced
    /// resource), `/apis/rbac.authorization.k8s.io/v1/clusterroles`.
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        let base = group_version_path(&self.api_version);
        match (self.namespaced, namespace) {
            (true, Some(ns)) => format!("{base}/namespaces/{ns}/{}", self.plural),
            _ => format!("{base}/{}", self.plural),
        }
    }
}

/// How the cluster serves one apiVersion/kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Served by this resource.
    Served(ApiResource),
    /// The group-version is served but not this kind, or the group-version is not served.
    NotServed,
    /// Discovery of its group-version failed (forbidden, unreachable...).
    Failed(ApiFailure),
}

/// `/api/v1` for `v1`, `/apis/apps/v1` for `apps/v1`.
pub fn group_version_path(api_version: &str) -> String {
    if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    }
}

/// Finds `kind` in an `APIResourceList` body, skipping subresources.
pub fn find_kind(api_version: &str, list: &Value, kind: &str) -> Option<ApiResource> {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), api_version.to_string()),
    };
    list.get("resources")?
        .as_array()?
        .iter()
        .filter(|r| {
            r.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| !n.contains('/'))
        })
        .find(|r| r.get("kind").and_then(Value::as_str) == Some(kind))
        .map(|r| ApiResource {
            group: group.clone(),
            version: version.clone(),
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            plural: r["name"].as_str().unwrap_or_default().to_string(),
            namespaced: r
                .get("namespaced")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
}

/// The preferred group-version of every group of an `APIGroupList` (`GET /apis`), after the
/// core `v1`, as `kubectl api-resources` lists them.
pub fn preferred_versions(apis: &Value) -> Vec<String> {
    let groups = apis.get("groups").and_then(Value::as_array);
    let mut out = vec!["v1".to_string()];
    out.extend(groups.into_iter().flatten().filter_map(|g| {
        g.pointer("/preferredVersion/groupVersion")
            .and_then(Value::as_str)
            .map(str::to_string)
    }));
    out
}

/// Every resource of an `APIResourceList` that can be listed (`list` among its verbs;
/// subresources skipped).
pub fn listable(api_version: &str, list: &Value) -> Vec<ApiResource> {
    let kinds: Vec<&str> = list
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| {
            let verbs = r.get("verbs").and_then(Value::as_array);
            verbs.is_some_and(|v| v.iter().any(|v| v == "list"))
        })
        .filter_map(|r| r.get("kind").and_then(Value::as_str))
        .collect();
    kinds
        .into_iter()
        .filter_map(|k| find_kind(api_version, list, k))
        .collect()
}

/// The verdict for `kind` given the answer to its group-version's discovery request.
pub fn resolve(api_version: &str, kind: &str, answer: &Result<Value, ApiFailure>) -> Resolution {
    match answer {
        Ok(list) => match find_kind(api_version, list, kind) {
            Some(res) => Resolution::Served(res),
            None => Resolution::NotServed,
        },
        Err(f) if f.code == 404 => Resolution::NotServed,
        Err(f) => Resolution::Failed(f.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../../tests/fixtures/cluster/raw-http/{name}.response.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn recorded_discovery_maps_kinds_to_resources() {
        let apps = fixture("get-apis-apps-v1");
        let dep = find_kind("apps/v1", &apps, "Deployment").unwrap();
        assert_eq!(dep.plural, "deployments");
        assert!(dep.namespaced);
        assert_eq!(
            dep.collection_path(Some("shop")),
            "/apis/apps/v1/namespaces/shop/deployments"
        );
        let core = fixture("get-api-v1");
        let ns = find_kind("v1", &core, "Namespace").unwrap();
        assert!(!ns.namespaced);
        assert_eq!(ns.collection_path(Some("x")), "/api/v1/namespaces");
        assert!(find_kind("apps/v1", &apps, "Scale").is_none());
        let cm = fixture("get-apis-cert-manager-v1");
        assert_eq!(
            find_kind("cert-manager.io/v1", &cm, "ClusterIssuer")
                .unwrap()
                .plural,
            "clusterissuers"
        );
        assert_eq!(
            resolve("cert-manager.io/v1", "Issuer", &Ok(cm)),
            Resolution::NotServed
        );
    }

    #[test]
    fn every_listable_kind_at_its_preferred_version() {
        let versions = preferred_versions(&fixture("get-apis"));
        assert_eq!(versions[0], "v1");
        assert!(versions.contains(&"apps/v1".to_string()), "{versions:?}");
        let core = listable("v1", &fixture("get-api-v1"));
        let kinds: Vec<&str> = core.iter().map(|r| r.kind.as_str()).collect();
        assert!(
            kinds.contains(&"ConfigMap") && kinds.contains(&"Secret"),
            "{kinds:?}"
        );
        // Not listable: `bindings` (create only); subresources are skipped.
        assert!(!kinds.contains(&"Binding"), "{kinds:?}");
        assert!(core.iter().all(|r| !r.plural.contains('/')));
    }
}
