//! SEC002 env-literal-credential.
//!
//! ## What it does
//! Flags a container `env[]` entry with a literal `value` when either
//! * its name looks like a credential — contains `password`/`passwd`, `token`,
//!   `bearer`, `secret`, `api_key`/`apikey`, `private_key`, `credential(s)`, or is
//!   `AWS_SECRET_ACCESS_KEY` / `AZURE_*KEY` — and does not end in a suffix that names
//!   metadata rather than the credential (`_FILE`, `_PATH`, `_NAME`, `_ID`, `_URL`, `_TTL`,
//!   `_TIMEOUT`, `_LENGTH`, `_ENABLED`, ...), and its value is not empty, a boolean, a number, a
//!   path, a `$(VAR)` reference or a `${VAR}` placeholder; or
//! * its value matches a known token format (SEC005); or
//! * its value is a URL with a literal password (`postgres://app:pw@db:5432/app`), whatever
//!   the name (a `${VAR}` or `$(VAR)` password passes).
//!
//! The message shows at most the first four characters of the value.
//!
//! ## Why
//! Literal env values leak through `kubectl get -o yaml`, events and audit logs.
//!
//! ## Example
//! `- {name: DB_PASSWORD, value: hunter22}` — use instead `valueFrom.secretKeyRef`.

use std::sync::LazyLock;

use regex::Regex;

use crate::k8s::containers;
use crate::redact::preview;
use crate::tokens::{find_token, is_credential_name, is_literal_secret};
use crate::{Hit, Scope};
use driftlint_yaml::Node;

pub(crate) const CODE: &str = "SEC002";
pub(crate) const META: &str = include_str!("../../../../rules/SEC002.yaml");

pub(crate) fn check(obj: &Node, _scope: &Scope<'_>, out: &mut Vec<Hit>) {
    for container in containers(obj) {
        let Some(env) = container.key("env") else {
            continue;
        };
        for var in env.items() {
            let (Some(name), Some(value)) = (var.node.str_at(&["name"]), var.key("value")) else {
                continue;
            };
            let Some(text) = value.node.scalar_text() else {
                continue;
            };
            if let Some(msg) = message(name, text) {
                out.push(Hit::new(CODE, value.node, value.pointer, msg));
            }
        }
    }
}

/// `scheme://user:password@` with a literal password.
static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:([^/\s@$][^/\s@]*)@").expect("static regex")
});

fn message(name: &str, value: &str) -> Option<String> {
    if let Some(token) = find_token(value) {
        return Some(format!(
            "env var {name} has a literal value holding {} {}",
            token.kind.description,
            preview(token.secret)
        ));
    }
    if let Some(password) = URL_PASSWORD.captures(value).and_then(|c| c.get(1)) {
        return Some(format!(
            "env var {name} has a URL with a literal password {}",
            preview(password.as_str())
        ));
    }
    (is_credential_name(name) && is_literal_secret(value))
        .then(|| format!("env var {name} has a literal value {}", preview(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    fn pod_env(name: &str, value: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n    - name: app\n      image: app:1.0.0\n      env:\n        - name: {name}\n          value: \"{value}\"\n"
        )
    }

    #[test]
    fn pass_fail_table() {
        let pat = fake_github_pat();
        let cases = [
            ("password", pod_env("DB_PASSWORD", "hunter22"), 1),
            ("passwd", pod_env("MYSQL_ROOT_PASSWD", "rootroot"), 1),
            ("token", pod_env("API_TOKEN", "abc123def456"), 1),
            ("secret", pod_env("CLIENT_SECRET", "s3cr3t-v4lue"), 1),
            ("api key", pod_env("STRIPE_API_KEY", "whatever-literal"), 1),
            ("aws", pod_env("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMIK7MDENGbPxRfiCY"), 1),
            ("azure", pod_env("AZURE_STORAGE_KEY", "c2VjcmV0a2V5"), 1),
            ("bearer", pod_env("BEARER", "eyabc"), 1),
            ("token in innocent name", pod_env("GREETING", &pat), 1),
            ("file suffix", pod_env("DB_PASSWORD_FILE", "/run/secrets/db"), 0),
            ("name suffix", pod_env("SECRET_NAME", "db-credentials"), 0),
            ("ttl", pod_env("TOKEN_TTL", "3600"), 0),
            ("aws key id", pod_env("AWS_ACCESS_KEY_ID_NAME", "x"), 0),
            ("empty", pod_env("DB_PASSWORD", ""), 0),
            ("bool", pod_env("REQUIRE_PASSWORD", "true"), 0),
            ("number", pod_env("PASSWORD_MIN", "12"), 0),
            ("path", pod_env("TOKEN", "/var/run/secrets/token"), 0),
            ("k8s reference", pod_env("DB_PASSWORD", "$(FROM_SECRET)"), 0),
            ("flux placeholder", pod_env("DB_PASSWORD", "${DB_PASSWORD}"), 0),
            ("not a credential", pod_env("LOG_LEVEL", "debug"), 0),
            ("url with password", pod_env("DATABASE_URL", "postgres://app:hunter22@db:5432/app"), 1),
            ("url with placeholder password", pod_env("DATABASE_URL", "postgres://app:${DB_PASS}@db/app"), 0),
            ("url with user only", pod_env("DATABASE_URL", "postgres://app@db:5432/app"), 0),
            ("url with port only", pod_env("UPSTREAM_URL", "http://db:5432/x"), 0),
            (
                "valueFrom",
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: app\n      env:\n        - name: DB_PASSWORD\n          valueFrom: {secretKeyRef: {name: db, key: password}}\n".to_string(),
                0,
            ),
        ];
        let cases: Vec<(&str, &str, usize)> =
            cases.iter().map(|(n, s, w)| (*n, s.as_str(), *w)).collect();
        table(check, &cases);
    }

    #[test]
    fn message_shows_only_four_characters() {
        let hits = run_rule(check, &pod_env("DB_PASSWORD", "hunter22"));
        assert_eq!(
            hits[0].message,
            "env var DB_PASSWORD has a literal value \"hunt…\""
        );
        assert_eq!(hits[0].field, "/spec/containers/0/env/0/value");
        assert_eq!(hits[0].origin.line, 10);
        let hits = run_rule(
            check,
            &pod_env("DATABASE_URL", "postgres://app:hunter22@db/app"),
        );
        assert_eq!(
            hits[0].message,
            "env var DATABASE_URL has a URL with a literal password \"hunt…\""
        );
        let pat = fake_github_pat();
        let hits = run_rule(check, &pod_env("GREETING", &pat));
        assert_eq!(
            hits[0].message,
            "env var GREETING has a literal value holding a GitHub personal access token \"ghp_…\""
        );
    }
}
