//! The content-addressed chart cache (layout in the crate docs).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::locator::ChartLocator;

/// The largest chart archive the cache stores or reads: 32 MiB (compressed). Helm's own
/// limit on a decompressed chart is 100 MiB; the unpacking budget of `driftlint_helm::load`
/// applies on top when the archive is loaded.
pub const MAX_ARCHIVE_BYTES: u64 = 32 << 20;

/// The largest `index.json` of one chart the cache reads: 4 MiB.
const MAX_INDEX_BYTES: u64 = 4 << 20;

/// A sha256 content digest, `sha256:<64 lowercase hex>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        let hex = data_encoding::HEXLOWER.encode(&Sha256::digest(bytes));
        Digest(format!("sha256:{hex}"))
    }

    /// Parses `sha256:<hex>` (a bare 64-hex string, as Helm's `index.yaml` `digest`, too).
    pub fn parse(text: &str) -> Option<Digest> {
        let hex = text
            .strip_prefix("sha256:")
            .unwrap_or(text)
            .to_ascii_lowercase();
        let ok = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| Digest(format!("sha256:{hex}")))
    }

    /// The 64 hex digits.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Digest {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Digest::parse(&s).ok_or_else(|| format!("{s:?}: not a sha256 digest"))
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.0
    }
}

/// What the cache knows about one chart (`charts/<key>/index.json`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartIndex {
    /// The chart this index is for (checked on read against the key).
    pub locator: Option<ChartLocator>,
    /// Every version the source offered when last listed (index.yaml entries or OCI tags),
    /// as the source spells them.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Pulled versions and the digest of their archive in `blobs/sha256/`.
    #[serde(default)]
    pub archives: BTreeMap<String, Digest>,
}

/// A cache read or write that failed.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A file of the cache could not be read or written.
    #[error("chart cache {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// A cache file is corrupt (bad JSON, a digest that does not match, another chart's index).
    #[error("chart cache {path}: {reason}")]
    Corrupt { path: String, reason: String },
    /// An archive larger than [`MAX_ARCHIVE_BYTES`].
    #[error("chart archive of {chart} is larger than the budget of {MAX_ARCHIVE_BYTES} bytes")]
    TooLarge { chart: String },
    /// The archive's digest is not the one the source announced.
    #[error("chart archive of {chart} {version}: digest {actual}, expected {expected}")]
    DigestMismatch {
        chart: String,
        version: String,
        expected: Digest,
        actual: Digest,
    },
}

/// The chart cache at a root directory. Reading never touches the network; a missing root is
/// an empty cache.
#[derive(Clone, Debug)]
pub struct ChartCache {
    root: PathBuf,
}

impl ChartCache {
    /// The cache at `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> ChartCache {
        ChartCache { root: root.into() }
    }

    /// `$XDG_CACHE_HOME/driftlint/charts`, else `$HOME/.cache/driftlint/charts`.
    pub fn default_root() -> Option<PathBuf> {
        let var = |v: &str| {
            std::env::var_os(v)
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
        };
        let base = var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|h| h.join(".cache")))?;
        Some(base.join("driftlint").join("charts"))
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The index of `chart`, None when the chart was never listed or pulled.
    /// Errors: an unreadable or corrupt index.
    pub fn index(&self, chart: &ChartLocator) -> Result<Option<ChartIndex>, CacheError> {
        let path = self.index_path(chart);
        let Some(bytes) = read_limited(&path, MAX_INDEX_BYTES)? else {
            return Ok(None);
        };
        let index: ChartIndex = serde_json::from_slice(&bytes)
            .map_err(|e| corrupt(&path, format!("not a chart index: {e}")))?;
        if index.locator.as_ref() != Some(chart) {
            return Err(corrupt(&path, "the index is for another chart".into()));
        }
        Ok(Some(index))
    }

    /// Records the versions the source offers for `chart` (replacing the previous list,
    /// keeping pulled archives). Errors: the index cannot be read or written.
    pub fn record_versions(
        &self,
        chart: &ChartLocator,
        versions: &[String],
    ) -> Result<(), CacheError> {
        self.update_index(chart, |index| index.versions = versions.to_vec())
    }

    /// Stores the archive of `chart` `version`, verified against `expected` when the source
    /// announced a digest, and records it in the chart's index (adding `version` to the offered
    /// versions). Returns the archive's digest.
    /// Errors: over [`MAX_ARCHIVE_BYTES`], a digest mismatch, a write failure.
    pub fn store_archive(
        &self,
        chart: &ChartLocator,
        version: &str,
        bytes: &[u8],
        expected: Option<&Digest>,
    ) -> Result<Digest, CacheError> {
        if bytes.len() as u64 > MAX_ARCHIVE_BYTES {
            return Err(CacheError::TooLarge {
                chart: chart.to_string(),
            });
        }
        let digest = Digest::of(bytes);
        if let Some(want) = expected.filter(|w| **w != digest) {
            return Err(CacheError::DigestMismatch {
                chart: chart.to_string(),
                version: version.to_string(),
                expected: want.clone(),
                actual: digest,
            });
        }
        write_atomic(&self.blob_path(&digest), bytes)?;
        self.update_index(chart, |index| {
            if !index.versions.iter().any(|v| v == version) {
                index.versions.push(version.to_string());
            }
            index.archives.insert(version.to_string(), digest.clone());
        })?;
        Ok(digest)
    }

    /// The archive of `chart` `version`, its digest verified; None when not pulled.
    /// Errors: a missing or altered blob (the digest does not match), over the budget.
    pub fn archive(
        &self,
        chart: &ChartLocator,
        version: &str,
    ) -> Result<Option<Vec<u8>>, CacheError> {
        let Some(index) = self.index(chart)? else {
            return Ok(None);
        };
        let Some(digest) = index.archives.get(version) else {
            return Ok(None);
        };
        let path = self.blob_path(digest);
        let Some(bytes) = read_limited(&path, MAX_ARCHIVE_BYTES)? else {
            return Err(corrupt(
                &path,
                "the index names an archive that is missing".into(),
            ));
        };
        if Digest::of(&bytes) != *digest {
            return Err(corrupt(&path, format!("content does not match {digest}")));
        }
        Ok(Some(bytes))
    }

    fn index_path(&self, chart: &ChartLocator) -> PathBuf {
        let key = data_encoding::HEXLOWER.encode(&Sha256::digest(chart.canonical().as_bytes()));
        self.root.join("charts").join(key).join("index.json")
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs").join("sha256").join(digest.hex())
    }

    /// Reads, changes and writes back the index of `chart` under an exclusive lock on
    /// `index.lock` beside it, so that two pulls of the same chart (threads of one run, or two
    /// runs sharing the cache) never lose each other's versions or archives. The lock is
    /// released when the file closes, even if the process dies.
    fn update_index(
        &self,
        chart: &ChartLocator,
        change: impl FnOnce(&mut ChartIndex),
    ) -> Result<(), CacheError> {
        let path = self.index_path(chart);
        let dir = path.parent().expect("cache paths have a parent");
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let lock_path = dir.join("index.lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_err(&lock_path, e))?;
        lock.lock().map_err(|e| io_err(&lock_path, e))?;
        let mut index = self.index(chart)?.unwrap_or_default();
        index.locator = Some(chart.clone());
        change(&mut index);
        self.write_index(chart, &index)
    }

    fn write_index(&self, chart: &ChartLocator, index: &ChartIndex) -> Result<(), CacheError> {
        let json = serde_json::to_vec_pretty(index).expect("a chart index serializes");
        write_atomic(&self.index_path(chart), &json)
    }
}

