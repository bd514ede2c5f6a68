//! What charts a repository references: a pure function from rendered objects (Flux
//! `HelmRepository`, `OCIRepository`, `HelmChart`, `HelmRelease`; Argo CD `Application` helm
//! sources, [`argocd`]) and kustomization files (`helmCharts` with a `repo`) to
//! [`ChartRequest`]s.
//!
//! Mirrors how Flux finds a release's chart: helm-controller's `spec.chart.spec` (a
//! `HelmChart` template: `chart`, `version`, `sourceRef` to a `HelmRepository`, the namespace
//! defaulting to the release's) and `spec.chartRef` (an `OCIRepository` with
//! `ref.digest` > `ref.semver` > `ref.tag` > `latest`, as source-controller picks; or a
//! `HelmChart`). A source is looked up by namespace and name; an object without a namespace
//! (most files inside a Flux Kustomization leave it to `targetNamespace`) matches any namespace
//! when its name is unique.

use std::collections::{BTreeMap, BTreeSet};

use driftlint_yaml::{Node, Origin};

use crate::locator::{ChartLocator, LocatorError};

mod argocd;
pub use argocd::argo_locator;

/// Which version of a chart is wanted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Wanted {
    /// A semver range or exact version (Masterminds syntax; empty = the highest stable),
    /// resolved with [`crate::resolve_version`] over the versions the source offers.
    Range(String),
    /// An OCI tag taken verbatim (`OCIRepository` `ref.tag`, default `latest`).
    Tag(String),
    /// An OCI manifest digest (`OCIRepository` `ref.digest`); the archive is cached under
    /// the digest text (`sha256:<hex>`) as its version.
    Digest(String),
}

impl std::fmt::Display for Wanted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Wanted::Range(r) if r.is_empty() => f.write_str("*"),
            Wanted::Range(r) | Wanted::Tag(r) | Wanted::Digest(r) => f.write_str(r),
        }
    }
}

/// One chart the repository needs, and where it is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartRequest {
    /// The chart and its source.
    pub locator: ChartLocator,
    /// The version asked for.
    pub wanted: Wanted,
    /// The source object says `spec.insecure: true` (plain HTTP allowed if the config allows).
    pub insecure: bool,
    /// Where the chart is asked for: the `HelmRelease` `chart`/`chartRef` line, the
    /// `helmCharts` entry.
    pub declared: Origin,
}

/// A chart reference that cannot become a request (unknown source, bad URL...), with where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    /// The line of the reference.
    pub origin: Origin,
    /// Why, one line.
    pub reason: String,
}

/// What [`collect`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Collected {
    /// Requests, deduplicated by (locator, wanted), in first-seen order.
    pub requests: Vec<ChartRequest>,
    /// References that name no usable source. A `GitRepository`/`Bucket` source is not a
    /// pull (the chart is a folder) and is not listed.
    pub unresolved: Vec<Unresolved>,
    /// `host[:port]` of every `HelmRepository`/`OCIRepository` URL in the objects (the hosts a
    /// pull may contact, before the configuration's allow-list).
    pub source_hosts: BTreeSet<String>,
}

/// A Flux source object: its URL, type and `insecure`.
struct Source<'a> {
    kind: &'a str,
    obj: &'a Node,
}

/// Sources by (namespace, name); the namespace is "" when the object names none.
type SourceMap<'a> = BTreeMap<(String, String), Vec<Source<'a>>>;

