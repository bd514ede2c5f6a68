//! Pulling charts into the cache (the `pull` cargo feature): [`pull`] takes the
//! [`ChartRequest`]s of [`crate::collect`] and, for each, lists the versions the source offers
//! (recorded in the cache), resolves the wanted version as Flux does and downloads the archive
//! unless the cache already holds it with the digest the source announces.
//!
//! Everything a pull contacts passes [`PullPolicy`] (module [`policy`]): named hosts only,
//! https only unless allowed, no private addresses unless allowed, redirects re-checked.
//! Budgets: `index.yaml` 64 MiB, manifests 4 MiB, archives [`MAX_ARCHIVE_BYTES`]; each request
//! has a timeout and is retried twice with backoff. Only the cache directory is written.

mod auth;
mod http_repo;
mod net;
mod oci;
pub mod policy;

use std::collections::BTreeMap;
use std::time::Duration;

use rayon::prelude::*;

pub use auth::{AuthError, Credentials, Secret};
pub use http_repo::MAX_INDEX_YAML_BYTES;
pub use oci::HELM_CHART_LAYER;

/// The hosts a pull may contact for the sources named `source_hosts` (`host[:port]`,
/// lowercase): those hosts, plus Docker Hub's API and token hosts when `docker.io` is named
/// (`registry-1.docker.io`, `auth.docker.io`: Docker Hub is served there, as Helm and Flux
/// know).
pub fn hosts_for_sources<'a>(
    source_hosts: impl IntoIterator<Item = &'a String>,
) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for h in source_hosts {
        if oci::api_host(h) == oci::DOCKER_HUB_API {
            out.insert(oci::DOCKER_HUB_API.to_string());
            out.insert(oci::DOCKER_HUB_AUTH.to_string());
        }
        out.insert(h.clone());
    }
    out
}
pub use policy::{PolicyError, PullPolicy};

use crate::cache::{CacheError, ChartCache, Digest, MAX_ARCHIVE_BYTES};
use crate::collect::{ChartRequest, Wanted};
use crate::locator::SourceKind;
use crate::resolve::resolve_version;

/// Why a chart could not be pulled. No message holds a credential or token.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The policy refused a URL, host or address.
    #[error("refused: {0}")]
    Policy(#[from] PolicyError),
    /// A connection, TLS or timeout failure (after the retries).
    #[error("{url}: {reason}")]
    Network {
        /// The URL.
        url: String,
        /// The transport's message.
        reason: String,
        /// Worth retrying: a timeout, a refused or reset connection. A TLS or protocol
        /// failure (an http server on an https URL), a name that does not resolve, are
        /// answered the same way again and are not retried.
        transient: bool,
    },
    /// An HTTP status other than the expected one.
    #[error("{url}: HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// A body over its budget.
    #[error("{url}: larger than the budget of {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The budget in bytes.
        limit: u64,
    },
    /// An index, tags list or manifest that is not what the API defines.
    #[error("{url}: {reason}")]
    Index {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Authentication failed.
    #[error("authentication with {host} failed: {reason}")]
    Auth {
        /// `host[:port]`.
        host: String,
        /// What failed (never a credential).
        reason: String,
    },
    /// No offered version matches.
    #[error("no version of {chart} matches {wanted:?} ({offered} versions offered)")]
    NoVersion {
        /// The chart.
        chart: String,
        /// The version asked for.
        wanted: String,
        /// How many versions the source offers.
        offered: usize,
    },
    /// The cache refused or failed (digest mismatch, size, I/O).
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// How to pull.
#[derive(Clone, Debug)]
pub struct PullOptions {
    /// What may be contacted.
    pub policy: PullPolicy,
    /// Registry and repository credentials.
    pub credentials: Credentials,
    /// Timeout of one request (connect, headers and body), default 60 s.
    pub timeout: Duration,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            policy: PullPolicy::default(),
            credentials: Credentials::default(),
            timeout: Duration::from_secs(60),
        }
    }
}

/// What happened to one request.
#[derive(Debug)]
pub enum Outcome {
    /// The resolved version was already in the cache with the announced digest.
    Cached {
        /// The version (as the source spells it; the cache key).
        version: String,
    },
    /// Downloaded, verified and stored.
    Pulled {
        /// The version (as the source spells it; the cache key).
        version: String,
        /// The archive's digest.
        digest: Digest,
    },
    /// Failed; nothing stored for it.
    Failed(PullError),
}

