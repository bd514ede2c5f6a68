//! `.driftlint.yaml`: explicit targets, Kubernetes version, rule settings, ignores and extra
//! schema/CRD directories. Every key is checked; an unknown key or a wrong type is a
//! [`ConfigError`] at its file:line. The keys and enumerated values accepted are those of the
//! schema types in [`crate::config_schema`], from which the published JSON Schema is generated.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{parse_file, Node, Origin};

pub use crate::config_schema::TargetKind;
use crate::config_schema::{self, FailOn, KEYS};

/// The file name looked up at the repository root.
pub const CONFIG_FILE: &str = ".driftlint.yaml";

/// A configuration problem at a line of `.driftlint.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({origin})")]
pub struct ConfigError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub origin: Origin,
}

impl From<driftlint_drift::ignore::IgnoreRulesError> for ConfigError {
    fn from(e: driftlint_drift::ignore::IgnoreRulesError) -> Self {
        ConfigError {
            message: e.message,
            origin: e.origin,
        }
    }
}

/// One explicit target from `targets:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetEntry {
    /// Repo-relative path.
    pub path: String,
    /// Its kind; `None` means "classify it as discovery would".
    pub kind: Option<TargetKind>,
    /// Where it was declared.
    pub origin: Origin,
}

/// A repo-relative path from a list of paths (`crdDirs:`), with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathEntry {
    /// The path as written.
    pub path: String,
    /// Where it was declared.
    pub origin: Origin,
}

/// One `sources:` entry: a Flux source whose artifact is a folder of this repository, or
/// (with `url`) a Git repository URL Argo CD Applications read that is this repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    /// A Git repository URL (`repoURL` of Argo CD Applications and ApplicationSet git
    /// generators); `kind` and `name` are then empty.
    pub url: Option<String>,
    /// `GitRepository`, `OCIRepository` or `Bucket`.
    pub kind: String,
    /// The source's name.
    pub name: String,
    /// The source's namespace (default `flux-system`).
    pub namespace: String,
    /// The repo-relative folder (default `.`).
    pub path: String,
    /// Where it was declared.
    pub origin: Origin,
}

/// One `releases:` entry: a chart rendered as `helm template` with these settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseEntry {
    /// Repo-relative chart directory (`chart:`).
    pub chart: String,
    /// Release name (`name:`); default the chart's name.
    pub name: Option<String>,
    /// Namespace (`namespace:`); default `default`.
    pub namespace: Option<String>,
    /// Repo-relative values files (`values:`), applied in order as `-f`.
    pub values: Vec<String>,
    /// `--set` arguments (`set:` as a map of scalars or a list of `key=value` strings).
    pub set: Vec<String>,
    /// `--kube-version` (`kubeVersion:`); default the checked Kubernetes version.
    pub kube_version: Option<String>,
    /// `--api-versions` (`apiVersions:`).
    pub api_versions: Vec<String>,
    /// Where the entry was declared.
    pub origin: Origin,
    /// Where its `chart:` was declared.
    pub chart_origin: Origin,
}

/// The `charts:` section: what a chart pull may contact and with which credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChartsConfig {
    /// Extra `host[:port]` (lowercase) a pull may contact.
    pub allow_hosts: Vec<String>,
    /// Plain http to sources that say `insecure: true`.
    pub allow_insecure: bool,
    /// Credentials from environment variables: (host, username variable, password variable).
    pub credentials: Vec<(String, String, String)>,
}

