//! `driftlint check`: discover, render (in parallel), validate, lint, and collect findings.
//!
//! A failing target never stops the others: its failure is a finding (RENDER001/RENDER002 at
//! the file and line that caused it) and the run continues.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

mod crd_catalog;
pub(crate) mod helm;
mod sources;

pub(crate) use helm::{kube_version as helm_kube_version, CHECK_RANDOM_SEED};
pub use sources::Sources;

use crate::config::Config;
use crate::discover::{self, Kind, Target};
use crate::report::{Finding, ObjectRef, Severity};
use driftlint_kustomize::{self as kustomize, BuildOptions};
use driftlint_rules::{self as rules, RuleConfig, RuleContext};
use driftlint_schema::{Catalog, Validation};
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{self as yaml, Node, Origin};

/// What to check and how.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Paths to check (directories or files inside one repository).
    pub paths: Vec<PathBuf>,
    /// Target Kubernetes minor version (`1.33`); overrides the configuration.
    pub kubernetes_version: Option<String>,
    /// Check every kustomization, not only the roots.
    pub all_kustomizations: bool,
    /// Extra directories of CRD manifests.
    pub crd_dirs: Vec<PathBuf>,
    /// A CRDs-catalog checkout (`--crd-catalog`); overrides the configuration's `crdCatalog:`.
    pub crd_catalog: Option<PathBuf>,
    /// Unknown custom API groups are CRD001 errors (`--strict-crds`); overrides the
    /// configuration's `strictCrds:` (default false).
    pub strict_crds: Option<bool>,
    /// Strict schema validation; overrides the configuration (default true).
    pub strict: Option<bool>,
    /// Pre-commit mode: only the targets that own one of these files are reported.
    pub changed_files: Option<Vec<PathBuf>>,
    /// Clone remote Kustomize bases with the system `git` (`--allow-remote`).
    pub allow_remote: bool,
    /// The helmfile environment (`--helmfile-environment`); overrides the configuration's
    /// `helmfile.environment` (default `default`).
    pub helmfile_environment: Option<String>,
    /// The chart cache HelmReleases' charts are read from (`--cache-dir`); default [`driftlint_charts::ChartCache::default_root`].
    pub cache_dir: Option<PathBuf>,
}

/// One checked target and how it went.
#[derive(Debug, Clone)]
pub struct TargetOutcome {
    /// The target.
    pub target: Target,
    /// Number of rendered objects.
    pub objects: usize,
    /// True when it could not be rendered.
    pub failed: bool,
}

/// The result of a check run.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The repository root every path in findings is relative to.
    pub root: PathBuf,
    /// Findings, deduplicated and in deterministic order.
    pub findings: Vec<Finding>,
    /// Every target checked.
    pub targets: Vec<TargetOutcome>,
    /// The Kubernetes version validated against.
    pub kubernetes_version: String,
    /// The effective `failOn` from the configuration, if set.
    pub config_fail_on: Option<String>,
    /// The source texts a report may show (read through the confined reader, redacted).
    pub sources: Sources,
}

/// Finding codes that mean "this input could not be processed" (exit code 2).
pub const ERROR_CODES: [&str; 3] = ["RENDER001", "RENDER002", "CONFIG001"];

impl TargetOutcome {
    /// This target as listed in the JSON report.
    pub fn to_json(&self) -> crate::report::JsonTarget {
        crate::report::JsonTarget {
            id: self.target.id(),
            kind: self.target.kind.as_str(),
            path: discover::display_path(&self.target.path),
            source: self
                .target
                .unit
                .as_ref()
                .map(|u| crate::report::JsonSource {
                    file: u.file.clone(),
                    line: u.line,
                }),
            objects: self.objects,
            failed: self.failed,
        }
    }
}

impl CheckReport {
    /// True when a target failed to render or the configuration is invalid (exit code 2).
    pub fn has_input_errors(&self) -> bool {
        self.findings
            .iter()
            .any(|f| ERROR_CODES.contains(&f.code.as_str()))
    }
}

