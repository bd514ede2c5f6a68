//! Finds what a repository deploys: Kustomize overlays, Helm charts and plain manifest folders.
//!
//! The walk respects `.gitignore` (also outside a Git checkout), skips hidden directories such
//! as `.git` and `.github`, and the configuration's `ignore:` globs. A kustomization is a *root*
//! when no other kustomization in the tree uses its directory as a resource, base or component
//! (the overlays a user deploys); `--all-kustomizations` checks every one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::config::{Config, TargetKind};
use driftlint_yaml::fs::{FsError, RepoFs};

/// The file names kustomize accepts, in its lookup order.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// One thing to render and check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    /// What it is.
    pub kind: Kind,
    /// Its repo-relative directory (`.` for the root).
    pub path: PathBuf,
    /// For manifest folders: the repo-relative YAML files, sorted.
    pub files: Vec<PathBuf>,
    /// For charts: how to render them (`None`: the chart's own values, release named after
    /// the chart, namespace `default`).
    pub release: Option<Release>,
    /// For Flux Kustomizations and helmfile releases: which one.
    pub unit: Option<UnitRef>,
}

/// The object an apply unit renders: a Flux Kustomization, a HelmRelease or a helmfile release.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnitRef {
    /// Shown after the path in the target id: `Kustomization flux-system/apps`,
    /// `release apps/podinfo`.
    pub label: String,
    /// The repo-relative file declaring it.
    pub file: String,
    /// The line of the object in that file.
    pub line: u32,
    /// The Flux Kustomization's (or release's) name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// The id of the unit that applies its object (`None`: found in a folder).
    pub parent: Option<String>,
    /// For a helmfile release: its `needs:` as `namespace/name`.
    pub needs: Vec<String>,
}

impl UnitRef {
    /// The unit `kind namespace/name` (`Kustomization`, `HelmRelease`, `Application`, ...)
    /// declared at `at`, with no parent and no `needs`.
    pub fn declared(
        kind: &str,
        namespace: &str,
        name: &str,
        at: &driftlint_yaml::Origin,
    ) -> UnitRef {
        UnitRef {
            label: format!("{kind} {namespace}/{name}"),
            file: at.file.to_string(),
            line: at.line,
            name: name.to_string(),
            namespace: namespace.to_string(),
            parent: None,
            needs: Vec::new(),
        }
    }
}

/// How a chart target is rendered: a `helm template` invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Release {
    /// Shown after the chart path in the target id: `charts/app (ci/prod-values.yaml)`.
    pub label: String,
    /// Release name; `None` = the chart's name.
    pub name: Option<String>,
    /// Namespace; `None` = `default`.
    pub namespace: Option<String>,
    /// Repo-relative `-f` values files, in order.
    pub values: Vec<PathBuf>,
    /// `--set` arguments (`a.b=c`), in order.
    pub set: Vec<String>,
    /// `--kube-version`; `None` = the checked Kubernetes version.
    pub kube_version: Option<String>,
    /// `--api-versions`.
    pub api_versions: Vec<String>,
    /// Where the release is declared (its `releases:` entry in `.driftlint.yaml`), for errors
    /// about its own settings (`set:`); `None` for discovered renderings.
    pub origin: Option<driftlint_yaml::Origin>,
}

/// The kind of a [`Target`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A kustomization directory, rendered natively.
    Kustomize,
    /// A Helm chart directory, rendered natively as `helm template`.
    Helm,
    /// A folder of plain manifests.
    Manifests,
    /// A Flux Kustomization: its `spec.path` rendered as kustomize-controller does.
    Flux,
    /// A helmfile release: its chart rendered as `helmfile template` does.
    Helmfile,
    /// A Flux HelmRelease: its chart rendered as helm-controller does.
    HelmRelease,
    /// An Argo CD Application: its sources rendered as Argo CD's repo-server does.
    Argo,
}

impl Kind {
    /// Lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Kustomize => "kustomize",
            Kind::Helm => "helm",
            Kind::Manifests => "manifests",
            Kind::Flux => "flux-kustomization",
            Kind::Helmfile => "helmfile-release",
            Kind::HelmRelease => "helm-release",
            Kind::Argo => "argocd-application",
        }
    }
}

/// A repo-relative path as reports show it: `/`-separated, `.` for the root.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

