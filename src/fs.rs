//! Confined, read-only access to the repository being checked.
//!
//! Every file read by discovery and the renderers goes through [`RepoFs`], which refuses paths
//! that leave the repository root (`../../etc/passwd`, absolute paths, symlinks pointing out),
//! files larger than [`MAX_FILE_BYTES`], and files that are not UTF-8 text.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Files above this size (bytes) are refused: 16 MiB.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FsError {
    /// The path leaves the repository root (directly, absolutely, or through a symlink).
    #[error("{path}: path escapes the repository root {root}")]
    Escapes { path: String, root: String },
    /// The file or directory does not exist.
    #[error("{path}: no such file or directory")]
    NotFound { path: String },
    /// The file is larger than the limit.
    #[error("{path}: file is {size} bytes, larger than the {limit}-byte limit")]
    TooLarge { path: String, size: u64, limit: u64 },
    /// The file is not UTF-8 text (binary or another encoding).
    #[error("{path}: not a UTF-8 text file")]
    NotText { path: String },
    /// Any other I/O error (permissions, symlink loops...).
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

/// A repository root and the reads confined to it.
///
/// Clones share one record of the texts read (see [`RepoFs::text_read`]): reports show source
/// lines only from files this reader returned, never from a path named in a message.
#[derive(Debug, Clone)]
pub struct RepoFs {
    root: PathBuf,
    texts: Arc<Mutex<HashMap<String, Arc<str>>>>,
}

impl RepoFs {
    /// A view of the repository rooted at `root` (canonicalised).
    ///
    /// Errors: [`FsError::NotFound`] when `root` does not exist.
    pub fn new(root: &Path) -> Result<RepoFs, FsError> {
        let root = root.canonicalize().map_err(|e| io_error(root, &e))?;
        Ok(RepoFs {
            root,
            texts: Arc::default(),
        })
    }

    /// The text of `display` (a repo-relative path as [`RepoFs::display`] writes it) if this
    /// reader (or a clone) returned it from [`RepoFs::read_text`] or [`RepoFs::remember`]ed it;
    /// `None` for anything else, whatever the path names.
    pub fn text_read(&self, display: &str) -> Option<Arc<str>> {
        self.texts.lock().ok()?.get(display).cloned()
    }

    /// Every text read so far (in no particular order).
    pub fn texts_read(&self) -> Vec<Arc<str>> {
        self.texts
            .lock()
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Records `text` as the content of the confined file `display`, for readers that checked
    /// confinement themselves (the chart loader reads chart files as bytes).
    pub fn remember(&self, display: &str, text: Arc<str>) {
        if let Ok(mut texts) = self.texts.lock() {
            texts.insert(display.to_string(), text);
        }
    }

    /// The canonical repository root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves `rel` (relative to `base`, a repo-relative directory) to a canonical absolute
    /// path inside the root, following symlinks.
    ///
    /// Errors: [`FsError::Escapes`] for absolute paths or paths/symlinks leading outside the
    /// root, [`FsError::NotFound`] when it does not exist.
    pub fn resolve(&self, base: &Path, rel: &str) -> Result<PathBuf, FsError> {
        let rel_path = Path::new(rel);
        let display = self.display(&base.join(rel_path));
        if rel_path.is_absolute()
            || rel_path
                .components()
                .any(|c| matches!(c, Component::Prefix(_)))
        {
            return Err(self.escapes(rel));
        }
        let joined = normalize(&self.root.join(base).join(rel_path));
        if !joined.starts_with(&self.root) {
            return Err(self.escapes(&display));
        }
        let canonical = joined
            .canonicalize()
            .map_err(|e| io_error_named(&display, &e))?;
        if !canonical.starts_with(&self.root) {
            return Err(self.escapes(&display));
        }
        Ok(canonical)
    }

    /// Reads a text file at a canonical path returned by [`RepoFs::resolve`] (or any path under
    /// the root).
    ///
    /// Errors: [`FsError::TooLarge`], [`FsError::NotText`], [`FsError::Escapes`], I/O errors.
    pub fn read_text(&self, path: &Path) -> Result<Arc<str>, FsError> {
        let display = self.display(path);
        let canonical = path
            .canonicalize()
            .map_err(|e| io_error_named(&display, &e))?;
        if !canonical.starts_with(&self.root) {
            return Err(self.escapes(&display));
        }
        let meta = std::fs::metadata(&canonical).map_err(|e| io_error_named(&display, &e))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(FsError::TooLarge {
                path: display,
                size: meta.len(),
                limit: MAX_FILE_BYTES,
            });
        }
        let bytes = std::fs::read(&canonical).map_err(|e| io_error_named(&display, &e))?;
        if bytes.contains(&0) {
            return Err(FsError::NotText { path: display });
        }
        let text: Arc<str> =
            String::from_utf8(bytes)
                .map(Arc::from)
                .map_err(|_| FsError::NotText {
                    path: display.clone(),
                })?;
        self.remember(&display, text.clone());
        Ok(text)
    }

