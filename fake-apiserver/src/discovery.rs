//! Discovery documents: the ones kube-apiserver v1.36.2 served for the fixture cluster
//! (`tests/fixtures/cluster/raw-http/`), embedded byte-for-byte, plus entries for extra
//! kinds seeded into the fake. Legacy `/apis/{group}/{version}` lists that were not
//! recorded are derived from the aggregated discovery document, as the apiserver derives
//! both from the same handlers.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha512};

macro_rules! recorded {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/cluster/raw-http/",
            $name,
            ".response.json"
        ))
    };
}

const VERSION: &str = recorded!("version");
const API: &str = recorded!("get-api");
const APIS: &str = recorded!("get-apis");
const API_V1: &str = recorded!("get-api-v1");
const APIS_APPS_V1: &str = recorded!("get-apis-apps-v1");
const APIS_CERT_MANAGER_V1: &str = recorded!("get-apis-cert-manager-v1");
const AGG_API: &str = recorded!("aggregated-discovery-api");
const AGG_APIS: &str = recorded!("aggregated-discovery-apis");

/// The media type of aggregated discovery v2 (`APIGroupDiscoveryList`).
pub const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// One served resource (not a subresource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group, "" for core.
    pub group: String,
    /// API version (`v1`).
    pub version: String,
    /// Plural resource name (`deployments`).
    pub plural: String,
    /// Kind (`Deployment`).
    pub kind: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
}

impl ResourceInfo {
    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// A discovery document body: recorded bytes when unchanged, else a re-serialised value.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Response body bytes (compact JSON, or the recorded pretty `/version`).
    pub body: String,
}

/// All discovery state of one fake server.
#[derive(Debug, Clone)]
pub struct Discovery {
    agg_api: Value,
    agg_apis: Value,
    agg_changed: bool,
    resources: Vec<ResourceInfo>,
    extra_groups: Vec<(String, String)>,
    added: Vec<ResourceInfo>,
}

impl Default for Discovery {
    fn default() -> Self {
        Self::recorded()
    }
}

fn parse(doc: &str) -> Value {
    // The embedded documents are compile-time constants checked by tests.
    serde_json::from_str(doc).unwrap_or(Value::Null)
}

impl Discovery {
    /// The recorded discovery of the fixture cluster (v1.36.2, 22 groups incl. cert-manager.io).
    pub fn recorded() -> Self {
        let agg_api = parse(AGG_API);
        let agg_apis = parse(AGG_APIS);
        let mut d = Discovery {
            agg_api,
            agg_apis,
            agg_changed: false,
            resources: Vec::new(),
            extra_groups: Vec::new(),
            added: Vec::new(),
        };
        d.resources = d.collect_resources();
        d
    }

    fn collect_resources(&self) -> Vec<ResourceInfo> {
        let mut out = Vec::new();
        for (doc, core) in [(&self.agg_api, true), (&self.agg_apis, false)] {
            for item in arr(doc.get("items")) {
                let group = if core {
                    String::new()
                } else {
                    str_at(item, &["metadata", "name"]).to_string()
                };
                for v in arr(item.get("versions")) {
                    let version = str_at(v, &["version"]).to_string();
                    for r in arr(v.get("resources")) {
                        out.push(ResourceInfo {
                            group: group.clone(),
                            version: version.clone(),
                            plural: str_at(r, &["resource"]).to_string(),
                            kind: str_at(r, &["responseKind", "kind"]).to_string(),
                            namespaced: str_at(r, &["scope"]) == "Namespaced",
                        });
                    }
                }
            }
        }
        out
    }

    /// Resource by group, version and plural.
    pub fn by_plural(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceInfo> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// Resource by apiVersion (`apps/v1`, `v1`) and kind.
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&ResourceInfo> {
        let (group, version) = split_api_version(api_version);
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.kind == kind)
    }

    /// Whether `group/version` is served at all.
    pub fn serves_group_version(&self, group: &str, version: &str) -> bool {
        self.group_version_doc(group, version).is_some()
    }

    /// Adds a resource for a seeded kind the recorded cluster did not serve (a CRD of
    /// the test's own). The plural is the lower-cased kind + `s` (`es` after s/x/ch/sh,
    /// `ies` after consonant+y), as kubectl's `UnsafeGuessKindToResource`.
    pub fn add_kind(&mut self, api_version: &str, kind: &str, namespaced: bool) -> ResourceInfo {
        if let Some(r) = self.by_kind(api_version, kind) {
            return r.clone();
        }
        let (group, version) = split_api_version(api_version);
        let info = ResourceInfo {
            group: group.to_string(),
            version: version.to_string(),
            plural: guess_plural(kind),
            kind: kind.to_string(),
            namespaced,
        };
        self.insert_aggregated(&info);
        self.resources.push(info.clone());
        self.added.push(info.clone());
        self.agg_changed = true;
        info
    }

