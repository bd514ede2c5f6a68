//! The native Kustomize engine: builds a kustomization directory into Kubernetes objects
//! the way `kustomize build` (v5.7.1, as embedded in `kubectl kustomize`) does, keeping for
//! every value the [`Origin`] it came from.
//!
//! Supported: `resources` (files, multi-document files, `*List` kinds, directories with their
//! own kustomization), `components`, `bases`, `patches` / `patchesStrategicMerge` /
//! `patchesJson6902` (strategic merge with schema merge keys, JSON 6902, target selectors),
//! `namespace`, `namePrefix`/`nameSuffix` with name-reference fix-ups, `commonLabels`,
//! `labels`, `commonAnnotations`, `images`, `replicas`, `configMapGenerator` /
//! `secretGenerator` / `generatorOptions` with kustomize's hash suffix, `replacements`,
//! `vars`, `configurations`, `crds`, `openapi` (the first one met, as kustomize),
//! `sortOptions`, `buildMetadata` (origin and transformer annotations, managed-by label),
//! builtin transformer plugins in `transformers`, builtin ConfigMap/Secret generators in
//! `generators`, builtin transformers as `validators` (which must not change anything), and
//! kustomize's default (legacy) output order, and `helmCharts`/`helmGlobals` for charts present
//! under `chartHome`, rendered by the [`HelmRenderer`] given in [`BuildOptions`] (charts
//! kustomize would pull fail). The deprecated `helmChartInflationGenerator` and
//! non-builtin plugins (exec, Go, KRM functions, also as validators) fail the build with
//! `unsupported: FIELD (FILE:LINE)`.
//!
//! Origins: values read from a file keep that file's line and column; values a patch sets
//! carry the patch's lines and `via: "patch"` (inline patches point into the kustomization
//! file); values a transformer sets point at the kustomization line that asked for them,
//! with `via` naming the transformer (`"namespace transformer"`, `"images transformer"`,
//! ...); generated ConfigMaps and Secrets point at their generator entry (data values at
//! their literal, file or env-file line).
//!
//! How to call it: [`build`] a directory of a [`RepoFs`] with [`BuildOptions`] (the schema
//! catalog from `driftlint_schema` supplies strategic-merge metadata through [`MergeInfo`]),
//! then [`render_yaml`] prints what `kubectl kustomize` prints.
//!
//! All reads go through [`RepoFs`]: nothing outside the repository is read, files
//! referenced by a kustomization must lie in or below its directory (kustomize's
//! `LoadRestrictionsRootOnly`). Remote bases are not fetched unless
//! [`BuildOptions::allow_remote`] is set; then they are cloned with the system `git` into a
//! cache and each clone is read as its own confined repository (see `remote`).
//!
//! Known differences from kustomize: generator files that are not UTF-8 text are refused
//! (kustomize would emit `binaryData`); an env-file line without `=` reads as an empty value
//! with a warning (kustomize reads the process environment); merge keys come from the
//! schema catalog given in [`BuildOptions`] (Kubernetes 1.25+) rather than kustomize's
//! embedded 1.21 schema, so list fields added to built-in types after 1.21 merge by key
//! where kustomize replaces them; error messages are worded differently (one line, with
//! the file and line).

mod annotations;
mod argocd;
mod budget;
mod build_metadata;
mod builtin_specs;
mod config;
mod crds;
mod decode;
mod error;
mod fieldspec;
mod flux;
mod generators;
mod hash;
mod hash_transformer;
mod helm_args;
mod helm_charts;
mod images;
mod kustfile;
mod labels;
mod loader;
mod merge_info;
mod nameref;
mod namespace;
mod nodeutil;
mod openapi;
mod order;
mod patch;
mod patch_json6902;
mod patch_smp;
mod plugins;
mod post_render;
mod prefix_suffix;
mod remote;
mod replacements;
mod replicas;
mod resid;
mod resmap;
mod resource;
mod selector;
mod target;
mod timestamps;
mod validators;
mod value_add;
mod vars;

use std::path::{Path, PathBuf};

pub use budget::MAX_BUILD_SIZE;

