//! Flux HelmReleases (`helm.toolkit.fluxcd.io` v2, and v2beta2/v2beta1 as helm-controller
//! reads them) as apply units, rendered as helm-controller renders them: the chart
//! ([`chart`]: a folder of this repository, or a packaged chart from the chart cache), the
//! values ([`values`]: `valuesFrom` then `spec.values`), release name and namespace as
//! helm-controller derives them, CRDs from `crds/` unless `install.crds: Skip`, Capabilities
//! from the checked Kubernetes version; then each `postRenderers[].kustomize` (patches,
//! images) with the native kustomize engine, then helm-controller's origin labels
//! (`helm.toolkit.fluxcd.io/name`, `helm.toolkit.fluxcd.io/namespace`) on every object.
//!
//! HelmReleases are found among the objects every other target renders (a Flux
//! Kustomization's after its substitutions). A chart neither local nor in the cache is one
//! CHART001 warning per release; nothing is fetched here (`driftlint charts pull` fills the
//! cache).
//!
//! Origins: a value set by `spec.values` points at its line in the HelmRelease (or the patch
//! that set it), a `valuesFrom` value at its line in the ConfigMap, a post-renderer's value
//! at the patch; everything else of a cached chart points at the HelmRelease's `chart:` line
//! with the chart's template file and line in `via` (the chart's, not editable here).

pub(crate) mod chart;
pub(crate) mod values;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::cached_chart::CACHE_PREFIX;
use crate::check::Rendered;
use crate::config::Config;
use crate::discover::{Kind, Target, UnitRef};
use crate::report::{Finding, Severity};
use chart::{ChartContext, ChartProblem, ChartSource};
use driftlint_charts::ChartCache;
use driftlint_helm::{HelmError, TemplateOptions};
use driftlint_kustomize::{FluxOverlay, MergeInfo};
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{Node, Origin};

/// The group of HelmReleases.
pub(crate) const GROUP: &str = "helm.toolkit.fluxcd.io";
/// At most this many HelmReleases are rendered.
const MAX_RELEASES: usize = 20_000;
/// Sprig's random functions draw from this seed, so findings are the same bytes every run.
const RANDOM_SEED: u64 = 0x6872_656c_6561_7365;

/// True for a HelmRelease in an API version helm-controller serves.
pub(crate) fn is_helm_release(obj: &Node) -> bool {
    obj.str_at(&["kind"]) == Some("HelmRelease")
        && matches!(
            obj.str_at(&["apiVersion"])
                .and_then(|v| v.strip_prefix(GROUP)),
            Some("/v2" | "/v2beta2" | "/v2beta1")
        )
}

/// Everything rendering a release reads.
pub(crate) struct ReleaseContext<'a> {
    pub(crate) fs: &'a RepoFs,
    pub(crate) config: &'a Config,
    /// The chart cache (`None`: no cache directory could be named; every remote chart is
    /// unavailable).
    pub(crate) cache: Option<&'a ChartCache>,
    pub(crate) merge_info: Option<&'a dyn MergeInfo>,
    /// The checked Kubernetes version (`1.33`).
    pub(crate) version: &'a str,
}

/// Renders every HelmRelease among the objects of `rendered` (in parallel), one unit each.
pub(crate) fn render_releases(ctx: &ReleaseContext, rendered: &[Rendered]) -> Vec<Rendered> {
    let known: Vec<&Node> = rendered.iter().flat_map(|r| r.objects.iter()).collect();
    let found: Vec<(&Rendered, &Node)> = rendered
        .iter()
        .flat_map(|r| {
            r.objects
                .iter()
                .filter(|o| is_helm_release(o))
                .map(move |o| (r, o))
        })
        .take(MAX_RELEASES)
        .collect();
    let mut out: Vec<Rendered> = found
        .par_iter()
        .map(|(parent, hr)| render_release(ctx, parent, hr, &known))
        .collect();
    disambiguate(&mut out);
    out
}

