//! Loading a helmfile state file as helmfile `pkg/app/desired_state_file_loader.go` does: the
//! file is split into parts at `---` lines; each part is rendered as a Go template (for
//! `.gotmpl` files, and for plain `.yaml` files holding `{{` as helmfile v0 did) with the
//! environment values of the parts before it, parsed, and layered onto the state: `bases:`
//! (loaded first, each a state of its own), `values:` (defaults), `environments:` (the selected
//! environment's values files and inline maps), `repositories:`, `releases:` (appended) and
//! `helmfiles:` (nested states, with their `values:` and `selectors:`).
//!
//! Releases are built once every part is loaded: fields holding `{{` are rendered with
//! `.Release`, `installed: false` and a false `condition:` drop the release (as
//! `helmfile template`), `values:` files (`.gotmpl` ones rendered) and inline maps become values
//! documents with their origins, `set:`/`setString:` become `--set`/`--set-string`, `secrets:`
//! files become opaque placeholders (never decrypted).
//!
//! Layout: this file holds the loader (parts, `bases:`, nested `helmfiles:`, state keys) and
//! the types; `env` the environment values and template rendering; `release` the releases.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use driftlint_helm::SetKind;
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{Node, Origin};
use gotmpl::Value;

use super::funcs::UNSUPPORTED;
use super::values::{empty_map, from_node, merge, parse_state_value_set, scalar_string};

mod env;
mod release;

use release::selected;

/// Nested states (`helmfiles:`, `bases:`) deeper than this are not followed.
const MAX_DEPTH: usize = 16;
/// At most this many state and values files are loaded for one root state file.
const MAX_FILES: usize = 2_000;
/// The value every leaf of a `secrets:` file is replaced with: opaque, as a Flux placeholder.
pub(crate) const SECRET_PLACEHOLDER: &str = "${HELMFILE_SECRET}";

/// Release keys that change what `helmfile template` renders and are not supported yet.
const UNSUPPORTED_RELEASE_KEYS: &[&str] = &[
    "transformers",
    "dependencies",
    "forceNamespace",
    "postRenderer",
    "postRendererArgs",
    "valuesTemplate",
    "setTemplate",
    "inherit",
    "chartPath",
];

/// Release keys that do not change the rendered objects (install/upgrade behaviour, hooks,
/// which are never run).
const IGNORED_RELEASE_KEYS: &[&str] = &[
    "createNamespace",
    "wait",
    "waitForJobs",
    "timeout",
    "atomic",
    "cleanupOnFail",
    "hooks",
    "verify",
    "force",
    "recreatePods",
    "historyMax",
    "kubeContext",
    "tillerNamespace",
    "tillerless",
    "tls",
    "devel",
    "reuseValues",
    "skipDeps",
    "skipRefresh",
    "disableValidation",
    "disableOpenAPIValidation",
    "disableValidationOnInstall",
    "suppressDiff",
    "suppressOutputLineRegex",
    "description",
    "trackMode",
    "trackTimeout",
    "trackLogs",
    "trackKinds",
    "skipKinds",
    "skipSchemaValidation",
    "deleteWait",
    "deleteTimeout",
    "syncReleaseLabels",
    "takeOwnership",
    "keyring",
    "enableDNS",
    "cascade",
    "insecureSkipTLSVerify",
    "plainHttp",
    "missingFileHandler",
    "condition",
];

/// State keys that do not change the rendered objects.
const IGNORED_STATE_KEYS: &[&str] = &[
    "helmDefaults",
    "templates",
    "lockFilePath",
    "hooks",
    "helmBinary",
    "kustomizeBinary",
    "apiVersions",
    "kubeVersion",
    "missingFileHandlerConfig",
];

/// Why a state or a release cannot be rendered.
#[derive(Debug, Clone)]
pub(crate) struct HfError {
    /// RENDER002 (a feature driftlint does not support) rather than RENDER001.
    pub(crate) unsupported: bool,
    /// The selected environment is not declared by a state that declares environments
    /// (a nested state is then skipped, as helmfile does).
    pub(crate) undefined_env: bool,
    /// The message.
    pub(crate) message: String,
    /// Where: the file and line to fix.
    pub(crate) origin: Origin,
}

impl HfError {
    fn new(message: impl Into<String>, origin: &Origin) -> HfError {
        let message = message.into();
        HfError {
            unsupported: message.contains(UNSUPPORTED),
            undefined_env: false,
            message,
            origin: origin.clone(),
        }
    }

