//! File access for a build: every read goes through [`RepoFs`], is confined to the
//! repository, follows kustomize's load restrictor (`LoadRestrictionsRootOnly`: a file
//! referenced by a kustomization must be in or below that kustomization's directory), and is
//! recorded so callers can map changed files to render targets.
//!
//! Remote bases (`--allow-remote`) are cloned (see [`super::remote`]) and mounted at a
//! virtual directory `<remote>/LABEL` (`<remote>/github.com/org/repo@v1`): paths under it
//! are read from the clone, which is its own confined root, so origins read
//! `<remote>/github.com/org/repo@v1/deploy/cm.yaml`. Remote files are not recorded as read.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{parse_file, Origin};

use super::error::{ErrorKind, KustomizeError, Result};
use super::kustfile::Kustomization;
use super::remote::{self, RepoSpec};

/// The first component of the virtual directories remote clones are mounted at.
pub const REMOTE_ROOT: &str = "<remote>";

/// Whether and where remote bases are cloned.
#[derive(Clone, Debug, Default)]
pub struct RemoteAccess {
    /// Clone remote bases (`--allow-remote`); otherwise they are an error.
    pub allow: bool,
    /// The cache directory (`CACHE/remote/<key>` holds each clone); None for the default
    /// (`$XDG_CACHE_HOME/driftlint`, else `$HOME/.cache/driftlint`).
    pub cache: Option<PathBuf>,
}

/// A clone mounted at a virtual directory.
struct Mount {
    prefix: PathBuf,
    fs: RepoFs,
    key: String,
}

/// The file names kustomize recognises, in its order.
pub const KUSTOMIZATION_FILE_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// What a path in a kustomization resolves to.
pub enum Target {
    /// A file: its repo-relative path.
    File(PathBuf),
    /// A directory: its repo-relative path.
    Dir(PathBuf),
}

/// Reads files for one build and records them.
pub struct Loader<'a> {
    fs: &'a RepoFs,
    files: RefCell<Vec<PathBuf>>,
    seen: RefCell<HashSet<PathBuf>>,
    remote: RemoteAccess,
    mounts: RefCell<Vec<Mount>>,
    /// kustomize's `LoadRestrictionsRootOnly` (the default) when true; Flux builds with
    /// `LoadRestrictionsNone` (files anywhere in the repository).
    pub(crate) root_only: bool,
}

impl<'a> Loader<'a> {
    /// A loader over `fs` that refuses remote bases.
    pub fn new(fs: &'a RepoFs) -> Self {
        Loader::with_remote(fs, RemoteAccess::default())
    }

    /// A loader over `fs` with the given remote access.
    pub fn with_remote(fs: &'a RepoFs, remote: RemoteAccess) -> Self {
        Loader {
            fs,
            files: RefCell::new(Vec::new()),
            seen: RefCell::new(HashSet::new()),
            remote,
            mounts: RefCell::new(Vec::new()),
            root_only: true,
        }
    }

    /// Runs `f` with the filesystem holding the (virtual) repo-relative `path` and `path`
    /// relative to that filesystem's root; also returns the mount prefix, if any.
    fn with_fs<T>(&self, path: &Path, f: impl FnOnce(&RepoFs, &Path) -> T) -> (T, Option<PathBuf>) {
        let mounted = self.mounts.borrow().iter().find_map(|m| {
            let inner = path.strip_prefix(&m.prefix).ok()?;
            Some((m.fs.clone(), inner.to_path_buf(), m.prefix.clone()))
        });
        match mounted {
            Some((fs, inner, prefix)) => (f(&fs, &inner), Some(prefix)),
            None => (f(self.fs, path), None),
        }
    }

    /// `path` (relative to a mount's root) as a virtual repo-relative path.
    fn rebase(prefix: Option<PathBuf>, path: PathBuf) -> PathBuf {
        match prefix {
            Some(p) if path.as_os_str().is_empty() => p,
            Some(p) => p.join(path),
            None => path,
        }
    }

