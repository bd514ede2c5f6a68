//! The release half of a helmfile state: each `releases:` entry as a [`Release`] (templated
//! fields rendered with `.Release`, `installed`/`condition`, values files and inline maps,
//! `set`/`setString`, `needs`, labels, chartify patches) and `helmfiles:` selectors.
//! Upstream: helmfile `pkg/state/release.go`, `pkg/state/state.go`.

use std::collections::BTreeMap;
use std::path::Path;

use driftlint_helm::SetKind;
use driftlint_yaml::{Node, Origin};
use gotmpl::Value;

use super::super::funcs::UNSUPPORTED;
use super::super::values::{at_path, from_node, scalar_string};
use super::{
    normalize, HfError, Loader, Release, State, IGNORED_RELEASE_KEYS, UNSUPPORTED_RELEASE_KEYS,
};

impl Loader<'_> {
    /// A release entry as a [`Release`], `None` when `installed: false` or its `condition` is
    /// false. Errors only for the state as a whole (a release without a name); the release's
    /// own problems go in [`Release::error`].
    pub(super) fn release(
        &self,
        node: &Node,
        dir: &Path,
        file: &Path,
        values: &Value,
        st: &State,
    ) -> Result<Option<Release>, HfError> {
        let raw = |k: &str| node.get(k).and_then(scalar_string);
        let Some(raw_name) = raw("name") else {
            return Err(HfError::new("a release needs a name", &node.origin));
        };
        let ns0 = raw("namespace")
            .or_else(|| self.opts.namespace.clone())
            .unwrap_or_default();
        let chart0 = raw("chart").unwrap_or_default();
        let mut labels: BTreeMap<String, String> = st.common_labels.clone();
        for (k, v) in node
            .get("labels")
            .and_then(Node::as_map)
            .into_iter()
            .flat_map(|m| m.iter())
        {
            if let (Some(k), Some(v)) = (k.as_str(), scalar_string(v)) {
                labels.insert(k.to_string(), v);
            }
        }
        let user_labels = labels.clone();
        let release_data = |name: &str, ns: &str, chart: &str| {
            let l = user_labels
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.clone())));
            Value::map([
                ("Name", Value::from(name.to_string())),
                ("Namespace", Value::from(ns.to_string())),
                ("Chart", Value::from(chart.to_string())),
                ("KubeContext", Value::from("")),
                ("Labels", Value::map(l)),
            ])
        };
        let display = self.display(file);
        let data = self.data(values, Some(release_data(&raw_name, &ns0, &chart0)));
        let tmpl = |s: String, at: &Origin| -> Result<String, HfError> {
            if s.contains("{{") {
                self.render(dir, &display, at.line, &s, &data)
            } else {
                Ok(s)
            }
        };
        let origin = node
            .get("name")
            .map_or(node.origin.clone(), |n| n.origin.clone());
        let name = tmpl(raw_name, &origin)?;
        let namespace = tmpl(ns0, &origin)?;
        let chart_origin = node
            .get("chart")
            .map_or(origin.clone(), |n| n.origin.clone());
        let chart = tmpl(chart0, &chart_origin)?;
        let version = raw("version").map(|v| tmpl(v, &origin)).transpose()?;
        if let Some(installed) = raw("installed") {
            if tmpl(installed, &origin)?.trim() == "false" {
                return Ok(None);
            }
        }
        if let Some(cond) = raw("condition") {
            match at_path(values, &cond) {
                Some(Value::Bool(true)) => {}
                Some(Value::Bool(false)) => return Ok(None),
                _ => {
                    let at = node.get("condition").map_or(&origin, |n| &n.origin);
                    return Err(HfError::new(
                        format!("environment values field '{cond}' not found or not a boolean"),
                        at,
                    ));
                }
            }
        }
        labels.insert("name".into(), name.clone());
        labels.insert("namespace".into(), namespace.clone());
        labels.insert("chart".into(), chart.clone());
        let needs = needs(node, &namespace);
        let mut r = Release {
            name: name.clone(),
            namespace: namespace.clone(),
            chart: chart.clone(),
            version,
            file: file.to_path_buf(),
            origin,
            chart_origin,
            dir: dir.to_path_buf(),
            values: Vec::new(),
            sets: Vec::new(),
            set_files: Vec::new(),
            needs,
            labels,
            repositories: st.repositories.clone(),
            files: st.files.clone(),
            patches: Default::default(),
            error: None,
        };
        let data = self.data(values, Some(release_data(&name, &namespace, &chart)));
        let handler = raw("missingFileHandler").or_else(|| st.missing_file_handler.clone());
        if let Err(e) = self.release_inputs(&mut r, node, &data, handler.as_deref()) {
            r.error = Some(e);
        }
        Ok(Some(r))
    }

    /// Values, secrets and sets of a release; unsupported keys.
    pub(super) fn release_inputs(
        &self,
        r: &mut Release,
        node: &Node,
        data: &Value,
        handler: Option<&str>,
    ) -> Result<(), HfError> {
        for (k, _) in node.as_map().into_iter().flat_map(|m| m.iter()) {
            let key = k.as_str().unwrap_or("");
            if UNSUPPORTED_RELEASE_KEYS.contains(&key) {
                return Err(HfError::unsupported(
                    format!(
                        "release {}: {key} {UNSUPPORTED} (helmfile applies it through chartify)",
                        r.name
                    ),
                    &k.origin,
                ));
            }
            let known = [
                "name",
                "namespace",
                "chart",
                "version",
                "values",
                "secrets",
                "set",
                "setString",
                "needs",
                "installed",
                "labels",
                "strategicMergePatches",
                "jsonPatches",
            ];
            if !known.contains(&key) && !IGNORED_RELEASE_KEYS.contains(&key) {
                return Err(HfError::new(
                    format!(
                        "field {key} not found in type state.ReleaseSpec (an unknown release key)"
                    ),
                    &k.origin,
                ));
            }
        }
        for entry in node
            .get("values")
            .and_then(Node::as_seq)
            .into_iter()
            .flatten()
        {
            let entry = self.templated_path(entry, &r.dir, data)?;
            if let Some((doc, files)) = self.values_entry(&entry, &r.dir, data, handler)? {
                r.values.push(doc);
                r.files.extend(files);
            }
        }
        for entry in node
            .get("secrets")
            .and_then(Node::as_seq)
            .into_iter()
            .flatten()
        {
            if let Some((doc, files)) = self.secrets_entry(entry, &r.dir, handler)? {
                r.values.push(doc);
                r.files.extend(files);
            }
        }
        self.patches(r, node, data)?;
        for (key, kind) in [("set", SetKind::Typed), ("setString", SetKind::String)] {
            for s in node.get(key).and_then(Node::as_seq).into_iter().flatten() {
                self.set_entry(r, s, kind)?;
            }
        }
        Ok(())
    }

    /// `strategicMergePatches:` (objects, or files holding one) and `jsonPatches:`
    /// (`{target, patch: [operations]}`).
    pub(super) fn patches(
        &self,
        r: &mut Release,
        node: &Node,
        data: &Value,
    ) -> Result<(), HfError> {
        for (key, k, v) in ["strategicMergePatches", "jsonPatches"]
            .iter()
            .filter_map(|key| {
                let (k, v) = node.as_map()?.get_entry(key)?;
                Some((*key, k, v))
            })
        {
            r.patches.origin.get_or_insert_with(|| k.origin.clone());
            for entry in v.as_seq().into_iter().flatten() {
                if key == "jsonPatches" {
                    match (entry.get("target"), entry.get("patch")) {
                        (Some(t), Some(p)) if p.as_seq().is_some() => {
                            r.patches.json.push((t.clone(), p.clone()))
                        }
                        _ => {
                            return Err(HfError::unsupported(
                                format!("a jsonPatches entry other than {{target, patch: [operations]}} {UNSUPPORTED}"),
                                &entry.origin,
                            ))
                        }
                    }
                } else if entry.as_map().is_some() {
                    r.patches.strategic.push(entry.clone());
                } else if let Some((doc, files)) = self.values_entry(entry, &r.dir, data, None)? {
                    r.patches.strategic.push(doc);
                    r.files.extend(files);
                }
            }
        }
        Ok(())
    }

    /// A values path holding `{{` rendered with the release's data.
    pub(super) fn templated_path(
        &self,
        entry: &Node,
        dir: &Path,
        data: &Value,
    ) -> Result<Node, HfError> {
        match entry.as_str() {
            Some(s) if s.contains("{{") => {
                let display = entry.origin.file.to_string();
                let out = self.render(dir, &display, entry.origin.line, s, data)?;
                Ok(Node::string(out, entry.origin.clone()))
            }
            _ => Ok(entry.clone()),
        }
    }

    /// One `set:` entry: `{name, value}`, `{name, values: [..]}` or `{name, file}`, as
    /// helmfile passes them to helm (`{`, `}` and `,` in values escaped).
    pub(super) fn set_entry(
        &self,
        r: &mut Release,
        s: &Node,
        kind: SetKind,
    ) -> Result<(), HfError> {
        let Some(name) = s.str_at(&["name"]) else {
            return Err(HfError::new("a set entry needs a name", &s.origin));
        };
        if let Some(v) = s.get("value") {
            let text = match &v.value {
                driftlint_yaml::Value::Scalar(sc) => sc.text.clone(),
                _ => from_node(v).as_str().unwrap_or_default().to_string(),
            };
            r.sets.push((kind, format!("{name}={}", escape(&text))));
        } else if let Some(vs) = s.get("values").and_then(Node::as_seq) {
            let items: Vec<String> = vs
                .iter()
                .filter_map(scalar_string)
                .map(|t| escape(&t))
                .collect();
            r.sets
                .push((kind, format!("{name}={{{}}}", items.join(","))));
        } else if let Some(file) = s.str_at(&["file"]) {
            let path = normalize(&r.dir.join(file)).ok_or_else(|| {
                HfError::new(format!("{file}: outside the repository"), &s.origin)
            })?;
            r.set_files
                .push(format!("{name}={}", path.to_string_lossy()));
            r.files.push(path);
        } else {
            return Err(HfError::new(
                "a set entry needs value, values or file",
                &s.origin,
            ));
        }
        Ok(())
    }
}

