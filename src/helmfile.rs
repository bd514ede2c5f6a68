//! Helmfile releases as apply units, rendered as `helmfile template` renders them.
//!
//! State files (`helmfile.yaml`, `helmfile.yaml.gotmpl`, `helmfile.yml`, and every
//! `.yaml`/`.yml`/`.gotmpl` file of a `helmfile.d/` folder) are loaded as helmfile loads them
//! (`state`: multi-part layering, environments, `bases:`, nested `helmfiles:` with values and
//! selectors, Go templates with helmfile's functions (`funcs`), HCL environment values (`hcl`)). A state file another one
//! loads (as a base or a nested helmfile) is not a root of its own. Each release that
//! `helmfile template` would render (not `installed: false`, `condition:` true) is one unit:
//! its local chart rendered by the native Helm engine with the release's values documents
//! (origins kept: a finding points at the values file or helmfile line that set the value),
//! `set:`/`setString:`, its namespace and the checked Kubernetes version. A chart from a chart
//! repository (`repo/chart` through `repositories:`, `oci: true` ones included) or an OCI
//! registry (`oci://`) is read from the chart cache (`driftlint charts pull` fills it:
//! `chart_requests`); one the cache lacks, or a Git/URL chart, is CHART001 (a warning), the
//! release not rendered. `strategicMergePatches` and `jsonPatches` are applied to the rendered objects as
//! helmfile's chartify does (`chartify`). What helmfile would render differently and
//! driftlint does not support (`transformers`, `exec`, remote helmfiles, ...) is a
//! RENDER002 error at its line, never a quietly different rendering.
//!
//! Upstream: helmfile v1 `pkg/app/desired_state_file_loader.go`, `pkg/state/state.go`,
//! `pkg/state/release.go`, `pkg/tmpl/context_funcs.go`.

pub(crate) mod chartify;
pub(crate) mod funcs;
pub(crate) mod hcl;
pub(crate) mod state;
pub(crate) mod values;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::cached_chart::{CachedChart, Lookup};
use crate::check::Rendered;
use crate::discover::{Kind, Target, UnitRef};
use crate::report::{Finding, Severity};
use driftlint_charts::{ChartCache, ChartLocator, ChartRequest, Wanted};
use driftlint_helm::{render_objects, HelmError, TemplateOptions};
use driftlint_kustomize::BuildOptions;
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{Node, Origin};
use state::{HfError, LoadOptions, Loader, Release};

/// The code of a release whose chart is not available offline.
pub const CHART_NOT_AVAILABLE: &str = "CHART001";

/// How state files are loaded and rendered: helmfile's global flags.
#[derive(Debug, Clone, Default)]
pub struct HelmfileOptions {
    /// `--environment` (empty: `default`).
    pub environment: String,
    /// The environment variables `env`/`requiredEnv` may read (name → value).
    pub vars: BTreeMap<String, String>,
    /// `--state-values-file` contents: values every root state gets (lists replace).
    pub state_values: serde_json::Map<String, serde_json::Value>,
    /// `--state-values-set KEY=VALUE` arguments, in order (applied after `state_values`;
    /// lists merge element by element).
    pub state_values_set: Vec<String>,
    /// `--namespace`: the namespace of releases that set none.
    pub namespace: Option<String>,
    /// `helmfile template --set KEY=VALUE`: given to every release after its own values.
    pub set: Vec<String>,
    /// `helmfile template --values FILE`: repo-relative values files given to every release
    /// after its own values (before `set`).
    pub values: Vec<PathBuf>,
    /// The Kubernetes version charts are rendered for (`1.33`; `None`: Helm's default).
    pub kube_version: Option<String>,
    /// The chart cache `repo/chart` and `oci://` releases' charts are read from (`None`:
    /// every such release is CHART001). Nothing is downloaded.
    pub cache: Option<ChartCache>,
}

pub use crate::discover::is_helmfile_state_name as is_state_file;

/// One release of a state file as `helmfile template` renders it.
pub struct RenderedRelease {
    /// `name:`.
    pub name: String,
    /// The namespace (empty: none).
    pub namespace: String,
    /// `chart:` as rendered.
    pub chart: String,
    /// Labels, with helmfile's implicit `name`, `namespace` and `chart`.
    pub labels: BTreeMap<String, String>,
    /// The documents `helm template` prints, in its order (null documents dropped).
    pub documents: Vec<Node>,
    /// The finding when it cannot be rendered (CHART001, RENDER001, RENDER002).
    pub failure: Option<Finding>,
}