/// A problem that stops the run before any target is checked.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A path given on the command line does not exist.
    #[error("{0}: no such file or directory")]
    NoSuchPath(String),
    /// A path given on the command line whose real location (after following symbolic links)
    /// is outside the repository root.
    #[error("{path} is outside the repository {root} (it leads to {real})")]
    OutsideRoot {
        /// The path as given.
        path: String,
        /// Where it leads.
        real: String,
        /// The repository root (or the current directory) it must stay under.
        root: String,
    },
    /// Paths from different repositories, or another filesystem problem.
    #[error("{0}")]
    Fs(#[from] driftlint_yaml::fs::FsError),
    /// An unsupported `--kubernetes-version`.
    #[error("{0}")]
    Schema(#[from] driftlint_schema::SchemaError),
}

/// A Flux Kustomization that is not rendered: its name, where it is declared, and why.
pub type SkippedUnit = (String, Origin, String);

/// Rendered objects of one target, or why it failed.
pub(crate) struct Rendered {
    pub(crate) target: Target,
    pub(crate) objects: Vec<Node>,
    pub(crate) files: Vec<PathBuf>,
    pub(crate) failure: Option<Finding>,
    /// For a Flux Kustomization: its object as applied (for `dependsOn`).
    pub(crate) declared: Option<Node>,
}

/// Runs the whole pipeline over `opts.paths`.
///
/// Errors: only for problems that make checking impossible (missing path, unsupported
/// Kubernetes version); everything about the repository's content is a finding.
pub fn check(opts: &CheckOptions) -> Result<CheckReport, CheckError> {
    check_rendered(opts).map(|(report, _)| report)
}

/// [`check`], also returning the objects of each reported target that rendered (origins
/// intact, in target order), for `driftlint diff`.
///
/// Errors: as [`check`].
pub fn check_rendered(opts: &CheckOptions) -> Result<(CheckReport, RenderedTargets), CheckError> {
    let Prepared {
        fs,
        config,
        version,
        catalog,
        rendered,
        mut findings,
        ..
    } = prepare(opts)?;
    let rule_config = rule_config(&config, &version, &mut findings);
    let known = |api_version: &str, kind: &str| catalog.knows(api_version, kind);
    let group_kinds = |group: &str| {
        catalog
            .kinds_in_group(group)
            .into_iter()
            .collect::<Vec<_>>()
    };
    let served_from =
        |api_version: &str, kind: &str| catalog.served_from(api_version, kind).map(str::to_owned);
    let ctx = RuleContext::new(&rule_config, &known)
        .with_group_kinds(&group_kinds)
        .with_served_from(&served_from)
        .with_strict_crds(opts.strict_crds.or(config.strict_crds).unwrap_or(false));
    let strict = opts.strict.or(config.strict).unwrap_or(true);
    let selected = select_targets(&rendered, opts.changed_files.as_deref(), &fs);
    let per_target: Vec<Vec<Finding>> = rendered
        .par_iter()
        .filter(|r| selected.contains(&r.target))
        .map(|r| check_target(r, &catalog, &ctx, strict))
        .collect();
    findings.extend(per_target.into_iter().flatten());
    findings.extend(kustomization_findings(&fs, &rendered, &selected, &ctx));
    findings.extend(graph_findings(&rendered, &selected, &ctx));
    let mut findings = finish(findings, &fs);
    let sources = Sources::new(&fs, rendered.iter().flat_map(|r| r.objects.iter()));
    for f in &mut findings {
        sources.redact_finding(f);
    }
    let targets = rendered
        .iter()
        .filter(|r| selected.contains(&r.target))
        .map(|r| TargetOutcome {
            target: r.target.clone(),
            objects: r.objects.len(),
            failed: r.failure.is_some(),
        })
        .collect();
    let objects = rendered
        .into_iter()
        .filter(|r| selected.contains(&r.target))
        .filter(|r| {
            r.failure
                .as_ref()
                .is_none_or(|f| f.severity != Severity::Error)
        })
        .map(|r| (r.target, r.objects))
        .collect();
    let report = CheckReport {
        root: fs.root().to_path_buf(),
        findings,
        targets,
        kubernetes_version: version,
        config_fail_on: config.fail_on.clone(),
        sources,
    };
    Ok((report, objects))
}

/// The ordering rules over the apply graph of every rendered unit (CRD002, CRD004, CRD006,
/// ORDER001, ORDER002), reported for the selected units.
fn graph_findings(
    rendered: &[Rendered],
    selected: &BTreeSet<Target>,
    ctx: &RuleContext,
) -> Vec<Finding> {
    let ids: Vec<String> = rendered.iter().map(|r| r.target.id()).collect();
    let units = graph_units(rendered, &ids);
    let chosen: BTreeSet<String> = selected.iter().map(Target::id).collect();
    driftlint_rules::check_graph(&units, ctx)
        .into_iter()
        .filter(|f| chosen.contains(&f.target))
        .collect()
}

/// The apply graph's view of the rendered units (`ids[i]` is `rendered[i]`'s id).
fn graph_units<'a>(
    rendered: &'a [Rendered],
    ids: &'a [String],
) -> Vec<driftlint_rules::order::GraphUnit<'a>> {
    use driftlint_rules::order::{GraphUnit, UnitKind};
    let index: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut releases: HashMap<String, usize> = HashMap::new();
    for (i, r) in rendered.iter().enumerate() {
        if let (Kind::Helmfile, Some(u)) = (r.target.kind, &r.target.unit) {
            releases
                .entry(format!("{}/{}", u.namespace, u.name))
                .or_insert(i);
        }
    }
    rendered
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let unit = r.target.unit.as_ref();
            let needs = unit
                .map(|u| {
                    u.needs
                        .iter()
                        .map(|n| driftlint_rules::order::Need {
                            name: n.clone(),
                            unit: releases.get(n).copied(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            GraphUnit {
                id: &ids[i],
                kind: match r.target.kind {
                    Kind::Flux => UnitKind::FluxKustomization,
                    Kind::HelmRelease => UnitKind::HelmRelease,
                    Kind::Argo => UnitKind::ArgoApplication,
                    Kind::Helm => UnitKind::HelmChart,
                    Kind::Helmfile => UnitKind::HelmfileRelease,
                    Kind::Kustomize | Kind::Manifests => UnitKind::Folder,
                },
                flux: r.declared.as_ref().filter(|_| r.target.kind != Kind::Argo),
                argo: r.declared.as_ref().filter(|_| r.target.kind == Kind::Argo),
                namespace: unit.map(|u| u.namespace.as_str()).unwrap_or(""),
                parent: unit
                    .and_then(|u| u.parent.as_deref())
                    .and_then(|p| index.get(p).copied()),
                objects: &r.objects,
                needs,
            }
        })
        .collect()
}

/// The apply graph of the repository under `opts.paths`, for `driftlint graph`: units, edges,
/// installed CRDs and the ordering findings (redacted).
///
/// Errors: as [`check`].
pub fn apply_graph(opts: &CheckOptions) -> Result<crate::apply_graph::ApplyGraph, CheckError> {
    let Prepared {
        fs,
        config,
        version,
        catalog,
        rendered,
        mut findings,
        ..
    } = prepare(opts)?;
    let rule_config = rule_config(&config, &version, &mut findings);
    let known = |api_version: &str, kind: &str| catalog.knows(api_version, kind);
    let ctx = RuleContext::new(&rule_config, &known);
    let ids: Vec<String> = rendered.iter().map(|r| r.target.id()).collect();
    let units = graph_units(&rendered, &ids);
    let mut violations = driftlint_rules::check_graph(&units, &ctx);
    findings.extend(rendered.iter().filter_map(|r| r.failure.clone()));
    findings.retain(|f| ERROR_CODES.contains(&f.code.as_str()));
    let sources = Sources::new(&fs, rendered.iter().flat_map(|r| r.objects.iter()));
    for f in violations.iter_mut().chain(findings.iter_mut()) {
        sources.redact_finding(f);
    }
    let (edges, crds) = driftlint_rules::order::edges_and_crds(&units);
    Ok(crate::apply_graph::ApplyGraph::new(
        &rendered, ids, edges, crds, violations, findings,
    ))
}

/// Each target that rendered with its objects, in target order.
pub type RenderedTargets = Vec<(Target, Vec<Node>)>;

/// The repository root: the nearest ancestor of `path` (itself included) holding
/// `.driftlint.yaml` or `.git` (whichever is nearer), else `path` itself (its directory, for a
/// file). The current directory never decides the root, so report paths, SARIF URIs and
/// fingerprints are the same wherever driftlint is started; without a marker, files outside
/// the checked directory (`../base`) are outside the root.
///
/// The root is decided from the path as given, lexically (`a/../b` is `b`), component by
/// component from the top; a symbolic link is followed only while its real location stays
/// under the root found so far (or under the current directory when no root is found yet and
/// `path` is inside it), so a committed `deploy -> /elsewhere` cannot move the root out of the
/// checkout. The returned root is canonical.
///
/// Errors: [`CheckError::NoSuchPath`] when `path` does not exist, [`CheckError::OutsideRoot`]
/// when its real location is outside the root.
pub fn find_root(path: &Path) -> Result<PathBuf, CheckError> {
    find_root_of(std::slice::from_ref(&path.to_path_buf()))
}

/// The repository root of several paths: the marker root of the first (as [`find_root`]);
/// without a marker, the nearest directory holding every path's directory.
///
/// Errors: as [`find_root`], for any of the paths; an empty list is `.`.
pub fn find_root_of(paths: &[PathBuf]) -> Result<PathBuf, CheckError> {
    let Some(first) = paths.first() else {
        return find_root(Path::new("."));
    };
    let (marker, mut root) = locate(first)?;
    if let Some(marker) = marker {
        return Ok(marker);
    }
    for p in &paths[1..] {
        let (_, dir) = locate(p)?;
        while !dir.starts_with(&root) {
            if !root.pop() {
                break;
            }
        }
    }
    Ok(root)
}

/// The marker root of `path` if it has one (see [`find_root`]) and the real (canonical)
/// directory of `path`.
fn locate(path: &Path) -> Result<(Option<PathBuf>, PathBuf), CheckError> {
    let no_such = || CheckError::NoSuchPath(path.display().to_string());
    let cwd = std::env::current_dir().and_then(|c| c.canonicalize()).ok();
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.as_ref().ok_or_else(no_such)?.join(path)
    };
    let mut real = PathBuf::new();
    let mut root: Option<PathBuf> = None;
    let mut in_cwd = false;
    for component in lexical(&abs).components() {
        let next = real.join(component);
        let next = if matches!(component, std::path::Component::Normal(_)) {
            let meta = std::fs::symlink_metadata(&next).map_err(|_| no_such())?;
            let next = if meta.file_type().is_symlink() {
                next.canonicalize().map_err(|_| no_such())?
            } else {
                next
            };
            let bound = root.as_ref().or(cwd.as_ref().filter(|_| in_cwd));
            if let Some(bound) = bound.filter(|b| !next.starts_with(b)) {
                return Err(CheckError::OutsideRoot {
                    path: path.display().to_string(),
                    real: next.display().to_string(),
                    root: bound.display().to_string(),
                });
            }
            next
        } else {
            next
        };
        real = next;
        in_cwd = in_cwd || cwd.as_ref() == Some(&real);
        if real.is_dir() && has_root_marker(&real) {
            root = Some(real.clone());
        }
    }
    let dir = if real.is_dir() {
        real.clone()
    } else {
        real.parent().map(Path::to_path_buf).unwrap_or(real.clone())
    };
    Ok((root, dir))
}

/// True when `dir` holds `.driftlint.yaml` or `.git` (a file, directory or link: not followed).
fn has_root_marker(dir: &Path) -> bool {
    [crate::config::CONFIG_FILE, ".git"]
        .iter()
        .any(|m| std::fs::symlink_metadata(dir.join(m)).is_ok())
}

/// Lexically removes `.` and `..` components of an absolute path.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The real directories of `paths` (the parent, for a file), each under the root of `fs`.
///
/// Errors: [`CheckError::NoSuchPath`], [`CheckError::OutsideRoot`] (see [`find_root`]).
fn start_dirs(fs: &RepoFs, paths: &[PathBuf]) -> Result<Vec<PathBuf>, CheckError> {
    let mut out = Vec::new();
    for p in paths {
        let (_, dir) = locate(p)?;
        if !dir.starts_with(fs.root()) {
            return Err(CheckError::OutsideRoot {
                path: p.display().to_string(),
                real: dir.display().to_string(),
                root: fs.root().display().to_string(),
            });
        }
        out.push(dir);
    }
    if out.is_empty() {
        out.push(fs.root().to_path_buf());
    }
    Ok(out)
}

fn rule_config(config: &Config, version: &str, findings: &mut Vec<Finding>) -> RuleConfig {
    let mut rc = match &config.rules {
        Some(node) => RuleConfig::from_node(node).unwrap_or_else(|e| {
            findings.push(config_finding(e.message.clone(), e.origin.clone()));
            RuleConfig::default()
        }),
        None => RuleConfig::default(),
    };
    rc.set_kube_version(version);
    rc
}

fn config_finding(message: String, origin: Origin) -> Finding {
    Finding {
        code: "CONFIG001".into(),
        severity: Severity::Error,
        message,
        origin,
        object: None,
        target: crate::config::CONFIG_FILE.into(),
        field: None,
    }
}

/// Discovers (or reads from config) every target and renders them in parallel.
#[allow(clippy::too_many_arguments)]
fn render_all(
    fs: &RepoFs,
    config: &Config,
    opts: &CheckOptions,
    starts: &[PathBuf],
    catalog: &Catalog,
    version: &str,
    findings: &mut Vec<Finding>,
    skipped: &mut Vec<SkippedUnit>,
) -> Vec<Rendered> {
    let cache = chart_cache(opts);
    let native_helm = crate::kustomize_helm::NativeHelm::new(cache.clone());
    let build_opts = BuildOptions {
        merge_info: Some(catalog),
        allow_remote: opts.allow_remote,
        helm: Some(&native_helm),
        ..BuildOptions::default()
    };
    let (mut targets, inventory) = plan_targets(fs, config, opts, starts, findings);
    apply_releases(fs, config, &mut targets, findings);
    let helmfile = match &inventory {
        Some(inv) => {
            let files: Vec<PathBuf> = inv.helmfiles.iter().cloned().collect();
            let hopts = helmfile_options(config, opts, version);
            crate::helmfile::render_units(fs, &files, &hopts, &build_opts)
        }
        None => crate::helmfile::Units::default(),
    };
    // A chart a helmfile release renders is checked through the release.
    targets.retain(|t| t.kind != Kind::Helm || !helmfile.charts.contains(&t.path));
    let mut rendered: Vec<Rendered> = targets
        .par_iter()
        .filter(|t| t.kind != Kind::Manifests)
        .map(|t| render_target(fs, t, &build_opts, version))
        .collect();
    let used: BTreeSet<PathBuf> = rendered
        .iter()
        .flat_map(|r| r.files.iter().cloned())
        .chain(helmfile.files.iter().cloned())
        .collect();
    rendered.extend(helmfile.rendered);
    if let Some(inv) = inventory {
        targets.extend(discover::manifest_targets(&inv, &used));
    }
    let manifests: Vec<Rendered> = targets
        .par_iter()
        .filter(|t| t.kind == Kind::Manifests)
        .map(|t| render_manifests(fs, t))
        .collect();
    rendered.extend(manifests);
    let ctx = crate::flux::UnitContext {
        fs,
        config,
        build: &build_opts,
    };
    let units = crate::flux::render_units(&ctx, &rendered);
    drop_covered(&mut rendered, &units.rendered);
    rendered.extend(units.rendered);
    skipped.extend(units.skipped);
    let argo = crate::argocd::Ctx {
        fs,
        config,
        build: &build_opts,
        kube_version: helm::kube_version(version),
        origin: crate::argocd::git_origin::origin_url(fs),
        cache: cache.as_ref(),
    };
    let apps = crate::argocd::render_units(&argo, &rendered);
    drop_covered(&mut rendered, &apps.rendered);
    crate::argocd::drop_charts(&mut rendered, &apps.rendered);
    rendered.extend(apps.rendered);
    skipped.extend(apps.skipped);
    let rctx = crate::helmrelease::ReleaseContext {
        fs,
        config,
        cache: cache.as_ref(),
        merge_info: Some(catalog),
        version,
    };
    let releases = crate::helmrelease::render_releases(&rctx, &rendered);
    rendered.extend(releases);
    rendered.sort_by(|a, b| a.target.cmp(&b.target));
    rendered.dedup_by(|a, b| a.target == b.target);
    rendered
}

/// How helmfile state files are rendered: the environment from the command line, else the
/// configuration; the variables the configuration lists; the checked Kubernetes version; the
/// chart cache.
pub(crate) fn helmfile_options(
    config: &Config,
    opts: &CheckOptions,
    version: &str,
) -> crate::helmfile::HelmfileOptions {
    crate::helmfile::HelmfileOptions {
        environment: opts
            .helmfile_environment
            .clone()
            .or_else(|| config.helmfile.environment.clone())
            .unwrap_or_default(),
        vars: config.helmfile.vars(),
        state_values: config.helmfile.values.clone(),
        kube_version: Some(version.to_string()),
        cache: chart_cache(opts),
        ..Default::default()
    }
}

/// The chart cache: `--cache-dir`, else [`driftlint_charts::ChartCache::default_root`].
fn chart_cache(opts: &CheckOptions) -> Option<driftlint_charts::ChartCache> {
    opts.cache_dir
        .clone()
        .or_else(driftlint_charts::ChartCache::default_root)
        .map(driftlint_charts::ChartCache::new)
}

/// A folder a Flux Kustomization renders is checked through it, not also as a bare folder:
/// bare kustomizations and manifest folders at a unit's path, or whose every file a unit
/// read, are dropped.
fn drop_covered(bare: &mut Vec<Rendered>, units: &[Rendered]) {
    let paths: BTreeSet<&Path> = units.iter().map(|u| u.target.path.as_path()).collect();
    let files: BTreeSet<&PathBuf> = units
        .iter()
        .filter(|u| u.failure.is_none())
        .flat_map(|u| u.files.iter())
        .collect();
    bare.retain(|r| {
        let bare_folder = matches!(r.target.kind, Kind::Kustomize | Kind::Manifests);
        let kustomization_read = discover::KUSTOMIZATION_FILES
            .iter()
            .any(|k| files.contains(&r.target.path.join(k)));
        let covered = paths.contains(r.target.path.as_path())
            || kustomization_read
            || (!r.files.is_empty() && r.files.iter().all(|f| files.contains(f)));
        !(bare_folder && covered)
    });
}

/// The targets to render: the configuration's `targets:` (each normalised and confined to
/// the repository; one that does not exist or leads outside is a CONFIG001 at its line), else
/// what discovery finds under `starts` (a directory it cannot read is a RENDER001).
fn plan_targets(
    fs: &RepoFs,
    config: &Config,
    opts: &CheckOptions,
    starts: &[PathBuf],
    findings: &mut Vec<Finding>,
) -> (Vec<Target>, Option<discover::Inventory>) {
    if !config.targets.is_empty() {
        let mut targets = Vec::new();
        for t in &config.targets {
            let path = match discover::config_path(fs, &t.path) {
                Ok(path) => path,
                Err(e) => {
                    findings.push(config_finding(format!("target: {e}"), t.origin.clone()));
                    continue;
                }
            };
            let Some(kind) = discover::classify(fs, &path, t.kind) else {
                findings.push(config_finding(
                    format!("target {:?} is not a directory", t.path),
                    t.origin.clone(),
                ));
                continue;
            };
            let files = if kind == Kind::Manifests {
                match discover::yaml_files_in(fs, &path) {
                    Ok(files) => files,
                    Err(e) => {
                        findings.push(config_finding(format!("target: {e}"), t.origin.clone()));
                        continue;
                    }
                }
            } else {
                Vec::new()
            };
            targets.push(Target {
                files,
                ..Target::new(kind, path.clone())
            });
            if kind == Kind::Helm {
                targets.extend(discover::ci_variants(fs, &path));
            }
        }
        return (targets, None);
    }
    let mut inv = discover::Inventory::default();
    for start in starts {
        let part = discover::walk(fs, start, config);
        inv.kustomizations.extend(part.kustomizations);
        inv.charts.extend(part.charts);
        inv.helmfiles.extend(part.helmfiles);
        for (dir, files) in part.yaml_files {
            let entry = inv.yaml_files.entry(dir).or_default();
            entry.extend(files);
            entry.sort();
            entry.dedup();
        }
        inv.unreadable.extend(part.unreadable);
    }
    for (path, message) in &inv.unreadable {
        let display: Arc<str> = fs.display(&fs.root().join(path)).into();
        findings.push(Finding {
            code: "RENDER001".into(),
            severity: Severity::Error,
            message: format!("cannot read {display}: {message}; what it holds is not checked"),
            origin: Origin::new(display.clone(), 1, 1),
            object: None,
            target: display.to_string(),
            field: None,
        });
    }
    let refs = |dir: &Path| kustomize::referenced_kustomization_dirs(fs, dir).unwrap_or_default();
    let mut targets: Vec<Target> =
        discover::kustomization_roots(&inv, opts.all_kustomizations, &refs)
            .into_iter()
            .map(|path| Target::new(Kind::Kustomize, path))
            .collect();
    targets.extend(discover::chart_targets(fs, &inv));
    (targets, Some(inv))
}

/// `releases:` from the configuration replace the discovered renderings of their charts
/// (paths compared normalised: `./charts/app/` is `charts/app`). A release whose chart or
/// values file does not exist or leads outside the repository is a CONFIG001 at its line.
fn apply_releases(
    fs: &RepoFs,
    config: &Config,
    targets: &mut Vec<Target>,
    findings: &mut Vec<Finding>,
) {
    let mut declared = Vec::new();
    for (i, r) in config.releases.iter().enumerate() {
        let chart = discover::config_path(fs, &r.chart).ok().filter(|c| {
            fs.resolve(c, "Chart.yaml")
                .is_ok_and(|p| fs.root().join(p).is_file())
        });
        let Some(chart) = chart else {
            findings.push(config_finding(
                format!(
                    "release chart {:?} is not a chart directory in the repository (no Chart.yaml)",
                    r.chart
                ),
                r.chart_origin.clone(),
            ));
            continue;
        };
        let values: Result<Vec<PathBuf>, String> = r
            .values
            .iter()
            .map(|v| {
                discover::config_path(fs, v)
                    .ok()
                    .filter(|p| fs.root().join(p).is_file())
                    .ok_or_else(|| v.clone())
            })
            .collect();
        let values = match values {
            Ok(values) => values,
            Err(v) => {
                findings.push(config_finding(
                    format!("release values file {v:?} does not exist in the repository"),
                    r.origin.clone(),
                ));
                continue;
            }
        };
        let release = discover::Release {
            label: r
                .name
                .clone()
                .unwrap_or_else(|| format!("release {}", i + 1)),
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            values,
            set: r.set.clone(),
            kube_version: r.kube_version.clone(),
            api_versions: r.api_versions.clone(),
            origin: Some(r.origin.clone()),
        };
        declared.push(Target {
            release: Some(release),
            ..Target::new(Kind::Helm, chart)
        });
    }
    targets.retain(|t| t.kind != Kind::Helm || !declared.iter().any(|d| d.path == t.path));
    targets.extend(declared);
}

fn render_target(fs: &RepoFs, target: &Target, opts: &BuildOptions, version: &str) -> Rendered {
    match target.kind {
        Kind::Kustomize => match kustomize::build(fs, &target.path, opts) {
            Ok(build) => Rendered {
                target: target.clone(),
                objects: build.objects,
                files: build.files,
                failure: None,
                declared: None,
            },
            Err(e) => failed(target, render_failure(target, &e)),
        },
        Kind::Helm => helm::render_chart(fs, target, version),
        Kind::Manifests | Kind::Flux | Kind::Helmfile | Kind::HelmRelease | Kind::Argo => {
            render_manifests(fs, target)
        }
    }
}

fn failed(target: &Target, finding: Finding) -> Rendered {
    Rendered {
        target: target.clone(),
        objects: Vec::new(),
        files: Vec::new(),
        failure: Some(finding),
        declared: None,
    }
}

/// The code and severity of a failed kustomize build: RENDER002 for what driftlint does not
/// implement, CHART001 (a warning: `driftlint charts pull` fetches it) for a `helmCharts`
/// chart the cache lacks, RENDER001 for everything kustomize itself rejects.
pub(crate) fn kustomize_failure_code(e: &kustomize::KustomizeError) -> (&'static str, Severity) {
    match e.kind {
        kustomize::ErrorKind::Unsupported { .. } => ("RENDER002", Severity::Error),
        kustomize::ErrorKind::ChartNotAvailable { .. } => ("CHART001", Severity::Warning),
        _ => ("RENDER001", Severity::Error),
    }
}

fn render_failure(target: &Target, e: &kustomize::KustomizeError) -> Finding {
    let (code, severity) = kustomize_failure_code(e);
    let origin = e.origin.clone().unwrap_or_else(|| {
        let file = format!("{}/kustomization.yaml", target.id());
        Origin::new(file.into(), 1, 1)
    });
    Finding {
        code: code.into(),
        severity,
        message: format!("cannot render {}: {e}", target.id()),
        origin,
        object: None,
        target: target.id(),
        field: None,
    }
}

/// Parses the YAML files of a manifest folder; documents without apiVersion and kind are not
/// Kubernetes objects and are skipped.
fn render_manifests(fs: &RepoFs, target: &Target) -> Rendered {
    let mut objects = Vec::new();
    for file in &target.files {
        let display: Arc<str> = fs.display(&fs.root().join(file)).into();
        let parsed = fs
            .read_text(&fs.root().join(file))
            .map_err(|e| (e.to_string(), Origin::new(display.clone(), 1, 1)))
            .and_then(|text| {
                yaml::parse_documents(display.clone(), &text).map_err(|e| {
                    let hint = if looks_like_helmfile(&text) {
                        " (it looks like a helmfile state file, a Go template: list it under `helmfile.files` in .driftlint.yaml)"
                    } else {
                        ""
                    };
                    (
                        format!("{}{hint}", e.message),
                        Origin::new(e.file.clone(), e.line, e.column),
                    )
                })
            });
        match parsed {
            Ok(docs) => objects.extend(docs.into_iter().filter(is_object).flat_map(flatten_list)),
            Err((message, origin)) => {
                let finding = Finding {
                    code: "RENDER001".into(),
                    severity: Severity::Error,
                    message: format!("cannot read {display}: {message}"),
                    origin,
                    object: None,
                    target: target.id(),
                    field: None,
                };
                return Rendered {
                    failure: Some(finding),
                    ..render_ok(target, objects)
                };
            }
        }
    }
    render_ok(target, objects)
}

/// True for text with a top-level `releases:` or `helmfiles:` key and a `{{` action: a
/// helmfile state file under a name discovery does not know (helmfile reads any `-f FILE`).
fn looks_like_helmfile(text: &str) -> bool {
    text.contains("{{")
        && text
            .lines()
            .any(|l| l.starts_with("releases:") || l.starts_with("helmfiles:"))
}

fn render_ok(target: &Target, objects: Vec<Node>) -> Rendered {
    Rendered {
        target: target.clone(),
        objects,
        files: target.files.clone(),
        failure: None,
        declared: None,
    }
}

pub(crate) fn is_object(doc: &Node) -> bool {
    doc.str_at(&["apiVersion"]).is_some() && doc.str_at(&["kind"]).is_some()
}

/// `kind: List` items become objects of their own, as kubectl does.
pub(crate) fn flatten_list(doc: Node) -> Vec<Node> {
    if doc.str_at(&["kind"]) == Some("List") {
        if let Some(items) = doc.get("items").and_then(Node::as_seq) {
            return items.iter().filter(|n| is_object(n)).cloned().collect();
        }
    }
    vec![doc]
}

/// Registers the schemas of every CRD rendered anywhere in the repository and in CRD dirs.
/// Precedence: a CRD rendered in the repository, then `--crd-dir`, then `crdDirs:` (then, in
/// the catalog's own lookup, the CRD catalogs).
///
/// `--crd-dir` directories are the operator's choice and may lie outside the repository (a
/// shared CRD cache): each is read confined to itself, and its files are named by their
/// absolute path. One written inside the repository is read confined to the repository (a
/// committed symbolic link there must not lead out). `crdDirs:` entries of the
/// configuration are confined to the repository: one that does not exist, cannot be read or
/// leads outside is a CONFIG001 at its line.
///
/// Errors: [`CheckError::NoSuchPath`] for a `--crd-dir` that is not a readable directory.
fn register_crds(
    catalog: &mut Catalog,
    rendered: &[Rendered],
    fs: &RepoFs,
    opts: &CheckOptions,
    config: &Config,
    findings: &mut Vec<Finding>,
) -> Result<(), CheckError> {
    let is_crd = |o: &&Node| o.str_at(&["kind"]) == Some("CustomResourceDefinition");
    let mut add = |objects: &[Node], findings: &mut Vec<Finding>| {
        for obj in objects.iter().filter(is_crd) {
            if let Err(e) = catalog.add_crd(&obj.to_json(), &obj.origin.file) {
                findings.push(schema_problem(obj, &e.to_string()));
            }
        }
    };
    for dir in &opts.crd_dirs {
        let no_dir = |e: &dyn std::fmt::Display| {
            CheckError::NoSuchPath(format!("--crd-dir {}: {e}", dir.display()))
        };
        // Inside the checkout (as written), the directory is the pull request's: it is read
        // through the repository's confinement like `crdDirs:`, so a committed link out fails.
        let abs = std::env::current_dir()
            .map(|cwd| lexical(&cwd.join(dir)))
            .unwrap_or_else(|_| dir.clone());
        let (dir_fs, base) = match abs.strip_prefix(fs.root()) {
            Ok(rel) => {
                let rel =
                    discover::config_path(fs, &rel.to_string_lossy()).map_err(|e| no_dir(&e))?;
                (fs.clone(), rel)
            }
            Err(_) => (RepoFs::new(dir).map_err(|e| no_dir(&e))?, PathBuf::new()),
        };
        let files = discover::yaml_files_in(&dir_fs, &base).map_err(|e| no_dir(&e))?;
        for file in files {
            let abs = dir_fs.root().join(&file);
            let display: Arc<str> = match abs.strip_prefix(fs.root()) {
                Ok(_) => fs.display(&abs),
                Err(_) => abs.display().to_string(),
            }
            .into();
            let parsed = dir_fs
                .read_text(&abs)
                .map_err(|e| (e.to_string(), Origin::new(display.clone(), 1, 1)))
                .and_then(|text| {
                    yaml::parse_documents(display.clone(), &text).map_err(|e| {
                        (
                            e.message.clone(),
                            Origin::new(e.file.clone(), e.line, e.column),
                        )
                    })
                });
            match parsed {
                Ok(docs) => {
                    let objects: Vec<Node> = docs
                        .into_iter()
                        .filter(is_object)
                        .flat_map(flatten_list)
                        .collect();
                    add(&objects, findings);
                }
                Err((message, origin)) => findings.push(Finding {
                    code: "RENDER001".into(),
                    severity: Severity::Error,
                    message: format!("cannot read {display}: {message}"),
                    origin,
                    object: None,
                    target: display.to_string(),
                    field: None,
                }),
            }
        }
    }
    for entry in &config.crd_dirs {
        let files = discover::config_path(fs, &entry.path)
            .and_then(|rel| Ok((discover::yaml_files_in(fs, &rel)?, rel)));
        let (files, rel) = match files {
            Ok(found) => found,
            Err(e) => {
                findings.push(config_finding(
                    format!("crdDirs: {e}"),
                    entry.origin.clone(),
                ));
                continue;
            }
        };
        let target = Target {
            files,
            ..Target::new(Kind::Manifests, rel)
        };
        let crds = render_manifests(fs, &target);
        if let Some(f) = crds.failure {
            findings.push(f);
        }
        add(&crds.objects, findings);
    }
    // Last, so that a CRD rendered in the repository replaces the same GVK from a CRD dir.
    for r in rendered {
        add(&r.objects, findings);
    }
    Ok(())
}

fn schema_problem(obj: &Node, message: &str) -> Finding {
    Finding {
        code: "SCHEMA002".into(),
        severity: Severity::Warning,
        message: format!(
            "CustomResourceDefinition {}: {message}",
            ObjectRef::of(obj).name
        ),
        origin: obj.origin.clone(),
        object: Some(ObjectRef::of(obj)),
        target: obj.origin.file.to_string(),
        field: None,
    }
}

/// The targets to report: all, or in pre-commit mode those owning a changed file.
fn select_targets(
    rendered: &[Rendered],
    changed: Option<&[PathBuf]>,
    fs: &RepoFs,
) -> BTreeSet<Target> {
    let Some(changed) = changed else {
        return rendered.iter().map(|r| r.target.clone()).collect();
    };
    let changed: BTreeSet<PathBuf> = changed
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .map(|p| fs.relative(&p))
        .collect();
    rendered
        .iter()
        .filter(|r| owns_a_changed_file(r, &changed))
        .map(|r| r.target.clone())
        .collect()
}

fn check_target(r: &Rendered, catalog: &Catalog, ctx: &RuleContext, strict: bool) -> Vec<Finding> {
    let id = r.target.id();
    let mut out: Vec<Finding> = r.failure.iter().cloned().collect();
    let mut unknown_groups = Vec::new();
    for obj in &r.objects {
        let api_version = obj.str_at(&["apiVersion"]).unwrap_or_default();
        let custom = !rules::is_builtin_group(api_version.rsplit_once('/').map_or("", |(g, _)| g));
        let kind = obj.str_at(&["kind"]).unwrap_or_default();
        if custom
            && !catalog.knows(api_version, kind)
            && !ctx.explains_missing_schema(api_version, kind)
        {
            unknown_groups.push(obj);
            continue;
        }
        out.extend(validate_object(&id, obj, catalog, ctx, strict));
    }
    out.extend(crd_catalog::unknown_group_findings(&id, &unknown_groups));
    out.extend(rules::check_objects(&id, &r.objects, ctx));
    out
}

/// Schema findings for one object: SCHEMA001 per violation at the offending value's origin,
/// SCHEMA002 when no schema is known (unless a rule already explains why: a removed API or
/// an unknown custom resource).
fn validate_object(
    target: &str,
    obj: &Node,
    catalog: &Catalog,
    ctx: &RuleContext,
    strict: bool,
) -> Vec<Finding> {
    let api_version = obj.str_at(&["apiVersion"]).unwrap_or_default();
    let kind = obj.str_at(&["kind"]).unwrap_or_default();
    let object = Some(ObjectRef::of(obj));
    match catalog.validate(api_version, kind, &obj.to_json(), strict) {
        Validation::Valid => Vec::new(),
        Validation::NoSchema if ctx.explains_missing_schema(api_version, kind) => Vec::new(),
        Validation::NoSchema => vec![Finding {
            code: "SCHEMA002".into(),
            severity: Severity::Warning,
            message: format!("no schema for {api_version} {kind}: the object is not validated"),
            origin: obj
                .get("kind")
                .map(|k| k.origin.clone())
                .unwrap_or_else(|| obj.origin.clone()),
            object,
            target: target.into(),
            field: None,
        }],
        Validation::Invalid(violations) => violations
            .into_iter()
            .map(|v| Finding {
                code: "SCHEMA001".into(),
                severity: Severity::Error,
                message: match catalog.catalog_source(api_version, kind) {
                    Some(source) => format!(
                        "{} {}: {} (schema from the {source}; the CRD version installed in the cluster may differ)",
                        kind,
                        object_name(obj),
                        v.message
                    ),
                    None => format!("{} {}: {}", kind, object_name(obj), v.message),
                },
                origin: origin_at_pointer(obj, &v.pointer),
                object: object.clone(),
                target: target.into(),
                field: Some(v.pointer),
            })
            .collect(),
    }
}

fn object_name(obj: &Node) -> &str {
    obj.str_at(&["metadata", "name"]).unwrap_or("<unnamed>")
}

/// The origin of the deepest node that exists along a JSON pointer; when that node is a
/// mapping or sequence reached through a mapping key, the key's origin (the line that names
/// the offending field, not its first child's line).
pub fn origin_at_pointer(obj: &Node, pointer: &str) -> Origin {
    let mut node = obj;
    let mut key: Option<&Node> = None;
    for raw in pointer.split('/').skip(1) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        let next = match &node.value {
            yaml::Value::Map(m) => m.get_entry(&seg).map(|(k, v)| (Some(k), v)),
            yaml::Value::Seq(items) => seg
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(|v| (None, v)),
            yaml::Value::Scalar(_) => None,
        };
        match next {
            Some((k, n)) => (key, node) = (k, n),
            None => break,
        }
    }
    match (key, &node.value) {
        (Some(k), yaml::Value::Map(_) | yaml::Value::Seq(_)) => k.origin.clone(),
        _ => node.origin.clone(),
    }
}

