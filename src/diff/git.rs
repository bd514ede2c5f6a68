//! The repository at a Git revision, read with the system `git` from the object database into
//! a temporary directory: `git rev-parse --verify`, `git ls-tree -r -z` and
//! `git cat-file --batch`, the plumbing `git archive` is built on. The user's work tree,
//! index and HEAD are never touched, no hook runs (`core.hooksPath=/dev/null`, and none of
//! these commands runs hooks anyway), and the revision is validated before it reaches `git`
//! (a revision starting with `-` is refused, `--end-of-options` ends the flags).
//!
//! Only regular files and symbolic links whose target stays inside the tree are written;
//! submodules (gitlinks) and paths with `..`, `.git` or absolute components are skipped.
//! Extraction stops with an error past [`MAX_BYTES`] or [`MAX_ENTRIES`].

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

/// At most this many bytes of file contents are extracted (512 MiB).
pub const MAX_BYTES: u64 = 512 << 20;
/// At most this many tree entries are extracted.
pub const MAX_ENTRIES: usize = 200_000;
/// The longest revision accepted.
const MAX_REV_LEN: usize = 256;

/// Why the base revision could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The revision is empty, starts with `-`, is too long or holds control characters.
    #[error("invalid revision {0:?}: it must be a branch, tag or commit and not start with '-'")]
    BadRevision(String),
    /// `git` could not be run.
    #[error("cannot run git: {0}")]
    Spawn(String),
    /// `git` failed; its first line of stderr.
    #[error("git {command}: {message}")]
    Failed {
        /// The subcommand (`rev-parse`, `ls-tree`...).
        command: &'static str,
        /// What git said.
        message: String,
    },
    /// No default base: neither `origin/HEAD`, `main` nor `master` shares history with HEAD.
    #[error(
        "no default base: HEAD has no merge base with origin/HEAD, main or master; pass --base REF"
    )]
    NoDefaultBase,
    /// The tree is larger than the extraction budget.
    #[error("the tree at {rev} is larger than {limit}; not extracted")]
    TooLarge {
        /// The revision.
        rev: String,
        /// The budget that was exceeded.
        limit: String,
    },
    /// Writing the extracted tree failed.
    #[error("cannot write the tree at {rev}: {message}")]
    Write {
        /// The revision.
        rev: String,
        /// The I/O error.
        message: String,
    },
}

/// A Git repository's work tree, and where a checked path lies in it.
pub struct Repo {
    /// The work tree's top-level directory (canonical).
    pub top: PathBuf,
}

/// A revision's tree extracted into a temporary directory (removed on drop).
pub struct Extracted {
    /// The directory holding the tree (its top level is the repository's).
    pub dir: tempfile::TempDir,
    /// The full commit id.
    pub commit: String,
    /// Files written.
    pub files: usize,
}

impl Repo {
    /// The repository holding `path` (a file or directory).
    ///
    /// Errors: [`GitError::Spawn`], or [`GitError::Failed`] when `path` is not in a Git work tree.
    pub fn discover(path: &Path) -> Result<Repo, GitError> {
        let dir = if path.is_dir() {
            path.to_path_buf()
        } else {
            path.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let out = git_in(&dir, "rev-parse", &["rev-parse", "--show-toplevel"])?;
        let top = PathBuf::from(String::from_utf8_lossy(&out).trim_end_matches('\n'));
        let top = top.canonicalize().map_err(|e| GitError::Failed {
            command: "rev-parse",
            message: e.to_string(),
        })?;
        Ok(Repo { top })
    }

    /// The full commit id `rev` names.
    ///
    /// Errors: [`GitError::BadRevision`] for a revision that could be read as a flag,
    /// [`GitError::Failed`] when it names no commit.
    pub fn resolve(&self, rev: &str) -> Result<String, GitError> {
        validate(rev)?;
        let spec = format!("{rev}^{{commit}}");
        let args = [
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ];
        let out = git_in(&self.top, "rev-parse", &args).map_err(|e| match e {
            GitError::Failed { command, message } if message.is_empty() => GitError::Failed {
                command,
                message: format!("{rev:?} names no commit"),
            },
            e => e,
        })?;
        let id = String::from_utf8_lossy(&out).trim().to_string();
        if id.len() < 40 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(GitError::Failed {
                command: "rev-parse",
                message: format!("unexpected output for {rev:?}"),
            });
        }
        Ok(id)
    }

