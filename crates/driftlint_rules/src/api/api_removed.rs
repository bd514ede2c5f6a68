//! API001 api-removed.
//!
//! ## What it does
//! Flags an object whose apiVersion/kind was removed at or before the target Kubernetes
//! version (`removed-in <= target` in `data/api-lifecycle.yaml`, or the configured
//! replacement table), at its `apiVersion` line.
//!
//! ## Why
//! The target cluster does not serve that API: applying the object fails.
//!
//! ## Example
//! `apiVersion: extensions/v1beta1`, `kind: Ingress` on 1.22+ — use `networking.k8s.io/v1`.

use crate::lifecycle::ApiEntry;
use crate::{Hit, RuleContext, Scope};
use driftlint_yaml::Node;

use super::{advice, lifecycle};

pub(crate) const CODE: &str = "API001";
pub(crate) const META: &str = include_str!("../../../../rules/API001.yaml");

/// The lifecycle entry when (apiVersion, kind) is removed at the context's target version.
pub(crate) fn removed_entry(ctx: &RuleContext, api_version: &str, kind: &str) -> Option<ApiEntry> {
    let table = lifecycle(ctx);
    let entry = table.find(api_version, kind)?;
    entry
        .removed_in
        .is_some_and(|r| r <= ctx.kube_version)
        .then(|| entry.clone())
}

/// The first newer supported Kubernetes minor that serves a built-in `api_version`/`kind` the
/// target version does not serve (`resource.k8s.io/v1` ResourceClaim at 1.33 -> `"1.34"`), from
/// [`RuleContext::served_from`]; `None` for served, custom or never-served APIs.
pub(crate) fn not_served_yet(ctx: &RuleContext, api_version: &str, kind: &str) -> Option<String> {
    if !crate::is_builtin_group(crate::k8s::group_of(api_version))
        || (ctx.gvk_known)(api_version, kind)
    {
        return None;
    }
    (ctx.served_from?)(api_version, kind)
}

pub(crate) fn check(obj: &Node, scope: &Scope<'_>, out: &mut Vec<Hit>) {
    let (Some(av_node), Some(kind)) = (obj.get("apiVersion"), obj.str_at(&["kind"])) else {
        return;
    };
    let Some(api_version) = av_node.as_str() else {
        return;
    };
    let Some(entry) = removed_entry(scope.ctx, api_version, kind) else {
        if let Some(from) = not_served_yet(scope.ctx, api_version, kind) {
            let (tmaj, tmin) = scope.ctx.kube_version;
            let msg = format!(
                "{api_version} {kind} is not served by Kubernetes {tmaj}.{tmin} (the target): it is served from Kubernetes {from}; raise kubernetesVersion or use an API version the target serves"
            );
            out.push(Hit::new(CODE, av_node, "/apiVersion".to_string(), msg));
        }
        return;
    };
    let (rmaj, rmin) = entry.removed_in.unwrap_or_default();
    let (tmaj, tmin) = scope.ctx.kube_version;
    let msg = format!(
        "{api_version} {kind} was removed in Kubernetes {rmaj}.{rmin} (target {tmaj}.{tmin}); {}",
        advice(&entry.replacement)
    );
    out.push(Hit::new(CODE, av_node, "/apiVersion".to_string(), msg));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use crate::RuleConfig;

    fn at(version: &str, src: &str) -> Vec<Hit> {
        run_rule_at_version(check, version, src)
    }

    const INGRESS: &str = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i}\n";
    const CRONJOB: &str = "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\n";

    #[test]
    fn extensions_ingress_on_1_37() {
        let hits = at("1.37", INGRESS);
        assert_eq!(hits.len(), 1);
        assert_eq!(
            hits[0].message,
            "extensions/v1beta1 Ingress was removed in Kubernetes 1.22 (target 1.37); use networking.k8s.io/v1"
        );
        assert_eq!(hits[0].field, "/apiVersion");
        assert_eq!((hits[0].origin.line, hits[0].origin.column), (1, 13));
    }

    #[test]
    fn batch_v1beta1_cronjob_on_1_25() {
        let hits = at("1.25", CRONJOB);
        assert_eq!(hits.len(), 1);
        assert!(hits[0]
            .message
            .contains("removed in Kubernetes 1.25 (target 1.25); use batch/v1"));
    }

    #[test]
    fn pass_fail_table() {
        let cases = [
            ("cronjob on 1.24 is only deprecated", "1.24", CRONJOB, 0),
            ("cronjob on 1.25", "1.25", CRONJOB, 1),
            ("psp has no replacement", "1.25", "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\n", 1),
            ("current api", "1.37", "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\n", 0),
            ("flowcontrol v1beta3 on 1.32", "1.32", "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata: {name: f}\n", 1),
            ("flowcontrol v1beta3 on 1.31", "1.31", "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata: {name: f}\n", 0),
            ("deprecated only", "1.37", "apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\n", 0),
        ];
        for (name, version, src, want) in cases {
            assert_eq!(at(version, src).len(), want, "{name}");
        }
    }

    #[test]
    fn not_served_yet_at_the_target() {
        let claim = "apiVersion: resource.k8s.io/v1\nkind: ResourceClaim\nmetadata: {name: c}\n";
        let mut cfg = RuleConfig::default();
        assert!(cfg.set_kube_version("1.33"));
        let served = |av: &str, _: &str| (av == "resource.k8s.io/v1").then(|| "1.34".to_owned());
        let known = |_: &str, _: &str| false;
        let ctx = RuleContext::new(&cfg, &known).with_served_from(&served);
        let hits = crate::testutil::run_rule_ctx(check, claim, &ctx);
        assert_eq!(hits.len(), 1);
        assert_eq!(
            hits[0].message,
            "resource.k8s.io/v1 ResourceClaim is not served by Kubernetes 1.33 (the target): it is served from Kubernetes 1.34; raise kubernetesVersion or use an API version the target serves"
        );
        assert!(ctx.explains_missing_schema("resource.k8s.io/v1", "ResourceClaim"));
        // Known to the catalog at the target (served), or a custom group: nothing.
        let all = |_: &str, _: &str| true;
        let served_ctx = RuleContext::new(&cfg, &all).with_served_from(&served);
        assert!(crate::testutil::run_rule_ctx(check, claim, &served_ctx).is_empty());
        let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";
        assert!(crate::testutil::run_rule_ctx(check, widget, &ctx).is_empty());
    }

    #[test]
    fn replacement_table_from_config() {
        let table = crate::parse_api_lifecycle(
            "mine.yaml",
            "apis:\n  - api-version: example.com/v1alpha1\n    kind: Widget\n    removed-in: \"1.30\"\n    replacement: example.com/v1\n",
        )
        .expect("parses");
        let cfg = RuleConfig {
            api_lifecycle: Some(std::sync::Arc::new(table)),
            ..RuleConfig::default()
        };
        let src = "apiVersion: example.com/v1alpha1\nkind: Widget\nmetadata: {name: w}\n";
        let hits = run_rule_with(check, src, &cfg, &|_: &str, _: &str| true);
        assert_eq!(hits.len(), 1);
        assert!(run_rule_with(check, INGRESS, &cfg, &|_: &str, _: &str| true).is_empty());
    }
}