/// Renders the state file `file` (repo-relative, inside the repository `fs` reads) as
/// `helmfile template` with `opts`: every release in helmfile's order (nested states' first).
///
/// Errors: the state cannot be loaded (the finding, boxed: RENDER001/RENDER002 at its line).
pub fn template(
    fs: &RepoFs,
    file: &Path,
    opts: &HelmfileOptions,
) -> Result<Vec<RenderedRelease>, Box<Finding>> {
    let lopts = load_options(opts);
    let build = BuildOptions::default();
    let loaded = Loader::new(fs, &lopts)
        .load_root(file)
        .map_err(|e| Box::new(state_failure(&display_id(fs, file), &e)))?;
    Ok(loaded
        .releases
        .iter()
        .map(|r| {
            let id = release_target(r).id();
            let (documents, failure) = match render_documents(fs, r, opts, &build, &id) {
                Ok(docs) => (docs, None),
                Err(f) => (Vec::new(), Some(*f)),
            };
            RenderedRelease {
                name: r.name.clone(),
                namespace: r.namespace.clone(),
                chart: r.chart.clone(),
                labels: r.labels.clone(),
                documents,
                failure,
            }
        })
        .collect())
}

fn load_options(opts: &HelmfileOptions) -> LoadOptions {
    LoadOptions {
        environment: if opts.environment.is_empty() {
            "default".into()
        } else {
            opts.environment.clone()
        },
        vars: Arc::new(opts.vars.clone()),
        state_values: values::from_json(&serde_json::Value::Object(opts.state_values.clone())),
        state_values_set: opts.state_values_set.clone(),
        namespace: opts.namespace.clone(),
    }
}

/// The helmfile units of a repository.
#[derive(Default)]
pub(crate) struct Units {
    /// One per release (or per state file that cannot be loaded), in a deterministic order.
    pub(crate) rendered: Vec<Rendered>,
    /// Chart folders the releases render (not also checked as bare charts).
    pub(crate) charts: BTreeSet<PathBuf>,
    /// Files the units read (state and values files; not also checked as manifests).
    pub(crate) files: BTreeSet<PathBuf>,
}

/// Loads every root among `state_files` (repo-relative) and renders their releases in
/// parallel.
pub(crate) fn render_units(
    fs: &RepoFs,
    state_files: &[PathBuf],
    opts: &HelmfileOptions,
    build: &BuildOptions,
) -> Units {
    let lopts = load_options(opts);
    let loaded: Vec<(PathBuf, Result<state::Loaded, HfError>)> = state_files
        .par_iter()
        .map(|f| (f.clone(), Loader::new(fs, &lopts).load_root(f)))
        .collect();
    let nested: BTreeSet<PathBuf> = loaded
        .iter()
        .filter_map(|(f, l)| l.as_ref().ok().map(|l| (f, l)))
        .flat_map(|(f, l)| l.nested.iter().filter(move |n| *n != f).cloned())
        .collect();
    let mut units = Units::default();
    let mut releases: Vec<&Release> = Vec::new();
    for (file, result) in loaded.iter().filter(|(f, _)| !nested.contains(f)) {
        units.files.insert(file.clone());
        units.files.extend(nested.iter().cloned());
        match result {
            Ok(l) => releases.extend(l.releases.iter()),
            Err(e) => {
                let target = Target::new(Kind::Helmfile, file.clone());
                units.rendered.push(Rendered {
                    failure: Some(state_failure(&target.id(), e)),
                    ..empty(&target)
                });
            }
        }
    }
    for r in &releases {
        units.files.extend(r.files.iter().cloned());
        if let Some(chart) = local_chart(fs, r) {
            units.charts.insert(chart);
        }
    }
    let rendered: Vec<Rendered> = releases
        .par_iter()
        .map(|r| render_release(fs, r, opts, build))
        .collect();
    units.rendered.extend(rendered);
    units
}

fn display_id(fs: &RepoFs, file: &Path) -> String {
    fs.display(&fs.root().join(file))
}

