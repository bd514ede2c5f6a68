//! Known token formats, as gitleaks detects them (config/gitleaks.toml): a lowercase keyword
//! prefilter, the rule's regex, then a Shannon entropy threshold on the secret (a match whose
//! entropy is at or below the threshold is dropped, as gitleaks does). The patterns are the
//! high-precision provider formats listed in RULES.md; Go's `\w` is written as `[0-9A-Za-z_]`.

use std::sync::LazyLock;

use regex::Regex;

use crate::k8s::{is_env_reference_only, is_sops_encrypted};

/// One token format.
pub(crate) struct TokenKind {
    /// gitleaks rule id, e.g. `github-pat` (tests match samples by it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub id: &'static str,
    /// Human name used in messages.
    pub description: &'static str,
    regex: &'static str,
    /// Lowercase keywords; the regex runs only when the lowercased text contains one.
    keywords: &'static [&'static str],
    /// Shannon entropy threshold (0 = none).
    entropy: f64,
    /// Matches of this regex on the secret are allowed (placeholders such as `...EXAMPLE`).
    allow: Option<&'static str>,
}

const KINDS: &[TokenKind] = &[
    TokenKind {
        id: "aws-access-token",
        description: "an AWS access key ID",
        regex: r"\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
        keywords: &["a3t", "akia", "asia", "abia", "acca"],
        entropy: 3.0,
        allow: Some(r".+EXAMPLE$"),
    },
    TokenKind {
        id: "github-pat",
        description: "a GitHub personal access token",
        regex: r"ghp_[0-9a-zA-Z]{36}",
        keywords: &["ghp_"],
        entropy: 3.0,
        allow: None,
    },
    TokenKind {
        id: "github-fine-grained-pat",
        description: "a GitHub fine-grained personal access token",
        regex: r"github_pat_[0-9A-Za-z_]{82}",
        keywords: &["github_pat_"],
        entropy: 3.0,
        allow: None,
    },
    TokenKind {
        id: "github-oauth",
        description: "a GitHub OAuth access token",
        regex: r"gho_[0-9a-zA-Z]{36}",
        keywords: &["gho_"],
        entropy: 3.0,
        allow: None,
    },
    TokenKind {
        id: "github-app-token",
        description: "a GitHub app token",
        regex: r"(?:ghu|ghs)_[0-9a-zA-Z]{36}",
        keywords: &["ghu_", "ghs_"],
        entropy: 3.0,
        allow: None,
    },
    TokenKind {
        id: "github-refresh-token",
        description: "a GitHub refresh token",
        regex: r"ghr_[0-9a-zA-Z]{36}",
        keywords: &["ghr_"],
        entropy: 3.0,
        allow: None,
    },
    TokenKind {
        id: "gitlab-pat",
        description: "a GitLab personal access token",
        regex: r"glpat-[0-9A-Za-z_-]{20}",
        keywords: &["glpat-"],
        entropy: 3.0,
        allow: None,
    },
    TokenKind {
        id: "slack-bot-token",
        description: "a Slack bot token",
        regex: r"xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*",
        keywords: &["xoxb"],
        entropy: 3.0,
        allow: None,
    },
    TokenKind {
        id: "slack-user-token",
        description: "a Slack user token",
        regex: r"xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}",
        keywords: &["xoxp-", "xoxe-"],
        entropy: 2.0,
        allow: None,
    },
    TokenKind {
        id: "stripe-access-token",
        description: "a Stripe secret key",
        regex: r#"\b((?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99})(?:[\x60'"\s;]|\\[nr]|$)"#,
        keywords: &[
            "sk_test", "sk_live", "sk_prod", "rk_test", "rk_live", "rk_prod",
        ],
        entropy: 2.0,
        allow: None,
    },
    TokenKind {
        id: "gcp-api-key",
        description: "a Google API key",
        regex: r#"\b(AIza[0-9A-Za-z_-]{35})(?:[\x60'"\s;]|\\[nr]|$)"#,
        keywords: &["aiza"],
        entropy: 4.0,
        allow: None,
    },
    TokenKind {
        id: "private-key",
        description: "a private key",
        regex: r"(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S-]{64,}?KEY(?: BLOCK)?-----",
        keywords: &["-----begin"],
        entropy: 0.0,
        allow: None,
    },
    TokenKind {
        id: "jwt",
        description: "a JSON Web Token",
        regex: r#"\b(ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9/\\_-]{17,}\.(?:[a-zA-Z0-9/\\_-]{10,}={0,2})?)(?:[\x60'"\s;]|\\[nr]|$)"#,
        keywords: &["ey"],
        entropy: 3.0,
        allow: None,
    },
    TokenKind {
        id: "age-secret-key",
        description: "an age secret key",
        regex: r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        keywords: &["age-secret-key-1"],
        entropy: 0.0,
        allow: None,
    },
    TokenKind {
        id: "npm-access-token",
        description: "an npm access token",
        regex: r#"(?i)\b(npm_[a-z0-9]{36})(?:[\x60'"\s;]|\\[nr]|$)"#,
        keywords: &["npm_"],
        entropy: 2.0,
        allow: None,
    },
];

