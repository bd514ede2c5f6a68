//! The environment half of a helmfile state: `environments:` values (YAML, `.gotmpl`, HCL,
//! `secrets:` as opaque placeholders), the template data and the Go template rendering of
//! state parts and values files, with helmfile's missing-file handling. Upstream: helmfile
//! `pkg/state/envvals_loader.go`, `pkg/state/storage.go`, `pkg/tmpl`.

use std::path::{Path, PathBuf};

use driftlint_yaml::{Node, Origin};
use gotmpl::{MissingKey, Templates, Value};

use super::super::funcs::{helmfile_funcs, helper_files, FuncEnv, UNSUPPORTED};
use super::super::values::{from_node, merge};
use super::{normalize, HfError, Loader, State, SECRET_PLACEHOLDER};

impl Loader<'_> {
    /// `environments:`: the selected environment's `values:` (files and maps) and `secrets:`.
    pub(super) fn environments(
        &self,
        st: &mut State,
        dir: &Path,
        envs: &Node,
        overrides: &Value,
    ) -> Result<(), HfError> {
        let Some(map) = envs.as_map() else {
            return Ok(());
        };
        st.envs_declared |= !map.is_empty();
        // The values files of every environment belong to the state (not manifest folders).
        for (_, e) in map.iter() {
            for key in ["values", "secrets"] {
                let entries = e.get(key).and_then(Node::as_seq).into_iter().flatten();
                let rels = entries
                    .filter_map(Node::as_str)
                    .filter(|r| !r.contains("{{"));
                st.files
                    .extend(rels.filter_map(|r| normalize(&dir.join(r))));
            }
        }
        let Some(env) = envs.get(&self.opts.environment) else {
            return Ok(());
        };
        st.env_found = true;
        let handler = env.str_at(&["missingFileHandler"]).map(str::to_string);
        let handler = handler.or_else(|| st.missing_file_handler.clone());
        let mut hcl_files = Vec::new();
        for entry in env
            .get("values")
            .and_then(Node::as_seq)
            .into_iter()
            .flatten()
        {
            if entry.as_str().is_some_and(|r| r.ends_with(".hcl")) {
                hcl_files.extend(self.hcl_entry(entry, dir, handler.as_deref())?);
                continue;
            }
            let data = self.data(&st.values(overrides, &self.cli), None);
            if let Some((doc, f)) = self.values_entry(entry, dir, &data, handler.as_deref())? {
                st.env_values = merge(&st.env_values, &from_node(&doc), false);
                st.files.extend(f);
            }
        }
        if !hcl_files.is_empty() {
            let origin = env.get("values").map_or(&env.origin, |v| &v.origin);
            st.env_values = merge(&st.env_values, &self.hcl_values(&hcl_files, origin)?, false);
            st.files.extend(hcl_files);
        }
        for entry in env
            .get("secrets")
            .and_then(Node::as_seq)
            .into_iter()
            .flatten()
        {
            if let Some((doc, f)) = self.secrets_entry(entry, dir, handler.as_deref())? {
                st.env_values = merge(&st.env_values, &from_node(&doc), false);
                st.files.extend(f);
            }
        }
        Ok(())
    }

    /// The template data of a state or values template: `.Environment`, `.Values`,
    /// `.StateValues`, `.Namespace`, and for a release `.Release`.
    pub(super) fn data(&self, values: &Value, release: Option<Value>) -> Value {
        let namespace = Value::from(self.opts.namespace.clone().unwrap_or_default());
        let environment = Value::map([
            ("Name", Value::from(self.opts.environment.clone())),
            ("KubeContext", Value::from("")),
            ("Values", values.clone()),
        ]);
        let mut pairs = vec![
            ("Environment", environment),
            ("Namespace", namespace),
            ("Values", values.clone()),
            ("StateValues", values.clone()),
        ];
        if let Some(r) = release {
            pairs.push(("Release", r));
        }
        Value::map(pairs)
    }

    /// Renders `text` (part of `display` starting at line `start`) in folder `dir`, with the
    /// folder's `_*.tpl` helpers, `missingkey=error` as helmfile.
    pub(super) fn render(
        &self,
        dir: &Path,
        display: &str,
        start: u32,
        text: &str,
        data: &Value,
    ) -> Result<String, HfError> {
        let env = FuncEnv {
            fs: self.fs.clone(),
            dir: dir.to_path_buf(),
            vars: self.opts.vars.clone(),
        };
        let mut set = Templates::new("stringTemplate", helmfile_funcs(&env));
        set.set_missing_key(MissingKey::Error);
        for helper in helper_files(self.fs, dir) {
            let abs = self.fs.root().join(&helper);
            let hdisplay = self.fs.display(&abs);
            let htext = self
                .fs
                .read_text(&abs)
                .map_err(|e| HfError::new(e.to_string(), &self.at(&helper)))?;
            set.parse(&hdisplay, &htext).map_err(|e| {
                HfError::new(
                    e.to_string(),
                    &Origin::new(hdisplay.clone().into(), e.line as u32, 1),
                )
            })?;
        }
        let at = |line: usize| Origin::new(display.into(), start + line.max(1) as u32 - 1, 1);
        set.parse(display, text)
            .map_err(|e| HfError::new(e.to_string(), &at(e.line)))?;
        set.execute(display, data).map_err(|e| {
            let line = e.position.as_ref().map_or(1, |p| p.line);
            let message = e.to_string();
            let message = match driftlint_helm::funcs::extract_warning(&message) {
                Some(w) => format!("{display}: {w}"),
                None => match missing_value_hint(&message, display) {
                    Some(hint) => format!("{message}; {hint}"),
                    None => message,
                },
            };
            HfError::new(message, &at(line))
        })
    }

    /// A `values:` entry: a path (a `.gotmpl` one rendered with `data`) or an inline map.
    /// `None` when a missing file is tolerated by the missing-file handler.
    pub(super) fn values_entry(
        &self,
        entry: &Node,
        dir: &Path,
        data: &Value,
        handler: Option<&str>,
    ) -> Result<Option<(Node, Vec<PathBuf>)>, HfError> {
        if entry.as_map().is_some() {
            return Ok(Some((entry.clone(), Vec::new())));
        }
        let Some(rel) = entry.as_str() else {
            return Err(HfError::new(
                "a values entry is a file path or a mapping",
                &entry.origin,
            ));
        };
        if entry.is_null() {
            return Ok(None);
        }
        if rel.contains("::") || rel.contains("://") {
            return Err(HfError::unsupported(
                format!("remote values file {rel:?} {UNSUPPORTED} (only files of this repository are read)"),
                &entry.origin,
            ));
        }
        let Some(path) = self.existing(dir, rel, entry, handler)? else {
            return Ok(None);
        };
        self.count_file(&path)?;
        let display = self.display(&path);
        let text = self
            .fs
            .read_text(&self.fs.root().join(&path))
            .map_err(|e| HfError::new(e.to_string(), &entry.origin))?;
        let text = if rel.ends_with(".gotmpl") {
            let vdir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            self.render(&vdir, &display, 1, &text, data)?
        } else {
            text.to_string()
        };
        let docs = driftlint_yaml::parse_documents(display.clone().into(), &text).map_err(|e| {
            HfError::new(
                format!("{display}: {}", e.message),
                &Origin::new(e.file.clone(), e.line, e.column),
            )
        })?;
        let doc = docs
            .into_iter()
            .find(|d| !d.is_null())
            .unwrap_or_else(|| Node::map(Origin::new(display.into(), 1, 1)));
        if doc.as_map().is_none() {
            return Err(HfError::new(
                format!("{rel}: values must be a mapping"),
                &doc.origin,
            ));
        }
        Ok(Some((doc, vec![path])))
    }

    /// An environment `values:` entry naming an HCL file: its repo-relative path (`None` when
    /// the missing-file handler tolerates its absence).
    pub(super) fn hcl_entry(
        &self,
        entry: &Node,
        dir: &Path,
        handler: Option<&str>,
    ) -> Result<Option<PathBuf>, HfError> {
        let rel = entry.as_str().unwrap_or_default();
        if rel.contains("::") || rel.contains("://") {
            return Err(HfError::unsupported(
                format!("remote values file {rel:?} {UNSUPPORTED} (only files of this repository are read)"),
                &entry.origin,
            ));
        }
        let path = self.existing(dir, rel, entry, handler)?;
        if let Some(p) = &path {
            self.count_file(p)?;
        }
        Ok(path)
    }

    /// The values of an environment's HCL files (`paths`, in list order), evaluated together
    /// as helmfile's HCL loader (`super::hcl`).
    pub(super) fn hcl_values(&self, paths: &[PathBuf], at: &Origin) -> Result<Value, HfError> {
        let mut files = Vec::with_capacity(paths.len());
        for p in paths {
            let text = self
                .fs
                .read_text(&self.fs.root().join(p))
                .map_err(|e| HfError::new(e.to_string(), at))?;
            files.push(super::super::hcl::HclFile {
                display: self.display(p),
                text: text.to_string(),
            });
        }
        let json = super::super::hcl::evaluate(&files).map_err(|e| HfError {
            unsupported: e.unsupported,
            undefined_env: false,
            message: e.message,
            origin: e.origin,
        })?;
        Ok(super::super::values::from_json(&json))
    }

    /// A `secrets:` entry: the file's keys with every value replaced by an opaque placeholder
    /// (SOPS metadata dropped); nothing is decrypted.
    pub(super) fn secrets_entry(
        &self,
        entry: &Node,
        dir: &Path,
        handler: Option<&str>,
    ) -> Result<Option<(Node, Vec<PathBuf>)>, HfError> {
        let Some(rel) = entry.as_str().or_else(|| entry.str_at(&["path"])) else {
            return Err(HfError::new(
                "a secrets entry is a file path",
                &entry.origin,
            ));
        };
        if rel.contains("::") || rel.contains("://") || rel.starts_with("ref+") {
            return Ok(None);
        }
        let Some(path) = self.existing(dir, rel, entry, handler)? else {
            return Ok(None);
        };
        let display = self.display(&path);
        let text = self
            .fs
            .read_text(&self.fs.root().join(&path))
            .map_err(|e| HfError::new(e.to_string(), &entry.origin))?;
        let Ok(docs) = driftlint_yaml::parse_documents(display.into(), &text) else {
            return Ok(None);
        };
        let Some(mut doc) = docs.into_iter().find(|d| d.as_map().is_some()) else {
            return Ok(None);
        };
        if let Some(m) = doc.as_map_mut() {
            m.remove("sops");
        }
        opaque(&mut doc);
        Ok(Some((doc, vec![path])))
    }

    /// The repo-relative path of `rel` in `dir` when the file exists; a missing file is an
    /// error unless the missing-file handler (`Warn`, `Info`, `Debug`) tolerates it.
    pub(super) fn existing(
        &self,
        dir: &Path,
        rel: &str,
        entry: &Node,
        handler: Option<&str>,
    ) -> Result<Option<PathBuf>, HfError> {
        let path = normalize(&dir.join(rel))
            .ok_or_else(|| HfError::new(format!("{rel}: outside the repository"), &entry.origin))?;
        match self.fs.resolve(Path::new(""), &path.to_string_lossy()) {
            Ok(abs) if abs.is_file() => Ok(Some(path)),
            Ok(_) | Err(driftlint_yaml::fs::FsError::NotFound { .. }) => match handler {
                Some("Warn" | "Info" | "Debug") => Ok(None),
                _ => Err(HfError::new(
                    format!("file {rel:?} does not exist (missingFileHandler: Error)"),
                    &entry.origin,
                )),
            },
            Err(e) => Err(HfError::new(e.to_string(), &entry.origin)),
        }
    }
}

