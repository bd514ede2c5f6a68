//! Kubernetes object helpers shared by the rules: API groups, pod specs and containers with
//! their JSON pointers, placeholders.

use driftlint_yaml::Node;

/// A node found inside an object, with its JSON pointer from the object root.
#[derive(Clone, Debug)]
pub(crate) struct Located<'a> {
    pub node: &'a Node,
    pub pointer: String,
}

impl<'a> Located<'a> {
    pub(crate) fn root(node: &'a Node) -> Self {
        Located {
            node,
            pointer: String::new(),
        }
    }

    /// The value at mapping key `key`, if present.
    pub(crate) fn key(&self, key: &str) -> Option<Located<'a>> {
        self.node.get(key).map(|node| Located {
            node,
            pointer: format!("{}/{}", self.pointer, escape(key)),
        })
    }

    /// Follows several mapping keys.
    pub(crate) fn path(&self, keys: &[&str]) -> Option<Located<'a>> {
        keys.iter().try_fold(self.clone(), |at, k| at.key(k))
    }

    /// The items of a sequence (none when this is not a sequence).
    pub(crate) fn items(&self) -> Vec<Located<'a>> {
        self.node
            .as_seq()
            .map(|items| {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, node)| Located {
                        node,
                        pointer: format!("{}/{i}", self.pointer),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The (key, value) entries of a mapping with string keys.
    pub(crate) fn entries(&self) -> Vec<(&'a str, Located<'a>)> {
        self.node
            .as_map()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| {
                        let key = k.as_scalar()?.text.as_str();
                        Some((
                            key,
                            Located {
                                node: v,
                                pointer: format!("{}/{}", self.pointer, escape(key)),
                            },
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Escapes a key for a JSON pointer (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// True for an `apiextensions.k8s.io` CustomResourceDefinition.
pub(crate) fn is_crd(o: &Node) -> bool {
    o.str_at(&["kind"]) == Some("CustomResourceDefinition")
        && group_of(o.str_at(&["apiVersion"]).unwrap_or_default()) == "apiextensions.k8s.io"
}

/// The API group of an apiVersion: `apps/v1` → `apps`, `v1` → `` (core).
pub(crate) fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// The object's `kind` and apiVersion group.
pub(crate) fn kind_and_group(obj: &Node) -> (&str, &str) {
    let kind = obj.str_at(&["kind"]).unwrap_or_default();
    let group = group_of(obj.str_at(&["apiVersion"]).unwrap_or_default());
    (kind, group)
}

/// The pod spec of a Pod or of a workload's pod template: `Pod` → `/spec`, `CronJob` →
/// `/spec/jobTemplate/spec/template/spec`, `PodTemplate` → `/template/spec`, otherwise
/// `/spec/template/spec` when it is a mapping holding `containers` (Deployment, StatefulSet,
/// DaemonSet, ReplicaSet, ReplicationController, Job and template-bearing custom workloads such
/// as Argo Rollouts).
pub(crate) fn pod_spec(obj: &Node) -> Option<Located<'_>> {
    let root = Located::root(obj);
    let spec = match obj.str_at(&["kind"])? {
        "Pod" => root.key("spec"),
        "CronJob" => root.path(&["spec", "jobTemplate", "spec", "template", "spec"]),
        "PodTemplate" => root.path(&["template", "spec"]),
        _ => root.path(&["spec", "template", "spec"]),
    }?;
    spec.node.get("containers").and_then(Node::as_seq)?;
    Some(spec)
}

/// Every container mapping (containers, initContainers, ephemeralContainers) of the object's
/// pod spec, in that order.
pub(crate) fn containers(obj: &Node) -> Vec<Located<'_>> {
    let Some(spec) = pod_spec(obj) else {
        return Vec::new();
    };
    ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .filter_map(|k| spec.key(k))
        .flat_map(|list| list.items())
        .filter(|c| c.node.as_map().is_some())
        .collect()
}

/// The container's `name`, or `?`.
pub(crate) fn container_name(container: &Node) -> &str {
    container.str_at(&["name"]).unwrap_or("?")
}

/// True when `text` consists only of Flux post-build placeholders (`${VAR}`,
/// `${VAR:=default}`, `${VAR:-default}`, as [`driftlint_yaml::flux_placeholders`] reads them)
/// and whitespace, with at least one placeholder.
pub(crate) fn is_placeholder_only(text: &str) -> bool {
    let found = driftlint_yaml::flux_placeholders(text);
    let mut at = 0;
    for p in &found {
        if !text[at..p.span.start].trim().is_empty() {
            return false;
        }
        at = p.span.end;
    }
    !found.is_empty() && text[at..].trim().is_empty()
}

/// True when `text` is a Kubernetes dependent env var reference only (`$(OTHER_VAR)`).
pub(crate) fn is_env_reference_only(text: &str) -> bool {
    let t = text.trim();
    t.starts_with("$(") && t.ends_with(')') && t[2..t.len() - 1].chars().all(is_env_char)
}

fn is_env_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'
}

/// True for a SOPS-encrypted value (`ENC[AES256_GCM,data:...,type:str]`).
pub(crate) fn is_sops_encrypted(text: &str) -> bool {
    let t = text.trim();
    t.starts_with("ENC[") && t.ends_with(']')
}

/// Parses `"1.29"`, `"v1.29"`, `"1.29.3"` into (1, 29).
pub fn parse_kube_version(text: &str) -> Option<(u32, u32)> {
    let t = text.trim().trim_start_matches('v');
    let mut parts = t.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    match parts.next() {
        None => Some((major, minor)),
        Some(p) if p.parse::<u32>().is_ok() && parts.next().is_none() => Some((major, minor)),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::parse_one;

    #[test]
    fn groups() {
        assert_eq!(group_of("v1"), "");
        assert_eq!(group_of("apps/v1"), "apps");
        assert_eq!(group_of("networking.k8s.io/v1"), "networking.k8s.io");
    }

    #[test]
    fn containers_of_workloads_with_pointers() {
        let cron = parse_one(
            "t.yaml",
            "kind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: a}]\n          initContainers: [{name: b}]\n",
        );
        let ptrs: Vec<_> = containers(&cron).into_iter().map(|c| c.pointer).collect();
        assert_eq!(
            ptrs,
            vec![
                "/spec/jobTemplate/spec/template/spec/containers/0",
                "/spec/jobTemplate/spec/template/spec/initContainers/0"
            ]
        );
        let pod = parse_one("t.yaml", "kind: Pod\nspec:\n  containers: [{name: a}]\n");
        assert_eq!(containers(&pod)[0].pointer, "/spec/containers/0");
        let cm = parse_one("t.yaml", "kind: ConfigMap\ndata: {a: b}\n");
        assert!(containers(&cm).is_empty());
    }

    #[test]
    fn placeholders() {
        assert!(is_placeholder_only("${DB_PASSWORD}"));
        assert!(is_placeholder_only("${A}${B}"));
        assert!(is_placeholder_only("${A:=x}"));
        assert!(!is_placeholder_only("pre-${A}"));
        assert!(!is_placeholder_only("hunter2"));
        assert!(is_placeholder_only(" ${A:-x} ${B} "));
        assert!(
            !is_placeholder_only("$${A}"),
            "an escaped placeholder is literal text"
        );
        assert!(!is_placeholder_only("${A:+x}"));
        assert!(is_env_reference_only("$(DB_PASS)"));
        assert!(!is_env_reference_only("$(DB_PASS)x"));
        assert!(is_sops_encrypted("ENC[AES256_GCM,data:abc,type:str]"));
    }

    #[test]
    fn pointer_escaping() {
        assert_eq!(escape("a/b~c"), "a~1b~0c");
    }
}
