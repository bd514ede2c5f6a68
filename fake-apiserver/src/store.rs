//! The object store: live objects keyed by group, version, resource, namespace and
//! name (etcd key order, so lists come out sorted by namespace then name, as from
//! kube-apiserver), and the cluster revision used for list `resourceVersion`s.

use crate::discovery::{Discovery, ResourceInfo};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Identity of a stored object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjKey {
    /// API group ("" for core).
    pub group: String,
    /// API version the object is served at.
    pub version: String,
    /// Plural resource.
    pub plural: String,
    /// Namespace ("" for cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// Why seeding failed; always names the file (or `<object>` for in-memory seeds).
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The directory or file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File or directory.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("{path}:{line}:{column}: not JSON: {source}")]
    Json {
        /// File.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// Underlying error.
        source: serde_json::Error,
    },
    /// The object lacks `apiVersion`, `kind` or `metadata.name`.
    #[error("{path}: {reason}")]
    Invalid {
        /// File.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// All live objects plus the cluster revision.
#[derive(Debug, Clone, Default)]
pub struct Store {
    objects: BTreeMap<ObjKey, Value>,
    revision: u64,
}

impl Store {
    /// The current revision (highest `resourceVersion` seen or written).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Advances the revision and returns it (for a real, non-dry-run write).
    pub fn next_revision(&mut self) -> u64 {
        self.revision += 1;
        self.revision
    }

    /// Raises the revision to at least `rv`.
    pub fn bump_revision(&mut self, rv: u64) {
        self.revision = self.revision.max(rv);
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The object at `key`.
    pub fn get(&self, key: &ObjKey) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Stores `obj` at `key`, replacing any previous object.
    pub fn put(&mut self, key: ObjKey, obj: Value) {
        self.objects.insert(key, obj);
    }

    /// Objects of one resource, in one namespace or (`None`) across all, in key order.
    pub fn list<'a>(
        &'a self,
        info: &'a ResourceInfo,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects
            .iter()
            .filter(move |(k, _)| {
                k.group == info.group
                    && k.version == info.version
                    && k.plural == info.plural
                    && namespace.is_none_or(|ns| k.namespace == ns)
            })
            .map(|(_, v)| v)
    }

    /// Adds a live object, registering its kind in `disc` if the recorded cluster did
    /// not serve it (namespaced iff it has `metadata.namespace`). `origin` names the
    /// source in errors.
    pub fn seed_object(
        &mut self,
        disc: &mut Discovery,
        obj: Value,
        origin: &Path,
    ) -> Result<ObjKey, SeedError> {
        let invalid = |reason: &str| SeedError::Invalid {
            path: origin.to_path_buf(),
            reason: reason.to_string(),
        };
        let s = |p: &str| obj.pointer(p).and_then(Value::as_str).map(str::to_string);
        let api_version = s("/apiVersion").ok_or_else(|| invalid("missing apiVersion"))?;
        let kind = s("/kind").ok_or_else(|| invalid("missing kind"))?;
        let name = s("/metadata/name").ok_or_else(|| invalid("missing metadata.name"))?;
        let namespace = s("/metadata/namespace").unwrap_or_default();
        let info = match disc.by_kind(&api_version, &kind) {
            Some(i) => i.clone(),
            None => disc.add_kind(&api_version, &kind, !namespace.is_empty()),
        };
        if info.namespaced == namespace.is_empty() {
            return Err(invalid(&format!(
                "{kind} is {}namespaced but metadata.namespace is {:?}",
                if info.namespaced { "" } else { "not " },
                namespace
            )));
        }
        if let Some(rv) = s("/metadata/resourceVersion").and_then(|r| r.parse::<u64>().ok()) {
            self.bump_revision(rv);
        }
        let key = ObjKey {
            group: info.group,
            version: info.version,
            plural: info.plural,
            namespace,
            name,
        };
        self.objects.insert(key.clone(), obj);
        Ok(key)
    }

    /// Seeds every `*.json` live object of `dir` (fixture naming
    /// `<namespace or _cluster>.<Kind>.<name>.json`), skipping `list.*` files and the
    /// `*.GET-404.*` captures. Returns how many objects were added.
    pub fn seed_dir(&mut self, disc: &mut Discovery, dir: &Path) -> Result<usize, SeedError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SeedError::Io { path, source }
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_seed_file(p))
            .collect();
        files.sort();
        for path in &files {
            let text = std::fs::read_to_string(path).map_err(io(path))?;
            let obj: Value = serde_json::from_str(&text).map_err(|source| SeedError::Json {
                path: path.clone(),
                line: source.line(),
                column: source.column(),
                source,
            })?;
            self.seed_object(disc, obj, path)?;
        }
        Ok(files.len())
    }
}

fn is_seed_file(p: &Path) -> bool {
    let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name.ends_with(".json") && !name.starts_with("list.") && !name.contains(".GET-404.")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/cluster/");

    #[test]
    fn seeds_fixture_dir() {
        let mut d = Discovery::recorded();
        let mut s = Store::default();
        let n = s.seed_dir(&mut d, &Path::new(FIX).join("live-after-drift"));
        assert_eq!(n.ok(), Some(21));
        assert_eq!(s.revision(), 1411);
        let cm = d.by_plural("", "v1", "configmaps").cloned();
        let count = cm.map(|i| s.list(&i, None).count());
        assert_eq!(count, Some(3));
    }

    #[test]
    fn rejects_bad_seed_with_path() {
        let mut d = Discovery::recorded();
        let mut s = Store::default();
        let err = s.seed_object(
            &mut d,
            serde_json::json!({"kind": "ConfigMap"}),
            Path::new("x.json"),
        );
        assert_eq!(
            err.err().map(|e| e.to_string()),
            Some("x.json: missing apiVersion".into())
        );
    }
}