    fn insert_aggregated(&mut self, info: &ResourceInfo) {
        let entry = json!({
            "resource": info.plural,
            "responseKind": {"group": info.group, "version": info.version, "kind": info.kind},
            "scope": if info.namespaced { "Namespaced" } else { "Cluster" },
            "singularResource": info.kind.to_lowercase(),
            "verbs": ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
        });
        let doc = if info.group.is_empty() {
            &mut self.agg_api
        } else {
            &mut self.agg_apis
        };
        let Some(items) = doc.get_mut("items").and_then(Value::as_array_mut) else {
            return;
        };
        let pos = items
            .iter()
            .position(|i| info.group.is_empty() || str_at(i, &["metadata", "name"]) == info.group);
        let idx = match pos {
            Some(i) => i,
            None => {
                items.push(json!({"metadata": {"name": info.group}, "versions": []}));
                self.extra_groups
                    .push((info.group.clone(), info.version.clone()));
                items.len() - 1
            }
        };
        let Some(versions) = items[idx].get_mut("versions").and_then(Value::as_array_mut) else {
            return;
        };
        let vpos = versions
            .iter()
            .position(|v| str_at(v, &["version"]) == info.version);
        let vidx = match vpos {
            Some(i) => i,
            None => {
                versions.push(
                    json!({"version": info.version, "resources": [], "freshness": "Current"}),
                );
                versions.len() - 1
            }
        };
        if let Some(res) = versions[vidx]
            .get_mut("resources")
            .and_then(Value::as_array_mut)
        {
            res.push(entry);
        }
    }

    /// `/version`, pretty-printed as recorded.
    pub fn version_doc(&self) -> Doc {
        Doc {
            body: VERSION.trim_end().to_string(),
        }
    }

    /// `/api` (`APIVersions`, no apiVersion).
    pub fn api_doc(&self) -> Doc {
        Doc {
            body: API.trim_end().to_string(),
        }
    }

    /// `/apis` (`APIGroupList`), with groups of extra seeded kinds appended.
    pub fn apis_doc(&self) -> Doc {
        if self.extra_groups.is_empty() {
            return Doc {
                body: APIS.trim_end().to_string(),
            };
        }
        let mut v = parse(APIS);
        if let Some(groups) = v.get_mut("groups").and_then(Value::as_array_mut) {
            for (g, ver) in &self.extra_groups {
                groups.push(api_group(g, ver));
            }
        }
        Doc {
            body: v.to_string(),
        }
    }

    /// `/apis/{group}` (`APIGroup`).
    pub fn group_doc(&self, group: &str) -> Option<Doc> {
        let item = self.agg_group(group)?;
        let versions: Vec<String> = arr(item.get("versions"))
            .iter()
            .map(|v| str_at(v, &["version"]).to_string())
            .collect();
        let gvs: Vec<Value> = versions
            .iter()
            .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
            .collect();
        let preferred = gvs.first().cloned().unwrap_or(Value::Null);
        let mut m = Map::new();
        m.insert("kind".into(), json!("APIGroup"));
        m.insert("apiVersion".into(), json!("v1"));
        m.insert("name".into(), json!(group));
        m.insert("versions".into(), Value::Array(gvs));
        m.insert("preferredVersion".into(), preferred);
        Some(Doc {
            body: Value::Object(m).to_string(),
        })
    }

    fn agg_group(&self, group: &str) -> Option<&Value> {
        arr(self.agg_apis.get("items"))
            .iter()
            .find(|i| str_at(i, &["metadata", "name"]) == group)
    }

    fn agg_version(&self, group: &str, version: &str) -> Option<&Value> {
        let item = if group.is_empty() {
            arr(self.agg_api.get("items")).first()?
        } else {
            self.agg_group(group)?
        };
        arr(item.get("versions"))
            .iter()
            .find(|v| str_at(v, &["version"]) == version)
    }

    /// `/api/v1` or `/apis/{group}/{version}` (`APIResourceList`): recorded bytes for
    /// `v1`, `apps/v1` and `cert-manager.io/v1` unless extra kinds were added there,
    /// otherwise derived from aggregated discovery (no `storageVersionHash`).
    pub fn group_version_doc(&self, group: &str, version: &str) -> Option<Doc> {
        let agg = self.agg_version(group, version)?;
        let recorded = match (group, version) {
            ("", "v1") => Some(API_V1),
            ("apps", "v1") => Some(APIS_APPS_V1),
            ("cert-manager.io", "v1") => Some(APIS_CERT_MANAGER_V1),
            _ => None,
        };
        let touched = self
            .added
            .iter()
            .any(|r| r.group == group && r.version == version);
        match recorded {
            Some(doc) if !touched => Some(Doc {
                body: doc.trim_end().to_string(),
            }),
            _ => Some(Doc {
                body: legacy_from_aggregated(group, version, agg).to_string(),
            }),
        }
    }

    /// Aggregated discovery (`/api` or `/apis`), body plus its `Etag` (SHA-512, upper hex,
    /// quoted, as the apiserver's).
    pub fn aggregated_doc(&self, core: bool) -> (Doc, String) {
        let body = match (core, self.agg_changed) {
            (true, false) => AGG_API.trim_end().to_string(),
            (false, false) => AGG_APIS.trim_end().to_string(),
            (true, true) => self.agg_api.to_string(),
            (false, true) => self.agg_apis.to_string(),
        };
        let digest = Sha512::digest(body.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02X}")).collect();
        (Doc { body }, format!("\"{hex}\""))
    }
}

