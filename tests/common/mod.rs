//! Helpers shared by the tests that run over `../shared/corpus`: finding the corpus, listing
//! its cases, and reading a ratchet file of known failures.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The shared corpus, beside the repository (`../shared/corpus`) or beside a worktree
/// (`../../shared/corpus`); None when absent (callers print why they skip).
pub fn corpus() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        manifest.join("../shared/corpus"),
        manifest.join("../../shared/corpus"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
}

/// The case directories whose names start with `prefix` (`kust-`, `helm-`), sorted.
pub fn cases(corpus: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    cases.retain(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(prefix))
    });
    cases.sort();
    cases
}

/// A ratchet file under `tests/conformance/`: `case<TAB>reason` per line, `#` comments.
pub fn ratchet(file: &str) -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(file);
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once('\t') {
            Some((c, r)) => (c.to_string(), r.to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}