impl Target {
    /// The target's display id: its repo-relative directory, for a chart rendered with
    /// other values followed by the variant (`charts/app (ci/prod-values.yaml)`).
    pub fn id(&self) -> String {
        let s = self.path.to_string_lossy().replace('\\', "/");
        let s = if s.is_empty() { ".".into() } else { s };
        match (&self.release, &self.unit) {
            (Some(r), _) if !r.label.is_empty() => format!("{s} ({})", r.label),
            (_, Some(u)) => format!("{s} ({})", u.label),
            _ => s,
        }
    }

    /// A target with no files and no release.
    pub fn new(kind: Kind, path: PathBuf) -> Target {
        Target {
            kind,
            path,
            files: Vec::new(),
            release: None,
            unit: None,
        }
    }
}

/// What the walk found, before kustomizations are rendered.
#[derive(Debug, Default)]
pub struct Inventory {
    /// Every directory holding a kustomization file.
    pub kustomizations: BTreeSet<PathBuf>,
    /// Every Helm chart directory.
    pub charts: BTreeSet<PathBuf>,
    /// Every helmfile state file ([`is_helmfile_state`]), repo-relative.
    pub helmfiles: BTreeSet<PathBuf>,
    /// YAML files outside kustomization directories and charts, by directory.
    pub yaml_files: BTreeMap<PathBuf, Vec<PathBuf>>,
    /// Directories (or files) the walk could not read, repo-relative, with the reason: what
    /// they hold is unknown, so the run must not pass silently.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Walks `start` (a directory under the repository root) and inventories it.
pub fn walk(fs: &RepoFs, start: &Path, config: &Config) -> Inventory {
    let mut inv = Inventory::default();
    let walker = ignore::WalkBuilder::new(start)
        .hidden(true)
        .require_git(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in walker {
        match entry {
            Ok(entry) if entry.file_type().is_some_and(|t| t.is_file()) => {
                files.push(fs.relative(entry.path()));
            }
            // A FIFO, socket or device where a manifest or kustomization would be read.
            Ok(entry) if entry.file_type().is_some_and(is_special) => {
                let path = fs.relative(entry.path());
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if (is_yaml(&path) || KUSTOMIZATION_FILES.contains(&name))
                    && !config.is_ignored(&path)
                {
                    inv.unreadable.push((path, "not a regular file".into()));
                }
            }
            Ok(_) => {}
            Err(e) => {
                let path = error_path(&e).map(|p| fs.relative(p)).unwrap_or_default();
                if !config.is_ignored(&path) {
                    inv.unreadable.push((path, io_message(&e)));
                }
            }
        }
    }
    files.retain(|f| !config.is_ignored(f));
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let dir = f.parent().map(Path::to_path_buf).unwrap_or_default();
        if KUSTOMIZATION_FILES.contains(&name) {
            inv.kustomizations.insert(dir);
        } else if name == "Chart.yaml" {
            inv.charts.insert(dir);
        } else if is_helmfile_state(config, f) {
            inv.helmfiles.insert(f.clone());
        }
    }
    for f in files {
        let dir = f.parent().map(Path::to_path_buf).unwrap_or_default();
        let in_chart = inv.charts.iter().any(|c| f.starts_with(c));
        let state = inv.helmfiles.contains(&f);
        if is_yaml(&f)
            && !in_chart
            && !inv.kustomizations.contains(&dir)
            && !is_tool_file(&f)
            && !state
        {
            inv.yaml_files.entry(dir).or_default().push(f);
        }
    }
    inv
}

/// True for the file names helmfile reads as state: `helmfile.yaml`, `helmfile.yaml.gotmpl`,
/// `helmfile.yml`, `helmfile.gotmpl`, and `.yaml`/`.yml`/`.gotmpl` files directly in a
/// `helmfile.d/` folder (not `_*` helpers).
pub fn is_helmfile_state_name(rel: &Path) -> bool {
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let in_d = rel
        .parent()
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == "helmfile.d");
    matches!(
        name,
        "helmfile.yaml" | "helmfile.yml" | "helmfile.yaml.gotmpl" | "helmfile.gotmpl"
    ) || (in_d
        && !name.starts_with('_')
        && [".yaml", ".yml", ".gotmpl"]
            .iter()
            .any(|e| name.ends_with(e)))
}