/// The parsed configuration, with defaults for everything not set.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Target Kubernetes minor version, e.g. `"1.33"`; `None` = newest bundled.
    pub kubernetes_version: Option<String>,
    /// Explicit targets; when non-empty, discovery is skipped.
    pub targets: Vec<TargetEntry>,
    /// Helm releases: how to render charts (replacing the discovered defaults for them).
    pub releases: Vec<ReleaseEntry>,
    /// Path globs (repo-relative) that discovery skips.
    pub ignore: Vec<String>,
    /// Extra directories of CRD manifests whose schemas are registered (repo-relative, confined
    /// to the repository, unlike `--crd-dir`).
    pub crd_dirs: Vec<PathEntry>,
    /// `crdCatalog:`: a CRDs-catalog checkout (repo-relative, confined to the repository).
    pub crd_catalog: Option<PathEntry>,
    /// `strictCrds:`: unknown custom API groups are CRD001 errors.
    pub strict_crds: Option<bool>,
    /// Strict schema validation (unknown fields are errors); default true.
    pub strict: Option<bool>,
    /// Minimum severity that makes `check` exit 1: `note`, `warning` or `error`.
    pub fail_on: Option<String>,
    /// The raw `rules:` section, handed to the rule registry.
    pub rules: Option<Node>,
    /// Flux sources mapped to folders of this repository (`sources:`).
    pub sources: Vec<SourceEntry>,
    /// Chart pulling settings (`charts:`).
    pub charts: ChartsConfig,
    /// `helmfile:`: how helmfile state files are rendered.
    pub helmfile: HelmfileSettings,
    /// `drift.ignoreDifferences`: fields `driftlint drift` never reports (Argo CD's shape).
    pub drift_ignore: driftlint_drift::IgnoreRules,
    /// The file the configuration came from, if any.
    pub file: Option<Arc<str>>,
}

impl Config {
    /// Loads `.driftlint.yaml` from the repository root; a missing file gives the defaults.
    ///
    /// Errors: unreadable or malformed file, unknown keys, wrong value types.
    pub fn load(fs: &RepoFs) -> Result<Config, ConfigError> {
        let path = fs.root().join(CONFIG_FILE);
        if !path.exists() {
            return Ok(Config::default());
        }
        let file: Arc<str> = CONFIG_FILE.into();
        let text = fs.read_text(&path).map_err(|e| ConfigError {
            message: e.to_string(),
            origin: Origin::new(file.clone(), 1, 1),
        })?;
        Config::parse(file, &text)
    }

    /// Parses configuration text; `file` names it in errors.
    pub fn parse(file: Arc<str>, text: &str) -> Result<Config, ConfigError> {
        let parsed = parse_file(file.clone(), text).map_err(|e| ConfigError {
            message: e.message.clone(),
            origin: Origin::new(e.file.clone(), e.line, e.column),
        })?;
        let mut config = Config {
            file: Some(file.clone()),
            ..Config::default()
        };
        let Some(root) = parsed.documents.into_iter().find(|d| !d.is_null()) else {
            return Ok(config);
        };
        let Some(map) = root.as_map() else {
            return Err(err("the configuration must be a mapping", &root));
        };
        for (key, value) in map.iter() {
            let name = known_key(key, &KEYS.top, "configuration key")?;
            match name {
                "kubernetesVersion" => {
                    config.kubernetes_version = Some(kube_version(value)?);
                }
                "targets" => config.targets = targets(value)?,
                "releases" => config.releases = releases(value)?,
                "ignore" => config.ignore = globs(value)?,
                "crdDirs" => config.crd_dirs = path_entries(value)?,
                "strict" => config.strict = Some(boolean(value)?),
                "crdCatalog" => {
                    config.crd_catalog = Some(PathEntry {
                        path: string(value)?,
                        origin: value.origin.clone(),
                    })
                }
                "strictCrds" => config.strict_crds = Some(boolean(value)?),
                "failOn" => config.fail_on = Some(fail_on(value)?),
                "rules" => config.rules = Some(value.clone()),
                "drift" => config.drift_ignore = drift(value)?,
                "sources" => config.sources = sources(value)?,
                "charts" => config.charts = charts(value)?,
                "helmfile" => config.helmfile = helmfile(value)?,
                other => return Err(unknown_key(other, &KEYS.top, "configuration key", key)),
            }
        }
        Ok(config)
    }

    /// True when `rel` (repo-relative, `/` separated) matches an `ignore:` glob.
    pub fn is_ignored(&self, rel: &Path) -> bool {
        let rel = rel.to_string_lossy();
        self.ignore.iter().any(|g| {
            globset::Glob::new(g)
                .map(|g| g.compile_matcher().is_match(rel.as_ref()))
                .unwrap_or(false)
        })
    }
}

fn err(message: impl Into<String>, node: &Node) -> ConfigError {
    ConfigError {
        message: message.into(),
        origin: node.origin.clone(),
    }
}

