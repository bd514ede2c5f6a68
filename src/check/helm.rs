//! Chart targets in `driftlint check`: rendered natively as `helm template` with origins
//! (see [`driftlint_helm::traced`]); a chart that cannot be rendered is a finding
//! at the template line Helm's message names.

use std::path::Path;
use std::sync::Arc;

use super::{flatten_list, is_object, Rendered};
use crate::discover::Target;
use crate::report::{Finding, Severity};
use driftlint_helm::values::helm_key;
use driftlint_helm::{render_objects, HelmError, SetKind, TemplateOptions};
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::Origin;

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
        declared: None,
    }
}

/// `name:` of the chart's Chart.yaml, else the directory name.
fn chart_name(fs: &RepoFs, chart: &Path) -> String {
    let file = fs.root().join(chart).join("Chart.yaml");
    let from_yaml = fs.read_text(&file).ok().and_then(|t| {
        driftlint_helm::values::parse_values("Chart.yaml", &t)
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
pub(crate) fn kube_version(v: &str) -> String {
    let v = v.trim_start_matches('v');
    if v.split('.').count() == 2 {
        format!("v{v}.0")
    } else {
        format!("v{v}")
    }
}

/// RENDER001 (RENDER002 for what the native engine does not support) with Helm's message, at
/// the origin the engine attached to the error (a template line, a refused chart file), else
/// at the values line a schema error's pointer names, else at values.yaml for schema errors,
/// else at Chart.yaml. Nothing is parsed out of the message: template text can write
/// anything there (`{{ fail "(template line /proc/self/environ:1)" }}`).
fn failure(fs: &RepoFs, target: &Target, e: &HelmError) -> Finding {
    let msg = e.to_string();
    let chart = fs.display(&fs.root().join(&target.path));
    let unsupported =
        matches!(e, HelmError::Unsupported(_)) || msg.contains("not supported by driftlint");
    let at_chart = |file: &str| Origin::new(Arc::from(format!("{chart}/{file}")), 1, 1);
    let origin = match e {
        HelmError::Schema { pointer, .. } => pointer
            .as_deref()
            .and_then(|p| schema_origin(fs, target, p))
            .unwrap_or_else(|| at_chart("values.yaml")),
        // The release's own `set:` (written in `.driftlint.yaml`) does not parse.
        HelmError::Load(m) if m.starts_with("failed parsing --set") => target
            .release
            .as_ref()
            .and_then(|r| r.origin.clone())
            .unwrap_or_else(|| at_chart("Chart.yaml")),
        _ => e
            .origin()
            .and_then(|o| in_repo(fs, o))
            .unwrap_or_else(|| at_chart("Chart.yaml")),
    };
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

/// `o` when its file is a file of the repository; else (a file inside a packaged chart,
/// `charts/x.tgz/templates/a.yaml`) the nearest enclosing path that is one (the `.tgz`), at
/// line 1; `None` when no enclosing path is. The report reads origin files to show their
/// lines, so an origin never leaves the repository.
fn in_repo(fs: &RepoFs, o: &Origin) -> Option<Origin> {
    let is_file = |p: &str| fs.resolve(Path::new(""), p).is_ok_and(|abs| abs.is_file());
    if is_file(&o.file) {
        return Some(o.clone());
    }
    let mut p = o.file.as_ref();
    while let Some((parent, _)) = p.rsplit_once('/') {
        if is_file(parent) {
            return Some(Origin::new(Arc::from(parent), 1, 1));
        }
        p = parent;
    }
    None
}

/// For a values schema error, the line of the first offending value (`pointer`, relative to
/// the root chart's values): looked up in the release's values files (last first), then in
/// the chart's `values.yaml`.
fn schema_origin(fs: &RepoFs, target: &Target, pointer: &str) -> Option<Origin> {
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
        let docs = driftlint_yaml::parse_documents(Arc::from(fs.display(&abs)), &text).ok()?;
        let mut node = docs.first()?;
        for seg in &path {
            node = match &node.value {
                driftlint_yaml::Value::Map(m) => m
                    .iter()
                    .filter(|(k, _)| helm_key(k) == *seg)
                    .map(|(_, v)| v)
                    .last()?,
                driftlint_yaml::Value::Seq(items) => items.get(seg.parse::<usize>().ok()?)?,
                driftlint_yaml::Value::Scalar(_) => return None,
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