/// True for a built-in kind kustomize knows to be cluster-scoped (`Namespace`,
/// `ClusterRole`, `CustomResourceDefinition`, ...); other kinds are namespaced as far as
/// kustomize knows.
pub fn is_cluster_scoped(api_version: &str, kind: &str) -> bool {
    resid::Gvk::from_api_version(api_version, kind).is_cluster_scoped()
}
pub use argocd::ArgoOverlay;
pub use error::{ErrorKind, KustomizeError};
pub use flux::FluxOverlay;
pub use helm_charts::{HelmRenderer, HelmTemplate, PulledValues, RemoteChart, HELM3_KUBE_VERSION};
pub use merge_info::{ListMeta, MergeInfo};
pub use post_render::post_render;

use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{emit_documents, emit_documents_with_origins, Node, Origin};

use loader::{Loader, Target};
use nodeutil::{is_empty_map, is_null};

/// Options of a build. Cheap to copy and `Send + Sync`, so one value can drive many builds
/// in parallel.
#[derive(Clone, Copy, Default)]
pub struct BuildOptions<'a> {
    /// Schema lookups giving strategic-merge keys (normally the embedded schema catalog).
    /// Without it, every list in a strategic merge patch replaces the object's list, as
    /// kustomize does for types it has no schema for.
    pub merge_info: Option<&'a dyn MergeInfo>,
    /// Clone remote bases (git URLs such as `github.com/org/repo//dir?ref=v1`) with the
    /// system `git` (`--allow-remote`); otherwise they fail the build.
    pub allow_remote: bool,
    /// Where clones are cached (`DIR/remote/<key>`); None for `$XDG_CACHE_HOME/driftlint`,
    /// else `$HOME/.cache/driftlint`.
    pub remote_cache: Option<&'a Path>,
    /// Build as Flux's kustomize-controller does for a Flux Kustomization: the overlay is
    /// written into the top kustomization (generated when the folder has none), and files
    /// anywhere in the repository may be loaded (`LoadRestrictionsNone`).
    pub flux: Option<&'a FluxOverlay>,
    /// Build as Argo CD's repo-server does for an Application's `kustomize` source: the
    /// overlay is written into the top kustomization (which must exist) as the `kustomize
    /// edit` commands Argo CD runs would.
    pub argo: Option<&'a ArgoOverlay>,
    /// Renders `helmCharts` entries (kustomize's `--enable-helm`); None makes them fail the
    /// build with `unsupported:`, as kustomize without `--enable-helm` fails.
    pub helm: Option<&'a dyn HelmRenderer>,
}

/// The result of a build.
#[derive(Clone, Debug)]
pub struct Build {
    /// The objects, in kustomize's output order.
    pub objects: Vec<Node>,
    /// Deprecation warnings, worded exactly as kustomize prints them on stderr
    /// (`# Warning: 'commonLabels' is deprecated. ...`), once per kustomization visit.
    pub warnings: Vec<String>,
    /// Every file read, repo-relative, in first-read order (kustomization files, resources,
    /// patches, generator inputs): the inputs a pre-commit hook maps changed files to.
    pub files: Vec<PathBuf>,
}

/// Builds the kustomization in `dir` (repo-relative) as `kustomize build` would.
///
/// Errors ([`KustomizeError`], with the file and line responsible): unsupported fields,
/// missing files, cycles, malformed YAML (file:line:column), paths escaping the repository or
/// the kustomization directory, remote resources (unless allowed; then clone failures),
/// and everything kustomize itself rejects
/// (id conflicts, patches without a target, invalid generator input, ...).
///
/// Every build has a size budget ([`MAX_BUILD_SIZE`] estimated bytes of objects): growing
/// past it is an [`ErrorKind::TooLarge`] error at the kustomization, replacement or patch
/// line responsible.
pub fn build(fs: &RepoFs, dir: &Path, opts: &BuildOptions) -> Result<Build, KustomizeError> {
    build_with_limit(fs, dir, opts, MAX_BUILD_SIZE)
}

