//! Secret redaction for everything a report shows.
//!
//! `preview` is how a SEC finding names its credential: at most its first four characters,
//! never more than half of it, followed by `…`.
//!
//! [`Redactor`] applies the same rule to every other text a report carries (messages of every
//! code, the source lines a human report shows, drift values): a secret keeps its first
//! characters and every other character becomes `*`, so line and column numbers inside a
//! redacted text do not move. What counts as a secret:
//!
//! * every known token format (the SEC005 patterns, `tokens.rs`), wherever it
//!   appears;
//! * the password of a `scheme://user:password@host` URL;
//! * the value written after a credential-looking key (`password: …`, `API_TOKEN=…`, the SEC002
//!   key names, not their `_NAME`/`_FILE`/… metadata suffixes) when it is a literal of at least
//!   six characters (not a boolean, number, path, `${VAR}` reference or placeholder);
//! * every value that a SEC rule would flag in a rendered object (Secret `data`/`stringData`
//!   values, decoded too; env literals of credential-looking variables; ConfigMap values of
//!   credential-looking keys) and every credential-key value of the files read, wherever the
//!   same text recurs (a Helm `fail` that prints `.Values.token`, a schema error echoing it).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use data_encoding::BASE64;
use regex::Regex;

use crate::k8s::{is_placeholder_only, is_sops_encrypted, kind_and_group};
use crate::tokens::{find_token, is_credential_name, is_literal_secret};
use driftlint_yaml::Node;

/// Literal secrets shorter than this (characters) are not searched for in other texts: a
/// three-letter password would mask every word that contains it.
pub const MIN_SECRET_CHARS: usize = 6;

/// Most token matches masked in one text (each pass masks one; a budget against pathological
/// input).
const MAX_TOKEN_PASSES: usize = 10_000;

/// The quoted preview of `secret`: `"hunt…"` for `hunter22`, `"ab…"` for `abcd`, `"…"` for
/// one character. Control characters in the prefix are escaped.
pub(crate) fn preview(secret: &str) -> String {
    let n = secret.chars().count();
    let keep = (n / 2).min(4);
    let prefix: String = secret.chars().take(keep).collect();
    format!("\"{}…\"", prefix.escape_debug())
}

/// `secret` with its first `min(4, n/2)` characters kept and every other character but line
/// breaks replaced by `*` (same number of characters and lines).
pub fn mask(secret: &str) -> String {
    let keep = (secret.chars().count() / 2).min(4);
    secret
        .chars()
        .enumerate()
        .map(|(i, c)| match c {
            '\n' | '\r' => c,
            _ if i < keep => c,
            _ => '*',
        })
        .collect()
}

/// `key: value`, `key = value`, `--key=value`, `"key": "value"`: group 1 the key, group 2 the
/// value (up to a blank, quote, comma, bracket or `#`).
static CREDENTIAL_ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([A-Za-z0-9_.\-]+)["']?[ \t]*[:=][ \t]*["']?([^\s"',\]}#]+)"#)
        .expect("static regex")
});

/// The words every credential-looking key contains (a cheap prefilter for
/// [`CREDENTIAL_ASSIGNMENT`], which matches almost every YAML line).
static CREDENTIAL_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)passw|token|bearer|secret|api[_-]?key|private[_-]?key|credential|azure_")
        .expect("static regex")
});

/// Byte ranges of the secret values assigned to credential-looking keys in `text`, in order;
/// only lines holding a credential word are parsed.
fn secret_assignments(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut next_line = 0;
    for word in CREDENTIAL_WORD.find_iter(text) {
        if word.start() < next_line {
            continue;
        }
        let start = text[..word.start()].rfind('\n').map_or(0, |i| i + 1);
        let end = text[word.end()..]
            .find('\n')
            .map_or(text.len(), |i| word.end() + i);
        next_line = end;
        for caps in CREDENTIAL_ASSIGNMENT.captures_iter(&text[start..end]) {
            if let (Some(key), Some(value)) = (caps.get(1), caps.get(2)) {
                if is_secret_assignment(key.as_str(), value.as_str()) {
                    out.push((start + value.start(), start + value.end()));
                }
            }
        }
    }
    out
}

/// `scheme://user:password@`: group 1 the literal password (as SEC002 reads URLs).
static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:([^/\s@$][^/\s@]*)@").expect("static regex")
});

/// Collects the secrets of one run (see the module docs), then builds a [`Redactor`].
#[derive(Default)]
pub struct RedactorBuilder {
    literals: BTreeSet<String>,
}