/// Collects the chart requests of `objects` (rendered, in any order) and of the parsed
/// kustomization files `kustomizations` (their `helmCharts` entries with a `repo`).
pub fn collect<'a>(
    objects: impl IntoIterator<Item = &'a Node>,
    kustomizations: impl IntoIterator<Item = &'a Node>,
) -> Collected {
    let objects: Vec<&Node> = objects.into_iter().collect();
    let mut sources = SourceMap::new();
    let mut out = Collected::default();
    for obj in &objects {
        let kind = obj.str_at(&["kind"]).unwrap_or("");
        if !is_flux_source(obj, kind) {
            continue;
        }
        if let Some(url) = obj.str_at(&["spec", "url"]) {
            if let Some(host) = url_host(url) {
                out.source_hosts.insert(host);
            }
        }
        let key = (namespace(obj).to_string(), name(obj).to_string());
        sources.entry(key).or_default().push(Source { kind, obj });
    }
    for obj in &objects {
        release_requests(obj, &sources, &mut out);
        argocd::application_requests(obj, &mut out);
    }
    for k in kustomizations {
        kustomize_requests(k, &mut out);
    }
    out
}

fn is_flux_source(obj: &Node, kind: &str) -> bool {
    let api = obj.str_at(&["apiVersion"]).unwrap_or("");
    api.starts_with("source.toolkit.fluxcd.io/")
        && matches!(kind, "HelmRepository" | "OCIRepository" | "HelmChart")
}

fn namespace(obj: &Node) -> &str {
    obj.str_at(&["metadata", "namespace"]).unwrap_or("")
}

fn name(obj: &Node) -> &str {
    obj.str_at(&["metadata", "name"]).unwrap_or("")
}