/// The shortest text any pattern can match (an AWS key ID: 20 characters).
const MIN_LEN: usize = 20;

struct Compiled {
    kind: &'static TokenKind,
    regex: Regex,
    allow: Option<Regex>,
}

static COMPILED: LazyLock<Vec<Compiled>> = LazyLock::new(|| {
    KINDS
        .iter()
        .map(|kind| Compiled {
            kind,
            // Static patterns, compiled in the `every_pattern_compiles` test.
            regex: Regex::new(kind.regex).expect("static token regex"),
            allow: kind
                .allow
                .map(|a| Regex::new(a).expect("static allow regex")),
        })
        .collect()
});

/// A token found in a text.
pub(crate) struct TokenMatch<'t> {
    /// Which format.
    pub kind: &'static TokenKind,
    /// The secret (the regex's first group, or the whole match).
    pub secret: &'t str,
}

/// The first known token in `text` (patterns in table order, leftmost match per pattern).
pub(crate) fn find_token(text: &str) -> Option<TokenMatch<'_>> {
    if text.len() < MIN_LEN {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    COMPILED.iter().find_map(|c| {
        if !c.kind.keywords.iter().any(|k| lower.contains(k)) {
            return None;
        }
        c.regex.captures_iter(text).find_map(|caps| {
            let m = caps.get(1).or_else(|| caps.get(0))?;
            let secret = m.as_str();
            let low_entropy = c.kind.entropy > 0.0 && shannon_entropy(secret) <= c.kind.entropy;
            let allowed = c.allow.as_ref().is_some_and(|a| a.is_match(secret));
            (!low_entropy && !allowed).then_some(TokenMatch {
                kind: c.kind,
                secret,
            })
        })
    })
}

/// Shannon entropy in bits per character, over bytes (as gitleaks computes it).
pub(crate) fn shannon_entropy(s: &str) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let len = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

static CREDENTIAL_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(passw(or)?d|passwd|token|bearer|secret|api[_-]?key|private[_-]?key|credentials?|^AWS_SECRET_ACCESS_KEY$|^AZURE_.+KEY$)",
    )
    .expect("static regex")
});

static METADATA_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)[_-](file|path|dir|name|names|id|ref|url|uri|endpoint|host|port|user|username|ttl|timeout|expiry|expiration|lifetime|duration|interval|length|size|enabled|disabled|type|mode|header|algorithm|issuer|audience|version)$",
    )
    .expect("static regex")
});

/// True for an env var or key name that names a credential (`DB_PASSWORD`, `apiKey`), not
/// its metadata (`PASSWORD_FILE`, `token_ttl`), as SEC002 decides.
pub(crate) fn is_credential_name(name: &str) -> bool {
    CREDENTIAL_NAME.is_match(name) && !METADATA_SUFFIX.is_match(name)
}

/// True for a value that could be a literal credential: not empty, a boolean, a number, a
/// path, an env reference, SOPS ciphertext (`ENC[...]`) or a value holding a Flux placeholder
/// (unknown until substitution), as SEC002 decides.
pub(crate) fn is_literal_secret(value: &str) -> bool {
    let v = value.trim();
    let boolean = matches!(
        v.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off"
    );
    let number = v.parse::<f64>().is_ok();
    !(v.is_empty()
        || boolean
        || number
        || v.starts_with('/')
        || is_env_reference_only(v)
        || is_sops_encrypted(v)
        || driftlint_yaml::contains_flux_placeholder(v))
}

#[cfg(test)]
pub(crate) mod samples {
    //! Token-shaped fakes, assembled at run time so the source holds no token literal.

