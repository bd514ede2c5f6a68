//! Rule configuration: the `rules:` section of `.driftlint.yaml`.
//!
//! ```yaml
//! rules:
//!   PIN004: {enabled: true, severity: warning}
//!   PIN003: {tags: [main, stable], floating-versions: false}
//!   image-tag-latest: {severity: warning}        # a rule name works as well as its code
//!   forbid-annotation-suppression-for-security: true
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::Severity;
use driftlint_yaml::Node;

pub use crate::error::RuleConfigError;
pub use crate::k8s::parse_kube_version;
use crate::lifecycle::ApiLifecycle;
use crate::registry;

/// The default mutable tags of PIN003.
pub const DEFAULT_MUTABLE_TAGS: &[&str] = &[
    "main", "master", "stable", "edge", "nightly", "dev", "develop", "rolling", "alpine", "slim",
    "bookworm", "bullseye", "buster", "trixie", "jammy", "noble", "focal",
];

/// Default target Kubernetes version when the caller sets none: 1.35 (the kubectl the
/// rendering reference uses).
pub const DEFAULT_KUBE_VERSION: (u32, u32) = (1, 35);

/// Per-code settings as written in the configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleSetting {
    /// `enabled:`; `None` keeps the default (on unless the rule is off by default).
    pub enabled: Option<bool>,
    /// `severity:` override.
    pub severity: Option<Severity>,
}

/// Which rules run, at which severity, with which options. `Send + Sync`; cheap to clone.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleConfig {
    /// Settings per code (keys are codes, `PIN001`).
    pub settings: BTreeMap<String, RuleSetting>,
    /// PIN003's list of mutable tags (exact, case-sensitive match).
    pub mutable_tags: Vec<String>,
    /// PIN003 also flags major-only and major.minor version tags (`v1`, `16`, `1.2`,
    /// `3.19-alpine`). Default true.
    pub floating_versions: bool,
    /// Target Kubernetes version (major, minor) for API001/API002.
    pub kube_version: (u32, u32),
    /// When true, annotations cannot suppress SEC* findings (Polaris #635: whoever can edit a
    /// workload could exempt it). Comments and configuration still can. Default false.
    pub forbid_annotation_suppression_for_security: bool,
    /// Replacement for the embedded `data/api-lifecycle.yaml`; `None` uses the embedded data.
    pub api_lifecycle: Option<Arc<ApiLifecycle>>,
}

impl Default for RuleConfig {
    fn default() -> Self {
        RuleConfig {
            settings: BTreeMap::new(),
            mutable_tags: DEFAULT_MUTABLE_TAGS.iter().map(|s| s.to_string()).collect(),
            floating_versions: true,
            kube_version: DEFAULT_KUBE_VERSION,
            forbid_annotation_suppression_for_security: false,
            api_lifecycle: None,
        }
    }
}

impl RuleConfig {
    /// Parses the `rules:` mapping (a null node gives the defaults). Keys are rule codes or
    /// names, or `forbid-annotation-suppression-for-security`.
    ///
    /// Errors, each at the offending line: a non-mapping section or setting, an unknown code or
    /// key, a non-boolean `enabled`, an unknown severity, `tags` outside PIN003 or not a list of
    /// strings, and any setting for a code that cannot be configured (RENDER*, CONFIG001:
    /// render and configuration failures are never silenced).
    pub fn from_node(node: &Node) -> Result<RuleConfig, RuleConfigError> {
        let mut cfg = RuleConfig::default();
        if node.is_null() {
            return Ok(cfg);
        }
        let map = node
            .as_map()
            .ok_or_else(|| err(node, "`rules` must be a mapping"))?;
        for (key, value) in map.iter() {
            let name = key
                .as_str()
                .ok_or_else(|| err(key, "rule keys must be strings"))?;
            if name == "forbid-annotation-suppression-for-security" {
                cfg.forbid_annotation_suppression_for_security = bool_of(value)?;
                continue;
            }
            let meta =
                registry::meta(name).ok_or_else(|| err(key, format!("unknown rule `{name}`")))?;
            if !registry::configurable(&meta.code) {
                return Err(err(key, format!("{} cannot be configured", meta.code)));
            }
            cfg.apply_setting(&meta.code, value)?;
        }
        Ok(cfg)
    }

    fn apply_setting(&mut self, code: &str, value: &Node) -> Result<(), RuleConfigError> {
        let map = value
            .as_map()
            .ok_or_else(|| err(value, format!("settings of {code} must be a mapping")))?;
        let mut setting = RuleSetting::default();
        for (k, v) in map.iter() {
            match (k.as_str().unwrap_or_default(), code) {
                ("enabled", _) => setting.enabled = Some(bool_of(v)?),
                ("severity", _) => setting.severity = Some(severity_of(v)?),
                ("tags", "PIN003") => self.mutable_tags = strings_of(v)?,
                ("floating-versions", "PIN003") => self.floating_versions = bool_of(v)?,
                (other, _) => {
                    let known = match code {
                        "PIN003" => "enabled, severity, tags, floating-versions",
                        _ => "enabled, severity",
                    };
                    return Err(err(
                        k,
                        format!("unknown setting `{other}` for {code} (known: {known})"),
                    ));
                }
            }
        }
        self.settings.insert(code.to_string(), setting);
        Ok(())
    }

