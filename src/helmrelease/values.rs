//! A HelmRelease's values, as helm-controller's `chartutil.ChartValuesFromReferences` builds
//! them: each `spec.valuesFrom` entry in order (a ConfigMap's `data` or a Secret's `data`/
//! `stringData` key, default `values.yaml`, merged as a YAML map, or with `targetPath` set at
//! that path as `helm --set` does — `--set-string` when the value is quoted), then
//! `spec.values` merged over them. Maps merge key by key, anything else replaces
//! (`transform.MergeMaps`, the same merge as Helm's values files).
//!
//! The result is a list of values documents handed to the Helm engine in that order; each
//! keeps the lines it was written on (the HelmRelease, or the ConfigMap key), so findings
//! about a value point at the line to edit.

use std::sync::Arc;

use driftlint_helm::values::{parse_set, SetKind};
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{Node, Origin};

use crate::flux::find_source;

/// Values documents of a release, in merge order, and the repository files they came from.
#[derive(Default)]
pub(crate) struct Values {
    pub(crate) docs: Vec<Node>,
    pub(crate) files: Vec<std::path::PathBuf>,
}

/// Why a values source cannot be used: the message and the `valuesFrom` entry's line.
/// `unsupported` marks what driftlint cannot reproduce (RENDER002) rather than what
/// helm-controller itself rejects (RENDER001).
pub(crate) struct ValuesProblem {
    pub(crate) message: String,
    pub(crate) origin: Origin,
    pub(crate) unsupported: bool,
}

/// The values of the HelmRelease `hr` (in `namespace`), reading `valuesFrom` sources among
/// `known` (the repository's rendered objects; the nearest one to the HelmRelease's file when
/// several match). Errors: a required source that is not in the repository or cannot be read
/// (SOPS-encrypted), a missing key, a key that is not YAML, a `targetPath` helm-controller
/// refuses.
pub(crate) fn release_values(
    fs: &RepoFs,
    hr: &Node,
    namespace: &str,
    known: &[&Node],
) -> Result<Values, ValuesProblem> {
    let mut out = Values::default();
    let refs = hr
        .get_path(&["spec", "valuesFrom"])
        .and_then(Node::as_seq)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for r in refs {
        if let Some(doc) = value_ref(fs, hr, r, namespace, known, &mut out.files)? {
            out.docs.push(doc);
        }
    }
    if let Some(values) = hr.get_path(&["spec", "values"]) {
        out.docs.push(values.clone());
    }
    Ok(out)
}

fn value_ref(
    fs: &RepoFs,
    hr: &Node,
    r: &Node,
    namespace: &str,
    known: &[&Node],
    files: &mut Vec<std::path::PathBuf>,
) -> Result<Option<Node>, ValuesProblem> {
    let kind = r.str_at(&["kind"]).unwrap_or("");
    let name = r.str_at(&["name"]).unwrap_or("");
    let key = r
        .str_at(&["valuesKey"])
        .filter(|k| !k.is_empty())
        .unwrap_or("values.yaml");
    let optional = r.get("optional").and_then(Node::scalar_text) == Some("true");
    let problem = |what: String, unsupported: bool| {
        ValuesProblem {
        message: format!("could not resolve {kind} chart values reference '{namespace}/{name}' with key '{key}': {what}"),
        origin: r.origin.clone(),
        unsupported,
    }
    };
    if !matches!(kind, "ConfigMap" | "Secret") {
        return Err(problem("unsupported values reference kind".into(), false));
    }
    let Some(source) = find_source(known, kind, name, namespace, &hr.origin.file) else {
        if optional {
            return Ok(None);
        }
        return Err(problem(
            "not found in the repository (driftlint cannot read what the cluster holds)".into(),
            true,
        ));
    };
    files.push(std::path::PathBuf::from(source.origin.file.as_ref()));
    if source.get("sops").is_some() {
        return Err(problem(
            "SOPS-encrypted: its values cannot be read".into(),
            true,
        ));
    }
    let Some((text, at)) = data_value(source, key) else {
        if optional {
            return Ok(None);
        }
        return Err(problem("key not found".into(), false));
    };
    match r.str_at(&["targetPath"]).filter(|p| !p.is_empty()) {
        Some(path) => at_target_path(path, &text, &at).map(Some).map_err(|e| {
            let unsupported = e.contains("driftlint");
            problem(format!("failed to merge value: {e}"), unsupported)
        }),
        None => parse_doc(fs, &text, &at)
            .map(Some)
            .map_err(|e| problem(format!("failed to read values data: {e}"), false)),
    }
}

/// The text of `key` in a ConfigMap's `data` or a Secret's `data` (base64) or `stringData`,
/// with the origin of its value node.
fn data_value(source: &Node, key: &str) -> Option<(String, Origin)> {
    let secret = source.str_at(&["kind"]) == Some("Secret");
    if secret {
        if let Some(v) = source.get_path(&["stringData", key]) {
            return Some((v.as_scalar()?.text.clone(), v.origin.clone()));
        }
        let v = source.get_path(&["data", key])?;
        let raw = v.as_scalar()?.text.trim().to_string();
        let bytes = data_encoding::BASE64.decode(raw.as_bytes()).ok()?;
        return Some((String::from_utf8(bytes).ok()?, v.origin.clone()));
    }
    let v = source.get_path(&["data", key])?;
    Some((v.as_scalar()?.text.clone(), v.origin.clone()))
}

