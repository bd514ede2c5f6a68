//! The inventories deployers keep themselves, read from the live cluster: a Flux
//! Kustomization's `status.inventory.entries` (what kustomize-controller prunes from) and a Helm
//! release's storage Secret `sh.helm.release.v1.NAME.vN` (the manifest of the latest deployed
//! revision, what `helm upgrade` deletes from).
//!
//! Every input is the cluster's answer, so it is treated as hostile: malformed entries are
//! skipped, and a release manifest is decoded within [`MAX_MANIFEST_BYTES`].

use std::io::Read;
use std::sync::Arc;

use serde_json::Value;

use driftlint_rules::ObjectRef;

/// Most bytes a decompressed Helm release record may have (Helm itself caps a release
/// Secret at 1 MiB compressed; gzip may expand it about 1000×).
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// The objects a live Flux Kustomization's `status.inventory.entries` lists (`None` when it
/// has no inventory: not reconciled yet, or not a Kustomization). As Flux's `ObjMetadata`,
/// each entry's `id` is `NAMESPACE_NAME_GROUP_KIND` (namespace and group empty when
/// cluster-scoped or core) and `v` its version; malformed entries are skipped.
pub fn flux_entries(kustomization: &Value) -> Option<Vec<ObjectRef>> {
    let entries = kustomization
        .pointer("/status/inventory/entries")?
        .as_array()?;
    Some(
        entries
            .iter()
            .filter_map(|e| {
                let id = e.get("id")?.as_str()?;
                let version = e.get("v")?.as_str()?;
                flux_entry(id, version)
            })
            .collect(),
    )
}

/// One inventory entry: `podinfo_web_apps_Deployment` + `v1` is apps/v1 Deployment
/// `podinfo/web`; `_cluster-admin_rbac.authorization.k8s.io_ClusterRole` is cluster-scoped.
pub fn flux_entry(id: &str, version: &str) -> Option<ObjectRef> {
    let parts: Vec<&str> = id.split('_').collect();
    let [namespace, name, group, kind] = parts[..] else {
        return None;
    };
    if name.is_empty() || kind.is_empty() || version.is_empty() {
        return None;
    }
    Some(ObjectRef {
        api_version: match group {
            "" => version.to_string(),
            g => format!("{g}/{version}"),
        },
        kind: kind.to_string(),
        namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
        name: name.to_string(),
    })
}

/// The label selector of a release's storage Secrets (Helm's Secret driver labels them
/// `owner=helm`, `name=RELEASE`, `status=...`, `version=N`).
pub fn helm_storage_selector(release: &str) -> String {
    format!("owner=helm,name={release}")
}

/// The storage Secret of the latest deployed revision among `secrets` (the highest `version`
/// label with `status=deployed`), with its revision.
pub fn latest_deployed(secrets: &[Value]) -> Option<(u64, &Value)> {
    secrets
        .iter()
        .filter(|s| {
            s.pointer("/metadata/labels/status").and_then(Value::as_str) == Some("deployed")
        })
        .filter_map(|s| {
            let v = s
                .pointer("/metadata/labels/version")?
                .as_str()?
                .parse()
                .ok()?;
            Some((v, s))
        })
        .max_by_key(|(v, _)| *v)
}

/// Why a release record could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StorageError {
    /// No `data.release` in the Secret.
    #[error("the storage Secret has no data.release")]
    NoRecord,
    /// Not base64 (the Secret's own encoding, or Helm's inside it).
    #[error("data.release is not base64")]
    NotBase64,
    /// Not gzip, or larger than [`MAX_MANIFEST_BYTES`] once decompressed.
    #[error("the release record is not gzip or exceeds {MAX_MANIFEST_BYTES} bytes")]
    NotGzip,
    /// Not a JSON release with a `manifest` string.
    #[error("the release record is not a Helm release (JSON with a manifest)")]
    NotRelease,
}

/// The manifest of a Helm storage Secret as the API returns it: `data.release` is base64 (the
/// Secret's encoding) of base64 (Helm's) of gzip of the release JSON, whose `manifest` is the
/// rendered YAML (hooks excluded), as Helm's `storage/driver/util.go` `decodeRelease`.
pub fn release_manifest(secret: &Value) -> Result<String, StorageError> {
    let outer = secret
        .pointer("/data/release")
        .and_then(Value::as_str)
        .ok_or(StorageError::NoRecord)?;
    let inner = base64(outer.as_bytes())?;
    let gz = base64(&inner)?;
    if !gz.starts_with(&[0x1f, 0x8b]) {
        // Helm writes gzip since v2; an uncompressed record is JSON as is.
        return manifest_of(&gz);
    }
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut json)
        .map_err(|_| StorageError::NotGzip)?;
    if json.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(StorageError::NotGzip);
    }
    manifest_of(&json)
}

fn base64(text: &[u8]) -> Result<Vec<u8>, StorageError> {
    let trimmed: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    data_encoding::BASE64
        .decode(&trimmed)
        .map_err(|_| StorageError::NotBase64)
}