/// How to supply a state value a template reads but nobody set (Go's `map has no entry for
/// key "K"` at `<.Values.a.K>`): helmfile gets such values from `--state-values-file`/`-set`
/// or from the parent helmfile that loads this one as a library; `None` for other errors.
fn missing_value_hint(message: &str, display: &str) -> Option<String> {
    message.split_once("map has no entry for key \"")?;
    let reference = message.split_once(" at <")?.1.split('>').next()?;
    let path = [
        "$.Values.",
        ".Values.",
        ".StateValues.",
        ".Environment.Values.",
    ]
    .iter()
    .find_map(|p| reference.strip_prefix(p))?;
    Some(format!(
        "the state value `{path}` is not set; supply it as helmfile would: in .driftlint.yaml `helmfile: {{values: {{...}}}}` (helmfile's --state-values-file, given to every root state file), or from a parent helmfile that loads {display} with `helmfiles: [{{path: ..., values: [{{...}}]}}]`"
    ))
}

/// Every scalar leaf replaced by [`SECRET_PLACEHOLDER`].
fn opaque(node: &mut Node) {
    match &mut node.value {
        driftlint_yaml::Value::Scalar(_) => {
            *node = Node::string(SECRET_PLACEHOLDER, node.origin.clone());
        }
        driftlint_yaml::Value::Seq(items) => items.iter_mut().for_each(opaque),
        driftlint_yaml::Value::Map(m) => m.iter_mut().for_each(|(_, v)| opaque(v)),
    }
}
