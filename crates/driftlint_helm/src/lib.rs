//! Helm charts and `helm template`, matching Helm v4.1.4: chart loading ([`load`]), values
//! ([`values`]), dependencies (`condition`/`tags`/`alias`, library charts), built-in objects
//! ([`objects`]), rendering with our Go template engine ([`render`]) and Helm's manifest
//! splitting, install-order sort and output format ([`output`]).
//!
//! ```no_run
//! use driftlint_helm::{template, TemplateOptions};
//! let fs = driftlint_yaml::fs::RepoFs::new(std::path::Path::new(".")).unwrap();
//! let opts = TemplateOptions { release_name: "rel".into(), ..TemplateOptions::default() };
//! let out = template(&fs, std::path::Path::new("charts/app"), &opts).unwrap();
//! print!("{}", out.manifest);
//! ```

pub mod cli;
pub mod funcs;
pub mod load;
pub mod objects;
pub mod output;
pub mod render;
pub mod schema;
pub mod semver;
pub mod traced;
mod tracer;
pub mod values;

use std::path::{Path, PathBuf};

use driftlint_yaml::fs::{FsError, RepoFs};
use driftlint_yaml::Origin;

pub use cli::{parse_template_args, TemplateArgs};
pub use load::{load_chart, Chart};
pub use traced::{
    render_chart_objects, render_chart_text_and_objects, render_objects, TracedManifest,
};
pub use values::SetKind;

/// Why a chart could not be templated. `Display` is the text Helm prints after `Error: `.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HelmError {
    /// A confined read failed.
    #[error(transparent)]
    Fs(#[from] FsError),
    /// Another I/O failure.
    #[error("{0}")]
    Io(String),
    /// The chart or a values file is invalid.
    #[error("{0}")]
    Load(String),
    /// Input Helm accepts that this implementation does not support.
    #[error("{0}")]
    Unsupported(String),
    /// Declared dependencies missing from `charts/` (checked before rendering, as Helm).
    #[error("an error occurred while checking for chart dependencies. You may need to run `helm dependency build` to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: {0}")]
    MissingDependencies(String),
    /// A failure inside Helm's install action (kubeVersion, template errors without a
    /// location); Helm's `template` command follows these with the `--debug` hint.
    #[error("{0}")]
    Render(String),
    /// A template failed to parse or execute (including an exceeded budget or depth limit), or
    /// its output is not YAML. `message` is Helm's text; `origin` is where the engine was
    /// (never parsed back out of the message, which template text can forge).
    #[error("{message}")]
    Template {
        /// Helm's message (`execution error at (...)`, `parse error at (...)`, Go's text).
        message: String,
        /// The template file (repo-relative, as loaded) and 1-based line and column.
        origin: Option<Origin>,
    },
    /// `values.schema.json` validation failed. `pointer` is the JSON pointer (from the root
    /// chart's values) of the first offending value.
    #[error("{message}")]
    Schema {
        /// Helm's report (`values don't meet the specifications of the schema(s) ...`).
        message: String,
        /// JSON pointer of the first offending value, relative to the root chart's values.
        pointer: Option<String>,
    },
    /// A chart file the loader refuses: not a regular file or directory, not UTF-8 text, or
    /// over the unpacking budget ([`load::MAX_UNPACKED_BYTES`]). `origin` is that file (for a
    /// file inside a packaged chart, the path through the archive) at the offending line.
    #[error("{message}")]
    BadFile {
        /// What is wrong, naming the file.
        message: String,
        /// The file and line.
        origin: Origin,
    },
}

impl HelmError {
    /// Whether `helm template` appends `Use --debug flag to render out invalid YAML`.
    pub fn wants_debug_hint(&self) -> bool {
        matches!(self, HelmError::Render(_) | HelmError::Template { .. })
    }

    /// Where the engine located the failure: a template's line, a refused file; `None` for
    /// failures without a place in the chart.
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            HelmError::Template { origin, .. } => origin.as_ref(),
            HelmError::BadFile { origin, .. } => Some(origin),
            _ => None,
        }
    }
}

/// `helm template` options (the flags of Helm v4.1.4's `template` command we support).
#[derive(Clone, Debug)]
pub struct TemplateOptions {
    /// Release name (`NAME`, `--release-name`); Helm's default is `release-name`.
    pub release_name: String,
    /// `-n/--namespace` (default `default`).
    pub namespace: String,
    /// Values documents given in memory (YAML trees whose nodes keep their origins), applied
    /// in order before `value_files`, each as if it were a `-f` file holding that document
    /// (a null document is an empty map). Kustomize's `helmCharts` passes the values it merged
    /// from `valuesFile` and `valuesInline` this way.
    pub values_docs: Vec<driftlint_yaml::Node>,
    /// `-f/--values` files, repo-relative, applied in order.
    pub value_files: Vec<PathBuf>,
    /// `--set`, `--set-string`, `--set-json` arguments, in command-line order per kind as
    /// Helm applies them (json, then set, then string).
    pub sets: Vec<(SetKind, String)>,
    /// `--set-file key=path` arguments (repo-relative paths).
    pub set_files: Vec<String>,
    /// `--set-literal key=value` arguments (the value taken verbatim, no escapes or commas).
    pub set_literals: Vec<String>,
    /// `--kube-version` (default: Helm's built-in `v1.35.0`).
    pub kube_version: Option<String>,
    /// `-a/--api-versions`, added to the built-in set.
    pub api_versions: Vec<String>,
    /// `--include-crds`.
    pub include_crds: bool,
    /// `--skip-tests`.
    pub skip_tests: bool,
    /// `--no-hooks`.
    pub no_hooks: bool,
    /// `-s/--show-only` template paths (chart-relative, e.g. `templates/x.yaml`).
    pub show_only: Vec<String>,
    /// `--is-upgrade` (`.Release.IsUpgrade`).
    pub is_upgrade: bool,
    /// `--skip-schema-validation`.
    pub skip_schema_validation: bool,
    /// Seed for Sprig's random functions (`randAlphaNum`, `uuidv4`, ...; see
    /// [`gotmpl::sprig::FuncOptions::random_seed`]). `None`, the default and what
    /// `helm template` does, draws from the OS; `driftlint check` sets one so that its findings
    /// (object names such as podinfo's `podinfo-jwt-test-{{ randAlphaNum 5 }}`) are the same
    /// bytes run after run.
    pub random_seed: Option<u64>,
}