/// helmfile's `escape` for `--set` values.
fn escape(v: &str) -> String {
    v.replace('{', "\\{")
        .replace('}', "\\}")
        .replace(',', "\\,")
}

/// `needs:` entries (`name`, `namespace/name`, `context/namespace/name`) as (namespace, name).
pub(super) fn needs(node: &Node, namespace: &str) -> Vec<(String, String)> {
    node.get("needs")
        .and_then(Node::as_seq)
        .into_iter()
        .flatten()
        .filter_map(Node::as_str)
        .map(|n| {
            let parts: Vec<&str> = n.split('/').collect();
            match parts.as_slice() {
                [name] => (namespace.to_string(), (*name).to_string()),
                [.., ns, name] => ((*ns).to_string(), (*name).to_string()),
                [] => (namespace.to_string(), String::new()),
            }
        })
        .collect()
}

/// Whether a release matches one of `selectors` (each `k=v,k2!=v2`; none: all match), as
/// helmfile's label selectors.
pub(super) fn selected(r: &Release, selectors: &[String]) -> bool {
    selectors.is_empty()
        || selectors.iter().any(|sel| {
            sel.split(',').filter(|t| !t.trim().is_empty()).all(|term| {
                if let Some((k, v)) = term.split_once("!=") {
                    r.labels.get(k.trim()).map(String::as_str) != Some(v.trim())
                } else if let Some((k, v)) = term.split_once('=') {
                    r.labels.get(k.trim()).map(String::as_str) == Some(v.trim())
                } else {
                    false
                }
            })
        })
}