fn namespace_or_default(r: &Release) -> &str {
    if r.namespace.is_empty() {
        "default"
    } else {
        &r.namespace
    }
}

/// The unit of a release: its state file, labelled `release NAMESPACE/NAME`.
fn release_target(r: &Release) -> Target {
    Target {
        unit: Some(UnitRef {
            needs: r
                .needs
                .iter()
                .map(|(ns, name)| {
                    let ns = if ns.is_empty() { "default" } else { ns };
                    format!("{ns}/{name}")
                })
                .collect(),
            ..UnitRef::declared("release", namespace_or_default(r), &r.name, &r.origin)
        }),
        ..Target::new(Kind::Helmfile, r.file.clone())
    }
}

fn empty(target: &Target) -> Rendered {
    Rendered {
        target: target.clone(),
        objects: Vec::new(),
        files: Vec::new(),
        failure: None,
        declared: None,
    }
}

/// The repo-relative chart folder (or archive) of a release whose chart is a local path.
fn local_chart(fs: &RepoFs, r: &Release) -> Option<PathBuf> {
    if is_remote(r) {
        return None;
    }
    let path = state::normalize(&r.dir.join(&r.chart))?;
    fs.resolve(Path::new(""), &path.to_string_lossy()).ok()?;
    Some(path)
}

/// A chart helmfile fetches, as helmfile's `isLocalChart` decides: `oci://`, `git::` or a
/// URL, or `repo/chart` (exactly two segments not starting with `./`, `../` or `/`).
fn is_remote(r: &Release) -> bool {
    let c = r.chart.as_str();
    if c.contains("://") || c.contains("::") {
        return true;
    }
    let local_prefix = c.starts_with("./") || c.starts_with("../") || c.starts_with('/');
    !local_prefix && c.split('/').count() == 2
}

/// Renders one release with the native Helm engine: its unit, with the Kubernetes objects.
fn render_release(
    fs: &RepoFs,
    r: &Release,
    opts: &HelmfileOptions,
    build: &BuildOptions,
) -> Rendered {
    let target = release_target(r);
    let mut files: Vec<PathBuf> = r.files.clone();
    files.push(r.file.clone());
    files.extend(local_chart(fs, r));
    let (objects, failure) = match render_documents(fs, r, opts, build, &target.id()) {
        Ok(docs) => (
            docs.into_iter()
                .filter(crate::check::is_object)
                .flat_map(crate::check::flatten_list)
                .collect(),
            None,
        ),
        Err(f) => (Vec::new(), Some(*f)),
    };
    Rendered {
        target,
        objects,
        files,
        failure,
        declared: None,
    }
}

/// The documents `helm template` prints for the release (null ones dropped).
///
/// Errors: the finding (CHART001, RENDER001, RENDER002) when it cannot be rendered.
fn render_documents(
    fs: &RepoFs,
    r: &Release,
    opts: &HelmfileOptions,
    build: &BuildOptions,
    id: &str,
) -> Result<Vec<Node>, Box<Finding>> {
    if let Some(e) = &r.error {
        return Err(Box::new(state_failure(id, e)));
    }
    let source = chart_source(fs, r, opts, id)?;
    let mut sets = r.sets.clone();
    sets.extend(
        opts.set
            .iter()
            .map(|s| (driftlint_helm::SetKind::Typed, s.clone())),
    );
    let topts = TemplateOptions {
        release_name: r.name.clone(),
        namespace: namespace_or_default(r).to_string(),
        values_docs: r.values.clone(),
        value_files: opts.values.clone(),
        sets,
        set_files: r.set_files.clone(),
        kube_version: opts
            .kube_version
            .as_deref()
            .map(crate::check::helm_kube_version),
        include_crds: true,
        random_seed: Some(crate::check::CHECK_RANDOM_SEED),
        ..TemplateOptions::default()
    };
    let mut docs: Vec<Node> = match helm_documents(fs, &source, &topts) {
        Ok(docs) => docs.into_iter().filter(|d| !d.is_null()).collect(),
        Err(e) => return Err(Box::new(helm_failure(fs, id, r, &e))),
    };
    if let ChartSource::Cached(c) = &source {
        let via = format!("helmfile release {}", r.name);
        for d in &mut docs {
            crate::cached_chart::remap(d, &c.origin_name(), &r.chart_origin, &via);
        }
    }
    if r.patches.is_empty() {
        return Ok(docs);
    }
    chartify::apply(docs, &r.patches, build).map_err(|e| {
        let at = r.patches.origin.as_ref().unwrap_or(&r.origin);
        Box::new(finding(
            "RENDER001",
            id,
            format!("cannot render {id}: patches: {e}"),
            at,
        ))
    })
}

