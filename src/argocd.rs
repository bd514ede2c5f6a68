//! Argo CD `Application`s (`argoproj.io/v1alpha1`) as apply units, rendered as Argo CD's
//! repo-server renders them ([`source`]), and `ApplicationSet`s expanded into Applications
//! as the applicationset-controller does ([`appset`], [`template`]).
//!
//! An Application is rendered when its `repoURL` is this repository: a `sources:` entry with
//! `url:` in `.driftlint.yaml` maps a URL to a folder of it, and the `origin` remote of the
//! repository's `.git/config` ([`git_origin`]) is its root (URLs compared as Argo CD does:
//! case, scheme, user, a trailing `/` and `.git` ignored). Units are found among rendered objects: first
//! those of the folders discovery checks and of Flux units, then those each Application
//! renders, level by level (app-of-apps), with budgets on depth and count. A folder an
//! Application renders is not also checked as a bare folder.

pub(crate) mod appset;
pub(crate) mod git_origin;
pub(crate) mod source;
pub(crate) mod template;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use rayon::prelude::*;

use crate::check::{Rendered, SkippedUnit};
use crate::config::Config;
use crate::discover::{Kind, Target, UnitRef};
use crate::report::{Finding, Severity};
use driftlint_kustomize::BuildOptions;
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{Node, Origin};

/// The API group of Argo CD's kinds.
const GROUP: &str = "argoproj.io";
/// Applications nested deeper than this (app-of-apps levels) are not followed.
const MAX_DEPTH: usize = 16;
/// At most this many Applications are rendered.
const MAX_APPS: usize = 20_000;
/// The namespace of Argo CD's own objects when a manifest names none.
const ARGOCD_NAMESPACE: &str = "argocd";

/// A problem at a line: its finding code (`RENDER001`, `RENDER002`), message and origin.
#[derive(Debug)]
pub(crate) struct Located {
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) origin: Origin,
}

/// Everything rendering an Application reads.
pub(crate) struct Ctx<'a> {
    pub(crate) fs: &'a RepoFs,
    pub(crate) config: &'a Config,
    pub(crate) build: &'a BuildOptions<'a>,
    /// `--kube-version` for Helm sources (`v1.33.0`).
    pub(crate) kube_version: String,
    /// The URL of the repository's `origin` remote ([`git_origin::origin_url`]).
    pub(crate) origin: Option<String>,
    /// The chart cache charts of Helm repositories and OCI registries are read from.
    pub(crate) cache: Option<&'a driftlint_charts::ChartCache>,
}

/// True for an Argo CD `Application`.
pub(crate) fn is_application(obj: &Node) -> bool {
    obj.str_at(&["kind"]) == Some("Application") && in_group(obj)
}

/// True for an Argo CD `ApplicationSet`.
pub(crate) fn is_application_set(obj: &Node) -> bool {
    obj.str_at(&["kind"]) == Some("ApplicationSet") && in_group(obj)
}

fn in_group(obj: &Node) -> bool {
    obj.str_at(&["apiVersion"])
        .is_some_and(|v| v.split_once('/').is_some_and(|(g, _)| g == GROUP))
}

/// True when `n.key` is the boolean `true` (however the YAML spells it as a scalar).
pub(crate) fn flag(n: &Node, key: &str) -> bool {
    n.get(key).and_then(Node::scalar_text) == Some("true")
}

/// A Git URL as Argo CD compares them (`git.NormalizeGitURL`): lower case, no scheme or
/// user, `host:path` (scp form) as `host/path`, no trailing `/` or `.git`.
pub(crate) fn normalize_url(url: &str) -> String {
    let mut s = url.trim().to_lowercase();
    for scheme in ["https://", "http://", "ssh://", "git://", "git+ssh://"] {
        if let Some(rest) = s.strip_prefix(scheme) {
            s = rest.to_string();
            break;
        }
    }
    if let Some((user, rest)) = s.split_once('@') {
        if !user.contains('/') {
            s = rest.to_string();
        }
    }
    if let Some((host, rest)) = s.split_once(':') {
        if !host.contains('/') && !rest.starts_with(|c: char| c.is_ascii_digit()) {
            s = format!("{host}/{rest}");
        }
    }
    let s = s.trim_end_matches('/');
    s.strip_suffix(".git").unwrap_or(s).to_string()
}