/// One request and its outcome.
#[derive(Debug)]
pub struct Pulled {
    /// The request.
    pub request: ChartRequest,
    /// What happened.
    pub outcome: Outcome,
}

/// Pulls every request into `cache`; requests of one Helm HTTP repository share one
/// `index.yaml` fetch; repositories and OCI charts are pulled in parallel (rayon), the
/// requests of one chart one after the other (they update the same cache index). Returns one [`Pulled`] per request, in request order.
pub fn pull(requests: &[ChartRequest], cache: &ChartCache, opts: &PullOptions) -> Vec<Pulled> {
    let client = net::Client::new(opts.policy.clone(), opts.timeout);
    // an HTTP repository's charts share its index.yaml; OCI charts are independent. The
    // requests of one chart stay in one group: they update the same cache index.
    let mut groups: BTreeMap<(SourceKind, &str, &str), Vec<usize>> = BTreeMap::new();
    for (i, r) in requests.iter().enumerate() {
        let chart = match r.locator.kind {
            SourceKind::Oci => r.locator.chart.as_str(),
            SourceKind::Http => "",
        };
        groups
            .entry((r.locator.kind, r.locator.source.as_str(), chart))
            .or_default()
            .push(i);
    }
    let groups: Vec<Vec<usize>> = groups.into_values().collect();
    let mut outcomes: Vec<(usize, Outcome)> = groups
        .par_iter()
        .flat_map_iter(|group| pull_group(&client, cache, opts, requests, group))
        .collect();
    outcomes.sort_by_key(|(i, _)| *i);
    outcomes
        .into_iter()
        .map(|(i, outcome)| Pulled {
            request: requests[i].clone(),
            outcome,
        })
        .collect()
}

fn pull_group(
    client: &net::Client,
    cache: &ChartCache,
    opts: &PullOptions,
    requests: &[ChartRequest],
    group: &[usize],
) -> Vec<(usize, Outcome)> {
    let first = &requests[group[0]];
    let outcome = |r: Result<Outcome, PullError>| r.unwrap_or_else(Outcome::Failed);
    match first.locator.kind {
        SourceKind::Http => {
            let index = http_repo::fetch_index(client, &first.locator.source, &opts.credentials);
            group
                .iter()
                .map(|&i| {
                    let r = match &index {
                        Ok(index) => pull_http(client, cache, opts, &requests[i], index),
                        Err(e) => Err(copy_error(e)),
                    };
                    (i, outcome(r))
                })
                .collect()
        }
        SourceKind::Oci => group
            .iter()
            .map(|&i| (i, outcome(pull_oci(client, cache, opts, &requests[i]))))
            .collect(),
    }
}

/// The same error again for the other charts of a source whose index failed.
fn copy_error(e: &PullError) -> PullError {
    match e {
        PullError::Policy(p) => PullError::Policy(p.clone()),
        PullError::Status { url, status } => PullError::Status {
            url: url.clone(),
            status: *status,
        },
        PullError::TooLarge { url, limit } => PullError::TooLarge {
            url: url.clone(),
            limit: *limit,
        },
        PullError::Auth { host, reason } => PullError::Auth {
            host: host.clone(),
            reason: reason.clone(),
        },
        PullError::Network {
            url,
            reason,
            transient,
        } => PullError::Network {
            url: url.clone(),
            reason: reason.clone(),
            transient: *transient,
        },
        PullError::Index { url, reason } => PullError::Index {
            url: url.clone(),
            reason: reason.clone(),
        },
        other => PullError::Index {
            url: "index.yaml".into(),
            reason: other.to_string(),
        },
    }
}

/// `Authorization: Basic` for `url`'s host when credentials are configured for it.
fn auth_headers(creds: &Credentials, url: &str) -> Vec<(&'static str, String)> {
    crate::collect::url_host(url)
        .and_then(|h| creds.basic(&h).map(|s| format!("Basic {}", s.expose())))
        .map(|v| vec![("authorization", v)])
        .unwrap_or_default()
}

fn no_version(r: &ChartRequest, offered: usize) -> PullError {
    PullError::NoVersion {
        chart: r.locator.to_string(),
        wanted: r.wanted.to_string(),
        offered,
    }
}

