//! Where a HelmRelease's chart comes from, as helm-controller and source-controller find it:
//! `spec.chart.spec` (`chart`, `version`, `sourceRef` to a `HelmRepository` — HTTP or
//! `type: oci` — or a `GitRepository` that is this repository, `valuesFiles`) or
//! `spec.chartRef` (an `OCIRepository` with `ref.tag`/`ref.semver`, or a `HelmChart`).
//! Remote charts are read from the chart cache only (`check` stays offline).

use std::path::PathBuf;

use driftlint_charts::{ChartCache, ChartLocator, Wanted};
use driftlint_yaml::{Node, Origin};

use crate::cached_chart::{self, CachedChart, Lookup};
use crate::config::Config;

/// The chart of a release.
pub(crate) enum ChartSource {
    /// A chart folder of this repository (repo-relative).
    Local(PathBuf),
    /// A packaged chart from the cache.
    Cached(CachedChart),
}

/// A chart with the values files source-controller merges into its defaults
/// (`valuesFiles`, chart-relative, in order).
pub(crate) struct ResolvedChart {
    pub(crate) source: ChartSource,
    pub(crate) values_files: Vec<String>,
}

/// Why the chart cannot be rendered.
pub(crate) enum ChartProblem {
    /// Not in the cache (and not local): CHART001, a warning. The message names the chart,
    /// version and source.
    NotAvailable(String, Origin),
    /// driftlint cannot reproduce it (RENDER002).
    Unsupported(String, Origin),
    /// The repository's declarations are wrong as Flux would say (RENDER001).
    Invalid(String, Origin),
}

/// What chart resolution reads.
pub(crate) struct ChartContext<'a> {
    pub(crate) fs: &'a driftlint_yaml::fs::RepoFs,
    pub(crate) config: &'a Config,
    pub(crate) cache: Option<&'a ChartCache>,
    /// The repository's rendered objects (sources are looked up among them).
    pub(crate) known: &'a [&'a Node],
}

/// The chart of HelmRelease `hr` in `namespace`. Errors: [`ChartProblem`].
pub(crate) fn resolve(
    ctx: &ChartContext,
    hr: &Node,
    namespace: &str,
) -> Result<ResolvedChart, ChartProblem> {
    if let Some(spec) = hr.get_path(&["spec", "chart", "spec"]) {
        return from_chart_spec(ctx, spec, namespace);
    }
    let Some(r) = hr.get_path(&["spec", "chartRef"]) else {
        let msg = "the HelmRelease has neither spec.chart nor spec.chartRef".to_string();
        return Err(ChartProblem::Invalid(msg, hr.origin.clone()));
    };
    let kind = r.str_at(&["kind"]).unwrap_or("");
    let name = r.str_at(&["name"]).unwrap_or("");
    let ns = r.str_at(&["namespace"]).unwrap_or(namespace);
    let obj = find(ctx.known, kind, name, ns).ok_or_else(|| missing(kind, ns, name, r))?;
    match kind {
        "OCIRepository" => from_oci_repository(ctx, obj, r),
        "HelmChart" => {
            let spec = obj.get("spec").ok_or_else(|| missing(kind, ns, name, r))?;
            from_chart_spec(ctx, spec, ns)
        }
        _ => Err(ChartProblem::Unsupported(
            format!("chartRef kind {kind} is not supported by driftlint"),
            r.origin.clone(),
        )),
    }
}

