//! The kustomization file (`kustomization.yaml`, `kustomization.yml` or `Kustomization`),
//! decoded strictly as kustomize v5.7.1's `types.Kustomization`, keeping the origin of every
//! entry so that errors and transformed values point at the line that asked for them.

use std::collections::BTreeMap;
use std::sync::Arc;

use driftlint_yaml::{Node, Origin};

use super::decode::{self, fields, Pairs, Spanned};
use super::error::{KustomizeError, Result};
use super::helm_args as helm_charts;
use super::resid::Gvk;

/// `kind: Kustomization` or `kind: Component`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KustKind {
    /// A kustomization (`kustomize.config.k8s.io/v1beta1`).
    Kustomization,
    /// A component (`kustomize.config.k8s.io/v1alpha1`).
    Component,
}

/// A kustomize selector (`types.Selector`): GVK, name and namespace are anchored regular
/// expressions; label and annotation selectors use the Kubernetes selector syntax.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SelectorArgs {
    /// API group regex.
    pub group: String,
    /// API version regex.
    pub version: String,
    /// Kind regex.
    pub kind: String,
    /// Name regex.
    pub name: String,
    /// Namespace regex.
    pub namespace: String,
    /// Label selector (`app=x,tier!=db`).
    pub label_selector: String,
    /// Annotation selector.
    pub annotation_selector: String,
}

/// One `patches`/`patchesJson6902` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchArgs {
    /// `path:` (a file relative to the kustomization).
    pub path: Option<Spanned<String>>,
    /// `patch:` (inline content).
    pub patch: Option<Spanned<String>>,
    /// `target:`.
    pub target: Option<SelectorArgs>,
    /// `options:` (`allowNameChange`, `allowKindChange`).
    pub options: BTreeMap<String, bool>,
    /// The entry's origin.
    pub origin: Origin,
}

/// One `images` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageArgs {
    /// The image name to match.
    pub name: String,
    /// Replacement name.
    pub new_name: Option<Spanned<String>>,
    /// Replacement tag.
    pub new_tag: Option<Spanned<String>>,
    /// Replacement digest.
    pub digest: Option<Spanned<String>>,
    /// Suffix appended to the tag.
    pub tag_suffix: Option<Spanned<String>>,
    /// The entry's origin.
    pub origin: Origin,
}

/// Which object a source or target selects: exact GVK/name/namespace, plus label and
/// annotation selectors.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IdSelector {
    /// GVK; empty parts are wildcards.
    pub gvk: Gvk,
    /// Exact name, or empty.
    pub name: String,
    /// Exact namespace, or empty.
    pub namespace: String,
    /// Label selector.
    pub label_selector: String,
    /// Annotation selector.
    pub annotation_selector: String,
}

/// `options` of a source or target.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldOptions {
    /// Split/join the value on this delimiter.
    pub delimiter: String,
    /// Which part (negative: prepend; past the end: append).
    pub index: i64,
    /// Create missing target fields.
    pub create: bool,
}

/// One target of a replacement.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetArgs {
    /// Objects to change.
    pub select: IdSelector,
    /// Objects not to change.
    pub reject: Vec<IdSelector>,
    /// Fields to set (default `metadata.name`).
    pub field_paths: Vec<Spanned<String>>,
    /// Options.
    pub options: FieldOptions,
    /// Where the target was written.
    pub origin: Origin,
}

/// One replacement.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplacementArgs {
    /// The source object.
    pub source: IdSelector,
    /// The source field (default `metadata.name`).
    pub field_path: String,
    /// Source options (delimiter and index to extract a part).
    pub source_options: FieldOptions,
    /// Targets.
    pub targets: Vec<TargetArgs>,
    /// Where the replacement was written.
    pub origin: Origin,
}

/// One `replacements` entry.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplacementEntry {
    /// Written in the kustomization.
    Inline(Box<ReplacementArgs>),
    /// `path:` a file holding one replacement or a list of them.
    Path(Spanned<String>),
}

/// One var.
#[derive(Clone, Debug, PartialEq)]
pub struct VarArgs {
    /// `$(NAME)`.
    pub name: String,
    /// The referenced object's type (exact match).
    pub gvk: Gvk,
    /// The referenced object's (original or current) name.
    pub obj_name: String,
    /// The field to read (default `metadata.name`; `a.b[0].c` indexes lists).
    pub field_path: String,
    /// Where the var was written.
    pub origin: Origin,
}

/// One `replicas` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaArgs {
    /// Object name.
    pub name: String,
    /// Replica count.
    pub count: Spanned<i64>,
    /// The entry's origin.
    pub origin: Origin,
}

