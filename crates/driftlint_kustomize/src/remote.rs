//! Remote resources (`--allow-remote`): kustomize's git URL grammar (`api/internal/git`
//! `NewRepoSpecFromURL`, v5) and cloning with the system `git` into a cache directory.
//!
//! Grammar, as kustomize v5.7.1 reads it:
//!
//! - the query (`?ref=v1`, `?version=v1`, `?timeout=61`, `?submodules=false`) is cut off
//!   first; `ref` wins over `version`; a malformed query means all defaults;
//! - a leading `git::` is ignored; the scheme is one of `ssh://`, `https://`, `http://`,
//!   `file://` (any case), then an optional `user@`;
//! - without a scheme, the URL must be SCP-like (`user@host:path`) or start with
//!   `github.com/` or `github.com:`; GitHub hosts are normalised (`https://github.com/`, or
//!   `git@github.com:` with a user or `ssh://`);
//! - the path splits into the repository and the kustomization root at `_git/NAME`, else at
//!   `//`, else after `.git`, else after two segments (all segments for `file://`); a root
//!   that leaves the repository (`..`) is an error.
//!
//! Cloning runs `git clone --depth 1 [--branch=REF] -- URL DIR` (never a shell), with
//! `--recurse-submodules` unless `?submodules=false`. A ref that `--branch` cannot take (a
//! commit id) is fetched with `git fetch --depth 1 -- URL REF` instead. Clones are cached in
//! `CACHE/remote/<sha256 of the repository URL, ref and submodules flag>` and reused; a
//! clone is written to a temporary directory and renamed into place, so concurrent builds
//! never see half a clone.
//!
//! # Safety policy (untrusted repositories)
//!
//! driftlint runs on pull requests from strangers, on CI machines whose environment holds
//! tokens, so what a kustomization may make `git` do is decided by the operator, never by the
//! repository ([`FetchPolicy`]):
//!
//! - **Transports.** Only `https://` repositories are cloned (GitHub shorthands such as
//!   `github.com/org/repo` normalise to it). `ssh://` and SCP-like `user@host:path` URLs are
//!   cloned only when the operator sets `DRIFTLINT_ALLOW_SSH=1` in driftlint's environment
//!   (a repository cannot set it; `.driftlint.yaml` has no say). `file://` (local
//!   repositories outside the checked root), `http://`, `git://`, `ext::` and every other
//!   transport are refused before git runs ([`RemoteError::Refused`]), as is a URL with
//!   whitespace or control characters, or whose host or path starts with `-` (option
//!   injection into `ssh`). git itself is held to the same list (`GIT_ALLOW_PROTOCOL`,
//!   `protocol.allow=never`), which also covers submodules and redirects.
//! - **Timeout.** Each git command gets the operator's timeout, 27 seconds (kustomize's
//!   default); the URL's `?timeout=` is parsed (kustomize grammar) and ignored. On timeout
//!   the whole process group is killed: git runs in a group of its own, so its
//!   `git-remote-https`, `ssh` and submodule children die with it. When git exits, any
//!   straggler left in its group is killed too; when driftlint dies (Ctrl-C, a cancelled CI
//!   job), the kernel kills git (Linux: `PR_SET_PDEATHSIG`).
//! - **Environment.** git gets a minimal environment, not driftlint's: `PATH`, `HOME` (an
//!   empty directory), `LANG=C`, prompts disabled, no system or global git configuration
//!   (`GIT_CONFIG_NOSYSTEM`, `GIT_CONFIG_GLOBAL=/dev/null`), no credential helpers, hooks
//!   pointed at `/dev/null`; the proxy and CA settings `HTTPS_PROXY`, `ALL_PROXY`,
//!   `NO_PROXY` (either case), `SSL_CERT_FILE` and `SSL_CERT_DIR` pass through, and with ssh
//!   allowed `SSH_AUTH_SOCK` (ssh runs with `BatchMode=yes`). Tokens such as `GITHUB_TOKEN`
//!   never reach git, so a hostile URL cannot make git send them anywhere.
//! - **Arguments.** The URL and ref follow `--`, so neither can be read as an option.
//!
//! Limits not covered here: an allowed `https` URL may point at any host (including internal
//! ones reachable from the CI machine), and a clone's size is not limited beyond `--depth 1`
//! and the timeout.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// kustomize's default timeout for git commands; driftlint's fixed timeout for each one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(27);