fn api_group(group: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

fn legacy_from_aggregated(group: &str, version: &str, agg: &Value) -> Value {
    let mut resources = Vec::new();
    for r in arr(agg.get("resources")) {
        let plural = str_at(r, &["resource"]);
        let namespaced = str_at(r, &["scope"]) == "Namespaced";
        let mut m = Map::new();
        m.insert("name".into(), json!(plural));
        m.insert(
            "singularName".into(),
            json!(str_at(r, &["singularResource"])),
        );
        m.insert("namespaced".into(), json!(namespaced));
        m.insert("kind".into(), json!(str_at(r, &["responseKind", "kind"])));
        m.insert("verbs".into(), r.get("verbs").cloned().unwrap_or(json!([])));
        for key in ["shortNames", "categories"] {
            if let Some(v) = r.get(key) {
                m.insert(key.into(), v.clone());
            }
        }
        resources.push(Value::Object(m));
        for s in arr(r.get("subresources")) {
            resources.push(legacy_subresource(plural, namespaced, group, version, s));
        }
    }
    let mut m = Map::new();
    m.insert("kind".into(), json!("APIResourceList"));
    if !group.is_empty() {
        m.insert("apiVersion".into(), json!("v1"));
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    m.insert("groupVersion".into(), json!(gv));
    m.insert("resources".into(), Value::Array(resources));
    Value::Object(m)
}

fn legacy_subresource(
    plural: &str,
    namespaced: bool,
    group: &str,
    version: &str,
    s: &Value,
) -> Value {
    let mut m = Map::new();
    m.insert(
        "name".into(),
        json!(format!("{plural}/{}", str_at(s, &["subresource"]))),
    );
    m.insert("singularName".into(), json!(""));
    m.insert("namespaced".into(), json!(namespaced));
    let rg = str_at(s, &["responseKind", "group"]);
    let rv = str_at(s, &["responseKind", "version"]);
    if !rg.is_empty() && (rg != group || rv != version) {
        m.insert("group".into(), json!(rg));
        m.insert("version".into(), json!(rv));
    }
    m.insert("kind".into(), json!(str_at(s, &["responseKind", "kind"])));
    m.insert("verbs".into(), s.get("verbs").cloned().unwrap_or(json!([])));
    Value::Object(m)
}

/// Splits `apps/v1` into (`apps`, `v1`) and `v1` into (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// kubectl's `UnsafeGuessKindToResource` pluralisation.
pub fn guess_plural(kind: &str) -> String {
    let lower = kind.to_lowercase();
    if lower.ends_with('s')
        || lower.ends_with('x')
        || lower.ends_with("ch")
        || lower.ends_with("sh")
    {
        return format!("{lower}es");
    }
    if let Some(stem) = lower.strip_suffix('y') {
        if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) {
            return format!("{stem}ies");
        }
    }
    format!("{lower}s")
}

fn arr(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(n) => cur = n,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_docs_parse_and_index() {
        let d = Discovery::recorded();
        let dep = d.by_kind("apps/v1", "Deployment").cloned();
        assert_eq!(
            dep.map(|r| (r.plural, r.namespaced)),
            Some(("deployments".into(), true))
        );
        let ns = d.by_plural("", "v1", "namespaces").map(|r| r.namespaced);
        assert_eq!(ns, Some(false));
        assert!(d.by_kind("cert-manager.io/v1", "Issuer").is_none());
        assert!(d.serves_group_version("rbac.authorization.k8s.io", "v1"));
        assert!(!d.serves_group_version("unknown.example.com", "v1"));
    }

    #[test]
    fn derived_legacy_list_matches_recorded_apps_v1() {
        let d = Discovery::recorded();
        let agg = d.agg_version("apps", "v1").cloned().unwrap_or(Value::Null);
        let mut derived = legacy_from_aggregated("apps", "v1", &agg);
        let mut recorded = parse(APIS_APPS_V1);
        for doc in [&mut derived, &mut recorded] {
            if let Some(rs) = doc.get_mut("resources").and_then(Value::as_array_mut) {
                for r in rs.iter_mut().filter_map(Value::as_object_mut) {
                    r.remove("storageVersionHash");
                }
                rs.sort_by_key(|r| str_at(r, &["name"]).to_string());
            }
        }
        assert_eq!(derived, recorded);
    }

    #[test]
    fn extra_kind_is_added_everywhere() {
        let mut d = Discovery::recorded();
        let info = d.add_kind("example.org/v1alpha1", "Widget", true);
        assert_eq!(info.plural, "widgets");
        assert!(d.serves_group_version("example.org", "v1alpha1"));
        assert!(d.apis_doc().body.contains("example.org/v1alpha1"));
        assert!(d.aggregated_doc(false).0.body.contains("\"widgets\""));
        assert_eq!(guess_plural("Policy"), "policies");
        assert_eq!(guess_plural("Ingress"), "ingresses");
    }
}
