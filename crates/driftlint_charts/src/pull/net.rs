//! The one HTTP client of a pull (ureq, rustls with the Mozilla roots): every request passes
//! [`PullPolicy::check_url`], host names resolve through [`PolicyResolver`] (every address
//! checked, the connection made to the checked addresses), redirects are followed here
//! (at most [`MAX_REDIRECTS`], each target checked again, `Authorization` dropped when the
//! host changes), transient failures are retried with backoff, and bodies have budgets.
//! Environment proxies are ignored (a proxy would resolve names the policy never sees).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use ureq::Agent;

use super::policy::{shown, PolicyError, PullPolicy};
use super::PullError;

/// Redirects followed per request.
pub const MAX_REDIRECTS: usize = 5;
/// Attempts per request (the first and two retries) on connection errors, timeouts, 429
/// and 5xx.
const ATTEMPTS: u32 = 3;
/// The first retry waits this long; each next retry four times as long.
const BACKOFF: Duration = Duration::from_millis(250);

/// A response whose body was read within its budget.
#[derive(Debug)]
pub struct Fetched {
    /// HTTP status.
    pub status: u16,
    /// Response headers (name lowercase, value as text; non-UTF-8 values dropped).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Fetched {
    /// The first header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The client of one pull.
#[derive(Debug, Clone)]
pub struct Client {
    agent: Agent,
    policy: Arc<PullPolicy>,
}

/// The resolver that refuses hosts with a non-public address (unless allowed).
#[derive(Debug)]
struct PolicyResolver {
    policy: Arc<PullPolicy>,
    inner: DefaultResolver,
}

impl Resolver for PolicyResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let host = uri.authority().map_or("", |a| a.as_str());
        for a in addrs.iter() {
            if let Err(e) = self.policy.check_addr(host, SocketAddr::ip(a)) {
                let err = io::Error::new(io::ErrorKind::PermissionDenied, e.to_string());
                return Err(ureq::Error::Io(err));
            }
        }
        Ok(addrs)
    }
}

impl Client {
    /// A client applying `policy`; `timeout` bounds each request (connect, headers and body).
    pub fn new(policy: PullPolicy, timeout: Duration) -> Client {
        let policy = Arc::new(policy);
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_global(Some(timeout))
            .timeout_connect(Some(Duration::from_secs(10).min(timeout)))
            .user_agent(concat!("driftlint/", env!("CARGO_PKG_VERSION")))
            .accept_encoding("identity")
            .build();
        let resolver = PolicyResolver {
            policy: policy.clone(),
            inner: DefaultResolver::default(),
        };
        let agent = Agent::with_parts(config, DefaultConnector::new(), resolver);
        Client { agent, policy }
    }

    /// GET `url` with `headers`, following redirects under the policy, reading at most
    /// `limit` bytes of body. Any status is returned (the caller decides); 429/5xx only after
    /// the retries.
    /// Errors: [`PullError::Policy`], [`PullError::Network`], [`PullError::TooLarge`].
    pub fn get(
        &self,
        url: &str,
        headers: &[(&str, String)],
        limit: u64,
    ) -> Result<Fetched, PullError> {
        let mut current = url.to_string();
        let mut host = self.policy.check_url(url)?.authority;
        let mut auth = true;
        for _ in 0..=MAX_REDIRECTS {
            let sent: Vec<(&str, String)> = headers
                .iter()
                .filter(|(n, _)| auth || !n.eq_ignore_ascii_case("authorization"))
                .cloned()
                .collect();
            let resp = self.with_retries(&current, &sent, limit)?;
            let Some(next) = redirect_target(&resp) else {
                return Ok(resp);
            };
            let next = join_url(&current, &next);
            let checked = self.policy.check_url(&next)?;
            auth &= checked.authority == host;
            host = checked.authority;
            current = next;
        }
        Err(PullError::Network {
            url: shown(url),
            reason: format!("more than {MAX_REDIRECTS} redirects"),
            transient: false,
        })
    }

