//! `../shared/gitops/cloudposse-helmfiles` (a real helmfile library, see its SOURCE.md) plans
//! completely: copied into a temporary folder with a `.driftlint.yaml` that plays the consumer
//! (`helmfile.files` for the `deprecated/*.yaml` state files, `helmfile.values` for the values
//! a parent helmfile passes to the `releases/*/helmfile.yaml` libraries, `helmfile.env` for the
//! variables `requiredEnv` asks for), `check` loads every state file and reports each release
//! whose chart is remote exactly once as CHART001 (no chart cache is given).
//!
//! The one exception is `deprecated/nginx-ingress.yaml`, whose state template runs
//! `exec "curl" ...` (line 231) to download a dashboard: `exec` is refused loudly (RENDER002)
//! by design, so that file plans nothing.
//!
//! The expected number of CHART001 findings is counted from the files by [`expected_releases`],
//! independently of driftlint: the first-level items of each top-level `releases:` list, minus
//! items whose `installed:` line reads an environment variable defaulting to false that the
//! configuration does not set (`{{ env "X" | default "false" }}`, also inside an `and`), with the one templated loop
//! (`releases/codefresh-runners`: `range $runner := .Values.runners`) counted once per runner
//! of its `defaults.yaml`, and without the `exec` file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};

fn material() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        manifest.join("../shared/gitops/cloudposse-helmfiles"),
        manifest.join("../../shared/gitops/cloudposse-helmfiles"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
}

fn check(root: &Path, cache: &Path) -> Vec<Value> {
    let out = Command::cargo_bin("driftlint")
        .expect("binary")
        .args(["check", "--format", "json", "--cache-dir"])
        .arg(cache)
        .arg(root)
        .current_dir(root)
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    report["findings"].as_array().expect("findings").clone()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

const EXEC_FILE: &str = "deprecated/nginx-ingress.yaml";

/// The values a consumer passes to the `releases/*` libraries (their `defaults.yaml` leave
/// these unset), and the variables of the `deprecated/*` files.
fn config() -> Value {
    let services = json!([{
        "name": "dashboard", "default": true, "host": "dashboard.example.com",
        "upstream": "http://dashboard", "portalName": "Dashboard",
        "portalURL": "https://dashboard.example.com", "portalIcon": "icon",
        "forecastleGroupName": "group", "forecastleInstanceName": "portal",
        "proxyTimeout": 60, "rules": ["uri=/*"], "extraArgs": [],
        "podAnnotations": {}, "ingressAnnotations": {}, "awsSigning": {}
    }]);
    let mut values = json!({
        "installed": true, "dashboards": {}, "services": services,
        "optional_services": [], "disabled_services": [],
        "unlimited_staging_enabled": false, "custom_apps": ""
    });
    for key in [
        "namespace",
        "account_number",
        "cluster_name",
        "stage",
        "region",
        "title",
        "ingress_hostname_template",
        "base_domain_name_format",
        "banner",
        "support_email",
        "ingress_ingress_hostname",
        "dsn",
        "environment",
        "aws_region",
        "efs_dns_name",
        "keycloak_ingress_hostname",
        "hostname",
        "ingress_hostname",
        "log_level",
        "support_email_template",
        "iam_role_arn",
        "log_destination",
        "discovery_url",
        "nginx_ingress_hostname",
        "dns_region",
        "oidc_client_id",
        "ingress_portal_title",
        "ingress_portal_hostname",
    ] {
        values[key] = json!("example");
    }
    let mut env = json!({
        "KEYCLOAK_GATEKEEPER_SERVICES_YAML": "values/keycloak-gatekeeper-services.yaml",
        "GRAFANA_DASHBOARDS_DEFINITIONS": "values/grafana-dashboards-definitions.yaml",
    });
    for var in [
        "CODEFRESH_BACKUPS_BACKUP_TO_RESTORE",
        "EXTERNAL_STORAGE_IAM_ROLE",
        "FLUENTD_ELASTICSEARCH_ENDPOINT",
        "ISTIO_GATEKEEPER_INGRESS_HOST",
        "ISTIO_GATEWAYS_INGRESS_HOSTNAME",
        "NGINX_INGRESS_HOSTNAME",
        "OIDC_INGRESS_INGRESS_HOST",
        "SENTRY_KUBERNETES_DSN",
        "SPOTINST_TOKEN",
        "SUPERSET_POSTGRESQL_PASSWORD",
        "TELEPORT_PROXY_DOMAIN_NAME",
        "ISTIO_GATEKEEPER_HOST",
        "KEYCLOAK_GATEKEEPER_CLIENT_SECRET",
        "OIDC_INGRESS_HOST",
        "SPOTINST_ACCOUNT_ID",
        "SUPERSET_POSTGRESQL_HOST",
        "TELEPORT_AUTH_IAM_ROLE",
        "ISTIO_GATEKEEPER_CLIENT_SECRET",
        "OIDC_INGRESS_CLIENT_SECRET",
        "SPOTINST_CLUSTER_IDENTIFIER",
        "SUPERSET_POSTGRESQL_DATABASE",
        "TELEPORT_AUDIT_SESSIONS_URI",
        "SUPERSET_SECRET_KEY",
        "TELEPORT_AUDIT_EVENTS_URI",
        "AWS_REGION",
        "TELEPORT_CLUSTER_STATE_DYNAMODB_TABLE",
        "TELEPORT_LICENSE_PEM",
    ] {
        env[var] = json!("example");
    }
    json!({"helmfile": {"files": ["deprecated/*.yaml"], "values": values, "env": env}})
}

/// The state files: `releases/*/helmfile.yaml` and `deprecated/*.yaml`, repo-relative.
fn state_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for (dir, pick) in [("releases", true), ("deprecated", false)] {
        for e in std::fs::read_dir(root.join(dir)).expect("read dir") {
            let e = e.expect("entry");
            let name = e.file_name().to_string_lossy().into_owned();
            if pick && root.join(dir).join(&name).join("helmfile.yaml").is_file() {
                out.push(format!("{dir}/{name}/helmfile.yaml"));
            } else if !pick && name.ends_with(".yaml") {
                out.push(format!("{dir}/{name}"));
            }
        }
    }
    out.sort();
    out
}