/// True when `rel` (repo-relative) is a helmfile state file: by its name
/// ([`is_helmfile_state_name`]), or matching a `helmfile.files` glob of the configuration
/// (`*` does not cross `/`).
pub fn is_helmfile_state(config: &Config, rel: &Path) -> bool {
    if is_helmfile_state_name(rel) {
        return true;
    }
    let rel = rel.to_string_lossy();
    config.helmfile.files.iter().any(|g| {
        globset::GlobBuilder::new(g)
            .literal_separator(true)
            .build()
            .map(|g| g.compile_matcher().is_match(rel.as_ref()))
            .unwrap_or(false)
    })
}

/// True for what is neither a regular file, a directory nor a symbolic link.
fn is_special(t: std::fs::FileType) -> bool {
    !(t.is_file() || t.is_dir() || t.is_symlink())
}

/// The path an error of the walk is about, if it names one.
fn error_path(e: &ignore::Error) -> Option<&Path> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Partial(errs) => errs.iter().find_map(error_path),
        _ => None,
    }
}

/// The innermost message of an error of the walk (without the path, shown separately).
fn io_message(e: &ignore::Error) -> String {
    match e {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => io_message(err),
        ignore::Error::Io(io) => match io.raw_os_error() {
            Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
            None if io.kind() != std::io::ErrorKind::Other => io.kind().to_string(),
            None => io.to_string(),
        },
        ignore::Error::Partial(errs) => errs.first().map(io_message).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// A repo-relative path from the configuration (`targets:`, `releases:`, `crdDirs:`),
/// normalised lexically as discovery spells paths: `./d/`, `d/../d` and `d` are all `d`,
/// `.` is the empty path (the root).
///
/// Errors: [`FsError::Escapes`] for an absolute path, a `..` above the root or a symbolic link
/// leading outside it; [`FsError::NotFound`] when it does not exist; other I/O errors.
pub fn config_path(fs: &RepoFs, raw: &str) -> Result<PathBuf, FsError> {
    use std::path::Component;
    let escapes = || FsError::Escapes {
        path: raw.to_string(),
        root: fs.root().display().to_string(),
    };
    let mut out = PathBuf::new();
    for c in Path::new(raw).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return Err(escapes());
                }
            }
            Component::RootDir | Component::Prefix(_) => return Err(escapes()),
        }
    }
    fs.resolve(Path::new(""), &out.to_string_lossy())?;
    Ok(out)
}

/// The kustomization roots: directories no other kustomization references (through `refs`,
/// which returns the repo-relative directories a kustomization uses), or all with `all`.
pub fn kustomization_roots(
    inv: &Inventory,
    all: bool,
    refs: &dyn Fn(&Path) -> Vec<PathBuf>,
) -> Vec<PathBuf> {
    if all {
        return inv.kustomizations.iter().cloned().collect();
    }
    let referenced: BTreeSet<PathBuf> = inv.kustomizations.iter().flat_map(|k| refs(k)).collect();
    inv.kustomizations
        .iter()
        .filter(|k| !referenced.contains(*k))
        .cloned()
        .collect()
}

/// The chart targets of the inventory, as chart-testing renders them: each top-level chart
/// (not a subchart inside another chart's `charts/`) once with its own values, then once per
/// `ci/*-values.yaml` file (sorted), that file given with `-f`.
pub fn chart_targets(fs: &RepoFs, inv: &Inventory) -> Vec<Target> {
    let mut out = Vec::new();
    for chart in &inv.charts {
        let nested = inv
            .charts
            .iter()
            .any(|c| c != chart && chart.starts_with(c.join("charts")));
        if nested {
            continue;
        }
        out.push(Target::new(Kind::Helm, chart.clone()));
        out.extend(ci_variants(fs, chart));
    }
    out
}