fn manifest_of(json: &[u8]) -> Result<String, StorageError> {
    let release: Value = serde_json::from_slice(json).map_err(|_| StorageError::NotRelease)?;
    release
        .get("manifest")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or(StorageError::NotRelease)
}

/// The objects of a release manifest (`---`-separated YAML), in order; documents that do not
/// parse or lack `apiVersion`, `kind` or `metadata.name` are skipped. A namespaced object
/// without `metadata.namespace` is in the release namespace (the caller knows the scope).
pub fn manifest_objects(manifest: &str) -> Vec<ObjectRef> {
    let file: Arc<str> = Arc::from("<release manifest>");
    let Ok(docs) = driftlint_yaml::parse_documents(file, manifest) else {
        return Vec::new();
    };
    docs.iter()
        .filter(|d| {
            d.str_at(&["apiVersion"]).is_some()
                && d.str_at(&["kind"]).is_some()
                && d.str_at(&["metadata", "name"]).is_some()
        })
        .map(ObjectRef::of)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn flux_entries_become_objects_and_junk_is_skipped() {
        let ks = serde_json::json!({"status": {"inventory": {"entries": [
            {"id": "shop_web_apps_Deployment", "v": "v1"},
            {"id": "shop_settings__ConfigMap", "v": "v1"},
            {"id": "_reader_rbac.authorization.k8s.io_ClusterRole", "v": "v1"},
            {"id": "too_many_parts_a_b", "v": "v1"},
            {"id": "shop__apps_Deployment", "v": "v1"},
            {"v": "v1"}
        ]}}});
        let refs = flux_entries(&ks).unwrap();
        let shown: Vec<String> = refs.iter().map(ToString::to_string).collect();
        assert_eq!(refs.len(), 3, "{shown:?}");
        assert_eq!(refs[0].api_version, "apps/v1");
        assert_eq!(refs[1].api_version, "v1");
        assert_eq!(refs[1].namespace.as_deref(), Some("shop"));
        assert_eq!(refs[2].namespace, None);
        assert_eq!(refs[2].kind, "ClusterRole");
        assert_eq!(flux_entries(&serde_json::json!({"status": {}})), None);
    }

    fn storage_secret(manifest: &str, version: u64, status: &str) -> Value {
        let release = serde_json::json!({"name": "podinfo", "manifest": manifest});
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(release.to_string().as_bytes()).unwrap();
        let helm = data_encoding::BASE64.encode(&gz.finish().unwrap());
        serde_json::json!({
            "metadata": {"name": format!("sh.helm.release.v1.podinfo.v{version}"),
                         "labels": {"owner": "helm", "name": "podinfo", "status": status,
                                    "version": version.to_string()}},
            "data": {"release": data_encoding::BASE64.encode(helm.as_bytes())}
        })
    }

    #[test]
    fn the_latest_deployed_release_manifest_is_decoded() {
        let secrets = vec![
            storage_secret("kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: old\n", 1, "superseded"),
            storage_secret(
                "---\n# Source: x\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n  namespace: shop\n",
                2,
                "deployed",
            ),
            storage_secret("", 3, "failed"),
        ];
        let (version, latest) = latest_deployed(&secrets).unwrap();
        assert_eq!(version, 2);
        let objs = manifest_objects(&release_manifest(latest).unwrap());
        let names: Vec<String> = objs.iter().map(ToString::to_string).collect();
        assert_eq!(objs.len(), 2, "{names:?}");
        assert_eq!(objs[0].name, "a");
        assert_eq!(objs[1].namespace.as_deref(), Some("shop"));
    }

    #[test]
    fn hostile_records_are_errors_not_panics() {
        let bad = |data: &str| serde_json::json!({"data": {"release": data}});
        assert_eq!(
            release_manifest(&serde_json::json!({})),
            Err(StorageError::NoRecord)
        );
        assert_eq!(release_manifest(&bad("%%%")), Err(StorageError::NotBase64));
        let not_gzip = data_encoding::BASE64.encode(
            data_encoding::BASE64
                .encode(&[0x1f, 0x8b, 1, 2, 3])
                .as_bytes(),
        );
        assert_eq!(
            release_manifest(&bad(&not_gzip)),
            Err(StorageError::NotGzip)
        );
        let not_json = data_encoding::BASE64.encode(data_encoding::BASE64.encode(b"{").as_bytes());
        assert_eq!(
            release_manifest(&bad(&not_json)),
            Err(StorageError::NotRelease)
        );
        // A gzip bomb stops at the budget.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![b' '; 1 << 20];
        for _ in 0..(MAX_MANIFEST_BYTES >> 20) + 1 {
            gz.write_all(&zeros).unwrap();
        }
        let bomb = data_encoding::BASE64.encode(
            data_encoding::BASE64
                .encode(&gz.finish().unwrap())
                .as_bytes(),
        );
        assert_eq!(release_manifest(&bad(&bomb)), Err(StorageError::NotGzip));
    }
}