impl RedactorBuilder {
    /// Adds the values a SEC rule would flag in `obj` (a rendered object).
    pub fn object(&mut self, obj: &Node) {
        match kind_and_group(obj) {
            ("Secret", "") if obj.get("sops").is_none() => self.secret_values(obj),
            ("ConfigMap", "") => self.credential_keys(obj.get("data")),
            _ => {}
        }
        obj.walk(&mut |_, node| {
            if let Some(token) = node.as_str().and_then(find_token) {
                self.literal(token.secret);
            }
        });
        self.env_literals(obj);
    }

    /// Adds every credential-key value written in `text` (a file read for this run).
    pub fn text(&mut self, text: &str) {
        for (start, end) in secret_assignments(text) {
            self.literal(&text[start..end]);
        }
    }

    /// The redactor for everything collected.
    pub fn build(self) -> Redactor {
        let patterns: Vec<String> = self.literals.into_iter().collect();
        let literals = (!patterns.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&patterns)
                    .ok()
            })
            .flatten();
        Redactor { literals }
    }

    fn literal(&mut self, value: &str) {
        let value = value.trim();
        if value.chars().count() >= MIN_SECRET_CHARS {
            self.literals.insert(value.to_string());
        }
    }

    fn secret_values(&mut self, obj: &Node) {
        for section in ["data", "stringData"] {
            let Some(map) = obj.get(section).and_then(Node::as_map) else {
                continue;
            };
            for (_, value) in map.iter() {
                let Some(text) = value.scalar_text() else {
                    continue;
                };
                if text.trim().is_empty() || is_sops_encrypted(text) || is_placeholder_only(text) {
                    continue;
                }
                self.literal(text);
                if section == "data" {
                    let compact: String = text.split_whitespace().collect();
                    if let Ok(bytes) = BASE64.decode(compact.as_bytes()) {
                        if let Ok(decoded) = String::from_utf8(bytes) {
                            self.literal(&decoded);
                            for line in decoded.lines() {
                                self.literal(line);
                            }
                        }
                    }
                }
            }
        }
    }

    fn credential_keys(&mut self, data: Option<&Node>) {
        let Some(map) = data.and_then(Node::as_map) else {
            return;
        };
        for (key, value) in map.iter() {
            let (Some(key), Some(text)) = (key.as_str(), value.scalar_text()) else {
                continue;
            };
            if is_secret_assignment(key, text) {
                self.literal(text);
            }
        }
    }

    fn env_literals(&mut self, obj: &Node) {
        for container in crate::k8s::containers(obj) {
            let Some(env) = container.node.get("env").and_then(Node::as_seq) else {
                continue;
            };
            for var in env {
                if let (Some(name), Some(value)) = (var.str_at(&["name"]), var.str_at(&["value"])) {
                    if is_secret_assignment(name, value) {
                        self.literal(value);
                    }
                }
            }
        }
    }
}

/// camelCase words that name metadata about a credential rather than the credential
/// (`secretName`, `tokenSecretRef`, `passwordFile`), as SEC002's `_NAME`-style suffixes.
const METADATA_WORDS: &[&str] = &[
    "file",
    "path",
    "dir",
    "name",
    "names",
    "id",
    "ref",
    "url",
    "uri",
    "endpoint",
    "host",
    "port",
    "user",
    "username",
    "ttl",
    "timeout",
    "expiry",
    "expiration",
    "lifetime",
    "duration",
    "interval",
    "length",
    "size",
    "enabled",
    "disabled",
    "type",
    "mode",
    "header",
    "algorithm",
    "issuer",
    "audience",
    "version",
    "selector",
];

/// True for a credential-looking key (SEC002's names), not one naming its metadata.
pub fn is_credential_key(key: &str) -> bool {
    let last_word = key
        .char_indices()
        .rev()
        .find(|&(i, c)| c.is_ascii_uppercase() && i > 0)
        .map_or(key, |(i, _)| &key[i..]);
    is_credential_name(key)
        && !METADATA_WORDS
            .iter()
            .any(|w| last_word.eq_ignore_ascii_case(w))
}

/// True when `value` written after `key` is a literal credential worth masking.
fn is_secret_assignment(key: &str, value: &str) -> bool {
    is_credential_key(key)
        && is_literal_secret(value)
        && value.trim().chars().count() >= MIN_SECRET_CHARS
        && !value
            .trim_start()
            .starts_with(['|', '>', '&', '*', '!', '{', '['])
}

/// Masks the secrets of one run in any text (see the module docs).
#[derive(Default)]
pub struct Redactor {
    literals: Option<AhoCorasick>,
}

impl Redactor {
    /// A redactor that knows no literal secrets (token formats and credential keys only).
    pub fn patterns_only() -> Redactor {
        Redactor::default()
    }