/// A parsed remote reference (kustomize `git.RepoSpec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoSpec {
    /// Scheme, user and host, e.g. `https://github.com/`, `git@github.com:`, `file://`.
    pub host: String,
    /// The repository path on the host, e.g. `org/repo` or `/srv/repo.git`.
    pub repo_path: String,
    /// The kustomization root inside the repository (`""` for its top).
    pub kust_root: String,
    /// The branch, tag or commit (`""` for the default branch).
    pub git_ref: String,
    /// The URL's `?timeout=` (kustomize grammar). Ignored when cloning: the operator's
    /// [`FetchPolicy::timeout`] applies, so a repository cannot make a run hang.
    pub timeout: Duration,
    /// Clone submodules too.
    pub submodules: bool,
}

impl RepoSpec {
    /// Parses a remote reference as kustomize does.
    ///
    /// Errors (as text): not a git URL (an absolute or relative local path, no scheme nor
    /// SCP-like form), no host, no repository path, a root leaving the repository.
    pub fn parse(url: &str) -> Result<RepoSpec, String> {
        if url.starts_with('/') {
            return Err(format!("uri looks like abs path: {url}"));
        }
        let (rest, query) = url.split_once('?').unwrap_or((url, ""));
        let (git_ref, timeout, submodules) = parse_query(query);
        let (host, rest) = extract_host(rest)?;
        let all = host.starts_with(FILE);
        let (repo_path, kust_root) = split_path(rest, if all { None } else { Some(2) })?;
        Ok(RepoSpec {
            host,
            repo_path,
            kust_root,
            git_ref,
            timeout,
            submodules,
        })
    }

    /// The URL given to `git clone` (kustomize `CloneSpec`).
    pub fn clone_spec(&self) -> String {
        format!("{}{}", self.host, self.repo_path)
    }

    /// The cache key: SHA-256 (hex) of the repository URL, ref and submodules flag.
    pub fn cache_key(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.clone_spec().as_bytes());
        h.update(b"\n");
        h.update(self.git_ref.as_bytes());
        h.update(if self.submodules { b"\n1" } else { b"\n0" });
        data_encoding::HEXLOWER.encode(&h.finalize())
    }

    /// A readable, path-safe name for the repository: host and path without scheme or
    /// user, `@REF` appended (`github.com/org/repo@v1`).
    pub fn label(&self) -> String {
        let mut host = self.host.as_str();
        for scheme in [SSH, HTTPS, HTTP] {
            if let Some(h) = host.strip_prefix(scheme) {
                host = h;
            }
        }
        let host = if host == FILE { "file" } else { host };
        let host = host.split_once('@').map_or(host, |(_, h)| h);
        let joined = format!("{host}/{}", self.repo_path);
        let mut parts: Vec<&str> = joined
            .split(['/', ':'])
            .filter(|p| !p.is_empty() && *p != "." && *p != "..")
            .collect();
        if parts.is_empty() {
            parts.push("repo");
        }
        let mut label = parts.join("/");
        if !self.git_ref.is_empty() {
            label.push('@');
            label.push_str(&self.git_ref.replace(['/', '\\'], "_"));
        }
        label
    }
}

const SSH: &str = "ssh://";
const HTTPS: &str = "https://";
const HTTP: &str = "http://";
const FILE: &str = "file://";

/// `?ref=`/`?version=`, `?timeout=`, `?submodules=`; defaults for a malformed query (Go's
/// `url.ParseQuery`: bad `%` escapes or `;` separators).
fn parse_query(query: &str) -> (String, Duration, bool) {
    let defaults = (String::new(), DEFAULT_TIMEOUT, true);
    if query.contains(';') {
        return defaults;
    }
    let mut pairs = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        match (unescape(k), unescape(v)) {
            (Some(k), Some(v)) => pairs.push((k, v)),
            _ => return defaults,
        }
    }
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let git_ref = match get("ref") {
        "" => get("version"),
        r => r,
    }
    .to_string();
    let timeout = match get("timeout") {
        "" => DEFAULT_TIMEOUT,
        t => match t.parse::<i64>() {
            Ok(n) if n > 0 => Duration::from_secs(n.unsigned_abs()),
            _ => go_duration(t)
                .filter(|d| !d.is_zero())
                .unwrap_or(DEFAULT_TIMEOUT),
        },
    };
    let submodules = match get("submodules") {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
        "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
        _ => true,
    };
    (git_ref, timeout, submodules)
}

