//! Chart targets in `driftlint check`: rendered natively as `helm template` with origins
//! (see [`crate::render::helm::chart::traced`]); a chart that cannot be rendered is a finding
//! at the template line Helm's message names.

use std::path::Path;
use std::sync::Arc;

use once_cell::sync::Lazy;
use regex::Regex;

use super::{flatten_list, is_object, Rendered};
use crate::discover::Target;
use crate::fs::RepoFs;
use crate::render::helm::chart::values::helm_key;
use crate::render::helm::chart::{render_objects, HelmError, SetKind, TemplateOptions};
use crate::report::{Finding, Severity};
use crate::yaml::Origin;

/// The seed `check` renders charts with ([`TemplateOptions::random_seed`]): any fixed value
/// makes random names reproducible; they never equal what a real `helm install` picked.
const CHECK_RANDOM_SEED: u64 = 0x6472_6966_746c_696e;

/// Renders a chart target: release name = the chart's name and namespace `default` unless its
/// release says otherwise, `--kube-version` = the checked Kubernetes version.
pub(super) fn render_chart(fs: &RepoFs, target: &Target, version: &str) -> Rendered {
    let release = target.release.clone().unwrap_or_default();
    let opts = TemplateOptions {
        release_name: release
            .name
            .clone()
            .unwrap_or_else(|| chart_name(fs, &target.path)),
        namespace: release
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
        value_files: release.values.clone(),
        sets: release
            .set
            .iter()
            .map(|s| (SetKind::Typed, s.clone()))
            .collect(),
        kube_version: Some(kube_version(
            release.kube_version.as_deref().unwrap_or(version),
        )),
        api_versions: release.api_versions.clone(),
        // `helm install` applies `crds/` first: their schemas validate the chart's resources.
        include_crds: true,
        // Same findings, same bytes, every run (Helm's random functions draw from the OS).
        random_seed: Some(CHECK_RANDOM_SEED),
        ..TemplateOptions::default()
    };
    let (objects, failure) = match render_objects(fs, &target.path, &opts) {
        Ok(ms) => (
            ms.into_iter()
                .map(|m| m.document)
                .filter(is_object)
                .flat_map(flatten_list)
                .collect(),
            None,
        ),
        // A library chart is only used by others; it has nothing to check on its own.
        Err(HelmError::Load(m)) if m == "library charts are not installable" => (Vec::new(), None),
        Err(e) => (Vec::new(), Some(failure(fs, target, &e))),
    };
    Rendered {
        target: target.clone(),
        objects,
        files: release.values,
        failure,
    }
}

/// `name:` of the chart's Chart.yaml, else the directory name.
fn chart_name(fs: &RepoFs, chart: &Path) -> String {
    let file = fs.root().join(chart).join("Chart.yaml");
    let from_yaml = fs.read_text(&file).ok().and_then(|t| {
        crate::render::helm::chart::values::parse_values("Chart.yaml", &t)
            .ok()
            .and_then(|m| m.get("name").and_then(|n| n.as_str().map(str::to_string)))
    });
    from_yaml.unwrap_or_else(|| {
        chart
            .file_name()
            .map_or_else(|| "release".into(), |n| n.to_string_lossy().into_owned())
    })
}

/// `1.33` → `v1.33.0`, as Helm's `ParseKubeVersion` reads it; full versions are kept.
fn kube_version(v: &str) -> String {
    let v = v.trim_start_matches('v');
    if v.split('.').count() == 2 {
        format!("v{v}.0")
    } else {
        format!("v{v}")
    }
}

static LOCATION: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?:at \(|template: |error on )([^\s():]+)(?::(\d+))?(?::(\d+))?")
        .unwrap_or_else(|_| unreachable!("static regex"))
});

/// `(template line FILE:LINE)`, added by the traced renderer to YAML errors in its output.
static TEMPLATE_LINE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"\(template line ([^\s:]+):(\d+)\)")
        .unwrap_or_else(|_| unreachable!("static regex"))
});

/// RENDER001 (RENDER002 for what the native engine does not support) with Helm's message,
/// at the template file and line the message names (Go's 0-based column made 1-based), else
/// at values.yaml for schema errors, else at Chart.yaml.
fn failure(fs: &RepoFs, target: &Target, e: &HelmError) -> Finding {
    let msg = e.to_string();
    let chart = fs.display(&fs.root().join(&target.path));
    let unsupported =
        matches!(e, HelmError::Unsupported(_)) || msg.contains("not supported by driftlint");
    let origin = TEMPLATE_LINE
        .captures(&msg)
        .and_then(|c| {
            let line = c.get(2)?.as_str().parse().ok()?;
            Some(Origin::new(Arc::from(c.get(1)?.as_str()), line, 1))
        })
        .or_else(|| {
            LOCATION.captures(&msg).and_then(|c| {
                let name = c.get(1)?.as_str();
                let (_, rest) = name.split_once('/')?;
                let line = c.get(2).and_then(|l| l.as_str().parse().ok()).unwrap_or(1);
                let col = c
                    .get(3)
                    .and_then(|l| l.as_str().parse::<u32>().ok())
                    .map_or(1, |c| c + 1);
                Some(Origin::new(Arc::from(format!("{chart}/{rest}")), line, col))
            })
        })
        .or_else(|| schema_origin(fs, target, &msg))
        .unwrap_or_else(|| {
            let file = if msg.contains("values don't meet the specifications") {
                "values.yaml"
            } else {
                "Chart.yaml"
            };
            Origin::new(Arc::from(format!("{chart}/{file}")), 1, 1)
        });
    Finding {
        code: if unsupported {
            "RENDER002"
        } else {
            "RENDER001"
        }
        .into(),
        severity: Severity::Error,
        message: format!("cannot render {}: {msg}", target.id()),
        origin,
        object: None,
        target: target.id(),
        field: None,
    }
}

static SCHEMA_AT: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"- at '([^']*)'").unwrap_or_else(|_| unreachable!("static regex")));

/// For a values schema error, the line of the first offending value: looked up by its JSON
/// pointer in the release's values files (last first), then in the chart's `values.yaml`.
fn schema_origin(fs: &RepoFs, target: &Target, msg: &str) -> Option<Origin> {
    if !msg.contains("values don't meet the specifications") {
        return None;
    }
    let pointer = SCHEMA_AT.captures(msg)?.get(1)?.as_str();
    let path: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut files: Vec<std::path::PathBuf> = target
        .release
        .as_ref()
        .map(|r| r.values.iter().rev().cloned().collect())
        .unwrap_or_default();
    files.push(target.path.join("values.yaml"));
    files.iter().find_map(|f| {
        let abs = fs.root().join(f);
        let text = fs.read_text(&abs).ok()?;
        let docs = crate::yaml::parse_documents(Arc::from(fs.display(&abs)), &text).ok()?;
        let mut node = docs.first()?;
        for seg in &path {
            node = match &node.value {
                crate::yaml::Value::Map(m) => m
                    .iter()
                    .filter(|(k, _)| helm_key(k) == *seg)
                    .map(|(_, v)| v)
                    .last()?,
                crate::yaml::Value::Seq(items) => items.get(seg.parse::<usize>().ok()?)?,
                crate::yaml::Value::Scalar(_) => return None,
            };
        }
        Some(node.origin.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_versions_as_helm_reads_them() {
        assert_eq!(kube_version("1.33"), "v1.33.0");
        assert_eq!(kube_version("v1.30.2"), "v1.30.2");
    }
}