    pub fn all() -> Vec<(&'static str, String)> {
        vec![
            ("aws-access-token", format!("{}{}", "AKIA", "QZ3T7WXR2KLM5N4P")),
            ("github-pat", format!("{}{}", "ghp_", "Zq3x9Lm2Pw8Rt5Yk1Vb7Nc4Hd6Jf0Gs2Ae8U")),
            (
                "github-fine-grained-pat",
                format!("{}{}", "github_pat_", "11ABCDEFG0aZ9yX8wV7uT6_sR5qP4oN3mL2kJ1iH0gF9eD8cB7aZ6yX5wV4uT3sR2qP1oN0mL9kJ8iH7gF6eD5cB4a"),
            ),
            ("github-oauth", format!("{}{}", "gho_", "Zq3x9Lm2Pw8Rt5Yk1Vb7Nc4Hd6Jf0Gs2Ae8U")),
            ("github-app-token", format!("{}{}", "ghs_", "Zq3x9Lm2Pw8Rt5Yk1Vb7Nc4Hd6Jf0Gs2Ae8U")),
            ("github-refresh-token", format!("{}{}", "ghr_", "Zq3x9Lm2Pw8Rt5Yk1Vb7Nc4Hd6Jf0Gs2Ae8U")),
            ("gitlab-pat", format!("{}{}", "glpat-", "x9Lm2Pw8Rt5Yk1Vb7Nc4")),
            ("slack-bot-token", format!("{}{}", "xoxb-", "1234567890-0987654321-aB3dE5gH7jK9mN1pQ3sT5vX7")),
            ("slack-user-token", format!("{}{}", "xoxp-", "1234567890-1234567890-1234567890-a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6")),
            ("stripe-access-token", format!("{}{}", "sk_live_", "4eC39HqLyjWDarjtT1zdp7dc")),
            ("gcp-api-key", format!("{}{}", "AIza", "SyB9xQ2mL7pW4rT8kN3vH6jD1fG5sA0cE2u")),
            (
                "private-key",
                format!(
                    "-----BEGIN {}-----\n{}\n-----END {}-----",
                    "RSA PRIVATE KEY",
                    "MIIEpAIBAAKCAQEAx9Lm2Pw8Rt5Yk1Vb7Nc4Hd6Jf0Gs2Ae8UZq3x9Lm2Pw8Rt5Yk1Vb7Nc4Hd6Jf",
                    "RSA PRIVATE KEY"
                ),
            ),
            (
                "jwt",
                format!(
                    "{}.{}.{}",
                    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
                    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ",
                    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
                ),
            ),
            (
                "age-secret-key",
                format!("{}{}", "AGE-SECRET-KEY-1", "QYZ9G7XNHVK2DM0S3JN54KHCE6MUA7LQPZRY9X8GF2TVDW0S3JN54KHCE6"),
            ),
            ("npm-access-token", format!("{}{}", "npm_", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8")),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(COMPILED.len(), KINDS.len());
    }

    #[test]
    fn every_kind_has_a_sample_it_detects() {
        let samples = samples::all();
        for kind in KINDS {
            let (_, s) = samples
                .iter()
                .find(|(id, _)| *id == kind.id)
                .unwrap_or_else(|| panic!("no sample for {}", kind.id));
            let text = format!("prefix {s} suffix");
            let m = find_token(&text).unwrap_or_else(|| panic!("{} not found", kind.id));
            assert_eq!(m.kind.id, kind.id);
        }
    }

    #[test]
    fn passes() {
        let cases = [
            "just a normal configuration value that is long",
            "AKIAIOSFODNN7EXAMPLE",             // allow-listed placeholder
            "AKIAAAAAAAAAAAAAAAAA",             // low entropy
            "ghp_short",                        // too short
            "the key is in the vault, obviously", // keyword without a token
            "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAx9Lm2Pw8Rt5Yk1Vb7Nc4\n-----END PUBLIC KEY-----",
        ];
        for text in cases {
            assert!(find_token(text).is_none(), "{text}");
        }
    }

    #[test]
    fn entropy() {
        assert_eq!(shannon_entropy(""), 0.0);
        assert_eq!(shannon_entropy("aaaa"), 0.0);
        assert!((shannon_entropy("ab") - 1.0).abs() < 1e-9);
    }
}