/// Query unescaping (`%XX`, `+` as space); None for a malformed escape.
fn unescape(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Go's `time.ParseDuration` for non-negative values (`1m1s`, `1.5h`, `300ms`).
fn go_duration(s: &str) -> Option<Duration> {
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest.is_empty() || rest.starts_with('-') {
        return None;
    }
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[u..];
        total += value * scale;
    }
    Duration::try_from_secs_f64(total).ok()
}

fn strip_prefix_ignore_case<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// kustomize `extractHost`: (scheme + user + host, the path after it).
fn extract_host(url: &str) -> Result<(String, &str), String> {
    let n = strip_prefix_ignore_case(url, "git::").unwrap_or(url);
    let (scheme, n) = [SSH, HTTPS, HTTP, FILE]
        .iter()
        .find_map(|p| strip_prefix_ignore_case(n, p).map(|rest| (*p, rest)))
        .unwrap_or(("", n));
    let (user, n) = match username(n) {
        Some(u) => (&n[..u], &n[u..]),
        None => ("", n),
    };
    let lower = n.to_ascii_lowercase();
    let github = lower.starts_with("github.com/") || lower.starts_with("github.com:");
    let scp = scheme.is_empty() && (!user.is_empty() || github);
    if scheme.is_empty() && !scp {
        return Err("failed to parse scheme".into());
    }
    if scheme == FILE {
        return Ok((FILE.into(), &url[url.len() - n.len() - user.len()..]));
    }
    let slash = n.find('/');
    let sep = match (scp, n.find(':')) {
        (true, Some(c)) if c > 0 && slash.is_none_or(|s| c < s) => Some(c),
        _ => slash,
    };
    let (mut host, rest) = match sep {
        Some(i) => (&n[..=i], &n[i + 1..]),
        None => (n, ""),
    };
    let (mut scheme, mut user) = (scheme, user);
    if github {
        if scheme == SSH || !user.is_empty() {
            scheme = "";
            host = "github.com:";
        } else {
            scheme = HTTPS;
            user = "";
            host = "github.com/";
        }
    }
    if host.is_empty() {
        return Err("failed to parse host segment".into());
    }
    Ok((format!("{scheme}{user}{host}"), rest))
}

/// The length of a leading `user@` (`^[a-zA-Z][a-zA-Z0-9-]*@`).
fn username(s: &str) -> Option<usize> {
    let mut chars = s.char_indices();
    let (_, first) = chars.next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    for (i, c) in chars {
        if c == '@' {
            return Some(i + 1);
        }
        if !(c.is_ascii_alphanumeric() || c == '-') {
            return None;
        }
    }
    None
}

/// kustomize `parsePathParts`: (repository path, kustomization root).
fn split_path(n: &str, default_segments: Option<usize>) -> Result<(String, String), String> {
    let (repo, root) = if let Some(i) = n.find("_git/") {
        let after = &n[i + 5..];
        let (name, sub) = after.split_once('/').unwrap_or((after, ""));
        (format!("{}{name}", &n[..i + 5]), sub.to_string())
    } else if let Some(i) = n.find("//") {
        (n[..i].to_string(), n[i + 2..].to_string())
    } else if let Some(i) = n.find(".git") {
        (n[..i + 4].to_string(), n[i + 4..].to_string())
    } else {
        match default_segments {
            None => (n.to_string(), String::new()),
            Some(k) => {
                let segs: Vec<&str> = n.split('/').collect();
                if segs.len() < k {
                    return Err("failed to parse repo path segment".into());
                }
                (segs[..k].join("/"), segs[k..].join("/"))
            }
        }
    };
    if repo.is_empty() {
        return Err("failed to parse repo path segment".into());
    }
    let first = super::build_metadata::go_path_join("", root.trim_start_matches('/'));
    if first == ".." || first.starts_with("../") {
        return Err(format!("url path exits repo: {n}"));
    }
    Ok((repo, root.trim_start_matches('/').to_string()))
}

