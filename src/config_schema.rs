//! The shape of `.driftlint.yaml` as serde/schemars types, and the JSON Schema generated from
//! them (`driftlint config-schema`, committed as `schemas/driftlint-config.schema.json`).
//!
//! The loader ([`crate::config`]) walks YAML nodes itself to report file:line errors, but takes
//! its keys and enumerated values from these types: a key is accepted only when it is a
//! property of the matching type here, and `failOn` and a target's `kind` are read with these
//! types' serde `Deserialize`. The `rules` section (checked by `driftlint_rules`) is described
//! from the rule registry, and `drift.ignoreDifferences` entries (checked by `driftlint_drift`)
//! by [`IgnoreDifference`]; tests hold both loaders to the schema, key for key.
//!
//! Scalars the loader reads as text (versions, names, paths) are `string` here: quote
//! `"1.30"`, which YAML would otherwise read as the number 1.3.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use schemars::generate::SchemaSettings;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::Deserialize;
use serde_json::{Map, Value};

/// What kind of target an explicit `targets:` entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// A directory with a kustomization file.
    Kustomize,
    /// A Helm chart directory.
    Helm,
    /// A folder of plain manifests.
    Manifests,
}

/// Where the committed schema is published: `<repository>/raw/main/schemas/...`, the URL that
/// `driftlint init` writes in its `yaml-language-server` modeline.
pub const SCHEMA_URL: &str = concat!(
    env!("CARGO_PKG_REPOSITORY"),
    "/raw/main/schemas/driftlint-config.schema.json"
);

/// The committed schema's path in the repository.
pub const SCHEMA_PATH: &str = "schemas/driftlint-config.schema.json";

/// `.driftlint.yaml`, at the repository root. Every key is optional.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = non_nullable_properties)]
pub struct ConfigFile {
    /// Kubernetes version the repository deploys to, `1.MINOR` (1.25 .. 1.37; a leading `v`
    /// and a patch level are accepted). Default: the newest bundled version.
    #[schemars(pattern(r"^v?1\.[0-9]+(\..*)?$"))]
    pub kubernetes_version: Option<String>,
    /// Explicit targets. When set, discovery is skipped and only these are checked.
    #[serde(default)]
    pub targets: Vec<Target>,
    /// Helm releases: how to render charts, replacing the discovered defaults for them.
    #[serde(default)]
    pub releases: Vec<Release>,
    /// Path globs (repo-relative) that discovery skips.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Extra directories of CustomResourceDefinition manifests to validate custom resources
    /// with (repo-relative, inside the repository).
    #[serde(default)]
    pub crd_dirs: Vec<String>,
    /// A checkout of the datreeio CRDs-catalog layout (`<group>/<kind>_<version>.json`),
    /// repo-relative, inside the repository: its schemas validate custom resources after the
    /// CRDs rendered in the repository and `crdDirs`, before the embedded catalog groups.
    pub crd_catalog: Option<String>,
    /// Custom resources of an API group known nowhere (no CRD in the repository or `crdDirs`,
    /// not in the CRD catalogs) are CRD001 errors instead of one SCHEMA002 warning per group
    /// and target. Default: false.
    pub strict_crds: Option<bool>,
    /// Strict schema validation: unknown fields are errors (as kubeconform -strict).
    /// Default: true.
    pub strict: Option<bool>,
    /// Minimum severity that fails the run (exit code 1). Default: error.
    pub fail_on: Option<FailOn>,
    /// Per-rule settings, keyed by rule code or name: enable/disable, severity and options.
    pub rules: Option<Rules>,
    /// Settings of `driftlint drift`.
    pub drift: Option<Drift>,
    /// Flux sources (`GitRepository`, `OCIRepository`, `Bucket`) whose content is a folder of
    /// this repository: Flux Kustomizations reading them are rendered from that folder. The
    /// bootstrap source (`GitRepository` or `OCIRepository` `flux-system` in namespace
    /// `flux-system`) is this repository's root unless listed here.
    #[serde(default)]
    pub sources: Vec<Source>,
    /// Settings of chart pulling (`driftlint charts pull`, `check --pull-charts`).
    pub charts: Option<Charts>,
    /// How helmfile state files (`helmfile.yaml`, `helmfile.yaml.gotmpl`, `helmfile.d/`) are
    /// rendered.
    pub helmfile: Option<Helmfile>,
}

