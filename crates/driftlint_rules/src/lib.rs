//! The rule pack: one rule per file (`pin/`, `sec/`, `crd/`, `api/`), its metadata as data in
//! `rules/<CODE>.yaml`, and the registry that `driftlint rules`, `driftlint explain` and SARIF
//! `tool.driver.rules` are generated from.
//!
//! How to call it:
//!
//! * build a [`RuleConfig`] ([`RuleConfig::default`] or [`RuleConfig::from_node`] over the
//!   `rules:` section of `.driftlint.yaml`), then a [`RuleContext`] with the callback that says
//!   whether a GVK is known to the schema catalog;
//! * [`check_objects`] lints the rendered objects of one target, [`check_kustomization`] lints
//!   one parsed kustomization file (PIN011);
//! * annotation suppression is applied inside those; comment suppression needs the source file,
//!   so the caller applies [`suppressed_by_comment`] afterwards;
//! * [`registry`] and [`explain`] describe every code, including the pipeline's own
//!   (RENDER001-003, SCHEMA001-002, CONFIG001).
//!
//! Everything here is `Send + Sync`: one [`RuleContext`] is shared by all targets checked in
//! parallel with rayon. Findings are returned in [`Finding::sort_key`] order (deterministic).
//!
//! Secrets: a finding about a credential never shows more than its first four characters (and
//! never more than half of it), in any format — see `redact.rs`.

mod api;
mod config;
mod crd;
mod error;
mod finding;
mod image_ref;
mod k8s;
mod lifecycle;
pub mod order;
mod pin;
pub mod redact;
mod registry;
mod rule_meta;
mod sec;
mod suppress;
mod tokens;

#[cfg(test)]
mod testutil;

use driftlint_yaml::{Node, Origin};

pub use config::{
    parse_kube_version, RuleConfig, RuleConfigError, RuleSetting, DEFAULT_KUBE_VERSION,
    DEFAULT_MUTABLE_TAGS,
};
pub use crd::cr_crd_unknown::{is_builtin_group, rendered_crds, CrdKind};
/// The Flux placeholder recogniser (defined in `driftlint_yaml`, shared with schema validation).
pub use driftlint_yaml::{
    contains_flux_placeholder, flux_placeholders, is_flux_placeholder, FluxPlaceholder,
};
pub use finding::{fingerprint, Finding, ObjectRef, Severity};
pub use lifecycle::{embedded_api_lifecycle, parse_api_lifecycle, ApiEntry, ApiLifecycle};
pub use registry::{configurable, explain, list, meta, registry};
pub use rule_meta::RuleMeta;
pub use suppress::{annotation_ignores, suppressed_by_comment, ALIASES, IGNORE_ANNOTATION};

/// Everything a rule may consult besides the object itself. Cheap to build; `Send + Sync`.
pub struct RuleContext<'a> {
    /// Enabled rules, severities and rule options.
    pub config: &'a RuleConfig,
    /// Target Kubernetes version as (major, minor); starts as `config.kube_version`.
    pub kube_version: (u32, u32),
    /// "Is this GVK known?" — called with (apiVersion, kind) of custom resources. Return true
    /// for GVKs the schema catalog knows (built in, Flux, `--crd-dir`) and for CRDs rendered by
    /// any target of the repository (see [`rendered_crds`]). CRDs rendered in the same target
    /// are found by CRD001 itself.
    pub gvk_known: &'a (dyn Fn(&str, &str) -> bool + Sync),
    /// "Which kinds does this API group have?" — `(version, kind)` of every kind of a custom
    /// API group known to the caller (repository CRDs, `--crd-dir`, the CRD catalogs). An
    /// empty list means the group is known nowhere. `None`: no group knowledge (every group is
    /// unknown).
    pub group_kinds: Option<&'a GroupKinds<'a>>,
    /// "From which Kubernetes minor is this built-in apiVersion/kind served?" — for an
    /// apiVersion/kind that the target version does not serve, the first newer supported
    /// minor that does (`"1.34"`), else `None`.
    pub served_from: Option<&'a ServedFrom<'a>>,
    /// `--strict-crds`: a custom resource of an API group known nowhere is a CRD001 error
    /// instead of one SCHEMA002 warning per group and target.
    pub strict_crds: bool,
}