/// A field spec (`types.FieldSpec`) as written in `labels[].fields`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldSpecArgs {
    /// Group selector.
    pub group: String,
    /// Version selector.
    pub version: String,
    /// Kind selector.
    pub kind: String,
    /// Slash-separated path.
    pub path: String,
    /// Create missing fields.
    pub create: bool,
}

/// One `labels` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelArgs {
    /// The labels.
    pub pairs: Pairs,
    /// Also set selectors (as `commonLabels`).
    pub include_selectors: bool,
    /// Also set pod template labels.
    pub include_templates: bool,
    /// Extra field specs.
    pub fields: Vec<FieldSpecArgs>,
    /// The entry's origin.
    pub origin: Origin,
}

/// `generatorOptions` or a generator's `options`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GeneratorOptions {
    /// Labels added to generated objects.
    pub labels: Pairs,
    /// Annotations added to generated objects.
    pub annotations: Pairs,
    /// No content-hash name suffix.
    pub disable_name_suffix_hash: bool,
    /// Set `immutable: true`.
    pub immutable: bool,
}

/// One `configMapGenerator`/`secretGenerator` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratorArgs {
    /// Object name.
    pub name: Spanned<String>,
    /// Object namespace.
    pub namespace: String,
    /// `create`, `merge`, `replace` (empty = create).
    pub behavior: Spanned<String>,
    /// `literals:` (`key=value`).
    pub literals: Vec<Spanned<String>>,
    /// `files:` (`[key=]path`).
    pub files: Vec<Spanned<String>>,
    /// `envs:` and the older `env:`.
    pub envs: Vec<Spanned<String>>,
    /// Per-entry options.
    pub options: Option<GeneratorOptions>,
    /// Secret `type:` (empty for ConfigMaps and default Secrets).
    pub secret_type: String,
    /// The entry's origin.
    pub origin: Origin,
}

/// A decoded kustomization.
#[derive(Clone, Debug, PartialEq)]
pub struct Kustomization {
    /// Repo-relative path of the kustomization file.
    pub file: Arc<str>,
    /// Kustomization or Component.
    pub kind: KustKind,
    /// `resources`, then the deprecated `bases`.
    pub resources: Vec<Spanned<String>>,
    /// `components`.
    pub components: Vec<Spanned<String>>,
    /// `namespace`.
    pub namespace: Option<Spanned<String>>,
    /// `namePrefix`.
    pub name_prefix: Option<Spanned<String>>,
    /// `nameSuffix`.
    pub name_suffix: Option<Spanned<String>>,
    /// `commonLabels`.
    pub common_labels: Pairs,
    /// `labels`.
    pub labels: Vec<LabelArgs>,
    /// `commonAnnotations`.
    pub common_annotations: Pairs,
    /// `patches`.
    pub patches: Vec<PatchArgs>,
    /// `patchesStrategicMerge` (file paths or inline patches).
    pub patches_strategic_merge: Vec<Spanned<String>>,
    /// `patchesJson6902`.
    pub patches_json6902: Vec<PatchArgs>,
    /// `images` (and the older `imageTags`).
    pub images: Vec<ImageArgs>,
    /// `replicas`.
    pub replicas: Vec<ReplicaArgs>,
    /// `configMapGenerator`.
    pub config_map_generator: Vec<GeneratorArgs>,
    /// `secretGenerator`.
    pub secret_generator: Vec<GeneratorArgs>,
    /// `generatorOptions`.
    pub generator_options: Option<GeneratorOptions>,
    /// `transformers` (builtin plugin configs: file or directory paths, or inline YAML).
    pub transformers: Vec<Spanned<String>>,
    /// `generators` (builtin generator plugin configs: paths or inline YAML).
    pub generators: Vec<Spanned<String>>,
    /// `configurations` (transformer configuration files).
    pub configurations: Vec<Spanned<String>>,
    /// `crds` (files of OpenAPI definitions whose `x-kubernetes-*` extensions add field
    /// specs to the transformer configuration).
    pub crds: Vec<Spanned<String>>,
    /// `validators` (plugin configs: paths or inline YAML).
    pub validators: Vec<Spanned<String>>,
    /// `buildMetadata` (`originAnnotations`, `transformerAnnotations`, `managedByLabel`;
    /// other values are accepted and ignored, as kustomize does).
    pub build_metadata: Vec<Spanned<String>>,
    /// `replacements`: inline entries, or `path:` files to load.
    pub replacements: Vec<ReplacementEntry>,
    /// `vars`.
    pub vars: Vec<VarArgs>,
    /// `openapi` (`path` or `version`).
    pub openapi: Option<Spanned<Pairs>>,
    /// `sortOptions`: None for the default legacy order, `Some(None)` for `fifo`,
    /// `Some(Some(lists))` for a legacy order with custom kind lists.
    pub sort: Option<Option<super::order::Legacy>>,
    /// `helmGlobals`.
    pub helm_globals: helm_charts::HelmGlobals,
    /// `helmCharts`, in order.
    pub helm_charts: Vec<helm_charts::HelmChartArgs>,
    /// Deprecation warnings, worded as kustomize prints them.
    pub warnings: Vec<String>,
    /// The kustomization file's text (inline patches map their lines into it).
    pub source: Arc<str>,
    /// Another file whose inline patches were added to this kustomization (a Flux
    /// Kustomization's `spec.patches`): its name and text, for mapping their lines.
    pub extra_source: Option<(Arc<str>, Arc<str>)>,
}