    /// `text` with every secret masked by [`mask`]: the same characters and lines, so offsets
    /// counted in characters and line numbers stay valid. Borrowed when nothing was masked.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        if let Some(ac) = &self.literals {
            if ac.is_match(text) {
                let mut s = String::with_capacity(text.len());
                let mut last = 0;
                for m in ac.find_iter(text) {
                    s.push_str(&text[last..m.start()]);
                    s.push_str(&mask(&text[m.start()..m.end()]));
                    last = m.end();
                }
                s.push_str(&text[last..]);
                out = Cow::Owned(s);
            }
        }
        for _ in 0..MAX_TOKEN_PASSES {
            let Some(range) = find_token(&out).map(|t| span_of(&out, t.secret)) else {
                break;
            };
            out = Cow::Owned(replace_range(&out, range));
        }
        let passwords: Vec<(usize, usize)> = URL_PASSWORD
            .captures_iter(&out)
            .filter_map(|c| c.get(1).map(|m| (m.start(), m.end())))
            .collect();
        for range in passwords.into_iter().rev() {
            out = Cow::Owned(replace_range(&out, range));
        }
        for range in secret_assignments(&out).into_iter().rev() {
            out = Cow::Owned(replace_range(&out, range));
        }
        out
    }
}

/// Byte range of `part` (a sub-slice of `whole`).
fn span_of(whole: &str, part: &str) -> (usize, usize) {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    (start, start + part.len())
}

fn replace_range(text: &str, (start, end): (usize, usize)) -> String {
    let mut s = String::with_capacity(text.len());
    s.push_str(&text[..start]);
    s.push_str(&mask(&text[start..end]));
    s.push_str(&text[end..]);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::samples;

    #[test]
    fn shows_at_most_four_characters_and_at_most_half() {
        assert_eq!(preview("hunter22"), "\"hunt…\"");
        assert_eq!(preview("hunter2"), "\"hun…\"");
        assert_eq!(preview("abcd"), "\"ab…\"");
        assert_eq!(preview("x"), "\"…\"");
        assert_eq!(preview(""), "\"…\"");
        assert_eq!(preview("pässwörter"), "\"päss…\"");
        assert_eq!(preview("a\nbcdefgh"), "\"a\\nbc…\"");
        for s in ["correct horse battery staple", "0123456789"] {
            let p = preview(s);
            let shown = p.trim_matches('"').trim_end_matches('…');
            assert!(shown.chars().count() <= 4 && s.starts_with(shown), "{p}");
        }
    }

    #[test]
    fn masks_keep_characters_and_lines() {
        assert_eq!(mask("hunter2-long"), "hunt********");
        assert_eq!(mask("ab\ncdefgh"), "ab\nc*****");
        assert_eq!(mask("pässwörter").chars().count(), 10);
    }

    #[test]
    fn every_token_format_is_masked_anywhere() {
        let r = Redactor::patterns_only();
        for (id, token) in samples::all() {
            let text = format!("error: template said {token} here");
            let out = r.redact(&text);
            assert!(!out.contains(&token), "{id}: {out}");
            assert_eq!(out.chars().count(), text.chars().count(), "{id}");
            assert_eq!(out.lines().count(), text.lines().count(), "{id}");
        }
    }

    #[test]
    fn credential_keys_are_masked_in_any_text() {
        let r = Redactor::patterns_only();
        let src = "a: 1\n  password: \"hunter2-long\"\nDB_TOKEN=s3cr3t-value x\nsecretName: web-tls\nenabled: true\nurl: postgres://app:pa55word@db:5432/x\n";
        let out = r.redact(src);
        assert_eq!(
            out,
            "a: 1\n  password: \"hunt********\"\nDB_TOKEN=s3cr******** x\nsecretName: web-tls\nenabled: true\nurl: postgres://app:pa55****@db:5432/x\n"
        );
    }

    #[test]
    fn literal_secrets_of_objects_and_files_recur_masked() {
        let secret = driftlint_yaml::parse_documents(
            "s.yaml".into(),
            "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  conn: plain-value-xyz\ndata:\n  k: aHVudGVyMi1zZWNyZXQ=\n",
        )
        .expect("yaml");
        let mut b = RedactorBuilder::default();
        b.object(&secret[0]);
        b.text("image:\n  apiKey: Zx81-mnbq-77\n");
        let r = b.build();
        let msg = "failed: plain-value-xyz, hunter2-secret and Zx81-mnbq-77 (ok)";
        assert_eq!(
            r.redact(msg),
            "failed: plai***********, hunt********** and Zx81******** (ok)"
        );
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
    }
}