/// True for an `http(s)://` URL naming a YAML or JSON file (kustomize would download it
/// over HTTP rather than clone a repository).
pub fn is_http_file(url: &str) -> bool {
    let Some(rest) = [HTTP, HTTPS]
        .iter()
        .find_map(|p| strip_prefix_ignore_case(url, p))
    else {
        return false;
    };
    let rest = rest.split('?').next().unwrap_or(rest);
    let path = rest.split_once('/').map_or("", |(_, p)| p);
    let marked = path.contains("//") || path.contains(".git") || path.contains("_git/");
    let last = path.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
    !marked && [".yaml", ".yml", ".json"].iter().any(|e| last.ends_with(e))
}

/// The default cache directory: `$XDG_CACHE_HOME/driftlint`, else `$HOME/.cache/driftlint`.
pub fn default_cache_root() -> Option<PathBuf> {
    let from = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    from("XDG_CACHE_HOME")
        .or_else(|| from("HOME").map(|h| h.join(".cache")))
        .map(|c| c.join("driftlint"))
}

/// Why a remote base could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// The URL is not allowed by the [`FetchPolicy`] (transport, characters); git never ran.
    #[error("refused: {url}: {reason}")]
    Refused { url: String, reason: String },
    /// git could not be started.
    #[error("running git: {message}")]
    Spawn { message: String },
    /// A git command ran longer than the policy's timeout; its process group was killed.
    #[error("git {command} timed out after {after:?}")]
    TimedOut { command: String, after: Duration },
    /// A git command failed; `reason` is the last line it wrote to stderr.
    #[error("git {command} failed: {reason}")]
    Failed { command: String, reason: String },
    /// A file-system error in the cache directory.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