    /// Resolves `rel` from `dir` to a canonical (virtual) repo-relative path and whether it
    /// is a directory.
    fn resolve_path(
        &self,
        dir: &Path,
        rel: &str,
    ) -> std::result::Result<(PathBuf, bool), driftlint_yaml::fs::FsError> {
        let (r, prefix) = self.with_fs(dir, |fs, inner| {
            fs.resolve(inner, rel)
                .map(|abs| (fs.relative(&abs), abs.is_dir()))
        });
        r.map(|(p, is_dir)| (Self::rebase(prefix, p), is_dir))
    }

    /// The real (absolute, confined) location of the repo-relative directory `dir`.
    ///
    /// Errors: `Missing`/`Escapes` as [`Loader::resolve`].
    pub(crate) fn real_path(&self, dir: &Path, origin: &Origin) -> Result<PathBuf> {
        let (r, _) = self.with_fs(dir, |fs, inner| fs.resolve(inner, "."));
        r.map_err(|e| KustomizeError::from_fs(e, &display(dir), Some(origin)))
    }

    /// True when the repo-relative `path` is a regular file inside the repository.
    pub(crate) fn is_file(&self, path: &Path) -> bool {
        let parent = path.parent().unwrap_or(Path::new(""));
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        matches!(self.resolve_path(parent, name), Ok((_, false)))
    }

    /// Resolves an entry of `resources`, `components`, `transformers`, `generators` or
    /// `validators`: a local file or directory as [`Loader::resolve`] does, or a remote
    /// git base, which is cloned and mounted (with remote access allowed) and must be a
    /// directory, as in kustomize.
    ///
    /// Errors: as [`Loader::resolve`]; `Remote` when remote access is not allowed;
    /// `Unsupported` for HTTP file URLs; `Fetch` when cloning fails; `Invalid` when the
    /// remote root is a file.
    pub fn resolve_base(&self, dir: &Path, rel: &str, origin: &Origin) -> Result<Target> {
        if remote::is_http_file(rel) && self.remote.allow {
            return Err(KustomizeError::unsupported(
                format!(
                    "remote file over HTTP {rel} (--allow-remote clones git repositories only)"
                ),
                Some(origin),
            ));
        }
        let local_file = matches!(self.resolve_path(dir, rel), Ok((_, false)));
        let spec = match RepoSpec::parse(rel) {
            Ok(spec) if !local_file => spec,
            _ => return self.resolve(dir, rel, origin),
        };
        if !self.remote.allow {
            return Err(remote(rel, origin));
        }
        let prefix = self.mount(&spec, rel, origin)?;
        let root = if spec.kust_root.is_empty() {
            "."
        } else {
            spec.kust_root.as_str()
        };
        match self.resolve(&prefix, root, origin)? {
            Target::Dir(d) => Ok(Target::Dir(d)),
            Target::File(_) => Err(KustomizeError::invalid(
                format!("remote resource {rel} is a file; a remote base must be a directory holding a kustomization"),
                Some(origin),
            )),
        }
    }

    /// Clones `spec` (or reuses the clone) and mounts it; returns the mount prefix.
    fn mount(&self, spec: &RepoSpec, rel: &str, origin: &Origin) -> Result<PathBuf> {
        let key = spec.cache_key();
        if let Some(m) = self.mounts.borrow().iter().find(|m| m.key == key) {
            return Ok(m.prefix.clone());
        }
        let fetch_err = |message: String| {
            KustomizeError::new(
                ErrorKind::Fetch {
                    url: rel.to_string(),
                    message,
                },
                Some(origin.clone()),
            )
        };
        let cache = match &self.remote.cache {
            Some(c) => c.clone(),
            None => remote::default_cache_root().ok_or_else(|| {
                fetch_err("no cache directory: set XDG_CACHE_HOME or HOME".into())
            })?,
        };
        let dir = remote::fetch(spec, &cache).map_err(fetch_err)?;
        let fs = RepoFs::new(&dir).map_err(|e| fetch_err(e.to_string()))?;
        let mut prefix = Path::new(REMOTE_ROOT).join(spec.label());
        let mut mounts = self.mounts.borrow_mut();
        let mut n = 1;
        while mounts.iter().any(|m| m.prefix == prefix) {
            n += 1;
            prefix = Path::new(REMOTE_ROOT).join(format!("{}~{n}", spec.label()));
        }
        mounts.push(Mount {
            prefix: prefix.clone(),
            fs,
            key,
        });
        Ok(prefix)
    }