/// Chart pulling: which hosts besides those the repository's `HelmRepository`/`OCIRepository`
/// objects name may be contacted, plain http, and credentials.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = non_nullable_properties)]
pub struct Charts {
    /// Extra hosts (`host` or `host:port`) a pull may contact, e.g. an OCI token realm on
    /// another host or a CDN the chart archive URLs point at.
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    /// Plain http to sources that say `insecure: true`. Default: false (https only).
    pub allow_insecure: Option<bool>,
    /// Credentials read from environment variables (never printed).
    #[serde(default)]
    pub credentials: Vec<ChartCredential>,
}

/// Basic credentials of one registry or repository host, from environment variables.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChartCredential {
    /// The host (`host` or `host:port`).
    #[schemars(length(min = 1))]
    pub host: String,
    /// The environment variable holding the user name.
    #[schemars(length(min = 1))]
    pub username_env: String,
    /// The environment variable holding the password or token.
    #[schemars(length(min = 1))]
    pub password_env: String,
}

/// Settings of helmfile rendering.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = non_nullable_properties)]
pub struct Helmfile {
    /// The environment (`helmfile --environment`); `--helmfile-environment` overrides it.
    /// Default: `default`.
    pub environment: Option<String>,
    /// The environment variables templates may read with `env`/`requiredEnv`: a map of
    /// names to values, or a list of names whose values are read from driftlint's own
    /// environment. Nothing else is readable (the CI environment holds tokens).
    pub env: Option<HelmfileEnv>,
    /// State values given to every root state file, as `helmfile --state-values-file`
    /// (they override the states' own values; nested states get them too).
    pub values: Option<BTreeMap<String, serde_json::Value>>,
    /// Globs (repo-relative) of further state files with other names (`deprecated/*.yaml`),
    /// loaded like `helmfile.yaml`.
    #[serde(default)]
    pub files: Vec<String>,
}

/// `helmfile.env`: values given here, or names read from the process environment.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum HelmfileEnv {
    /// Variable name → value.
    Values(BTreeMap<String, String>),
    /// Variable names read from driftlint's environment (unset ones stay unset).
    Names(Vec<String>),
}

/// A Flux source mapped to a folder of this repository.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = non_nullable_properties)]
pub struct Source {
    /// The Flux source's kind (required unless `url` is given).
    pub kind: Option<SourceKind>,
    /// The Flux source's name (required unless `url` is given).
    #[schemars(length(min = 1))]
    pub name: Option<String>,
    /// Instead of a Flux source: a Git repository URL that Argo CD `Application`s
    /// (`repoURL`) and ApplicationSet git generators read, which is this repository
    /// (compared as Argo CD does: case, `.git` and a trailing `/` ignored).
    pub url: Option<String>,
    /// The source's namespace. Default: `flux-system`.
    pub namespace: Option<String>,
    /// The repo-relative folder its artifact holds. Default: `.` (the repository root).
    pub path: Option<String>,
}

/// The kind of a Flux source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum SourceKind {
    /// `source.toolkit.fluxcd.io` GitRepository.
    GitRepository,
    /// `source.toolkit.fluxcd.io` OCIRepository.
    OCIRepository,
    /// `source.toolkit.fluxcd.io` Bucket.
    Bucket,
}

/// One explicit target: a path, or a path with its kind.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Target {
    /// A repo-relative path, classified as discovery would.
    Path(String),
    /// A repo-relative path and its kind.
    Entry(TargetSpec),
}

/// A target with an explicit kind.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = non_nullable_properties)]
pub struct TargetSpec {
    /// Repo-relative path of the target.
    #[schemars(length(min = 1))]
    pub path: String,
    /// What the path holds. Default: classified as discovery would.
    pub kind: Option<TargetKind>,
}

