//! CRD001 cr-crd-unknown.
//!
//! ## What it does
//! Flags a custom resource (an API group not built into Kubernetes) whose API group is known
//! but whose kind or version is not: known from CRDs rendered in the same target (matched by
//! group and kind, any version: CRD006 judges versions) or from the caller
//! (`RuleContext::gvk_known` / `group_kinds`: CRDs rendered by any target, `--crd-dir`, the
//! bundled Flux schemas and the CRD catalogs). The message suggests the closest known kind
//! ("did you mean ExternalSecret?") or lists the versions the kind is known in.
//!
//! A group known nowhere is not CRD001: the pipeline reports one SCHEMA002 warning per group
//! and target (its CRD is typically installed by a chart driftlint cannot see). With
//! `--strict-crds` (`strictCrds: true`) such objects are CRD001 errors too.
//!
//! ## Why
//! A kind or version the group does not have is a typo or a stale API version: the API server
//! rejects the object, and nothing can validate it.
//!
//! ## Example
//! `apiVersion: external-secrets.io/v1`, `kind: ExternalSecrett`.

use crate::k8s::{group_of, is_crd};
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
        .filter(|o| is_crd(o))
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
    let mut known = scope.ctx.kinds_of_group(group);
    for crd in scope.crds.iter().filter(|c| c.group == group) {
        known.extend(crd.versions.iter().map(|v| (v.clone(), crd.kind.clone())));
    }
    let msg = if known.is_empty() {
        if !scope.ctx.strict_crds {
            return;
        }
        format!(
            "no CRD for {api_version} {kind}: API group {group} is known neither in this repository, --crd-dir nor the CRD catalog (--strict-crds; add the CRD, or pass --crd-dir/--crd-catalog)"
        )
    } else {
        unknown_in_group(api_version, group, kind, &known)
    };
    out.push(Hit::new(CODE, kind_node, "/kind".to_string(), msg));
}

/// The message for a kind or version that known API `group` lacks.
fn unknown_in_group(
    api_version: &str,
    group: &str,
    kind: &str,
    known: &[(String, String)],
) -> String {
    let version = api_version.rsplit_once('/').map_or("", |(_, v)| v);
    let mut versions: Vec<&str> = known
        .iter()
        .filter(|(_, k)| {
            k == kind || (k.to_lowercase() == kind.to_lowercase() && k == &k.to_lowercase())
        })
        .map(|(v, _)| v.as_str())
        .collect();
    versions.sort_unstable();
    versions.dedup();
    if !versions.is_empty() {
        return format!(
            "{group} {kind} is known in versions {} but not {version}: did you mean {group}/{}?",
            versions.join(", "),
            preferred_version(&versions)
        );
    }
    let mut kinds: Vec<&str> = known.iter().map(|(_, k)| k.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    match closest(kind, &kinds) {
        Some(best) => {
            format!("API group {group} has no kind {kind} in any known CRD: did you mean {best}?")
        }
        None => format!(
            "API group {group} has no kind {kind} in any known CRD (known kinds: {})",
            list_some(&kinds)
        ),
    }
}

/// The stable version if any (`v1` over `v1beta1` over `v1alpha1`), else the last.
fn preferred_version<'v>(versions: &[&'v str]) -> &'v str {
    let rank = |v: &str| {
        let stability = if v.contains("alpha") {
            0
        } else if v.contains("beta") {
            1
        } else {
            2
        };
        (stability, std::cmp::Reverse(v.len()), v.to_owned())
    };
    versions
        .iter()
        .copied()
        .max_by_key(|v| rank(v))
        .unwrap_or_default()
}

