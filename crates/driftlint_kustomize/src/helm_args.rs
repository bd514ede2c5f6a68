//! The `helmGlobals` and `helmCharts` fields of a kustomization (kustomize
//! api/types/helmchartargs.go `HelmGlobals`, `HelmChart`), decoded strictly; inflated by
//! `helm_charts`.

use driftlint_yaml::{Node, Origin, Value};

use super::decode::{self, fields, Spanned};
use super::error::{KustomizeError, Result};

/// `helmGlobals`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HelmGlobals {
    /// `chartHome` (default `charts`), relative to the kustomization.
    pub chart_home: Option<Spanned<String>>,
}

/// One `helmCharts` entry (kustomize `types.HelmChart`).
#[derive(Clone, Debug, PartialEq)]
pub struct HelmChartArgs {
    /// `name`: the chart's directory name under `chartHome`.
    pub name: String,
    /// `version`.
    pub version: String,
    /// `repo`: where kustomize would pull a missing chart from.
    pub repo: String,
    /// `releaseName`.
    pub release_name: String,
    /// `namespace`.
    pub namespace: String,
    /// `nameTemplate`.
    pub name_template: String,
    /// `valuesFile`, relative to the kustomization.
    pub values_file: Option<Spanned<String>>,
    /// `additionalValuesFiles`, relative to the kustomization.
    pub additional_values_files: Vec<Spanned<String>>,
    /// `valuesInline`.
    pub values_inline: Option<Node>,
    /// `valuesMerge`.
    pub values_merge: String,
    /// `includeCRDs`.
    pub include_crds: bool,
    /// `skipHooks`.
    pub skip_hooks: bool,
    /// `skipTests`.
    pub skip_tests: bool,
    /// `skipSchemaValidation`.
    pub skip_schema_validation: bool,
    /// `apiVersions`.
    pub api_versions: Vec<String>,
    /// `kubeVersion`.
    pub kube_version: String,
    /// The entry's origin.
    pub origin: Origin,
}

/// Decodes `helmGlobals`. Errors: unknown fields and type mismatches.
pub fn decode_globals(v: &Node, what: &str) -> Result<HelmGlobals> {
    let mut g = HelmGlobals::default();
    for (name, v) in fields(v, &["chartHome", "configHome"], what)? {
        let s = decode::string(v, what)?;
        if name == "chartHome" && !s.value.is_empty() {
            g.chart_home = Some(s);
        }
    }
    Ok(g)
}

const CHART_FIELDS: &[&str] = &[
    "name",
    "version",
    "repo",
    "releaseName",
    "namespace",
    "additionalValuesFiles",
    "valuesFile",
    "valuesInline",
    "valuesMerge",
    "includeCRDs",
    "skipHooks",
    "apiVersions",
    "kubeVersion",
    "nameTemplate",
    "skipTests",
    "skipSchemaValidation",
    "debug",
];

/// Decodes one `helmCharts` entry. Errors: unknown fields and type mismatches.
pub fn decode_chart(n: &Node, what: &str) -> Result<HelmChartArgs> {
    let mut c = HelmChartArgs {
        name: String::new(),
        version: String::new(),
        repo: String::new(),
        release_name: String::new(),
        namespace: String::new(),
        name_template: String::new(),
        values_file: None,
        additional_values_files: Vec::new(),
        values_inline: None,
        values_merge: String::new(),
        include_crds: false,
        skip_hooks: false,
        skip_tests: false,
        skip_schema_validation: false,
        api_versions: Vec::new(),
        kube_version: String::new(),
        origin: n.origin.clone(),
    };
    for (name, v) in fields(n, CHART_FIELDS, what)? {
        let text = || decode::string(v, what).map(|s| s.value);
        match name {
            "name" => c.name = text()?,
            "version" => c.version = text()?,
            "repo" => c.repo = text()?,
            "releaseName" => c.release_name = text()?,
            "namespace" => c.namespace = text()?,
            "nameTemplate" => c.name_template = text()?,
            "kubeVersion" => c.kube_version = text()?,
            "valuesMerge" => c.values_merge = text()?,
            "valuesFile" => c.values_file = Some(decode::string(v, what)?),
            "additionalValuesFiles" => c.additional_values_files = decode::strings(v, what)?,
            "apiVersions" => {
                c.api_versions = decode::strings(v, what)?
                    .into_iter()
                    .map(|s| s.value)
                    .collect()
            }
            "valuesInline" => c.values_inline = inline(v, what)?,
            "includeCRDs" => c.include_crds = decode::boolean(v, what)?,
            "skipHooks" => c.skip_hooks = decode::boolean(v, what)?,
            "skipTests" => c.skip_tests = decode::boolean(v, what)?,
            "skipSchemaValidation" => c.skip_schema_validation = decode::boolean(v, what)?,
            _ => {
                decode::boolean(v, what)?;
            }
        }
    }
    Ok(c)
}

/// `valuesInline`: a map (null and `{}` are none). Errors: any other type.
fn inline(v: &Node, what: &str) -> Result<Option<Node>> {
    if decode::is_null(v) {
        return Ok(None);
    }
    fields_any(v, what)?;
    Ok(v.as_map().is_some_and(|m| !m.is_empty()).then(|| v.clone()))
}

fn fields_any(v: &Node, what: &str) -> Result<()> {
    if v.as_map().is_none() {
        return Err(KustomizeError::invalid(
            format!(
                "cannot unmarshal {} into {what}.valuesInline of type map[string]interface {{}}",
                kind_name(v)
            ),
            Some(&v.origin),
        ));
    }
    Ok(())
}

fn kind_name(v: &Node) -> &'static str {
    match v.value {
        Value::Seq(_) => "array",
        _ => "string",
    }
}

/// A `generators:` config object of `kind: HelmChartInflationGenerator` (`apiVersion:
/// builtin`): its `chartHome` and chart fields, read leniently as kustomize reads plugin
/// configs (other fields ignored). None for any other object.
///
/// Errors: type mismatches in the chart fields.
pub fn from_plugin(n: &Node) -> Result<Option<(HelmGlobals, HelmChartArgs)>> {
    let is = |k: &str, v: &str| n.get(k).and_then(Node::as_str) == Some(v);
    if !(is("apiVersion", "builtin") && is("kind", "HelmChartInflationGenerator")) {
        return Ok(None);
    }
    let what = "HelmChartInflationGenerator";
    let mut chart = n.clone();
    if let Some(m) = chart.as_map_mut() {
        m.retain(|k, _| k.as_str().is_some_and(|k| CHART_FIELDS.contains(&k)));
    }
    let mut c = decode_chart(&chart, what)?;
    c.origin = n.origin.clone();
    let mut globals = HelmGlobals::default();
    if let Some(h) = n.get("chartHome") {
        let s = decode::string(h, what)?;
        globals.chart_home = (!s.value.is_empty()).then_some(s);
    }
    Ok(Some((globals, c)))
}