/// The callback type of [`RuleContext::group_kinds`].
pub type GroupKinds<'a> = dyn Fn(&str) -> Vec<(String, String)> + Sync + 'a;
/// The callback type of [`RuleContext::served_from`].
pub type ServedFrom<'a> = dyn Fn(&str, &str) -> Option<String> + Sync + 'a;

impl<'a> RuleContext<'a> {
    /// A context over `config` (its kube version) and the GVK-known callback, without group
    /// knowledge, API-serving knowledge or strict CRDs (see the `with_*` methods).
    pub fn new(config: &'a RuleConfig, gvk_known: &'a (dyn Fn(&str, &str) -> bool + Sync)) -> Self {
        RuleContext {
            config,
            kube_version: config.kube_version,
            gvk_known,
            group_kinds: None,
            served_from: None,
            strict_crds: false,
        }
    }

    /// The same context with the group-knowledge callback ([`RuleContext::group_kinds`]).
    pub fn with_group_kinds(mut self, group_kinds: &'a GroupKinds<'a>) -> Self {
        self.group_kinds = Some(group_kinds);
        self
    }

    /// The same context with the API-serving callback ([`RuleContext::served_from`]).
    pub fn with_served_from(mut self, served_from: &'a ServedFrom<'a>) -> Self {
        self.served_from = Some(served_from);
        self
    }

    /// The same context with [`RuleContext::strict_crds`] set.
    pub fn with_strict_crds(mut self, strict: bool) -> Self {
        self.strict_crds = strict;
        self
    }

    /// `(version, kind)` of every known kind of API `group` (empty when unknown).
    pub fn kinds_of_group(&self, group: &str) -> Vec<(String, String)> {
        self.group_kinds.map(|f| f(group)).unwrap_or_default()
    }

    /// True when a missing schema for (apiVersion, kind) is already explained by an enabled
    /// rule: CRD001 (a custom resource of a known API group whose kind or version is unknown,
    /// or of any unknown group with [`RuleContext::strict_crds`]) or API001 (an API version
    /// removed at, or not yet served by, the target version). The pipeline then skips
    /// SCHEMA002 for the object; a custom group known nowhere is left to the pipeline's one
    /// SCHEMA002 per group and target.
    pub fn explains_missing_schema(&self, api_version: &str, kind: &str) -> bool {
        let group = k8s::group_of(api_version);
        let custom = !is_builtin_group(group);
        let crd001 = self
            .config
            .severity_for(crd::cr_crd_unknown::CODE)
            .is_some();
        let api001 = self.config.severity_for(api::api_removed::CODE).is_some();
        let explained_crd =
            custom && crd001 && (self.strict_crds || !self.kinds_of_group(group).is_empty());
        explained_crd
            || (api001 && api::api_removed::removed_entry(self, api_version, kind).is_some())
            || (api001 && api::api_removed::not_served_yet(self, api_version, kind).is_some())
    }
}

/// What a rule reports before configuration and the object turn it into a [`Finding`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Hit {
    /// The rule code.
    pub code: &'static str,
    /// Origin of the offending value node.
    pub origin: Origin,
    /// JSON pointer of that node within the object (or kustomization file).
    pub field: String,
    /// The message; must already be redacted.
    pub message: String,
}

impl Hit {
    pub(crate) fn new(code: &'static str, node: &Node, field: String, message: String) -> Hit {
        Hit {
            code,
            origin: node.origin.clone(),
            field,
            message,
        }
    }
}