    /// The default base: the merge base of HEAD with `origin/HEAD`, else with `main`, else with
    /// `master`.
    ///
    /// Errors: [`GitError::NoDefaultBase`] when none of them shares history with HEAD.
    pub fn default_base(&self) -> Result<(String, String), GitError> {
        for name in ["origin/HEAD", "main", "master"] {
            let args = ["merge-base", "HEAD", name];
            if let Ok(out) = git_in(&self.top, "merge-base", &args) {
                let id = String::from_utf8_lossy(&out).trim().to_string();
                if id.len() >= 40 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Ok((format!("merge-base(HEAD, {name})"), id));
                }
            }
        }
        Err(GitError::NoDefaultBase)
    }

    /// Writes the tree of `commit` (a full id from [`Repo::resolve`]) into a new temporary
    /// directory, plus an empty `.git` directory at its top so the repository root is found
    /// there as in the work tree.
    ///
    /// Errors: [`GitError::TooLarge`] past the budgets, [`GitError::Failed`]/[`GitError::Write`].
    pub fn extract(&self, commit: &str) -> Result<Extracted, GitError> {
        let listing = git_in(
            &self.top,
            "ls-tree",
            &["ls-tree", "-r", "-z", "--full-tree", commit],
        )?;
        let entries = parse_tree(&listing);
        if entries.len() > MAX_ENTRIES {
            return Err(too_large(commit, format!("{MAX_ENTRIES} entries")));
        }
        let dir = tempfile::Builder::new()
            .prefix("driftlint-base-")
            .tempdir()
            .map_err(|e| write_error(commit, &e))?;
        std::fs::create_dir(dir.path().join(".git")).map_err(|e| write_error(commit, &e))?;
        let files = write_blobs(&self.top, dir.path(), commit, &entries)?;
        Ok(Extracted {
            dir,
            commit: commit.to_string(),
            files,
        })
    }
}

/// One blob of the tree: its id, path and whether it is a symbolic link.
struct Entry {
    id: String,
    path: PathBuf,
    link: bool,
}

/// Refuses revisions `git` could read as something else than a revision.
fn validate(rev: &str) -> Result<(), GitError> {
    let bad = rev.is_empty()
        || rev.starts_with('-')
        || rev.len() > MAX_REV_LEN
        || rev.chars().any(|c| c.is_control() || c.is_whitespace());
    if bad {
        return Err(GitError::BadRevision(
            rev.chars().take(MAX_REV_LEN).collect(),
        ));
    }
    Ok(())
}

/// `ls-tree -r -z` output (`<mode> <type> <id>\t<path>\0`) as the blobs to write; gitlinks,
/// unsafe paths and unknown modes are left out.
fn parse_tree(listing: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    for record in listing.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let Some(tab) = record.iter().position(|&b| b == b'\t') else {
            continue;
        };
        let head = String::from_utf8_lossy(&record[..tab]);
        let mut parts = head.split(' ');
        let (Some(mode), Some(kind), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let link = mode == "120000";
        if kind != "blob" || !(link || mode == "100644" || mode == "100755") {
            continue;
        }
        if let Some(path) = safe_path(&record[tab + 1..]) {
            out.push(Entry {
                id: id.to_string(),
                path,
                link,
            });
        }
    }
    out
}

/// A tree path as a relative path of normal components, none of them `.git`.
fn safe_path(bytes: &[u8]) -> Option<PathBuf> {
    let text = std::str::from_utf8(bytes).ok()?;
    let path = PathBuf::from(text);
    let ok = !text.is_empty()
        && path.components().all(|c| match c {
            Component::Normal(n) => !n.eq_ignore_ascii_case(".git"),
            _ => false,
        });
    ok.then_some(path)
}

/// A symbolic link target that stays inside the tree when resolved from `link`'s directory.
fn link_inside(link: &Path, target: &[u8]) -> bool {
    let Ok(target) = std::str::from_utf8(target) else {
        return false;
    };
    let mut depth: i64 = link.components().count() as i64 - 1;
    for c in Path::new(target).components() {
        match c {
            Component::Normal(n) if n.eq_ignore_ascii_case(".git") => return false,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => depth -= 1,
            _ => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    !target.is_empty()
}

/// Streams every blob through one `git cat-file --batch` and writes it under `dir`.
fn write_blobs(top: &Path, dir: &Path, rev: &str, entries: &[Entry]) -> Result<usize, GitError> {
    let mut child = git_command(top)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| GitError::Spawn(e.to_string()))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or(GitError::Spawn("no stdin".into()))?;
    let ids: String = entries.iter().map(|e| format!("{}\n", e.id)).collect();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(ids.as_bytes());
    });
    let stdout = child
        .stdout
        .take()
        .ok_or(GitError::Spawn("no stdout".into()))?;
    let result = read_blobs(BufReader::new(stdout), dir, rev, entries);
    if result.is_err() {
        let _ = child.kill();
    }
    let _ = child.wait();
    let _ = feeder.join();
    result
}

