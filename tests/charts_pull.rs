//! `driftlint charts pull` and `check --pull-charts` against real servers: a Helm HTTP
//! repository served from loopback (`tests/fixtures/chart-repo`, made with the reference
//! `helm package` + `helm repo index`, see its `make.sh`) and the CNCF distribution registry
//! (Debian `docker-registry`) started on 127.0.0.1, charts pushed as `helm push` does (and
//! with the reference `helm push` itself when it is installed). The registry tests are skipped
//! only with `DRIFTLINT_SKIP_REGISTRY_TESTS=1`; a missing registry fails them.

#[path = "common/servers.rs"]
mod servers;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use driftlint_charts::{ChartCache, ChartLocator};
use servers::{FileServer, Registry};

fn chart_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/chart-repo")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(chart_repo().join(name)).unwrap()
}

/// A repository with `files` (path → text) and a `.git` marker.
fn repo(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

const ALLOW_INSECURE: &str = "charts:\n  allowInsecure: true\n";

fn helm_repository(name: &str, url: &str, extra: &str) -> String {
    format!(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  url: {url}\n  insecure: true\n{extra}---\n"
    )
}

fn helm_release(name: &str, chart: &str, version: &str, source: &str) -> String {
    format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {name}\n  namespace: apps\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: {chart}\n      version: \"{version}\"\n      sourceRef:\n        kind: HelmRepository\n        name: {source}\n        namespace: flux-system\n---\n"
    )
}

fn pull(repo: &Path, cache: &Path, extra: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("driftlint")
        .unwrap()
        .args(["charts", "pull"])
        .arg(repo)
        .arg("--cache-dir")
        .arg(cache)
        .args(extra)
        .env_remove("DOCKER_CONFIG")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    eprintln!("{stderr}");
    (out.status.code().unwrap(), stderr)
}

fn http_repo_files(url: &str) -> Vec<(&'static str, String)> {
    let mut apps = helm_repository("charts", url, "");
    apps += &helm_release("podinfo", "podinfo", "6.x", "charts");
    apps += &helm_release("podinfo-old", "podinfo", "6.13.0", "charts");
    apps += &helm_release("redis", "redis", ">=3.0.0 <4.0.0", "charts");
    vec![
        (".driftlint.yaml", ALLOW_INSECURE.to_string()),
        ("apps/releases.yaml", apps),
    ]
}