/// The name of a mapping key that the schema type of its mapping declares (`known`, from
/// [`config_schema::KEYS`]); anything else is an error at the key listing the known ones.
fn known_key<'a>(key: &'a Node, known: &[String], what: &str) -> Result<&'a str, ConfigError> {
    let name = key.as_scalar().map(|s| s.text.as_str()).unwrap_or("");
    if known.iter().any(|k| k == name) {
        Ok(name)
    } else {
        Err(unknown_key(name, known, what, key))
    }
}

fn unknown_key(name: &str, known: &[String], what: &str, key: &Node) -> ConfigError {
    err(
        format!("unknown {what} {name:?} (known: {})", known.join(", ")),
        key,
    )
}

fn string(node: &Node) -> Result<String, ConfigError> {
    node.scalar_text()
        .filter(|_| node.as_scalar().is_some())
        .map(str::to_string)
        .ok_or_else(|| err("expected a string", node))
}

fn strings(node: &Node) -> Result<Vec<String>, ConfigError> {
    let items = node
        .as_seq()
        .ok_or_else(|| err("expected a list of strings", node))?;
    items.iter().map(string).collect()
}

/// `ignore:`: a list of globs, each compiled here so an invalid one is an error at its line.
fn globs(node: &Node) -> Result<Vec<String>, ConfigError> {
    let items = node
        .as_seq()
        .ok_or_else(|| err("expected a list of glob strings", node))?;
    items
        .iter()
        .map(|item| {
            let glob = string(item)?;
            globset::Glob::new(&glob)
                .map_err(|e| err(format!("ignore: invalid glob {glob:?}: {}", e.kind()), item))?;
            Ok(glob)
        })
        .collect()
}

fn path_entries(node: &Node) -> Result<Vec<PathEntry>, ConfigError> {
    let items = node
        .as_seq()
        .ok_or_else(|| err("expected a list of paths", node))?;
    items
        .iter()
        .map(|item| {
            Ok(PathEntry {
                path: string(item)?,
                origin: item.origin.clone(),
            })
        })
        .collect()
}

fn boolean(node: &Node) -> Result<bool, ConfigError> {
    match node.resolve() {
        Some(driftlint_yaml::Resolved::Bool(b)) => Ok(b),
        _ => Err(err("expected true or false", node)),
    }
}

fn kube_version(node: &Node) -> Result<String, ConfigError> {
    let text = string(node)?;
    let trimmed = text.trim_start_matches('v');
    let mut parts = trimmed.split('.');
    let ok = parts.next() == Some("1")
        && parts
            .next()
            .is_some_and(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_digit()));
    if !ok {
        return Err(err(
            format!("kubernetesVersion {text:?} is not of the form 1.MINOR"),
            node,
        ));
    }
    Ok(trimmed.split('.').take(2).collect::<Vec<_>>().join("."))
}

fn fail_on(node: &Node) -> Result<String, ConfigError> {
    let text = string(node)?;
    match config_schema::parse_value::<FailOn>(&text) {
        Some(_) => Ok(text),
        None => Err(err(
            format!(
                "failOn {text:?} must be {}",
                config_schema::one_of(&config_schema::values_of::<FailOn>())
            ),
            node,
        )),
    }
}

/// The `drift:` section: `ignoreDifferences` (see [`driftlint_drift::IgnoreRules::parse`]).
fn drift(node: &Node) -> Result<driftlint_drift::IgnoreRules, ConfigError> {
    let map = node
        .as_map()
        .ok_or_else(|| err("drift must be a mapping", node))?;
    let mut rules = driftlint_drift::IgnoreRules::default();
    for (key, value) in map.iter() {
        match known_key(key, &KEYS.drift, "drift key")? {
            "ignoreDifferences" => rules = driftlint_drift::IgnoreRules::parse(value)?,
            other => return Err(unknown_key(other, &KEYS.drift, "drift key", key)),
        }
    }
    Ok(rules)
}

fn targets(node: &Node) -> Result<Vec<TargetEntry>, ConfigError> {
    let items = node
        .as_seq()
        .ok_or_else(|| err("targets must be a list", node))?;
    items.iter().map(target).collect()
}