/// Releases with the same id (one HelmRelease file applied by two Flux Kustomizations of
/// the same folder, one per cluster) are told apart by the unit applying them, then by their
/// file and line.
fn disambiguate(out: &mut [Rendered]) {
    relabel(out, |u| {
        let parent = u.parent.as_deref().unwrap_or("");
        format!("{} applied by {parent}", u.label)
    });
    relabel(out, |u| format!("{} in {}:{}", u.label, u.file, u.line));
}

fn relabel(out: &mut [Rendered], label: impl Fn(&UnitRef) -> String) {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for r in out.iter() {
        *count.entry(r.target.id()).or_insert(0) += 1;
    }
    for r in out.iter_mut() {
        if count.get(&r.target.id()).is_some_and(|n| *n > 1) {
            if let Some(u) = r.target.unit.as_mut() {
                u.label = label(u);
            }
            let id = r.target.id();
            if let Some(f) = r.failure.as_mut() {
                f.target = id;
            }
        }
    }
}

/// The namespace of a HelmRelease object (`default` when it names none).
pub(crate) fn namespace_of(hr: &Node) -> &str {
    hr.str_at(&["metadata", "namespace"]).unwrap_or("default")
}

fn render_release(ctx: &ReleaseContext, parent: &Rendered, hr: &Node, known: &[&Node]) -> Rendered {
    let name = hr.str_at(&["metadata", "name"]).unwrap_or("");
    let namespace = namespace_of(hr);
    let mut target = Target::new(Kind::HelmRelease, parent.target.path.clone());
    target.unit = Some(UnitRef {
        parent: Some(parent.target.id()),
        ..UnitRef::declared("HelmRelease", namespace, name, &hr.origin)
    });
    let mut files = vec![PathBuf::from(hr.origin.file.as_ref())];
    let (objects, failure) = match release_objects(ctx, hr, known, &mut files) {
        Ok(objects) => (objects, None),
        Err(p) => (Vec::new(), Some(p.finding(&target, hr))),
    };
    files.sort();
    files.dedup();
    Rendered {
        target,
        objects,
        files,
        failure,
        declared: Some(hr.clone()),
    }
}

/// Why a release did not render: CHART001 (a warning) or RENDER001/RENDER002.
pub(crate) struct Problem {
    code: &'static str,
    severity: Severity,
    message: String,
    origin: Origin,
}

impl Problem {
    fn render(unsupported: bool, message: String, origin: Origin) -> Problem {
        Problem {
            code: if unsupported {
                "RENDER002"
            } else {
                "RENDER001"
            },
            severity: Severity::Error,
            message,
            origin,
        }
    }

    fn finding(self, target: &Target, hr: &Node) -> Finding {
        let message = if self.code == "CHART001" {
            format!("{} (HelmRelease {})", self.message, release_label(hr))
        } else {
            format!(
                "cannot render HelmRelease {}: {}",
                release_label(hr),
                self.message
            )
        };
        Finding {
            code: self.code.into(),
            severity: self.severity,
            message,
            origin: self.origin,
            object: None,
            target: target.id(),
            field: None,
        }
    }
}

fn release_label(hr: &Node) -> String {
    format!(
        "{}/{}",
        namespace_of(hr),
        hr.str_at(&["metadata", "name"]).unwrap_or("")
    )
}

impl From<ChartProblem> for Problem {
    fn from(p: ChartProblem) -> Problem {
        match p {
            ChartProblem::NotAvailable(message, origin) => Problem {
                code: "CHART001",
                severity: Severity::Warning,
                message,
                origin,
            },
            ChartProblem::Unsupported(m, o) => Problem::render(true, m, o),
            ChartProblem::Invalid(m, o) => Problem::render(false, m, o),
        }
    }
}

