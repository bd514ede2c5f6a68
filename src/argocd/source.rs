//! One Argo CD Application rendered as the repo-server renders it (argo-cd
//! `reposerver/repository`, `GenerateManifests`): each source (`spec.source`, or every
//! `spec.sources[]` entry with a `path` or `chart`) of this repository is rendered by its type
//! — explicit (`directory`, `kustomize`, `helm`; `plugin` refused) or discovered (a
//! kustomization file → Kustomize, else `Chart.yaml` → Helm, else a directory of manifests)
//! — then the destination namespace is set on namespaced objects that have none, as
//! `kubectl apply -n` does when Argo CD syncs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{GlobBuilder, GlobMatcher};

use super::Ctx as UnitContext;
use super::{local_folder, Declared, Located};
use crate::cached_chart::{self, Lookup};
use crate::check::{flatten_list, is_object};
use driftlint_charts::ChartLocator;
use driftlint_helm::{SetKind, TemplateOptions};
use driftlint_kustomize::{self as kustomize, ArgoOverlay, BuildOptions};
use driftlint_yaml::{Node, Origin};

/// Files a directory source may list.
const MAX_FILES: usize = 50_000;
/// Seed for Sprig's random functions in charts (same bytes out run after run).
const RANDOM_SEED: u64 = 0x6472_6966_746c_696e;

/// What rendering one source gave: objects and the files read.
#[derive(Default)]
pub(crate) struct Output {
    pub(crate) objects: Vec<Node>,
    pub(crate) files: Vec<PathBuf>,
}

/// Where a source's content is.
pub(crate) enum Place {
    /// A folder of this repository (repo-relative).
    Local(PathBuf),
    /// A chart of a Helm repository or OCI registry (`chart:`), read from the chart cache.
    Chart,
    /// A Git repository that is not this one.
    Elsewhere,
}

/// Where `source` reads from.
///
/// Errors: a `path` that leaves the repository, or does not exist.
pub(crate) fn place(ctx: &UnitContext, source: &Node) -> Result<Place, Located> {
    let url = source.str_at(&["repoURL"]).unwrap_or("");
    if source.get("chart").is_some() {
        return Ok(Place::Chart);
    }
    let Some(folder) = local_folder(ctx.config, ctx.origin.as_deref(), url) else {
        return Ok(Place::Elsewhere);
    };
    let path = source.str_at(&["path"]).unwrap_or(".");
    let at = source.get("path").unwrap_or(source);
    crate::discover::config_path(ctx.fs, &format!("{folder}/{path}"))
        .map(Place::Local)
        .map_err(|e| Located {
            code: "RENDER001",
            message: format!("app path does not exist: {e}"),
            origin: at.origin.clone(),
        })
}

/// Renders one local source of `d` from `dir`; `refs` maps `$name` to the folder of the
/// source with `ref: name`.
///
/// Errors: the render failure, at the line responsible.
pub(crate) fn render(
    ctx: &UnitContext,
    d: &Declared,
    source: &Node,
    dir: &Path,
    refs: &[(String, PathBuf)],
) -> Result<Output, Located> {
    match source_type(ctx, source, dir)? {
        SourceType::Kustomize => kustomize_source(ctx, d, source, dir),
        SourceType::Helm => helm_source(ctx, d, source, dir, refs),
        SourceType::Directory => directory_source(ctx, source, dir),
    }
}

enum SourceType {
    Kustomize,
    Helm,
    Directory,
}