const TOP_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "openapi",
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "patchesStrategicMerge",
    "patchesJson6902",
    "patches",
    "images",
    "imageTags",
    "replacements",
    "replicas",
    "vars",
    "sortOptions",
    "resources",
    "components",
    "crds",
    "bases",
    "configMapGenerator",
    "secretGenerator",
    "helmGlobals",
    "helmCharts",
    "helmChartInflationGenerator",
    "generatorOptions",
    "configurations",
    "generators",
    "transformers",
    "validators",
    "buildMetadata",
];

/// Fields kustomize accepts that the native engine does not implement (the deprecated
/// `helmChartInflationGenerator`, kustomize's v4 predecessor of `helmCharts`).
const UNSUPPORTED: &[&str] = &["helmChartInflationGenerator"];

fn deprecation(field: &str, instead: &str) -> String {
    let experimental = if field == "vars" {
        " [EXPERIMENTAL]"
    } else {
        ""
    };
    format!(
        "# Warning: '{field}' is deprecated. Please use '{instead}' instead.{experimental} Run 'kustomize edit fix' to update your Kustomization automatically."
    )
}

impl Kustomization {
    /// Decodes the first document of a kustomization file.
    ///
    /// Errors: unknown fields and type mismatches ([`KustomizeError`] `Invalid`, at the
    /// line), a wrong `kind`/`apiVersion`, and any non-empty field the engine does not
    /// implement (`Unsupported`).
    pub fn decode(file: Arc<str>, doc: &Node) -> Result<Kustomization> {
        let mut k = Kustomization::empty(file);
        let mut api_version = None;
        let mut bases = Vec::new();
        let mut warn = Vec::new();
        let mut any = false;
        for (name, v) in fields(doc, TOP_FIELDS, "Kustomization")? {
            let what = format!("Kustomization.{name}");
            any |= name != "apiVersion" && name != "kind" && !is_zero(v);
            if UNSUPPORTED.contains(&name) {
                if !is_empty(v) {
                    return Err(KustomizeError::unsupported(name, Some(&v.origin)));
                }
                continue;
            }
            match name {
                "apiVersion" => api_version = Some(decode::string(v, &what)?),
                "kind" => k.kind = decode_kind(v)?,
                "metadata" => {
                    fields(v, &["name", "namespace", "labels", "annotations"], &what)?;
                }
                "namePrefix" => k.name_prefix = Some(decode::string(v, &what)?),
                "nameSuffix" => k.name_suffix = Some(decode::string(v, &what)?),
                "namespace" => k.namespace = Some(decode::string(v, &what)?),
                "commonLabels" => {
                    k.common_labels = decode::string_map(v, &what)?;
                    note(&mut warn, v, 1, "commonLabels", "labels");
                }
                "labels" => k.labels = map_seq(v, &what, decode_label)?,
                "commonAnnotations" => k.common_annotations = decode::string_map(v, &what)?,
                "patchesStrategicMerge" => {
                    k.patches_strategic_merge = decode::strings(v, &what)?;
                    note(&mut warn, v, 4, "patchesStrategicMerge", "patches");
                }
                "patchesJson6902" => {
                    k.patches_json6902 = map_seq(v, &what, decode_patch)?;
                    note(&mut warn, v, 3, "patchesJson6902", "patches");
                }
                "patches" => k.patches = map_seq(v, &what, decode_patch)?,
                "images" => k.images.extend(map_seq(v, &what, decode_image)?),
                "imageTags" => {
                    k.images.extend(map_seq(v, &what, decode_image)?);
                    note(&mut warn, v, 2, "imageTags", "images");
                }
                "replicas" => k.replicas = map_seq(v, &what, decode_replica)?,
                "resources" => k.resources = decode::strings(v, &what)?,
                "components" => k.components = decode::strings(v, &what)?,
                "bases" => {
                    bases = decode::strings(v, &what)?;
                    note(&mut warn, v, 0, "bases", "resources");
                }
                "configMapGenerator" => {
                    k.config_map_generator =
                        map_seq(v, &what, |n, w| decode_generator(n, w, false))?
                }
                "secretGenerator" => {
                    k.secret_generator = map_seq(v, &what, |n, w| decode_generator(n, w, true))?
                }
                "generatorOptions" => k.generator_options = Some(decode_options(v, &what)?),
                "helmGlobals" => k.helm_globals = helm_charts::decode_globals(v, &what)?,
                "helmCharts" => k.helm_charts = map_seq(v, &what, helm_charts::decode_chart)?,
                "transformers" => k.transformers = decode::strings(v, &what)?,
                "configurations" => k.configurations = decode::strings(v, &what)?,
                "crds" => k.crds = decode::strings(v, &what)?,
                "validators" => k.validators = decode::strings(v, &what)?,
                "buildMetadata" => k.build_metadata = decode::strings(v, &what)?,
                "generators" => k.generators = decode::strings(v, &what)?,
                "sortOptions" if !decode::is_null(v) => k.sort = Some(decode_sort(v, &what)?),
                "openapi" if !is_empty(v) => {
                    k.openapi = Some(Spanned::new(
                        decode::string_map(v, &what)?,
                        v.origin.clone(),
                    ))
                }
                "replacements" => k.replacements = map_seq(v, &what, decode_replacement_entry)?,
                "vars" => {
                    k.vars = map_seq(v, &what, decode_var)?;
                    note(&mut warn, v, 5, "vars", "replacements");
                }
                _ => {}
            }
        }
        if !any {
            let name = k
                .file
                .rsplit('/')
                .next()
                .unwrap_or("kustomization.yaml")
                .to_string();
            return Err(KustomizeError::invalid(
                format!("{name} is empty"),
                Some(&doc.origin),
            ));
        }
        check_api_version(k.kind, api_version.as_ref())?;
        k.resources.extend(bases);
        warn.sort_by_key(|(order, _)| *order);
        k.warnings = warn.into_iter().map(|(_, w)| w).collect();
        Ok(k)
    }

