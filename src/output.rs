//! Writing reports: `--output FILE`, `--markdown-summary FILE`, `init`'s `.driftlint.yaml`,
//! and stdout.
//!
//! driftlint runs on pull requests from untrusted people, inside their checkout: a file named
//! like the report (`driftlint.sarif`, the Action's default) may be a symbolic link they
//! committed, pointing anywhere the CI user can write. Files are therefore opened with
//! `O_NOFOLLOW`: when the last component of the path is a symbolic link, nothing is written and
//! the write fails with [`OutputError::Symlink`]. (Directories above it are the operator's
//! choice and are followed.) Only the final component is checked; on platforms without
//! `O_NOFOLLOW` a symbolic link is detected with `symlink_metadata` before opening.
//!
//! Writes to stdout tell a closed pipe ([`OutputError::BrokenPipe`], e.g. `| head -c1`) from
//! other failures such as a full disk ([`OutputError::Io`]), so the command line can end
//! quietly on the first and report the second.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The path names a symbolic link: refused, nothing written.
    #[error("{path}: refusing to write through a symbolic link")]
    Symlink {
        /// The path as given.
        path: PathBuf,
    },
    /// The file already exists and overwriting was not asked for.
    #[error("{path}: already exists")]
    Exists {
        /// The path as given.
        path: PathBuf,
    },
    /// The reader of stdout went away (a closed pipe).
    #[error("stdout: broken pipe")]
    BrokenPipe,
    /// Any other I/O error (full disk, permissions, not a regular file...).
    #[error("{}: {source}", path.display())]
    Io {
        /// The path as given (`<stdout>` for stdout).
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// How [`write_file`] opens the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Create or truncate (`--output`).
    Replace,
    /// Create or append (`--markdown-summary`).
    Append,
    /// Create; an existing file is an error (`init` without `--force`).
    CreateNew,
}

/// Writes `bytes` to `path`, replacing its content; refuses a symbolic link.
///
/// Errors: [`OutputError::Symlink`] when `path` is a symbolic link (nothing written),
/// [`OutputError::Io`] for any other failure.
pub fn write_report(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    write_file(path, bytes, Mode::Replace)
}

/// Appends `bytes` to `path` (created if missing); refuses a symbolic link.
///
/// Errors: as [`write_report`].
pub fn append_report(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    write_file(path, bytes, Mode::Append)
}

/// Writes `bytes` to `path` as `mode` says, never through a symbolic link.
///
/// Errors: [`OutputError::Symlink`], [`OutputError::Exists`] (with [`Mode::CreateNew`]),
/// [`OutputError::Io`].
pub fn write_file(path: &Path, bytes: &[u8], mode: Mode) -> Result<(), OutputError> {
    let io = |source: std::io::Error| OutputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = open_no_follow(path, mode).map_err(|e| {
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        if is_link {
            OutputError::Symlink {
                path: path.to_path_buf(),
            }
        } else if e.kind() == ErrorKind::AlreadyExists {
            OutputError::Exists {
                path: path.to_path_buf(),
            }
        } else {
            io(e)
        }
    })?;
    // A regular file is truncated; a device (`--output /dev/null`) is written as it is.
    if mode == Mode::Replace && file.metadata().map_err(io)?.is_file() {
        file.set_len(0).map_err(io)?;
    }
    file.write_all(bytes).map_err(io)?;
    file.flush().map_err(io)
}

#[cfg(unix)]
fn open_no_follow(path: &Path, mode: Mode) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = OpenOptions::new();
    opts.custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .mode(0o644);
    match mode {
        // Truncation waits until the file is known to be a regular file (a device is not
        // truncated); O_NONBLOCK keeps a FIFO without a reader from blocking the open.
        Mode::Replace => opts.write(true).create(true),
        Mode::Append => opts.append(true).create(true),
        Mode::CreateNew => opts.write(true).create_new(true),
    };
    let file = opts.open(path)?;
    clear_nonblock(&file);
    Ok(file)
}

#[cfg(unix)]
fn clear_nonblock(file: &File) {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this function's caller owns, with integer arguments only.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path, mode: Mode) -> std::io::Result<File> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(std::io::Error::other("symbolic link"));
    }
    let mut opts = OpenOptions::new();
    match mode {
        Mode::Replace => opts.write(true).create(true),
        Mode::Append => opts.append(true).create(true),
        Mode::CreateNew => opts.write(true).create_new(true),
    };
    opts.open(path)
}

/// Writes `bytes` to stdout and flushes.
///
/// Errors: [`OutputError::BrokenPipe`] when the reader has gone away, [`OutputError::Io`]
/// (path `<stdout>`) for anything else, such as a full disk.
pub fn write_stdout(bytes: &[u8]) -> Result<(), OutputError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            ErrorKind::BrokenPipe => OutputError::BrokenPipe,
            _ => OutputError::Io {
                path: PathBuf::from("<stdout>"),
                source: e,
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replaces_and_appends() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("r.sarif");
        write_report(&p, b"long first content").expect("write");
        write_report(&p, b"second").expect("replace");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "second");
        append_report(&p, b"+more").expect("append");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "second+more");
        assert!(matches!(
            write_file(&p, b"x", Mode::CreateNew),
            Err(OutputError::Exists { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinks_in_every_mode() {
        let d = tempfile::tempdir().expect("tempdir");
        let victim = d.path().join("victim");
        std::fs::write(&victim, "precious").expect("write");
        let link = d.path().join("driftlint.sarif");
        std::os::unix::fs::symlink(&victim, &link).expect("symlink");
        let dangling = d.path().join("dangling.sarif");
        std::os::unix::fs::symlink(d.path().join("new-victim"), &dangling).expect("symlink");
        for mode in [Mode::Replace, Mode::Append, Mode::CreateNew] {
            for path in [&link, &dangling] {
                let e = write_file(path, b"evil", mode).unwrap_err();
                assert!(matches!(e, OutputError::Symlink { .. }), "{mode:?}: {e}");
            }
        }
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
        assert!(!d.path().join("new-victim").exists());
    }

    #[test]
    fn a_directory_is_an_error_a_device_is_written() {
        let d = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            write_report(d.path(), b"x"),
            Err(OutputError::Io { .. })
        ));
        #[cfg(unix)]
        write_report(Path::new("/dev/null"), b"x").expect("/dev/null");
    }
}
