//! driftlint: render, validate, lint and drift-check Kubernetes GitOps repositories.
//!
//! This crate is the command line's library: [`config`] reads `.driftlint.yaml`, [`discover`]
//! finds targets, [`check`] renders them (with `driftlint_kustomize` and `driftlint_helm`),
//! validates the objects (`driftlint_schema`), lints them (`driftlint_rules`) and collects the
//! findings, [`drift_run`] compares them with a cluster (`driftlint_drift`), [`diff`] compares
//! them with a Git revision (`driftlint diff`, `check --new-only`), [`baseline`] reads and
//! writes accepted findings, [`report`] formats the findings and [`output`] writes report files. The README's crate map shows the layers.
//!
//! ```no_run
//! let yaml = driftlint::render_dir(std::path::Path::new("deploy/overlays/prod")).unwrap();
//! print!("{yaml}");
//! ```

pub mod apply_graph;
pub mod apply_units;
pub(crate) mod argocd;
pub mod baseline;
pub(crate) mod cached_chart;
pub mod charts;
pub mod check;
pub mod config;
pub mod config_schema;
pub mod diff;
pub mod discover;
#[cfg(feature = "cluster")]
pub mod drift_run;
pub(crate) mod flux;
pub mod helmfile;
pub(crate) mod helmrelease;
pub mod kustomize_helm;
pub mod output;
pub mod report;

use std::path::Path;

/// Renders the kustomization in `dir` natively and returns the YAML `kubectl kustomize DIR`
/// prints. The repository root (for confinement and origins) is the nearest ancestor holding
/// `.git`, else `dir` itself; strategic merge uses the newest bundled schemas.
///
/// Errors: a one-line message naming the problem and its file:line (missing path,
/// unsupported field, missing resource, cycle, malformed YAML...).
pub fn render_dir(dir: &Path) -> Result<String, String> {
    render_dir_with(dir, &RenderOptions::default())
}

/// How [`render_dir_with`] renders.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    /// Print each scalar's origin (`file:line:column (via)`) as a trailing comment
    /// (`driftlint render --origins`); the values are unchanged.
    pub origins: bool,
    /// Clone remote bases with the system `git` into the cache (`--allow-remote`).
    pub allow_remote: bool,
}

/// [`render_dir`] with options: `origins` annotates every scalar with where it came from;
/// `allow_remote` clones remote bases.
///
/// Errors: as [`render_dir`].
pub fn render_dir_with(dir: &Path, options: &RenderOptions) -> Result<String, String> {
    let root = check::find_root(dir).map_err(|e| e.to_string())?;
    let fs = driftlint_yaml::fs::RepoFs::new(&root).map_err(|e| e.to_string())?;
    let abs = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let rel = fs.relative(&abs);
    let catalog = driftlint_schema::Catalog::newest().map_err(|e| e.to_string())?;
    let cache = driftlint_charts::ChartCache::default_root().map(driftlint_charts::ChartCache::new);
    let native_helm = kustomize_helm::NativeHelm::new(cache);
    let opts = driftlint_kustomize::BuildOptions {
        merge_info: Some(&catalog),
        allow_remote: options.allow_remote,
        remote_cache: None,
        flux: None,
        argo: None,
        helm: Some(&native_helm),
    };
    let build = driftlint_kustomize::build(&fs, &rel, &opts).map_err(|e| e.to_string())?;
    for w in &build.warnings {
        eprintln!("{w}");
    }
    Ok(if options.origins {
        driftlint_kustomize::render_yaml_with_origins(&build.objects)
    } else {
        driftlint_kustomize::render_yaml(&build.objects)
    })
}