/// One target per `ci/*-values.yaml` of the chart in `chart`.
pub fn ci_variants(fs: &RepoFs, chart: &Path) -> Vec<Target> {
    let Ok(entries) = std::fs::read_dir(fs.root().join(chart).join("ci")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with("-values.yaml") || n.ends_with("-values.yml"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| Target {
            release: Some(Release {
                label: format!("ci/{n}"),
                values: vec![chart.join("ci").join(&n)],
                ..Release::default()
            }),
            ..Target::new(Kind::Helm, chart.to_path_buf())
        })
        .collect()
}

/// Manifest-folder targets from the inventory, leaving out files a kustomization read
/// (patches, generator sources, resources of an overlay).
pub fn manifest_targets(inv: &Inventory, used: &BTreeSet<PathBuf>) -> Vec<Target> {
    inv.yaml_files
        .iter()
        .filter_map(|(dir, files)| {
            let files: Vec<PathBuf> = files
                .iter()
                .filter(|f| !used.contains(*f))
                .cloned()
                .collect();
            (!files.is_empty()).then(|| Target {
                files,
                ..Target::new(Kind::Manifests, dir.clone())
            })
        })
        .collect()
}

/// Classifies an explicit `targets:` entry (a repo-relative directory).
pub fn classify(fs: &RepoFs, path: &Path, kind: Option<TargetKind>) -> Option<Kind> {
    let dir = fs.root().join(path);
    let kind = match kind {
        Some(TargetKind::Kustomize) => Kind::Kustomize,
        Some(TargetKind::Helm) => Kind::Helm,
        Some(TargetKind::Manifests) => Kind::Manifests,
        None if KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file()) => Kind::Kustomize,
        None if dir.join("Chart.yaml").is_file() => Kind::Helm,
        None if dir.is_dir() => Kind::Manifests,
        None => return None,
    };
    Some(kind)
}

/// The YAML files directly in a directory, repo-relative and sorted.
///
/// Errors: the directory cannot be listed (missing, not a directory, permission denied); the
/// message names it repo-relative.
pub fn yaml_files_in(fs: &RepoFs, dir: &Path) -> Result<Vec<PathBuf>, FsError> {
    let abs = fs.root().join(dir);
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => FsError::NotFound {
            path: fs.display(&abs),
        },
        _ => FsError::Io {
            path: fs.display(&abs),
            message: e.to_string(),
        },
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&abs).map_err(io)? {
        let p = dir.join(entry.map_err(io)?.file_name());
        if is_yaml(&p) && fs.root().join(&p).is_file() && !is_tool_file(&p) {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

fn is_yaml(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// Configuration files of tools (not Kubernetes manifests) that live among manifests.
fn is_tool_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    matches!(
        name,
        ".driftlint.yaml"
            | ".pre-commit-config.yaml"
            | ".pre-commit-hooks.yaml"
            | "action.yml"
            | "action.yaml"
            | "helmfile.yaml"
            | "Chart.lock"
            | "values.yaml"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    #[test]
    fn classifies_overlays_charts_and_manifests() {
        let d = tempfile::tempdir().expect("tempdir");
        write(d.path(), "base/kustomization.yaml", "resources: [d.yaml]\n");
        write(d.path(), "base/d.yaml", "kind: ConfigMap\n");
        write(
            d.path(),
            "overlay/kustomization.yaml",
            "resources: [../base]\n",
        );
        write(d.path(), "chart/Chart.yaml", "name: c\n");
        write(d.path(), "chart/templates/x.yaml", "{{ .Values }}\n");
        write(d.path(), "plain/cm.yaml", "kind: ConfigMap\n");
        write(d.path(), "ignored/cm.yaml", "kind: ConfigMap\n");
        write(d.path(), ".gitignore", "ignored/\n");
        let fs = RepoFs::new(d.path()).expect("root");
        let inv = walk(&fs, fs.root(), &Config::default());
        assert_eq!(inv.kustomizations.len(), 2);
        assert_eq!(inv.charts.len(), 1);
        let refs = |k: &Path| {
            if k == Path::new("overlay") {
                vec![PathBuf::from("base")]
            } else {
                vec![]
            }
        };
        assert_eq!(
            kustomization_roots(&inv, false, &refs),
            vec![PathBuf::from("overlay")]
        );
        assert_eq!(kustomization_roots(&inv, true, &refs).len(), 2);
        write(d.path(), "chart/ci/b-values.yaml", "x: 1\n");
        write(d.path(), "chart/ci/a-values.yaml", "x: 1\n");
        write(d.path(), "chart/ci/notes.yaml", "x: 1\n");
        write(d.path(), "chart/charts/sub/Chart.yaml", "name: s\n");
        let inv = walk(&fs, fs.root(), &Config::default());
        let ids: Vec<String> = chart_targets(&fs, &inv).iter().map(Target::id).collect();
        assert_eq!(
            ids,
            [
                "chart",
                "chart (ci/a-values.yaml)",
                "chart (ci/b-values.yaml)"
            ]
        );
        let manifests = manifest_targets(&inv, &BTreeSet::new());
        assert_eq!(manifests.len(), 1);
        assert_eq!(manifests[0].files, vec![PathBuf::from("plain/cm.yaml")]);
    }
}
