//! Helm charts in OCI registries over the distribution API (OCI distribution-spec v1.1, as
//! `helm pull oci://` and source-controller use it): `GET /v2/<repo>/tags/list` (paginated by
//! `Link: <...>; rel="next"`), `GET /v2/<repo>/manifests/<tag|digest>` (an OCI image
//! manifest whose layer of media type [`HELM_CHART_LAYER`] is the chart archive),
//! `GET /v2/<repo>/blobs/<digest>`. Authentication: anonymous first; on `401` with
//! `WWW-Authenticate: Bearer realm=...,service=...,scope=...` a token is asked from the realm
//! (with the host's Basic credentials when there are some), on `Basic` the credentials are
//! sent directly. Helm pushes version `1.0.0+b` as tag `1.0.0_b`.
//!
//! Written on the HTTP client of the pull rather than the `oci-client` crate: `oci-client`
//! builds its own `reqwest` client, which resolves names and follows redirects itself, so the
//! address and redirect rules of [`super::policy`] could not be enforced on its connections.

use std::sync::Mutex;

use super::net::{join_url, Client, Fetched};
use super::{Credentials, PullError};
use crate::cache::{Digest, MAX_ARCHIVE_BYTES};
use crate::locator::ChartLocator;

/// The media type of a Helm chart archive layer.
pub const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// The largest manifest read: 4 MiB (the distribution registry's own limit).
const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// The largest tags page or token response read: 8 MiB.
const MAX_PAGE_BYTES: u64 = 8 << 20;
/// Tag pages followed per repository.
const MAX_TAG_PAGES: usize = 100;
/// Tags kept per repository.
const MAX_TAGS: usize = 100_000;
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json";

/// One OCI repository (`host/path/chart`) on one registry, with its bearer token once known.
pub struct OciRepo<'c> {
    client: &'c Client,
    creds: &'c Credentials,
    /// `https://host[:port]` or `http://...` for an insecure source.
    base: String,
    host: String,
    /// The registry as the source names it (`docker.io`), for credentials.
    registry: String,
    /// The repository path (`path/chart`).
    name: String,
    token: Mutex<Option<String>>,
}

/// The chart layer of a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartLayer {
    /// The layer digest (the archive's sha256).
    pub digest: Digest,
    /// The manifest's own digest.
    pub manifest: Digest,
}

impl<'c> OciRepo<'c> {
    /// The repository of `chart`, over plain http when `plain_http`.
    pub fn new(
        client: &'c Client,
        creds: &'c Credentials,
        chart: &ChartLocator,
        plain_http: bool,
    ) -> Option<Self> {
        let full = chart.oci_repository()?;
        let (host, name) = full.split_once('/')?;
        let api = api_host(host);
        let scheme = if plain_http { "http" } else { "https" };
        Some(OciRepo {
            client,
            creds,
            base: format!("{scheme}://{api}"),
            host: api.to_ascii_lowercase(),
            registry: host.to_ascii_lowercase(),
            name: name.to_string(),
            token: Mutex::new(None),
        })
    }

