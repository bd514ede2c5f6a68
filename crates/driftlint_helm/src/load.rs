//! Loading a chart directory as Helm's `loader.LoadDir`: `Chart.yaml` (apiVersion v1 or v2,
//! v1 dependencies from `requirements.yaml`), `values.yaml`, `values.schema.json`,
//! `templates/`, `crds/`, other files, `charts/*` subchart directories, filtered by
//! `.helmignore`. Every read goes through [`RepoFs`].

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use super::values::{parse_values, parse_values_located};
use super::HelmError;
use driftlint_yaml::fs::RepoFs;

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
    /// `values.yaml` as parsed, its nodes carrying the file's lines (for value origins).
    pub values_doc: Option<std::sync::Arc<driftlint_yaml::Node>>,
    /// `values.yaml` as written (for callers that read it as another tool would: kustomize
    /// passes it to Helm as a values file), when present.
    pub values_text: Option<std::sync::Arc<str>>,
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

/// A file of a chart: (chart-relative path, bytes).
pub type FileEntry = (String, Vec<u8>);

/// Unpacking budget of one chart: the bytes decompressed from all its packaged `.tgz`
/// subcharts, at every nesting level together (tar headers, PAX records and entry data, as
/// actually read, whatever the headers claim), plus the files read from its directories:
/// 64 MiB. An excess is a [`HelmError::BadFile`] at the archive that crossed it.
pub const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;

/// Bytes left of a chart's [`MAX_UNPACKED_BYTES`] budget, shared by every archive level.
#[derive(Clone, Debug)]
pub struct UnpackBudget(std::rc::Rc<std::cell::Cell<u64>>);

impl UnpackBudget {
    /// A budget of `bytes`.
    pub fn new(bytes: u64) -> UnpackBudget {
        UnpackBudget(std::rc::Rc::new(std::cell::Cell::new(bytes)))
    }

    /// Takes `n` bytes; false (and the budget spent) when fewer were left.
    fn take(&self, n: u64) -> bool {
        let left = self.0.get();
        self.0.set(left.saturating_sub(n));
        n <= left
    }
}

impl Default for UnpackBudget {
    fn default() -> Self {
        UnpackBudget::new(MAX_UNPACKED_BYTES)
    }
}

/// A reader that charges every byte it yields to an [`UnpackBudget`] and fails once the budget
/// is spent (the decompressed stream of an archive).
struct Charged<R> {
    inner: R,
    budget: UnpackBudget,
    exceeded: std::rc::Rc<std::cell::Cell<bool>>,
}

impl<R: std::io::Read> std::io::Read for Charged<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if !self.budget.take(n as u64) {
            self.exceeded.set(true);
            return Err(std::io::Error::other("unpacking budget exceeded"));
        }
        Ok(n)
    }
}

fn over_budget(file: &str) -> HelmError {
    HelmError::BadFile {
        message: format!(
            "{file}: the chart unpacks to more than the budget of {MAX_UNPACKED_BYTES} bytes (MAX_UNPACKED_BYTES, all files and nested archives together)"
        ),
        origin: origin_at(file, 1),
    }
}

fn origin_at(file: &str, line: u32) -> driftlint_yaml::Origin {
    driftlint_yaml::Origin::new(std::sync::Arc::from(file), line, 1)
}

/// Loads the chart in `dir` (repo-relative). Errors: missing/invalid `Chart.yaml`, unreadable
/// files, invalid `.tgz` subcharts, YAML errors in values.
pub fn load_chart(fs: &RepoFs, dir: &Path) -> Result<Chart, HelmError> {
    let abs = fs.resolve(Path::new(""), &dir.to_string_lossy())?;
    let display = fs.display(&abs);
    let ignore = helmignore(fs, &abs)?;
    let canon = abs
        .canonicalize()
        .map_err(|e| HelmError::Io(format!("{display}: {e}")))?;
    let mut entries = Vec::new();
    let mut visited = std::collections::HashSet::from([canon.clone()]);
    walk(
        fs,
        &abs,
        (&abs, &canon),
        &ignore,
        &mut visited,
        &mut entries,
    )?;
    let budget = UnpackBudget::default();
    let mut files = Vec::new();
    for (rel, path) in entries {
        let bytes = read_file(&display, &rel, &path)?;
        if !budget.take(bytes.len() as u64) {
            return Err(over_budget(&format!("{display}/{rel}")));
        }
        // Reports show lines of chart files (templates, values) from what was read here.
        if let Ok(text) = std::str::from_utf8(&bytes) {
            fs.remember(&format!("{display}/{rel}"), std::sync::Arc::from(text));
        }
        files.push((rel, bytes));
    }
    from_files_within(&display, files, &budget)
}

