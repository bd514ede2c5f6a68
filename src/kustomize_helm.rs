//! The native Helm engine (`driftlint_helm`) as the Kustomize engine's `helmCharts` renderer:
//! what `kubectl kustomize --enable-helm` gets from the `helm` binary. The Kustomize crate
//! does not depend on the Helm crate (the crate map in `tests/workspace_layout.rs` keeps the
//! two engines independent, so either builds and changes alone); it asks through
//! [`HelmRenderer`], implemented here.

use std::collections::HashMap;

use driftlint_helm::{render_objects, TemplateOptions};
use driftlint_kustomize::{HelmRenderer, HelmTemplate};
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{parse_documents, Node, Schema};

/// Seed of Sprig's random functions inside charts, so that a build gives the same bytes
/// every run (Helm draws from the OS).
const RANDOM_SEED: u64 = 0x6b75_7374_6f6d_697a;

/// [`HelmRenderer`] over [`driftlint_helm::template`], giving the objects the origins
/// [`render_objects`] traces (values lines, template lines) where the two renders agree.
#[derive(Clone, Copy, Debug, Default)]
pub struct NativeHelm;

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
        let out = driftlint_helm::template(fs, &req.chart_dir, &opts).map_err(|e| e.to_string())?;
        let docs = parse_documents("helm template".into(), &out.manifest)
            .map_err(|e| format!("helm template output: {e}"))?;
        Ok(with_origins(fs, req, &opts, docs))
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

/// `docs` (from the text output, authoritative for content and order), each replaced by the
/// equal traced document when there is one, so origins point into the chart and values.
fn with_origins(
    fs: &RepoFs,
    req: &HelmTemplate,
    opts: &TemplateOptions,
    docs: Vec<Node>,
) -> Vec<Node> {
    let Ok(traced) = render_objects(fs, &req.chart_dir, opts) else {
        return docs;
    };
    match_origins(docs, traced)
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
