//! Shared helpers of the driftlint fuzz targets: turning a fuzz input into a small repository
//! on disk and building it with the native Kustomize engine.

use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use driftlint_yaml::fs::RepoFs;
use driftlint_kustomize::{build, render_yaml, BuildOptions};
use driftlint_schema::Catalog;
use driftlint_yaml::parse_documents;

/// Separator between the parts of a multi-file fuzz input.
pub const SEP: u8 = 0;

/// Most parts (files) taken from one input; the rest is ignored.
const MAX_PARTS: usize = 16;

/// The newest schema catalog, built once per process (strategic merge uses its merge keys).
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::newest().expect("embedded schema catalog"))
}

/// A fresh, empty scratch repository for this process (under /dev/shm when present).
pub fn scratch_repo() -> PathBuf {
    let base = Path::new("/dev/shm");
    let base = if base.is_dir() {
        base.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("driftlint-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// A repo-relative path from fuzz bytes: `/`-separated components of `[A-Za-z0-9._-]`
/// (no `.`/`..`, at most 6 components, 80 bytes), or `None`.
pub fn safe_rel_path(bytes: &[u8]) -> Option<PathBuf> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    if text.is_empty() || text.len() > 80 {
        return None;
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/');
    if !text.chars().all(ok) || text.starts_with('/') {
        return None;
    }
    let path = PathBuf::from(text);
    let normal = path.components().all(|c| matches!(c, Component::Normal(_)));
    (normal && path.components().count() <= 6).then_some(path)
}

/// Splits `data` on [`SEP`] into at most `MAX_PARTS` parts.
pub fn parts(data: &[u8]) -> Vec<&[u8]> {
    data.split(|b| *b == SEP).take(MAX_PARTS).collect()
}

/// Splits a part into its first line (a path) and the rest (the file content).
pub fn path_and_body(part: &[u8]) -> (&[u8], &[u8]) {
    match part.iter().position(|b| *b == b'\n') {
        Some(i) => (&part[..i], &part[i + 1..]),
        None => (part, &[]),
    }
}

/// Writes `body` to `root/rel`, creating parent directories; errors (a path that is
/// already a directory, ...) are ignored: the build then sees whatever is there.
pub fn write(root: &Path, rel: &Path, body: &[u8]) {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let _ = std::fs::write(path, body);
}

/// Whether `DRIFTLINT_FUZZ_STRICT` is set: then [`build_and_render`] also checks that a
/// second build renders the same bytes and that the rendered YAML parses again.
fn strict() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("DRIFTLINT_FUZZ_STRICT").is_some())
}

/// Builds the kustomization in `root/dir` with the schema catalog and renders it; any
/// error is fine, a panic is the bug the fuzzers look for. In strict mode (see [`strict`])
/// a nondeterministic rendering or one that does not parse back also aborts.
pub fn build_and_render(root: &Path, dir: &Path) {
    let Ok(fs) = RepoFs::new(root) else {
        return;
    };
    let opts = BuildOptions {
        merge_info: Some(catalog()),
        ..Default::default()
    };
    let render = || build(&fs, dir, &opts).map(|out| render_yaml(&out.objects));
    let Ok(yaml) = render() else {
        return;
    };
    if strict() {
        let again = render().map_err(|e| e.to_string());
        assert_eq!(again.as_deref(), Ok(yaml.as_str()), "second build differs");
        if let Err(e) = parse_documents("rendered.yaml".into(), &yaml) {
            panic!("rendered YAML does not parse: {e}\n{yaml}");
        }
    }
}
