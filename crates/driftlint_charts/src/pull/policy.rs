//! Which URLs and addresses a pull may contact. A pull runs on untrusted pull requests, so
//! the repository decides nothing beyond naming its sources:
//!
//! - only hosts named by the repository's sources (`HelmRepository`/`OCIRepository` URLs,
//!   kustomize `helmCharts` `repo`) plus the configuration's allow-list are contacted;
//! - `https` only; plain `http` to a host only when a source of that host says
//!   `insecure: true` **and** the configuration allows insecure sources;
//! - every address a host name resolves to is checked, and one loopback, private,
//!   link-local, shared (CGNAT), unspecified, multicast or broadcast address refuses the host
//!   (unless `--allow-private-registries`); the connection goes to the checked addresses;
//! - redirects are followed by hand and each target passes the same checks.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a URL or an address is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The URL does not parse as `http(s)://host[:port]/...`, or holds credentials.
    #[error("{url}: not an http(s) URL driftlint may fetch")]
    BadUrl {
        /// The URL as [`shown`] prints it (user information and query redacted).
        url: String,
    },
    /// The host is not named by a source of the repository nor in the allow-list.
    #[error("host {host} is not named by a HelmRepository/OCIRepository of the repository nor in the configuration's charts.allowHosts")]
    HostNotAllowed {
        /// `host[:port]`.
        host: String,
    },
    /// Plain http without `insecure: true` on the source and in the configuration.
    #[error("http://{host}: plain http needs `insecure: true` on the source and charts.allowInsecure: true in the configuration")]
    Insecure {
        /// `host[:port]`.
        host: String,
    },
    /// The host resolves to an address of a private, loopback or link-local network.
    #[error("host {host} resolves to {addr}, a loopback, private or link-local address (pass --allow-private-registries to allow)")]
    PrivateAddress {
        /// `host[:port]`.
        host: String,
        /// The refused address.
        addr: IpAddr,
    },
    /// A refusal raised while connecting (the resolver's [`PolicyError::PrivateAddress`]).
    #[error("{reason}")]
    Refused {
        /// The refusal, one line.
        reason: String,
    },
}

/// The rules of one pull.
#[derive(Clone, Debug, Default)]
pub struct PullPolicy {
    /// `host[:port]` (lowercase) that may be contacted.
    pub allowed_hosts: BTreeSet<String>,
    /// `host[:port]` (lowercase) whose source says `insecure: true`.
    pub insecure_hosts: BTreeSet<String>,
    /// The configuration allows plain http to `insecure_hosts` (`charts.allowInsecure`).
    pub allow_insecure: bool,
    /// Loopback/private/link-local addresses are allowed (`--allow-private-registries`).
    pub allow_private: bool,
}

/// A URL that passed [`PullPolicy::check_url`]: scheme, host (no brackets), port, path+query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedUrl {
    /// `https` or `http`.
    pub scheme: &'static str,
    /// The host name or address, lowercase, IPv6 without brackets.
    pub host: String,
    /// The port (default 443/80).
    pub port: u16,
    /// `host[:port]` as written (lowercase), the allow-list key.
    pub authority: String,
    /// The full URL.
    pub url: String,
}

impl PullPolicy {
    /// Checks a URL before any request: parse, scheme, host allow-list, insecure rule.
    /// Errors: [`PolicyError`] (not an address check: see [`PullPolicy::check_addr`]).
    pub fn check_url(&self, url: &str) -> Result<CheckedUrl, PolicyError> {
        let parsed = parse_url(url).ok_or_else(|| PolicyError::BadUrl { url: shown(url) })?;
        if !self.allowed_hosts.contains(&parsed.authority) {
            return Err(PolicyError::HostNotAllowed {
                host: parsed.authority,
            });
        }
        let plain_ok = self.allow_insecure && self.insecure_hosts.contains(&parsed.authority);
        if parsed.scheme == "http" && !plain_ok {
            return Err(PolicyError::Insecure {
                host: parsed.authority,
            });
        }
        Ok(parsed)
    }

    /// Checks one resolved address of `host`. Errors: [`PolicyError::PrivateAddress`].
    pub fn check_addr(&self, host: &str, addr: IpAddr) -> Result<(), PolicyError> {
        if self.allow_private || is_public(addr) {
            return Ok(());
        }
        Err(PolicyError::PrivateAddress {
            host: host.to_string(),
            addr,
        })
    }
}

/// `url` as messages show it: user information and the query replaced by `***` (a redirect
/// may carry credentials or a signed query), at most 200 characters, control characters
/// dropped.
pub fn shown(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, _)) => format!("{path}?***"),
        None => tail.to_string(),
    };
    let sep = if scheme.is_empty() { "" } else { "://" };
    format!("{scheme}{sep}{authority}{tail}")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