    pub(crate) fn empty(file: Arc<str>) -> Kustomization {
        Kustomization {
            file,
            kind: KustKind::Kustomization,
            resources: Vec::new(),
            components: Vec::new(),
            namespace: None,
            name_prefix: None,
            name_suffix: None,
            common_labels: Vec::new(),
            labels: Vec::new(),
            common_annotations: Vec::new(),
            patches: Vec::new(),
            patches_strategic_merge: Vec::new(),
            patches_json6902: Vec::new(),
            images: Vec::new(),
            replicas: Vec::new(),
            config_map_generator: Vec::new(),
            secret_generator: Vec::new(),
            generator_options: None,
            transformers: Vec::new(),
            configurations: Vec::new(),
            crds: Vec::new(),
            validators: Vec::new(),
            build_metadata: Vec::new(),
            generators: Vec::new(),
            replacements: Vec::new(),
            vars: Vec::new(),
            openapi: None,
            sort: None,
            helm_globals: helm_charts::HelmGlobals::default(),
            helm_charts: Vec::new(),
            warnings: Vec::new(),
            source: "".into(),
            extra_source: None,
        }
    }
}

fn note(warn: &mut Vec<(u8, String)>, v: &Node, order: u8, field: &str, instead: &str) {
    if !decode::is_null(v) {
        warn.push((order, deprecation(field, instead)));
    }
}

/// True for the values Go leaves as the zero value (null, "", false, 0): kustomize calls a
/// kustomization whose fields (besides apiVersion/kind) are all zero "empty".
fn is_zero(v: &Node) -> bool {
    use driftlint_yaml::Resolved;
    match v.resolve() {
        Some(Resolved::Null) => true,
        Some(Resolved::Str(s)) => s.is_empty(),
        Some(Resolved::Bool(b)) => !b,
        Some(Resolved::Int(i)) => i == 0,
        Some(Resolved::Float(f)) => f == 0.0,
        None => false,
    }
}

fn is_empty(v: &Node) -> bool {
    decode::is_null(v)
        || v.as_seq().is_some_and(Vec::is_empty)
        || v.as_map().is_some_and(|m| m.is_empty())
        || v.as_str() == Some("")
}

fn decode_kind(v: &Node) -> Result<KustKind> {
    let s = decode::string(v, "Kustomization.kind")?;
    match s.value.as_str() {
        "" | "Kustomization" => Ok(KustKind::Kustomization),
        "Component" => Ok(KustKind::Component),
        _ => Err(KustomizeError::invalid(
            "kind should be Kustomization or Component",
            Some(&s.origin),
        )),
    }
}