/// The repo-relative folder `url` is: the folder of the `sources:` entry that maps it, else
/// `.` when it is the `origin` remote's URL.
pub(crate) fn local_folder(config: &Config, origin: Option<&str>, url: &str) -> Option<String> {
    let want = normalize_url(url);
    config
        .sources
        .iter()
        .find(|s| s.url.as_deref().is_some_and(|u| normalize_url(u) == want))
        .map(|s| s.path.clone())
        .or_else(|| {
            origin
                .filter(|o| !want.is_empty() && normalize_url(o) == want)
                .map(|_| ".".to_string())
        })
}

/// One Application to render and what declared it.
#[derive(Clone)]
pub(crate) struct Declared {
    pub(crate) object: Node,
    /// The unit whose output holds it (index into the unit list); `None` for a bare folder.
    parent: Option<usize>,
    /// The id of the bare folder (or Flux unit) whose output holds it, when `parent` is `None`.
    bare_parent: Option<String>,
    /// Its namespace (the Application object's).
    namespace: String,
    /// The ApplicationSet that generated it: `namespace/name`.
    generated_by: Option<String>,
}

impl Declared {
    pub(crate) fn name(&self) -> &str {
        self.object.str_at(&["metadata", "name"]).unwrap_or("")
    }

    /// `spec.destination.namespace` (empty when unset).
    pub(crate) fn dest_namespace(&self) -> &str {
        self.object
            .str_at(&["spec", "destination", "namespace"])
            .unwrap_or("")
    }

    fn key(&self) -> (String, String) {
        (self.namespace.clone(), self.name().to_string())
    }

    fn label(&self) -> String {
        format!("Application {}/{}", self.namespace, self.name())
    }
}

/// What rendering the Applications gave.
pub(crate) struct Units {
    /// The Applications rendered (or failed), and ApplicationSets that failed to generate.
    pub(crate) rendered: Vec<Rendered>,
    /// Applications not rendered, with the reason (a source outside this repository).
    pub(crate) skipped: Vec<SkippedUnit>,
}

struct Unit {
    declared: Declared,
    rendered: Option<Rendered>,
}

/// Renders every Application declared (or generated by an ApplicationSet) in `bare` (the
/// folders and Flux units already rendered) and, level by level, in what Applications render.
pub(crate) fn render_units(ctx: &Ctx, bare: &[Rendered]) -> Units {
    let mut units: Vec<Unit> = Vec::new();
    let mut failures: Vec<Rendered> = Vec::new();
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let cluster = cluster_scoped(bare);
    let fallback = in_failed_folders(ctx, bare);
    let mut level = declared_in(
        ctx,
        bare.iter().chain(fallback.iter()).map(|r| (None, r)),
        &mut failures,
    );
    let mut depth = 0;
    let mut skipped: Vec<SkippedUnit> = Vec::new();
    while !level.is_empty() && depth < MAX_DEPTH {
        level = new_ones(level, &mut units, &mut seen);
        let room = MAX_APPS.saturating_sub(units.len());
        for d in level.drain(room.min(level.len())..) {
            skipped.push(skip(
                &d,
                "not rendered: over the budget of 20,000 Applications",
            ));
        }
        let results: Vec<Option<Rendered>> = level
            .par_iter()
            .map(|d| render_app(ctx, d, &cluster))
            .collect();
        let first = units.len();
        for (declared, rendered) in level.into_iter().zip(results) {
            seen.insert(declared.key(), units.len());
            units.push(Unit { declared, rendered });
        }
        let outputs =
            (first..units.len()).filter_map(|i| units[i].rendered.as_ref().map(|r| (Some(i), r)));
        level = declared_in(ctx, outputs, &mut failures);
        depth += 1;
    }
    for d in level {
        skipped.push(skip(&d, "not rendered: nested deeper than 16 levels"));
    }
    finish(units, failures, skipped)
}