/// True when `r` read one of `changed`; for a chart, see [`helm_target_reads`]; for a target
/// that failed to render (inputs unknown), when a changed file lies under its directory or is
/// the file its failure points at.
fn owns_a_changed_file(r: &Rendered, changed: &BTreeSet<PathBuf>) -> bool {
    if r.files.iter().any(|f| changed.contains(f)) {
        return true;
    }
    if r.target.kind == Kind::Helm {
        return changed.iter().any(|c| helm_target_reads(r, c));
    }
    // A helmfile release reads its state files, values files and its chart folder; a
    // HelmRelease's and an Argo CD helm source's files include the local chart's folder: any
    // file in them.
    if matches!(
        r.target.kind,
        Kind::Helmfile | Kind::HelmRelease | Kind::Argo
    ) && changed
        .iter()
        .any(|c| r.files.iter().any(|f| c.starts_with(f)))
    {
        return true;
    }
    let inputs_unknown = r.failure.is_some();
    let failure_file = r
        .failure
        .as_ref()
        .map(|f| PathBuf::from(f.origin.file.as_ref()));
    inputs_unknown
        && changed
            .iter()
            .any(|c| c.starts_with(&r.target.path) || Some(c) == failure_file.as_ref())
}

/// Whether a chart target reads `changed`: a file of the chart (a `ci/` values file only for
/// the variant rendered with it) or one of its values files elsewhere.
fn helm_target_reads(r: &Rendered, changed: &Path) -> bool {
    if r.files.iter().any(|f| f == changed) {
        return true;
    }
    changed.starts_with(&r.target.path) && !changed.starts_with(r.target.path.join("ci"))
}