    fn unsupported(message: impl Into<String>, origin: &Origin) -> HfError {
        HfError {
            unsupported: true,
            ..HfError::new(message, origin)
        }
    }
}

/// How states are loaded (helmfile's global flags).
#[derive(Debug, Clone, Default)]
pub(crate) struct LoadOptions {
    /// `--environment` (default `default`).
    pub(crate) environment: String,
    /// The variables `env`/`requiredEnv` may read.
    pub(crate) vars: Arc<BTreeMap<String, String>>,
    /// `--state-values-file` contents (a map; lists replace).
    pub(crate) state_values: Value,
    /// `--state-values-set KEY=VALUE`, in order.
    pub(crate) state_values_set: Vec<String>,
    /// `--namespace`: the namespace of releases that set none, and `.Namespace`.
    pub(crate) namespace: Option<String>,
}

/// A release to render: everything `helm template` needs, and where it is declared.
#[derive(Debug, Clone)]
pub(crate) struct Release {
    /// `name:`.
    pub(crate) name: String,
    /// The namespace (`namespace:`, else `--namespace`; empty: none).
    pub(crate) namespace: String,
    /// `chart:` as written (rendered).
    pub(crate) chart: String,
    /// `version:`.
    pub(crate) version: Option<String>,
    /// The repo-relative state file declaring it.
    pub(crate) file: PathBuf,
    /// The release entry (its `name:` line).
    pub(crate) origin: Origin,
    /// The `chart:` line.
    pub(crate) chart_origin: Origin,
    /// The repo-relative folder of the state file (relative paths start there).
    pub(crate) dir: PathBuf,
    /// The values documents, in order (files and inline maps), with their origins.
    pub(crate) values: Vec<Node>,
    /// `set:` and `setString:` as `--set`/`--set-string` arguments.
    pub(crate) sets: Vec<(SetKind, String)>,
    /// `set: [{name, file}]` as `--set-file` arguments (repo-relative paths).
    pub(crate) set_files: Vec<String>,
    /// `needs:` entries as (namespace, name), the namespace defaulted to the release's.
    pub(crate) needs: Vec<(String, String)>,
    /// Labels (with helmfile's implicit `name`, `namespace`, `chart`).
    pub(crate) labels: BTreeMap<String, String>,
    /// `repositories:` of the state: name → URL (`oci://` prefixed for `oci: true`).
    pub(crate) repositories: BTreeMap<String, String>,
    /// Repo-relative files read for it (state files, values files).
    pub(crate) files: Vec<PathBuf>,
    /// `strategicMergePatches:` and `jsonPatches:` (applied as chartify does).
    pub(crate) patches: super::chartify::Patches,
    /// Why it cannot be rendered, if so.
    pub(crate) error: Option<HfError>,
}

/// What a root state file gave.
pub(crate) struct Loaded {
    /// Its releases, nested states' first (helmfile's order).
    pub(crate) releases: Vec<Release>,
    /// Every state file it read besides itself (`bases:`, `helmfiles:`), repo-relative.
    pub(crate) nested: BTreeSet<PathBuf>,
}

/// One state as its parts layer it.
#[derive(Default)]
struct State {
    defaults: Value,
    env_values: Value,
    envs_declared: bool,
    env_found: bool,
    releases: Vec<(Node, PathBuf, PathBuf)>,
    helmfiles: Vec<(Node, PathBuf)>,
    repositories: BTreeMap<String, String>,
    missing_file_handler: Option<String>,
    common_labels: BTreeMap<String, String>,
    files: Vec<PathBuf>,
}

impl State {
    fn new() -> State {
        State {
            defaults: empty_map(),
            env_values: empty_map(),
            ..State::default()
        }
    }

    /// The environment values: defaults < environment values < values the parent state
    /// passed (`overrides`, lists replaced) < `--state-values-set` (`cli`, lists merged
    /// element by element).
    fn values(&self, overrides: &Value, cli: &Value) -> Value {
        let v = merge(&self.defaults, &self.env_values, false);
        merge(&merge(&v, overrides, false), cli, true)
    }

