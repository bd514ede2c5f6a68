//! Removed and deprecated API versions: `data/api-lifecycle.yaml` (embedded), or a replacement
//! file in the same shape.

use std::sync::{Arc, LazyLock};

use driftlint_yaml::{parse_documents, Node};

use crate::error::RuleConfigError;
use crate::k8s::parse_kube_version;

/// One apiVersion/kind and when it was deprecated and removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiEntry {
    /// `extensions/v1beta1`.
    pub api_version: String,
    /// `Ingress`.
    pub kind: String,
    /// (major, minor) of the release that deprecated it, if any.
    pub deprecated_in: Option<(u32, u32)>,
    /// (major, minor) of the release that stopped serving it, if scheduled.
    pub removed_in: Option<(u32, u32)>,
    /// What to use instead (free text; empty when there is no replacement).
    pub replacement: String,
}

/// The lifecycle table: entries in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiLifecycle {
    /// The entries.
    pub entries: Vec<ApiEntry>,
}

impl ApiLifecycle {
    /// The entry for (apiVersion, kind), if any.
    pub fn find(&self, api_version: &str, kind: &str) -> Option<&ApiEntry> {
        self.entries
            .iter()
            .find(|e| e.api_version == api_version && e.kind == kind)
    }
}

static EMBEDDED: LazyLock<Arc<ApiLifecycle>> = LazyLock::new(|| {
    let src = include_str!("../../../data/api-lifecycle.yaml");
    match parse_api_lifecycle("data/api-lifecycle.yaml", src) {
        Ok(l) => Arc::new(l),
        // Compile-time data, checked by `embedded_data_parses`.
        Err(e) => panic!("embedded data/api-lifecycle.yaml is invalid: {e}"),
    }
});

/// The embedded `data/api-lifecycle.yaml` (derived from FairwindsOps/pluto's versions.yaml).
pub fn embedded_api_lifecycle() -> Arc<ApiLifecycle> {
    EMBEDDED.clone()
}

/// Parses a lifecycle file: `apis:` a list of `{api-version, kind, deprecated-in, removed-in,
/// replacement}` with versions written `"1.22"` (or `v1.22.0`, as pluto writes them).
///
/// Errors (at the offending line): a missing `apis` list, an entry without `api-version` or
/// `kind`, an unparsable version, or an unknown key.
pub fn parse_api_lifecycle(file: &str, src: &str) -> Result<ApiLifecycle, RuleConfigError> {
    let docs = parse_documents(file.into(), src).map_err(|e| RuleConfigError {
        origin: driftlint_yaml::Origin::new(e.file.clone(), e.line, e.column),
        message: e.message,
    })?;
    let origin = driftlint_yaml::Origin::new(file.into(), 1, 1);
    let root = docs.first().ok_or_else(|| RuleConfigError {
        origin: origin.clone(),
        message: "empty API lifecycle file".into(),
    })?;
    let apis = root
        .get("apis")
        .and_then(Node::as_seq)
        .ok_or_else(|| err(root, "expected an `apis:` list"))?;
    let entries = apis.iter().map(entry).collect::<Result<_, _>>()?;
    Ok(ApiLifecycle { entries })
}

fn entry(node: &Node) -> Result<ApiEntry, RuleConfigError> {
    let map = node
        .as_map()
        .ok_or_else(|| err(node, "expected a mapping"))?;
    let mut e = ApiEntry {
        api_version: String::new(),
        kind: String::new(),
        deprecated_in: None,
        removed_in: None,
        replacement: String::new(),
    };
    for (k, v) in map.iter() {
        let text = v.as_scalar().map(|s| s.text.clone()).unwrap_or_default();
        match k.as_str().unwrap_or_default() {
            "api-version" => e.api_version = text,
            "kind" => e.kind = text,
            "deprecated-in" => e.deprecated_in = version(v, &text)?,
            "removed-in" => e.removed_in = version(v, &text)?,
            "replacement" => e.replacement = text,
            other => return Err(err(k, format!("unknown key `{other}`"))),
        }
    }
    if e.api_version.is_empty() || e.kind.is_empty() {
        return Err(err(node, "an entry needs `api-version` and `kind`"));
    }
    Ok(e)
}

fn version(node: &Node, text: &str) -> Result<Option<(u32, u32)>, RuleConfigError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    parse_kube_version(text)
        .map(Some)
        .ok_or_else(|| err(node, format!("`{text}` is not a Kubernetes version")))
}

fn err(node: &Node, message: impl Into<String>) -> RuleConfigError {
    RuleConfigError {
        origin: node.origin.clone(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_parses() {
        let l = embedded_api_lifecycle();
        assert!(l.entries.len() > 50);
        let ing = l.find("extensions/v1beta1", "Ingress").expect("entry");
        assert_eq!(ing.removed_in, Some((1, 22)));
        let fc = l
            .find("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema")
            .expect("entry");
        assert_eq!(
            (fc.deprecated_in, fc.removed_in),
            (Some((1, 29)), Some((1, 32)))
        );
        for e in &l.entries {
            if let (Some(d), Some(r)) = (e.deprecated_in, e.removed_in) {
                assert!(d <= r, "{e:?}");
            }
        }
    }

    #[test]
    fn pluto_style_versions_and_errors() {
        let ok = parse_api_lifecycle(
            "l.yaml",
            "apis:\n  - api-version: x/v1\n    kind: K\n    deprecated-in: v1.9.0\n    removed-in: \"\"\n",
        )
        .expect("ok");
        assert_eq!(ok.entries[0].deprecated_in, Some((1, 9)));
        assert_eq!(ok.entries[0].removed_in, None);
        let bad = parse_api_lifecycle(
            "l.yaml",
            "apis:\n  - api-version: x/v1\n    kind: K\n    removed-in: soon\n",
        )
        .expect_err("bad version");
        assert_eq!(bad.origin.line, 4);
        let bad = parse_api_lifecycle("l.yaml", "apis:\n  - kind: K\n").expect_err("no version");
        assert_eq!(bad.origin.line, 2);
        assert!(parse_api_lifecycle("l.yaml", "x: 1\n").is_err());
    }
}
