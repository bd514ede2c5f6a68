//! Helm HTTP repositories, as `helm pull --repo` and source-controller's `HelmRepository`
//! read them: `<url>/index.yaml` lists `entries.<chart>[]` with `version`, `urls` (relative
//! to the repository URL or absolute) and `digest` (sha256 hex of the archive).

use std::collections::BTreeMap;

use driftlint_yaml::{parse_documents, Node};

use super::net::{join_url, Client};
use super::{auth_headers, PullError};
use crate::cache::{Digest, MAX_ARCHIVE_BYTES};

/// The largest `index.yaml` read: 64 MiB (large public repositories publish ~20 MiB).
pub const MAX_INDEX_YAML_BYTES: u64 = 64 << 20;

/// One chart version of an `index.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// `version`, as written.
    pub version: String,
    /// `urls`, as written.
    pub urls: Vec<String>,
    /// `digest`, when present and well-formed.
    pub digest: Option<Digest>,
}

/// The charts of one repository index: chart name → its versions, in index order.
pub type RepoIndex = BTreeMap<String, Vec<IndexEntry>>;

/// GETs and parses `<repo_url>/index.yaml`.
/// Errors: policy, network, budget, an HTTP status other than 200, an index that does not
/// parse or has no `entries` map.
pub fn fetch_index(
    client: &Client,
    repo_url: &str,
    creds: &super::Credentials,
) -> Result<RepoIndex, PullError> {
    let url = format!("{repo_url}/index.yaml");
    let resp = client.get(&url, &auth_headers(creds, repo_url), MAX_INDEX_YAML_BYTES)?;
    if resp.status != 200 {
        return Err(PullError::Status {
            url,
            status: resp.status,
        });
    }
    let text = String::from_utf8(resp.body).map_err(|_| PullError::Index {
        url: url.clone(),
        reason: "not UTF-8".into(),
    })?;
    parse_index(&url, &text)
}

/// Parses the text of an `index.yaml` fetched from `url` (for messages).
/// Errors: [`PullError::Index`].
pub fn parse_index(url: &str, text: &str) -> Result<RepoIndex, PullError> {
    let bad = |reason: String| PullError::Index {
        url: url.to_string(),
        reason,
    };
    let docs = parse_documents(url.into(), text).map_err(|e| bad(e.to_string()))?;
    let entries = docs
        .first()
        .and_then(|d| d.get("entries"))
        .and_then(Node::as_map)
        .ok_or_else(|| bad("no `entries` map".into()))?;
    let mut index = RepoIndex::new();
    for (name, versions) in entries.iter() {
        let (Some(name), Some(list)) = (name.scalar_text(), versions.as_seq()) else {
            continue;
        };
        index.insert(name.to_string(), list.iter().filter_map(entry).collect());
    }
    Ok(index)
}

fn entry(n: &Node) -> Option<IndexEntry> {
    let version = n.get("version")?.scalar_text()?.to_string();
    let urls = n
        .get("urls")
        .and_then(Node::as_seq)
        .map(|s| {
            s.iter()
                .filter_map(|u| u.scalar_text().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let digest = n
        .get("digest")
        .and_then(Node::scalar_text)
        .and_then(Digest::parse);
    Some(IndexEntry {
        version,
        urls,
        digest,
    })
}

/// GETs the archive of `entry` (its first URL, resolved against the repository URL as Helm
/// does: a relative URL is relative to `<repo_url>/`) within [`MAX_ARCHIVE_BYTES`].
/// Errors: no URL, policy (an absolute URL passes the same host rules), network, status.
pub fn fetch_archive(
    client: &Client,
    repo_url: &str,
    entry: &IndexEntry,
    creds: &super::Credentials,
) -> Result<Vec<u8>, PullError> {
    let first = entry.urls.first().ok_or_else(|| PullError::Index {
        url: format!("{repo_url}/index.yaml"),
        reason: format!("version {} has no urls", entry.version),
    })?;
    let url = join_url(&format!("{repo_url}/index.yaml"), first);
    let resp = client.get(&url, &auth_headers(creds, &url), MAX_ARCHIVE_BYTES)?;
    if resp.status != 200 {
        return Err(PullError::Status {
            url,
            status: resp.status,
        });
    }
    Ok(resp.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_with_digests() {
        let text = r#"
apiVersion: v1
entries:
  podinfo:
  - version: 6.5.4
    urls: [podinfo-6.5.4.tgz]
    digest: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  - version: 6.5.3
    urls: ["https://cdn.example.com/podinfo-6.5.3.tgz"]
  broken: 3
generated: "2024-01-01T00:00:00Z"
"#;
        let idx = parse_index("https://h.io/index.yaml", text).unwrap();
        let p = &idx["podinfo"];
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].version, "6.5.4");
        assert!(p[0].digest.is_some());
        assert_eq!(p[1].urls[0], "https://cdn.example.com/podinfo-6.5.3.tgz");
        assert!(!idx.contains_key("broken"));
        assert!(parse_index("u", "apiVersion: v1\n").is_err());
        assert!(parse_index("u", "entries: [").is_err());
    }
}
