//! Baselines: a committed JSON list of accepted findings, for adopting driftlint on a
//! repository with history. `driftlint baseline write` records the fingerprints
//! ([`fingerprint`]) of every current finding; `check --baseline FILE` reports only findings
//! whose fingerprint is not in it.
//!
//! The file (`.driftlint-baseline.json` by default) holds
//! `{"version": 1, "findings": [{"fingerprint", "code", "file", "message"}, ...]}`, sorted by
//! fingerprint so that rewriting it after a change gives a small Git diff; `code`, `file` and
//! the (redacted) `message` are for the humans reviewing it and are not used for matching.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::report::{fingerprint, Finding};

/// The default file name.
pub const BASELINE_FILE: &str = ".driftlint-baseline.json";
/// The format version written and accepted.
pub const BASELINE_VERSION: u32 = 1;
/// The largest baseline file read (16 MiB).
pub const MAX_BASELINE_BYTES: u64 = 16 << 20;

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    /// [`fingerprint`] of the finding: what matching uses.
    pub fingerprint: String,
    /// Its code (`PIN001`).
    pub code: String,
    /// The repo-relative file of its origin.
    pub file: String,
    /// Its message, redacted.
    pub message: String,
}

/// A baseline file's content.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Baseline {
    /// [`BASELINE_VERSION`].
    pub version: u32,
    /// The accepted findings, by fingerprint.
    pub findings: Vec<Entry>,
}

/// Why a baseline could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be read.
    #[error("{path}: {message}")]
    Read {
        /// The file as given.
        path: String,
        /// The I/O error.
        message: String,
    },
    /// The file is not a baseline of a version this driftlint reads.
    #[error("{path}: not a driftlint baseline (version {BASELINE_VERSION}): {message}")]
    Format {
        /// The file as given.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl Baseline {
    /// The baseline accepting every one of `findings` (deduplicated, sorted by fingerprint).
    pub fn of(findings: &[Finding]) -> Baseline {
        let entries: BTreeSet<Entry> = findings
            .iter()
            .map(|f| Entry {
                fingerprint: fingerprint(f),
                code: f.code.clone(),
                file: f.origin.file.to_string(),
                message: f.message.clone(),
            })
            .collect();
        let mut findings: Vec<Entry> = entries.into_iter().collect();
        findings.dedup_by(|a, b| a.fingerprint == b.fingerprint);
        Baseline {
            version: BASELINE_VERSION,
            findings,
        }
    }

    /// The file's text: pretty JSON ending with a newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Reads a baseline file (a regular file of at most [`MAX_BASELINE_BYTES`]).
    ///
    /// Errors: [`BaselineError::Read`] (missing, too large, unreadable),
    /// [`BaselineError::Format`] (not JSON of this shape, another version).
    pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
        let shown = path.display().to_string();
        let read_err = |message: String| BaselineError::Read {
            path: shown.clone(),
            message,
        };
        let meta = std::fs::metadata(path).map_err(|e| read_err(e.to_string()))?;
        if !meta.is_file() || meta.len() > MAX_BASELINE_BYTES {
            return Err(read_err(format!(
                "not a regular file of at most {} MiB",
                MAX_BASELINE_BYTES >> 20
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| read_err(e.to_string()))?;
        let format_err = |message: String| BaselineError::Format {
            path: shown.clone(),
            message,
        };
        let b: Baseline = serde_json::from_str(&text).map_err(|e| format_err(e.to_string()))?;
        if b.version != BASELINE_VERSION {
            return Err(format_err(format!("version {}", b.version)));
        }
        Ok(b)
    }

    /// Keeps the findings the baseline does not accept; returns how many it accepted.
    pub fn filter(&self, findings: &mut Vec<Finding>) -> usize {
        let accepted: BTreeSet<&str> = self
            .findings
            .iter()
            .map(|e| e.fingerprint.as_str())
            .collect();
        let before = findings.len();
        findings.retain(|f| !accepted.contains(fingerprint(f).as_str()));
        before - findings.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Severity;
    use driftlint_yaml::Origin;

    fn finding(code: &str, line: u32) -> Finding {
        Finding {
            code: code.into(),
            severity: Severity::Warning,
            message: format!("m {code}"),
            origin: Origin::new("a.yaml".into(), line, 1),
            object: None,
            target: "apps".into(),
            field: None,
        }
    }

    #[test]
    fn a_baseline_accepts_what_it_was_written_from_and_nothing_else() {
        let old = vec![finding("PIN001", 3)];
        let b = Baseline::of(&old);
        let text = b.to_json();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(BASELINE_FILE);
        std::fs::write(&path, &text).expect("write");
        let read = Baseline::read(&path).expect("reads");
        // The old finding moved down a line still matches; a new code does not.
        let mut now = vec![finding("PIN001", 7), finding("SEC001", 2)];
        assert_eq!(read.filter(&mut now), 1);
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].code, "SEC001");
    }

    #[test]
    fn other_versions_and_shapes_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("b.json");
        std::fs::write(&path, r#"{"version": 9, "findings": []}"#).expect("write");
        assert!(matches!(
            Baseline::read(&path),
            Err(BaselineError::Format { .. })
        ));
        std::fs::write(&path, "[1,2]").expect("write");
        assert!(matches!(
            Baseline::read(&path),
            Err(BaselineError::Format { .. })
        ));
    }
}
