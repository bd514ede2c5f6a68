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
//! `--recurse-submodules` unless `?submodules=false`, within the URL's timeout (default 27
//! seconds, as kustomize), terminal prompts disabled and transports limited to file, git,
//! http(s) and ssh. A ref that `--branch` cannot take (a commit id) is fetched with `git
//! fetch --depth 1 URL REF` instead. Clones are cached in
//! `CACHE/remote/<sha256 of the repository URL, ref and submodules flag>` and reused; a
//! clone is written to a temporary directory and renamed into place, so concurrent builds
//! never see half a clone.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// kustomize's default timeout for git commands.
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
    /// The time allowed for each git command.
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

/// The clone of `spec` under `cache_root/remote/`, cloning it first when absent.
///
/// Errors (as text): git missing or failing (its last stderr line), timeouts, I/O errors.
pub fn fetch(spec: &RepoSpec, cache_root: &Path) -> Result<PathBuf, String> {
    let base = cache_root.join("remote");
    let dest = base.join(spec.cache_key());
    if dest.is_dir() {
        return Ok(dest);
    }
    std::fs::create_dir_all(&base).map_err(|e| format!("{}: {e}", base.display()))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = base.join(format!(
        "{}.tmp-{}-{nanos}",
        spec.cache_key(),
        std::process::id()
    ));
    let result = clone_into(spec, &tmp);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if std::fs::rename(&tmp, &dest).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
        if !dest.is_dir() {
            return Err(format!(
                "{}: cannot move the clone into place",
                dest.display()
            ));
        }
    }
    Ok(dest)
}

fn clone_into(spec: &RepoSpec, dir: &Path) -> Result<(), String> {
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
    match git(&args, None, spec.timeout) {
        Ok(()) => Ok(()),
        Err(e) if is_commit_id(&spec.git_ref) => {
            let _ = std::fs::remove_dir_all(dir);
            fetch_commit(spec, dir).map_err(|e2| format!("{e}; fetching the commit: {e2}"))
        }
        Err(e) => Err(e),
    }
}

/// A ref `git clone --branch` cannot take: 7 to 40 hex digits.
fn is_commit_id(r: &str) -> bool {
    (7..=40).contains(&r.len()) && r.chars().all(|c| c.is_ascii_hexdigit())
}

/// kustomize's own sequence for any ref: `init`, `fetch --depth 1 URL REF`, checkout.
fn fetch_commit(spec: &RepoSpec, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let t = spec.timeout;
    git(&["init".into(), "--quiet".into()], Some(dir), t)?;
    let fetch = [
        "fetch".into(),
        "--quiet".into(),
        "--depth".into(),
        "1".into(),
        "--".into(),
        spec.clone_spec(),
        spec.git_ref.clone(),
    ];
    git(&fetch, Some(dir), t)?;
    git(
        &["checkout".into(), "--quiet".into(), "FETCH_HEAD".into()],
        Some(dir),
        t,
    )?;
    if spec.submodules {
        let sub = ["submodule", "update", "--quiet", "--init", "--recursive"].map(String::from);
        git(&sub, Some(dir), t)?;
    }
    Ok(())
}

/// Runs `git ARGS` (no shell) in `cwd`, killing it after `timeout`.
fn git(args: &[String], cwd: Option<&Path>, timeout: Duration) -> Result<(), String> {
    let mut cmd = Command::new("git");
    cmd.args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GCM_INTERACTIVE", "never")
        .env("GIT_ALLOW_PROTOCOL", "file:git:http:https:ssh")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let mut child = cmd.spawn().map_err(|e| format!("running git: {e}"))?;
    let stderr = child.stderr.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(&mut s, &mut err);
            err
        })
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("git {} timed out after {timeout:?}", args[0]));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for git: {e}")),
        }
    };
    if status.success() {
        return Ok(());
    }
    let err = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    let last = err
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    Err(format!("git {} failed: {}", args[0], last.trim()))
}

#[cfg(test)]
pub(crate) mod tests;