fn source_type(ctx: &UnitContext, source: &Node, dir: &Path) -> Result<SourceType, Located> {
    let explicit: Vec<&str> = ["kustomize", "helm", "directory", "plugin"]
        .into_iter()
        .filter(|k| source.get(k).is_some())
        .collect();
    if explicit.len() > 1 {
        return Err(err(
            "RENDER001",
            format!(
                "multiple application sources defined: {}",
                explicit.join(",")
            ),
            source,
        ));
    }
    match explicit.first() {
        Some(&"kustomize") => return Ok(SourceType::Kustomize),
        Some(&"helm") => return Ok(SourceType::Helm),
        Some(&"directory") => return Ok(SourceType::Directory),
        Some(_) => {
            let at = source.get("plugin").unwrap_or(source);
            let msg =
                "config management plugins run arbitrary commands: not supported by driftlint";
            return Err(err("RENDER002", msg.into(), at));
        }
        None => {}
    }
    let is_file = |name: &str| ctx.fs.root().join(dir).join(name).is_file();
    if crate::discover::KUSTOMIZATION_FILES
        .iter()
        .any(|k| is_file(k))
    {
        Ok(SourceType::Kustomize)
    } else if is_file("Chart.yaml") {
        Ok(SourceType::Helm)
    } else {
        Ok(SourceType::Directory)
    }
}

fn kustomize_source(
    ctx: &UnitContext,
    d: &Declared,
    source: &Node,
    dir: &Path,
) -> Result<Output, Located> {
    let spec = match source.get("kustomize") {
        Some(k) => substituted(k, d)?,
        None => Node::null(source.origin.clone()),
    };
    let spec = drop_missing_components(ctx, spec, dir);
    let text = ctx.fs.text_read(&source.origin.file);
    let overlay = ArgoOverlay::from_spec(&spec, text).map_err(kustomize_err(source))?;
    let opts = BuildOptions {
        argo: (!overlay.is_empty()).then_some(&overlay),
        ..*ctx.build
    };
    let build = kustomize::build(ctx.fs, dir, &opts).map_err(kustomize_err(source))?;
    Ok(Output {
        objects: build.objects,
        files: build.files,
    })
}

fn kustomize_err(source: &Node) -> impl Fn(kustomize::KustomizeError) -> Located + '_ {
    move |e| Located {
        // CHART001 for a `helmCharts` chart the cache lacks (a warning, see `failed`).
        code: crate::check::kustomize_failure_code(&e).0,
        origin: e.origin.clone().unwrap_or_else(|| source.origin.clone()),
        message: format!("kustomize build failed: {e}"),
    }
}

/// `ignoreMissingComponents: true`: components whose folder does not exist are left out.
fn drop_missing_components(ctx: &UnitContext, mut spec: Node, dir: &Path) -> Node {
    if !super::flag(&spec, "ignoreMissingComponents") {
        return spec;
    }
    if let Some(list) = spec.get_mut("components").and_then(Node::as_seq_mut) {
        list.retain(|c| {
            c.as_str().is_some_and(|p| {
                let joined = crate::discover::display_path(&dir.join(p));
                crate::discover::config_path(ctx.fs, &joined)
                    .is_ok_and(|rel| ctx.fs.root().join(rel).is_dir())
            })
        });
    }
    spec
}

/// The `kustomize` node with `images` and `commonLabels` values (and `commonAnnotations`
/// with `commonAnnotationsEnvsubst`) substituted as Argo CD's `Env.Envsubst`: `$NAME` and
/// `${NAME}` from the build environment, `$$` a dollar.
///
/// Errors: a variable driftlint cannot know (the revision, the cluster's versions), RENDER002.
fn substituted(k: &Node, d: &Declared) -> Result<Node, Located> {
    let mut out = k.clone();
    let envsubst_annotations = super::flag(k, "commonAnnotationsEnvsubst");
    let mut fields = vec!["images", "commonLabels"];
    if envsubst_annotations {
        fields.push("commonAnnotations");
    }
    for f in fields {
        let Some(n) = out.get_mut(f) else { continue };
        let mut values: Vec<&mut Node> = match &mut n.value {
            driftlint_yaml::Value::Seq(items) => items.iter_mut().collect(),
            driftlint_yaml::Value::Map(m) => m.iter_mut().map(|(_, v)| v).collect(),
            _ => Vec::new(),
        };
        for v in values.iter_mut() {
            let Some(text) = v.as_str().filter(|t| t.contains('$')) else {
                continue;
            };
            let new = envsubst(text, d).map_err(|m| err("RENDER002", m, v))?;
            **v = Node::string(new, v.origin.clone());
        }
    }
    Ok(out)
}

