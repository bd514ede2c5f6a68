//! `buildMetadata` (kustomize `types.BuildMetadata`): provenance annotations and the
//! managed-by label.
//!
//! Only the top kustomization's `buildMetadata` counts (kustomize overwrites every other
//! kustomization's with it). When it is non-empty, the build tracks provenance the way
//! kustomize does, in annotations visible to every transformer while the build runs (so a
//! patch replacing `metadata.annotations` drops them, as in kustomize):
//!
//! - `config.kubernetes.io/origin`: a [`BuildOrigin`] (kustomize `resource.Origin`) as
//!   YAML: the file an object was read from, relative to the top kustomization's directory
//!   (`path: ../base/deploy.yaml`), or the generator that made it (`configuredIn:` /
//!   `configuredBy:`);
//! - `alpha.config.kubernetes.io/transformations`: after each transformer instance ran, its
//!   origin is appended on every object (an object without an origin gets it as its origin
//!   instead, kustomize's `AddTransformerAnnotation`).
//!
//! At the end, `managedByLabel` sets `app.kubernetes.io/managed-by: kustomize-v5.7.1` on
//! every object, and each annotation is removed unless `originAnnotations` or
//! `transformerAnnotations` asked to keep it. Other values are accepted and ignored, as
//! kustomize does.

use driftlint_yaml::{emit_node, Mapping, Node, Origin, Value};

use super::decode::Spanned;
use super::error::Result;
use super::fieldspec::FieldSpec;
use super::kustfile::Kustomization;
use super::labels;
use super::nodeutil::{child_map_mut, scalar_str, set_key, string_node};
use super::resmap::ResMap;
use super::resource::Resource;

/// The annotation holding an object's origin.
pub const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";
/// The annotation holding the transformers that ran over an object.
pub const TRANSFORMATIONS_ANNOTATION: &str = "alpha.config.kubernetes.io/transformations";
/// The managed-by label key and the value kustomize v5.7.1 writes.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kustomize-v5.7.1");

/// kustomize `resource.Origin`: where an object (or a transformer config) came from.
/// Paths use `/` and are relative to the top kustomization's directory (or to the root of
/// a remote repository, then with `repo` and `ref`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildOrigin {
    /// The file an object was read from.
    pub path: String,
    /// The remote repository, for remote resources.
    pub repo: String,
    /// The remote reference, for remote resources.
    pub git_ref: String,
    /// The kustomization or plugin config file that generated or transformed the object.
    pub configured_in: String,
    /// The generator or transformer (`apiVersion: builtin`, `kind: ConfigMapGenerator`).
    pub configured_by: Option<ConfiguredBy>,
}

/// kustomize `yaml.ResourceIdentifier` of a generator or transformer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfiguredBy {
    /// `builtin` for kustomization fields, else the plugin config's apiVersion.
    pub api_version: String,
    /// The plugin kind (`PatchTransformer`).
    pub kind: String,
    /// The plugin config's name (plugin configs only).
    pub name: String,
    /// The plugin config's namespace.
    pub namespace: String,
}

impl BuildOrigin {
    /// The origin of a builtin generator or transformer configured by a kustomization
    /// field: `configuredIn` is the kustomization file (`dir_path` joined with `file_name`).
    pub fn builtin(at: &BuildOrigin, file_name: &str, kind: &str) -> Self {
        BuildOrigin {
            repo: at.repo.clone(),
            git_ref: at.git_ref.clone(),
            configured_in: go_path_join(&at.path, file_name),
            configured_by: Some(ConfiguredBy {
                api_version: "builtin".into(),
                kind: kind.into(),
                ..ConfiguredBy::default()
            }),
            ..BuildOrigin::default()
        }
    }

    /// kustomize `OriginFromCustomPlugin`: the origin of a generator or transformer
    /// configured by the plugin config object `cfg` (None when `cfg` has no origin).
    pub fn of_plugin(cfg: &Resource) -> Option<Self> {
        let o = &origin_of(cfg)?;
        Some(BuildOrigin {
            repo: o.repo.clone(),
            git_ref: o.git_ref.clone(),
            configured_in: o.path.clone(),
            configured_by: Some(ConfiguredBy {
                api_version: cfg.api_version().into(),
                kind: cfg.kind().into(),
                name: cfg.name().into(),
                namespace: cfg.namespace().into(),
            }),
            ..BuildOrigin::default()
        })
    }

    /// kustomize `Origin.Append`: a remote base (a URL kustomize would clone) starts a new
    /// origin with its repository, ref and root; a local path is joined (and cleaned) onto
    /// this origin's path.
    pub fn append(&self, rel: &str) -> Self {
        if let Ok(spec) = super::remote::RepoSpec::parse(rel) {
            return BuildOrigin {
                path: go_path_join("", &spec.kust_root),
                repo: spec.clone_spec(),
                git_ref: spec.git_ref,
                ..BuildOrigin::default()
            };
        }
        BuildOrigin {
            path: go_path_join(&self.path, rel),
            repo: self.repo.clone(),
            git_ref: self.git_ref.clone(),
            ..BuildOrigin::default()
        }
    }