    /// The effective severity of `code`, or `None` when it does not run: disabled in the
    /// configuration, off by default and not enabled, or not a registered code. A rule that is
    /// off by default and enabled without a severity runs as a warning.
    pub fn severity_for(&self, code: &str) -> Option<Severity> {
        let meta = registry::meta(code)?;
        let setting = self.settings.get(&meta.code);
        let enabled = setting.and_then(|s| s.enabled);
        if enabled == Some(false) {
            return None;
        }
        let overridden = setting.and_then(|s| s.severity);
        match (overridden, meta.severity, enabled) {
            (Some(s), _, _) => Some(s),
            (None, Some(s), _) => Some(s),
            (None, None, Some(true)) => Some(Severity::Warning),
            (None, None, _) => None,
        }
    }

    /// Sets the target version from `"1.29"`, `"v1.29"` or `"1.29.3"`; returns false (and keeps
    /// the current version) when the text is not a version.
    pub fn set_kube_version(&mut self, version: &str) -> bool {
        match parse_kube_version(version) {
            Some(v) => {
                self.kube_version = v;
                true
            }
            None => false,
        }
    }
}

fn err(node: &Node, message: impl Into<String>) -> RuleConfigError {
    RuleConfigError {
        origin: node.origin.clone(),
        message: message.into(),
    }
}

fn bool_of(node: &Node) -> Result<bool, RuleConfigError> {
    match node.resolve() {
        Some(driftlint_yaml::Resolved::Bool(b)) => Ok(b),
        _ => Err(err(node, "expected true or false")),
    }
}

fn severity_of(node: &Node) -> Result<Severity, RuleConfigError> {
    node.as_str()
        .and_then(Severity::parse)
        .ok_or_else(|| err(node, "severity must be one of note, warning, error"))
}

fn strings_of(node: &Node) -> Result<Vec<String>, RuleConfigError> {
    let items = node
        .as_seq()
        .ok_or_else(|| err(node, "expected a list of strings"))?;
    items
        .iter()
        .map(|n| {
            n.scalar_text()
                .map(str::to_string)
                .ok_or_else(|| err(n, "expected a string"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::parse_one;

    fn parse(src: &str) -> Result<RuleConfig, RuleConfigError> {
        let doc = parse_one(".driftlint.yaml", src);
        RuleConfig::from_node(doc.get("rules").expect("rules"))
    }

    #[test]
    fn defaults() {
        let cfg = RuleConfig::default();
        assert_eq!(cfg.severity_for("PIN001"), Some(Severity::Error));
        assert_eq!(cfg.severity_for("PIN003"), Some(Severity::Warning));
        assert_eq!(cfg.severity_for("PIN004"), None);
        assert_eq!(cfg.severity_for("NOPE999"), None);
        assert_eq!(cfg.kube_version, (1, 35));
        assert!(cfg.mutable_tags.contains(&"nightly".to_string()));
    }

    #[test]
    fn enable_disable_and_severity() {
        let cfg = parse(
            "rules:\n  PIN004: {enabled: true, severity: error}\n  image-tag-latest: {enabled: false}\n  PIN002:\n    severity: warning\n",
        )
        .expect("ok");
        assert_eq!(cfg.severity_for("PIN004"), Some(Severity::Error));
        assert_eq!(cfg.severity_for("PIN001"), None);
        assert_eq!(cfg.severity_for("PIN002"), Some(Severity::Warning));
    }

    #[test]
    fn pin003_options_and_security_flag() {
        let cfg = parse(
            "rules:\n  PIN003: {tags: [main, stable], floating-versions: false}\n  forbid-annotation-suppression-for-security: true\n",
        )
        .expect("ok");
        assert_eq!(cfg.mutable_tags, vec!["main", "stable"]);
        assert!(!cfg.floating_versions);
        assert!(cfg.forbid_annotation_suppression_for_security);
    }

    #[test]
    fn errors_carry_lines() {
        let cases = [
            ("rules:\n  PIN999: {enabled: true}\n", 2, "unknown rule"),
            (
                "rules:\n  PIN001:\n    enabled: maybe\n",
                3,
                "true or false",
            ),
            ("rules:\n  PIN001:\n    severity: fatal\n", 3, "severity"),
            ("rules:\n  PIN001:\n    tags: [x]\n", 3, "unknown setting"),
            ("rules:\n  PIN003:\n    tags: x\n", 3, "list"),
            (
                "rules:\n  RENDER001: {enabled: false}\n",
                2,
                "cannot be configured",
            ),
            ("rules:\n  PIN001: true\n", 2, "mapping"),
            ("rules: [PIN001]\n", 1, "mapping"),
        ];
        for (src, line, needle) in cases {
            let e = parse(src).expect_err(src);
            assert_eq!(e.origin.line, line, "{src}: {e}");
            assert!(e.message.contains(needle), "{src}: {e}");
            assert!(e.to_string().starts_with(".driftlint.yaml:"), "{e}");
        }
    }

    #[test]
    fn null_section_is_default() {
        let cfg = parse("rules:\n").expect("ok");
        assert_eq!(cfg, RuleConfig::default());
    }

    #[test]
    fn kube_versions() {
        assert_eq!(parse_kube_version("1.29"), Some((1, 29)));
        assert_eq!(parse_kube_version("v1.29.3"), Some((1, 29)));
        assert_eq!(parse_kube_version("1"), None);
        assert_eq!(parse_kube_version("1.x"), None);
        let mut cfg = RuleConfig::default();
        assert!(cfg.set_kube_version("1.25"));
        assert_eq!(cfg.kube_version, (1, 25));
        assert!(!cfg.set_kube_version("latest"));
        assert_eq!(cfg.kube_version, (1, 25));
    }
}