/// Parses `scheme://host[:port][/path]` for http and https; None for anything else
/// (credentials, empty host, bad port, other schemes).
fn parse_url(url: &str) -> Option<CheckedUrl> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "https" => "https",
        "http" => "http",
        _ => return None,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest[..end].to_ascii_lowercase();
    let bad = authority.is_empty()
        || authority.contains('@')
        || url.chars().any(|c| c.is_whitespace() || c.is_control());
    if bad {
        return None;
    }
    let (host, port) = split_host_port(&authority)?;
    let port = match port {
        Some(p) => p.parse().ok().filter(|p| *p != 0)?,
        None if scheme == "https" => 443,
        None => 80,
    };
    Some(CheckedUrl {
        scheme,
        host,
        port,
        authority,
        url: url.to_string(),
    })
}

fn split_host_port(authority: &str) -> Option<(String, Option<&str>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        host.parse::<Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        return Some((host.to_string(), port));
    }
    match authority.split_once(':') {
        Some((h, p)) if !h.is_empty() => Some((h.to_string(), Some(p))),
        Some(_) => None,
        None => Some((authority.to_string(), None)),
    }
}

/// True for a globally routable unicast address.
pub fn is_public(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let [b0, b1, ..] = a.octets();
    let shared = b0 == 100 && (64..128).contains(&b1); // 100.64.0.0/10
    let this_net = b0 == 0; // 0.0.0.0/8
    let reserved = b0 >= 240; // 240.0.0.0/4 and broadcast
    !(a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_multicast()
        || a.is_broadcast()
        || a.is_unspecified()
        || shared
        || this_net
        || reserved)
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let s0 = a.segments()[0];
    let unique_local = (s0 & 0xfe00) == 0xfc00; // fc00::/7
    let link_local = (s0 & 0xffc0) == 0xfe80; // fe80::/10
    let site_local = (s0 & 0xffc0) == 0xfec0; // fec0::/10 (deprecated)
    let nat64_local = a.segments()[..2] == [0x64, 0xff9b] && a.segments()[2] == 1; // 64:ff9b:1::/48
    !(a.is_loopback()
        || a.is_unspecified()
        || a.is_multicast()
        || unique_local
        || link_local
        || site_local
        || nat64_local)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PullPolicy {
        PullPolicy {
            allowed_hosts: ["charts.example.com", "127.0.0.1:5000", "[::1]:8080"]
                .map(String::from)
                .into(),
            insecure_hosts: ["127.0.0.1:5000".to_string()].into(),
            allow_insecure: true,
            allow_private: false,
        }
    }

    #[test]
    fn only_named_hosts_over_https() {
        let p = policy();
        let ok = p
            .check_url("https://charts.example.com/a/index.yaml")
            .unwrap();
        assert_eq!((ok.host.as_str(), ok.port), ("charts.example.com", 443));
        assert!(matches!(
            p.check_url("https://evil.example.com/x"),
            Err(PolicyError::HostNotAllowed { .. })
        ));
        assert!(matches!(
            p.check_url("http://charts.example.com/x"),
            Err(PolicyError::Insecure { .. })
        ));
        // the port is part of the host: another port of an allowed host is another host
        assert!(p.check_url("https://charts.example.com:8443/x").is_err());
        assert!(p.check_url("HTTPS://Charts.Example.COM/x").is_ok());
    }

    #[test]
    fn plain_http_needs_the_source_and_the_config() {
        let mut p = policy();
        assert_eq!(p.check_url("http://127.0.0.1:5000/v2/").unwrap().port, 5000);
        p.allow_insecure = false;
        assert!(matches!(
            p.check_url("http://127.0.0.1:5000/v2/"),
            Err(PolicyError::Insecure { .. })
        ));
    }

    #[test]
    fn malformed_urls_are_refused() {
        let p = policy();
        for u in [
            "ftp://charts.example.com/x",
            "https://user:pw@charts.example.com/x",
            "https:///x",
            "https://charts.example.com:99999/x",
            "https://charts.example.com:0/x",
            "https://:443/x",
            "https://charts.example.com/a b",
            "file:///etc/passwd",
            "https://[::1/x",
        ] {
            assert!(
                matches!(p.check_url(u), Err(PolicyError::BadUrl { .. })),
                "{u}"
            );
        }
        let e = p
            .check_url("https://user:s3cret@evil.io/x?sig=abc")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "https://***@evil.io/x?***: not an http(s) URL driftlint may fetch"
        );
        let v6 = p.check_url("https://[::1]:8080/x").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 8080));
    }

    #[test]
    fn private_addresses_are_refused_unless_allowed() {
        let mut p = policy();
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            let addr: IpAddr = a.parse().unwrap();
            assert!(p.check_addr("h", addr).is_err(), "{a}");
        }
        for a in ["140.82.112.3", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(p.check_addr("h", a.parse().unwrap()).is_ok(), "{a}");
        }
        p.allow_private = true;
        assert!(p.check_addr("h", "127.0.0.1".parse().unwrap()).is_ok());
    }
}