    /// The YAML kyaml marshals an origin to: non-empty fields in declaration order, each
    /// line prefixed by `first` (the first line) or `rest`.
    fn yaml_lines(&self, first: &str, rest: &str) -> String {
        let mut lines: Vec<String> = Vec::new();
        let fields = [
            ("path", &self.path),
            ("repo", &self.repo),
            ("ref", &self.git_ref),
            ("configuredIn", &self.configured_in),
        ];
        for (k, v) in fields {
            if !v.is_empty() {
                lines.push(format!("{k}: {}", scalar(v)));
            }
        }
        if let Some(by) = &self.configured_by {
            lines.push("configuredBy:".into());
            let fields = [
                ("apiVersion", &by.api_version),
                ("kind", &by.kind),
                ("name", &by.name),
                ("namespace", &by.namespace),
            ];
            for (k, v) in fields {
                if !v.is_empty() {
                    lines.push(format!("  {k}: {}", scalar(v)));
                }
            }
        }
        let mut out = String::new();
        for (i, l) in lines.iter().enumerate() {
            out.push_str(if i == 0 { first } else { rest });
            out.push_str(l);
            out.push('\n');
        }
        out
    }
}

/// A string as a YAML scalar (quoted when a plain scalar would read differently).
fn scalar(s: &str) -> String {
    let mut m = Mapping::new();
    let o = Origin::new("".into(), 1, 1);
    m.push(Node::plain("k", o.clone()), Node::string(s, o.clone()));
    let text = emit_node(&Node::new(Value::Map(m), o));
    text.strip_prefix("k: ")
        .unwrap_or(&text)
        .trim_end_matches('\n')
        .to_string()
}

/// Go's `path.Join`: joins with `/` and cleans (`.` removed, `x/..` folded, leading `..`
/// kept); empty parts are skipped; the result is empty only when every part is.
pub fn go_path_join(a: &str, b: &str) -> String {
    let joined = match (a.is_empty(), b.is_empty()) {
        (true, true) => return String::new(),
        (true, false) => b.to_string(),
        (false, true) => a.to_string(),
        (false, false) => format!("{a}/{b}"),
    };
    let rooted = joined.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => match out.last() {
                Some(&last) if last != ".." => {
                    out.pop();
                }
                _ if rooted => {}
                _ => out.push(".."),
            },
            p => out.push(p),
        }
    }
    let body = out.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// The top kustomization's `buildMetadata`: each option with the origin of its list entry.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Provenance is tracked during the build (kustomize: `buildMetadata` is non-empty);
    /// holds the origin of the field, which the annotations' values point at.
    pub tracking: Option<Origin>,
    /// `originAnnotations`.
    pub origins: bool,
    /// `transformerAnnotations`.
    pub transformations: bool,
    /// `managedByLabel`, with the origin of the entry.
    pub managed_by: Option<Origin>,
}

impl Options {
    /// The options of the top kustomization `k`.
    pub fn of(k: &Kustomization) -> Self {
        let find = |name: &str| {
            k.build_metadata
                .iter()
                .find(|e| e.value == name)
                .map(|e| e.origin.clone())
        };
        Options {
            tracking: k.build_metadata.first().map(|e| e.origin.clone()),
            origins: find("originAnnotations").is_some(),
            transformations: find("transformerAnnotations").is_some(),
            managed_by: find("managedByLabel"),
        }
    }
}

/// The `config.kubernetes.io/origin` of an object, if it has one.
pub fn origin_of(res: &Resource) -> Option<BuildOrigin> {
    let text = annotation(&res.node, ORIGIN_ANNOTATION)?;
    let doc = driftlint_yaml::parse_documents("".into(), text)
        .ok()?
        .into_iter()
        .next();
    let get = |k: &str| {
        doc.as_ref()
            .and_then(|d| d.get(k))
            .and_then(scalar_str)
            .unwrap_or("")
            .to_string()
    };
    Some(BuildOrigin {
        path: get("path"),
        repo: get("repo"),
        git_ref: get("ref"),
        configured_in: get("configuredIn"),
        configured_by: None,
    })
}

fn annotation<'a>(n: &'a Node, key: &str) -> Option<&'a str> {
    n.get_path(&["metadata", "annotations", key])
        .and_then(scalar_str)
}