/// Builds a chart from its files (chart-relative path, bytes), as Helm's `loader.LoadFiles`:
/// `charts/NAME/...` become subcharts, `charts/*.tgz` packaged subcharts are unpacked (within
/// a fresh [`MAX_UNPACKED_BYTES`] budget). Errors: as [`load_chart`].
pub fn from_files(display: &str, files: Vec<(String, Vec<u8>)>) -> Result<Chart, HelmError> {
    from_files_within(display, files, &UnpackBudget::default())
}

/// [`from_files`], packaged subcharts charged to `budget`.
fn from_files_within(
    display: &str,
    files: Vec<(String, Vec<u8>)>,
    budget: &UnpackBudget,
) -> Result<Chart, HelmError> {
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
        values_doc: None,
        values_text: None,
        schema: None,
        templates: Vec::new(),
        files: Vec::new(),
        subcharts: Vec::new(),
        dir: display.to_string(),
    };
    let mut subs: Vec<(String, Vec<FileEntry>)> = Vec::new();
    let mut packaged: Vec<FileEntry> = Vec::new();
    for (rel, bytes) in files {
        let file = format!("{display}/{rel}");
        if let Some(rest) = rel.strip_prefix("charts/") {
            match rest.split_once('/') {
                Some((name, inner)) => {
                    let inner = (inner.to_string(), bytes);
                    match subs.iter_mut().find(|(n, _)| n == name) {
                        Some((_, fs)) => fs.push(inner),
                        None => subs.push((name.to_string(), vec![inner])),
                    }
                }
                None if rest.ends_with(".tgz") || rest.ends_with(".tar.gz") => {
                    packaged.push((file, bytes))
                }
                None => chart.files.push((rel, bytes)),
            }
            continue;
        }
        match rel.as_str() {
            "Chart.yaml" => chart_yaml = Some(text(&file, bytes)?),
            "values.yaml" => {
                let raw = text(&file, bytes)?;
                let (values, doc) =
                    parse_values_located(&file, &raw).map_err(|(message, at)| {
                        let (line, column) = at.unwrap_or((1, 1));
                        HelmError::BadFile {
                            message,
                            origin: driftlint_yaml::Origin::new(
                                std::sync::Arc::from(file.as_str()),
                                line,
                                column,
                            ),
                        }
                    })?;
                chart.values = values;
                chart.values_doc = doc.map(std::sync::Arc::new);
                chart.values_text = Some(raw.into());
            }
            "values.schema.json" => {
                chart.schema =
                    Some(serde_json::from_slice(&bytes).map_err(|e| {
                        HelmError::Load(format!("{file}: invalid JSON schema: {e}"))
                    })?)
            }
            "requirements.yaml" => requirements = Some(text(&file, bytes)?),
            "requirements.lock" | "Chart.lock" => {}
            _ if rel.starts_with("templates/") => {
                let t = text(&file, bytes)?;
                chart.templates.push((rel, t))
            }
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
    for (name, files) in subs {
        if files.iter().any(|(p, _)| p == "Chart.yaml") {
            chart.subcharts.push(from_files_within(
                &format!("{display}/charts/{name}"),
                files,
                budget,
            )?);
        }
    }
    for (file, bytes) in packaged {
        chart
            .subcharts
            .push(load_archive_within(&file, &bytes, budget)?);
    }
    Ok(chart)
}

/// A chart file's text (the bytes themselves, no copy). Errors: a [`HelmError::BadFile`] at
/// the line of the first byte that is not UTF-8 (`file` names it): Helm would keep the bytes,
/// driftlint refuses them rather than guess.
fn text(file: &str, bytes: Vec<u8>) -> Result<String, HelmError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count();
        HelmError::BadFile {
            message: format!("{file}: not UTF-8 text (invalid byte at offset {at})"),
            origin: origin_at(file, u32::try_from(line).unwrap_or(u32::MAX)),
        }
    })
}

/// Unpacks a packaged chart (`.tgz`: gzip, tar, one top-level directory) and loads it, as
/// Helm's `loader.LoadArchive`, within a fresh [`MAX_UNPACKED_BYTES`] budget for it and its
/// nested archives. Errors: corrupt archives, absolute or `..` entry paths, an exceeded budget.
pub fn load_archive(file: &str, bytes: &[u8]) -> Result<Chart, HelmError> {
    load_archive_within(file, bytes, &UnpackBudget::default())
}