/// The objects a release applies: chart, values, render, post-renderers, origin labels.
fn release_objects(
    ctx: &ReleaseContext,
    hr: &Node,
    known: &[&Node],
    files: &mut Vec<PathBuf>,
) -> Result<Vec<Node>, Problem> {
    let namespace = namespace_of(hr);
    let cctx = ChartContext {
        fs: ctx.fs,
        config: ctx.config,
        cache: ctx.cache,
        known,
    };
    let resolved = chart::resolve(&cctx, hr, namespace)?;
    let vals = values::release_values(ctx.fs, hr, namespace, known)
        .map_err(|p| Problem::render(p.unsupported, p.message, p.origin))?;
    files.extend(vals.files);
    let chart_at = chart_origin(hr);
    let (chart, cached) = load(ctx.fs, &resolved.source, &chart_at)?;
    if let ChartSource::Local(dir) = &resolved.source {
        files.push(dir.clone());
    }
    let mut docs = values_files(&chart, &resolved.values_files, &chart_at)?;
    docs.extend(vals.docs);
    let opts = template_options(hr, ctx.version, docs);
    let manifests = helm_objects(ctx.fs, chart, &opts)
        .map_err(|e| helm_problem(&e, &chart_at, cached.as_deref()))?;
    let mut objects = applied(hr, manifests);
    if let Some(label) = &cached {
        for o in &mut objects {
            crate::cached_chart::remap(
                o,
                label,
                &chart_at,
                &format!("HelmRelease {}", release_label(hr)),
            );
        }
    }
    let mut objects = post_render(ctx, hr, objects)?;
    origin_labels(hr, &mut objects);
    Ok(objects)
}

/// The HelmRelease's chart line (`spec.chart.spec.chart`, `spec.chartRef`), where findings
/// about the chart's own templates point.
fn chart_origin(hr: &Node) -> Origin {
    hr.get_path(&["spec", "chart", "spec", "chart"])
        .or_else(|| hr.get_path(&["spec", "chartRef"]))
        .unwrap_or(hr)
        .origin
        .clone()
}

/// The loaded chart and, for a cached one, the name its files carry.
fn load(
    fs: &RepoFs,
    source: &ChartSource,
    at: &Origin,
) -> Result<(driftlint_helm::Chart, Option<String>), Problem> {
    match source {
        ChartSource::Local(dir) => driftlint_helm::load_chart(fs, dir)
            .map(|c| (c, None))
            .map_err(|e| helm_problem(&e, at, None)),
        ChartSource::Cached(cached) => {
            let name = cached.origin_name();
            cached
                .load()
                .map(|c| (c, Some(name.clone())))
                .map_err(|e| helm_problem(&e, at, Some(&name)))
        }
    }
}

/// `valuesFiles` (chart-relative), as source-controller merges them into the chart's
/// defaults; passed ahead of the release's own values. Errors: a file the chart lacks.
fn values_files(
    chart: &driftlint_helm::Chart,
    names: &[String],
    at: &Origin,
) -> Result<Vec<Node>, Problem> {
    let mut docs = Vec::new();
    for name in names {
        let name = name.trim_start_matches("./");
        let text = chart
            .files
            .iter()
            .find(|(p, _)| p == name)
            .and_then(|(_, b)| String::from_utf8(b.clone()).ok())
            .ok_or_else(|| {
                let msg = format!("no values file found at path '{name}' in the chart");
                Problem::render(false, msg, at.clone())
            })?;
        let file: Arc<str> = Arc::from(format!("{}/{name}", chart.dir));
        let parsed = driftlint_yaml::parse_documents(file, &text)
            .map_err(|e| Problem::render(false, e.to_string(), at.clone()))?;
        docs.extend(parsed.into_iter().next());
    }
    Ok(docs)
}