fn check_api_version(kind: KustKind, v: Option<&Spanned<String>>) -> Result<()> {
    let Some(v) = v.filter(|v| !v.value.is_empty()) else {
        return Ok(());
    };
    let (want, label) = match kind {
        KustKind::Kustomization => ("kustomize.config.k8s.io/v1beta1", "Kustomization"),
        KustKind::Component => ("kustomize.config.k8s.io/v1alpha1", "Component"),
    };
    if v.value == want {
        Ok(())
    } else {
        Err(KustomizeError::invalid(
            format!("apiVersion for {label} should be {want}"),
            Some(&v.origin),
        ))
    }
}

pub(crate) fn map_seq<T>(
    v: &Node,
    what: &str,
    f: impl Fn(&Node, &str) -> Result<T>,
) -> Result<Vec<T>> {
    decode::seq(v, what)?.iter().map(|n| f(n, what)).collect()
}

pub(crate) fn opt_string(v: &Node, what: &str) -> Result<Option<Spanned<String>>> {
    let s = decode::string(v, what)?;
    Ok((!s.value.is_empty()).then_some(s))
}

fn decode_selector(n: &Node, what: &str) -> Result<SelectorArgs> {
    let mut s = SelectorArgs::default();
    let allowed = [
        "group",
        "version",
        "kind",
        "name",
        "namespace",
        "labelSelector",
        "annotationSelector",
    ];
    for (name, v) in fields(n, &allowed, what)? {
        let value = decode::string(v, what)?.value;
        match name {
            "group" => s.group = value,
            "version" => s.version = value,
            "kind" => s.kind = value,
            "name" => s.name = value,
            "namespace" => s.namespace = value,
            "labelSelector" => s.label_selector = value,
            _ => s.annotation_selector = value,
        }
    }
    Ok(s)
}

pub(crate) fn decode_patch(n: &Node, what: &str) -> Result<PatchArgs> {
    if n.as_map().is_none() && !decode::is_null(n) {
        return Err(KustomizeError::invalid(
            format!(
                "cannot unmarshal {} into {what} of type types.Patch",
                if n.as_seq().is_some() {
                    "array"
                } else {
                    "string"
                }
            ),
            Some(&n.origin),
        ));
    }
    let mut p = PatchArgs {
        path: None,
        patch: None,
        target: None,
        options: BTreeMap::new(),
        origin: n.origin.clone(),
    };
    for (name, v) in fields(n, &["path", "patch", "target", "options"], what)? {
        match name {
            "path" => p.path = opt_string(v, what)?,
            "patch" => p.patch = opt_string(v, what)?,
            "target" if !decode::is_null(v) => p.target = Some(decode_selector(v, what)?),
            "options" => p.options = decode::bool_map(v, what)?,
            _ => {}
        }
    }
    Ok(p)
}

pub(crate) fn decode_image(n: &Node, what: &str) -> Result<ImageArgs> {
    let mut img = ImageArgs {
        name: String::new(),
        new_name: None,
        new_tag: None,
        digest: None,
        tag_suffix: None,
        origin: n.origin.clone(),
    };
    let allowed = ["name", "newName", "newTag", "digest", "tagSuffix"];
    for (name, v) in fields(n, &allowed, what)? {
        match name {
            "name" => img.name = decode::string(v, what)?.value,
            "newName" => img.new_name = opt_string(v, what)?,
            "newTag" => img.new_tag = opt_string(v, what)?,
            "digest" => img.digest = opt_string(v, what)?,
            _ => img.tag_suffix = opt_string(v, what)?,
        }
    }
    Ok(img)
}

fn decode_replica(n: &Node, what: &str) -> Result<ReplicaArgs> {
    let mut r = ReplicaArgs {
        name: String::new(),
        count: Spanned::new(0, n.origin.clone()),
        origin: n.origin.clone(),
    };
    for (name, v) in fields(n, &["name", "count"], what)? {
        match name {
            "name" => r.name = decode::string(v, what)?.value,
            _ => r.count = Spanned::new(decode::integer(v, what)?, v.origin.clone()),
        }
    }
    Ok(r)
}

fn decode_fieldspec(n: &Node, what: &str) -> Result<FieldSpecArgs> {
    let mut fs = FieldSpecArgs {
        group: String::new(),
        version: String::new(),
        kind: String::new(),
        path: String::new(),
        create: false,
    };
    for (name, v) in fields(n, &["group", "version", "kind", "path", "create"], what)? {
        match name {
            "group" => fs.group = decode::string(v, what)?.value,
            "version" => fs.version = decode::string(v, what)?.value,
            "kind" => fs.kind = decode::string(v, what)?.value,
            "path" => fs.path = decode::string(v, what)?.value,
            _ => fs.create = decode::boolean(v, what)?,
        }
    }
    Ok(fs)
}