    /// Every tag, following `Link` pages (at most [`MAX_TAG_PAGES`], [`MAX_TAGS`] tags).
    /// Errors: network, policy, status, a page that is not the tags JSON.
    pub fn tags(&self) -> Result<Vec<String>, PullError> {
        let mut url = format!("{}/v2/{}/tags/list", self.base, self.name);
        let mut tags = Vec::new();
        for _ in 0..MAX_TAG_PAGES {
            let resp = self.get(&url, None, MAX_PAGE_BYTES)?;
            let page: serde_json::Value =
                serde_json::from_slice(&resp.body).map_err(|_| PullError::Index {
                    url: url.clone(),
                    reason: "not a tags list".into(),
                })?;
            let list = page.get("tags").and_then(|t| t.as_array());
            tags.extend(
                list.into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(str::to_string)),
            );
            tags.truncate(MAX_TAGS);
            match resp.header("link").and_then(next_link) {
                Some(next) if tags.len() < MAX_TAGS => url = join_url(&url, &next),
                _ => return Ok(tags),
            }
        }
        Ok(tags)
    }

    /// The chart layer of the manifest `reference` (a tag or `sha256:` digest); a digest
    /// reference is verified against the manifest's bytes.
    /// Errors: network, policy, status, not an OCI manifest, no Helm chart layer, a layer
    /// larger than [`MAX_ARCHIVE_BYTES`], a manifest digest mismatch.
    pub fn chart_layer(&self, reference: &str) -> Result<ChartLayer, PullError> {
        let url = format!("{}/v2/{}/manifests/{reference}", self.base, self.name);
        let resp = self.get(&url, Some(MANIFEST_ACCEPT), MAX_MANIFEST_BYTES)?;
        let manifest = Digest::of(&resp.body);
        if let Some(want) = Digest::parse(reference).filter(|_| reference.starts_with("sha256:")) {
            if want != manifest {
                return Err(PullError::Index {
                    url,
                    reason: format!("manifest digest {manifest}, expected {want}"),
                });
            }
        }
        let bad = |reason: &str| PullError::Index {
            url: url.clone(),
            reason: reason.to_string(),
        };
        let json: serde_json::Value =
            serde_json::from_slice(&resp.body).map_err(|_| bad("not a JSON manifest"))?;
        let layers = json
            .get("layers")
            .and_then(|l| l.as_array())
            .ok_or_else(|| bad("not an OCI image manifest"))?;
        let layer = layers
            .iter()
            .find(|l| l.get("mediaType").and_then(|m| m.as_str()) == Some(HELM_CHART_LAYER))
            .ok_or_else(|| bad("no Helm chart layer (not a Helm chart)"))?;
        let size = layer.get("size").and_then(|s| s.as_u64()).unwrap_or(0);
        if size > MAX_ARCHIVE_BYTES {
            return Err(PullError::TooLarge {
                url,
                limit: MAX_ARCHIVE_BYTES,
            });
        }
        let digest = layer
            .get("digest")
            .and_then(|d| d.as_str())
            .filter(|d| d.starts_with("sha256:"))
            .and_then(Digest::parse)
            .ok_or_else(|| bad("the chart layer has no sha256 digest"))?;
        Ok(ChartLayer { digest, manifest })
    }

    /// The blob `digest` within [`MAX_ARCHIVE_BYTES`] (verified by the cache on store).
    /// Errors: network, policy, status.
    pub fn blob(&self, digest: &Digest) -> Result<Vec<u8>, PullError> {
        let url = format!("{}/v2/{}/blobs/{digest}", self.base, self.name);
        Ok(self.get(&url, None, MAX_ARCHIVE_BYTES)?.body)
    }

    /// GET with the current token; on 401 authenticate once and retry. A non-200 answer is
    /// an error.
    fn get(&self, url: &str, accept: Option<&str>, limit: u64) -> Result<Fetched, PullError> {
        let mut resp = self.client.get(url, &self.headers(accept), limit)?;
        if resp.status == 401 {
            let challenge = resp.header("www-authenticate").unwrap_or("").to_string();
            self.authenticate(url, &challenge)?;
            resp = self.client.get(url, &self.headers(accept), limit)?;
        }
        if resp.status != 200 {
            return Err(PullError::Status {
                url: url.to_string(),
                status: resp.status,
            });
        }
        Ok(resp)
    }

    /// The Basic credentials of the registry: under its API host, the name the source uses,
    /// or for Docker Hub `index.docker.io` (the key `docker login` writes).
    fn basic(&self) -> Option<&super::Secret> {
        let hub = (self.host == DOCKER_HUB_API).then_some("index.docker.io");
        [Some(self.host.as_str()), Some(self.registry.as_str()), hub]
            .into_iter()
            .flatten()
            .find_map(|h| self.creds.basic(h))
    }

    fn headers(&self, accept: Option<&str>) -> Vec<(&'static str, String)> {
        let mut h = Vec::new();
        if let Some(a) = accept {
            h.push(("accept", a.to_string()));
        }
        let token = self.token.lock().map(|t| t.clone()).unwrap_or(None);
        if let Some(t) = token {
            h.push(("authorization", t));
        }
        h
    }

    /// Answers a `WWW-Authenticate` challenge: `Bearer` asks the realm for a token, `Basic`
    /// uses the host's credentials. Errors: [`PullError::Auth`] (never with a credential).
    fn authenticate(&self, url: &str, challenge: &str) -> Result<(), PullError> {
        let auth_err = |reason: String| PullError::Auth {
            host: self.host.clone(),
            reason,
        };
        let basic = self.basic();
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        let header = if scheme.eq_ignore_ascii_case("basic") {
            let b = basic.ok_or_else(|| {
                auth_err("the registry asks for credentials and none are configured".into())
            })?;
            format!("Basic {}", b.expose())
        } else if scheme.eq_ignore_ascii_case("bearer") {
            format!("Bearer {}", self.bearer_token(url, params)?)
        } else {
            return Err(auth_err(format!(
                "401 without a usable challenge from {url}"
            )));
        };
        if let Ok(mut t) = self.token.lock() {
            *t = Some(header);
        }
        Ok(())
    }

    fn bearer_token(&self, url: &str, params: &str) -> Result<String, PullError> {
        let auth_err = |reason: String| PullError::Auth {
            host: self.host.clone(),
            reason,
        };
        let params = challenge_params(params);
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.as_str())
        };
        let realm =
            get("realm").ok_or_else(|| auth_err("Bearer challenge without a realm".into()))?;
        let scope =
            get("scope").map_or_else(|| format!("repository:{}:pull", self.name), str::to_string);
        let mut token_url = format!("{}?scope={}", join_url(url, realm), query_escape(&scope));
        if let Some(service) = get("service") {
            token_url.push_str(&format!("&service={}", query_escape(service)));
        }
        let headers: Vec<(&str, String)> = self
            .basic()
            .map(|b| ("authorization", format!("Basic {}", b.expose())))
            .into_iter()
            .collect();
        let resp = self.client.get(&token_url, &headers, MAX_PAGE_BYTES)?;
        if resp.status != 200 {
            return Err(auth_err(format!("token request answered {}", resp.status)));
        }
        let json: serde_json::Value = serde_json::from_slice(&resp.body)
            .map_err(|_| auth_err("the token answer is not JSON".into()))?;
        json.get("token")
            .or_else(|| json.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
            .map(str::to_string)
            .ok_or_else(|| auth_err("the token answer holds no token".into()))
    }
}