/// `helm install` as helm-controller runs it, expressed as `helm template` options:
/// `RELEASE` = `releaseName`, else `[targetNamespace-]name` (shortened past 53 characters),
/// `--namespace` = `targetNamespace`, else the HelmRelease's; `--include-crds` unless
/// `install.crds: Skip` (v2beta1: `install.skipCRDs: true`); `--skip-schema-validation` with
/// `install.disableSchemaValidation`; `--kube-version` = the checked version.
pub(crate) fn template_options(hr: &Node, version: &str, values: Vec<Node>) -> TemplateOptions {
    let spec = |path: &[&str]| {
        let mut full = vec!["spec"];
        full.extend_from_slice(path);
        hr.str_at(&full).map(str::to_string)
    };
    let name = hr.str_at(&["metadata", "name"]).unwrap_or("");
    let target_ns = spec(&["targetNamespace"]).filter(|s| !s.is_empty());
    let release_name = spec(&["releaseName"])
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| match &target_ns {
            Some(ns) => format!("{ns}-{name}"),
            None => name.to_string(),
        });
    let skip_crds = spec(&["install", "crds"]).as_deref() == Some("Skip")
        || is_true(hr, &["spec", "install", "skipCRDs"]);
    TemplateOptions {
        release_name: values::shorten_name(&release_name),
        namespace: target_ns.unwrap_or_else(|| namespace_of(hr).to_string()),
        values_docs: values,
        kube_version: Some(crate::check::helm::kube_version(version)),
        include_crds: !skip_crds,
        skip_schema_validation: is_true(hr, &["spec", "install", "disableSchemaValidation"]),
        random_seed: Some(RANDOM_SEED),
        ..TemplateOptions::default()
    }
}

/// The documents `helm template` prints for `chart` (in its order), each with the origins
/// the traced render gives it. Errors: Helm's.
fn helm_objects(
    fs: &RepoFs,
    chart: driftlint_helm::Chart,
    opts: &TemplateOptions,
) -> Result<Vec<Node>, HelmError> {
    let (docs, traced) = crate::kustomize_helm::documents_and_traced(fs, chart, opts)?;
    let traced = traced?;
    Ok(crate::kustomize_helm::match_origins(docs?, traced))
}

/// True when the field at `path` is the boolean `true`.
fn is_true(hr: &Node, path: &[&str]) -> bool {
    hr.get_path(path).and_then(Node::scalar_text) == Some("true")
}

/// The objects a release applies: hooks unless `install.disableHooks`, test hooks only with
/// `test.enable`.
fn applied(hr: &Node, manifests: Vec<Node>) -> Vec<Node> {
    let no_hooks = is_true(hr, &["spec", "install", "disableHooks"]);
    let tests = is_true(hr, &["spec", "test", "enable"]);
    manifests
        .into_iter()
        .filter(crate::check::is_object)
        .flat_map(crate::check::flatten_list)
        .filter(|o| {
            let hook = o.str_at(&["metadata", "annotations", "helm.sh/hook"]);
            match hook {
                None => true,
                Some(h) if h.split(',').any(|p| p.trim().starts_with("test")) => tests,
                Some(_) => !no_hooks,
            }
        })
        .collect()
}

/// A Helm failure at the HelmRelease's chart line; for a cached chart, the chart's file and
/// line (which the user cannot edit) are named in the message.
fn helm_problem(e: &HelmError, at: &Origin, cached: Option<&str>) -> Problem {
    let unsupported = matches!(e, HelmError::Unsupported(_))
        || e.to_string().contains("not supported by driftlint");
    let in_chart = e
        .origin()
        .filter(|o| cached.is_some_and(|c| o.file.starts_with(c)));
    let origin = match (cached, e.origin()) {
        (None, Some(o)) => o.clone(),
        _ => at.clone(),
    };
    let mut message = e.to_string();
    if let Some(o) = in_chart {
        message.push_str(&format!(
            " (in the chart's {}:{}, not editable here)",
            o.file.trim_start_matches(CACHE_PREFIX),
            o.line
        ));
    }
    Problem::render(unsupported, message, origin)
}