impl RemoteError {
    fn io(path: &Path, e: impl std::fmt::Display) -> RemoteError {
        RemoteError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}

/// The environment variable with which the operator allows `ssh://` and SCP-like URLs.
pub const ALLOW_SSH_VAR: &str = "DRIFTLINT_ALLOW_SSH";

/// What remote URLs are cloned and how: the operator's choice, never the repository's (see
/// the module docs).
#[derive(Clone, Debug)]
pub struct FetchPolicy {
    /// Also clone `ssh://` and SCP-like (`git@host:org/repo`) URLs.
    pub allow_ssh: bool,
    /// The time allowed for each git command.
    pub timeout: Duration,
    /// The git program (`git`, looked up on `PATH`).
    pub(crate) git: OsString,
    /// Tests only: also clone `file://` repositories (local fixtures).
    pub(crate) allow_file: bool,
}

#[cfg(test)]
thread_local! {
    /// Set by test fixtures that clone local repositories: `file://` is then allowed on
    /// this thread ([`FetchPolicy::from_env`]). Never set outside unit tests.
    pub(crate) static ALLOW_FILE_IN_TESTS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl FetchPolicy {
    /// The operator's policy: `https` only, `ssh` too when `DRIFTLINT_ALLOW_SSH=1`; the
    /// fixed [`DEFAULT_TIMEOUT`].
    pub fn from_env() -> FetchPolicy {
        let allow_ssh = std::env::var_os(ALLOW_SSH_VAR).is_some_and(|v| v == "1");
        #[cfg(test)]
        let allow_file = ALLOW_FILE_IN_TESTS.with(std::cell::Cell::get);
        #[cfg(not(test))]
        let allow_file = false;
        FetchPolicy {
            allow_ssh,
            timeout: DEFAULT_TIMEOUT,
            git: "git".into(),
            allow_file,
        }
    }

    /// Whether `spec` may be cloned: its transport is allowed and its URL cannot be read as
    /// an option or a transport helper.
    ///
    /// Errors: [`RemoteError::Refused`], with the reason.
    pub fn check(&self, spec: &RepoSpec) -> Result<(), RemoteError> {
        let url = spec.clone_spec();
        let refuse = |reason: &str| RemoteError::Refused {
            url: url.clone(),
            reason: reason.to_string(),
        };
        const ONLY: &str = "only https:// repositories are cloned (ssh:// and user@host: URLs \
                            when the operator sets DRIFTLINT_ALLOW_SSH=1)";
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(refuse("whitespace or control characters in the URL"));
        }
        if spec.git_ref.chars().any(|c| c.is_control()) || spec.git_ref.starts_with('-') {
            return Err(refuse(
                "the ref starts with '-' or holds control characters",
            ));
        }
        if spec.host == FILE {
            if self.allow_file {
                return Ok(());
            }
            return Err(refuse(&format!(
                "file:// reads outside the repository; {ONLY}"
            )));
        }
        let (ssh, rest) = if let Some(rest) = url.strip_prefix(HTTPS) {
            (false, rest)
        } else if let Some(rest) = url.strip_prefix(SSH) {
            (true, rest)
        } else if url.contains("://") || url.contains("::") {
            return Err(refuse(ONLY));
        } else {
            // SCP-like `[user@]host:path`.
            let rest = &url[username(&url).unwrap_or(0)..];
            let Some((host, path)) = rest.split_once(':') else {
                return Err(refuse(ONLY));
            };
            if !self.allow_ssh {
                return Err(refuse(ONLY));
            }
            return check_host_path(host, path).map_err(|r| refuse(&r));
        };
        if ssh && !self.allow_ssh {
            return Err(refuse(ONLY));
        }
        let rest = &rest[username(rest).unwrap_or(0)..];
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = authority.split_once(':').unwrap_or((authority, ""));
        if !port.chars().all(|c| c.is_ascii_digit()) {
            return Err(refuse("the port is not a number"));
        }
        check_host_path(host, path).map_err(|r| refuse(&r))
    }

    /// The transports git may use (`GIT_ALLOW_PROTOCOL`).
    fn protocols(&self) -> &'static str {
        match (self.allow_ssh, self.allow_file) {
            (false, false) => "https",
            (true, false) => "https:ssh",
            (false, true) => "https:file",
            (true, true) => "https:ssh:file",
        }
    }
}

/// A host name (letters, digits, `.`, `-`, not starting with `-` or `.`) and a non-empty
/// path not starting with `-`.
fn check_host_path(host: &str, path: &str) -> Result<(), String> {
    let host_ok = !host.is_empty()
        && !host.starts_with(['-', '.'])
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !host_ok {
        return Err(format!("not a host name: {host:?}"));
    }
    if path.is_empty() || path.starts_with('-') {
        return Err(format!("not a repository path: {path:?}"));
    }
    Ok(())
}

/// The clone of `spec` under `cache_root/remote/`, cloning it first when absent, under the
/// operator's [`FetchPolicy::from_env`].
///
/// Errors (as text): see [`fetch_with`].
pub fn fetch(spec: &RepoSpec, cache_root: &Path) -> Result<PathBuf, String> {
    fetch_with(spec, cache_root, &FetchPolicy::from_env()).map_err(|e| e.to_string())
}

/// The clone of `spec` under `cache_root/remote/`, cloning it first when absent.
///
/// Errors: [`RemoteError::Refused`] by the policy (checked before the cache, so a clone
/// made under another policy is not reused); git missing ([`RemoteError::Spawn`]), failing
/// (its last stderr line) or timing out; I/O errors in the cache.
pub fn fetch_with(
    spec: &RepoSpec,
    cache_root: &Path,
    policy: &FetchPolicy,
) -> Result<PathBuf, RemoteError> {
    policy.check(spec)?;
    let base = cache_root.join("remote");
    let dest = base.join(spec.cache_key());
    if dest.is_dir() {
        return Ok(dest);
    }
    std::fs::create_dir_all(&base).map_err(|e| RemoteError::io(&base, e))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = base.join(format!(
        "{}.tmp-{}-{nanos}",
        spec.cache_key(),
        std::process::id()
    ));
    // git's HOME: an empty directory of its own (no `.gitconfig`, no credentials).
    let home = base.join(format!(
        "{}.home-{}-{nanos}",
        spec.cache_key(),
        std::process::id()
    ));
    std::fs::create_dir_all(&home).map_err(|e| RemoteError::io(&home, e))?;
    let git = Git {
        policy,
        home: &home,
    };
    let result = clone_into(&git, spec, &tmp);
    let _ = std::fs::remove_dir_all(&home);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if std::fs::rename(&tmp, &dest).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
        if !dest.is_dir() {
            return Err(RemoteError::io(&dest, "cannot move the clone into place"));
        }
    }
    Ok(dest)
}