impl Default for TemplateOptions {
    fn default() -> Self {
        TemplateOptions {
            release_name: "release-name".into(),
            namespace: "default".into(),
            values_docs: Vec::new(),
            value_files: Vec::new(),
            sets: Vec::new(),
            set_files: Vec::new(),
            set_literals: Vec::new(),
            kube_version: None,
            api_versions: Vec::new(),
            include_crds: false,
            skip_tests: false,
            no_hooks: false,
            show_only: Vec::new(),
            is_upgrade: false,
            skip_schema_validation: false,
            random_seed: None,
        }
    }
}

/// What `helm template` prints: stdout and the warnings it logs to stderr.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    /// stdout: `---\n# Source: PATH\nDOC\n` per manifest.
    pub manifest: String,
    /// stderr lines (e.g. `level=WARN msg="this chart is deprecated"`).
    pub warnings: Vec<String>,
}

/// Renders the chart in `chart_dir` (repo-relative) as `helm template` does, in Helm's order:
/// values, chart load, installability and dependency checks, dependency processing,
/// `kubeVersion`, values coalescing and schema validation, rendering, sorting, output.
///
/// Errors: [`HelmError`], whose `Display` is Helm's message.
pub fn template(
    fs: &RepoFs,
    chart_dir: &Path,
    opts: &TemplateOptions,
) -> Result<Rendered, HelmError> {
    template_chart(fs, locate_and_load(fs, chart_dir)?, opts)
}

/// [`template`] for a chart already loaded (a packaged chart from the chart cache, through
/// [`load::load_archive`]); values files in `opts` are still read through `fs`.
///
/// Errors: as [`template`].
pub fn template_chart(
    fs: &RepoFs,
    chart: Chart,
    opts: &TemplateOptions,
) -> Result<Rendered, HelmError> {
    let user = render::user_values(fs, opts)?;
    let mut warnings = Vec::new();
    if !(chart.chart_type.is_empty() || chart.chart_type == "application") {
        return Err(HelmError::Load(format!(
            "{} charts are not installable",
            chart.chart_type
        )));
    }
    if chart.meta.get("deprecated").and_then(|d| d.as_bool()) == Some(true) {
        warnings.push("level=WARN msg=\"this chart is deprecated\"".to_string());
    }
    render::check_dependencies(&chart)?;
    let manifest =
        gotmpl::with_exec_stack(|| render::run(chart, user, opts)).map_err(HelmError::Load)??;
    Ok(Rendered { manifest, warnings })
}

/// The chart at `chart_dir` (repo-relative: a chart folder or a packaged `.tgz`), loaded as
/// [`template`] loads it. Errors: as [`template`] words them for a missing path.
pub fn load_located(fs: &RepoFs, chart_dir: &Path) -> Result<Chart, HelmError> {
    locate_and_load(fs, chart_dir)
}

/// Helm's `LocateChart` + `loader.Load` for local charts: a directory, or a packaged `.tgz`.
/// Errors as Helm words them for a missing path (`path "./x" not found`, `repo a not found`,
/// `non-absolute URLs should be in form of repo_name/path_to_chart, got: x`).
pub(crate) fn locate_and_load(fs: &RepoFs, chart: &Path) -> Result<Chart, HelmError> {
    let given = chart.to_string_lossy().to_string();
    let abs = match fs.resolve(Path::new(""), &given) {
        Ok(p) => p,
        Err(FsError::NotFound { .. }) | Err(FsError::Io { .. }) => {
            let msg = if given.starts_with("./") || given.starts_with("../") || chart.is_absolute()
            {
                format!("path {given:?} not found")
            } else if let Some((repo, _)) = given.split_once('/') {
                format!("repo {repo} not found")
            } else {
                format!(
                    "non-absolute URLs should be in form of repo_name/path_to_chart, got: {given}"
                )
            };
            return Err(HelmError::Load(msg));
        }
        Err(e) => return Err(e.into()),
    };
    if abs.is_dir() {
        return load_chart(fs, chart);
    }
    let display = fs.display(&abs);
    if !abs.is_file() {
        return Err(HelmError::BadFile {
            message: format!("{display}: not a regular file or directory"),
            origin: Origin::new(std::sync::Arc::from(display.as_str()), 1, 1),
        });
    }
    let bytes = std::fs::read(&abs).map_err(|e| HelmError::Io(format!("{display}: {e}")))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return load::load_archive(&display, &bytes);
    }
    Err(HelmError::Load(format!(
        "file '{display}' does not appear to be a gzipped archive"
    )))
}