    /// Every file read so far, repo-relative, in first-read order.
    pub fn into_files(self) -> Vec<PathBuf> {
        self.files.into_inner()
    }

    /// Resolves `rel` (as written in the kustomization in `dir`) to a file or directory.
    ///
    /// Errors: `Remote` for URLs and repository references, `Missing`, `Escapes`.
    pub fn resolve(&self, dir: &Path, rel: &str, origin: &Origin) -> Result<Target> {
        if is_url(rel) {
            return Err(remote(rel, origin));
        }
        match self.resolve_path(dir, rel) {
            Ok((p, true)) => Ok(Target::Dir(p)),
            Ok((p, false)) => Ok(Target::File(p)),
            Err(driftlint_yaml::fs::FsError::NotFound { .. }) if RepoSpec::parse(rel).is_ok() => {
                Err(remote(rel, origin))
            }
            Err(e) => Err(KustomizeError::from_fs(e, rel, Some(origin))),
        }
    }

    /// Reads a file referenced from the kustomization in `dir`, enforcing the load
    /// restrictor. Returns its repo-relative path and content.
    ///
    /// Errors: as [`Loader::resolve`]; `Escapes` when the file is outside `dir`; `Invalid`
    /// when it is a directory or not text.
    pub fn read_restricted(
        &self,
        dir: &Path,
        rel: &str,
        origin: &Origin,
    ) -> Result<(PathBuf, Arc<str>)> {
        match self.resolve(dir, rel, origin)? {
            Target::Dir(_) => Err(KustomizeError::invalid(
                format!("{rel} is a directory, a file is expected"),
                Some(origin),
            )),
            Target::File(path) => {
                let root = self.canonical_dir(dir, origin)?;
                if self.root_only && !path.starts_with(&root) {
                    return Err(KustomizeError::new(
                        ErrorKind::Escapes {
                            path: rel.to_string(),
                            reason: format!(
                                "is not in or below the kustomization directory {}",
                                display(&root)
                            ),
                        },
                        Some(origin.clone()),
                    ));
                }
                let text = self.read(&path)?;
                Ok((path, text))
            }
        }
    }

    /// The repository's root directory (absolute).
    pub fn root_dir(&self) -> std::path::PathBuf {
        self.fs.root().to_path_buf()
    }

    /// The repository holding the repo-relative `dir` when it is local (not in a mounted
    /// remote base).
    pub fn local_fs(&self, dir: &Path) -> Option<&'a RepoFs> {
        let mounted = self
            .mounts
            .borrow()
            .iter()
            .any(|m| dir.starts_with(&m.prefix));
        (!mounted).then_some(self.fs)
    }

    /// Reads a repo-relative file (already resolved) and records it.
    pub fn read(&self, path: &Path) -> Result<Arc<str>> {
        let (text, prefix) = self.with_fs(path, |fs, inner| fs.read_text(&fs.root().join(inner)));
        let text = text.map_err(|e| KustomizeError::from_fs(e, &display(path), None))?;
        if prefix.is_none() && self.seen.borrow_mut().insert(path.to_path_buf()) {
            self.files.borrow_mut().push(path.to_path_buf());
        }
        Ok(text)
    }

    /// The canonical repo-relative form of the directory `dir`.
    pub fn canonical_dir(&self, dir: &Path, origin: &Origin) -> Result<PathBuf> {
        self.resolve_path(dir, ".")
            .map(|(p, _)| p)
            .map_err(|e| KustomizeError::from_fs(e, &display(dir), Some(origin)))
    }

    /// Finds and decodes the kustomization file of the repo-relative directory `dir`.
    ///
    /// Errors: none or several kustomization files; YAML and decoding errors.
    pub fn load_kustomization(&self, dir: &Path, origin: Option<&Origin>) -> Result<Kustomization> {
        let mut found = Vec::new();
        for name in KUSTOMIZATION_FILE_NAMES {
            if let Ok((path, false)) = self.resolve_path(dir, name) {
                found.push(path);
            }
        }
        let path = match found.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(KustomizeError::new(
                    ErrorKind::Missing {
                        path: format!(
                            "{}/kustomization.yaml (or kustomization.yml, Kustomization)",
                            display(dir)
                        ),
                    },
                    origin.cloned(),
                ))
            }
            _ => {
                return Err(KustomizeError::invalid(
                    format!("found multiple kustomization files under {}", display(dir)),
                    origin,
                ))
            }
        };
        let text = self.read(&path)?;
        let file: Arc<str> = display(&path).into();
        let parsed = parse_file(file.clone(), &text)?;
        let empty = driftlint_yaml::Node::null(Origin::new(file.clone(), 1, 1));
        let doc = parsed.documents.first().unwrap_or(&empty);
        let mut k = Kustomization::decode(file, doc)?;
        k.source = text;
        Ok(k)
    }
}