fn read_blobs(
    mut out: impl BufRead,
    dir: &Path,
    rev: &str,
    entries: &[Entry],
) -> Result<usize, GitError> {
    let mut total: u64 = 0;
    let mut written = 0;
    for entry in entries {
        let mut header = String::new();
        out.read_line(&mut header)
            .map_err(|e| write_error(rev, &e))?;
        let size: u64 = header
            .trim_end()
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| GitError::Failed {
                command: "cat-file",
                message: format!("unexpected header {:?}", header.trim_end()),
            })?;
        total += size;
        if total > MAX_BYTES {
            return Err(too_large(rev, format!("{} MiB", MAX_BYTES >> 20)));
        }
        let mut body = Vec::with_capacity(size as usize);
        (&mut out)
            .take(size + 1)
            .read_to_end(&mut body)
            .map_err(|e| write_error(rev, &e))?;
        body.truncate(size as usize);
        if write_entry(dir, entry, &body).map_err(|e| write_error(rev, &e))? {
            written += 1;
        }
    }
    Ok(written)
}

/// Writes one blob; false when it was left out (a link leading outside the tree).
fn write_entry(dir: &Path, entry: &Entry, body: &[u8]) -> std::io::Result<bool> {
    let path = dir.join(&entry.path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if entry.link {
        if !link_inside(&entry.path, body) {
            return Ok(false);
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(String::from_utf8_lossy(body).as_ref(), &path)?;
        #[cfg(not(unix))]
        return Ok(false);
        return Ok(true);
    }
    std::fs::write(&path, body)?;
    Ok(true)
}

/// `git` with hooks and optional locks off, no prompts, no pager, config from the user only.
fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args([
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "core.fsmonitor=false",
        ])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_PAGER", "cat")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    cmd
}

/// Runs `git args` in `dir`; stdout on success (at most 64 MiB).
fn git_in(dir: &Path, command: &'static str, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let mut cmd = git_command(dir);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = cmd.output().map_err(|e| GitError::Spawn(e.to_string()))?;
    if !out.status.success() {
        let message = String::from_utf8_lossy(&out.stderr);
        let first = message.lines().next().unwrap_or("").trim();
        return Err(GitError::Failed {
            command,
            message: first.chars().filter(|c| !c.is_control()).collect(),
        });
    }
    if out.stdout.len() as u64 > 64 << 20 {
        return Err(too_large(command, "64 MiB of output".into()));
    }
    Ok(out.stdout)
}

fn too_large(rev: &str, limit: String) -> GitError {
    GitError::TooLarge {
        rev: rev.to_string(),
        limit,
    }
}

fn write_error(rev: &str, e: &std::io::Error) -> GitError {
    GitError::Write {
        rev: rev.to_string(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_that_read_as_flags_are_refused() {
        for rev in ["", "-p", "--output=/tmp/x", "a b", "a\nb"] {
            assert!(
                matches!(validate(rev), Err(GitError::BadRevision(_))),
                "{rev:?}"
            );
        }
        assert!(validate("origin/main").is_ok());
        assert!(validate("HEAD~2").is_ok());
    }

    #[test]
    fn unsafe_tree_paths_are_skipped() {
        let listing = b"100644 blob aaaa\tok/file.yaml\0\
100644 blob bbbb\t../escape\0\
100644 blob cccc\tsub/.git/config\0\
160000 commit dddd\tsubmodule\0\
120000 blob eeee\tlink\0";
        let entries = parse_tree(listing);
        let paths: Vec<_> = entries.iter().map(|e| e.path.clone()).collect();
        assert_eq!(
            paths,
            [PathBuf::from("ok/file.yaml"), PathBuf::from("link")]
        );
        assert!(entries[1].link);
    }

    #[test]
    fn links_must_stay_inside() {
        assert!(link_inside(Path::new("a/b"), b"../c"));
        assert!(!link_inside(Path::new("a/b"), b"../../c"));
        assert!(!link_inside(Path::new("a"), b"/etc/passwd"));
        assert!(!link_inside(Path::new("a"), b".git/config"));
    }
}
