//! Errors of the native Kustomize engine.

use std::fmt;

use driftlint_yaml::fs::FsError;
use driftlint_yaml::{Origin, YamlError};

/// Why a kustomization could not be built.
///
/// Display is one line: the kind, then the kustomization (or resource) file and line that
/// caused it, e.g. `unsupported: replacements (overlays/prod/kustomization.yaml:12)`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct KustomizeError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The file and line responsible (a kustomization entry, a patch, a resource), when known.
    pub origin: Option<Origin>,
}

/// The kinds of [`KustomizeError`].
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    /// A kustomization field the native engine does not implement (`replacements`, `vars`,
    /// `helmCharts`, ...). The target fails loudly instead of rendering differently.
    Unsupported {
        /// The field (or feature) name.
        field: String,
    },
    /// A referenced file or directory does not exist.
    Missing {
        /// The path as written in the kustomization.
        path: String,
    },
    /// A kustomization includes itself, directly or through others.
    Cycle {
        /// The chain of kustomization directories, ending with the repeated one.
        chain: Vec<String>,
    },
    /// A file is not valid YAML.
    Yaml(YamlError),
    /// A path leaves the repository root, or leaves its kustomization's directory where
    /// kustomize's load restrictor (`LoadRestrictionsRootOnly`) forbids it.
    Escapes {
        /// The path as written.
        path: String,
        /// Why it is refused.
        reason: String,
    },
    /// A remote resource (URL, `github.com/...`): never fetched.
    Remote {
        /// The reference as written.
        url: String,
    },
    /// Cloning a remote base failed (`--allow-remote`).
    Fetch {
        /// The reference as written.
        url: String,
        /// Why (git's last error line, a timeout, ...).
        message: String,
    },
    /// The build grew past its size budget (`MAX_BUILD_SIZE`): objects copied into
    /// themselves by replacements or patches, bases multiplied by overlays, huge var
    /// expansions. Kustomize would try and run out of memory.
    TooLarge {
        /// What grew, and the budget.
        message: String,
    },
    /// A `helmCharts` chart kustomize would `helm pull` (it has a `repo` and is not in
    /// `chartHome`) that the Helm renderer does not hold either (the CLI: not in its chart
    /// cache). Reported as "chart not available" (CHART001), a warning: the chart is fetched
    /// by `driftlint charts pull`, never while building.
    ChartNotAvailable {
        /// Names the chart, version, repository and the command that fetches it.
        message: String,
    },
    /// Anything else kustomize itself rejects (bad field types, id conflicts, patches that
    /// match nothing, ...).
    Invalid {
        /// What is wrong.
        message: String,
    },
}

impl KustomizeError {
    /// An error of `kind` at `origin`.
    pub fn new(kind: ErrorKind, origin: Option<Origin>) -> Self {
        KustomizeError { kind, origin }
    }

    /// An [`ErrorKind::Invalid`] error.
    pub fn invalid(message: impl Into<String>, origin: Option<&Origin>) -> Self {
        KustomizeError::new(
            ErrorKind::Invalid {
                message: message.into(),
            },
            origin.cloned(),
        )
    }

    /// An [`ErrorKind::Unsupported`] error.
    pub fn unsupported(field: impl Into<String>, origin: Option<&Origin>) -> Self {
        KustomizeError::new(
            ErrorKind::Unsupported {
                field: field.into(),
            },
            origin.cloned(),
        )
    }

    /// Converts a confined-filesystem error for `path` (as written) referenced at `origin`.
    pub fn from_fs(err: FsError, path: &str, origin: Option<&Origin>) -> Self {
        let kind = match err {
            FsError::NotFound { .. } => ErrorKind::Missing {
                path: path.to_string(),
            },
            FsError::Escapes { .. } => ErrorKind::Escapes {
                path: path.to_string(),
                reason: "leaves the repository root".to_string(),
            },
            other => ErrorKind::Invalid {
                message: other.to_string(),
            },
        };
        KustomizeError::new(kind, origin.cloned())
    }
}

/// A YAML error is located where the parser stopped: its origin is the bad file's line and
/// column (not the kustomization that referenced the file), so a finding made from it points
/// at the line to fix.
impl From<YamlError> for KustomizeError {
    fn from(e: YamlError) -> Self {
        let origin = Origin::new(e.file.clone(), e.line, e.column);
        KustomizeError::new(ErrorKind::Yaml(e), Some(origin))
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Unsupported { field } => write!(f, "unsupported: {field}"),
            ErrorKind::Missing { path } => write!(f, "missing: {path} does not exist"),
            ErrorKind::Cycle { chain } => write!(f, "cycle: {}", chain.join(" -> ")),
            ErrorKind::Yaml(e) => write!(f, "malformed YAML: {e}"),
            ErrorKind::Escapes { path, reason } => write!(f, "refused: {path} {reason}"),
            ErrorKind::Remote { url } => write!(
                f,
                "remote resources are not fetched: {url} (--allow-remote clones git bases)"
            ),
            ErrorKind::Fetch { url, message } => {
                write!(f, "fetching remote resource {url} failed: {message}")
            }
            ErrorKind::Invalid { message } => write!(f, "invalid: {message}"),
            ErrorKind::ChartNotAvailable { message } => f.write_str(message),
            ErrorKind::TooLarge { message } => write!(f, "too large: {message}"),
        }
    }
}

impl fmt::Display for KustomizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        match (&self.origin, &self.kind) {
            (_, ErrorKind::Yaml(_)) | (None, _) => Ok(()),
            (Some(o), _) => write!(f, " ({}:{})", o.file, o.line),
        }
    }
}

/// Result alias for the engine.
pub type Result<T> = std::result::Result<T, KustomizeError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_with_file_and_line() {
        let o = Origin::new("overlays/prod/kustomization.yaml".into(), 12, 1);
        let e = KustomizeError::unsupported("replacements", Some(&o));
        assert_eq!(
            e.to_string(),
            "unsupported: replacements (overlays/prod/kustomization.yaml:12)"
        );
        let y = YamlError {
            file: "a.yaml".into(),
            line: 3,
            column: 4,
            message: "bad".into(),
        };
        let e = KustomizeError::from(y);
        assert_eq!(e.to_string(), "malformed YAML: a.yaml:3:4: bad");
        assert_eq!(
            e.origin.map(|o| o.to_string()).as_deref(),
            Some("a.yaml:3:4")
        );
    }
}