    fn with_retries(
        &self,
        url: &str,
        headers: &[(&str, String)],
        limit: u64,
    ) -> Result<Fetched, PullError> {
        let mut wait = BACKOFF;
        let mut attempt = 1;
        loop {
            let result = self.once(url, headers, limit);
            let transient = match &result {
                Ok(r) => r.status == 429 || r.status >= 500,
                Err(PullError::Network { transient, .. }) => *transient,
                Err(_) => false,
            };
            if !transient || attempt >= ATTEMPTS {
                return result;
            }
            std::thread::sleep(wait);
            wait *= 4;
            attempt += 1;
        }
    }

    fn once(
        &self,
        url: &str,
        headers: &[(&str, String)],
        limit: u64,
    ) -> Result<Fetched, PullError> {
        let mut req = self.agent.get(url);
        for (name, value) in headers {
            req = req.header(*name, value.as_str());
        }
        let mut resp = req.call().map_err(|e| net_error(url, e))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let body = if (300..400).contains(&status) {
            Vec::new()
        } else {
            let read = resp.body_mut().with_config().limit(limit).read_to_vec();
            read.map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => PullError::TooLarge {
                    url: shown(url),
                    limit,
                },
                e => net_error(url, e),
            })?
        };
        Ok(Fetched {
            status,
            headers,
            body,
        })
    }
}

fn net_error(url: &str, e: ureq::Error) -> PullError {
    if let ureq::Error::Io(io) = &e {
        if io.kind() == io::ErrorKind::PermissionDenied {
            return PullError::Policy(PolicyError::Refused {
                reason: io.to_string(),
            });
        }
    }
    // rustls reports a peer that does not speak TLS as an `InvalidData` I/O error.
    let transient = match &e {
        ureq::Error::Io(io) => io.kind() != io::ErrorKind::InvalidData,
        _ => false,
    } || matches!(
        e,
        ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed | ureq::Error::BodyStalled
    );
    PullError::Network {
        url: shown(url),
        reason: e.to_string(),
        transient,
    }
}

fn redirect_target(resp: &Fetched) -> Option<String> {
    matches!(resp.status, 301 | 302 | 303 | 307 | 308)
        .then(|| resp.header("location").map(str::to_string))
        .flatten()
}

/// `reference` resolved against `base` as a browser (and Go's `url.ResolveReference`) does
/// for the forms registries and chart repositories use: absolute (`scheme://...`),
/// scheme-relative (`//host/...`), absolute path (`/...`) and relative path.
pub fn join_url(base: &str, reference: &str) -> String {
    if reference.contains("://") {
        return reference.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
    if let Some(r) = reference.strip_prefix("//") {
        return format!("{scheme}://{r}");
    }
    let end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..end];
    if reference.starts_with('/') {
        return format!("{scheme}://{authority}{reference}");
    }
    let path = rest[end..].split(['?', '#']).next().unwrap_or("");
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    format!("{scheme}://{authority}{dir}/{reference}")
}

#[cfg(test)]
mod tests {
    use super::join_url;

    #[test]
    fn joins_as_url_resolve_reference() {
        let base = "https://h.io/charts/index.yaml";
        assert_eq!(
            join_url(base, "a-1.0.0.tgz"),
            "https://h.io/charts/a-1.0.0.tgz"
        );
        assert_eq!(join_url(base, "/x/a.tgz"), "https://h.io/x/a.tgz");
        assert_eq!(join_url(base, "//o.io/a.tgz"), "https://o.io/a.tgz");
        assert_eq!(join_url(base, "http://o.io/a.tgz"), "http://o.io/a.tgz");
        assert_eq!(join_url("https://h.io", "a.tgz"), "https://h.io/a.tgz");
    }
}

#[cfg(test)]
mod retry_tests {
    use super::*;

    fn transient(e: ureq::Error) -> bool {
        match net_error("https://charts.example.org/index.yaml", e) {
            PullError::Network { transient, .. } => transient,
            other => panic!("not a network error: {other}"),
        }
    }

    #[test]
    fn timeouts_and_dropped_connections_are_retried_tls_and_name_failures_are_not() {
        assert!(transient(ureq::Error::ConnectionFailed));
        assert!(transient(ureq::Error::Io(io::Error::from(
            io::ErrorKind::ConnectionReset
        ))));
        // rustls: the peer answered in plain http
        assert!(!transient(ureq::Error::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            "received corrupt message of type InvalidContentType"
        ))));
        assert!(!transient(ureq::Error::HostNotFound));
        assert!(!transient(ureq::Error::Tls("handshake")));
    }
}
