//! CRD001 cr-crd-unknown.
//!
//! ## What it does
//! Flags an object whose API group is not built into Kubernetes (a custom resource) when its
//! CRD is rendered neither in the same target (matched by group and kind, any version: CRD006
//! judges versions) nor known to the caller (`RuleContext::gvk_known`: the schema catalog,
//! `--crd-dir`, and CRDs rendered by other targets of the repository).
//!
//! ## Why
//! The API server rejects the object until its CRD exists, and nothing can validate it.
//!
//! ## Example
//! `apiVersion: example.com/v1`, `kind: Widget` with no `widgets.example.com` CRD anywhere.

use crate::k8s::group_of;
use crate::{Hit, Scope};
use driftlint_yaml::Node;

pub(crate) const CODE: &str = "CRD001";
pub(crate) const META: &str = include_str!("../../../../rules/CRD001.yaml");

/// API groups served by kube-apiserver itself (and `v1` core). Everything else is a custom
/// resource (or an aggregated API such as metrics.k8s.io, which is not applied from Git).
const BUILTIN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "extensions",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

/// True when `group` is served by kube-apiserver itself (`""` is the core group).
pub fn is_builtin_group(group: &str) -> bool {
    BUILTIN_GROUPS.contains(&group)
}

/// A kind defined by a CustomResourceDefinition.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CrdKind {
    /// `spec.group`.
    pub group: String,
    /// `spec.names.kind`.
    pub kind: String,
    /// `spec.versions[].name` (or the v1beta1 `spec.version`).
    pub versions: Vec<String>,
}

/// The kinds defined by the CRDs (`apiextensions.k8s.io` CustomResourceDefinition) among
/// `objects`. Collect these over every target to build the repository-wide `gvk_known`.
pub fn rendered_crds(objects: &[Node]) -> Vec<CrdKind> {
    objects
        .iter()
        .filter(|o| {
            o.str_at(&["kind"]) == Some("CustomResourceDefinition")
                && group_of(o.str_at(&["apiVersion"]).unwrap_or_default()) == "apiextensions.k8s.io"
        })
        .filter_map(|crd| {
            let group = crd.str_at(&["spec", "group"])?.to_string();
            let kind = crd.str_at(&["spec", "names", "kind"])?.to_string();
            let mut versions: Vec<String> = crd
                .get_path(&["spec", "versions"])
                .and_then(Node::as_seq)
                .map(|vs| {
                    vs.iter()
                        .filter_map(|v| v.str_at(&["name"]).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(v) = crd.str_at(&["spec", "version"]) {
                versions.push(v.to_string());
            }
            Some(CrdKind {
                group,
                kind,
                versions,
            })
        })
        .collect()
}

pub(crate) fn check(obj: &Node, scope: &Scope<'_>, out: &mut Vec<Hit>) {
    let (Some(api_version), Some(kind_node)) = (obj.str_at(&["apiVersion"]), obj.get("kind"))
    else {
        return;
    };
    let Some(kind) = kind_node.as_str() else {
        return;
    };
    let group = group_of(api_version);
    if is_builtin_group(group) {
        return;
    }
    let in_target = scope
        .crds
        .iter()
        .any(|c| c.group == group && c.kind == kind);
    if in_target || (scope.ctx.gvk_known)(api_version, kind) {
        return;
    }
    let msg = format!(
        "no CRD for {api_version} {kind}: it is not rendered in this repository and not in the schema catalog (add it, or pass --crd-dir)"
    );
    out.push(Hit::new(CODE, kind_node, "/kind".to_string(), msg));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use crate::RuleConfig;

    const WIDGET: &str = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";
    const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  versions: [{name: v1, served: true}]\n";

    #[test]
    fn pass_fail_table() {
        let with_crd = format!("{WIDGET}---\n{CRD}");
        let cases = [
            ("unknown CR", WIDGET, 1),
            ("CRD in the same target", with_crd.as_str(), 0),
            (
                "built in",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
                0,
            ),
            (
                "core",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
                0,
            ),
            (
                "gateway api is a CRD group",
                "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n",
                1,
            ),
            (
                "no kind",
                "apiVersion: example.com/v1\nmetadata: {name: w}\n",
                0,
            ),
        ];
        table(check, &cases);
    }

    #[test]
    fn the_callback_knows_catalog_and_repository_crds() {
        let known = |av: &str, kind: &str| av == "example.com/v1" && kind == "Widget";
        let hits = run_rule_with(check, WIDGET, &RuleConfig::default(), &known);
        assert!(hits.is_empty());
    }

    #[test]
    fn finding_points_at_kind() {
        let hits = run_rule(check, WIDGET);
        assert_eq!(hits[0].field, "/kind");
        assert_eq!(hits[0].origin.line, 2);
    }

    #[test]
    fn crds_are_collected_with_versions() {
        let docs = parse_all("t.yaml", &format!("{CRD}---\napiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\nmetadata: {{name: x}}\nspec:\n  group: a.io\n  version: v1alpha1\n  names: {{kind: A}}\n"));
        let crds = rendered_crds(&docs);
        assert_eq!(crds.len(), 2);
        assert_eq!(crds[0].versions, vec!["v1"]);
        assert_eq!(crds[1].versions, vec!["v1alpha1"]);
    }
}