fn target(node: &Node) -> Result<TargetEntry, ConfigError> {
    if node.as_scalar().is_some() {
        return Ok(TargetEntry {
            path: string(node)?,
            kind: None,
            origin: node.origin.clone(),
        });
    }
    let map = node.as_map().ok_or_else(|| {
        err(
            format!("a target is a path or {{{}}}", KEYS.target.join(", ")),
            node,
        )
    })?;
    let mut entry = TargetEntry {
        path: String::new(),
        kind: None,
        origin: node.origin.clone(),
    };
    for (key, value) in map.iter() {
        match known_key(key, &KEYS.target, "target key")? {
            "path" => entry.path = string(value)?,
            "kind" => {
                let text = string(value)?;
                entry.kind = Some(config_schema::parse_value(&text).ok_or_else(|| {
                    err(
                        format!(
                            "target kind {text:?} must be {}",
                            config_schema::one_of(&config_schema::values_of::<TargetKind>())
                        ),
                        value,
                    )
                })?)
            }
            other => return Err(unknown_key(other, &KEYS.target, "target key", key)),
        }
    }
    if entry.path.is_empty() {
        return Err(err("a target needs a path", node));
    }
    Ok(entry)
}

/// `helmfile:` settings.
#[derive(Debug, Clone, Default)]
pub struct HelmfileSettings {
    /// `environment:` (the helmfile environment; `None`: `default`).
    pub environment: Option<String>,
    /// `env:` given as a map: variable → value.
    pub env_values: BTreeMap<String, String>,
    /// `env:` given as a list: variables read from driftlint's own environment.
    pub env_names: Vec<String>,
    /// `values:`: state values given to every root state file (a JSON object).
    pub values: serde_json::Map<String, serde_json::Value>,
    /// `files:`: globs of further state files.
    pub files: Vec<String>,
}

impl HelmfileSettings {
    /// The variables helmfile templates may read (`env`, `requiredEnv`): the map's values,
    /// and the listed names that are set in driftlint's environment. Nothing else.
    pub fn vars(&self) -> BTreeMap<String, String> {
        let mut out = self.env_values.clone();
        for name in &self.env_names {
            if let Ok(v) = std::env::var(name) {
                out.insert(name.clone(), v);
            }
        }
        out
    }
}

fn helmfile(node: &Node) -> Result<HelmfileSettings, ConfigError> {
    let map = node
        .as_map()
        .ok_or_else(|| err("helmfile must be a mapping", node))?;
    let mut out = HelmfileSettings::default();
    for (key, value) in map.iter() {
        match known_key(key, &KEYS.helmfile, "helmfile key")? {
            "environment" => out.environment = Some(string(value)?),
            "env" => match value.as_map() {
                Some(vars) => {
                    for (k, v) in vars.iter() {
                        out.env_values.insert(string(k)?, string(v)?);
                    }
                }
                None => {
                    out.env_names = strings(value).map_err(|_| {
                        err(
                        "helmfile.env is a map of variables to values or a list of variable names",
                        value,
                    )
                    })?
                }
            },
            "values" => match value.to_json() {
                serde_json::Value::Object(m) => out.values = m,
                _ => return Err(err("helmfile.values must be a mapping", value)),
            },
            "files" => out.files = globs(value)?,
            other => return Err(unknown_key(other, &KEYS.helmfile, "helmfile key", key)),
        }
    }
    Ok(out)
}

fn sources(node: &Node) -> Result<Vec<SourceEntry>, ConfigError> {
    let items = node
        .as_seq()
        .ok_or_else(|| err("sources must be a list", node))?;
    items.iter().map(source).collect()
}