/// The releases each state file declares that helmfile would install with [`config`] (see the
/// module docs for the counting rule).
fn expected_releases(root: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for file in state_files(root) {
        if file == EXEC_FILE {
            continue;
        }
        let text = std::fs::read_to_string(root.join(&file)).expect("read");
        let mut n = 0;
        for item in release_items(&text) {
            let off = item.lines().any(|l| {
                let l = l.trim_start();
                l.starts_with("installed:")
                    && l.contains("env \"")
                    && l.contains("default \"false\"")
            });
            if off {
                continue;
            }
            n += if item.contains("range $runner := .Values.runners") {
                runners(&root.join(&file))
            } else {
                1
            };
        }
        if n > 0 {
            out.insert(file, n);
        }
    }
    out
}

/// The text of each first-level item of the top-level `releases:` lists (an item starts at
/// a `- ` with the indentation of the list's first item and runs to the next one), with the
/// template line right before it (a `range` opening the item).
fn release_items(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut items: Vec<String> = Vec::new();
    let (mut in_releases, mut indent) = (false, None::<usize>);
    for (i, line) in lines.iter().enumerate() {
        if line.trim_end() == "releases:" {
            (in_releases, indent) = (true, None);
            continue;
        }
        if line.starts_with(|c: char| c.is_ascii_alphabetic()) {
            in_releases = false;
        }
        let trimmed = line.trim_start();
        let at = line.len() - trimmed.len();
        let item = trimmed.starts_with("- ") && !trimmed.starts_with("- #");
        if in_releases && item && *indent.get_or_insert(at) == at {
            let before = if i > 0 { lines[i - 1] } else { "" };
            items.push(format!("{before}\n{line}\n"));
            continue;
        }
        if in_releases {
            if let Some(last) = items.last_mut() {
                last.push_str(line);
                last.push('\n');
            }
        }
    }
    items
}

/// The entries of `runners:` in the `defaults.yaml` next to `file`.
fn runners(file: &Path) -> usize {
    let defaults = std::fs::read_to_string(file.with_file_name("defaults.yaml")).expect("read");
    let doc = driftlint_yaml::parse_documents("defaults.yaml".into(), &defaults).expect("yaml");
    doc[0].to_json()["runners"].as_array().map_or(0, Vec::len)
}

#[test]
fn cloudposse_helmfiles_plan_completely() {
    let Some(src) = material() else {
        println!("skipped: ../shared/gitops/cloudposse-helmfiles is absent");
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("cloudposse");
    copy_dir(&src, &root);
    let cache = tmp.path().join("empty-cache");
    // Without the consumer's values, each library helmfile fails as in helmfile, and the
    // message says how to pass the value.
    let bare = check(&root, &cache);
    let missing: Vec<&Value> = bare
        .iter()
        .filter(|f| {
            f["location"]["file"]
                .as_str()
                .is_some_and(|p| p.starts_with("releases/"))
        })
        .collect();
    assert_eq!(missing.len(), 25, "{missing:#?}");
    for f in missing {
        let m = f["message"].as_str().unwrap_or("");
        assert_eq!(f["code"], "RENDER001");
        assert!(m.contains("is not set; supply it as helmfile would: in .driftlint.yaml `helmfile: {values: {...}}`"), "{m}");
        assert!(
            m.contains("helmfiles: [{path: ..., values: [{...}]}]"),
            "{m}"
        );
    }
    // A state file under another name is read as manifests, and its YAML error says what it
    // looks like and how to have it rendered as one.
    let atlantis = bare
        .iter()
        .find(|f| f["location"]["file"] == "deprecated/atlantis.yaml")
        .expect("deprecated/atlantis.yaml is read as manifests without configuration");
    assert!(
        atlantis["message"]
            .as_str()
            .is_some_and(|m| m.contains("looks like a helmfile state file")
                && m.contains("`helmfile.files`")),
        "{atlantis:#}"
    );
    std::fs::write(root.join(".driftlint.yaml"), config().to_string()).expect("config");
    let findings = check(&root, &cache);
    let failures: Vec<String> = findings
        .iter()
        .filter(|f| matches!(f["code"].as_str(), Some("RENDER001" | "RENDER002")))
        .map(|f| {
            format!(
                "{} {}:{} {}",
                f["code"], f["location"]["file"], f["location"]["line"], f["message"]
            )
        })
        .collect();
    assert_eq!(failures.len(), 1, "{failures:#?}");
    assert!(
        failures[0].starts_with(&format!("\"RENDER002\" \"{EXEC_FILE}\":231 ")),
        "{failures:?}"
    );
    let mut charts: BTreeMap<String, usize> = BTreeMap::new();
    for f in findings.iter().filter(|f| f["code"] == "CHART001") {
        *charts
            .entry(f["location"]["file"].as_str().unwrap_or("").to_string())
            .or_default() += 1;
    }
    let expected = expected_releases(&root);
    assert_eq!(charts, expected);
    let total: usize = expected.values().sum();
    println!(
        "cloudposse: {} state files, {total} remote releases = {total} CHART001, 1 RENDER002 (exec)",
        state_files(&root).len()
    );
    assert!(total > 100, "{total}");
}
