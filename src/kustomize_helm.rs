//! The native Helm engine (`driftlint_helm`) as the Kustomize engine's `helmCharts` renderer:
//! what `kubectl kustomize --enable-helm` gets from the `helm` binary. The Kustomize crate
//! does not depend on the Helm crate (the crate map in `tests/workspace_layout.rs` keeps the
//! two engines independent, so either builds and changes alone); it asks through
//! [`HelmRenderer`], implemented here.

use std::collections::HashMap;

use driftlint_charts::{ChartCache, ChartLocator};
use driftlint_helm::TemplateOptions;
use driftlint_kustomize::{HelmRenderer, HelmTemplate, PulledValues, RemoteChart};
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{parse_documents, Node, Schema};

/// Seed of Sprig's random functions inside charts, so that a build gives the same bytes
/// every run (Helm draws from the OS).
const RANDOM_SEED: u64 = 0x6b75_7374_6f6d_697a;

/// [`HelmRenderer`] over [`driftlint_helm::template`], giving the objects the origins
/// [`driftlint_helm::render_chart_text_and_objects`] traces (values lines, template lines).
/// Charts kustomize would `helm pull` are read from the chart cache (never downloaded here:
/// `driftlint charts pull` fills the cache).
#[derive(Clone, Debug, Default)]
pub struct NativeHelm {
    cache: Option<ChartCache>,
}

impl NativeHelm {
    /// A renderer reading pulled charts from `cache` (`None`: every pulled chart is "not
    /// available").
    pub fn new(cache: Option<ChartCache>) -> NativeHelm {
        NativeHelm { cache }
    }

    /// The cached chart `remote` names (`repo` an `https://` Helm repository or an `oci://`
    /// registry path; `version` a range, empty for the latest stable as `helm pull`).
    fn lookup(&self, remote: &RemoteChart) -> Result<crate::cached_chart::Lookup, String> {
        let loc = ChartLocator::of_repo(remote.repo, remote.name).map_err(|e| e.to_string())?;
        crate::cached_chart::by_range(self.cache.as_ref(), &loc, remote.version)
    }

    /// [`HelmRenderer::template`] for a chart from the cache: its files' origins point at the
    /// `helmCharts` entry (a cached chart is not editable), naming the chart file in `via`.
    fn template_cached(
        &self,
        fs: &RepoFs,
        req: &HelmTemplate,
        remote: &RemoteChart,
        opts: &TemplateOptions,
    ) -> Result<Vec<Node>, String> {
        let cached = match self.lookup(remote)? {
            crate::cached_chart::Lookup::Found(c) => c,
            crate::cached_chart::Lookup::Missing(msg) => return Err(msg),
        };
        let chart = cached.load().map_err(|e| e.to_string())?;
        let mut docs = text_with_origins(fs, chart, opts)?;
        let owner = format!("helmCharts entry {}", remote.name);
        for d in &mut docs {
            crate::cached_chart::remap(d, &cached.origin_name(), req.origin, &owner);
        }
        Ok(docs)
    }
}

impl HelmRenderer for NativeHelm {
    /// Renders as `helm template RELEASE CHART -f <values> -f ...` with the request's flags.
    /// `nameTemplate` is rendered as Helm's `--name-template` (Go template + Sprig, no data).
    ///
    /// Errors: Helm's message (`Display` of [`driftlint_helm::HelmError`]), a name template
    /// that fails to parse or execute.
    fn template(&self, fs: &RepoFs, req: &HelmTemplate) -> Result<Vec<Node>, String> {
        let release_name = if req.name_template.is_empty() {
            req.release_name.to_string()
        } else {
            name_template(req.name_template)?
        };
        let opts = TemplateOptions {
            release_name,
            namespace: if req.namespace.is_empty() {
                "default".into()
            } else {
                req.namespace.to_string()
            },
            values_docs: vec![req.values.clone()],
            value_files: req.value_files.clone(),
            kube_version: Some(req.kube_version.to_string()),
            api_versions: req.api_versions.to_vec(),
            include_crds: req.include_crds,
            skip_tests: req.skip_tests,
            no_hooks: req.skip_hooks,
            skip_schema_validation: req.skip_schema_validation,
            random_seed: Some(RANDOM_SEED),
            ..TemplateOptions::default()
        };
        if let Some(remote) = &req.remote {
            return self.template_cached(fs, req, remote, &opts);
        }
        let chart = driftlint_helm::load_located(fs, &req.chart_dir).map_err(|e| e.to_string())?;
        text_with_origins(fs, chart, &opts)
    }