/// [`load_archive`] charging every decompressed byte (and those of nested archives) to
/// `budget`.
pub fn load_archive_within(
    file: &str,
    bytes: &[u8],
    budget: &UnpackBudget,
) -> Result<Chart, HelmError> {
    use std::io::Read;
    let exceeded = std::rc::Rc::new(std::cell::Cell::new(false));
    let bad = |e: String| {
        if exceeded.get() {
            over_budget(file)
        } else {
            HelmError::Load(format!("{file}: {e}"))
        }
    };
    let gz = Charged {
        inner: flate2::read::GzDecoder::new(bytes),
        budget: budget.clone(),
        exceeded: exceeded.clone(),
    };
    let mut archive = tar::Archive::new(gz);
    let mut files = Vec::new();
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| bad(e.to_string()))?
            .to_string_lossy()
            .replace('\\', "/");
        let mut parts = path.split('/').filter(|p| !p.is_empty() && *p != ".");
        let _top = parts.next();
        let rest: Vec<&str> = parts.collect();
        if path.starts_with('/') || rest.contains(&"..") {
            return Err(bad(format!(
                "chart illegally contains content outside the base directory: {path:?}"
            )));
        }
        if rest.is_empty() {
            continue;
        }
        // Every byte read is charged by `Charged`, whatever size the (ustar or PAX) header
        // claims; the capacity hint is bounded by the budget, not the header.
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| bad(e.to_string()))?;
        files.push((rest.join("/"), data));
    }
    if exceeded.get() {
        return Err(over_budget(file));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    from_files_within(file, files, budget)
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
        return Err(HelmError::Load(
            "validation: chart.metadata.name is required".to_string(),
        ));
    }
    if chart.version.is_empty() {
        return Err(HelmError::Load(
            "validation: chart.metadata.version is required".to_string(),
        ));
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

/// Lists the files under `dir` (whose canonical path is `canon_dir`) in Go's lexical walk
/// order as (chart-relative path, canonical path), skipping `.helmignore`d paths. Only symbolic
/// links are canonicalized (one `realpath` each); a link that leaves the repository root is an
/// error, as everywhere in driftlint. Each real directory is walked once (`visited` holds the
/// canonical paths walked): a symbolic link to a directory already walked (a parent, a
/// sibling) is skipped, so links cannot fan out or loop. Anything that is neither a regular
/// file nor a directory (FIFO, socket, device) is a [`HelmError::BadFile`]: reading a FIFO
/// would block the run.
fn walk(
    fs: &RepoFs,
    root: &Path,
    (dir, canon_dir): (&Path, &Path),
    ignore: &ignore::gitignore::Gitignore,
    visited: &mut std::collections::HashSet<PathBuf>,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), HelmError> {
    let io = |path: &Path, e: std::io::Error| HelmError::Io(format!("{}: {e}", fs.display(path)));
    let rd = std::fs::read_dir(dir).map_err(|e| io(dir, e))?;
    let mut items = Vec::new();
    for entry in rd.flatten() {
        let kind = entry.file_type().map_err(|e| io(&entry.path(), e))?;
        items.push((entry.file_name(), kind));
    }
    items.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, kind) in items {
        let path = dir.join(&name);
        let (canonical, kind) = if kind.is_symlink() {
            let canonical = path.canonicalize().map_err(|e| io(&path, e))?;
            if !canonical.starts_with(fs.root()) {
                return Err(HelmError::Fs(driftlint_yaml::fs::FsError::Escapes {
                    path: fs.display(&path),
                    root: fs.root().display().to_string(),
                }));
            }
            let kind = std::fs::metadata(&canonical)
                .map_err(|e| io(&path, e))?
                .file_type();
            (canonical, kind)
        } else {
            (canon_dir.join(&name), kind)
        };
        let is_dir = kind.is_dir();
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        if ignore.matched(&rel, is_dir).is_ignore() {
            continue;
        }
        if is_dir {
            if visited.insert(canonical.clone()) {
                walk(fs, root, (&path, &canonical), ignore, visited, out)?;
            }
        } else if kind.is_file() {
            out.push((rel, canonical));
        } else {
            let file = fs.display(&path);
            return Err(HelmError::BadFile {
                message: format!(
                    "{file}: not a regular file or directory (a FIFO, socket or device file); chart files must be regular files"
                ),
                origin: origin_at(&file, 1),
            });
        }
    }
    Ok(())
}

/// Reads one chart file, refusing files above [`driftlint_yaml::fs::MAX_FILE_BYTES`] before reading.
fn read_file(display: &str, rel: &str, path: &Path) -> Result<Vec<u8>, HelmError> {
    use std::io::Read;
    let io = |e: std::io::Error| HelmError::Io(format!("{display}/{rel}: {e}"));
    // `walk` only lists regular files; check again right before opening, as opening a FIFO
    // blocks until a writer appears.
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        let file = format!("{display}/{rel}");
        return Err(HelmError::BadFile {
            message: format!("{file}: not a regular file"),
            origin: origin_at(&file, 1),
        });
    }
    let mut file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > driftlint_yaml::fs::MAX_FILE_BYTES {
        return Err(HelmError::Load(format!(
            "{display}/{rel}: file is {len} bytes, larger than the {}-byte limit",
            driftlint_yaml::fs::MAX_FILE_BYTES
        )));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
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
            values_doc: None,
            values_text: None,
            schema: None,
            templates: Vec::new(),
            files: Vec::new(),
            subcharts: Vec::new(),
            dir: name.into(),
        }
    }
}