/// Sets the object's `config.kubernetes.io/origin` (kustomize `Resource.SetOrigin`); `at`
/// is the `buildMetadata` field the annotation's value points at.
pub fn set_origin(res: &mut Resource, o: &BuildOrigin, at: &Origin) {
    annotate(&mut res.node, ORIGIN_ANNOTATION, &o.yaml_lines("", ""), at);
}

/// Copies `from`'s origin annotation onto `to` (a generator's `behavior: merge` keeps the
/// existing object's origin).
pub fn keep_origin(to: &mut Resource, from: &Resource) {
    if let Some(v) = from
        .node
        .get_path(&["metadata", "annotations", ORIGIN_ANNOTATION])
        .cloned()
    {
        let at = v.origin.clone();
        annotate(&mut to.node, ORIGIN_ANNOTATION, "", &at);
        if let Some(slot) = to
            .node
            .get_path_mut(&["metadata", "annotations", ORIGIN_ANNOTATION])
        {
            *slot = v;
        }
    }
}

/// kustomize `AddTransformerAnnotation` after a transformer ran: objects without an origin
/// get `t` as their origin (kustomize assumes the transformer made them), the others get
/// `t` appended to their transformations.
pub fn record_transformation(m: &mut ResMap, t: &BuildOrigin, at: &Origin) {
    let item = t.yaml_lines("- ", "  ");
    for res in m.list_mut() {
        if annotation(&res.node, ORIGIN_ANNOTATION).is_none() {
            set_origin(res, t, at);
            continue;
        }
        let before = annotation(&res.node, TRANSFORMATIONS_ANNOTATION).unwrap_or("");
        let text = format!("{before}{item}");
        annotate(&mut res.node, TRANSFORMATIONS_ANNOTATION, &text, at);
    }
}

/// The end of a tracked build (kustomize `Kustomizer.Run`): the managed-by label, then the
/// provenance annotations removed unless asked for.
///
/// Errors: those of the label transformer (a `metadata.labels` that is not a mapping).
pub fn finish(m: &mut ResMap, opts: &Options) -> Result<()> {
    if let Some(at) = &opts.managed_by {
        let pairs = vec![(
            MANAGED_BY.0.to_string(),
            Spanned::new(MANAGED_BY.1.to_string(), at.clone()),
        )];
        let specs = [FieldSpec::new("", "", "", "metadata/labels", true)];
        labels::set_entries(m, &pairs, &specs, "buildMetadata managedByLabel")?;
    }
    let mut drop = Vec::new();
    if !opts.origins {
        drop.push(ORIGIN_ANNOTATION);
    }
    if !opts.transformations {
        drop.push(TRANSFORMATIONS_ANNOTATION);
    }
    for res in m.list_mut() {
        if let Some(ann) = res
            .node
            .get_path_mut(&["metadata", "annotations"])
            .and_then(Node::as_map_mut)
        {
            ann.retain(|k, _| {
                !k.as_scalar()
                    .is_some_and(|s| drop.contains(&s.text.as_str()))
            });
        }
    }
    Ok(())
}

fn annotate(n: &mut Node, key: &str, text: &str, at: &Origin) {
    let origin = at.clone().with_via("buildMetadata");
    let root = n.origin.clone();
    let Some(md) = child_map_mut(n, "metadata", &root) else {
        return;
    };
    if let Some(ann) = child_map_mut(md, "annotations", &origin) {
        set_key(ann, key, string_node(text, &origin));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_paths_like_go() {
        assert_eq!(go_path_join("", "deploy.yaml"), "deploy.yaml");
        assert_eq!(go_path_join("", "./list.yaml"), "list.yaml");
        assert_eq!(
            go_path_join("../base", "deploy.yaml"),
            "../base/deploy.yaml"
        );
        assert_eq!(go_path_join("../base", "../other/x"), "../other/x");
        assert_eq!(go_path_join("..", "../x"), "../../x");
        assert_eq!(go_path_join("a", ".."), ".");
        assert_eq!(go_path_join("", ""), "");
        assert_eq!(go_path_join("/r", "../../x"), "/x");
    }

    #[test]
    fn origins_marshal_as_kyaml_does() {
        let file = BuildOrigin::default()
            .append("../base")
            .append("deploy.yaml");
        assert_eq!(file.yaml_lines("", ""), "path: ../base/deploy.yaml\n");
        let gen = BuildOrigin::builtin(
            &BuildOrigin::default().append("../b"),
            "kustomization.yaml",
            "ConfigMapGenerator",
        );
        assert_eq!(
            gen.yaml_lines("- ", "  "),
            "- configuredIn: ../b/kustomization.yaml\n  configuredBy:\n    apiVersion: builtin\n    kind: ConfigMapGenerator\n"
        );
        let odd = BuildOrigin {
            path: "a: b".into(),
            ..BuildOrigin::default()
        };
        assert_eq!(odd.yaml_lines("", ""), "path: 'a: b'\n");
    }
}