/// The known kind closest to `kind` (case-insensitive edit distance at most a third of its
/// length, at least 2), ties broken by name.
fn closest<'k>(kind: &str, kinds: &[&'k str]) -> Option<&'k str> {
    let wanted = kind.to_lowercase();
    let limit = (wanted.chars().count() / 3).max(2);
    kinds
        .iter()
        .map(|k| (edit_distance(&wanted, &k.to_lowercase()), *k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance over chars; inputs are kind names (bounded by the caller's YAML).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// At most eight names, then `and N more`.
fn list_some(kinds: &[&str]) -> String {
    let shown = kinds.iter().take(8).copied().collect::<Vec<_>>().join(", ");
    match kinds.len().saturating_sub(8) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use crate::{RuleConfig, RuleContext};

    const WIDGET: &str = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";
    const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  versions: [{name: v1, served: true}]\n";

    fn secrets_group(group: &str) -> Vec<(String, String)> {
        if group != "external-secrets.io" {
            return Vec::new();
        }
        [
            ("v1", "ExternalSecret"),
            ("v1beta1", "ExternalSecret"),
            ("v1", "SecretStore"),
            ("v1", "ClusterSecretStore"),
        ]
        .iter()
        .map(|(v, k)| ((*v).to_owned(), (*k).to_owned()))
        .collect()
    }

    fn with_groups(src: &str, strict: bool) -> Vec<Hit> {
        let cfg = RuleConfig::default();
        let known = |av: &str, kind: &str| {
            secrets_group("external-secrets.io")
                .iter()
                .any(|(v, k)| av == format!("external-secrets.io/{v}") && k == kind)
        };
        let ctx = RuleContext::new(&cfg, &known)
            .with_group_kinds(&secrets_group)
            .with_strict_crds(strict);
        run_rule_ctx(check, src, &ctx)
    }

    #[test]
    fn pass_fail_table() {
        let with_crd = format!("{WIDGET}---\n{CRD}");
        let v2 = "apiVersion: example.com/v2\nkind: Widget\nmetadata: {name: w}\n---\n";
        let typo = "apiVersion: example.com/v1\nkind: Widgett\nmetadata: {name: w}\n---\n";
        let cases = [
            ("unknown group: left to SCHEMA002", WIDGET, 0),
            ("CRD in the same target", with_crd.as_str(), 0),
            (
                "CRD in the same target, other version (CRD006's)",
                &format!("{v2}{CRD}"),
                0,
            ),
            ("kind typo next to its CRD", &format!("{typo}{CRD}"), 1),
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
                "no kind",
                "apiVersion: example.com/v1\nmetadata: {name: w}\n",
                0,
            ),
        ];
        table(check, &cases);
    }

    #[test]
    fn known_group_unknown_kind_suggests_the_closest() {
        let hits = with_groups(
            "apiVersion: external-secrets.io/v1\nkind: ExternalSecrett\nmetadata: {name: s}\n",
            false,
        );
        assert_eq!(hits.len(), 1);
        assert_eq!(
            hits[0].message,
            "API group external-secrets.io has no kind ExternalSecrett in any known CRD: did you mean ExternalSecret?"
        );
        assert_eq!((hits[0].field.as_str(), hits[0].origin.line), ("/kind", 2));
        let far = with_groups(
            "apiVersion: external-secrets.io/v1\nkind: PushSecret\nmetadata: {name: s}\n",
            false,
        );
        assert_eq!(
            far[0].message,
            "API group external-secrets.io has no kind PushSecret in any known CRD (known kinds: ClusterSecretStore, ExternalSecret, SecretStore)"
        );
    }

    #[test]
    fn known_kind_unknown_version_names_the_versions() {
        let hits = with_groups(
            "apiVersion: external-secrets.io/v1alpha1\nkind: ExternalSecret\nmetadata: {name: s}\n",
            false,
        );
        assert_eq!(
            hits[0].message,
            "external-secrets.io ExternalSecret is known in versions v1, v1beta1 but not v1alpha1: did you mean external-secrets.io/v1?"
        );
        let fine = with_groups(
            "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: s}\n",
            false,
        );
        assert!(fine.is_empty());
    }

    #[test]
    fn strict_crds_make_unknown_groups_errors() {
        assert!(with_groups(WIDGET, false).is_empty());
        let hits = with_groups(WIDGET, true);
        assert_eq!(hits.len(), 1);
        assert!(
            hits[0].message.starts_with(
                "no CRD for example.com/v1 Widget: API group example.com is known neither"
            ),
            "{}",
            hits[0].message
        );
    }

    #[test]
    fn the_callback_knows_catalog_and_repository_crds() {
        let known = |av: &str, kind: &str| av == "example.com/v1" && kind == "Widget";
        let cfg = RuleConfig::default();
        let ctx = RuleContext::new(&cfg, &known).with_strict_crds(true);
        assert!(run_rule_ctx(check, WIDGET, &ctx).is_empty());
    }

    #[test]
    fn edit_distance_and_versions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(preferred_version(&["v1alpha1", "v1beta1", "v1"]), "v1");
        assert_eq!(preferred_version(&["v1alpha1", "v1beta2"]), "v1beta2");
        assert_eq!(
            closest("certificat", &["Certificate", "Issuer"]),
            Some("Certificate")
        );
        assert_eq!(closest("Foo", &["Certificate"]), None);
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