/// `host[:port]` of a URL, lowercased; None without `scheme://`.
pub(crate) fn url_host(url: &str) -> Option<String> {
    let rest = url.trim().split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn push(out: &mut Collected, req: ChartRequest) {
    let dup = out
        .requests
        .iter()
        .any(|r| r.locator == req.locator && r.wanted == req.wanted);
    if !dup {
        out.requests.push(req);
    }
}

/// A request for the `version` range of `locator` (empty: the highest stable) over https,
/// asked for at `declared`.
pub(crate) fn push_range(
    out: &mut Collected,
    locator: ChartLocator,
    version: &str,
    declared: Origin,
) {
    push(
        out,
        ChartRequest {
            locator,
            wanted: Wanted::Range(version.to_string()),
            insecure: false,
            declared,
        },
    );
}

fn unresolved(out: &mut Collected, origin: &Origin, reason: String) {
    out.unresolved.push(Unresolved {
        origin: origin.clone(),
        reason,
    });
}

fn release_requests(obj: &Node, sources: &SourceMap<'_>, out: &mut Collected) {
    let api = obj.str_at(&["apiVersion"]).unwrap_or("");
    let kind = obj.str_at(&["kind"]).unwrap_or("");
    let ns = namespace(obj);
    if api.starts_with("helm.toolkit.fluxcd.io/") && kind == "HelmRelease" {
        if let Some(spec) = obj.get_path(&["spec", "chart", "spec"]) {
            chart_spec_request(spec, ns, sources, out);
        } else if let Some(r) = obj.get_path(&["spec", "chartRef"]) {
            chart_ref_request(r, ns, sources, out);
        }
    } else if api.starts_with("source.toolkit.fluxcd.io/") && kind == "HelmChart" {
        if let Some(spec) = obj.get("spec") {
            chart_spec_request(spec, ns, sources, out);
        }
    }
}

/// The sources a `sourceRef`/`chartRef` may name: those of the reference's namespace
/// (default `ns`), else those of that name without a namespace, else those of that name in any
/// namespace; one per distinct spec. The objects of every target are pooled, so a repository
/// with several clusters holds the same source once per cluster (one candidate), or variants
/// of it (each is pulled: the cache must hold what any cluster may render).
fn find_sources<'s, 'a>(
    sources: &'s SourceMap<'a>,
    kind: &str,
    reference: &Node,
    ns: &str,
) -> Vec<&'s Source<'a>> {
    let Some(name) = reference.str_at(&["name"]) else {
        return Vec::new();
    };
    let ns = reference.str_at(&["namespace"]).unwrap_or(ns);
    let of_kind = |key: &(String, String)| -> Vec<&'s Source<'a>> {
        sources
            .get(key)
            .map(|v| v.iter().filter(|s| s.kind == kind).collect())
            .unwrap_or_default()
    };
    let mut found = of_kind(&(ns.to_string(), name.to_string()));
    if found.is_empty() {
        found = of_kind(&(String::new(), name.to_string()));
    }
    if found.is_empty() {
        found = sources
            .iter()
            .filter(|((_, n), _)| n == name)
            .flat_map(|(_, v)| v.iter().filter(|s| s.kind == kind))
            .collect();
    }
    let mut seen = BTreeSet::new();
    found.retain(|s| seen.insert(signature(s.obj)));
    found
}

/// What of a source decides the chart: URL, type, `insecure` and `ref`.
fn signature(obj: &Node) -> String {
    let at = |p: &[&str]| obj.get_path(p).and_then(Node::scalar_text).unwrap_or("");
    [
        at(&["spec", "url"]),
        at(&["spec", "type"]),
        at(&["spec", "insecure"]),
        at(&["spec", "ref", "tag"]),
        at(&["spec", "ref", "semver"]),
        at(&["spec", "ref", "digest"]),
    ]
    .join("|")
}

fn chart_spec_request(spec: &Node, ns: &str, sources: &SourceMap<'_>, out: &mut Collected) {
    let origin = spec.get("chart").unwrap_or(spec).origin.clone();
    let Some(chart) = spec.str_at(&["chart"]) else {
        return;
    };
    let Some(reference) = spec.get("sourceRef") else {
        return;
    };
    let kind = reference.str_at(&["kind"]).unwrap_or("");
    if kind != "HelmRepository" {
        return; // GitRepository/Bucket: a chart folder, not a pull
    }
    let found = find_sources(sources, kind, reference, ns);
    if found.is_empty() {
        let name = reference.str_at(&["name"]).unwrap_or("");
        let reason = format!("sourceRef HelmRepository {name:?} is not in the repository");
        return unresolved(out, &origin, reason);
    }
    let version = spec.str_at(&["version"]).unwrap_or("");
    for src in found {
        helm_repository_request(src.obj, chart, version, &origin, out);
    }
}

fn helm_repository_request(
    src: &Node,
    chart: &str,
    version: &str,
    origin: &Origin,
    out: &mut Collected,
) {
    match helm_repository_chart(src, chart) {
        Ok(locator) => push(
            out,
            ChartRequest {
                locator,
                wanted: Wanted::Range(version.to_string()),
                insecure: insecure(src),
                declared: origin.clone(),
            },
        ),
        Err(e) => unresolved(out, origin, e.to_string()),
    }
}

/// The chart `chart` of the Flux `HelmRepository` object `repo`, as source-controller reads
/// it: an OCI registry when `spec.type` is `oci` (or the URL is `oci://...`), else a Helm
/// HTTP repository at `spec.url`.
///
/// Errors: a URL [`ChartLocator`] refuses.
pub fn helm_repository_chart(repo: &Node, chart: &str) -> Result<ChartLocator, LocatorError> {
    let url = repo.str_at(&["spec", "url"]).unwrap_or("");
    if repo.str_at(&["spec", "type"]) == Some("oci") {
        ChartLocator::oci(url, chart)
    } else {
        ChartLocator::of_repo(url, chart)
    }
}

/// The chart of the Flux `OCIRepository` object `repo` and the version it selects, as
/// source-controller picks: `spec.ref.digest`, else `spec.ref.semver`, else `spec.ref.tag`,
/// else the tag `latest`. (Numbers count: `tag: 1.2` is the tag `1.2`.)
///
/// Errors: a URL [`ChartLocator`] refuses.
pub fn oci_repository_chart(repo: &Node) -> Result<(ChartLocator, Wanted), LocatorError> {
    let url = repo.str_at(&["spec", "url"]).unwrap_or("");
    let at = |k: &str| {
        repo.get_path(&["spec", "ref", k])
            .and_then(Node::scalar_text)
            .filter(|s| !s.is_empty())
    };
    let wanted = if let Some(d) = at("digest") {
        Wanted::Digest(d.to_string())
    } else if let Some(s) = at("semver") {
        Wanted::Range(s.to_string())
    } else {
        Wanted::Tag(at("tag").unwrap_or("latest").to_string())
    };
    Ok((ChartLocator::oci_chart_url(url)?, wanted))
}

fn insecure(obj: &Node) -> bool {
    obj.get_path(&["spec", "insecure"])
        .and_then(Node::scalar_text)
        .is_some_and(|t| t == "true")
}

fn chart_ref_request(r: &Node, ns: &str, sources: &SourceMap<'_>, out: &mut Collected) {
    let origin = r.origin.clone();
    let kind = r.str_at(&["kind"]).unwrap_or("");
    if kind != "OCIRepository" {
        return; // HelmChart: collected from the HelmChart object itself
    }
    let found = find_sources(sources, kind, r, ns);
    if found.is_empty() {
        let name = r.str_at(&["name"]).unwrap_or("");
        let reason = format!("chartRef OCIRepository {name:?} is not in the repository");
        return unresolved(out, &origin, reason);
    }
    for src in found {
        oci_repository_request(src.obj, &origin, out);
    }
}

fn oci_repository_request(src: &Node, origin: &Origin, out: &mut Collected) {
    match oci_repository_chart(src) {
        Ok((locator, wanted)) => push(
            out,
            ChartRequest {
                locator,
                wanted,
                insecure: insecure(src),
                declared: origin.clone(),
            },
        ),
        Err(e) => unresolved(out, origin, e.to_string()),
    }
}

/// `helmCharts` entries with a `repo` (kustomize pulls `name` `version` from `repo`, an
/// HTTP repository or an `oci://` base, as `helm pull --repo`).
fn kustomize_requests(k: &Node, out: &mut Collected) {
    let Some(charts) = k.get("helmCharts").and_then(Node::as_seq) else {
        return;
    };
    for c in charts {
        let (Some(repo), Some(name)) = (c.str_at(&["repo"]), c.str_at(&["name"])) else {
            continue;
        };
        let origin = c.get("repo").map_or(&c.origin, |n| &n.origin).clone();
        match ChartLocator::of_repo(repo, name) {
            Ok(locator) => {
                out.source_hosts.extend(url_host(repo));
                let version = c.str_at(&["version"]).unwrap_or("");
                push_range(out, locator, version, origin);
            }
            Err(e) => unresolved(out, &origin, e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::parse_documents;

    fn docs(text: &str) -> Vec<Node> {
        parse_documents("repo.yaml".into(), text).unwrap()
    }

    const REPO: &str = r#"
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: podinfo, namespace: flux-system}
spec: {url: "https://stefanprodan.github.io/podinfo"}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: ghcr}
spec: {type: oci, url: "oci://ghcr.io/org/charts", insecure: true}
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata: {name: podinfo-oci, namespace: apps}
spec:
  url: oci://127.0.0.1:5000/charts/podinfo
  ref: {semver: ">=6.0.0"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: a, namespace: apps}
spec:
  chart:
    spec:
      chart: podinfo
      version: 6.5.x
      sourceRef: {kind: HelmRepository, name: podinfo, namespace: flux-system}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: b, namespace: apps}
spec:
  chart:
    spec: {chart: redis, sourceRef: {kind: HelmRepository, name: ghcr}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: c, namespace: apps}
spec:
  chartRef: {kind: OCIRepository, name: podinfo-oci}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: d, namespace: apps}
spec:
  chart:
    spec: {chart: x, sourceRef: {kind: HelmRepository, name: missing}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: e, namespace: apps}
spec:
  chart:
    spec: {chart: ./charts/app, sourceRef: {kind: GitRepository, name: flux-system}}
"#;

    #[test]
    fn helm_releases_resolve_their_sources() {
        let objs = docs(REPO);
        let c = collect(&objs, []);
        let got: Vec<String> = c
            .requests
            .iter()
            .map(|r| {
                let line = r.declared.line;
                format!(
                    "{} {} {} {line}",
                    r.locator.canonical(),
                    r.wanted,
                    r.insecure
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                "http|https://stefanprodan.github.io/podinfo|podinfo 6.5.x false 25",
                "oci|oci://ghcr.io/org/charts|redis * true 34",
                "oci|oci://127.0.0.1:5000/charts|podinfo >=6.0.0 false 40",
            ]
        );
        assert_eq!(c.unresolved.len(), 1);
        assert!(c.unresolved[0].reason.contains("\"missing\""));
        let hosts: Vec<&str> = c.source_hosts.iter().map(String::as_str).collect();
        assert_eq!(
            hosts,
            ["127.0.0.1:5000", "ghcr.io", "stefanprodan.github.io"]
        );
    }

    #[test]
    fn a_source_repeated_per_cluster_is_one_source_and_variants_are_each_pulled() {
        let source = |url: &str| {
            format!("apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {{name: p, namespace: a}}\nspec: {{url: \"{url}\"}}\n---\n")
        };
        let release = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: r, namespace: a}\nspec: {chart: {spec: {chart: c, sourceRef: {kind: HelmRepository, name: p}}}}\n";
        let same = docs(&format!(
            "{}{}{release}",
            source("https://a.io"),
            source("https://a.io")
        ));
        let c = collect(&same, []);
        assert_eq!(c.requests.len(), 1);
        assert!(c.unresolved.is_empty());
        let variants = docs(&format!(
            "{}{}{release}",
            source("https://a.io"),
            source("https://b.io")
        ));
        let c = collect(&variants, []);
        let hosts: Vec<&str> = c.requests.iter().map(|r| r.locator.host()).collect();
        assert_eq!(hosts, ["a.io", "b.io"]);
    }

    #[test]
    fn oci_repository_refs_in_flux_order() {
        let objs = docs(
            r#"
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: o}
spec: {url: oci://r.io/c/app, ref: {tag: "1.0", digest: "sha256:abc"}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: p}
spec: {url: oci://r.io/c/other}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: x}
spec: {chartRef: {kind: OCIRepository, name: o}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: y}
spec: {chartRef: {kind: OCIRepository, name: p}}
"#,
        );
        let c = collect(&objs, []);
        assert_eq!(c.requests[0].wanted, Wanted::Digest("sha256:abc".into()));
        assert_eq!(c.requests[1].wanted, Wanted::Tag("latest".into()));
    }

    #[test]
    fn a_tag_written_as_a_number_is_that_tag_as_rendering_reads_it() {
        let objs = docs(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata: {name: o}\nspec: {url: oci://r.io/c/app, ref: {tag: 1.2}}\n",
        );
        let (loc, wanted) = oci_repository_chart(&objs[0]).unwrap();
        assert_eq!(
            (loc.chart.as_str(), wanted),
            ("app", Wanted::Tag("1.2".into()))
        );
    }

    #[test]
    fn kustomize_helm_charts_with_a_repo() {
        let k = docs(
            r#"
helmCharts:
- {name: minecraft, repo: "https://itzg.github.io/minecraft-server-charts", version: 3.1.3}
- {name: local}
- {name: "../x", repo: "https://h.io"}
"#,
        );
        let c = collect([], &k);
        assert_eq!(c.requests.len(), 1);
        assert_eq!(c.requests[0].wanted, Wanted::Range("3.1.3".into()));
        assert_eq!(c.requests[0].declared.line, 3);
        assert_eq!(c.unresolved.len(), 1);
        assert!(c.source_hosts.contains("itzg.github.io"));
    }
}