/// PIN011 and other kustomization-file rules, once per kustomization file read.
fn kustomization_findings(
    fs: &RepoFs,
    rendered: &[Rendered],
    selected: &BTreeSet<Target>,
    ctx: &RuleContext,
) -> Vec<Finding> {
    let mut files: BTreeMap<PathBuf, String> = BTreeMap::new();
    for r in rendered.iter().filter(|r| selected.contains(&r.target)) {
        for f in &r.files {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if discover::KUSTOMIZATION_FILES.contains(&name) {
                files.entry(f.clone()).or_insert_with(|| r.target.id());
            }
        }
    }
    files
        .par_iter()
        .flat_map_iter(|(file, target)| {
            let display: Arc<str> = fs.display(&fs.root().join(file)).into();
            let docs = fs
                .read_text(&fs.root().join(file))
                .ok()
                .and_then(|t| yaml::parse_documents(display, &t).ok())
                .unwrap_or_default();
            docs.into_iter()
                .flat_map(|d| rules::check_kustomization(target, &d, ctx))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Applies comment suppressions, removes duplicates (a base rendered by several overlays
/// reports its problem once) and sorts.
fn finish(mut findings: Vec<Finding>, fs: &RepoFs) -> Vec<Finding> {
    let cache: Mutex<HashMap<String, Option<Vec<yaml::Comment>>>> = Mutex::new(HashMap::new());
    let comments_of = |file: &str| -> Option<Vec<yaml::Comment>> {
        let mut cache = cache.lock().ok()?;
        cache
            .entry(file.to_string())
            .or_insert_with(|| {
                let text = fs.read_text(&fs.root().join(file)).ok()?;
                yaml::parse_file(file.into(), &text)
                    .ok()
                    .map(|p| p.comments)
            })
            .clone()
    };
    findings.retain(|f| !rules::suppressed_by_comment(f, &comments_of));
    rules::drop_restated(&mut findings);
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    // One finding per line and message: a component rendered into many units (or one base
    // into many overlays) has one line to fix, reported once.
    let mut seen = BTreeSet::new();
    findings.retain(|f| {
        seen.insert((
            f.code.clone(),
            f.origin.clone(),
            f.field.clone(),
            f.message.clone(),
        ))
    });
    findings
}

/// Every target of a repository rendered as [`check`] renders them, for `driftlint drift`.
pub struct RenderedRepo {
    /// The repository root every origin is relative to.
    pub root: PathBuf,
    /// The loaded configuration (defaults when invalid; the error is in `findings`).
    pub config: Config,
    /// The schemas of the target Kubernetes version plus every CRD rendered or in `crdDirs`.
    pub catalog: Catalog,
    /// Each target that rendered, with its objects (origins intact), in target order.
    pub targets: Vec<(Target, Vec<Node>)>,
    /// Render and configuration failures (RENDER001/RENDER002/CONFIG001), redacted.
    pub findings: Vec<Finding>,
    /// The source texts a report may show (read through the confined reader, redacted).
    pub sources: Sources,
    /// Flux Kustomizations not rendered (their source is not this repository).
    pub skipped: Vec<SkippedUnit>,
    /// The object of every Argo CD Application unit (rendered or not), as declared or
    /// generated by an ApplicationSet: what `driftlint charts pull` reads helm sources from.
    pub applications: Vec<Node>,
}

/// Renders every target under `opts.paths` without validating or linting them.
///
/// Errors: as [`check`] (missing path, unsupported Kubernetes version); a target that fails
/// to render is a finding and is left out of `targets`.
pub fn render_repo(opts: &CheckOptions) -> Result<RenderedRepo, CheckError> {
    let Prepared {
        fs,
        config,
        catalog,
        rendered,
        mut findings,
        skipped,
        ..
    } = prepare(opts)?;
    let sources = Sources::new(&fs, rendered.iter().flat_map(|r| r.objects.iter()));
    for f in &mut findings {
        sources.redact_finding(f);
    }
    let mut targets = Vec::new();
    let applications = rendered
        .iter()
        .filter(|r| r.target.kind == Kind::Argo)
        .filter_map(|r| r.declared.clone())
        .collect();
    for r in rendered {
        match r.failure {
            Some(mut f) if f.severity == Severity::Error => {
                sources.redact_finding(&mut f);
                findings.push(f);
            }
            Some(mut f) => {
                // A warning about the unit (CHART001): reported, the unit still listed.
                sources.redact_finding(&mut f);
                findings.push(f);
                targets.push((r.target, r.objects));
            }
            None => targets.push((r.target, r.objects)),
        }
    }
    Ok(RenderedRepo {
        root: fs.root().to_path_buf(),
        config,
        catalog,
        targets,
        findings,
        sources,
        skipped,
        applications,
    })
}

/// What [`check`] and [`render_repo`] share: the repository, its configuration, the schemas
/// (with every CRD registered) and every target rendered.
struct Prepared {
    fs: RepoFs,
    config: Config,
    version: String,
    catalog: Catalog,
    rendered: Vec<Rendered>,
    findings: Vec<Finding>,
    skipped: Vec<SkippedUnit>,
}

fn prepare(opts: &CheckOptions) -> Result<Prepared, CheckError> {
    let root = find_root_of(&opts.paths)?;
    let fs = RepoFs::new(&root)?;
    let mut findings = Vec::new();
    let config = Config::load(&fs).unwrap_or_else(|e| {
        findings.push(config_finding(e.message, e.origin));
        Config::default()
    });
    let version = opts
        .kubernetes_version
        .clone()
        .or_else(|| config.kubernetes_version.clone())
        .unwrap_or_else(|| Catalog::newest_version().to_string());
    let mut catalog = Catalog::builtin(&version)?;
    let starts = start_dirs(&fs, &opts.paths)?;
    let mut skipped = Vec::new();
    let rendered = render_all(
        &fs,
        &config,
        opts,
        &starts,
        &catalog,
        &version,
        &mut findings,
        &mut skipped,
    );
    register_crds(&mut catalog, &rendered, &fs, opts, &config, &mut findings)?;
    crd_catalog::load(&mut catalog, &rendered, &fs, opts, &config, &mut findings)?;
    Ok(Prepared {
        fs,
        config,
        version,
        catalog,
        rendered,
        findings,
        skipped,
    })
}