/// The host serving the distribution API of a registry name: Docker Hub's `docker.io`
/// (and `index.docker.io`) answer at `registry-1.docker.io`, as Helm's and Flux's resolvers
/// map it; every other host is itself.
pub fn api_host(host: &str) -> &str {
    match host.to_ascii_lowercase().as_str() {
        "docker.io" | "index.docker.io" => DOCKER_HUB_API,
        _ => host,
    }
}

/// Docker Hub's registry API host.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// Docker Hub's token realm host.
pub const DOCKER_HUB_AUTH: &str = "auth.docker.io";

/// `k="v",k2="v2"` of an auth challenge (quoted or bare values).
fn challenge_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key.trim().trim_start_matches(',').trim().to_string();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (q[..end].to_string(), q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.push((key, value));
        rest = next.trim_start_matches([',', ' ']);
    }
    out
}

/// The URL of `rel="next"` in a `Link` header (`<url>; rel="next"`).
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next")
            .then(|| target.to_string())
    })
}

/// Percent-encodes a query value (RFC 3986 unreserved kept).
fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{:02X}", b));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges_and_links() {
        let p = challenge_params(
            r#"realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/c:pull""#,
        );
        assert_eq!(p[0], ("realm".into(), "https://ghcr.io/token".into()));
        assert_eq!(p[2], ("scope".into(), "repository:o/c:pull".into()));
        assert_eq!(
            next_link(r#"</v2/c/tags/list?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/c/tags/list?last=b&n=2")
        );
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
        assert_eq!(
            query_escape("repository:o/c:pull"),
            "repository%3Ao%2Fc%3Apull"
        );
    }
}
