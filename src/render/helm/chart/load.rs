//! Loading a chart directory as Helm's `loader.LoadDir`: `Chart.yaml` (apiVersion v1 or v2,
//! v1 dependencies from `requirements.yaml`), `values.yaml`, `values.schema.json`,
//! `templates/`, `crds/`, other files, `charts/*` subchart directories, filtered by
//! `.helmignore`. Every read goes through [`RepoFs`].

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use super::values::parse_values;
use super::HelmError;
use crate::fs::RepoFs;

/// One entry of `dependencies:` (Chart.yaml v2) or `requirements.yaml` (v1).
#[derive(Clone, Debug, Default)]
pub struct Dependency {
    /// The dependency's chart name (matches the subchart's `Chart.yaml` `name`).
    pub name: String,
    /// `alias:`, the name the subchart is rendered and scoped under.
    pub alias: Option<String>,
    /// `condition:`: comma-separated value paths; the first that holds a bool decides.
    pub condition: Option<String>,
    /// `tags:`: enabled when any tag is true in `.Values.tags`.
    pub tags: Vec<String>,
    /// The raw entry, for `.Chart.Dependencies`.
    pub raw: Map<String, Json>,
}

/// A loaded chart (Helm's `chart.Chart`).
#[derive(Clone, Debug)]
pub struct Chart {
    /// Chart.yaml as JSON.
    pub meta: Map<String, Json>,
    /// `name:` (or the alias it is rendered under).
    pub name: String,
    /// `version:`.
    pub version: String,
    /// `apiVersion:` (`v1` or `v2`).
    pub api_version: String,
    /// `kubeVersion:` constraint, when set.
    pub kube_version: Option<String>,
    /// `type:` (`application`, `library` or empty).
    pub chart_type: String,
    /// Declared dependencies.
    pub dependencies: Vec<Dependency>,
    /// `values.yaml` defaults.
    pub values: Map<String, Json>,
    /// `values.schema.json`, when present.
    pub schema: Option<Json>,
    /// `templates/...` files: (chart-relative path, text).
    pub templates: Vec<(String, String)>,
    /// Every other file (including `crds/`): (chart-relative path, bytes).
    pub files: Vec<(String, Vec<u8>)>,
    /// Subcharts from `charts/`, in directory order.
    pub subcharts: Vec<Chart>,
    /// Repo-relative directory, for messages.
    pub dir: String,
}

impl Chart {
    /// Whether this is a library chart (`type: library`, never rendered itself).
    pub fn is_library(&self) -> bool {
        self.chart_type == "library"
    }

    /// `crds/` files: (chart-relative path, text).
    pub fn crds(&self) -> Vec<(String, String)> {
        self.files
            .iter()
            .filter(|(p, _)| p.starts_with("crds/"))
            .map(|(p, b)| (p.clone(), String::from_utf8_lossy(b).into_owned()))
            .collect()
    }
}

/// Loads the chart in `dir` (repo-relative). Errors: missing/invalid `Chart.yaml`, unreadable
/// files, packaged `.tgz` subcharts (not supported), YAML errors in values.
pub fn load_chart(fs: &RepoFs, dir: &Path) -> Result<Chart, HelmError> {
    let abs = fs.resolve(Path::new(""), &dir.to_string_lossy())?;
    let display = fs.display(&abs);
    let ignore = helmignore(fs, &abs)?;
    let mut entries = Vec::new();
    walk(fs, &abs, &abs, &ignore, &mut entries)?;
    let mut chart_yaml = None;
    let mut requirements = None;
    let mut chart = Chart {
        meta: Map::new(),
        name: String::new(),
        version: String::new(),
        api_version: String::new(),
        kube_version: None,
        chart_type: String::new(),
        dependencies: Vec::new(),
        values: Map::new(),
        schema: None,
        templates: Vec::new(),
        files: Vec::new(),
        subcharts: Vec::new(),
        dir: display.clone(),
    };
    let mut sub_dirs: Vec<PathBuf> = Vec::new();
    for (rel, path) in entries {
        let file = format!("{display}/{rel}");
        if let Some(rest) = rel.strip_prefix("charts/") {
            let first = rest.split('/').next().unwrap_or("");
            if rest.ends_with(".tgz") && !rest.contains('/') {
                return Err(HelmError::Unsupported(format!(
                    "{file}: packaged subcharts (.tgz) are not supported; unpack it into charts/{}",
                    first.trim_end_matches(".tgz")
                )));
            }
            let sub = abs.join("charts").join(first);
            if sub.is_dir() && !sub_dirs.contains(&sub) && sub.join("Chart.yaml").is_file() {
                sub_dirs.push(sub);
            }
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| HelmError::Io(format!("{file}: {e}")))?;
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match rel.as_str() {
            "Chart.yaml" => chart_yaml = Some(text()),
            "values.yaml" => {
                chart.values = parse_values(&file, &text()).map_err(HelmError::Load)?
            }
            "values.schema.json" => {
                chart.schema =
                    Some(serde_json::from_slice(&bytes).map_err(|e| {
                        HelmError::Load(format!("{file}: invalid JSON schema: {e}"))
                    })?)
            }
            "requirements.yaml" => requirements = Some(text()),
            "requirements.lock" | "Chart.lock" => {}
            _ if rel.starts_with("templates/") => chart.templates.push((rel, text())),
            _ => chart.files.push((rel, bytes)),
        }
    }
    let Some(cy) = chart_yaml else {
        return Err(HelmError::Load(format!(
            "Chart.yaml file is missing (in {display})"
        )));
    };
    read_metadata(&mut chart, &format!("{display}/Chart.yaml"), &cy)?;
    if let Some(req) = requirements {
        if chart.api_version == "v1" {
            let m = parse_values(&format!("{display}/requirements.yaml"), &req)
                .map_err(HelmError::Load)?;
            chart.dependencies = dependencies(m.get("dependencies"));
        }
    }
    for sub in sub_dirs {
        let rel = fs.relative(&sub);
        chart.subcharts.push(load_chart(fs, &rel)?);
    }
    Ok(chart)
}