fn decode_label(n: &Node, what: &str) -> Result<LabelArgs> {
    let mut l = LabelArgs {
        pairs: Vec::new(),
        include_selectors: false,
        include_templates: false,
        fields: Vec::new(),
        origin: n.origin.clone(),
    };
    let allowed = ["pairs", "includeSelectors", "includeTemplates", "fields"];
    for (name, v) in fields(n, &allowed, what)? {
        match name {
            "pairs" => l.pairs = decode::string_map(v, what)?,
            "includeSelectors" => l.include_selectors = decode::boolean(v, what)?,
            "includeTemplates" => l.include_templates = decode::boolean(v, what)?,
            _ => l.fields = map_seq(v, what, decode_fieldspec)?,
        }
    }
    Ok(l)
}

fn decode_options(n: &Node, what: &str) -> Result<GeneratorOptions> {
    let mut o = GeneratorOptions::default();
    let allowed = [
        "labels",
        "annotations",
        "disableNameSuffixHash",
        "immutable",
    ];
    for (name, v) in fields(n, &allowed, what)? {
        match name {
            "labels" => o.labels = decode::string_map(v, what)?,
            "annotations" => o.annotations = decode::string_map(v, what)?,
            "disableNameSuffixHash" => o.disable_name_suffix_hash = decode::boolean(v, what)?,
            _ => o.immutable = decode::boolean(v, what)?,
        }
    }
    Ok(o)
}

fn decode_generator(n: &Node, what: &str, secret: bool) -> Result<GeneratorArgs> {
    let mut g = GeneratorArgs {
        name: Spanned::new(String::new(), n.origin.clone()),
        namespace: String::new(),
        behavior: Spanned::new(String::new(), n.origin.clone()),
        literals: Vec::new(),
        files: Vec::new(),
        envs: Vec::new(),
        options: None,
        secret_type: String::new(),
        origin: n.origin.clone(),
    };
    let allowed: &[&'static str] = if secret {
        &[
            "name",
            "namespace",
            "behavior",
            "literals",
            "files",
            "envs",
            "env",
            "options",
            "type",
        ]
    } else {
        &[
            "name",
            "namespace",
            "behavior",
            "literals",
            "files",
            "envs",
            "env",
            "options",
        ]
    };
    let mut single_env = None;
    for (name, v) in fields(n, allowed, what)? {
        match name {
            "name" => g.name = decode::string(v, what)?,
            "namespace" => g.namespace = decode::string(v, what)?.value,
            "behavior" => g.behavior = decode::string(v, what)?,
            "literals" => g.literals = decode::strings(v, what)?,
            "files" => g.files = decode::strings(v, what)?,
            "envs" => g.envs = decode::strings(v, what)?,
            "env" => single_env = opt_string(v, what)?,
            "options" if !decode::is_null(v) => g.options = Some(decode_options(v, what)?),
            "type" => g.secret_type = decode::string(v, what)?.value,
            _ => {}
        }
    }
    g.envs.extend(single_env);
    Ok(g)
}