/// The Argo CD objects written in the YAML files of each bare kustomization folder that
/// failed to render (its failure is already reported): an ApplicationSet next to a
/// kustomization whose Helm charts are not vendored is still applied by whatever bootstraps
/// Argo CD, so its Applications are still rendered. One pseudo-target per folder.
fn in_failed_folders(ctx: &Ctx, bare: &[Rendered]) -> Vec<Rendered> {
    let mut out = Vec::new();
    for r in bare
        .iter()
        .filter(|r| r.failure.is_some() && r.target.kind == Kind::Kustomize)
    {
        let abs = ctx.fs.root().join(&r.target.path);
        let Ok(entries) = std::fs::read_dir(&abs) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
            .collect();
        names.sort();
        let mut objects = Vec::new();
        for name in names {
            let file = abs.join(&name);
            let Ok(text) = ctx.fs.read_text(&file) else {
                continue;
            };
            let display = ctx.fs.display(&file);
            let Ok(docs) = driftlint_yaml::parse_documents(display.into(), &text) else {
                continue;
            };
            objects.extend(
                docs.into_iter()
                    .filter(|d| is_application(d) || is_application_set(d)),
            );
        }
        if !objects.is_empty() {
            out.push(Rendered {
                target: r.target.clone(),
                objects,
                files: Vec::new(),
                failure: None,
                declared: None,
            });
        }
    }
    out
}

/// Drops Applications already rendered (the same namespace and name); one found again in
/// an Application's output takes that Application as its parent when it had none.
fn new_ones(
    level: Vec<Declared>,
    units: &mut [Unit],
    seen: &mut BTreeMap<(String, String), usize>,
) -> Vec<Declared> {
    let mut fresh: Vec<Declared> = Vec::new();
    for d in level {
        if let Some(&i) = seen.get(&d.key()) {
            if units[i].declared.parent.is_none() && d.parent.is_some_and(|p| p != i) {
                units[i].declared.parent = d.parent;
            }
            continue;
        }
        if fresh.iter().any(|f| f.key() == d.key()) {
            continue;
        }
        fresh.push(d);
    }
    fresh
}

fn skip(d: &Declared, why: &str) -> SkippedUnit {
    (d.label(), d.object.origin.clone(), why.to_string())
}

/// Custom kinds whose CRD (among `rendered`) is cluster-scoped: `(group, kind)`.
fn cluster_scoped(rendered: &[Rendered]) -> BTreeSet<(String, String)> {
    rendered
        .iter()
        .flat_map(|r| r.objects.iter())
        .filter(|o| o.str_at(&["kind"]) == Some("CustomResourceDefinition"))
        .filter(|o| o.str_at(&["spec", "scope"]) == Some("Cluster"))
        .filter_map(|o| {
            Some((
                o.str_at(&["spec", "group"])?.to_string(),
                o.str_at(&["spec", "names", "kind"])?.to_string(),
            ))
        })
        .collect()
}

/// The Applications among the objects of `outputs` (each with the unit that rendered it),
/// ApplicationSets expanded; an ApplicationSet that cannot generate is a failed target.
fn declared_in<'r>(
    ctx: &Ctx,
    outputs: impl Iterator<Item = (Option<usize>, &'r Rendered)>,
    failures: &mut Vec<Rendered>,
) -> Vec<Declared> {
    let mut out = Vec::new();
    for (parent, r) in outputs {
        let bare = parent.is_none().then(|| r.target.id());
        for obj in r.objects.iter() {
            if is_application(obj) {
                let mut d = declared(obj.clone(), parent, None);
                d.bare_parent.clone_from(&bare);
                out.push(d);
            } else if is_application_set(obj) {
                match generate(ctx, obj) {
                    Ok(apps) => {
                        let by = Some(object_key(obj));
                        out.extend(apps.into_iter().map(|a| {
                            let mut d = declared(a, parent, by.clone());
                            d.bare_parent.clone_from(&bare);
                            d
                        }));
                    }
                    Err(e) => failures.push(appset_failed(ctx, obj, e)),
                }
            }
        }
    }
    out.sort_by_key(|d| d.key());
    out
}

fn object_key(obj: &Node) -> String {
    format!(
        "{}/{}",
        obj.str_at(&["metadata", "namespace"])
            .unwrap_or(ARGOCD_NAMESPACE),
        obj.str_at(&["metadata", "name"]).unwrap_or("")
    )
}