/// helm-controller's `ReplacePathValue`: `path=value` parsed as `--set` (as `--set-string`,
/// quotes trimmed, when the value is wrapped in `'` or `"`), every node at `at`.
/// Errors: strvals' message; list indices (`a[0]`), which strvals sets into the list merged
/// so far where a separate document would replace it, are refused as unsupported.
fn at_target_path(path: &str, value: &str, at: &Origin) -> Result<Node, String> {
    if path.contains('[') {
        return Err(format!(
            "targetPath {path:?} with a list index is not supported by driftlint"
        ));
    }
    let quoted = |q: char| value.len() >= 2 && value.starts_with(q) && value.ends_with(q);
    let mut map = serde_json::Map::new();
    if quoted('\'') || quoted('"') {
        let trimmed = value.trim_matches(|c| c == '\'' || c == '"');
        parse_set(&format!("{path}={trimmed}"), SetKind::String, &mut map)?;
    } else {
        parse_set(&format!("{path}={value}"), SetKind::Typed, &mut map)?;
    }
    Ok(Node::from_json(&serde_json::Value::Object(map), at))
}

/// A values YAML document held in a ConfigMap key; its nodes point at the lines of the key's
/// block in the ConfigMap's file when the text is written there verbatim (a `|` block),
/// else at the key's value.
fn parse_doc(fs: &RepoFs, text: &str, at: &Origin) -> Result<Node, String> {
    let docs = driftlint_yaml::parse_documents(at.file.clone(), text).map_err(|e| e.to_string())?;
    let mut doc = match docs.into_iter().next() {
        Some(d) => d,
        None => return Ok(Node::map(at.clone())),
    };
    match block_start(fs, text, at) {
        Some((line, indent)) => shift(&mut doc, line, indent),
        None => doc.set_origin_deep(at),
    }
    Ok(doc)
}

/// Where the verbatim content of a block scalar starting at `at` is: the file line before its
/// first line (0-based offset to add) and its indentation, when every line of `text` is found
/// there indented.
fn block_start(fs: &RepoFs, text: &str, at: &Origin) -> Option<(u32, u32)> {
    let file: Arc<str> = fs.text_read(&at.file)?;
    let lines: Vec<&str> = file.lines().collect();
    let first = text.lines().next()?;
    let start = at.line as usize; // the line after the indicator, 0-based
    let candidate = lines.get(start)?;
    let indent = candidate.len() - candidate.trim_start().len();
    if candidate.get(indent..)? != first {
        return None;
    }
    let verbatim = text.lines().enumerate().all(|(i, l)| {
        let got = lines.get(start + i).copied().unwrap_or("");
        l.is_empty() && got.trim().is_empty() || got.get(indent..) == Some(l)
    });
    verbatim.then_some((at.line, indent as u32))
}

fn shift(n: &mut Node, lines: u32, indent: u32) {
    n.origin.line += lines;
    n.origin.column += indent;
    match &mut n.value {
        driftlint_yaml::Value::Scalar(_) => {}
        driftlint_yaml::Value::Seq(items) => items.iter_mut().for_each(|i| shift(i, lines, indent)),
        driftlint_yaml::Value::Map(m) => {
            for (k, v) in m.entries_mut().iter_mut() {
                shift(k, lines, indent);
                shift(v, lines, indent);
            }
        }
    }
}

/// helm-controller's `release.ShortenName`: a name over 53 characters is cut to 40, then `-`
/// and the first 12 hex digits of its SHA-256.
pub(crate) fn shorten_name(name: &str) -> String {
    use sha2::Digest as _;
    if name.len() <= 53 {
        return name.to_string();
    }
    let sum = data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(name.as_bytes()));
    let cut = name.get(..40).unwrap_or(name);
    format!("{cut}-{}", &sum[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_release_names_are_shortened_as_helm_controller_does() {
        let name = "some-very-long-target-namespace-with-a-long-release-name-x";
        assert_eq!(
            shorten_name(name),
            "some-very-long-target-namespace-with-a-l-d300d36d079a"
        );
        assert_eq!(shorten_name("short"), "short");
        assert_eq!(shorten_name(&"a".repeat(53)), "a".repeat(53));
    }

    #[test]
    fn target_paths_parse_as_helm_set_and_quoted_values_stay_strings() {
        let at = Origin::new("cm.yaml".into(), 3, 5);
        let typed = at_target_path("a.b", "3", &at).unwrap().to_json();
        assert_eq!(typed, serde_json::json!({"a": {"b": 3}}));
        let quoted = at_target_path("a.b", "\"3\"", &at).unwrap().to_json();
        assert_eq!(quoted, serde_json::json!({"a": {"b": "3"}}));
        assert!(at_target_path("a[0]", "x", &at)
            .unwrap_err()
            .contains("not supported by driftlint"));
    }
}
