//! From rendered template files to `helm template`'s stdout, as Helm's
//! `releaseutil.SplitManifests`, `SortManifests` (hooks split out by the `helm.sh/hook`
//! annotation, unknown hook events dropped) and the install-order kind sort
//! (pkg/release/v1/util/kind_sorter.go, Helm v4).

use std::sync::Arc;

use driftlint_yaml::{Node, Resolved, Schema, Value as YamlValue};

use super::HelmError;

/// Helm v4's `InstallOrder`: kinds not listed sort after these, alphabetically.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Hook events Helm knows (`release.HookEvent`).
const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// One manifest document of a rendered template file.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// `chart/templates/x.yaml`, printed as `# Source:`.
    pub source: String,
    /// The document text, trimmed.
    pub content: String,
    /// `kind:` (empty when absent).
    pub kind: String,
    /// Hook events, when this is a hook.
    pub hook_events: Option<Vec<String>>,
}

impl Manifest {
    /// Whether this is a test hook.
    pub fn is_test(&self) -> bool {
        self.hook_events
            .as_ref()
            .is_some_and(|e| e.iter().any(|x| x == "test" || x == "test-success"))
    }
}

/// Helm's `SplitManifests`: the file cut at `---` lines, each piece trimmed, empty ones dropped.
pub fn split_manifests(text: &str) -> Vec<String> {
    split_sep(text.trim())
        .into_iter()
        .filter(|d| !d.is_empty())
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
        .collect()
}

/// Byte ranges in `text` of the documents [`split_manifests`] returns, in order.
pub fn manifest_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let base = text.as_ptr() as usize;
    let off = |s: &str| s.as_ptr() as usize - base;
    split_sep(text.trim())
        .into_iter()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| off(d)..off(d) + d.len())
        .collect()
}

/// `regexp.MustCompile("(?:^|\\s*\n)---\\s*").Split(text, -1)` as Helm's `SplitManifests`
/// (Go's `\s` is ASCII: tab, newline, form feed, carriage return, space), without compiling
/// a regex: a separator is `---` at the start of `text`, or a `\n---` together with the
/// whitespace before it (leftmost match) and after it.
fn split_sep(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut pieces = Vec::new();
    let (mut last, mut search) = (0, 0);
    loop {
        let (start, dashes) = if search == 0 && text.starts_with("---") {
            (0, 0)
        } else {
            match text.get(search..).and_then(|t| t.find("\n---")) {
                Some(k) => {
                    let nl = search + k;
                    let mut start = nl;
                    while start > search && b.get(start - 1).is_some_and(u8::is_ascii_whitespace) {
                        start -= 1;
                    }
                    (start, nl + 1)
                }
                None => break,
            }
        };
        let mut end = dashes + 3;
        while b.get(end).is_some_and(u8::is_ascii_whitespace) {
            end += 1;
        }
        pieces.push(text.get(last..start).unwrap_or(""));
        last = end;
        search = end;
    }
    pieces.push(text.get(last..).unwrap_or(""));
    pieces
}

/// `node[key]` in its JSON conversion (`None` when `node` is `None` or not a mapping).
fn get<'a>(node: Option<&'a Node>, key: &str) -> Option<&'a Node> {
    node.and_then(|n| n.json_get(key, Schema::Yaml11))
}

/// The JSON type name `node.to_json()` would have (`None` for null), as Go's decoder names it.
fn json_type(node: &Node) -> Option<&'static str> {
    match &node.value {
        YamlValue::Map(_) => Some("object"),
        YamlValue::Seq(_) => Some("array"),
        YamlValue::Scalar(_) => match node.resolve_with(Schema::Yaml11) {
            Some(Resolved::Null) | None => None,
            Some(Resolved::Bool(_)) => Some("bool"),
            Some(Resolved::Int(_)) => Some("number"),
            // to_json turns a NaN or infinite float into null.
            Some(Resolved::Float(f)) if !f.is_finite() => None,
            Some(Resolved::Float(_)) => Some("number"),
            Some(Resolved::Str(_)) => Some("string"),
        },
    }
}

/// Sorts rendered files (path → text) into (manifests, hooks), both in install order, as
/// Helm's `SortManifests`. Partials and blank files are skipped. Errors: `YAML parse error on
/// PATH: ...` when a document's head does not parse.
pub fn sort_manifests(
    files: &[(String, String)],
) -> Result<(Vec<Manifest>, Vec<Manifest>), HelmError> {
    let mut sorted: Vec<&(String, String)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut generic = Vec::new();
    let mut hooks = Vec::new();
    for (path, text) in sorted {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with('_') || text.trim().is_empty() {
            continue;
        }
        for doc in split_manifests(text) {
            let m = head(path, doc)?;
            match &m.hook_events {
                None => generic.push(m),
                Some(ev) if ev.iter().all(|e| HOOK_EVENTS.contains(&e.as_str())) => hooks.push(m),
                Some(_) => {}
            }
        }
    }
    sort_by_kind(&mut generic);
    sort_by_kind(&mut hooks);
    Ok((generic, hooks))
}