fn corrupt(path: &Path, reason: String) -> CacheError {
    CacheError::Corrupt {
        path: path.display().to_string(),
        reason,
    }
}

fn io_err(path: &Path, source: std::io::Error) -> CacheError {
    CacheError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The file's bytes, None when it does not exist; more than `limit` bytes is corrupt.
fn read_limited(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, CacheError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path, e)),
    };
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_err(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(corrupt(path, format!("larger than {limit} bytes")));
    }
    Ok(Some(bytes))
}

/// Writes `bytes` to a temporary file beside `path` and renames it into place.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let dir = path.parent().expect("cache paths have a parent");
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| io_err(dir, e))?;
    tmp.write_all(bytes).map_err(|e| io_err(path, e))?;
    tmp.persist(path).map_err(|e| io_err(path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn podinfo() -> ChartLocator {
        ChartLocator::http("https://stefanprodan.github.io/podinfo", "podinfo").unwrap()
    }

    #[test]
    fn concurrent_stores_of_one_chart_keep_every_version() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ChartCache::new(dir.path());
        let versions: Vec<String> = (0..16).map(|i| format!("1.0.{i}")).collect();
        std::thread::scope(|s| {
            for v in &versions {
                let cache = &cache;
                s.spawn(move || {
                    let bytes = format!("archive {v}").into_bytes();
                    cache.store_archive(&podinfo(), v, &bytes, None).unwrap();
                });
            }
        });
        let index = cache.index(&podinfo()).unwrap().unwrap();
        assert_eq!(index.archives.len(), versions.len());
        for v in &versions {
            let bytes = cache.archive(&podinfo(), v).unwrap().unwrap();
            assert_eq!(bytes, format!("archive {v}").into_bytes());
        }
    }

    #[test]
    fn stores_and_reads_back_verified() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ChartCache::new(dir.path());
        assert!(cache.archive(&podinfo(), "6.5.4").unwrap().is_none());
        cache
            .record_versions(&podinfo(), &["6.5.4".into(), "6.5.3".into()])
            .unwrap();
        let d = cache
            .store_archive(&podinfo(), "6.5.4", b"chart bytes", None)
            .unwrap();
        assert_eq!(d, Digest::of(b"chart bytes"));
        let index = cache.index(&podinfo()).unwrap().unwrap();
        assert_eq!(index.versions, vec!["6.5.4", "6.5.3"]);
        assert_eq!(
            cache.archive(&podinfo(), "6.5.4").unwrap().unwrap(),
            b"chart bytes"
        );
        assert!(cache.archive(&podinfo(), "6.5.3").unwrap().is_none());
    }

    #[test]
    fn refuses_mismatched_and_altered_archives() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ChartCache::new(dir.path());
        let wrong = Digest::of(b"other");
        let err = cache
            .store_archive(&podinfo(), "1.0.0", b"x", Some(&wrong))
            .unwrap_err();
        assert!(matches!(err, CacheError::DigestMismatch { .. }), "{err}");
        let d = cache
            .store_archive(&podinfo(), "1.0.0", b"x", None)
            .unwrap();
        std::fs::write(dir.path().join("blobs/sha256").join(d.hex()), b"tampered").unwrap();
        let err = cache.archive(&podinfo(), "1.0.0").unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }

    #[test]
    fn digests_parse_both_spellings() {
        let hex = "a".repeat(64);
        assert_eq!(Digest::parse(&hex), Digest::parse(&format!("sha256:{hex}")));
        assert!(Digest::parse("sha256:xyz").is_none());
    }
}