/// Go's `os.Expand` with the Application's build environment.
fn envsubst(text: &str, d: &Declared) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = if let Some(body) = after.strip_prefix('{') {
            match body.find('}') {
                Some(end) => (&body[..end], end + 2),
                None => ("", 0),
            }
        } else if after.starts_with('$') {
            ("$", 1)
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        if len == 0 {
            out.push('$');
            rest = after;
            continue;
        }
        out.push_str(&env_value(name, d)?);
        rest = &after[len..];
    }
    out.push_str(rest);
    Ok(out)
}

fn env_value(name: &str, d: &Declared) -> Result<String, String> {
    Ok(match name {
        "$" => "$".into(),
        "ARGOCD_APP_NAME" => d.name().to_string(),
        "ARGOCD_APP_NAMESPACE" => d.dest_namespace().to_string(),
        "ARGOCD_APP_PROJECT_NAME" => d.object.str_at(&["spec", "project"]).unwrap_or("").into(),
        _ => {
            return Err(format!(
                "${name} is set by Argo CD at sync time (the revision, the cluster): driftlint cannot substitute it"
            ))
        }
    })
}

fn helm_source(
    ctx: &UnitContext,
    d: &Declared,
    source: &Node,
    dir: &Path,
    refs: &[(String, PathBuf)],
) -> Result<Output, Located> {
    let empty = Node::null(source.origin.clone());
    let helm = source.get("helm").unwrap_or(&empty);
    let mut files = Vec::new();
    let opts = helm_options(ctx, d, helm, Base::Dir(dir), refs, &mut files)?;
    let chart = driftlint_helm::load_chart(ctx.fs, dir).map_err(|e| helm_err(&e, helm))?;
    // The chart's folder: a change to any file in it changes the render (pre-commit).
    files.push(dir.to_path_buf());
    Ok(Output {
        objects: helm_objects(ctx, chart, &opts).map_err(|e| helm_err(&e, helm))?,
        files,
    })
}

/// A helm source whose chart comes from a Helm repository or OCI registry, read from the
/// chart cache: `repoURL` with a scheme `https://`/`http://` is a Helm repository; without a
/// scheme (or with `oci://`) an OCI registry, as Argo CD's `helm.IsHelmOciRepo` decides
/// (`enableOCI` repositories are written `ghcr.io/org/charts`); `targetRevision` is a semver
/// range resolved against the cached versions as the repo-server resolves it (`*` when
/// empty). Value files are files of the chart, or of this repository through a `$ref` source.
///
/// Errors: a `repoURL` or chart name that names no chart (RENDER001), a chart the cache lacks
/// (CHART001, a warning), a render failure.
pub(crate) fn cached_chart_source(
    ctx: &UnitContext,
    d: &Declared,
    source: &Node,
    refs: &[(String, PathBuf)],
) -> Result<Output, Located> {
    let at = source.get("chart").unwrap_or(source);
    let loc = locator(source).map_err(|m| err("RENDER001", m, at))?;
    let wanted = match source.str_at(&["targetRevision"]).unwrap_or("") {
        "" => "*",
        v => v,
    };
    let cached = match cached_chart::by_range(ctx.cache, &loc, wanted) {
        Ok(Lookup::Found(c)) => c,
        Ok(Lookup::Missing(msg)) => return Err(err("CHART001", msg, at)),
        Err(msg) => return Err(err("RENDER001", msg, at)),
    };
    let chart = cached
        .load()
        .map_err(|e| err("RENDER001", format!("{}: {e}", cached.label), at))?;
    let empty = Node::null(source.origin.clone());
    let helm = source.get("helm").unwrap_or(&empty);
    let mut files = Vec::new();
    let opts = helm_options(ctx, d, helm, Base::Chart(&chart), refs, &mut files)?;
    Ok(Output {
        objects: helm_objects(ctx, chart, &opts).map_err(|e| helm_err(&e, helm))?,
        files,
    })
}