fn read_metadata(chart: &mut Chart, file: &str, text: &str) -> Result<(), HelmError> {
    let meta = parse_values(file, text).map_err(HelmError::Load)?;
    let s = |k: &str| match meta.get(k) {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Number(n)) => super::objects::go_float(n.as_f64().unwrap_or(0.0)),
        _ => String::new(),
    };
    chart.name = s("name");
    chart.version = s("version");
    chart.api_version = s("apiVersion");
    chart.chart_type = s("type");
    let kv = s("kubeVersion");
    chart.kube_version = (!kv.is_empty()).then_some(kv);
    if chart.api_version.is_empty() {
        // Helm's loader treats a chart without apiVersion as a legacy v1 chart.
        chart.api_version = "v1".into();
    }
    if chart.name.is_empty() {
        return Err(HelmError::Load(format!(
            "validation: chart.metadata.name is required (in {file})"
        )));
    }
    if chart.version.is_empty() {
        return Err(HelmError::Load(format!(
            "validation: chart.metadata.version is required (in {file})"
        )));
    }
    if chart.api_version == "v2" {
        chart.dependencies = dependencies(meta.get("dependencies"));
    }
    chart.meta = meta;
    Ok(())
}

fn dependencies(v: Option<&Json>) -> Vec<Dependency> {
    let Some(Json::Array(items)) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|d| d.as_object())
        .map(|d| {
            let s = |k: &str| d.get(k).and_then(Json::as_str).map(str::to_string);
            Dependency {
                name: s("name").unwrap_or_default(),
                alias: s("alias").filter(|a| !a.is_empty()),
                condition: s("condition").filter(|c| !c.is_empty()),
                tags: d
                    .get("tags")
                    .and_then(Json::as_array)
                    .map(|t| {
                        t.iter()
                            .filter_map(Json::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
                raw: d.clone(),
            }
        })
        .collect()
}

fn helmignore(fs: &RepoFs, abs: &Path) -> Result<ignore::gitignore::Gitignore, HelmError> {
    let mut b = ignore::gitignore::GitignoreBuilder::new(abs);
    let path = abs.join(".helmignore");
    if path.is_file() {
        let text = fs.read_text(&path)?;
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            b.add_line(None, line)
                .map_err(|e| HelmError::Load(format!("{}: {e}", fs.display(&path))))?;
        }
    }
    b.build()
        .map_err(|e| HelmError::Load(format!("{}: {e}", fs.display(&path))))
}

/// Lists files under `dir` (sorted, as Go's `filepath.Walk`) as (chart-relative path, path),
/// skipping ignored ones and refusing symlinks that leave the repository.
fn walk(
    fs: &RepoFs,
    root: &Path,
    dir: &Path,
    ignore: &ignore::gitignore::Gitignore,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), HelmError> {
    let rd =
        std::fs::read_dir(dir).map_err(|e| HelmError::Io(format!("{}: {e}", fs.display(dir))))?;
    let mut items: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    items.sort();
    for path in items {
        let canonical = path
            .canonicalize()
            .map_err(|e| HelmError::Io(format!("{}: {e}", fs.display(&path))))?;
        if !canonical.starts_with(fs.root()) {
            return Err(HelmError::Fs(crate::fs::FsError::Escapes {
                path: fs.display(&path),
                root: fs.root().display().to_string(),
            }));
        }
        let is_dir = canonical.is_dir();
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        if ignore.matched(&rel, is_dir).is_ignore() {
            continue;
        }
        if is_dir {
            walk(fs, root, &path, ignore, out)?;
        } else {
            out.push((rel, canonical));
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// A chart with only a name, for unit tests.
    pub fn empty_chart(name: &str) -> Chart {
        Chart {
            meta: Map::new(),
            name: name.into(),
            version: "1.0.0".into(),
            api_version: "v2".into(),
            kube_version: None,
            chart_type: String::new(),
            dependencies: Vec::new(),
            values: Map::new(),
            schema: None,
            templates: Vec::new(),
            files: Vec::new(),
            subcharts: Vec::new(),
            dir: name.into(),
        }
    }
}