/// Cross-object facts of one target, computed once per [`check_objects`] call.
pub(crate) struct Scope<'a> {
    pub ctx: &'a RuleContext<'a>,
    /// CRDs rendered in this target.
    pub crds: Vec<CrdKind>,
}

type CheckFn = fn(&Node, &Scope<'_>, &mut Vec<Hit>);

/// The object rules, in code order.
const OBJECT_RULES: &[(&str, CheckFn)] = &[
    (pin::image_tag_latest::CODE, pin::image_tag_latest::check),
    (pin::image_tag_missing::CODE, pin::image_tag_missing::check),
    (pin::image_tag_mutable::CODE, pin::image_tag_mutable::check),
    (
        pin::image_digest_required::CODE,
        pin::image_digest_required::check,
    ),
    (
        pin::helmrelease_chart_unpinned::CODE,
        pin::helmrelease_chart_unpinned::check,
    ),
    (
        sec::secret_plaintext_committed::CODE,
        sec::secret_plaintext_committed::check,
    ),
    (
        sec::env_literal_credential::CODE,
        sec::env_literal_credential::check,
    ),
    (
        sec::configmap_secret_content::CODE,
        sec::configmap_secret_content::check,
    ),
    (
        sec::known_token_pattern::CODE,
        sec::known_token_pattern::check,
    ),
    (crd::cr_crd_unknown::CODE, crd::cr_crd_unknown::check),
    (api::api_removed::CODE, api::api_removed::check),
    (api::api_deprecated::CODE, api::api_deprecated::check),
];

type KustomizationCheckFn = fn(&Node, &mut Vec<Hit>);

/// The rules over kustomization files.
const KUSTOMIZATION_RULES: &[(&str, KustomizationCheckFn)] = &[(
    pin::kustomize_images_latest::CODE,
    pin::kustomize_images_latest::check,
)];

/// Every code implemented by a rule file (object and kustomization rules).
#[cfg(test)]
pub(crate) fn rule_codes() -> impl Iterator<Item = &'static str> {
    OBJECT_RULES
        .iter()
        .map(|(c, _)| *c)
        .chain(KUSTOMIZATION_RULES.iter().map(|(c, _)| *c))
        .chain(order::GRAPH_RULES.iter().map(|(c, _)| *c))
}