#[test]
fn pulls_from_a_loopback_helm_repository_then_serves_from_the_cache() {
    let server = FileServer::start(&chart_repo(), BTreeMap::new());
    let repo = repo(&http_repo_files(&server.url()));
    let cache = tempfile::tempdir().unwrap();
    let (code, err) = pull(repo.path(), cache.path(), &["--allow-private-registries"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("3 charts: 3 pulled, 0 cached, 0 failed"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "pulled {}/podinfo 6.14.1 (sha256:4120494aa9eabf610bb18a0b33d116333d65eb623161edfea42836d4d61972d2) for apps/releases.yaml:19:14",
            server.url()
        )),
        "{err}"
    );
    let c = ChartCache::new(cache.path());
    let podinfo = ChartLocator::http(&server.url(), "podinfo").unwrap();
    let index = c.index(&podinfo).unwrap().unwrap();
    assert_eq!(index.versions, ["6.14.1", "6.13.0"]);
    let got = c.archive(&podinfo, "6.13.0").unwrap().unwrap();
    assert_eq!(got, fixture("podinfo-6.13.0.tgz"));
    let redis = ChartLocator::http(&server.url(), "redis").unwrap();
    assert_eq!(
        c.archive(&redis, "3.6.5").unwrap().unwrap(),
        fixture("redis-3.6.5.tgz")
    );
    // one index.yaml for the three charts
    let index_gets = |s: &FileServer| {
        let log = s.requests.lock().unwrap();
        log.iter().filter(|p| *p == "/index.yaml").count()
    };
    assert_eq!(index_gets(&server), 1);

    let (code, err) = pull(repo.path(), cache.path(), &["--allow-private-registries"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("3 charts: 0 pulled, 3 cached, 0 failed"),
        "{err}"
    );
    let archives = server.requests.lock().unwrap();
    assert_eq!(archives.iter().filter(|p| p.ends_with(".tgz")).count(), 3);
}

#[test]
fn private_addresses_plain_http_and_unnamed_hosts_are_refused() {
    let server = FileServer::start(&chart_repo(), BTreeMap::new());
    let cache = tempfile::tempdir().unwrap();
    let repo = repo(&http_repo_files(&server.url()));
    let (code, err) = pull(repo.path(), cache.path(), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("resolves to 127.0.0.1, a loopback, private or link-local address (pass --allow-private-registries to allow)"), "{err}");
    assert!(
        server.requests.lock().unwrap().is_empty(),
        "nothing may be fetched"
    );

    // plain http needs charts.allowInsecure as well as `insecure: true`
    let mut files = http_repo_files(&server.url());
    files[0].1 = String::new();
    let repo = self::repo(&files);
    let (code, err) = pull(repo.path(), cache.path(), &["--allow-private-registries"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("plain http needs `insecure: true`"), "{err}");
    assert!(server.requests.lock().unwrap().is_empty());
}

#[test]
fn archive_urls_and_redirects_obey_the_host_rules() {
    // an index whose archive URL is absolute on a host the repository does not name, and a
    // redirect to another host: both refused before any connection to those hosts
    let dir = tempfile::tempdir().unwrap();
    let other = FileServer::start(&chart_repo(), BTreeMap::new());
    let index = std::fs::read_to_string(chart_repo().join("index.yaml")).unwrap();
    let index = index
        .replace(
            "- podinfo-6.14.1.tgz",
            &format!("- {}/podinfo-6.14.1.tgz", other.url()),
        )
        .replace("- redis-3.6.5.tgz", "- moved/redis-3.6.5.tgz");
    std::fs::write(dir.path().join("index.yaml"), index).unwrap();
    for f in [
        "podinfo-6.13.0.tgz",
        "podinfo-6.14.1.tgz",
        "redis-3.6.5.tgz",
    ] {
        std::fs::copy(chart_repo().join(f), dir.path().join(f)).unwrap();
    }
    let redirects = BTreeMap::from([(
        "/moved/redis-3.6.5.tgz".to_string(),
        "http://169.254.169.254/latest/meta-data".to_string(),
    )]);
    let server = FileServer::start(dir.path(), redirects);
    let repo = repo(&http_repo_files(&server.url()));
    let cache = tempfile::tempdir().unwrap();
    let (code, err) = pull(repo.path(), cache.path(), &["--allow-private-registries"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "host 127.0.0.1:{} is not named by a HelmRepository/OCIRepository",
            other.port
        )),
        "{err}"
    );
    assert!(err.contains("host 169.254.169.254 is not named"), "{err}");
    assert!(
        err.contains("3 charts: 1 pulled, 0 cached, 2 failed"),
        "{err}"
    );
    assert!(other.requests.lock().unwrap().is_empty());
}

#[test]
fn a_tampered_archive_is_refused_by_its_index_digest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        chart_repo().join("index.yaml"),
        dir.path().join("index.yaml"),
    )
    .unwrap();
    for f in ["podinfo-6.13.0.tgz", "redis-3.6.5.tgz"] {
        std::fs::copy(chart_repo().join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(dir.path().join("podinfo-6.14.1.tgz"), b"not the chart").unwrap();
    let server = FileServer::start(dir.path(), BTreeMap::new());
    let repo = repo(&http_repo_files(&server.url()));
    let cache = tempfile::tempdir().unwrap();
    let (code, err) = pull(repo.path(), cache.path(), &["--allow-private-registries"]);
    assert_eq!(code, 2);
    assert!(err.contains("6.14.1: digest sha256:"), "{err}");
    let podinfo = ChartLocator::http(&server.url(), "podinfo").unwrap();
    assert!(ChartCache::new(cache.path())
        .archive(&podinfo, "6.14.1")
        .unwrap()
        .is_none());
}

#[test]
fn check_pull_charts_pulls_then_checks() {
    let server = FileServer::start(&chart_repo(), BTreeMap::new());
    let repo = repo(&http_repo_files(&server.url()));
    let cache = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("driftlint")
        .unwrap()
        .arg("check")
        .arg(repo.path())
        .args([
            "--pull-charts",
            "--allow-private-registries",
            "--format",
            "json",
            "--cache-dir",
        ])
        .arg(cache.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("3 charts: 3 pulled"), "{err}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.get("findings").is_some(), "{json}");
    let podinfo = ChartLocator::http(&server.url(), "podinfo").unwrap();
    assert!(ChartCache::new(cache.path())
        .archive(&podinfo, "6.14.1")
        .unwrap()
        .is_some());
}

// ---- the real OCI registry ----

fn oci_repo_files(host: &str, digest: &str) -> Vec<(&'static str, String)> {
    let oci_repo = |name: &str, chart: &str, reference: &str| {
        format!(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: {name}\n  namespace: apps\nspec:\n  interval: 10m\n  url: oci://{host}/charts/{chart}\n  insecure: true\n  ref:\n    {reference}\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {name}\n  namespace: apps\nspec:\n  interval: 10m\n  chartRef:\n    kind: OCIRepository\n    name: {name}\n---\n"
        )
    };
    let mut apps = helm_repository(
        "oci-charts",
        &format!("oci://{host}/charts"),
        "  type: oci\n",
    );
    apps += &helm_release("redis", "redis", "3.x", "oci-charts");
    apps += &oci_repo("podinfo-semver", "podinfo", "semver: \">=6.0.0 <6.14.0\"");
    apps += &oci_repo("podinfo-digest", "podinfo", &format!("digest: {digest}"));
    apps += &oci_repo("podinfo-tag", "podinfo", "tag: 6.14.1");
    vec![
        (".driftlint.yaml", ALLOW_INSECURE.to_string()),
        ("apps/oci.yaml", apps),
    ]
}

fn push_fixtures(reg: &Registry, auth: Option<&str>) -> String {
    reg.push(
        "charts/podinfo",
        "podinfo",
        "6.13.0",
        &fixture("podinfo-6.13.0.tgz"),
        auth,
    );
    let digest = reg.push(
        "charts/podinfo",
        "podinfo",
        "6.14.1",
        &fixture("podinfo-6.14.1.tgz"),
        auth,
    );
    reg.push(
        "charts/redis",
        "redis",
        "3.6.5",
        &fixture("redis-3.6.5.tgz"),
        auth,
    );
    digest
}

#[test]
fn pulls_tags_semver_and_digests_from_a_real_oci_registry() {
    let Some(bin) = servers::registry_binary() else {
        return;
    };
    let reg = Registry::start(&bin, None);
    let digest = push_fixtures(&reg, None);
    let repo = repo(&oci_repo_files(&reg.host(), &digest));
    let cache = tempfile::tempdir().unwrap();
    let (code, err) = pull(repo.path(), cache.path(), &["--allow-private-registries"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("4 charts: 4 pulled, 0 cached, 0 failed"),
        "{err}"
    );
    let c = ChartCache::new(cache.path());
    let podinfo = ChartLocator::oci(&format!("oci://{}/charts", reg.host()), "podinfo").unwrap();
    assert_eq!(
        c.archive(&podinfo, "6.13.0").unwrap().unwrap(),
        fixture("podinfo-6.13.0.tgz")
    );
    assert_eq!(
        c.archive(&podinfo, "6.14.1").unwrap().unwrap(),
        fixture("podinfo-6.14.1.tgz")
    );
    assert_eq!(
        c.archive(&podinfo, &digest).unwrap().unwrap(),
        fixture("podinfo-6.14.1.tgz")
    );
    let redis = ChartLocator::oci(&format!("oci://{}/charts", reg.host()), "redis").unwrap();
    assert_eq!(
        c.archive(&redis, "3.6.5").unwrap().unwrap(),
        fixture("redis-3.6.5.tgz")
    );
    let index = c.index(&podinfo).unwrap().unwrap();
    assert!(index.versions.contains(&"6.13.0".to_string()), "{index:?}");

    let (code, err) = pull(repo.path(), cache.path(), &["--allow-private-registries"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("4 charts: 0 pulled, 4 cached, 0 failed"),
        "{err}"
    );
}

#[test]
fn an_insecure_source_without_allow_insecure_fails_at_once_saying_why() {
    let Some(bin) = servers::registry_binary() else {
        return;
    };
    let reg = Registry::start(&bin, None);
    let digest = push_fixtures(&reg, None);
    let mut files = oci_repo_files(&reg.host(), &digest);
    files.retain(|(name, _)| *name != ".driftlint.yaml");
    let repo = repo(&files);
    let cache = tempfile::tempdir().unwrap();
    let (code, err) = pull(repo.path(), cache.path(), &["--allow-private-registries"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("4 charts: 0 pulled, 0 cached, 4 failed"),
        "{err}"
    );
    assert!(err.contains("charts.allowInsecure: true"), "{err}");
}

/// `charts pull` (private registries allowed) with `--registry-config` holding `json`.
fn pull_with_registry_config(repo: &Path, cache: &Path, json: &str) -> (i32, String) {
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), json).unwrap();
    let flags = [
        "--allow-private-registries",
        "--registry-config",
        config.path().to_str().unwrap(),
    ];
    pull(repo, cache, &flags)
}

#[test]
fn registry_credentials_come_from_the_registry_config_and_are_never_printed() {
    let Some(bin) = servers::registry_binary() else {
        return;
    };
    let hash = bcrypt::hash("s3cret-pw", 4).unwrap();
    let reg = Registry::start(&bin, Some(&format!("ci:{hash}")));
    let basic = format!("Basic {}", data_encoding::BASE64.encode(b"ci:s3cret-pw"));
    let digest = push_fixtures(&reg, Some(&basic));
    let repo = repo(&oci_repo_files(&reg.host(), &digest));
    let cache = tempfile::tempdir().unwrap();
    let (code, err) = pull(repo.path(), cache.path(), &["--allow-private-registries"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("the registry asks for credentials and none are configured"),
        "{err}"
    );

    let wrong_auth = data_encoding::BASE64.encode(b"ci:wrong-pw");
    let (code, err) = pull_with_registry_config(
        repo.path(),
        cache.path(),
        &format!(
            r#"{{"auths":{{"{}":{{"auth":"{wrong_auth}"}}}}}}"#,
            reg.host()
        ),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        !err.contains("wrong-pw") && !err.contains(&wrong_auth),
        "{err}"
    );

    let (code, err) = pull_with_registry_config(
        repo.path(),
        cache.path(),
        &format!(
            r#"{{"auths":{{"http://{}":{{"username":"ci","password":"s3cret-pw"}}}}}}"#,
            reg.host()
        ),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("4 charts: 4 pulled"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn charts_pushed_by_the_reference_helm_are_pulled_byte_for_byte() {
    let Some(bin) = servers::registry_binary() else {
        return;
    };
    let Some(helm) = servers::reference_helm() else {
        eprintln!("skipped: the reference helm is not installed (shared/tools/install-reference-tools); the other registry tests push as helm push does");
        return;
    };
    let reg = Registry::start(&bin, None);
    let home = tempfile::tempdir().unwrap();
    for f in ["podinfo-6.14.1.tgz", "redis-3.6.5.tgz"] {
        let out = std::process::Command::new(&helm)
            .args(["push", chart_repo().join(f).to_str().unwrap()])
            .arg(format!("oci://{}/charts", reg.host()))
            .arg("--plain-http")
            .env("HOME", home.path())
            .env("HELM_REGISTRY_CONFIG", home.path().join("config.json"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut apps = helm_repository(
        "oci-charts",
        &format!("oci://{}/charts", reg.host()),
        "  type: oci\n",
    );
    apps += &helm_release("podinfo", "podinfo", "6.14.1", "oci-charts");
    apps += &helm_release("redis", "redis", "3.6.5", "oci-charts");
    let repo = repo(&[
        (".driftlint.yaml", ALLOW_INSECURE.to_string()),
        ("apps/oci.yaml", apps),
    ]);
    let cache = tempfile::tempdir().unwrap();
    let (code, err) = pull(repo.path(), cache.path(), &["--allow-private-registries"]);
    assert_eq!(code, 0, "{err}");
    let c = ChartCache::new(cache.path());
    let source = format!("oci://{}/charts", reg.host());
    let podinfo = ChartLocator::oci(&source, "podinfo").unwrap();
    assert_eq!(
        c.archive(&podinfo, "6.14.1").unwrap().unwrap(),
        fixture("podinfo-6.14.1.tgz")
    );
}

#[test]
fn dry_run_lists_the_charts_and_contacts_nothing() {
    let server = FileServer::start(&chart_repo(), BTreeMap::new());
    let mut files = http_repo_files(&server.url());
    files[1].1 += &helm_release("gone", "x", "1.0.0", "no-such-repository");
    files.push((
        "kustomize/kustomization.yaml",
        "helmCharts:\n  - name: minecraft\n    repo: https://itzg.github.io/minecraft-server-charts\n    version: 4.26.3\n".into(),
    ));
    let repo = repo(&files);
    let cache = tempfile::tempdir().unwrap();
    let (code, err) = pull(repo.path(), cache.path(), &["--dry-run"]);
    assert_eq!(code, 0, "{err}");
    let url = server.url();
    assert!(
        err.contains(&format!(
            "would pull {url}/podinfo 6.x for apps/releases.yaml:19:14"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("would pull {url}/redis >=3.0.0 <4.0.0 for")),
        "{err}"
    );
    assert!(
        err.contains("would pull https://itzg.github.io/minecraft-server-charts/minecraft 4.26.3 for kustomize/kustomization.yaml:3:11"),
        "{err}"
    );
    assert!(err.contains("skipped apps/releases.yaml:67:14: sourceRef HelmRepository \"no-such-repository\" is not in the repository"), "{err}");
    assert!(
        err.contains(
            "4 charts to pull (dry run: nothing contacted); 1 references without a source"
        ),
        "{err}"
    );
    assert!(server.requests.lock().unwrap().is_empty());
    assert!(!cache.path().join("charts").exists());
}

#[test]
fn helmfile_releases_charts_are_pulled_then_rendered_from_the_cache() {
    let server = FileServer::start(&chart_repo(), BTreeMap::new());
    let state = format!(
        "repositories:\n  - name: charts\n    url: {}\nreleases:\n  - name: web\n    namespace: shop\n    chart: charts/podinfo\n    version: ~6.13.0\n  - name: cache\n    chart: charts/redis\n",
        server.url()
    );
    let repo = repo(&[
        (".driftlint.yaml", ALLOW_INSECURE.to_string()),
        ("helmfile.yaml", state),
    ]);
    let cache = tempfile::tempdir().unwrap();
    let (code, err) = pull(repo.path(), cache.path(), &["--dry-run"]);
    assert_eq!(code, 0, "{err}");
    let url = server.url();
    for line in [
        format!("would pull {url}/podinfo ~6.13.0 for helmfile.yaml:7:12"),
        format!("would pull {url}/redis * for helmfile.yaml:10:12"),
        "2 charts to pull (dry run: nothing contacted)".to_string(),
    ] {
        assert!(err.contains(&line), "{line}\n{err}");
    }
    let (code, err) = pull(repo.path(), cache.path(), &["--allow-private-registries"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("2 charts: 2 pulled, 0 cached, 0 failed"),
        "{err}"
    );
    let out = Command::cargo_bin("driftlint")
        .unwrap()
        .args(["check", "--format", "json", "--cache-dir"])
        .arg(cache.path())
        .arg(repo.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(
        !codes
            .iter()
            .any(|c| ["CHART001", "RENDER001", "RENDER002"].contains(c)),
        "{codes:?}"
    );
    let build = Command::cargo_bin("driftlint")
        .unwrap()
        .args(["build", "--cache-dir"])
        .arg(cache.path())
        .args(["--unit", "helmfile.yaml (release shop/web)"])
        .arg(repo.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&build.stdout);
    assert!(text.contains("helm.sh/chart: podinfo-6.13.0"), "{text}");
}