fn source(node: &Node) -> Result<SourceEntry, ConfigError> {
    let map = node.as_map().ok_or_else(|| {
        err(
            format!("a source is a mapping {{{}}}", KEYS.source.join(", ")),
            node,
        )
    })?;
    let mut entry = SourceEntry {
        url: None,
        kind: String::new(),
        name: String::new(),
        namespace: "flux-system".into(),
        path: ".".into(),
        origin: node.origin.clone(),
    };
    for (key, value) in map.iter() {
        match known_key(key, &KEYS.source, "source key")? {
            "kind" => entry.kind = string(value)?,
            "name" => entry.name = string(value)?,
            "namespace" => entry.namespace = string(value)?,
            "path" => entry.path = string(value)?,
            "url" => entry.url = Some(string(value)?),
            other => return Err(unknown_key(other, &KEYS.source, "source key", key)),
        }
    }
    if entry.url.is_some() {
        if !entry.kind.is_empty() || !entry.name.is_empty() {
            return Err(err(
                "a source with a url (an Argo CD repoURL) has no kind or name",
                node,
            ));
        }
        return Ok(entry);
    }
    if !["GitRepository", "OCIRepository", "Bucket"].contains(&entry.kind.as_str()) {
        return Err(err(
            "a source's kind is GitRepository, OCIRepository or Bucket",
            node,
        ));
    }
    if entry.name.is_empty() {
        return Err(err("a source needs a name", node));
    }
    Ok(entry)
}

fn charts(node: &Node) -> Result<ChartsConfig, ConfigError> {
    let map = node
        .as_map()
        .ok_or_else(|| err("charts must be a mapping", node))?;
    let mut out = ChartsConfig::default();
    for (key, value) in map.iter() {
        match known_key(key, &KEYS.charts, "charts key")? {
            "allowHosts" => {
                out.allow_hosts = strings(value)?
                    .into_iter()
                    .map(|h| h.to_ascii_lowercase())
                    .collect();
            }
            "allowInsecure" => out.allow_insecure = boolean(value)?,
            "credentials" => {
                let items = value
                    .as_seq()
                    .ok_or_else(|| err("charts.credentials must be a list", value))?;
                out.credentials = items
                    .iter()
                    .map(chart_credential)
                    .collect::<Result<_, _>>()?;
            }
            other => return Err(unknown_key(other, &KEYS.charts, "charts key", key)),
        }
    }
    Ok(out)
}

fn chart_credential(node: &Node) -> Result<(String, String, String), ConfigError> {
    let what = "a charts.credentials entry is a mapping {host, usernameEnv, passwordEnv}";
    let map = node.as_map().ok_or_else(|| err(what, node))?;
    let (mut host, mut user, mut password) = (String::new(), String::new(), String::new());
    for (key, value) in map.iter() {
        match known_key(key, &KEYS.chart_credential, "charts.credentials key")? {
            "host" => host = string(value)?,
            "usernameEnv" => user = string(value)?,
            "passwordEnv" => password = string(value)?,
            other => {
                let keys = &KEYS.chart_credential;
                return Err(unknown_key(other, keys, "charts.credentials key", key));
            }
        }
    }
    if host.is_empty() || user.is_empty() || password.is_empty() {
        return Err(err(what, node));
    }
    Ok((host.to_ascii_lowercase(), user, password))
}

fn releases(node: &Node) -> Result<Vec<ReleaseEntry>, ConfigError> {
    let items = node
        .as_seq()
        .ok_or_else(|| err("releases must be a list", node))?;
    items.iter().map(release).collect()
}

fn release(node: &Node) -> Result<ReleaseEntry, ConfigError> {
    let map = node.as_map().ok_or_else(|| {
        err(
            format!("a release is a mapping {{{}}}", KEYS.release.join(", ")),
            node,
        )
    })?;
    let mut entry = ReleaseEntry {
        chart: String::new(),
        name: None,
        namespace: None,
        values: Vec::new(),
        set: Vec::new(),
        kube_version: None,
        api_versions: Vec::new(),
        origin: node.origin.clone(),
        chart_origin: node.origin.clone(),
    };
    for (key, value) in map.iter() {
        match known_key(key, &KEYS.release, "release key")? {
            "chart" => {
                entry.chart = string(value)?;
                entry.chart_origin = value.origin.clone();
            }
            "name" => entry.name = Some(release_name(value)?),
            "namespace" => entry.namespace = Some(string(value)?),
            "values" => entry.values = strings(value)?,
            "set" => entry.set = set_values(value)?,
            "kubeVersion" => entry.kube_version = Some(string(value)?),
            "apiVersions" => entry.api_versions = strings(value)?,
            other => return Err(unknown_key(other, &KEYS.release, "release key", key)),
        }
    }
    if entry.chart.is_empty() {
        return Err(err("a release needs a chart (a chart directory)", node));
    }
    Ok(entry)
}

