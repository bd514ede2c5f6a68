//! File access for a build: every read goes through [`RepoFs`], is confined to the
//! repository, follows kustomize's load restrictor (`LoadRestrictionsRootOnly`: a file
//! referenced by a kustomization must be in or below that kustomization's directory), and is
//! recorded so callers can map changed files to render targets.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::fs::RepoFs;
use crate::yaml::{parse_file, Origin};

use super::error::{ErrorKind, KustomizeError, Result};
use super::kustfile::Kustomization;

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
}

impl<'a> Loader<'a> {
    /// A loader over `fs`.
    pub fn new(fs: &'a RepoFs) -> Self {
        Loader {
            fs,
            files: RefCell::new(Vec::new()),
            seen: RefCell::new(HashSet::new()),
        }
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
        let abs = match self.fs.resolve(dir, rel) {
            Ok(p) => p,
            Err(crate::fs::FsError::NotFound { .. }) if looks_remote(rel) => {
                return Err(remote(rel, origin))
            }
            Err(e) => return Err(KustomizeError::from_fs(e, rel, Some(origin))),
        };
        let repo_rel = self.fs.relative(&abs);
        if abs.is_dir() {
            Ok(Target::Dir(repo_rel))
        } else {
            Ok(Target::File(repo_rel))
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
                if !path.starts_with(&root) {
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

    /// Reads a repo-relative file (already resolved) and records it.
    pub fn read(&self, path: &Path) -> Result<Arc<str>> {
        let abs = self.fs.root().join(path);
        let text = self
            .fs
            .read_text(&abs)
            .map_err(|e| KustomizeError::from_fs(e, &display(path), None))?;
        if self.seen.borrow_mut().insert(path.to_path_buf()) {
            self.files.borrow_mut().push(path.to_path_buf());
        }
        Ok(text)
    }

    /// The canonical repo-relative form of the directory `dir`.
    pub fn canonical_dir(&self, dir: &Path, origin: &Origin) -> Result<PathBuf> {
        let abs = self
            .fs
            .resolve(dir, ".")
            .map_err(|e| KustomizeError::from_fs(e, &display(dir), Some(origin)))?;
        Ok(self.fs.relative(&abs))
    }

    /// Finds and decodes the kustomization file of the repo-relative directory `dir`.
    ///
    /// Errors: none or several kustomization files; YAML and decoding errors.
    pub fn load_kustomization(&self, dir: &Path, origin: Option<&Origin>) -> Result<Kustomization> {
        let mut found = Vec::new();
        for name in KUSTOMIZATION_FILE_NAMES {
            if let Ok(abs) = self.fs.resolve(dir, name) {
                if abs.is_file() {
                    found.push(self.fs.relative(&abs));
                }
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
        let empty = crate::yaml::Node::null(Origin::new(file.clone(), 1, 1));
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

/// A path whose first segment looks like a host name (`github.com/org/repo`).
fn looks_remote(rel: &str) -> bool {
    let first = rel.split('/').next().unwrap_or("");
    first.contains('.')
        && first != "."
        && first != ".."
        && rel.contains('/')
        && !first.ends_with(".yaml")
        && !first.ends_with(".yml")
        && !first.ends_with(".json")
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
