//! Argo CD `Application` helm sources whose chart comes from a Helm repository or an OCI
//! registry (`spec.source`, and each `spec.sources[]` entry, with `chart` and `repoURL`), as
//! the repo-server fetches them (argo-cd `reposerver/repository`, `util/helm`).

use driftlint_yaml::{Node, Origin};

use super::{push_range, unresolved, url_host, Collected};
use crate::locator::{ChartLocator, LocatorError};

/// The chart of an Argo CD helm source: `repoURL` with `https://`/`http://` is a Helm
/// repository; without a scheme an OCI registry (Argo CD's `helm.IsHelmOciRepo`: a URL
/// whose host part parses empty, as `enableOCI` repositories are written —
/// `ghcr.io/org/charts`); `oci://` is accepted as an OCI registry too.
///
/// Errors: [`LocatorError`] for another scheme, an empty URL or a bad chart name.
pub fn argo_locator(repo_url: &str, chart: &str) -> Result<ChartLocator, LocatorError> {
    let url = repo_url.trim();
    if url.starts_with("https://") || url.starts_with("http://") {
        ChartLocator::http(url, chart)
    } else if url.starts_with("oci://") {
        ChartLocator::oci(url, chart)
    } else if url.is_empty() || url.contains("://") {
        Err(LocatorError::Scheme {
            url: url.to_string(),
            kind: "Helm HTTP or OCI",
        })
    } else {
        ChartLocator::oci(&format!("oci://{url}"), chart)
    }
}

/// True for an Argo CD `Application`.
fn is_application(obj: &Node) -> bool {
    obj.str_at(&["kind"]) == Some("Application")
        && obj
            .str_at(&["apiVersion"])
            .is_some_and(|a| a.starts_with("argoproj.io/"))
}

/// The requests of one Application's helm sources with a `chart`; `targetRevision` is a
/// semver range over the versions the repository offers (empty: the highest stable), as
/// the repo-server resolves it.
pub(super) fn application_requests(obj: &Node, out: &mut Collected) {
    if !is_application(obj) {
        return;
    }
    let many = obj.get_path(&["spec", "sources"]).and_then(Node::as_seq);
    let sources: Vec<&Node> = match many {
        Some(list) if !list.is_empty() => list.iter().collect(),
        _ => obj.get_path(&["spec", "source"]).into_iter().collect(),
    };
    for s in sources {
        let (Some(chart), Some(url)) = (s.str_at(&["chart"]), s.str_at(&["repoURL"])) else {
            continue;
        };
        let origin: Origin = s.get("chart").unwrap_or(s).origin.clone();
        match argo_locator(url, chart) {
            Ok(locator) => {
                out.source_hosts.extend(url_host(&locator.source));
                let version = s.str_at(&["targetRevision"]).unwrap_or("");
                push_range(out, locator, version, origin);
            }
            Err(e) => unresolved(out, &origin, e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::collect;

    #[test]
    fn helm_and_oci_charts_of_single_and_multi_source_applications() {
        let text = r#"
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web}
spec:
  sources:
    - repoURL: https://stefanprodan.github.io/podinfo/
      chart: podinfo
      targetRevision: ">=6.0.0 <7"
    - repoURL: https://github.com/org/gitops.git
      ref: values
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: api}
spec:
  source: {repoURL: ghcr.io/stefanprodan/charts, chart: podinfo, targetRevision: 6.14.1}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: bad}
spec:
  source: {repoURL: "s3://bucket/charts", chart: podinfo}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: git}
spec:
  source: {repoURL: https://github.com/org/gitops.git, path: apps}
"#;
        let docs = driftlint_yaml::parse_documents("apps.yaml".into(), text).unwrap();
        let got = collect(docs.iter(), std::iter::empty());
        let reqs: Vec<(String, String, u32)> = got
            .requests
            .iter()
            .map(|r| (r.locator.to_string(), r.wanted.to_string(), r.declared.line))
            .collect();
        assert_eq!(
            reqs,
            [
                (
                    "https://stefanprodan.github.io/podinfo/podinfo".to_string(),
                    ">=6.0.0 <7".to_string(),
                    8
                ),
                (
                    "oci://ghcr.io/stefanprodan/charts/podinfo".to_string(),
                    "6.14.1".to_string(),
                    17
                ),
            ]
        );
        let hosts: Vec<&str> = got.source_hosts.iter().map(String::as_str).collect();
        assert_eq!(hosts, ["ghcr.io", "stefanprodan.github.io"]);
        assert_eq!(got.unresolved.len(), 1, "{:?}", got.unresolved);
        assert_eq!(got.unresolved[0].origin.line, 23);
    }
}
