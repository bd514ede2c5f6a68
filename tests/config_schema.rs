//! The JSON Schema of `.driftlint.yaml` (`src/config_schema.rs`) against the committed file,
//! the repository's example configurations and the loaders (`src/config.rs`, the `rules:`
//! section of `driftlint_rules`, `drift.ignoreDifferences` of `driftlint_drift`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use driftlint::config::{Config, DEFAULT_CONFIG};
use driftlint::config_schema::{self, ConfigFile, SCHEMA_PATH, SCHEMA_URL};
use serde_json::Value;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft7::new(&config_schema::schema()).expect("the schema compiles")
}

/// YAML text as the JSON a YAML language server validates.
fn to_json(text: &str) -> Value {
    let parsed = driftlint_yaml::parse_file("c.yaml".into(), text).expect("valid YAML");
    parsed
        .documents
        .into_iter()
        .find(|d| !d.is_null())
        .map_or(Value::Null, |d| d.to_json())
}

/// Everything the loaders check: `.driftlint.yaml` itself, then its `rules:` section.
fn load(text: &str) -> Result<Config, String> {
    let config = Config::parse("c.yaml".into(), text).map_err(|e| e.to_string())?;
    if let Some(rules) = &config.rules {
        driftlint_rules::RuleConfig::from_node(rules).map_err(|e| e.to_string())?;
    }
    Ok(config)
}

/// The loaders, the schema and the serde types all accept `text`.
fn assert_accepted(what: &str, text: &str) {
    load(text).unwrap_or_else(|e| panic!("{what}: the loader refuses it: {e}\n{text}"));
    let json = to_json(text);
    let errors: Vec<String> = validator()
        .iter_errors(&json)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: the schema refuses it: {errors:#?}\n{text}"
    );
    if !json.is_null() {
        serde_json::from_value::<ConfigFile>(json)
            .unwrap_or_else(|e| panic!("{what}: the schema types refuse it: {e}\n{text}"));
    }
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let path = manifest_dir().join(SCHEMA_PATH);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = config_schema::schema_json();
    assert!(
        committed == generated,
        "{SCHEMA_PATH} is not the schema the code generates (keys, rules or docs changed).\n\
         Regenerate it with:\n\n    cargo run -- config-schema > {SCHEMA_PATH}\n"
    );
    assert!(SCHEMA_URL.ends_with(&format!("/raw/main/{SCHEMA_PATH}")));
}

#[test]
fn the_schema_is_a_valid_draft_7_schema() {
    let schema = config_schema::schema();
    jsonschema::meta::validate(&schema).expect("valid against its meta-schema");
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
}

/// Every `.driftlint.yaml` under `dir`, hidden directories included.
fn configs_under(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            configs_under(&path, found);
        } else if kind.is_file() && entry.file_name() == ".driftlint.yaml" {
            found.push(path);
        }
    }
}

#[test]
fn the_repository_example_configs_validate() {
    let mut found = Vec::new();
    configs_under(&manifest_dir().join("fixtures"), &mut found);
    configs_under(&manifest_dir().join("tests/fixtures"), &mut found);
    assert!(found.len() >= 5, "example configs: {found:?}");
    for path in found {
        let text = std::fs::read_to_string(&path).expect("read");
        assert_accepted(&path.display().to_string(), &text);
    }
}