/// [`build`] with a size budget of `limit` estimated bytes instead of [`MAX_BUILD_SIZE`].
pub(crate) fn build_with_limit(
    fs: &RepoFs,
    dir: &Path,
    opts: &BuildOptions,
    limit: u64,
) -> Result<Build, KustomizeError> {
    let remote = loader::RemoteAccess {
        allow: opts.allow_remote,
        cache: opts.remote_cache.map(Path::to_path_buf),
    };
    let mut loader = Loader::with_remote(fs, remote);
    loader.root_only = opts.flux.is_none();
    let mut engine = target::Engine::new(loader, opts.merge_info);
    engine.limit = limit;
    engine.flux = opts.flux;
    engine.argo = opts.argo;
    engine.helm = opts.helm;
    let mut m = engine.build_dir(dir, None, None)?;
    hash_transformer::apply(&mut m);
    let backrefs = m.config.name_reference.clone();
    nameref::apply(&mut m, &backrefs)?;
    let var_specs = m.config.var_reference.clone();
    let unused = vars::resolve(&mut m, &var_specs, limit)?;
    if !unused.is_empty() {
        engine.warnings.push(format!(
            "well-defined vars that were never replaced: {}",
            unused.join(",")
        ));
    }
    match engine.top_sort.clone() {
        None => order::sort(m.list_mut(), &order::Legacy::default()),
        Some(Some(l)) => order::sort(m.list_mut(), &l),
        Some(None) => {}
    }
    build_metadata::finish(&mut m, &engine.meta)?;
    let objects = m
        .into_list()
        .into_iter()
        .map(|r| {
            let mut n = r.node;
            finalize_annotations(&mut n);
            timestamps::normalize(&mut n);
            n
        })
        .collect();
    let warnings = std::mem::take(&mut engine.warnings);
    Ok(Build {
        objects,
        warnings,
        files: engine.loader.into_files(),
    })
}

/// kustomize records build bookkeeping in `metadata.annotations` and rewrites the map at
/// the end: an empty or null map disappears, and every value becomes a string of its source
/// text (`1` -> `"1"`, `~` -> `"~"`; collections -> `""`), as kyaml's string-map view does.
fn finalize_annotations(n: &mut Node) {
    let Some(md) = n.get_mut("metadata").and_then(Node::as_map_mut) else {
        return;
    };
    if md
        .get("annotations")
        .is_some_and(|a| is_null(a) || is_empty_map(a))
    {
        md.remove("annotations");
        return;
    }
    let Some(ann) = md.get_mut("annotations").and_then(Node::as_map_mut) else {
        return;
    };
    for (_, v) in ann.iter_mut() {
        let text = v.as_scalar().map(|s| s.text.clone()).unwrap_or_default();
        *v = Node::string(text, v.origin.clone());
    }
}

/// The YAML `kubectl kustomize` prints for `objects`: documents separated by `---`.
pub fn render_yaml(objects: &[Node]) -> String {
    emit_documents(objects.iter())
}

/// [`render_yaml`] with each scalar's origin as a trailing comment
/// (`image: nginx:1.2 # apps/base/deployment.yaml:19:18 (images transformer)`): the file,
/// line and column the value came from and the transformation that last set it.
pub fn render_yaml_with_origins(objects: &[Node]) -> String {
    emit_documents_with_origins(objects.iter())
}

/// The directories the kustomization in `dir` (repo-relative) uses as `resources`,
/// `components` or `bases` (entries that are directories in the repository), repo-relative
/// and deduplicated, in kustomization order. Discovery uses it to find root kustomizations
/// (those no other kustomization references).
///
/// Entries that are files, remote, or missing are skipped (building reports them).
/// Errors: the kustomization file itself is missing, duplicated, malformed or invalid.
pub fn referenced_kustomization_dirs(
    fs: &RepoFs,
    dir: &Path,
) -> Result<Vec<PathBuf>, KustomizeError> {
    let loader = Loader::new(fs);
    let k = loader.load_kustomization(dir, None)?;
    let origin = Origin::new(k.file.clone(), 1, 1);
    let base = loader.canonical_dir(dir, &origin)?;
    let mut out: Vec<PathBuf> = Vec::new();
    for entry in k.resources.iter().chain(&k.components) {
        if let Ok(Target::Dir(d)) = loader.resolve(&base, &entry.value, &entry.origin) {
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_kubectl;