/// Where a release's chart comes from.
enum ChartSource {
    /// A folder (or archive) of the repository, repo-relative.
    Local(PathBuf),
    /// A packaged chart from the chart cache.
    Cached(CachedChart),
}

/// The release's chart: a local path, or the cached chart its repository and `version:` (a
/// semver range; none = the highest stable) select.
///
/// Errors: CHART001 for a remote chart the cache lacks (or a Git/URL chart, or a repository
/// not declared), RENDER001 for a local path that does not exist or an unreadable cache.
fn chart_source(
    fs: &RepoFs,
    r: &Release,
    opts: &HelmfileOptions,
    id: &str,
) -> Result<ChartSource, Box<Finding>> {
    if !is_remote(r) {
        return match local_chart(fs, r) {
            Some(dir) => Ok(ChartSource::Local(dir)),
            None => {
                let message = format!(
                    "cannot render {id}: chart {:?} not found (a local path relative to {})",
                    r.chart,
                    crate::discover::display_path(&r.dir)
                );
                Err(Box::new(finding("RENDER001", id, message, &r.chart_origin)))
            }
        };
    }
    let Some(loc) = chart_locator(r) else {
        return Err(Box::new(chart_not_available(id, r, false)));
    };
    let wanted = r.version.as_deref().unwrap_or("");
    match crate::cached_chart::by_range(opts.cache.as_ref(), &loc, wanted) {
        Ok(Lookup::Found(c)) => Ok(ChartSource::Cached(c)),
        Ok(Lookup::Missing(_)) => Err(Box::new(chart_not_available(id, r, true))),
        Err(e) => Err(Box::new(finding(
            "RENDER001",
            id,
            format!("cannot render {id}: {e}"),
            &r.chart_origin,
        ))),
    }
}

/// The documents `helm template` prints for the chart of `source` (in its order: Helm's
/// install order), each with the origins the traced render gives it.
///
/// Errors: Helm's.
fn helm_documents(
    fs: &RepoFs,
    source: &ChartSource,
    opts: &TemplateOptions,
) -> Result<Vec<Node>, HelmError> {
    let (traced, text) = match source {
        ChartSource::Local(dir) => (
            render_objects(fs, dir, opts)?,
            driftlint_helm::template(fs, dir, opts)?.manifest,
        ),
        ChartSource::Cached(c) => {
            let chart = c.load()?;
            (
                driftlint_helm::render_chart_objects(fs, chart.clone(), opts)?,
                driftlint_helm::template_chart(fs, chart, opts)?.manifest,
            )
        }
    };
    let docs = driftlint_yaml::parse_documents("helm template".into(), &text)
        .map_err(|e| HelmError::Load(format!("helm template output: {e}")))?;
    Ok(crate::kustomize_helm::match_origins(docs, traced))
}

/// The chart cache's name for a release's remote chart, as helmfile resolves it:
/// `repo/chart` through the state's `repositories:` (an `oci: true` repository is an OCI
/// registry), or an `oci://host/path/chart` URL. `None` for a Git or other URL chart, or a
/// repository the state does not declare.
fn chart_locator(r: &Release) -> Option<ChartLocator> {
    let c = r.chart.as_str();
    if c.starts_with("oci://") {
        return ChartLocator::oci_chart_url(c).ok();
    }
    if c.contains("://") || c.contains("::") {
        return None;
    }
    let (repo, name) = c.split_once('/')?;
    ChartLocator::of_repo(r.repositories.get(repo)?, name).ok()
}