fn clone_into(git: &Git<'_>, spec: &RepoSpec, dir: &Path) -> Result<(), RemoteError> {
    let url = spec.clone_spec();
    let mut args: Vec<String> = vec![
        "clone".into(),
        "--quiet".into(),
        "--depth".into(),
        "1".into(),
    ];
    if !spec.git_ref.is_empty() {
        args.push(format!("--branch={}", spec.git_ref));
    }
    if spec.submodules {
        args.push("--recurse-submodules".into());
        args.push("--shallow-submodules".into());
    }
    args.extend(["--".into(), url.clone(), dir.to_string_lossy().into_owned()]);
    match git.run(&args, None) {
        Ok(()) => Ok(()),
        Err(e @ RemoteError::Failed { .. }) if is_commit_id(&spec.git_ref) => {
            let _ = std::fs::remove_dir_all(dir);
            fetch_commit(git, spec, dir).map_err(|e2| RemoteError::Failed {
                command: "clone".into(),
                reason: format!("{e}; fetching the commit: {e2}"),
            })
        }
        Err(e) => Err(e),
    }
}

/// A ref `git clone --branch` cannot take: 7 to 40 hex digits.
fn is_commit_id(r: &str) -> bool {
    (7..=40).contains(&r.len()) && r.chars().all(|c| c.is_ascii_hexdigit())
}

/// kustomize's own sequence for any ref: `init`, `fetch --depth 1 URL REF`, checkout.
fn fetch_commit(git: &Git<'_>, spec: &RepoSpec, dir: &Path) -> Result<(), RemoteError> {
    std::fs::create_dir_all(dir).map_err(|e| RemoteError::io(dir, e))?;
    git.run(&["init".into(), "--quiet".into()], Some(dir))?;
    let fetch = [
        "fetch".into(),
        "--quiet".into(),
        "--depth".into(),
        "1".into(),
        "--".into(),
        spec.clone_spec(),
        spec.git_ref.clone(),
    ];
    git.run(&fetch, Some(dir))?;
    git.run(
        &["checkout".into(), "--quiet".into(), "FETCH_HEAD".into()],
        Some(dir),
    )?;
    if spec.submodules {
        let sub = ["submodule", "update", "--quiet", "--init", "--recursive"].map(String::from);
        git.run(&sub, Some(dir))?;
    }
    Ok(())
}

/// Environment variables passed through to git: network settings, not credentials.
const PASSED_ENV: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// The most of git's stderr kept for error messages.
const STDERR_LIMIT: u64 = 64 * 1024;

/// Runs git under a policy, with `home` as its `HOME`.
struct Git<'a> {
    policy: &'a FetchPolicy,
    home: &'a Path,
}