fn decode_id_selector(
    n: &Node,
    what: &str,
    extra: &[&'static str],
) -> Result<(IdSelector, Vec<(&'static str, Node)>)> {
    let mut s = IdSelector::default();
    let mut allowed = vec![
        "group",
        "version",
        "kind",
        "name",
        "namespace",
        "labelSelector",
        "annotationSelector",
    ];
    allowed.extend_from_slice(extra);
    let mut rest = Vec::new();
    for (name, v) in fields(n, &allowed, what)? {
        match name {
            "group" => s.gvk.group = decode::string(v, what)?.value,
            "version" => s.gvk.version = decode::string(v, what)?.value,
            "kind" => s.gvk.kind = decode::string(v, what)?.value,
            "name" => s.name = decode::string(v, what)?.value,
            "namespace" => s.namespace = decode::string(v, what)?.value,
            "labelSelector" => s.label_selector = decode::string(v, what)?.value,
            "annotationSelector" => s.annotation_selector = decode::string(v, what)?.value,
            other => rest.push((other, v.clone())),
        }
    }
    Ok((s, rest))
}

fn decode_field_options(n: &Node, what: &str) -> Result<FieldOptions> {
    let mut o = FieldOptions::default();
    for (name, v) in fields(n, &["delimiter", "index", "create", "encoding"], what)? {
        match name {
            "delimiter" => o.delimiter = decode::string(v, what)?.value,
            "index" => o.index = decode::integer(v, what)?,
            "create" => o.create = decode::boolean(v, what)?,
            _ => {
                if !decode::string(v, what)?.value.is_empty() {
                    return Err(KustomizeError::unsupported(
                        "replacements options.encoding",
                        Some(&v.origin),
                    ));
                }
            }
        }
    }
    Ok(o)
}

fn decode_target(n: &Node, what: &str) -> Result<TargetArgs> {
    let mut t = TargetArgs {
        select: IdSelector::default(),
        reject: Vec::new(),
        field_paths: Vec::new(),
        options: FieldOptions::default(),
        origin: n.origin.clone(),
    };
    let mut has_select = false;
    for (name, v) in fields(n, &["select", "reject", "fieldPaths", "options"], what)? {
        match name {
            "select" if !decode::is_null(v) => {
                has_select = true;
                t.select = decode_id_selector(v, what, &[])?.0;
            }
            "reject" => t.reject = map_seq(v, what, |r, w| Ok(decode_id_selector(r, w, &[])?.0))?,
            "fieldPaths" => t.field_paths = decode::strings(v, what)?,
            "options" if !decode::is_null(v) => t.options = decode_field_options(v, what)?,
            _ => {}
        }
    }
    if !has_select {
        return Err(KustomizeError::invalid(
            "target must specify resources to select",
            Some(&n.origin),
        ));
    }
    if t.field_paths.is_empty() {
        t.field_paths
            .push(Spanned::new("metadata.name".into(), n.origin.clone()));
    }
    Ok(t)
}

/// Decodes one replacement (`source` and `targets`), strictly.
pub fn decode_replacement(n: &Node, what: &str) -> Result<ReplacementArgs> {
    let mut r = ReplacementArgs {
        source: IdSelector::default(),
        field_path: "metadata.name".into(),
        source_options: FieldOptions::default(),
        targets: Vec::new(),
        origin: n.origin.clone(),
    };
    let mut has_source = false;
    for (name, v) in fields(n, &["source", "targets"], what)? {
        match name {
            "source" if !decode::is_null(v) => {
                has_source = true;
                let (sel, rest) = decode_id_selector(v, what, &["fieldPath", "options"])?;
                r.source = IdSelector {
                    gvk: Gvk { ..sel.gvk },
                    ..sel
                };
                for (k, x) in rest {
                    match k {
                        "fieldPath" => {
                            let fp = decode::string(&x, what)?.value;
                            if !fp.is_empty() {
                                r.field_path = fp;
                            }
                        }
                        _ if !decode::is_null(&x) => {
                            r.source_options = decode_field_options(&x, what)?
                        }
                        _ => {}
                    }
                }
            }
            "targets" => r.targets = map_seq(v, what, decode_target)?,
            _ => {}
        }
    }
    if !has_source || r.targets.is_empty() {
        return Err(KustomizeError::invalid(
            "replacements must specify a source and at least one target",
            Some(&n.origin),
        ));
    }
    Ok(r)
}

fn decode_var(n: &Node, what: &str) -> Result<VarArgs> {
    let mut v = VarArgs {
        name: String::new(),
        gvk: Gvk::default(),
        obj_name: String::new(),
        field_path: "metadata.name".into(),
        origin: n.origin.clone(),
    };
    for (name, x) in fields(n, &["name", "objref", "fieldref"], what)? {
        match name {
            "name" => v.name = decode::string(x, what)?.value,
            "objref" => {
                let allowed = [
                    "group",
                    "version",
                    "kind",
                    "apiVersion",
                    "name",
                    "namespace",
                ];
                let mut api_version = String::new();
                for (k, y) in fields(x, &allowed, what)? {
                    let s = decode::string(y, what)?.value;
                    match k {
                        "group" => v.gvk.group = s,
                        "version" => v.gvk.version = s,
                        "kind" => v.gvk.kind = s,
                        "apiVersion" => api_version = s,
                        "name" => v.obj_name = s,
                        _ => {}
                    }
                }
                if !api_version.is_empty() {
                    let g = Gvk::from_api_version(&api_version, &v.gvk.kind);
                    v.gvk.group = g.group;
                    v.gvk.version = g.version;
                }
            }
            _ => {
                for (_, y) in fields(x, &["fieldpath"], what)? {
                    let fp = decode::string(y, what)?.value;
                    if !fp.is_empty() {
                        v.field_path = fp;
                    }
                }
            }
        }
    }
    Ok(v)
}

fn decode_sort(n: &Node, what: &str) -> Result<Option<super::order::Legacy>> {
    let mut order = String::new();
    let mut legacy: Option<super::order::Legacy> = None;
    for (name, v) in fields(n, &["order", "legacySortOptions"], what)? {
        match name {
            "order" => order = decode::string(v, what)?.value,
            _ if !decode::is_null(v) => {
                let mut l = super::order::Legacy::default();
                for (k, x) in fields(v, &["orderFirst", "orderLast"], what)? {
                    let list = decode::strings(x, what)?
                        .into_iter()
                        .map(|s| s.value)
                        .collect();
                    match k {
                        "orderFirst" => l.first = list,
                        _ => l.last = list,
                    }
                }
                legacy = Some(l);
            }
            _ => {}
        }
    }
    match order.as_str() {
        "fifo" if legacy.is_some() => Err(KustomizeError::invalid(
            "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'",
            Some(&n.origin),
        )),
        "fifo" => Ok(None),
        "legacy" => Ok(Some(legacy.unwrap_or_default())),
        other => Err(KustomizeError::invalid(
            format!("the field 'sortOptions.order' must be one of [legacy, fifo], got '{other}'"),
            Some(&n.origin),
        )),
    }
}

/// Decodes one `replacements` entry: `path:` alone, or an inline replacement.
///
/// Errors: both forms, unknown fields, type mismatches.
pub fn decode_replacement_entry(n: &Node, what: &str) -> Result<ReplacementEntry> {
    if let Some(p) = n.get("path") {
        if n.get("source").is_some() || n.get("targets").is_some() {
            return Err(KustomizeError::invalid(
                "cannot specify both path and inline replacement",
                Some(&n.origin),
            ));
        }
        fields(n, &["path"], what)?;
        return Ok(ReplacementEntry::Path(decode::string(p, what)?));
    }
    Ok(ReplacementEntry::Inline(Box::new(decode_replacement(
        n, what,
    )?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use driftlint_yaml::parse_documents;

    fn decode(src: &str) -> Result<Kustomization> {
        let d = parse_documents("k/kustomization.yaml".into(), src).expect("parses");
        Kustomization::decode("k/kustomization.yaml".into(), &d[0])
    }

    #[test]
    fn decodes_common_fields_with_origins() {
        let k = decode(
            "resources:\n- a.yaml\nbases:\n- ../base\nnamePrefix: p-\ncommonLabels:\n  app: x\n",
        )
        .expect("ok");
        assert_eq!(k.resources.len(), 2);
        assert_eq!(k.resources[1].value, "../base");
        assert_eq!(k.name_prefix.as_ref().map(|p| p.origin.line), Some(5));
        assert_eq!(k.warnings.len(), 2);
        assert!(k.warnings[0].contains("'bases' is deprecated"));
    }

    #[test]
    fn unsupported_fields_fail_with_their_line() {
        let err =
            decode("resources: []\nhelmChartInflationGenerator:\n- chartName: x\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported: helmChartInflationGenerator (k/kustomization.yaml:3)"
        );
        let k = decode(
            "helmGlobals:\n  chartHome: c\nhelmCharts:\n- name: x\n  valuesInline: {a: 1}\n",
        )
        .expect("decodes");
        assert_eq!(k.helm_charts[0].name, "x");
        assert_eq!(k.helm_charts[0].origin.line, 4);
        assert!(decode("helmCharts:\n- name: x\n  pull: true\n").is_err());
        assert!(decode("helmCharts: []\nresources: [a]\n").is_ok());
        let k = decode("crds: [c.json]\nvalidators: [v.yaml]\nbuildMetadata: [managedByLabel]\n")
            .expect("decodes");
        assert_eq!(
            (k.crds.len(), k.validators.len(), k.build_metadata.len()),
            (1, 1, 1)
        );
        assert!(decode("buildMetadata: originAnnotations\n").is_err());
    }

    #[test]
    fn unknown_fields_and_bad_types_are_errors() {
        let err = decode("resource:\n- a\n").unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Invalid { .. }));
        assert_eq!(err.origin.as_ref().map(|o| o.line), Some(1));
        let err = decode("patches:\n- overlays/x.yaml\n").unwrap_err();
        assert!(err.to_string().contains("types.Patch"), "{err}");
        assert!(decode("commonLabels:\n  version: 1\n").is_err());
        assert!(decode("kind: Other\n").is_err());
    }

    #[test]
    fn generators_and_components() {
        let k = decode(
            "kind: Component\napiVersion: kustomize.config.k8s.io/v1alpha1\nsecretGenerator:\n- name: s\n  type: kubernetes.io/tls\n  env: a.env\n  envs: [b.env]\n",
        )
        .expect("ok");
        assert_eq!(k.kind, KustKind::Component);
        assert_eq!(k.secret_generator[0].envs.len(), 2);
        assert!(decode("configMapGenerator:\n- name: c\n  type: x\n").is_err());
    }
}
