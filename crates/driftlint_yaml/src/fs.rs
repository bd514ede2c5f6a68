//! Confined, read-only access to the repository being checked.
//!
//! Every file read by discovery and the renderers goes through [`RepoFs`], which refuses paths
//! that leave the repository root (`../../etc/passwd`, absolute paths, symlinks pointing out),
//! files larger than [`MAX_FILE_BYTES`], and files that are not UTF-8 text.
//!
//! Hostile repositories: anything that is not a regular file (a FIFO, socket or device named
//! as a resource, a chart file or `.driftlint.yaml`) is refused as [`FsError::NotRegular`]
//! *before* it is opened, since opening a FIFO blocks. The file is then opened without
//! following a symbolic link in its last component and without blocking (`O_NOFOLLOW |
//! O_NONBLOCK`), its type checked again on the open handle, and (on Linux) the handle's real
//! path checked to be inside the root, so a file swapped for a symlink or FIFO between the
//! check and the open cannot escape or hang the run. At most [`MAX_FILE_BYTES`] + 1 bytes
//! are read from the handle: the size in the metadata is not trusted (`/proc` files say 0).

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
    /// Not a regular file: a FIFO, socket, device or directory (or a symlink swapped in
    /// after the path was resolved).
    #[error("{path}: not a regular file")]
    NotRegular { path: String },
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
    /// Canonical forms of the directories resolved so far, so each directory is
    /// canonicalized once per run instead of once per file under it (a pre-commit run
    /// resolves thousands of files; `realpath` reads every ancestor's links each time).
    dirs: Arc<Mutex<HashMap<PathBuf, PathBuf>>>,
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
            dirs: Arc::default(),
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
        let canonical = self
            .canonical(&joined)
            .map_err(|e| io_error_named(&display, &e))?;
        if !canonical.starts_with(&self.root) {
            return Err(self.escapes(&display));
        }
        Ok(canonical)
    }

    /// `path.canonicalize()`, with the canonical form of its directory taken from (and
    /// recorded in) the cache: the directory's canonical form joined with the last component,
    /// which is itself canonicalized only when it is a symbolic link.
    fn canonical(&self, path: &Path) -> std::io::Result<PathBuf> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return path.canonicalize();
        };
        let dir = self.canonical_dir(parent)?;
        let candidate = dir.join(name);
        let meta = std::fs::symlink_metadata(&candidate)?;
        if meta.file_type().is_symlink() {
            return candidate.canonicalize();
        }
        if meta.is_dir() {
            if let Ok(mut dirs) = self.dirs.lock() {
                dirs.insert(path.to_path_buf(), candidate.clone());
            }
        }
        Ok(candidate)
    }

    fn canonical_dir(&self, dir: &Path) -> std::io::Result<PathBuf> {
        if let Some(known) = self.dirs.lock().ok().and_then(|d| d.get(dir).cloned()) {
            return Ok(known);
        }
        let canonical = dir.canonicalize()?;
        if let Ok(mut dirs) = self.dirs.lock() {
            dirs.insert(dir.to_path_buf(), canonical.clone());
        }
        Ok(canonical)
    }

    /// Reads a text file at a canonical path returned by [`RepoFs::resolve`] (or any path under
    /// the root).
    ///
    /// Errors: [`FsError::NotRegular`] (checked before opening), [`FsError::TooLarge`],
    /// [`FsError::NotText`], [`FsError::Escapes`], I/O errors.
    pub fn read_text(&self, path: &Path) -> Result<Arc<str>, FsError> {
        self.read_text_at_most(path, MAX_FILE_BYTES)
    }

    /// [`RepoFs::read_text`] with a smaller size limit (`limit` bytes, capped at
    /// [`MAX_FILE_BYTES`]), for files that are small when they are what they claim to be
    /// (`.git/config`).
    ///
    /// Errors: as [`RepoFs::read_text`]; [`FsError::TooLarge`] above `limit`.
    pub fn read_text_at_most(&self, path: &Path, limit: u64) -> Result<Arc<str>, FsError> {
        let display = self.display(path);
        let canonical = self
            .canonical(path)
            .map_err(|e| io_error_named(&display, &e))?;
        if !canonical.starts_with(&self.root) {
            return Err(self.escapes(&display));
        }
        let file = open_regular(&canonical, &display)?;
        #[cfg(target_os = "linux")]
        if let Some(real) = opened_path(&file) {
            if !real.starts_with(&self.root) {
                return Err(self.escapes(&display));
            }
        }
        let bytes = read_limited(file, &display, limit.min(MAX_FILE_BYTES))?;
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

/// Opens `path` for reading if it is a regular file, without blocking or following a
/// symlink in its last component; `display` names it in errors.
///
/// The type is checked with `symlink_metadata` before the open (opening a FIFO blocks until a
/// writer comes) and again on the handle (the path may have been swapped meanwhile; the
/// non-blocking open makes that swap harmless).
///
/// Errors: [`FsError::NotRegular`] for anything but a regular file (a symlink included),
/// [`FsError::NotFound`], [`FsError::Io`].
pub fn open_regular(path: &Path, display: &str) -> Result<std::fs::File, FsError> {
    let not_regular = || FsError::NotRegular {
        path: display.to_string(),
    };
    let meta = std::fs::symlink_metadata(path).map_err(|e| io_error_named(display, &e))?;
    if !meta.file_type().is_file() {
        return Err(not_regular());
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = match options.open(path) {
        Ok(f) => f,
        // O_NOFOLLOW on a symlink swapped in after the check.
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(not_regular()),
        Err(e) => return Err(io_error_named(display, &e)),
    };
    let meta = file.metadata().map_err(|e| io_error_named(display, &e))?;
    if !meta.file_type().is_file() {
        return Err(not_regular());
    }
    Ok(file)
}

/// Reads at most `limit` bytes from `file`, counting what is read (a size of 0 in the
/// metadata, as `/proc` files report, is not trusted); `display` names it in errors.
///
/// Errors: [`FsError::TooLarge`] when the metadata or the read exceed `limit`,
/// [`FsError::Io`].
pub fn read_limited(file: std::fs::File, display: &str, limit: u64) -> Result<Vec<u8>, FsError> {
    use std::io::Read;
    let stated = file.metadata().map(|m| m.len()).unwrap_or(0);
    let too_large = |size: u64| FsError::TooLarge {
        path: display.to_string(),
        size,
        limit,
    };
    if stated > limit {
        return Err(too_large(stated));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(stated).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| io_error_named(display, &e))?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > limit {
        return Err(too_large(read.max(stated)));
    }
    Ok(bytes)
}

/// The path the kernel has for an open file (`/proc/self/fd/N`); None without `/proc`.
#[cfg(target_os = "linux")]
fn opened_path(file: &std::fs::File) -> Option<PathBuf> {
    use std::os::fd::AsRawFd;
    std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()
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

    /// Runs `f` on another thread; fails instead of hanging when it blocks.
    #[cfg(unix)]
    fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("the read blocked: it must refuse without opening")
    }

    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        let st = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("mkfifo runs");
        assert!(st.success(), "mkfifo {}", path.display());
    }

    #[cfg(unix)]
    #[test]
    fn refuses_fifos_without_opening_them() {
        let (d, fs) = repo();
        mkfifo(&d.path().join("a/pipe.yaml"));
        let p = fs.resolve(Path::new("a"), "pipe.yaml").expect("exists");
        let r = within(move || fs.read_text(&p));
        assert_eq!(
            r,
            Err(FsError::NotRegular {
                path: "a/pipe.yaml".into()
            })
        );
        assert_eq!(
            r.expect_err("refused").to_string(),
            "a/pipe.yaml: not a regular file"
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_directories_sockets_and_devices() {
        let (d, fs) = repo();
        let _sock =
            std::os::unix::net::UnixListener::bind(d.path().join("a/sock.yaml")).expect("socket");
        for p in [d.path().join("a"), d.path().join("a/sock.yaml")] {
            assert!(
                matches!(fs.read_text(&p), Err(FsError::NotRegular { .. })),
                "{}",
                p.display()
            );
        }
        // A device, reached through a symlink to outside the root, is refused as an escape;
        // opened directly (as the helper may be), it is not a regular file.
        std::os::unix::fs::symlink("/dev/zero", d.path().join("a/zero.yaml")).expect("symlink");
        let p = d.path().join("a/zero.yaml");
        assert!(matches!(fs.read_text(&p), Err(FsError::Escapes { .. })));
        let r = within(|| open_regular(Path::new("/dev/zero"), "zero").map(|_| ()));
        assert!(matches!(r, Err(FsError::NotRegular { .. })), "{r:?}");
    }

    #[cfg(unix)]
    #[test]
    fn open_regular_does_not_follow_a_final_symlink() {
        let (d, _fs) = repo();
        let link = d.path().join("a/link.yaml");
        std::os::unix::fs::symlink("b/x.yaml", &link).expect("symlink");
        assert!(matches!(
            open_regular(&link, "a/link.yaml"),
            Err(FsError::NotRegular { .. })
        ));
        assert!(open_regular(&d.path().join("a/b/x.yaml"), "x").is_ok());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn counts_the_bytes_read_not_the_stated_size() {
        // /proc files state a size of 0.
        let file = std::fs::File::open("/proc/self/status").expect("proc");
        assert_eq!(file.metadata().expect("meta").len(), 0);
        let r = read_limited(file, "status", 16);
        assert!(
            matches!(
                r,
                Err(FsError::TooLarge {
                    size: 17,
                    limit: 16,
                    ..
                })
            ),
            "{r:?}"
        );
        let (d, _fs) = repo();
        let file = std::fs::File::open(d.path().join("a/b/x.yaml")).expect("open");
        assert_eq!(read_limited(file, "x", 5).expect("fits"), b"k: v\n");
    }
}
