//! Where a chart comes from.

use serde::{Deserialize, Serialize};

/// The kind of chart source, as Flux's `HelmRepository.spec.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A Helm HTTP(S) repository: `index.yaml` and chart archives.
    Http,
    /// An OCI registry: the chart is the repository `<source>/<chart>`, versions are tags.
    Oci,
}

/// One chart of one source: a Helm repository URL (`https://charts.example.com/stable`) or an
/// OCI repository base (`oci://ghcr.io/org/charts`), and the chart's name within it.
///
/// An OCI chart given as one URL (a Flux `OCIRepository` `oci://ghcr.io/org/charts/podinfo`)
/// is split at its last path segment, so both spellings of the same chart share a cache entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChartLocator {
    /// Source kind.
    pub kind: SourceKind,
    /// The source URL without a trailing `/` (`https://...`, `http://...` or `oci://...`).
    pub source: String,
    /// The chart name (no `/`).
    pub chart: String,
}

/// Why a source URL or chart name is not a chart locator.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocatorError {
    /// The URL's scheme is not the source kind's (`https://`/`http://` for HTTP, `oci://`).
    #[error("{url}: not a {kind} chart source URL")]
    Scheme { url: String, kind: &'static str },
    /// The chart name is empty or holds `/`, `..`, whitespace or control characters.
    #[error("{name:?}: not a chart name")]
    Name { name: String },
    /// The URL holds whitespace, control characters, credentials (`user@`), a query or fragment.
    #[error("{url}: unsupported characters or parts in a chart source URL")]
    Url { url: String },
}

impl ChartLocator {
    /// A chart of a Helm HTTP repository (`HelmRepository` without `type: oci`).
    /// Errors: [`LocatorError`].
    pub fn http(repo_url: &str, chart: &str) -> Result<ChartLocator, LocatorError> {
        let source = clean_url(repo_url)?;
        if !(source.starts_with("https://") || source.starts_with("http://")) {
            return Err(LocatorError::Scheme {
                url: source,
                kind: "Helm HTTP",
            });
        }
        Self::new(SourceKind::Http, source, chart)
    }

    /// A chart of the repository at `repo_url`, its kind read from the URL as `helm pull
    /// --repo URL CHART` reads it: an OCI registry for `oci://...`, else a Helm HTTP
    /// repository. Errors: [`LocatorError`].
    pub fn of_repo(repo_url: &str, chart: &str) -> Result<ChartLocator, LocatorError> {
        if repo_url.starts_with("oci://") {
            Self::oci(repo_url, chart)
        } else {
            Self::http(repo_url, chart)
        }
    }

    /// A chart of an OCI `HelmRepository` (`url: oci://host/path`, chart `name`).
    /// Errors: [`LocatorError`].
    pub fn oci(repo_url: &str, chart: &str) -> Result<ChartLocator, LocatorError> {
        let source = clean_url(repo_url)?;
        if !source.starts_with("oci://") {
            return Err(LocatorError::Scheme {
                url: source,
                kind: "OCI",
            });
        }
        Self::new(SourceKind::Oci, source, chart)
    }

    /// The chart an `OCIRepository` URL names (`oci://host/path/chart`).
    /// Errors: [`LocatorError`] (also for a URL without a path).
    pub fn oci_chart_url(url: &str) -> Result<ChartLocator, LocatorError> {
        let clean = clean_url(url)?;
        let rest = clean
            .strip_prefix("oci://")
            .ok_or_else(|| LocatorError::Scheme {
                url: clean.clone(),
                kind: "OCI",
            })?;
        match rest.rsplit_once('/') {
            Some((base, chart)) if !base.is_empty() => Self::oci(&format!("oci://{base}"), chart),
            _ => Err(LocatorError::Url { url: clean }),
        }
    }

    fn new(kind: SourceKind, source: String, chart: &str) -> Result<ChartLocator, LocatorError> {
        let bad = chart.is_empty()
            || chart == "."
            || chart.contains("..")
            || chart.contains('/')
            || chart.chars().any(|c| c.is_whitespace() || c.is_control());
        if bad {
            return Err(LocatorError::Name {
                name: chart.to_string(),
            });
        }
        Ok(ChartLocator {
            kind,
            source,
            chart: chart.to_string(),
        })
    }

    /// The host (and port) the source names: `ghcr.io`, `127.0.0.1:5000`.
    pub fn host(&self) -> &str {
        let rest = self.source.split_once("://").map_or("", |(_, r)| r);
        rest.split('/').next().unwrap_or("")
    }

    /// The OCI reference of the chart without tag (`host/path/chart`); None for HTTP.
    pub fn oci_repository(&self) -> Option<String> {
        let base = self.source.strip_prefix("oci://")?;
        Some(format!("{base}/{}", self.chart))
    }

    /// The canonical text the cache key is made from: `kind|source|chart`.
    pub fn canonical(&self) -> String {
        let kind = match self.kind {
            SourceKind::Http => "http",
            SourceKind::Oci => "oci",
        };
        format!("{kind}|{}|{}", self.source, self.chart)
    }
}

impl std::fmt::Display for ChartLocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.source, self.chart)
    }
}

/// Trims the URL and its trailing `/`; refuses whitespace, control characters, `user@`,
/// queries and fragments (never needed for a chart source, and a place to hide credentials).
fn clean_url(url: &str) -> Result<String, LocatorError> {
    let u = url.trim().trim_end_matches('/');
    let authority = u
        .split_once("://")
        .map_or(u, |(_, r)| r)
        .split('/')
        .next()
        .unwrap_or("");
    let bad = u.chars().any(|c| c.is_whitespace() || c.is_control())
        || authority.contains('@')
        || u.contains('?')
        || u.contains('#')
        || authority.is_empty();
    if bad {
        return Err(LocatorError::Url { url: u.to_string() });
    }
    Ok(u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_chart_url_and_helm_repository_share_a_locator() {
        let a = ChartLocator::oci_chart_url("oci://ghcr.io/stefanprodan/charts/podinfo").unwrap();
        let b = ChartLocator::oci("oci://ghcr.io/stefanprodan/charts/", "podinfo").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.host(), "ghcr.io");
        assert_eq!(
            a.oci_repository().unwrap(),
            "ghcr.io/stefanprodan/charts/podinfo"
        );
    }

    #[test]
    fn refuses_bad_names_and_urls() {
        assert!(ChartLocator::http("https://x.io", "../etc").is_err());
        assert!(ChartLocator::http("https://x.io", "a/b").is_err());
        assert!(ChartLocator::http("oci://x.io", "a").is_err());
        assert!(ChartLocator::http("https://user:pw@x.io", "a").is_err());
        assert!(ChartLocator::http("https://x.io/?token=1", "a").is_err());
        assert!(ChartLocator::oci_chart_url("oci://x.io").is_err());
        let ok = ChartLocator::http(" https://x.io/charts/ ", "a").unwrap();
        assert_eq!(ok.canonical(), "http|https://x.io/charts|a");
    }
}