/// A Helm chart rendered as `helm template` with these settings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = non_nullable_properties)]
pub struct Release {
    /// Repo-relative chart directory.
    #[schemars(length(min = 1))]
    pub chart: String,
    /// Release name (Helm's rule: lowercase letters, digits, `-` and `.`, at most 53
    /// characters). Default: the chart's name.
    #[schemars(
        length(min = 1, max = 53),
        pattern(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
    )]
    pub name: Option<String>,
    /// Namespace. Default: `default`.
    pub namespace: Option<String>,
    /// Repo-relative values files, applied in order (as `-f`).
    #[serde(default)]
    pub values: Vec<String>,
    /// `--set` values: a mapping of keys to scalars, or a list of `key=value` strings.
    pub set: Option<SetValues>,
    /// `--kube-version`. Default: `kubernetesVersion`.
    pub kube_version: Option<String>,
    /// `--api-versions`.
    #[serde(default)]
    pub api_versions: Vec<String>,
}

/// `set:` of a release.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum SetValues {
    /// `{key: value}`; each becomes `key=value` (commas in values escaped).
    Map(BTreeMap<String, Scalar>),
    /// `["key=value"]`, as `--set` takes them.
    List(Vec<SetArgument>),
}

/// A `key=value` string.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct SetArgument(#[schemars(pattern("="))] pub String);

/// A scalar value.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    /// A string.
    String(String),
    /// A number.
    Number(serde_json::Number),
    /// A boolean.
    Bool(bool),
}

/// The minimum severity that makes `check` exit 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Any finding.
    Note,
    /// Warnings and errors.
    Warning,
    /// Errors only (the default).
    Error,
    /// Findings never fail the run.
    Never,
}

/// The `drift:` section.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = non_nullable_properties)]
pub struct Drift {
    /// Differences `driftlint drift` never reports (Argo CD's `ignoreDifferences` shape). Per
    /// object, the annotations `driftlint.io/ignore-differences` (JSON pointers) and
    /// `driftlint.io/ignore-managers` (manager names) do the same.
    #[serde(default)]
    pub ignore_differences: Vec<IgnoreDifference>,
}

/// One `drift.ignoreDifferences` entry. `group`, `kind`, `name` and `namespace` are globs
/// (`*`, `?`, `[a-z]`); one left out matches every object.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = non_nullable_properties)]
pub struct IgnoreDifference {
    /// API group glob (`""` for the core group, `apps`, `cert-manager.io`).
    pub group: Option<String>,
    /// Kind glob.
    pub kind: Option<String>,
    /// Name glob.
    pub name: Option<String>,
    /// Namespace glob (`""` for cluster-scoped objects).
    pub namespace: Option<String>,
    /// RFC 6901 JSON pointers whose subtree is ignored (`/spec/replicas`; `*` matches any
    /// token).
    #[serde(default)]
    #[schemars(inner(pattern("^/")))]
    pub json_pointers: Vec<String>,
    /// Field managers (as in `metadata.managedFields[].manager`) whose fields are ignored.
    #[serde(default)]
    pub managed_fields_managers: Vec<String>,
}

/// A severity as the `rules:` section takes it (`info` and `warn` are accepted for `note` and
/// `warning`).
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleSeverity {
    /// Note.
    Note,
    /// Warning.
    Warning,
    /// Error.
    Error,
    /// Same as note.
    Info,
    /// Same as warning.
    Warn,
}

/// Settings of one rule.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = non_nullable_properties)]
pub struct RuleSettings {
    /// Run the rule (rules that are off by default run as warnings when enabled).
    pub enabled: Option<bool>,
    /// Severity of its findings.
    pub severity: Option<RuleSeverity>,
}