/// The chart a helm source with `chart:` names ([`driftlint_charts::argo_locator`]).
fn locator(source: &Node) -> Result<ChartLocator, String> {
    let url = source.str_at(&["repoURL"]).unwrap_or("");
    let chart = source.str_at(&["chart"]).unwrap_or("");
    driftlint_charts::argo_locator(url, chart).map_err(|e| e.to_string())
}

/// Where a helm source's relative value files are: a folder of this repository, or a chart
/// from the cache.
enum Base<'c> {
    Dir(&'c Path),
    Chart(&'c driftlint_helm::Chart),
}

/// `helm template` options as the repo-server passes them: value files then inline values,
/// `--set`/`--set-string`/`--set-file`, release name, destination namespace, skips.
fn helm_options(
    ctx: &UnitContext,
    d: &Declared,
    helm: &Node,
    base: Base,
    refs: &[(String, PathBuf)],
    files: &mut Vec<PathBuf>,
) -> Result<TemplateOptions, Located> {
    let mut docs = value_files(ctx, helm, &base, refs, files)?;
    docs.extend(inline_values(helm)?);
    let (sets, set_files) = parameters(ctx, helm, &base, refs)?;
    Ok(TemplateOptions {
        release_name: helm
            .str_at(&["releaseName"])
            .filter(|n| !n.is_empty())
            .unwrap_or(d.name())
            .to_string(),
        namespace: match d.dest_namespace() {
            "" => "default".to_string(),
            ns => ns.to_string(),
        },
        values_docs: docs,
        sets,
        set_files,
        kube_version: Some(ctx.kube_version.to_string()),
        include_crds: !super::flag(helm, "skipCrds"),
        skip_tests: super::flag(helm, "skipTests"),
        skip_schema_validation: super::flag(helm, "skipSchemaValidation"),
        random_seed: Some(RANDOM_SEED),
        ..TemplateOptions::default()
    })
}

fn helm_err(e: &driftlint_helm::HelmError, helm: &Node) -> Located {
    let unsupported = matches!(e, driftlint_helm::HelmError::Unsupported(_))
        || e.to_string().contains("not supported by driftlint");
    let code = if unsupported {
        "RENDER002"
    } else {
        "RENDER001"
    };
    err(code, format!("helm template failed: {e}"), helm)
}

/// The objects `helm template` prints for `chart` (its text output gives content and order),
/// each with the origins of the traced render.
fn helm_objects(
    ctx: &UnitContext,
    chart: driftlint_helm::Chart,
    opts: &TemplateOptions,
) -> Result<Vec<Node>, driftlint_helm::HelmError> {
    let traced = driftlint_helm::render_chart_objects(ctx.fs, chart.clone(), opts)?;
    let text = driftlint_helm::template_chart(ctx.fs, chart, opts)?.manifest;
    let docs = driftlint_yaml::parse_documents("helm template".into(), &text)
        .map_err(|e| driftlint_helm::HelmError::Load(format!("helm template output: {e}")))?;
    Ok(crate::kustomize_helm::match_origins(docs, traced)
        .into_iter()
        .filter(is_object)
        .flat_map(flatten_list)
        .collect())
}

/// A value file path as Argo CD resolves it: `$ref/...` against the folder of the source
/// with that `ref`, else relative to the chart. `None` for a URL.
fn resolve_value_path(
    ctx: &UnitContext,
    raw: &str,
    dir: &Path,
    refs: &[(String, PathBuf)],
    at: &Node,
) -> Result<PathBuf, Located> {
    if raw.contains("://") {
        let msg = format!("remote value file {raw}: driftlint reads nothing from the network");
        return Err(err("RENDER002", msg, at));
    }
    let (base, rel) = match raw.strip_prefix('$') {
        Some(rest) => {
            let (name, rel) = rest.split_once('/').unwrap_or((rest, ""));
            let Some((_, folder)) = refs.iter().find(|(n, _)| n == name) else {
                let msg = format!(
                    "{raw}: no source of this Application has ref {name} in this repository"
                );
                return Err(err("RENDER001", msg, at));
            };
            (folder.clone(), rel.to_string())
        }
        None => (dir.to_path_buf(), raw.to_string()),
    };
    let joined = crate::discover::display_path(&base.join(rel));
    crate::discover::config_path(ctx.fs, &joined)
        .map_err(|e| err("RENDER001", format!("value file {raw}: {e}"), at))
}

fn value_files(
    ctx: &UnitContext,
    helm: &Node,
    base: &Base,
    refs: &[(String, PathBuf)],
    files: &mut Vec<PathBuf>,
) -> Result<Vec<Node>, Located> {
    let ignore_missing = super::flag(helm, "ignoreMissingValueFiles");
    let empty = Vec::new();
    let mut docs = Vec::new();
    for v in helm
        .get("valueFiles")
        .and_then(Node::as_seq)
        .unwrap_or(&empty)
    {
        let raw = v.as_str().unwrap_or("");
        let found = match base {
            Base::Chart(chart) if !raw.starts_with('$') && !raw.contains("://") => {
                chart_value_file(chart, raw, v)
            }
            Base::Chart(_) => repo_value_file(ctx, raw, Path::new(""), refs, v, files),
            Base::Dir(dir) => repo_value_file(ctx, raw, dir, refs, v, files),
        };
        let found = match found {
            Err(_) if ignore_missing && !raw.contains("://") => None,
            other => other?,
        };
        match found {
            Some(doc) => docs.push(doc),
            None if ignore_missing => {}
            None => {
                let msg =
                    format!("value file {raw} does not exist (ignoreMissingValueFiles is not set)");
                return Err(err("RENDER001", msg, v));
            }
        }
    }
    Ok(docs)
}

/// A value file of this repository (relative to `dir`, or `$ref/...`); `None` when missing.
fn repo_value_file(
    ctx: &UnitContext,
    raw: &str,
    dir: &Path,
    refs: &[(String, PathBuf)],
    v: &Node,
    files: &mut Vec<PathBuf>,
) -> Result<Option<Node>, Located> {
    let path = resolve_value_path(ctx, raw, dir, refs, v)?;
    let abs = ctx.fs.root().join(&path);
    if !abs.is_file() {
        return Ok(None);
    }
    let text = ctx
        .fs
        .read_text(&abs)
        .map_err(|e| err("RENDER001", e.to_string(), v))?;
    let display = ctx.fs.display(&abs);
    let parsed = driftlint_yaml::parse_documents(display.into(), &text)
        .map_err(|e| err("RENDER001", format!("value file {raw}: {e}"), v))?;
    files.push(path);
    Ok(Some(
        parsed
            .into_iter()
            .next()
            .unwrap_or_else(|| Node::null(v.origin.clone())),
    ))
}

/// A value file inside a chart from the cache; `None` when the chart has no such file.
fn chart_value_file(
    chart: &driftlint_helm::Chart,
    raw: &str,
    v: &Node,
) -> Result<Option<Node>, Located> {
    let name = raw.trim_start_matches("./");
    let Some((_, bytes)) = chart.files.iter().find(|(p, _)| p == name) else {
        return Ok(None);
    };
    let text = String::from_utf8(bytes.clone())
        .map_err(|_| err("RENDER001", format!("value file {raw}: not UTF-8"), v))?;
    let file: Arc<str> = Arc::from(format!("{}/{name}", chart.dir));
    let parsed = driftlint_yaml::parse_documents(file, &text)
        .map_err(|e| err("RENDER001", format!("value file {raw}: {e}"), v))?;
    Ok(Some(
        parsed
            .into_iter()
            .next()
            .unwrap_or_else(|| Node::null(v.origin.clone())),
    ))
}

/// `values` (a YAML string) then `valuesObject`, which Argo CD prefers when both are set,
/// passed after the value files as the repo-server's temporary values file is.
fn inline_values(helm: &Node) -> Result<Vec<Node>, Located> {
    if let Some(obj) = helm.get("valuesObject") {
        return Ok(vec![obj.clone()]);
    }
    let Some(v) = helm.get("values") else {
        return Ok(Vec::new());
    };
    if v.as_map().is_some() {
        return Ok(vec![v.clone()]);
    }
    let text = v.as_str().unwrap_or("");
    let docs = driftlint_yaml::parse_documents(v.origin.file.clone(), text)
        .map_err(|e| err("RENDER001", format!("helm values: {e}"), v))?;
    let line = v.origin.line;
    Ok(docs
        .into_iter()
        .take(1)
        .map(|mut n| {
            shift(&mut n, line);
            n
        })
        .collect())
}

/// Moves the origins of a block scalar's parsed content to the lines of the file holding it.
fn shift(n: &mut Node, line: u32) {
    n.origin.line += line;
    match &mut n.value {
        driftlint_yaml::Value::Seq(items) => items.iter_mut().for_each(|i| shift(i, line)),
        driftlint_yaml::Value::Map(m) => m.entries_mut().iter_mut().for_each(|(k, v)| {
            shift(k, line);
            shift(v, line);
        }),
        driftlint_yaml::Value::Scalar(_) => {}
    }
}

/// `--set`/`--set-string` arguments, in order.
type SetArgs = Vec<(SetKind, String)>;

/// `parameters` (`--set`, or `--set-string` with `forceString`) and `fileParameters`
/// (`--set-file`, paths resolved as value files).
fn parameters(
    ctx: &UnitContext,
    helm: &Node,
    base: &Base,
    refs: &[(String, PathBuf)],
) -> Result<(SetArgs, Vec<String>), Located> {
    let empty = Vec::new();
    let mut sets = Vec::new();
    for p in helm
        .get("parameters")
        .and_then(Node::as_seq)
        .unwrap_or(&empty)
    {
        let name = p.str_at(&["name"]).unwrap_or("");
        let value = p.get("value").and_then(Node::scalar_text).unwrap_or("");
        let kind = if super::flag(p, "forceString") {
            SetKind::String
        } else {
            SetKind::Typed
        };
        sets.push((kind, format!("{name}={value}")));
    }
    let mut set_files = Vec::new();
    for p in helm
        .get("fileParameters")
        .and_then(Node::as_seq)
        .unwrap_or(&empty)
    {
        let name = p.str_at(&["name"]).unwrap_or("");
        let raw = p.str_at(&["path"]).unwrap_or("");
        let dir = match base {
            Base::Dir(dir) => *dir,
            Base::Chart(_) if raw.starts_with('$') => Path::new(""),
            Base::Chart(_) => {
                let msg = format!("fileParameters path {raw} inside a chart from a Helm repository: not supported by driftlint (use a $ref source)");
                return Err(err("RENDER002", msg, p));
            }
        };
        let path = resolve_value_path(ctx, raw, dir, refs, p)?;
        set_files.push(format!("{name}={}", crate::discover::display_path(&path)));
    }
    Ok((sets, set_files))
}

/// A directory source: `.yaml`, `.yml` and `.json` files of the folder (and its subfolders
/// with `recurse`), filtered by the `include` and `exclude` globs (matched against the path
/// relative to the folder; `{a,b}` alternatives); Jsonnet files are refused.
fn directory_source(ctx: &UnitContext, source: &Node, dir: &Path) -> Result<Output, Located> {
    let empty = Node::null(source.origin.clone());
    let d = source.get("directory").unwrap_or(&empty);
    let recurse = super::flag(d, "recurse");
    let include = glob(d, "include")?;
    let exclude = glob(d, "exclude")?;
    let mut out = Output::default();
    let mut files = Vec::new();
    list_files(ctx, dir, Path::new(""), recurse, &mut files, d)?;
    for rel in files {
        let text = crate::discover::display_path(&rel);
        if include.as_ref().is_some_and(|g| !g.is_match(&text))
            || exclude.as_ref().is_some_and(|g| g.is_match(&text))
        {
            continue;
        }
        if text.ends_with(".jsonnet") || text.ends_with(".libsonnet") {
            let msg = format!("{text}: Jsonnet is not supported by driftlint");
            return Err(err("RENDER002", msg, d.get("jsonnet").unwrap_or(source)));
        }
        let path = dir.join(&rel);
        read_manifests(ctx, &path, &mut out)?;
    }
    Ok(out)
}

fn glob(d: &Node, key: &str) -> Result<Option<GlobMatcher>, Located> {
    let Some(n) = d.get(key) else { return Ok(None) };
    let pattern = n.as_str().unwrap_or("");
    if pattern.is_empty() {
        return Ok(None);
    }
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
        .map(|g| Some(g.compile_matcher()))
        .map_err(|e| err("RENDER001", format!("invalid glob {pattern:?}: {e}"), n))
}

fn list_files(
    ctx: &UnitContext,
    top: &Path,
    rel: &Path,
    recurse: bool,
    out: &mut Vec<PathBuf>,
    at: &Node,
) -> Result<(), Located> {
    let abs = ctx.fs.root().join(top).join(rel);
    let entries = std::fs::read_dir(&abs).map_err(|e| {
        err(
            "RENDER001",
            format!("cannot read {}: {e}", ctx.fs.display(&abs)),
            at,
        )
    })?;
    let mut names: Vec<(String, std::fs::FileType)> = entries
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.to_string(), e.file_type().ok()?)))
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, t) in names {
        if out.len() > MAX_FILES {
            return Err(err("RENDER001", "more than 50,000 files".into(), at));
        }
        let child = rel.join(&name);
        if t.is_dir() && recurse {
            list_files(ctx, top, &child, recurse, out, at)?;
        } else if t.is_file()
            && [".yaml", ".yml", ".json", ".jsonnet", ".libsonnet"]
                .iter()
                .any(|x| name.ends_with(x))
        {
            out.push(child);
        }
    }
    Ok(())
}