    /// The cached chart's `values.yaml`; "not available" (naming `driftlint charts pull`)
    /// when the cache lacks the chart.
    fn pulled_values(&self, remote: &RemoteChart) -> Result<PulledValues, String> {
        let cached = match self.lookup(remote)? {
            crate::cached_chart::Lookup::Found(c) => c,
            crate::cached_chart::Lookup::Missing(msg) => {
                return Ok(PulledValues::NotAvailable(msg))
            }
        };
        let chart = cached.load().map_err(|e| e.to_string())?;
        // kustomize reads the pulled chart's values.yaml as it reads a vendored one.
        let file: std::sync::Arc<str> = format!("{}/values.yaml", cached.origin_name()).into();
        let text = chart.values_text.as_deref().unwrap_or("");
        let doc = parse_documents(file.clone(), text)
            .map_err(|e| format!("{file}: {e}"))?
            .into_iter()
            .next()
            .unwrap_or_else(|| Node::null(driftlint_yaml::Origin::new(file, 1, 1)));
        Ok(PulledValues::Found(doc))
    }
}

/// Helm's `TemplateName`: the template executed with Sprig and no data.
fn name_template(text: &str) -> Result<String, String> {
    let funcs = gotmpl::sprig::sprig_funcs_with(&gotmpl::sprig::FuncOptions {
        fixed_now: None,
        random_seed: Some(RANDOM_SEED),
    });
    let mut t = gotmpl::Templates::new("name-template", funcs);
    t.parse("name-template", text).map_err(|e| e.to_string())?;
    t.execute("name-template", &gotmpl::Value::Nil)
        .map_err(|e| e.to_string())
}

/// `helm template`'s documents (from its text output, authoritative for content and order),
/// each replaced by the equal traced document of the same rendering when there is one, so
/// origins point into the chart and values. Errors: Helm's message.
fn text_with_origins(
    fs: &RepoFs,
    chart: driftlint_helm::Chart,
    opts: &TemplateOptions,
) -> Result<Vec<Node>, String> {
    let (docs, traced) = documents_and_traced(fs, chart, opts).map_err(|e| e.to_string())?;
    let docs = docs.map_err(|e| e.to_string())?;
    Ok(match traced {
        Ok(t) => match_origins(docs, t),
        Err(_) => docs,
    })
}

/// One traced rendering: `helm template`'s documents (parsed from its text, in its order; or
/// why our YAML parser rejects the text) and the traced manifests (or why tracing could not
/// map them). Callers choose which failure to report first.
pub(crate) type Rendering = (
    Result<Vec<Node>, driftlint_helm::HelmError>,
    Result<Vec<driftlint_helm::TracedManifest>, driftlint_helm::HelmError>,
);

/// Renders `chart` once, traced ([`driftlint_helm::render_chart_text_and_objects`]).
/// Errors: Helm's.
pub(crate) fn documents_and_traced(
    fs: &RepoFs,
    chart: driftlint_helm::Chart,
    opts: &TemplateOptions,
) -> Result<Rendering, driftlint_helm::HelmError> {
    let (text, traced) = driftlint_helm::render_chart_text_and_objects(fs, chart, opts)?;
    let docs = parse_documents("helm template".into(), &text)
        .map_err(|e| driftlint_helm::HelmError::Load(format!("helm template output: {e}")));
    Ok((docs, traced))
}

/// `docs` (from `helm template`'s text output, authoritative for content and order), each
/// replaced by the equal document of `traced` when there is one (equal as JSON), so origins
/// point into the chart and values.
pub(crate) fn match_origins(
    docs: Vec<Node>,
    traced: Vec<driftlint_helm::TracedManifest>,
) -> Vec<Node> {
    let mut by_json: HashMap<String, Vec<Node>> = HashMap::new();
    for m in traced.into_iter().rev() {
        let key = m.document.to_json_with(Schema::KYaml).to_string();
        by_json.entry(key).or_default().push(m.document);
    }
    docs.into_iter()
        .map(|d| {
            let key = d.to_json_with(Schema::KYaml).to_string();
            by_json.get_mut(&key).and_then(Vec::pop).unwrap_or(d)
        })
        .collect()
}