fn pull_http(
    client: &net::Client,
    cache: &ChartCache,
    opts: &PullOptions,
    r: &ChartRequest,
    index: &http_repo::RepoIndex,
) -> Result<Outcome, PullError> {
    let entries = index
        .get(&r.locator.chart)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let offered: Vec<String> = entries.iter().map(|e| e.version.clone()).collect();
    cache.record_versions(&r.locator, &offered)?;
    let wanted = match &r.wanted {
        Wanted::Range(w) | Wanted::Tag(w) => w.as_str(),
        Wanted::Digest(_) => return Err(no_version(r, offered.len())),
    };
    let version = resolve_version(wanted, &offered).ok_or_else(|| no_version(r, offered.len()))?;
    let entry = entries
        .iter()
        .find(|e| e.version == version)
        .expect("a resolved version is offered");
    if is_cached(cache, r, &version, entry.digest.as_ref())? {
        return Ok(Outcome::Cached { version });
    }
    let bytes = http_repo::fetch_archive(client, &r.locator.source, entry, &opts.credentials)?;
    let digest = cache.store_archive(&r.locator, &version, &bytes, entry.digest.as_ref())?;
    Ok(Outcome::Pulled { version, digest })
}

/// True when the cache holds `version` (with `digest` when the source announces one).
fn is_cached(
    cache: &ChartCache,
    r: &ChartRequest,
    version: &str,
    digest: Option<&Digest>,
) -> Result<bool, PullError> {
    let Some(index) = cache.index(&r.locator)? else {
        return Ok(false);
    };
    let Some(have) = index.archives.get(version) else {
        return Ok(false);
    };
    if digest.is_some_and(|d| d != have) {
        return Ok(false);
    }
    // the blob must still be there and intact
    Ok(cache
        .archive(&r.locator, version)
        .is_ok_and(|a| a.is_some()))
}

fn pull_oci(
    client: &net::Client,
    cache: &ChartCache,
    opts: &PullOptions,
    r: &ChartRequest,
) -> Result<Outcome, PullError> {
    let plain = r.insecure && opts.policy.allow_insecure;
    pull_oci_as(client, cache, opts, r, plain).map_err(|e| match e {
        PullError::Network {
            url,
            reason,
            transient,
        } if r.insecure && !plain => PullError::Network {
            url,
            reason: format!(
                "{reason} (https was used: the source says `insecure: true`, and plain http also needs `charts.allowInsecure: true` in .driftlint.yaml)"
            ),
            transient,
        },
        e => e,
    })
}

fn pull_oci_as(
    client: &net::Client,
    cache: &ChartCache,
    opts: &PullOptions,
    r: &ChartRequest,
    plain: bool,
) -> Result<Outcome, PullError> {
    let repo =
        oci::OciRepo::new(client, &opts.credentials, &r.locator, plain).ok_or_else(|| {
            PullError::Index {
                url: r.locator.to_string(),
                reason: "not an OCI chart reference".into(),
            }
        })?;
    let version = match &r.wanted {
        Wanted::Digest(d) => d.clone(),
        Wanted::Tag(t) => t.clone(),
        Wanted::Range(w) => {
            let tags = repo.tags()?;
            cache.record_versions(&r.locator, &tags)?;
            resolve_version(w, &tags).ok_or_else(|| no_version(r, tags.len()))?
        }
    };
    let layer = repo.chart_layer(&version)?;
    if is_cached(cache, r, &version, Some(&layer.digest))? {
        return Ok(Outcome::Cached { version });
    }
    let bytes = repo.blob(&layer.digest)?;
    if bytes.len() as u64 > MAX_ARCHIVE_BYTES {
        return Err(CacheError::TooLarge {
            chart: r.locator.to_string(),
        }
        .into());
    }
    let digest = cache.store_archive(&r.locator, &version, &bytes, Some(&layer.digest))?;
    Ok(Outcome::Pulled { version, digest })
}

#[cfg(test)]
mod tests {
    use super::hosts_for_sources;

    #[test]
    fn docker_hub_brings_its_api_and_token_hosts() {
        let named = ["docker.io".to_string(), "ghcr.io".to_string()];
        let hosts: Vec<String> = hosts_for_sources(&named).into_iter().collect();
        assert_eq!(
            hosts,
            [
                "auth.docker.io",
                "docker.io",
                "ghcr.io",
                "registry-1.docker.io"
            ]
        );
    }
}