fn read_manifests(ctx: &UnitContext, path: &Path, out: &mut Output) -> Result<(), Located> {
    let abs = ctx.fs.root().join(path);
    let display = ctx.fs.display(&abs);
    let at = Node::null(Origin::new(Arc::from(display.as_str()), 1, 1));
    let text = ctx
        .fs
        .read_text(&abs)
        .map_err(|e| err("RENDER001", e.to_string(), &at))?;
    let docs = driftlint_yaml::parse_documents(display.clone().into(), &text).map_err(|e| {
        err(
            "RENDER001",
            format!("failed to unmarshal {display}: {e}"),
            &at,
        )
    })?;
    out.objects
        .extend(docs.into_iter().filter(is_object).flat_map(flatten_list));
    out.files.push(path.to_path_buf());
    Ok(())
}

/// Sets the destination namespace on namespaced objects without one (`cluster` holds the
/// custom kinds whose CRD says `scope: Cluster`).
pub(crate) fn set_namespace(objects: &mut [Node], ns: &str, cluster: &BTreeSet<(String, String)>) {
    if ns.is_empty() {
        return;
    }
    for obj in objects.iter_mut() {
        let api = obj.str_at(&["apiVersion"]).unwrap_or("").to_string();
        let kind = obj.str_at(&["kind"]).unwrap_or("").to_string();
        let group = api.rsplit_once('/').map_or("", |(g, _)| g).to_string();
        if kustomize::is_cluster_scoped(&api, &kind) || cluster.contains(&(group, kind)) {
            continue;
        }
        if obj
            .str_at(&["metadata", "namespace"])
            .is_some_and(|n| !n.is_empty())
        {
            continue;
        }
        let at = obj
            .origin
            .clone()
            .with_via("Application destination.namespace");
        if let Some(meta) = obj.get_mut("metadata").and_then(Node::as_map_mut) {
            meta.insert("namespace", Node::string(ns, at));
        }
    }
}

fn err(code: &'static str, message: String, at: &Node) -> Located {
    Located {
        code,
        message,
        origin: at.origin.clone(),
    }
}