/// `spec.chart.spec` (or a `HelmChart`'s spec): the source it names, in `namespace` unless
/// `sourceRef.namespace` says otherwise.
fn from_chart_spec(
    ctx: &ChartContext,
    spec: &Node,
    namespace: &str,
) -> Result<ResolvedChart, ChartProblem> {
    let chart = spec.str_at(&["chart"]).unwrap_or("");
    // `version: 1.2` is a YAML number: its text is the range.
    let version = spec
        .get("version")
        .and_then(Node::scalar_text)
        .unwrap_or("*");
    let values_files = spec
        .get("valuesFiles")
        .and_then(Node::as_seq)
        .map(|s| {
            s.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let r = spec.get("sourceRef").unwrap_or(spec);
    let kind = r.str_at(&["kind"]).unwrap_or("");
    let name = r.str_at(&["name"]).unwrap_or("");
    let ns = r.str_at(&["namespace"]).unwrap_or(namespace);
    let source = match kind {
        "HelmRepository" => {
            let repo = find(ctx.known, kind, name, ns).ok_or_else(|| missing(kind, ns, name, r))?;
            from_helm_repository(ctx, repo, chart, version, spec)?
        }
        "GitRepository" | "OCIRepository" | "Bucket" => {
            from_folder(ctx, kind, name, ns, chart, spec)?
        }
        _ => {
            let msg = format!("sourceRef kind {kind:?} is not a chart source");
            return Err(ChartProblem::Invalid(msg, r.origin.clone()));
        }
    };
    Ok(ResolvedChart {
        source,
        values_files,
    })
}

fn from_helm_repository(
    ctx: &ChartContext,
    repo: &Node,
    chart: &str,
    version: &str,
    spec: &Node,
) -> Result<ChartSource, ChartProblem> {
    let at = spec.get("chart").unwrap_or(spec).origin.clone();
    let loc = driftlint_charts::helm_repository_chart(repo, chart)
        .map_err(|e| ChartProblem::Invalid(e.to_string(), at.clone()))?;
    cached(ctx, &loc, version, &at)
}

fn from_oci_repository(
    ctx: &ChartContext,
    repo: &Node,
    r: &Node,
) -> Result<ResolvedChart, ChartProblem> {
    let (loc, wanted) = driftlint_charts::oci_repository_chart(repo)
        .map_err(|e| ChartProblem::Invalid(e.to_string(), repo.origin.clone()))?;
    let source = match &wanted {
        // `driftlint charts pull` stores a digest-pinned chart under the digest as written
        // (`sha256:<hex>`), verified against the manifest it fetched.
        Wanted::Digest(d) => {
            let at = repo.get_path(&["spec", "ref", "digest"]).unwrap_or(r);
            cached_exact(ctx, &loc, d, &at.origin)?
        }
        Wanted::Tag(t) => cached_exact(ctx, &loc, t, &url_origin(repo, r))?,
        Wanted::Range(range) => cached(ctx, &loc, range, &url_origin(repo, r))?,
    };
    Ok(ResolvedChart {
        source,
        values_files: Vec::new(),
    })
}

/// The `spec.url` line of an `OCIRepository` (else the `chartRef`), where a chart the cache
/// lacks is reported.
fn url_origin(repo: &Node, r: &Node) -> Origin {
    repo.get_path(&["spec", "url"]).unwrap_or(r).origin.clone()
}

/// A chart folder of a source that is this repository (the bootstrap `flux-system` source or
/// one mapped under `sources:`).
fn from_folder(
    ctx: &ChartContext,
    kind: &str,
    name: &str,
    ns: &str,
    chart: &str,
    spec: &Node,
) -> Result<ChartSource, ChartProblem> {
    let at = spec.get("chart").unwrap_or(spec).origin.clone();
    let Some(folder) = crate::flux::folder_of(ctx.config, kind, name, ns) else {
        let msg = format!(
            "chart not available: {chart} from {kind} {ns}/{name}, which is not this repository (map it to a folder under `sources:` in .driftlint.yaml)"
        );
        return Err(ChartProblem::NotAvailable(msg, at));
    };
    let joined = format!("{folder}/{chart}");
    crate::discover::config_path(ctx.fs, &joined)
        .map(ChartSource::Local)
        .map_err(|e| ChartProblem::Invalid(format!("chart path {chart:?}: {e}"), at))
}

/// The cached archive of the version of `loc` that `wanted` (a semver range) selects.
fn cached(
    ctx: &ChartContext,
    loc: &ChartLocator,
    wanted: &str,
    at: &Origin,
) -> Result<ChartSource, ChartProblem> {
    found(cached_chart::by_range(ctx.cache, loc, wanted), at)
}

fn cached_exact(
    ctx: &ChartContext,
    loc: &ChartLocator,
    version: &str,
    at: &Origin,
) -> Result<ChartSource, ChartProblem> {
    found(cached_chart::exact(ctx.cache, loc, version), at)
}

fn found(lookup: Result<Lookup, String>, at: &Origin) -> Result<ChartSource, ChartProblem> {
    match lookup {
        Ok(Lookup::Found(chart)) => Ok(ChartSource::Cached(chart)),
        Ok(Lookup::Missing(msg)) => Err(ChartProblem::NotAvailable(msg, at.clone())),
        Err(msg) => Err(ChartProblem::Invalid(msg, at.clone())),
    }
}

fn missing(kind: &str, ns: &str, name: &str, at: &Node) -> ChartProblem {
    ChartProblem::NotAvailable(
        format!("chart not available: its source {kind} {ns}/{name} is not in the repository"),
        at.origin.clone(),
    )
}

/// The Flux source object `kind` `ns/name` among `known` (objects without a namespace are
/// taken as in `ns`).
fn find<'a>(known: &[&'a Node], kind: &str, name: &str, ns: &str) -> Option<&'a Node> {
    known
        .iter()
        .find(|o| {
            o.str_at(&["kind"]) == Some(kind)
                && o.str_at(&["apiVersion"])
                    .is_some_and(|v| v.starts_with("source.toolkit.fluxcd.io/"))
                && o.str_at(&["metadata", "name"]) == Some(name)
                && o.str_at(&["metadata", "namespace"]).is_none_or(|n| n == ns)
        })
        .copied()
}