/// Lints the rendered objects of one target.
///
/// `target` is the repo-relative target id copied into every finding; `objects` are the
/// rendered documents (non-mappings are skipped). Each finding's origin is the origin of the
/// offending value node, `field` its JSON pointer, `object` [`ObjectRef::of`] the object.
/// Disabled rules do not run; severities come from the configuration; findings suppressed by
/// the object's annotations (`driftlint.io/ignore` and the peers' keys, see [`ALIASES`]) are
/// dropped. When SEC002/SEC003 report a value, SEC005 does not report the same value again.
pub fn check_objects(target: &str, objects: &[Node], ctx: &RuleContext) -> Vec<Finding> {
    let scope = Scope {
        ctx,
        crds: rendered_crds(objects),
    };
    let enabled: Vec<CheckFn> = OBJECT_RULES
        .iter()
        .filter(|(code, _)| ctx.config.severity_for(code).is_some())
        .map(|(_, check)| *check)
        .collect();
    let mut out = Vec::new();
    for obj in objects.iter().filter(|o| o.as_map().is_some()) {
        let mut hits = Vec::new();
        for check in &enabled {
            check(obj, &scope, &mut hits);
        }
        drop_duplicate_token_hits(&mut hits);
        let ignored = annotation_ignores(obj);
        let object = ObjectRef::of(obj);
        for hit in hits {
            if suppress::annotation_suppresses(&ignored, hit.code, ctx.config) {
                continue;
            }
            if let Some(f) = to_finding(hit, target, Some(object.clone()), ctx) {
                out.push(f);
            }
        }
    }
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

/// Lints one parsed kustomization file (`kustomization.yaml` document): PIN011. Findings carry
/// no object; `field` is the JSON pointer within the file (`/images/0/newTag`). Comment
/// suppression is left to the caller ([`suppressed_by_comment`]).
pub fn check_kustomization(target: &str, kustomization: &Node, ctx: &RuleContext) -> Vec<Finding> {
    let mut hits = Vec::new();
    if kustomization.as_map().is_some() {
        for (code, check) in KUSTOMIZATION_RULES {
            if ctx.config.severity_for(code).is_some() {
                check(kustomization, &mut hits);
            }
        }
    }
    let mut out: Vec<Finding> = hits
        .into_iter()
        .filter_map(|h| to_finding(h, target, None, ctx))
        .collect();
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

/// Runs the ordering rules (`order`: CRD002, CRD004, CRD006, ORDER001, ORDER002) over the
/// repository's apply units. Findings name the unit they are about (`target`), point at the
/// line to edit, and honour the objects' suppression annotations; deterministic order.
pub fn check_graph(units: &[order::GraphUnit], ctx: &RuleContext) -> Vec<Finding> {
    let mut out: Vec<Finding> = order::hits(units, ctx)
        .into_iter()
        .filter(|h| {
            h.object.is_none_or(|o| {
                !suppress::annotation_suppresses(&annotation_ignores(o), h.hit.code, ctx.config)
            })
        })
        .filter_map(|h| {
            let target = units[h.unit].id;
            to_finding(h.hit, target, h.object.map(ObjectRef::of), ctx)
        })
        .collect();
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

fn to_finding(
    hit: Hit,
    target: &str,
    object: Option<ObjectRef>,
    ctx: &RuleContext,
) -> Option<Finding> {
    Some(Finding {
        code: hit.code.to_string(),
        severity: ctx.config.severity_for(hit.code)?,
        message: hit.message,
        origin: hit.origin,
        object,
        target: target.to_string(),
        field: Some(hit.field),
    })
}

/// Drops findings that restate another finding on the same line: a PIN001 (`:latest` image)
/// whose origin is the line of a PIN011 (kustomization `images[].newTag: latest`) says the same
/// thing about the same line, and PIN011 names the cause. Call over a run's findings, after
/// [`check_objects`] and [`check_kustomization`]; the order of the rest is kept.
pub fn drop_restated(findings: &mut Vec<Finding>) {
    let pin011: std::collections::BTreeSet<(&str, u32)> = findings
        .iter()
        .filter(|f| f.code == pin::kustomize_images_latest::CODE)
        .map(|f| (f.origin.file.as_ref(), f.origin.line))
        .collect();
    if pin011.is_empty() {
        return;
    }
    let restated: Vec<bool> = findings
        .iter()
        .map(|f| {
            f.code == pin::image_tag_latest::CODE
                && pin011.contains(&(f.origin.file.as_ref(), f.origin.line))
        })
        .collect();
    let mut flags = restated.into_iter();
    findings.retain(|_| !flags.next().unwrap_or(false));
}

/// SEC005 is the generic scan; SEC002 (env) and SEC003 (ConfigMap) say the same thing about the
/// same value more precisely, so their value wins.
fn drop_duplicate_token_hits(hits: &mut Vec<Hit>) {
    let specific: Vec<String> = hits
        .iter()
        .filter(|h| {
            h.code == sec::env_literal_credential::CODE
                || h.code == sec::configmap_secret_content::CODE
        })
        .map(|h| h.field.clone())
        .collect();
    hits.retain(|h| h.code != sec::known_token_pattern::CODE || !specific.contains(&h.field));
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn sec001_does_not_silence_sec005_on_the_same_value() {
        let pat = fake_github_pat();
        let src = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  token: {pat}\n"
        );
        let findings = check_docs("t", &src, &RuleConfig::default());
        let codes: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
        assert!(codes.contains(&"SEC001"), "{codes:?}");
        assert!(codes.contains(&"SEC005"), "{codes:?}");
    }

    /// Unknown-until-substitution and encrypted values: no rule reports them.
    const OPAQUE: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      initContainers:
        - {name: init, image: "${INIT_IMAGE}"}
      containers:
        - name: web
          image: ghcr.io/x/app:${TAG:=latest}
          env:
            - {name: DB_PASSWORD, value: "${DB_PASSWORD}"}
            - {name: API_TOKEN, value: "tok-${TOKEN_SUFFIX}"}
            - {name: AWS_SECRET_ACCESS_KEY, value: "ENC[AES256_GCM,data:c2VjcmV0,type:str]"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: r}
spec:
  chart:
    spec: {chart: podinfo, version: "${CHART_VERSION}", sourceRef: {kind: HelmRepository, name: p}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: o}
spec:
  url: oci://ghcr.io/x/app
  ref: {semver: "${APP_VERSION}"}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
stringData: {password: "${PASSWORD}"}
---
apiVersion: v1
kind: Secret
metadata: {name: sops}
data: {key: "ENC[AES256_GCM,data:AKIAQZ3T7WXR2KLM5N4P,iv:x,tag:y,type:str]"}
sops: {version: 3.9.0, mac: "ENC[AES256_GCM,data:AKIAQZ3T7WXR2KLM5N4P,type:str]"}
"#;

    #[test]
    fn placeholders_and_sops_ciphertext_are_never_findings() {
        let cfg = config_from("rules:\n  PIN004: {enabled: true}\n  CRD001: {enabled: false}\n");
        let findings = check_docs("t", OPAQUE, &cfg);
        assert_eq!(findings, vec![], "{findings:#?}");
    }

    #[test]
    fn pin001_on_a_pin011_line_is_dropped() {
        let k = parse_one(
            "overlays/prod/kustomization.yaml",
            "images:\n  - name: nginx\n    newTag: latest\n",
        );
        let cfg = RuleConfig::default();
        let known = |_: &str, _: &str| true;
        let ctx = RuleContext::new(&cfg, &known);
        let mut findings = check_kustomization("overlays/prod", &k, &ctx);
        let mut pin001 = findings[0].clone();
        pin001.code = "PIN001".into();
        let mut elsewhere = pin001.clone();
        elsewhere.origin.line = 9;
        findings.extend([pin001, elsewhere]);
        drop_restated(&mut findings);
        let got: Vec<_> = findings
            .iter()
            .map(|f| (f.code.as_str(), f.origin.line))
            .collect();
        assert_eq!(got, [("PIN011", 3), ("PIN001", 9)]);
    }

    #[test]
    fn context_and_config_are_send_and_sync() {
        assert_send_sync::<RuleContext<'static>>();
        assert_send_sync::<RuleConfig>();
    }

    const MIXED: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: busybox
      containers:
        - name: web
          image: nginx:latest
          env:
            - name: DB_PASSWORD
              value: hunter2hunter2
            - name: GH
              value: TOKEN_PLACEHOLDER
---
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: s3cr3t-value
---
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: old
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
"#;

    fn mixed() -> String {
        MIXED.replace("TOKEN_PLACEHOLDER", &fake_github_pat())
    }

    #[test]
    fn findings_of_a_mixed_target_snapshot() {
        let findings = check_docs("overlays/prod", &mixed(), &RuleConfig::default());
        insta::assert_yaml_snapshot!(findings);
    }

    #[test]
    fn findings_are_sorted_and_deterministic() {
        let a = check_docs("t", &mixed(), &RuleConfig::default());
        let b = check_docs("t", &mixed(), &RuleConfig::default());
        assert_eq!(a, b);
        assert!(a.windows(2).all(|w| w[0].sort_key() <= w[1].sort_key()));
    }

    #[test]
    fn token_in_env_is_reported_once_by_sec002() {
        let findings = check_docs("t", &mixed(), &RuleConfig::default());
        let on_gh: Vec<_> = findings
            .iter()
            .filter(|f| f.field.as_deref() == Some("/spec/template/spec/containers/0/env/1/value"))
            .map(|f| f.code.as_str())
            .collect();
        assert_eq!(on_gh, vec!["SEC002"]);
    }

    #[test]
    fn secrets_never_leak_into_any_format() {
        let pat = fake_github_pat();
        let findings = check_docs("t", &mixed(), &RuleConfig::default());
        let json = serde_json::to_string(&findings).expect("json");
        for secret in ["hunter2hunter2", "s3cr3t-value", pat.as_str()] {
            assert!(!json.contains(secret), "{secret} leaked: {json}");
            assert!(!json.contains(&secret[..5]), "5 chars of {secret} leaked");
            let dbg = format!("{findings:?}");
            assert!(!dbg.contains(&secret[..5]), "debug leaks {secret}");
        }
        assert!(json.contains("\\\"hunt…\\\""), "{json}");
    }

    #[test]
    fn disabled_rules_do_not_run_and_severity_overrides_apply() {
        let cfg = config_from(
            "rules:\n  PIN001: {enabled: false}\n  PIN002: {severity: note}\n  PIN004: {enabled: true}\n",
        );
        let findings = check_docs("t", &mixed(), &cfg);
        assert!(!findings.iter().any(|f| f.code == "PIN001"));
        let pin002: Vec<_> = findings.iter().filter(|f| f.code == "PIN002").collect();
        assert_eq!(pin002.len(), 1);
        assert_eq!(pin002[0].severity, crate::Severity::Note);
        let pin004: Vec<_> = findings.iter().filter(|f| f.code == "PIN004").collect();
        assert_eq!(pin004.len(), 2);
        assert_eq!(pin004[0].severity, crate::Severity::Warning);
    }

    #[test]
    fn explains_missing_schema_for_custom_and_removed_apis() {
        let cfg = RuleConfig::default();
        let known = |_: &str, _: &str| false;
        let ctx = RuleContext::new(&cfg, &known);
        // A group known nowhere is the pipeline's SCHEMA002 (one per group and target) ...
        assert!(!ctx.explains_missing_schema("example.com/v1", "Widget"));
        assert!(ctx.explains_missing_schema("extensions/v1beta1", "Ingress"));
        assert!(!ctx.explains_missing_schema("apps/v1", "Deployment"));
        // ... a known group's unknown kind, or any group with --strict-crds, is CRD001's.
        let groups = |g: &str| {
            if g == "example.com" {
                vec![("v1".to_owned(), "Gadget".to_owned())]
            } else {
                Vec::new()
            }
        };
        let ctx = RuleContext::new(&cfg, &known).with_group_kinds(&groups);
        assert!(ctx.explains_missing_schema("example.com/v1", "Widget"));
        assert!(!ctx.explains_missing_schema("example.org/v1", "Widget"));
        let ctx = RuleContext::new(&cfg, &known).with_strict_crds(true);
        assert!(ctx.explains_missing_schema("example.org/v1", "Widget"));
        let off = config_from("rules:\n  CRD001: {enabled: false}\n");
        let ctx = RuleContext::new(&off, &known).with_strict_crds(true);
        assert!(!ctx.explains_missing_schema("example.com/v1", "Widget"));
    }

    #[test]
    fn kustomization_findings_have_no_object() {
        let k = parse_one(
            "kustomization.yaml",
            "images:\n  - name: nginx\n    newTag: latest\n",
        );
        let cfg = RuleConfig::default();
        let known = |_: &str, _: &str| true;
        let ctx = RuleContext::new(&cfg, &known);
        let f = check_kustomization("overlays/prod", &k, &ctx);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, None);
        assert_eq!(f[0].field.as_deref(), Some("/images/0/newTag"));
        assert_eq!((f[0].origin.line, f[0].origin.column), (3, 13));
    }
}
