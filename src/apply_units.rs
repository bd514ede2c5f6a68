//! `driftlint build`: the objects each apply unit would apply (a Flux Kustomization, a
//! HelmRelease, a kustomization or manifest folder no Flux Kustomization reaches, a chart), as one YAML
//! stream with a comment header per unit, like `flux build kustomization` or
//! `flux-local build`; or, as JSON, the list of units with their kind, source and object count.

use serde::Serialize;

use crate::check::{render_repo, CheckError, CheckOptions};
use crate::discover::{self, Target};
use crate::report::Finding;

/// What `driftlint build` printed, and the render failures to report on stderr.
pub struct Built {
    /// The YAML stream or JSON document.
    pub output: String,
    /// RENDER001/RENDER002/CONFIG001 findings of the selected units (redacted).
    pub failures: Vec<Finding>,
    /// True when `--unit` matched nothing.
    pub no_such_unit: bool,
}

#[derive(Serialize)]
struct JsonUnit {
    id: String,
    kind: &'static str,
    path: String,
    source: Option<crate::report::JsonSource>,
    objects: usize,
}

#[derive(Serialize)]
struct JsonSkipped {
    unit: String,
    file: String,
    line: u32,
    reason: String,
}

/// A unit that could not be rendered (or rendered with a warning such as CHART001).
#[derive(Serialize)]
struct JsonFailed {
    unit: String,
    code: String,
    file: String,
    line: u32,
    message: String,
}

#[derive(Serialize)]
struct JsonBuild {
    units: Vec<JsonUnit>,
    skipped: Vec<JsonSkipped>,
    failed: Vec<JsonFailed>,
}

/// True when `unit` (as given to `--unit`) names `t`: its id, its path, or for a Flux
/// Kustomization or a HelmRelease `namespace/name`.
fn selects(t: &Target, unit: &str) -> bool {
    t.id() == unit
        || discover::display_path(&t.path) == unit
        || t.unit.as_ref().is_some_and(|u| {
            let label = u.label.as_str();
            label.strip_prefix("Kustomization ") == Some(unit)
                || label.strip_prefix("HelmRelease ") == Some(unit)
        })
}

/// True when `unit` (as given to `--unit`) names the target whose id is `id`: the id, a
/// path followed by the unit's label, or a Flux Kustomization's or HelmRelease's
/// `namespace/name` in that label.
fn names_failed(id: &str, unit: &str) -> bool {
    id == unit
        || id.starts_with(&format!("{unit} ("))
        || id.ends_with(&format!("(Kustomization {unit})"))
        || id.ends_with(&format!("(HelmRelease {unit})"))
}

/// Renders every unit under `opts.paths` (only those `unit` selects, when given).
///
/// Errors: as [`render_repo`] (a missing path, an unsupported Kubernetes version).
pub fn build(opts: &CheckOptions, unit: Option<&str>, json: bool) -> Result<Built, CheckError> {
    let repo = render_repo(opts)?;
    let chosen: Vec<&(Target, Vec<driftlint_yaml::Node>)> = repo
        .targets
        .iter()
        .filter(|(t, _)| unit.is_none_or(|u| selects(t, u)))
        .collect();
    let failures: Vec<Finding> = repo
        .findings
        .iter()
        .filter(|f| unit.is_none_or(|u| names_failed(&f.target, u)))
        .cloned()
        .collect();
    let no_such_unit = unit.is_some() && chosen.is_empty() && failures.is_empty();
    let output = if json {
        let doc = JsonBuild {
            units: chosen
                .iter()
                .map(|(t, objects)| JsonUnit {
                    id: t.id(),
                    kind: t.kind.as_str(),
                    path: discover::display_path(&t.path),
                    source: t.unit.as_ref().map(|u| crate::report::JsonSource {
                        file: u.file.clone(),
                        line: u.line,
                    }),
                    objects: objects.len(),
                })
                .collect(),
            skipped: repo
                .skipped
                .iter()
                .map(|(unit, at, reason)| JsonSkipped {
                    unit: unit.clone(),
                    file: at.file.to_string(),
                    line: at.line,
                    reason: reason.clone(),
                })
                .collect(),
            failed: failures
                .iter()
                .map(|f| JsonFailed {
                    unit: f.target.clone(),
                    code: f.code.clone(),
                    file: f.origin.file.to_string(),
                    line: f.origin.line,
                    message: f.message.clone(),
                })
                .collect(),
        };
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    } else {
        yaml_stream(&chosen)
    };
    Ok(Built {
        output,
        failures,
        no_such_unit,
    })
}

fn yaml_stream(units: &[&(Target, Vec<driftlint_yaml::Node>)]) -> String {
    let mut out = String::new();
    for (t, objects) in units {
        out.push_str("---\n");
        out.push_str(&format!("# Unit: {} ({})\n", t.id(), t.kind.as_str()));
        if let Some(u) = &t.unit {
            out.push_str(&format!("# Source: {}:{}\n", u.file, u.line));
        }
        out.push_str(&format!("# Objects: {}\n", objects.len()));
        let body = driftlint_kustomize::render_yaml(objects);
        out.push_str(body.strip_prefix("---\n").unwrap_or(&body));
    }
    out
}