/// Settings of PIN003 (image-tag-mutable).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = non_nullable_properties)]
pub struct Pin003Settings {
    /// Run the rule.
    pub enabled: Option<bool>,
    /// Severity of its findings.
    pub severity: Option<RuleSeverity>,
    /// The mutable tags (exact, case-sensitive; a tag made of listed tags and `latest` joined
    /// by `-`, e.g. `stable-alpine`, is mutable too). Default: main, master, stable, edge,
    /// nightly, dev, develop, rolling, alpine, slim, bookworm, bullseye, buster, trixie, jammy,
    /// noble, focal.
    pub tags: Option<Vec<String>>,
    /// Also flag major-only and major.minor version tags (`v1`, `16`, `1.2`). Default: true.
    #[serde(rename = "floating-versions")]
    pub floating_versions: Option<bool>,
}

/// The codes whose settings take PIN003's options.
const PIN003: &str = "PIN003";

/// The key of `rules:` that is not a rule.
pub const FORBID_ANNOTATION_SUPPRESSION: &str = "forbid-annotation-suppression-for-security";

/// The `rules:` section: settings per rule code (`PIN004`) or name (`image-tag-latest`),
/// as listed by `driftlint rules`, plus `forbid-annotation-suppression-for-security`. Its
/// schema is built from the rule registry: every configurable code and name is a property.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Rules(pub Option<BTreeMap<String, RuleEntry>>);

/// One value of the `rules:` mapping.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RuleEntry {
    /// `forbid-annotation-suppression-for-security`.
    Flag(bool),
    /// A rule's settings.
    Settings(Pin003Settings),
}

impl JsonSchema for Rules {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Rules".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let settings = generator.subschema_for::<RuleSettings>();
        let pin003 = generator.subschema_for::<Pin003Settings>();
        let mut properties = Map::new();
        properties.insert(
            FORBID_ANNOTATION_SUPPRESSION.to_string(),
            serde_json::json!({
                "description": "When true, annotations cannot suppress SEC* findings (comments \
                                and configuration still can). Default: false.",
                "type": "boolean",
            }),
        );
        for meta in driftlint_rules::registry() {
            if !driftlint_rules::configurable(&meta.code) {
                continue;
            }
            let target = if meta.code == PIN003 {
                &pin003
            } else {
                &settings
            };
            for key in [&meta.code, &meta.name] {
                properties.insert(
                    key.clone(),
                    serde_json::json!({
                        "description": format!("{} {}: {}", meta.code, meta.name, meta.summary),
                        "allOf": [target],
                    }),
                );
            }
        }
        json_schema!({
            "description": "Per-rule settings, keyed by rule code or name (`driftlint rules` \
                            lists them). Render and configuration codes cannot be configured.",
            "type": ["object", "null"],
            "properties": properties,
            "additionalProperties": false,
        })
    }
}

/// Optional fields are `Option`s, which schemars makes nullable; the loader refuses `null` for
/// them, so the property schemas drop it (`rules: null` stays valid through [`Rules`]' own
/// schema).
fn non_nullable_properties(schema: &mut Schema) {
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return;
    };
    for property in properties.values_mut() {
        let Value::Object(obj) = property else {
            continue;
        };
        if let Some(Value::Array(any_of)) = obj.get("anyOf") {
            let is_null = |v: &Value| v.get("type") == Some(&Value::from("null"));
            if any_of.len() == 2 && any_of.iter().any(is_null) {
                let Some(Value::Object(inner)) = any_of.iter().find(|v| !is_null(v)).cloned()
                else {
                    continue;
                };
                obj.remove("anyOf");
                for (k, v) in inner {
                    obj.entry(k).or_insert(v);
                }
            }
        }
        if let Some(Value::Array(types)) = obj.get_mut("type") {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let only = types.remove(0);
                obj.insert("type".into(), only);
            }
        }
        if let Some(Value::Array(values)) = obj.get_mut("enum") {
            values.retain(|v| !v.is_null());
        }
    }
}

fn settings() -> SchemaSettings {
    SchemaSettings::draft07()
}