    /// The repo-relative display form of `path` (`/` separators), as used in origins.
    pub fn display(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        let s = rel.to_string_lossy().replace('\\', "/");
        if s.is_empty() {
            ".".to_string()
        } else {
            s
        }
    }

    /// The repo-relative path of a canonical path under the root.
    pub fn relative(&self, path: &Path) -> PathBuf {
        path.strip_prefix(&self.root).unwrap_or(path).to_path_buf()
    }

    fn escapes(&self, path: &str) -> FsError {
        FsError::Escapes {
            path: path.to_string(),
            root: self.root.display().to_string(),
        }
    }
}

/// Lexically removes `.` and `..` components.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn io_error(path: &Path, e: &std::io::Error) -> FsError {
    io_error_named(&path.display().to_string(), e)
}

fn io_error_named(path: &str, e: &std::io::Error) -> FsError {
    match e.kind() {
        std::io::ErrorKind::NotFound => FsError::NotFound {
            path: path.to_string(),
        },
        _ => FsError::Io {
            path: path.to_string(),
            message: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> (tempfile::TempDir, RepoFs) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("a/b")).expect("mkdir");
        std::fs::write(dir.path().join("a/b/x.yaml"), "k: v\n").expect("write");
        let fs = RepoFs::new(dir.path()).expect("root");
        (dir, fs)
    }

    #[test]
    fn resolves_inside_and_refuses_escapes() {
        let (_d, fs) = repo();
        let p = fs.resolve(Path::new("a"), "b/x.yaml").expect("inside");
        assert_eq!(fs.display(&p), "a/b/x.yaml");
        assert!(matches!(
            fs.resolve(Path::new("a"), "../../../etc/passwd"),
            Err(FsError::Escapes { .. })
        ));
        assert!(matches!(
            fs.resolve(Path::new("a"), "/etc/passwd"),
            Err(FsError::Escapes { .. })
        ));
        assert!(matches!(
            fs.resolve(Path::new("a"), "nope.yaml"),
            Err(FsError::NotFound { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinks_out_and_loops() {
        let (d, fs) = repo();
        std::os::unix::fs::symlink("/etc", d.path().join("a/out")).expect("symlink");
        assert!(matches!(
            fs.resolve(Path::new("a"), "out/passwd"),
            Err(FsError::Escapes { .. })
        ));
        std::os::unix::fs::symlink("loop2", d.path().join("a/loop1")).expect("symlink");
        std::os::unix::fs::symlink("loop1", d.path().join("a/loop2")).expect("symlink");
        assert!(matches!(
            fs.resolve(Path::new("a"), "loop1"),
            Err(FsError::Io { .. })
        ));
    }

    #[test]
    fn refuses_binary_files() {
        let (d, fs) = repo();
        std::fs::write(d.path().join("a/bin.yaml"), [0u8, 159, 146, 150]).expect("write");
        let p = fs.resolve(Path::new("a"), "bin.yaml").expect("exists");
        assert!(matches!(fs.read_text(&p), Err(FsError::NotText { .. })));
    }
}