fn declared(object: Node, parent: Option<usize>, generated_by: Option<String>) -> Declared {
    let namespace = object
        .str_at(&["metadata", "namespace"])
        .filter(|n| !n.is_empty())
        .unwrap_or(ARGOCD_NAMESPACE)
        .to_string();
    Declared {
        object,
        parent,
        bare_parent: None,
        namespace,
        generated_by,
    }
}

fn generate(ctx: &Ctx, obj: &Node) -> Result<Vec<Node>, Located> {
    let spec = obj.get("spec");
    let go = spec.is_some_and(|s| flag(s, "goTemplate"));
    let options: Vec<String> = spec
        .and_then(|s| s.get("goTemplateOptions"))
        .and_then(Node::as_seq)
        .map(|s| {
            s.iter()
                .filter_map(|o| o.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let engine = template::Engine::new(go, &options).map_err(|m| Located {
        code: "RENDER001",
        message: m,
        origin: obj.origin.clone(),
    })?;
    let gctx = appset::GenContext {
        fs: ctx.fs,
        config: ctx.config,
        origin: ctx.origin.as_deref(),
        engine: &engine,
    };
    appset::applications(&gctx, obj)
}

fn appset_failed(ctx: &Ctx, obj: &Node, e: Located) -> Rendered {
    let mut target = Target::new(Kind::Argo, PathBuf::from(obj.origin.file.as_ref()));
    let ns = obj
        .str_at(&["metadata", "namespace"])
        .unwrap_or(ARGOCD_NAMESPACE);
    let name = obj.str_at(&["metadata", "name"]).unwrap_or("");
    target.unit = Some(UnitRef::declared("ApplicationSet", ns, name, &obj.origin));
    let _ = ctx;
    let finding = Finding {
        code: e.code.into(),
        severity: Severity::Error,
        message: format!("cannot generate ApplicationSet {ns}/{name}: {}", e.message),
        origin: e.origin,
        object: None,
        target: target.id(),
        field: None,
    };
    Rendered {
        files: vec![PathBuf::from(obj.origin.file.as_ref())],
        target,
        objects: Vec::new(),
        failure: Some(finding),
        declared: None,
    }
}

/// The sources of an Application: `spec.sources`, else `spec.source`.
fn sources(app: &Node) -> Vec<Node> {
    if let Some(list) = app.get_path(&["spec", "sources"]).and_then(Node::as_seq) {
        if !list.is_empty() {
            return list.clone();
        }
    }
    app.get_path(&["spec", "source"])
        .cloned()
        .into_iter()
        .collect()
}

/// Renders one Application; `None` when none of its sources is in this repository.
fn render_app(ctx: &Ctx, d: &Declared, cluster: &BTreeSet<(String, String)>) -> Option<Rendered> {
    let all = sources(&d.object);
    let mut refs: Vec<(String, PathBuf)> = Vec::new();
    for s in all.iter().filter(|s| s.get("ref").is_some()) {
        if let Ok(source::Place::Local(dir)) = source::place(ctx, s) {
            let name = s.str_at(&["ref"]).unwrap_or("").to_string();
            let url = s.str_at(&["repoURL"]).unwrap_or("");
            let folder = local_folder(ctx.config, ctx.origin.as_deref(), url);
            let root = crate::discover::config_path(ctx.fs, &folder.unwrap_or_default());
            refs.push((name, root.unwrap_or(dir)));
        }
    }
    let rendered: Vec<&Node> = all
        .iter()
        .filter(|s| s.get("ref").is_none() || s.get("path").is_some() || s.get("chart").is_some())
        .collect();
    let mut target: Option<Target> = None;
    let mut objects = Vec::new();
    let mut files = vec![PathBuf::from(d.object.origin.file.as_ref())];
    for s in &rendered {
        match source::place(ctx, s) {
            Ok(source::Place::Local(dir)) => {
                let t = target.get_or_insert_with(|| unit_target(d, dir.clone()));
                match source::render(ctx, d, s, &dir, &refs) {
                    Ok(out) => {
                        objects.extend(out.objects);
                        files.extend(out.files);
                    }
                    Err(e) => return Some(failed(t.clone(), d, e, files)),
                }
            }
            Ok(source::Place::Chart) => {
                let t = target.get_or_insert_with(|| unit_target(d, file_dir(d)));
                match source::cached_chart_source(ctx, d, s, &refs) {
                    Ok(out) => {
                        objects.extend(out.objects);
                        files.extend(out.files);
                    }
                    Err(e) => return Some(failed(t.clone(), d, e, files)),
                }
            }
            Ok(source::Place::Elsewhere) => {}
            Err(e) => {
                let t = target.get_or_insert_with(|| unit_target(d, file_dir(d)));
                return Some(failed(t.clone(), d, e, files));
            }
        }
    }
    let target = target?;
    source::set_namespace(&mut objects, d.dest_namespace(), cluster);
    files.sort();
    files.dedup();
    Some(Rendered {
        target,
        objects,
        files,
        failure: None,
        declared: Some(d.object.clone()),
    })
}

/// The Application's file, as the path of a unit with no local folder (a chart from a Helm
/// repository, a path that does not exist): it must not cover the folder it is declared in.
fn file_dir(d: &Declared) -> PathBuf {
    PathBuf::from(d.object.origin.file.as_ref())
}

fn unit_target(d: &Declared, dir: PathBuf) -> Target {
    let mut target = Target::new(Kind::Argo, dir);
    target.unit = Some(UnitRef::declared(
        "Application",
        &d.namespace,
        d.name(),
        &d.object.origin,
    ));
    target
}

fn failed(target: Target, d: &Declared, e: Located, files: Vec<PathBuf>) -> Rendered {
    let via = d
        .generated_by
        .as_ref()
        .map(|s| format!(" (generated by ApplicationSet {s})"))
        .unwrap_or_default();
    let severity = if e.code == "CHART001" {
        Severity::Warning
    } else {
        Severity::Error
    };
    let finding = Finding {
        code: e.code.into(),
        severity,
        message: format!(
            "cannot render Argo CD Application {}/{}{via}: {}",
            d.namespace,
            d.name(),
            e.message
        ),
        origin: e.origin,
        object: None,
        target: target.id(),
        field: None,
    };
    Rendered {
        files,
        target,
        objects: Vec::new(),
        failure: Some(finding),
        declared: Some(d.object.clone()),
    }
}

fn finish(units: Vec<Unit>, failures: Vec<Rendered>, mut skipped: Vec<SkippedUnit>) -> Units {
    let ids: Vec<Option<String>> = units
        .iter()
        .map(|u| u.rendered.as_ref().map(|r| r.target.id()))
        .collect();
    let mut rendered = failures;
    for u in units {
        match u.rendered {
            Some(mut r) => {
                if let Some(unit) = r.target.unit.as_mut() {
                    unit.parent = match u.declared.parent {
                        Some(p) => ids[p].clone(),
                        None => u.declared.bare_parent,
                    };
                }
                rendered.push(r);
            }
            None => skipped.push(skip(
                &u.declared,
                "no source is this repository (map its repoURL under `sources:` with `url:` in .driftlint.yaml)",
            )),
        }
    }
    Units { rendered, skipped }
}

/// A chart folder an Application renders is checked through it, not also as a bare chart
/// with its own values.
pub(crate) fn drop_charts(bare: &mut Vec<Rendered>, units: &[Rendered]) {
    let paths: BTreeSet<&std::path::Path> = units
        .iter()
        .filter(|u| u.failure.is_none())
        .map(|u| u.target.path.as_path())
        .collect();
    bare.retain(|r| !(r.target.kind == Kind::Helm && paths.contains(r.target.path.as_path())));
}

#[cfg(test)]
mod tests {
    use super::normalize_url;

    #[test]
    fn urls_compare_as_argo_cd_compares_them() {
        let a = normalize_url("https://github.com/Org/Repo.git");
        assert_eq!(a, "github.com/org/repo");
        assert_eq!(normalize_url("git@github.com:org/repo"), a);
        assert_eq!(normalize_url("ssh://git@github.com/org/repo/"), a);
    }
}
