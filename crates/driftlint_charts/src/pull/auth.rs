//! Registry credentials: a Docker `config.json` (`auths`, as `docker login` and
//! `helm registry login` write it) and environment variables the configuration names. A
//! [`Secret`] never prints: its `Debug`/`Display` is `<redacted>`, and no error of a pull
//! carries one.

use std::collections::BTreeMap;

use data_encoding::BASE64;

/// A credential value that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for an `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why credentials could not be read. The messages name files, hosts and variable names,
/// never a value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The registry configuration is not a Docker `config.json`.
    #[error("registry config: {reason}")]
    Config {
        /// What is wrong (no value from the file).
        reason: String,
    },
    /// An environment variable named in the configuration is unset or not UTF-8.
    #[error("credentials for {host}: environment variable {var} is not set")]
    MissingEnv {
        /// The registry host.
        host: String,
        /// The variable's name.
        var: String,
    },
}

/// Basic credentials (`user:password`, base64) by registry host (`host[:port]`, lowercase).
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    basic: BTreeMap<String, Secret>,
}

impl Credentials {
    /// Reads the `auths` of a Docker `config.json`: each key is a host or a URL
    /// (`https://index.docker.io/v1/`), each value has `auth` (base64 `user:password`) or
    /// `username` and `password`. Credential helpers (`credsStore`, `credHelpers`) are not run.
    /// Errors: [`AuthError::Config`] (not JSON, `auths` not an object, bad base64).
    pub fn from_docker_config(bytes: &[u8]) -> Result<Credentials, AuthError> {
        let bad = |reason: &str| AuthError::Config {
            reason: reason.to_string(),
        };
        let json: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|_| bad("not a JSON document"))?;
        let mut creds = Credentials::default();
        let Some(auths) = json.get("auths") else {
            return Ok(creds);
        };
        let auths = auths
            .as_object()
            .ok_or_else(|| bad("`auths` is not an object"))?;
        for (key, entry) in auths {
            let host = registry_host(key);
            let field = |n: &str| {
                entry
                    .get(n)
                    .and_then(|v| v.as_str())
                    .filter(|s| !s.is_empty())
            };
            let secret = if let Some(auth) = field("auth") {
                let decoded = BASE64
                    .decode(auth.as_bytes())
                    .map_err(|_| bad(&format!("auths.{host}.auth is not base64")))?;
                if !decoded.contains(&b':') {
                    return Err(bad(&format!("auths.{host}.auth is not user:password")));
                }
                Secret(auth.to_string())
            } else if let (Some(u), Some(p)) = (field("username"), field("password")) {
                basic(u, p)
            } else {
                continue;
            };
            creds.basic.insert(host, secret);
        }
        Ok(creds)
    }

    /// Adds the credentials of `host` from the environment variables `user_var` and
    /// `password_var` (names from `.driftlint.yaml`). Errors: [`AuthError::MissingEnv`].
    pub fn add_env(
        &mut self,
        host: &str,
        user_var: &str,
        password_var: &str,
    ) -> Result<(), AuthError> {
        let get = |var: &str| {
            std::env::var(var).map_err(|_| AuthError::MissingEnv {
                host: host.to_string(),
                var: var.to_string(),
            })
        };
        let secret = basic(&get(user_var)?, &get(password_var)?);
        self.basic.insert(registry_host(host), secret);
        Ok(())
    }

    /// The `Basic` credentials of `host` (`host[:port]`).
    pub fn basic(&self, host: &str) -> Option<&Secret> {
        self.basic.get(&host.to_ascii_lowercase())
    }

    /// Number of hosts with credentials.
    pub fn len(&self) -> usize {
        self.basic.len()
    }

    /// True without any credentials.
    pub fn is_empty(&self) -> bool {
        self.basic.is_empty()
    }
}

fn basic(user: &str, password: &str) -> Secret {
    Secret(BASE64.encode(format!("{user}:{password}").as_bytes()))
}

/// `host[:port]` of a Docker config key (`ghcr.io`, `https://index.docker.io/v1/`,
/// `oci://r.io`), lowercase.
fn registry_host(key: &str) -> String {
    let rest = key.split_once("://").map_or(key, |(_, r)| r);
    rest.split('/').next().unwrap_or("").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_docker_config_auths() {
        let json = br#"{"auths": {
            "https://Index.Docker.io/v1/": {"auth": "dXNlcjpwYXNz"},
            "ghcr.io": {"username": "u", "password": "p"},
            "empty.io": {}
        }, "credsStore": "desktop"}"#;
        let c = Credentials::from_docker_config(json).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.basic("index.docker.io").unwrap().expose(), "dXNlcjpwYXNz");
        assert_eq!(c.basic("ghcr.io").unwrap().expose(), BASE64.encode(b"u:p"));
        assert_eq!(format!("{:?}", c), format!("{:?}", c).replace("dXNl", "x"));
        assert!(!format!("{c:?}").contains("dXNlcjpwYXNz"));
    }

    #[test]
    fn errors_never_show_values() {
        let e = Credentials::from_docker_config(br#"{"auths": {"r.io": {"auth": "s3cr3t!!"}}}"#)
            .unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        assert!(Credentials::from_docker_config(b"not json").is_err());
        let mut c = Credentials::default();
        let e = c
            .add_env(
                "r.io",
                "DRIFTLINT_TEST_UNSET_USER",
                "DRIFTLINT_TEST_UNSET_PW",
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "credentials for r.io: environment variable DRIFTLINT_TEST_UNSET_USER is not set"
        );
    }
}