/// Helm's release-name rule: at most 53 characters of DNS-1123 label syntax.
fn release_name(node: &Node) -> Result<String, ConfigError> {
    let name = string(node)?;
    let ok = !name.is_empty()
        && name.len() <= 53
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(name)
    } else {
        Err(err(
            format!("release name {name:?} is invalid: lowercase letters, digits, '-' and '.', at most 53 characters, as Helm requires"),
            node,
        ))
    }
}

/// `set:` as `{key: scalar}` (each becomes `key=value`, commas escaped) or `["key=value"]`.
fn set_values(node: &Node) -> Result<Vec<String>, ConfigError> {
    if let Some(map) = node.as_map() {
        return map
            .iter()
            .map(|(k, v)| {
                let key = string(k)?;
                let value = v
                    .as_scalar()
                    .map(|s| s.text.replace(',', "\\,"))
                    .ok_or_else(|| err("a set value must be a scalar", v))?;
                Ok(format!("{key}={value}"))
            })
            .collect();
    }
    let items = node.as_seq().ok_or_else(|| {
        err(
            "set must be a mapping of keys to values or a list of key=value",
            node,
        )
    })?;
    items
        .iter()
        .map(|i| {
            let s = string(i)?;
            if s.contains('=') {
                Ok(s)
            } else {
                Err(err(format!("set entry {s:?} is not key=value"), i))
            }
        })
        .collect()
}

/// The commented default written by `driftlint init`. Its first line points editors with a YAML
/// language server at the published schema ([`config_schema::SCHEMA_URL`]).
pub const DEFAULT_CONFIG: &str = concat!(
    "# yaml-language-server: $schema=",
    env!("CARGO_PKG_REPOSITORY"),
    "/raw/main/schemas/driftlint-config.schema.json\n",
    r#"# driftlint configuration (https://github.com/driftlint/driftlint)
# Every key is optional; remove the ones you do not need.

# Kubernetes version the repository deploys to (1.25 .. 1.37). Default: newest bundled.
# kubernetesVersion: "1.33"

# Explicit targets. When set, discovery is skipped and only these are checked.
# targets:
#   - path: clusters/production            # kind is classified as discovery would
#   - path: apps/base/podinfo
#     kind: kustomize                      # kustomize | helm | manifests

# Helm releases. A discovered chart is rendered with its values.yaml (release named after the
# chart, namespace default) and once more per ci/*-values.yaml, as chart-testing does. Declare a
# release to render a chart your way instead (every key but chart is optional):
# releases:
#   - chart: charts/podinfo
#     name: podinfo                        # default: the chart's name
#     namespace: apps                      # default: default
#     values: [envs/prod/podinfo.yaml]     # -f files, in order
#     set: { replicaCount: 3 }             # or a list of key=value, as --set
#     kubeVersion: "1.33"                  # default: kubernetesVersion
#     apiVersions: [monitoring.coreos.com/v1]

# Helmfile state files (helmfile.yaml, helmfile.yaml.gotmpl, helmfile.d/): how they render.
# helmfile:
#   environment: production                # --environment; --helmfile-environment overrides
#   env: [CLUSTER_NAME]                     # the only variables env/requiredEnv may read
#   values: { installed: true }             # state values, as --state-values-file
#   files: ["deprecated/*.yaml"]           # state files with other names

# Path globs that discovery skips (repo-relative).
ignore:
  - "**/testdata/**"

# Extra directories of CustomResourceDefinition manifests to validate custom resources with.
# crdDirs:
#   - crds/

# A checkout of the datreeio CRDs-catalog (<group>/<kind>_<version>.json) inside the repository,
# used after the CRDs rendered in the repository and crdDirs, before the embedded catalog groups.
# crdCatalog: vendor/crds-catalog

# Custom resources of an API group known nowhere are CRD001 errors (default: one SCHEMA002
# warning per group and target).
# strictCrds: false

# Strict schema validation: unknown fields are errors (as kubeconform -strict). Default: true.
# strict: true

# Minimum severity that fails the run (exit code 1): note | warning | error | never.
# failOn: error

# Per-rule settings: enable/disable, severity, and rule options.
# rules:
#   PIN004: { enabled: true }              # require image digests
#   PIN003: { tags: [main, stable, edge, nightly, latest] }
#   API002: { severity: note }             # deprecated APIs as notes

# Chart pulling (driftlint charts pull, check --pull-charts). Only the hosts the repository's
# HelmRepository/OCIRepository objects name are contacted, plus these; plain http only to
# sources that say `insecure: true`, and only with allowInsecure. Credentials come from the
# named environment variables (or --registry-config) and are never printed.
# charts:
#   allowHosts: [auth.docker.io]
#   allowInsecure: false
#   credentials:
#     - {host: ghcr.io, usernameEnv: GHCR_USER, passwordEnv: GHCR_TOKEN}

# driftlint drift: differences that are never reported (Argo CD ignoreDifferences shape).
# group/kind/name/namespace are globs; a left-out one matches every object. Per object, the
# annotations driftlint.io/ignore-differences: "/spec/replicas" and
# driftlint.io/ignore-managers: "kubectl-set" do the same.
# drift:
#   ignoreDifferences:
#     - group: apps
#       kind: Deployment
#       namespace: "*"
#       jsonPointers: [/spec/template/metadata/annotations]
#     - kind: "*"
#       managedFieldsManagers: [vpa-recommender]

"#
);