    /// A base's state layered under this one's later parts.
    fn absorb(&mut self, base: State) {
        self.defaults = merge(&self.defaults, &base.defaults, false);
        self.env_values = merge(&self.env_values, &base.env_values, false);
        self.envs_declared |= base.envs_declared;
        self.env_found |= base.env_found;
        self.releases.extend(base.releases);
        self.helmfiles.extend(base.helmfiles);
        self.repositories.extend(base.repositories);
        if base.missing_file_handler.is_some() {
            self.missing_file_handler = base.missing_file_handler;
        }
        self.common_labels.extend(base.common_labels);
        self.files.extend(base.files);
    }
}

/// Loads state files of one repository.
pub(crate) struct Loader<'a> {
    fs: &'a RepoFs,
    opts: &'a LoadOptions,
    loaded: Cell<usize>,
    nested: RefCell<BTreeSet<PathBuf>>,
    /// `--state-values-set`, merged.
    cli: Value,
}

impl<'a> Loader<'a> {
    /// A loader reading through `fs`.
    pub(crate) fn new(fs: &'a RepoFs, opts: &'a LoadOptions) -> Loader<'a> {
        Loader {
            fs,
            opts,
            loaded: Cell::new(0),
            nested: RefCell::new(BTreeSet::new()),
            cli: empty_map(),
        }
    }

    /// Loads the root state file `file` (repo-relative) and everything it nests.
    ///
    /// Errors: the state cannot be read, rendered or parsed, uses an unsupported feature, or
    /// does not declare the selected environment.
    pub(crate) fn load_root(mut self, file: &Path) -> Result<Loaded, HfError> {
        let mut overrides = match &self.opts.state_values {
            v @ Value::Map(_) => v.clone(),
            _ => empty_map(),
        };
        for arg in &self.opts.state_values_set {
            let set = parse_state_value_set(arg).map_err(|e| {
                HfError::new(
                    format!("--state-values-set {arg}: {e}"),
                    &Origin::new(self.display(file).into(), 1, 1),
                )
            })?;
            overrides = merge(&overrides, &set, true);
        }
        self.cli = overrides;
        let releases = self.load(file, &empty_map(), 0)?;
        Ok(Loaded {
            releases,
            nested: self.nested.take(),
        })
    }

    fn display(&self, rel: &Path) -> String {
        self.fs.display(&self.fs.root().join(rel))
    }

    fn at(&self, rel: &Path) -> Origin {
        Origin::new(self.display(rel).into(), 1, 1)
    }

    fn count_file(&self, rel: &Path) -> Result<(), HfError> {
        self.loaded.set(self.loaded.get() + 1);
        if self.loaded.get() > MAX_FILES {
            return Err(HfError::new(
                format!("more than {MAX_FILES} state and values files: not loaded further"),
                &self.at(rel),
            ));
        }
        Ok(())
    }

    /// A state and its nested states: their releases.
    fn load(&self, file: &Path, overrides: &Value, depth: usize) -> Result<Vec<Release>, HfError> {
        let st = self.read_state(file, overrides, depth)?;
        let values = st.values(overrides, &self.cli);
        let mut out = Vec::new();
        for (entry, dir) in &st.helmfiles {
            // A nested release also reads its parents (they pass it values and selectors).
            out.extend(
                self.nested_state(entry, dir, overrides, depth)?
                    .into_iter()
                    .map(|mut r| {
                        r.files.extend(st.files.iter().cloned());
                        r
                    }),
            );
        }
        for (node, dir, decl) in &st.releases {
            if let Some(r) = self.release(node, dir, decl, &values, &st)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// One `helmfiles:` entry: a path (or glob), or `{path, values, selectors}`.
    fn nested_state(
        &self,
        entry: &Node,
        dir: &Path,
        overrides: &Value,
        depth: usize,
    ) -> Result<Vec<Release>, HfError> {
        let (path_node, values, selectors) = match entry.as_map() {
            Some(_) => (
                entry.get("path"),
                entry.get("values").and_then(Node::as_seq),
                entry.get("selectors").and_then(Node::as_seq),
            ),
            None => (Some(entry), None, None),
        };
        let Some(raw) = path_node.and_then(Node::as_str) else {
            return Err(HfError::new(
                "a helmfiles entry needs a path",
                &entry.origin,
            ));
        };
        if raw.contains("::") || raw.contains("://") {
            return Err(HfError::unsupported(
                format!("remote helmfile {raw:?} {UNSUPPORTED} (only state files of this repository are loaded)"),
                &entry.origin,
            ));
        }
        let mut child_values = empty_map();
        let data = self.data(&merge(overrides, &self.cli, true), None);
        for v in values.into_iter().flatten() {
            if let Some((doc, _)) = self.values_entry(v, dir, &data, None)? {
                child_values = merge(&child_values, &from_node(&doc), false);
            }
        }
        let child_overrides = child_values;
        let selectors: Vec<String> = selectors
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect();
        let mut out = Vec::new();
        for file in self.glob(dir, raw, &entry.origin)? {
            self.nested.borrow_mut().insert(file.clone());
            match self.load(&file, &child_overrides, depth + 1) {
                Ok(rs) => out.extend(rs.into_iter().filter(|r| selected(r, &selectors))),
                // helmfile skips a nested state that does not declare the environment.
                Err(e) if e.undefined_env => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The repo-relative files `pattern` (relative to `dir`) names: itself, or the sorted
    /// matches of a glob in its folder.
    fn glob(&self, dir: &Path, pattern: &str, at: &Origin) -> Result<Vec<PathBuf>, HfError> {
        let joined = normalize(&dir.join(pattern))
            .ok_or_else(|| HfError::new(format!("{pattern}: outside the repository"), at))?;
        if !pattern.contains(['*', '?', '[']) {
            return Ok(vec![joined]);
        }
        let parent = joined.parent().map(Path::to_path_buf).unwrap_or_default();
        let name = joined.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let matcher = globset::Glob::new(name)
            .map_err(|e| HfError::new(format!("{pattern}: {e}"), at))?
            .compile_matcher();
        let abs = self
            .fs
            .resolve(Path::new(""), &parent.to_string_lossy())
            .map_err(|e| HfError::new(e.to_string(), at))?;
        let mut out: Vec<PathBuf> = std::fs::read_dir(abs)
            .map_err(|e| HfError::new(format!("{pattern}: {e}"), at))?
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| matcher.is_match(n))
            .map(|n| parent.join(n))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Reads, renders and layers the parts of one state file.
    fn read_state(&self, file: &Path, overrides: &Value, depth: usize) -> Result<State, HfError> {
        if depth > MAX_DEPTH {
            return Err(HfError::new(
                format!(
                    "states nested deeper than {MAX_DEPTH} levels (a loop of helmfiles or bases?)"
                ),
                &self.at(file),
            ));
        }
        self.count_file(file)?;
        let display = self.display(file);
        let abs = self
            .fs
            .resolve(Path::new(""), &file.to_string_lossy())
            .map_err(|e| HfError::new(e.to_string(), &self.at(file)))?;
        let text = self
            .fs
            .read_text(&abs)
            .map_err(|e| HfError::new(e.to_string(), &self.at(file)))?;
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let templated = file.extension().is_some_and(|e| e == "gotmpl") || text.contains("{{");
        let mut st = State::new();
        st.files.push(file.to_path_buf());
        for (start, part) in split_parts(&text) {
            let text = if templated {
                let data = self.data(&st.values(overrides, &self.cli), None);
                self.render(&dir, &display, start, &part, &data)?
            } else {
                part
            };
            let node = parse_part(&display, start, &text)?;
            if let Some(node) = node {
                self.apply_part(&mut st, file, &dir, &node, overrides, depth)?;
            }
            // As helmfile, a state that declares environments but not the selected one stops
            // here (its later parts may need the environment's values).
            let env = &self.opts.environment;
            if st.envs_declared && !st.env_found && env != "default" {
                return Err(HfError {
                    undefined_env: true,
                    ..HfError::new(
                        format!("environment \"{env}\" is not defined"),
                        &self.at(file),
                    )
                });
            }
        }
        Ok(st)
    }

    /// Layers one parsed part onto the state.
    fn apply_part(
        &self,
        st: &mut State,
        file: &Path,
        dir: &Path,
        node: &Node,
        overrides: &Value,
        depth: usize,
    ) -> Result<(), HfError> {
        let Some(map) = node.as_map() else {
            return Err(HfError::new(
                "a helmfile state must be a mapping",
                &node.origin,
            ));
        };
        if let Some(bases) = node.get("bases") {
            for b in bases.as_seq().into_iter().flatten() {
                let Some(rel) = b.as_str() else {
                    return Err(HfError::new("a base is a path", &b.origin));
                };
                let path = normalize(&dir.join(rel)).ok_or_else(|| {
                    HfError::new(format!("{rel}: outside the repository"), &b.origin)
                })?;
                self.nested.borrow_mut().insert(path.clone());
                let base = self.read_state(&path, overrides, depth + 1)?;
                st.absorb(base);
            }
        }
        for (k, v) in map.iter() {
            let key = k.as_str().unwrap_or("");
            match key {
                "bases" => {}
                "values" => {
                    let data = self.data(&st.values(overrides, &self.cli), None);
                    for entry in v.as_seq().into_iter().flatten() {
                        if let Some((doc, f)) = self.values_entry(entry, dir, &data, st.missing_file_handler.as_deref())? {
                            st.defaults = merge(&st.defaults, &from_node(&doc), false);
                            st.files.extend(f);
                        }
                    }
                }
                "environments" => self.environments(st, dir, v, overrides)?,
                "releases" => {
                    for r in v.as_seq().into_iter().flatten() {
                        st.releases.push((r.clone(), dir.to_path_buf(), file.to_path_buf()));
                    }
                }
                "helmfiles" => {
                    for h in v.as_seq().into_iter().flatten() {
                        st.helmfiles.push((h.clone(), dir.to_path_buf()));
                    }
                }
                "repositories" => {
                    for r in v.as_seq().into_iter().flatten() {
                        if let (Some(n), Some(u)) = (r.str_at(&["name"]), r.str_at(&["url"])) {
                            // helmfile: an `oci: true` repository's URL has no scheme.
                            let oci = r.get("oci").and_then(scalar_string).as_deref()
                                == Some("true")
                                && !u.starts_with("oci://");
                            let url = if oci { format!("oci://{u}") } else { u.to_string() };
                            st.repositories.insert(n.to_string(), url);
                        }
                    }
                }
                "missingFileHandler" => st.missing_file_handler = scalar_string(v),
                "commonLabels" => {
                    for (lk, lv) in v.as_map().into_iter().flat_map(|m| m.iter()) {
                        if let (Some(a), Some(b)) = (lk.as_str(), scalar_string(lv)) {
                            st.common_labels.insert(a.to_string(), b);
                        }
                    }
                }
                k if IGNORED_STATE_KEYS.contains(&k) => {}
                other => {
                    return Err(HfError::new(
                        format!("field {other} not found in type state.HelmState (an unknown helmfile state key)"),
                        &k.origin,
                    ))
                }
            }
        }
        Ok(())
    }
}

/// `p` normalised lexically (`a/./b/../c` is `a/c`); `None` when it climbs above the root or
/// is absolute.
pub(crate) fn normalize(p: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// The parts of a state file, split at lines that are exactly `---`, each with its first
/// line number (1-based).
pub(crate) fn split_parts(text: &str) -> Vec<(u32, String)> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut start = 1u32;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if line.trim_end() == "---" {
            parts.push((start, std::mem::take(&mut cur)));
            start = i as u32 + 2;
        } else {
            cur.push_str(line);
        }
    }
    parts.push((start, cur));
    parts
}

/// Parses a rendered part, its lines numbered from `start`; `None` for an empty part.
fn parse_part(display: &str, start: u32, text: &str) -> Result<Option<Node>, HfError> {
    let padded = format!("{}{text}", "\n".repeat(start.saturating_sub(1) as usize));
    let docs = driftlint_yaml::parse_documents(display.into(), &padded).map_err(|e| {
        HfError::new(
            format!("{display}: {}", e.message),
            &Origin::new(e.file.clone(), e.line, e.column),
        )
    })?;
    Ok(docs.into_iter().find(|d| !d.is_null()))
}

#[cfg(test)]
mod tests {
    use super::release::needs;
    use super::*;

    #[test]
    fn parts_split_at_document_lines() {
        let parts = split_parts("a: 1\n---\nb: 2\n---   \nc: 3");
        assert_eq!(
            parts,
            vec![
                (1, "a: 1\n".into()),
                (3, "b: 2\n".into()),
                (5, "c: 3".into())
            ]
        );
    }

    #[test]
    fn needs_default_to_the_release_namespace() {
        let docs = driftlint_yaml::parse_documents("t".into(), "needs: [a, ns/b, ctx/ns2/c]\n")
            .expect("yaml");
        assert_eq!(
            needs(&docs[0], "apps"),
            vec![
                ("apps".into(), "a".into()),
                ("ns".into(), "b".into()),
                ("ns2".into(), "c".into())
            ]
        );
    }
}