/// `DEFAULT_CONFIG` with every commented example line uncommented (`# key:` and `#   ...`).
fn default_config_uncommented() -> String {
    DEFAULT_CONFIG
        .lines()
        .map(|line| {
            let body = line.strip_prefix("# ").unwrap_or(line);
            let is_key = body
                .split_once(':')
                .is_some_and(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphabetic()));
            if line.starts_with("#   ") || (line.starts_with("# ") && is_key) {
                format!("{body}\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

#[test]
fn the_init_default_and_all_its_examples_validate() {
    let first = DEFAULT_CONFIG.lines().next().expect("a first line");
    assert_eq!(
        first,
        format!("# yaml-language-server: $schema={SCHEMA_URL}")
    );
    assert_accepted("DEFAULT_CONFIG", DEFAULT_CONFIG);
    let examples = default_config_uncommented();
    assert_accepted("DEFAULT_CONFIG, examples uncommented", &examples);
    let config = load(&examples).expect("loads");
    assert_eq!(config.kubernetes_version.as_deref(), Some("1.33"));
    assert_eq!((config.targets.len(), config.releases.len()), (2, 1));
    assert_eq!(config.drift_ignore.entries.len(), 2);
    assert!(config.rules.is_some() && config.fail_on.is_some() && config.strict.is_some());
}

/// A configuration that sets every key the schema declares (the `rules:` keys, which come from
/// the rule registry, are checked by `the_rules_section_matches_the_rule_loader`).
const EVERY_KEY: &str = r#"
kubernetesVersion: "1.33"
targets:
  - clusters/production
  - path: apps/base
    kind: kustomize
releases:
  - chart: charts/web
    name: web-prod
    namespace: prod
    values: [envs/prod/web.yaml]
    set: ["image.tag=1.2.3"]
    kubeVersion: "1.32"
    apiVersions: [monitoring.coreos.com/v1]
  - chart: charts/api
    set: {replicas: 3, debug: true, region: "eu,west"}
ignore: ["**/testdata/**"]
crdDirs: [crds]
crdCatalog: vendor/crds-catalog
strictCrds: true
strict: false
failOn: warning
rules:
  PIN004: {enabled: true, severity: error}
  image-tag-mutable: {tags: [main], floating-versions: false, severity: warn}
  forbid-annotation-suppression-for-security: true
drift:
  ignoreDifferences:
    - group: apps
      kind: Deployment
      name: "web-*"
      namespace: "*"
      jsonPointers: [/spec/replicas]
      managedFieldsManagers: [vpa-recommender]
sources:
  - kind: GitRepository
    name: tenant
    namespace: apps
    path: tenants/a
  - url: https://github.com/example/gitops.git
    path: .
charts:
  allowHosts: [auth.docker.io]
  allowInsecure: false
  credentials:
    - host: ghcr.io
      usernameEnv: GHCR_USER
      passwordEnv: GHCR_TOKEN
helmfile:
  environment: prod
  env: [TEAM]
  values:
    installed: true
  files: ["deprecated/*.yaml"]
"#;

/// Object-key paths (`/releases/*/chart`) a schema declares, following `$ref`, `items` and
/// `anyOf`/`oneOf`/`allOf`; `stop` paths are not entered.
fn schema_paths(
    root: &Value,
    schema: &Value,
    path: &str,
    stop: &[&str],
    out: &mut BTreeSet<String>,
) {
    if stop.contains(&path) {
        return;
    }
    if let Some(Value::String(r)) = schema.get("$ref") {
        let target = root
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("unresolved {r}"));
        schema_paths(root, target, path, stop, out);
    }
    if let Some(Value::Object(props)) = schema.get("properties") {
        for (key, sub) in props {
            let p = format!("{path}/{key}");
            out.insert(p.clone());
            schema_paths(root, sub, &p, stop, out);
        }
    }
    if let Some(items) = schema.get("items") {
        schema_paths(root, items, &format!("{path}/*"), stop, out);
    }
    for k in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(subs)) = schema.get(k) {
            for sub in subs {
                schema_paths(root, sub, path, stop, out);
            }
        }
    }
}

/// Object-key paths present in a JSON document (list items as `*`).
fn value_paths(value: &Value, path: &str, stop: &[&str], out: &mut BTreeSet<String>) {
    if stop.contains(&path) {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, sub) in map {
                let p = format!("{path}/{key}");
                out.insert(p.clone());
                value_paths(sub, &p, stop, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                value_paths(item, &format!("{path}/*"), stop, out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_schema_key_is_accepted_by_the_loader() {
    assert_accepted("EVERY_KEY", EVERY_KEY);
    let schema = config_schema::schema();
    // `set` as a mapping takes any key; `rules` keys are rule codes.
    let stop = ["/rules", "/releases/*/set", "/helmfile/values"];
    let mut declared = BTreeSet::new();
    schema_paths(&schema, &schema, "", &stop, &mut declared);
    let mut written = BTreeSet::new();
    value_paths(&to_json(EVERY_KEY), "", &stop, &mut written);
    assert_eq!(
        declared, written,
        "EVERY_KEY must set exactly the schema's keys"
    );
}

#[test]
fn keys_outside_the_schema_are_refused_at_every_level() {
    for (text, line) in [
        ("strict: true\nkubernetsVersion: \"1.30\"\n", 2),
        ("targets:\n  - path: a\n    knid: helm\n", 3),
        ("releases:\n  - chart: a\n    nmae: x\n", 3),
        ("drift:\n  ignoreDifference: []\n", 2),
        ("drift:\n  ignoreDifferences:\n    - kinds: A\n", 3),
    ] {
        let e = Config::parse("c.yaml".into(), text).expect_err(text);
        assert_eq!(e.origin.line, line, "{text}: {e}");
        assert!(e.message.starts_with("unknown "), "{text}: {e}");
        assert!(!validator().is_valid(&to_json(text)), "{text}");
    }
}

/// The names listed after `(known: ` in a loader's error message.
fn known_list(message: &str) -> BTreeSet<String> {
    let list = message
        .split_once("(known: ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(list, _)| list)
        .unwrap_or_else(|| panic!("no known-key list in {message:?}"));
    list.split(", ").map(str::to_string).collect()
}

fn definition_keys(schema: &Value, name: &str) -> BTreeSet<String> {
    schema["definitions"][name]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no definition {name}"))
        .keys()
        .cloned()
        .collect()
}

#[test]
fn each_level_of_the_loader_knows_exactly_the_schema_keys() {
    let schema = config_schema::schema();
    let top: BTreeSet<String> = schema["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .cloned()
        .collect();
    for (text, keys) in [
        ("bogus: 1\n", top),
        (
            "targets: [{path: a, bogus: 1}]\n",
            definition_keys(&schema, "TargetSpec"),
        ),
        (
            "releases: [{chart: a, bogus: 1}]\n",
            definition_keys(&schema, "Release"),
        ),
        ("drift: {bogus: 1}\n", definition_keys(&schema, "Drift")),
        (
            "drift: {ignoreDifferences: [{bogus: 1}]}\n",
            definition_keys(&schema, "IgnoreDifference"),
        ),
    ] {
        let e = Config::parse("c.yaml".into(), text).expect_err(text);
        assert_eq!(known_list(&e.message), keys, "{text}");
    }
}

#[test]
fn the_rules_section_matches_the_rule_loader() {
    let schema = config_schema::schema();
    let rules = &schema["definitions"]["Rules"]["properties"];
    let settings = definition_keys(&schema, "RuleSettings");
    let pin003 = definition_keys(&schema, "Pin003Settings");
    let rule_loader = |text: &str| {
        let config = Config::parse("c.yaml".into(), text).expect("valid file");
        driftlint_rules::RuleConfig::from_node(config.rules.as_ref().expect("rules"))
    };
    for meta in driftlint_rules::registry() {
        for key in [&meta.code, &meta.name] {
            let loaded = rule_loader(&format!("rules:\n  {key}: {{}}\n"));
            let in_schema = rules.get(key.as_str()).is_some();
            assert_eq!(loaded.is_ok(), in_schema, "{key}: {loaded:?}");
            if !in_schema {
                continue;
            }
            let e = rule_loader(&format!("rules:\n  {key}: {{bogus: 1}}\n")).expect_err(key);
            let expected = if rules[key.as_str()]["allOf"][0]["$ref"]
                .as_str()
                .is_some_and(|r| r.ends_with("/Pin003Settings"))
            {
                &pin003
            } else {
                &settings
            };
            assert_eq!(&known_list(&e.message), expected, "{key}");
        }
    }
    let flag = config_schema::FORBID_ANNOTATION_SUPPRESSION;
    assert_eq!(rules[flag]["type"], "boolean");
    rule_loader(&format!("rules:\n  {flag}: true\n")).expect("the flag");
    assert!(rule_loader("rules:\n  NOPE001: {}\n").is_err());
    assert_accepted("rules: null", "rules:\n");
}

#[test]
fn invalid_configs_are_refused_by_the_loader_and_the_schema() {
    for text in [
        "- a list\n",
        "kubernetesVersion: latest\n",
        "targets: a\n",
        "targets: [{kind: helm}]\n",
        "targets: [{path: a, kind: chart}]\n",
        "releases: [{name: x}]\n",
        "releases: [{chart: a, name: Prod_1}]\n",
        "releases: [{chart: a, set: [novalue]}]\n",
        "releases: [{chart: a, set: {x: [1]}}]\n",
        "releases: [{chart: a, values: v.yaml}]\n",
        "ignore: \"**/x\"\n",
        "crdDirs: [[a]]\n",
        "strict: maybe\n",
        "strict:\n",
        "failOn: fatal\n",
        "drift: []\n",
        "drift: {ignoreDifferences: [{jsonPointers: [spec]}]}\n",
        "drift: {ignoreDifferences: [a]}\n",
        "rules: [PIN001]\n",
        "rules: {PIN999: {enabled: true}}\n",
        "rules: {RENDER001: {enabled: false}}\n",
        "rules: {PIN001: true}\n",
        "rules: {PIN001: {tags: [x]}}\n",
        "rules: {PIN001: {severity: fatal}}\n",
        "rules: {PIN001: {enabled: maybe}}\n",
        "rules: {PIN003: {tags: x}}\n",
    ] {
        assert!(load(text).is_err(), "the loader accepts {text:?}");
        assert!(
            !validator().is_valid(&to_json(text)),
            "the schema accepts {text:?}"
        );
    }
}