#[cfg(test)]
mod tests {
    use super::*;

    /// The commented `rules:` example of `driftlint init`, uncommented, is a valid rules
    /// section naming rules that exist (it once suggested a `WL008` that does not).
    #[test]
    fn init_rules_example_names_existing_rules() {
        let mut block = String::new();
        let mut inside = false;
        for line in DEFAULT_CONFIG.lines() {
            inside = line == "# rules:" || (inside && line.starts_with("#   "));
            if inside {
                block.push_str(&line[2..]);
                block.push('\n');
            }
        }
        assert!(
            block.lines().count() > 1,
            "no rules example in the template"
        );
        let c = Config::parse("c.yaml".into(), &block).expect("valid config");
        let rules = c.rules.expect("rules section");
        driftlint_rules::RuleConfig::from_node(&rules).expect("known rules and options");
        for line in block.lines().skip(1) {
            let code = line.trim().split(':').next().unwrap_or_default();
            assert!(
                driftlint_rules::meta(code).is_some(),
                "{code} is not a rule"
            );
        }
    }

    #[test]
    fn parses_every_key() {
        let c = Config::parse(
            "c.yaml".into(),
            "kubernetesVersion: v1.30\ntargets: [a, {path: b, kind: helm}]\nignore: [x/**]\nstrict: false\nfailOn: warning\nrules: {PIN004: {enabled: true}}\n",
        )
        .expect("valid");
        assert_eq!(c.kubernetes_version.as_deref(), Some("1.30"));
        assert_eq!(c.targets.len(), 2);
        assert_eq!(c.targets[1].kind, Some(TargetKind::Helm));
        assert_eq!(c.strict, Some(false));
        assert!(c.is_ignored(Path::new("x/y/z.yaml")));
        assert!(c.rules.is_some());
    }

    #[test]
    fn charts_settings_are_read_and_checked_at_their_line() {
        let c = Config::parse(
            "c.yaml".into(),
            "charts:\n  allowHosts: [Auth.Docker.io, 'r.io:5000']\n  allowInsecure: true\n  credentials:\n    - {host: GHCR.io, usernameEnv: U, passwordEnv: P}\n",
        )
        .expect("valid");
        assert_eq!(c.charts.allow_hosts, ["auth.docker.io", "r.io:5000"]);
        assert!(c.charts.allow_insecure);
        assert_eq!(
            c.charts.credentials,
            [("ghcr.io".to_string(), "U".to_string(), "P".to_string())]
        );
        let e = Config::parse(
            "c.yaml".into(),
            "charts:\n  credentials:\n    - {host: ghcr.io, password: x}\n",
        )
        .unwrap_err();
        assert_eq!(e.origin.line, 3);
        assert!(e.message.contains("password"), "{e}");
        let e =
            Config::parse("c.yaml".into(), "charts:\n  allowInsecure: yes please\n").unwrap_err();
        assert_eq!(e.origin.line, 2);
    }

