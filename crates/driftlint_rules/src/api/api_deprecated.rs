//! API002 api-deprecated.
//!
//! ## What it does
//! Flags an object whose apiVersion/kind is deprecated at the target Kubernetes version
//! (`deprecated-in <= target`) and not yet removed (`removed-in` absent or later than the
//! target; removed APIs are API001), at its `apiVersion` line.
//!
//! ## Why
//! Deprecated APIs disappear in a later release: migrate before upgrading.
//!
//! ## Example
//! `apiVersion: v1`, `kind: Endpoints` on 1.33+ — use `discovery.k8s.io/v1` EndpointSlice.

use crate::{Hit, Scope};
use driftlint_yaml::Node;

use super::{advice, lifecycle};

pub(crate) const CODE: &str = "API002";
pub(crate) const META: &str = include_str!("../../../../rules/API002.yaml");

pub(crate) fn check(obj: &Node, scope: &Scope<'_>, out: &mut Vec<Hit>) {
    let (Some(av_node), Some(kind)) = (obj.get("apiVersion"), obj.str_at(&["kind"])) else {
        return;
    };
    let Some(api_version) = av_node.as_str() else {
        return;
    };
    let table = lifecycle(scope.ctx);
    let Some(entry) = table.find(api_version, kind) else {
        return;
    };
    let target = scope.ctx.kube_version;
    let Some(deprecated) = entry.deprecated_in.filter(|d| *d <= target) else {
        return;
    };
    if entry.removed_in.is_some_and(|r| r <= target) {
        return;
    }
    let removal = match entry.removed_in {
        Some((maj, min)) => format!("removed in {maj}.{min}"),
        None => "no removal scheduled".to_string(),
    };
    let msg = format!(
        "{api_version} {kind} is deprecated since Kubernetes {}.{} ({removal}; target {}.{}); {}",
        deprecated.0,
        deprecated.1,
        target.0,
        target.1,
        advice(&entry.replacement)
    );
    out.push(Hit::new(CODE, av_node, "/apiVersion".to_string(), msg));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    fn at(version: &str, src: &str) -> Vec<Hit> {
        run_rule_at_version(check, version, src)
    }

    const FLOW: &str = "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: PriorityLevelConfiguration\nmetadata: {name: p}\n";
    const ENDPOINTS: &str = "apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\n";

    #[test]
    fn deprecated_not_removed() {
        let hits = at("1.30", FLOW);
        assert_eq!(hits.len(), 1);
        assert_eq!(
            hits[0].message,
            "flowcontrol.apiserver.k8s.io/v1beta3 PriorityLevelConfiguration is deprecated since Kubernetes 1.29 (removed in 1.32; target 1.30); use flowcontrol.apiserver.k8s.io/v1"
        );
        let hits = at("1.35", ENDPOINTS);
        assert_eq!(hits.len(), 1);
        assert!(
            hits[0].message.contains("no removal scheduled"),
            "{}",
            hits[0].message
        );
    }

    #[test]
    fn pass_fail_table() {
        let cases = [
            ("before deprecation", "1.28", FLOW, 0),
            ("at deprecation", "1.29", FLOW, 1),
            ("last release before removal", "1.31", FLOW, 1),
            ("removed is API001", "1.32", FLOW, 0),
            ("endpoints before 1.33", "1.32", ENDPOINTS, 0),
            ("endpoints on 1.33", "1.33", ENDPOINTS, 1),
            (
                "current",
                "1.35",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
                0,
            ),
        ];
        for (name, version, src, want) in cases {
            assert_eq!(at(version, src).len(), want, "{name}");
        }
    }
}