/// The charts the releases of the root state files among `state_files` (repo-relative) read
/// from the chart cache, for `driftlint charts pull`: one request per release with a
/// `repo/chart` or `oci://` chart (the version range its `version:` gives; none = the highest
/// stable; `insecure` for an `http://` repository), declared at its `chart:` line; and the
/// hosts of every `repositories:` URL. State
/// files that cannot be loaded are skipped (`check` reports them).
pub(crate) fn chart_requests(
    fs: &RepoFs,
    state_files: &[PathBuf],
    opts: &HelmfileOptions,
) -> (Vec<ChartRequest>, BTreeSet<String>) {
    let lopts = load_options(opts);
    let mut requests: Vec<ChartRequest> = Vec::new();
    let mut hosts = BTreeSet::new();
    for file in state_files {
        let Ok(loaded) = Loader::new(fs, &lopts).load_root(file) else {
            continue;
        };
        for r in loaded.releases.iter().filter(|r| r.error.is_none()) {
            for url in r.repositories.values() {
                let host = url.split("://").last().unwrap_or("").split('/').next();
                hosts.extend(host.filter(|h| !h.is_empty()).map(str::to_string));
            }
            let Some(locator) = chart_locator(r).filter(|_| is_remote(r)) else {
                continue;
            };
            let request = ChartRequest {
                wanted: Wanted::Range(r.version.clone().unwrap_or_default()),
                // Helm fetches an `http://` repository in plain HTTP (the configuration's
                // `charts.allowInsecure` still decides).
                insecure: locator.source.starts_with("http://"),
                locator,
                declared: r.chart_origin.clone(),
            };
            let seen = requests
                .iter()
                .any(|q| q.locator == request.locator && q.wanted == request.wanted);
            if !seen {
                requests.push(request);
            }
        }
    }
    (requests, hosts)
}

/// CHART001: the release's chart comes from a repository, registry or Git and is not in the
/// chart cache (`fetchable`: `driftlint charts pull` can fetch it).
fn chart_not_available(id: &str, r: &Release, fetchable: bool) -> Finding {
    let repo = r.chart.split('/').next().unwrap_or("");
    let from = match r.repositories.get(repo) {
        Some(url) => format!("repository {repo} ({url})"),
        None if r.chart.starts_with("oci://") => "its OCI registry".to_string(),
        None if r.chart.contains("://") || r.chart.contains("::") => "its URL".to_string(),
        None => format!("repository {repo} (not declared in repositories:)"),
    };
    let version = r.version.as_deref().unwrap_or("(latest: no version)");
    let fetch = if fetchable {
        "`driftlint charts pull` will fetch it"
    } else {
        "`driftlint charts pull` cannot fetch it (only Helm repositories and OCI registries)"
    };
    let message = format!(
        "chart not available: release {} uses chart {} version {version} from {from}, which is not in the chart cache; {fetch}. The release is not rendered",
        r.name, r.chart
    );
    Finding {
        severity: Severity::Warning,
        ..finding(CHART_NOT_AVAILABLE, id, message, &r.chart_origin)
    }
}

fn finding(code: &str, id: &str, message: String, origin: &Origin) -> Finding {
    Finding {
        code: code.into(),
        severity: Severity::Error,
        message,
        origin: origin.clone(),
        object: None,
        target: id.to_string(),
        field: None,
    }
}

/// RENDER001/RENDER002 for a state or release that cannot be loaded.
fn state_failure(id: &str, e: &HfError) -> Finding {
    let code = if e.unsupported {
        "RENDER002"
    } else {
        "RENDER001"
    };
    finding(
        code,
        id,
        format!("cannot render {id}: {}", e.message),
        &e.origin,
    )
}

/// RENDER001/RENDER002 for a chart that fails to render: at the origin Helm's error carries
/// when it is a file of the repository, else at the release's `chart:` line.
fn helm_failure(fs: &RepoFs, id: &str, r: &Release, e: &HelmError) -> Finding {
    let msg = e.to_string();
    let unsupported =
        matches!(e, HelmError::Unsupported(_)) || msg.contains("not supported by driftlint");
    let origin = e
        .origin()
        .filter(|o| {
            fs.resolve(Path::new(""), &o.file)
                .is_ok_and(|abs| abs.is_file())
        })
        .cloned()
        .unwrap_or_else(|| r.chart_origin.clone());
    let code = if unsupported {
        "RENDER002"
    } else {
        "RENDER001"
    };
    finding(code, id, format!("cannot render {id}: {msg}"), &origin)
}