/// The `/`-separated display form of a repo-relative path (`.` for the root).
pub fn display(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    if s.is_empty() {
        ".".to_string()
    } else {
        s
    }
}

fn remote(rel: &str, origin: &Origin) -> KustomizeError {
    KustomizeError::new(
        ErrorKind::Remote {
            url: rel.to_string(),
        },
        Some(origin.clone()),
    )
}

/// URLs and git references kustomize would fetch.
fn is_url(rel: &str) -> bool {
    rel.contains("://") || rel.starts_with("git@") || rel.starts_with("git::")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(files: &[(&str, &str)]) -> (tempfile::TempDir, RepoFs) {
        let dir = tempfile::tempdir().expect("tempdir");
        for (p, c) in files {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, c).expect("write");
        }
        let fs = RepoFs::new(dir.path()).expect("root");
        (dir, fs)
    }

    fn origin() -> Origin {
        Origin::new("o/kustomization.yaml".into(), 3, 3)
    }

    #[test]
    fn restricts_files_to_the_kustomization_tree() {
        let (_d, fs) = repo(&[("o/kustomization.yaml", ""), ("b/x.yaml", "a: 1\n")]);
        let l = Loader::new(&fs);
        let err = l
            .read_restricted(Path::new("o"), "../b/x.yaml", &origin())
            .unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Escapes { .. }), "{err}");
        let err = l
            .read_restricted(Path::new("o"), "../../../etc/passwd", &origin())
            .unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Escapes { .. }), "{err}");
        assert!(l.into_files().is_empty());
    }

    #[test]
    fn missing_and_remote_references() {
        let (_d, fs) = repo(&[("o/kustomization.yaml", "")]);
        let l = Loader::new(&fs);
        let e = l.resolve(Path::new("o"), "nope.yaml", &origin()).err();
        assert!(matches!(e.map(|e| e.kind), Some(ErrorKind::Missing { .. })));
        let e = l
            .resolve(Path::new("o"), "github.com/org/repo//dir?ref=v1", &origin())
            .err();
        assert!(matches!(e.map(|e| e.kind), Some(ErrorKind::Remote { .. })));
        let e = l
            .resolve(Path::new("o"), "https://example.com/x.yaml", &origin())
            .err();
        assert!(matches!(e.map(|e| e.kind), Some(ErrorKind::Remote { .. })));
    }

    #[test]
    fn finds_exactly_one_kustomization_file() {
        let (_d, fs) = repo(&[
            ("a/kustomization.yaml", "namePrefix: x-\n"),
            ("b/kustomization.yaml", ""),
            ("b/Kustomization", ""),
            ("c/other.yaml", ""),
        ]);
        let l = Loader::new(&fs);
        assert!(l.load_kustomization(Path::new("a"), None).is_ok());
        assert!(l.load_kustomization(Path::new("b"), None).is_err());
        let e = l.load_kustomization(Path::new("c"), None).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Missing { .. }));
        assert_eq!(l.into_files(), vec![PathBuf::from("a/kustomization.yaml")]);
    }
}