    #[test]
    fn unknown_keys_point_at_their_line() {
        let e =
            Config::parse("c.yaml".into(), "strict: true\nkubernetsVersion: 1.30\n").unwrap_err();
        assert_eq!(e.origin.line, 2);
        assert!(e.message.contains("kubernetsVersion"));
    }

    #[test]
    fn releases_are_parsed_and_checked_at_their_line() {
        let c = Config::parse(
            "c.yaml".into(),
            "releases:\n  - chart: charts/a\n    name: prod\n    values: [v.yaml]\n    set: {x: 1, y: 'a,b'}\n    apiVersions: [a/v1]\n",
        )
        .expect("valid");
        let r = &c.releases[0];
        assert_eq!(r.chart, "charts/a");
        assert_eq!(r.chart_origin.line, 2);
        assert_eq!(r.set, ["x=1", "y=a\\,b"]);
        let bad = |text: &str| Config::parse("c.yaml".into(), text).unwrap_err();
        let e = bad("releases:\n  - chart: a\n    nmae: x\n");
        assert_eq!((e.origin.line, e.message.contains("nmae")), (3, true));
        assert_eq!(bad("releases:\n  - name: x\n").origin.line, 2);
        assert_eq!(
            bad("releases:\n  - chart: a\n    name: Prod_1\n")
                .origin
                .line,
            3
        );
        assert_eq!(
            bad("releases:\n  - chart: a\n    set: [novalue]\n")
                .origin
                .line,
            3
        );
    }

    #[test]
    fn an_invalid_ignore_glob_is_an_error_at_its_line() {
        let e = Config::parse(
            "c.yaml".into(),
            "strict: true\nignore:\n  - ok/**\n  - a/[b\n",
        )
        .unwrap_err();
        assert_eq!((e.origin.line, e.origin.column), (4, 5), "{e}");
        assert!(e.message.contains("a/[b"), "{e}");
    }

    #[test]
    fn crd_dirs_keep_their_lines() {
        let c = Config::parse("c.yaml".into(), "crdDirs:\n  - crds\n  - more/\n").expect("valid");
        let lines: Vec<(&str, u32)> = c
            .crd_dirs
            .iter()
            .map(|d| (d.path.as_str(), d.origin.line))
            .collect();
        assert_eq!(lines, [("crds", 2), ("more/", 3)]);
    }

    #[test]
    fn bad_versions_are_refused() {
        assert!(Config::parse("c.yaml".into(), "kubernetesVersion: latest\n").is_err());
    }

    #[test]
    fn drift_ignore_differences_are_read_and_checked() {
        let c = Config::parse(
            "c.yaml".into(),
            "drift:\n  ignoreDifferences:\n    - kind: Deployment\n      jsonPointers: [/spec/replicas]\n",
        )
        .expect("valid");
        assert_eq!(c.drift_ignore.entries.len(), 1);
        let e = Config::parse("c.yaml".into(), "drift:\n  ignoreDifference: []\n").unwrap_err();
        assert_eq!(e.origin.line, 2);
        let e = Config::parse(
            "c.yaml".into(),
            "drift:\n  ignoreDifferences:\n    - kind: A\n      jsonPointers: [spec]\n",
        )
        .unwrap_err();
        assert_eq!((e.origin.line, e.origin.column), (4, 22));
    }

    #[test]
    fn the_commented_drift_example_parses() {
        let block: String = DEFAULT_CONFIG
            .lines()
            .skip_while(|l| !l.starts_with("# drift:"))
            .map(|l| format!("{}\n", l.strip_prefix("# ").unwrap_or(l)))
            .collect();
        let c = Config::parse("c.yaml".into(), &block).expect("valid example");
        assert_eq!(c.drift_ignore.entries.len(), 2);
    }

    #[test]
    fn the_default_config_parses() {
        Config::parse("c.yaml".into(), DEFAULT_CONFIG).expect("valid default");
    }
}