/// The JSON Schema of `.driftlint.yaml` (draft 7, as editors' YAML language servers read it).
pub fn schema() -> Value {
    let mut schema = settings()
        .into_generator()
        .into_root_schema_for::<ConfigFile>();
    schema.insert("$id".into(), SCHEMA_URL.into());
    schema.insert(
        "title".into(),
        "driftlint configuration (.driftlint.yaml)".into(),
    );
    let mut value = schema.to_value();
    // `$schema` and `$id` first, as people expect to read them.
    if let Value::Object(map) = &mut value {
        let mut ordered = Map::new();
        for key in ["$schema", "$id", "title"] {
            if let Some(v) = map.remove(key) {
                ordered.insert(key.to_string(), v);
            }
        }
        ordered.append(map);
        *map = ordered;
    }
    value
}

/// [`schema`] as the committed file holds it: pretty-printed, with a final newline.
pub fn schema_json() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// The property names of `T`'s schema, in declaration order.
pub fn keys_of<T: JsonSchema>() -> Vec<String> {
    let schema = settings().into_generator().into_root_schema_for::<T>();
    match schema.get("properties") {
        Some(Value::Object(p)) => p.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// The string values of an enum type's schema (`enum`, or `oneOf` of `const`s).
pub fn values_of<T: JsonSchema>() -> Vec<String> {
    let schema = settings().into_generator().into_root_schema_for::<T>();
    let strings = |v: &Value| v.as_str().map(str::to_string);
    if let Some(Value::Array(values)) = schema.get("enum") {
        return values.iter().filter_map(strings).collect();
    }
    match schema.get("oneOf") {
        Some(Value::Array(variants)) => variants
            .iter()
            .filter_map(|v| v.get("const").or_else(|| v.get("enum")?.get(0)))
            .filter_map(strings)
            .collect(),
        _ => Vec::new(),
    }
}

/// The keys the loader accepts at each level it checks itself, taken from the schema types.
pub(crate) struct Keys {
    /// Top level.
    pub top: Vec<String>,
    /// A `targets:` entry written as a mapping.
    pub target: Vec<String>,
    /// A `releases:` entry.
    pub release: Vec<String>,
    /// A `sources:` entry.
    pub source: Vec<String>,
    /// The `drift:` section.
    pub drift: Vec<String>,
    /// The `charts:` section.
    pub charts: Vec<String>,
    /// A `charts.credentials` entry.
    pub chart_credential: Vec<String>,
    /// The `helmfile:` section.
    pub helmfile: Vec<String>,
}

pub(crate) static KEYS: LazyLock<Keys> = LazyLock::new(|| Keys {
    top: keys_of::<ConfigFile>(),
    target: keys_of::<TargetSpec>(),
    release: keys_of::<Release>(),
    source: keys_of::<Source>(),
    drift: keys_of::<Drift>(),
    charts: keys_of::<Charts>(),
    chart_credential: keys_of::<ChartCredential>(),
    helmfile: keys_of::<Helmfile>(),
});

/// `text` as a value of the enum `T`, as serde reads it (`None` when it is not one).
pub(crate) fn parse_value<T: DeserializeOwned>(text: &str) -> Option<T> {
    T::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(text)).ok()
}

/// `a, b or c`.
pub(crate) fn one_of(values: &[String]) -> String {
    match values {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_come_from_serde_names() {
        assert_eq!(values_of::<FailOn>(), ["note", "warning", "error", "never"]);
        assert_eq!(
            values_of::<TargetKind>(),
            ["kustomize", "helm", "manifests"]
        );
        assert_eq!(parse_value::<FailOn>("never"), Some(FailOn::Never));
        assert_eq!(parse_value::<FailOn>("Never"), None);
        assert_eq!(
            one_of(&values_of::<TargetKind>()),
            "kustomize, helm or manifests"
        );
    }

    #[test]
    fn optional_properties_are_not_nullable() {
        let schema = schema();
        let props = &schema["properties"];
        assert_eq!(props["strict"]["type"], "boolean");
        assert_eq!(props["kubernetesVersion"]["type"], "string");
        assert!(
            props["failOn"].get("anyOf").is_none(),
            "{}",
            props["failOn"]
        );
        assert_eq!(schema["$id"], SCHEMA_URL);
    }
}