impl Git<'_> {
    /// The command for `git ARGS`: minimal environment, hardening `-c` options, own process
    /// group (see the module docs).
    fn command(&self, args: &[String]) -> Command {
        let policy = self.policy;
        let protocols = policy.protocols();
        let mut cmd = Command::new(&policy.git);
        cmd.env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into()),
            )
            .env("HOME", self.home)
            .env("LANG", "C")
            .env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GCM_INTERACTIVE", "never")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_ALLOW_PROTOCOL", protocols)
            .env("GIT_PROTOCOL_FROM_USER", "0");
        for var in PASSED_ENV {
            if let Some(v) = std::env::var_os(var) {
                cmd.env(var, v);
            }
        }
        if policy.allow_ssh {
            if let Some(sock) = std::env::var_os("SSH_AUTH_SOCK") {
                cmd.env("SSH_AUTH_SOCK", sock);
            }
            cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        let mut config = vec![
            "protocol.allow=never".to_string(),
            "credential.helper=".into(),
            "core.askPass=".into(),
            "core.hooksPath=/dev/null".into(),
            "core.fsmonitor=false".into(),
            "submodule.recurse=false".into(),
        ];
        config.extend(
            protocols
                .split(':')
                .map(|p| format!("protocol.{p}.allow=always")),
        );
        if !policy.allow_file {
            config.push("protocol.file.allow=never".into());
        }
        for c in config {
            cmd.arg("-c").arg(c);
        }
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        // Out of the terminal's foreground group, git would miss a Ctrl-C; have the kernel
        // kill it when driftlint dies (its helpers then see their pipes close).
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: prctl(2) is a single async-signal-safe system call, with no allocation
            // or locking, as `pre_exec` requires. The spawning thread waits for git, so it
            // outlives it (the death signal follows the thread that forked).
            unsafe {
                cmd.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        cmd
    }

    /// Runs `git ARGS` (no shell) in `cwd`, killing its process group after the policy's
    /// timeout, and any straggler in the group when git exits.
    fn run(&self, args: &[String], cwd: Option<&Path>) -> Result<(), RemoteError> {
        let command = args.first().cloned().unwrap_or_default();
        let mut cmd = self.command(args);
        if let Some(d) = cwd {
            cmd.current_dir(d);
        }
        let mut child = cmd.spawn().map_err(|e| RemoteError::Spawn {
            message: e.to_string(),
        })?;
        let stderr = child.stderr.take().map(|s| {
            std::thread::spawn(move || {
                use std::io::Read;
                let mut s = s;
                let mut err = Vec::new();
                let _ = s.by_ref().take(STDERR_LIMIT).read_to_end(&mut err);
                let _ = std::io::copy(&mut s, &mut std::io::sink());
                String::from_utf8_lossy(&err).into_owned()
            })
        });
        let timeout = self.policy.timeout;
        let start = Instant::now();
        loop {
            match has_exited(&mut child) {
                Ok(true) => break,
                Ok(false) if start.elapsed() > timeout => {
                    kill_group(&mut child);
                    let _ = child.wait();
                    return Err(RemoteError::TimedOut {
                        command,
                        after: timeout,
                    });
                }
                Ok(false) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => {
                    kill_group(&mut child);
                    let _ = child.wait();
                    return Err(RemoteError::Spawn {
                        message: format!("waiting for git: {e}"),
                    });
                }
            }
        }
        // git has exited but is not reaped yet, so its process group id is still its own:
        // kill whatever it left behind (which would also hold the stderr pipe open).
        kill_group(&mut child);
        let status = child.wait().map_err(|e| RemoteError::Spawn {
            message: format!("waiting for git: {e}"),
        })?;
        if status.success() {
            return Ok(());
        }
        let err = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        Err(RemoteError::Failed {
            command,
            reason: last.trim().to_string(),
        })
    }
}

/// Whether `child` has exited, without reaping it (so its pid, which is also its process
/// group id, cannot be reused before [`kill_group`]).
#[cfg(unix)]
fn has_exited(child: &mut std::process::Child) -> std::io::Result<bool> {
    let pid = libc::id_t::from(child.id());
    // SAFETY: `info` is a plain C struct that waitid fills in; zeroed is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid on our own child's pid, with a valid out pointer; WNOWAIT leaves the
    // child waitable, so `Child::wait` reaps it later.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: waitid succeeded, so `info` is initialised; with WNOHANG and no state change
    // si_pid stays 0.
    Ok(unsafe { info.si_pid() } != 0)
}

#[cfg(not(unix))]
fn has_exited(child: &mut std::process::Child) -> std::io::Result<bool> {
    child.try_wait().map(|s| s.is_some())
}

/// Kills `child`'s whole process group (it leads one: `process_group(0)`).
#[cfg(unix)]
fn kill_group(child: &mut std::process::Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals the process group `pid`, which is
        // `child`'s own (it is not reaped yet, so the id is still in use).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

#[cfg(not(unix))]
fn kill_group(child: &mut std::process::Child) {
    let _ = child.kill();
}

#[cfg(test)]
pub(crate) mod tests;