/// `spec.postRenderers[].kustomize`, in order. Errors: a post-renderer field driftlint does
/// not apply (v2beta1 `patchesStrategicMerge`/`patchesJson6902`) is RENDER002; a patch that
/// fails as kustomize fails is RENDER001 at its line.
fn post_render(
    ctx: &ReleaseContext,
    hr: &Node,
    mut objects: Vec<Node>,
) -> Result<Vec<Node>, Problem> {
    let renderers = hr
        .get_path(&["spec", "postRenderers"])
        .and_then(Node::as_seq)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for k in renderers.iter().filter_map(|r| r.get("kustomize")) {
        for (key, _) in k
            .as_map()
            .map(|m| m.iter().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let name = key.as_str().unwrap_or("");
            if !matches!(name, "patches" | "images") {
                let msg =
                    format!("postRenderers kustomize field {name:?} is not supported by driftlint");
                return Err(Problem::render(true, msg, key.origin.clone()));
            }
        }
        let text = ctx.fs.text_read(&hr.origin.file);
        let overlay = FluxOverlay::from_spec(k, text).map_err(|e| kustomize_problem(&e, k))?;
        objects = driftlint_kustomize::post_render(ctx.fs, objects, &overlay, ctx.merge_info)
            .map_err(|e| kustomize_problem(&e, k))?;
    }
    Ok(objects)
}

fn kustomize_problem(e: &driftlint_kustomize::KustomizeError, at: &Node) -> Problem {
    let unsupported = matches!(e.kind, driftlint_kustomize::ErrorKind::Unsupported { .. });
    let origin = e.origin.clone().unwrap_or_else(|| at.origin.clone());
    Problem::render(unsupported, format!("post-renderer failed: {e}"), origin)
}

/// helm-controller's `OriginLabels` post-renderer: `helm.toolkit.fluxcd.io/name` and
/// `helm.toolkit.fluxcd.io/namespace` (the HelmRelease's) on every object's labels.
fn origin_labels(hr: &Node, objects: &mut [Node]) {
    let at = hr
        .get_path(&["metadata", "name"])
        .unwrap_or(hr)
        .origin
        .clone()
        .with_via("helm-controller origin label");
    let name = hr.str_at(&["metadata", "name"]).unwrap_or("");
    let ns = namespace_of(hr);
    for o in objects.iter_mut() {
        let label = |v: &str| Node::string(v, at.clone());
        crate::flux::set_metadata(o, "labels", &format!("{GROUP}/name"), label(name));
        crate::flux::set_metadata(o, "labels", &format!("{GROUP}/namespace"), label(ns));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hr(text: &str) -> Node {
        driftlint_yaml::parse_documents("hr.yaml".into(), text)
            .unwrap()
            .remove(0)
    }

    #[test]
    fn release_name_namespace_and_crds_as_helm_controller_derives_them() {
        let h = hr("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: api, namespace: apps}\nspec: {targetNamespace: backend, install: {crds: Skip}}\n");
        assert!(is_helm_release(&h));
        let o = template_options(&h, "1.33", Vec::new());
        assert_eq!(
            (o.release_name.as_str(), o.namespace.as_str()),
            ("backend-api", "backend")
        );
        assert!(!o.include_crds);
        assert_eq!(o.kube_version.as_deref(), Some("v1.33.0"));
        let h = hr("apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\nmetadata: {name: web}\nspec: {releaseName: site}\n");
        let o = template_options(&h, "1.30", Vec::new());
        assert_eq!(
            (o.release_name.as_str(), o.namespace.as_str()),
            ("site", "default")
        );
        assert!(o.include_crds);
        let old = hr("apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\nmetadata: {name: x}\nspec: {install: {skipCRDs: true}}\n");
        assert!(!template_options(&old, "1.30", Vec::new()).include_crds);
        let other =
            hr("apiVersion: helm.toolkit.fluxcd.io/v3\nkind: HelmRelease\nmetadata: {name: x}\n");
        assert!(!is_helm_release(&other));
    }
}