fn head(path: &str, doc: String) -> Result<Manifest, HelmError> {
    let parse_err = |e: String| HelmError::Render(format!("YAML parse error on {path}: {e}"));
    let docs = driftlint_yaml::parse_documents(Arc::from(path), &doc).map_err(|e| {
        parse_err(format!(
            "error converting YAML to JSON: yaml: line {}: {}",
            e.line, e.message
        ))
    })?;
    // What `yaml.Unmarshal` into Helm's `SimpleHead` sees, read from the YAML tree as its
    // JSON conversion (`Node::to_json`) would give it, without converting the document.
    let obj = match docs.first() {
        Some(d) => match json_type(d) {
            None => None,
            Some("object") => Some(d),
            Some(t) => {
                return Err(parse_err(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {t} into Go value of type util.SimpleHead"
                )));
            }
        },
        None => None,
    };
    let kind = get(obj, "kind")
        .and_then(|k| k.json_str(Schema::Yaml11))
        .unwrap_or("")
        .to_string();
    let hook = get(get(get(obj, "metadata"), "annotations"), "helm.sh/hook")
        .and_then(|h| h.json_str(Schema::Yaml11))
        .map(|h| {
            h.split(',')
                .map(|e| e.trim().to_lowercase())
                .collect::<Vec<_>>()
        });
    Ok(Manifest {
        source: path.to_string(),
        content: doc,
        kind,
        hook_events: hook,
    })
}

/// Stable sort by `INSTALL_ORDER`; unknown kinds last, alphabetically among themselves.
pub fn sort_by_kind(ms: &mut [Manifest]) {
    let rank = |k: &str| INSTALL_ORDER.iter().position(|x| *x == k);
    ms.sort_by(|a, b| match (rank(&a.kind), rank(&b.kind)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.kind.cmp(&b.kind),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_match_split() {
        let t = "\n---\na: 1\n---\n\n# c\nb: 2\n---\n";
        let spans: Vec<&str> = manifest_spans(t).into_iter().map(|r| &t[r]).collect();
        assert_eq!(spans, split_manifests(t));
    }

    #[test]
    fn split_sep_matches_gos_regex() {
        // Helm's separator regex with Go's ASCII `\s`, run by the regex crate.
        let re = regex::Regex::new(r"(?:^|[\t\n\x0C\r ]*\n)---[\t\n\x0C\r ]*").unwrap();
        let cases = [
            "",
            "---",
            "---\na: 1",
            "a: 1\n---\nb: 2",
            "a\n---\n---\nb",
            "a  \t\n \n---  \n\n b\n----\nc",
            "a\n--- x\n---",
            "a: |\n  ---\n  x\n---\n# only a comment",
            "a\u{a0}\n---\u{a0}b\r\n---\r\nc",
            "x---\n--\n-\n---",
            "é\n---é",
        ];
        for t in cases {
            let want: Vec<&str> = re.split(t).collect();
            assert_eq!(split_sep(t), want, "{t:?}");
        }
    }

    /// `head` as it was, through the JSON conversion.
    fn head_via_json(doc: &str) -> Result<(String, Option<String>), &'static str> {
        use serde_json::Value as Json;
        let Ok(docs) = driftlint_yaml::parse_documents(Arc::from("t"), doc) else {
            return Err("YAML parse error");
        };
        let obj = match docs.first().map(|d| d.to_json()).unwrap_or(Json::Null) {
            Json::Object(m) => m,
            Json::Null => serde_json::Map::new(),
            Json::String(_) => return Err("string"),
            Json::Array(_) => return Err("array"),
            Json::Bool(_) => return Err("bool"),
            _ => return Err("number"),
        };
        let kind = obj.get("kind").and_then(Json::as_str).unwrap_or("");
        let hook = obj
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get("helm.sh/hook"))
            .and_then(Json::as_str);
        Ok((kind.to_string(), hook.map(str::to_string)))
    }

    #[test]
    fn head_reads_the_tree_as_its_json() {
        let docs = [
            "kind: Pod",
            "kind: Pod\nkind: Service",
            "kind: 5",
            "kind: yes",
            "kind: ~",
            "\"kind\": 'Job'",
            "kind: [a]",
            "metadata: {annotations: {helm.sh/hook: \"pre-install, Test\"}}",
            "metadata: {annotations: {helm.sh/hook: 1}}",
            "metadata: [annotations]",
            "? [kind]\n: Pod\nkind: X",
            "null: 1\n~: Pod",
            ".nan",
            ".inf",
            "1",
            "1.5",
            "yes",
            "x",
            "[1]",
            "~",
            "# only a comment",
        ];
        for d in docs {
            let want = head_via_json(d);
            let got = head("t", d.to_string()).map(|m| {
                let hook = m.hook_events.map(|h| h.join(","));
                (m.kind, hook)
            });
            match (want, got) {
                (Ok((k, h)), Ok((gk, gh))) => {
                    assert_eq!(gk, k, "{d:?}");
                    let h = h.map(|h| {
                        h.split(',')
                            .map(|e| e.trim().to_lowercase())
                            .collect::<Vec<_>>()
                            .join(",")
                    });
                    assert_eq!(gh, h, "{d:?}");
                }
                (Err(t), Err(e)) => assert!(e.to_string().contains(t), "{d:?}: {e}"),
                (w, g) => panic!("{d:?}: want {w:?}, got {:?}", g.map_err(|e| e.to_string())),
            }
        }
    }

    #[test]
    fn split_and_sort() {
        let files = vec![
            (
                "c/templates/b.yaml".to_string(),
                "kind: Service\n---\n---\n# c\n".to_string(),
            ),
            ("c/templates/a.yaml".to_string(), "kind: Zeta\n".to_string()),
            (
                "c/templates/h.yaml".to_string(),
                "kind: Pod\nmetadata:\n  annotations:\n    helm.sh/hook: test\n".to_string(),
            ),
            ("c/templates/_h.tpl".to_string(), "kind: Pod\n".to_string()),
            (
                "c/templates/n.yaml".to_string(),
                "kind: Namespace\n".to_string(),
            ),
        ];
        let (m, h) = sort_manifests(&files).unwrap();
        let kinds: Vec<&str> = m.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(kinds, ["Namespace", "Service", "", "Zeta"]);
        assert_eq!(h.len(), 1);
        assert!(h[0].is_test());
    }
}
