//! Builtin transformer plugins configured in `transformers:` (objects with
//! `apiVersion: builtin`, kustomize's plugin/builtin): LabelTransformer,
//! AnnotationsTransformer, NamespaceTransformer, PrefixTransformer, SuffixTransformer,
//! PrefixSuffixTransformer, ImageTagTransformer, ReplicaCountTransformer, PatchTransformer,
//! PatchJson6902Transformer, PatchStrategicMergeTransformer, ReplacementTransformer,
//! ValueAddTransformer and HashTransformer (SortOrderTransformer kustomize itself cannot load
//! there). Their configuration is read
//! as kustomize reads plugin configs (yaml.v3, lenient: any scalar reads as a string,
//! unknown fields ignored). Other plugins (exec, Go, KRM functions, other builtins) are
//! unsupported.

use std::collections::BTreeMap;

use driftlint_yaml::{Node, Origin};

use super::decode::{Pairs, Spanned};
use super::error::{KustomizeError, Result};
use super::fieldspec::FieldSpec;
use super::kustfile::{
    decode_replacement_entry, GeneratorArgs, GeneratorOptions, ImageArgs, PatchArgs,
    ReplacementEntry, ReplicaArgs, SelectorArgs,
};
use super::namespace::{self, Subjects};
use super::nodeutil::{is_null, scalar_str};
use super::patch::Patcher;
use super::prefix_suffix::End;
use super::resmap::ResMap;
use super::resource::Resource;
use super::value_add::{self, ValueAddArgs, ValueAddTarget};
use super::{images, labels, prefix_suffix, replacements, replicas};

/// A configured builtin transformer.
pub enum Builtin {
    /// LabelTransformer.
    Labels(Pairs, Vec<FieldSpec>),
    /// AnnotationsTransformer.
    Annotations(Pairs, Vec<FieldSpec>),
    /// NamespaceTransformer.
    Namespace(Spanned<String>, namespace::Options),
    /// Prefix/Suffix/PrefixSuffixTransformer.
    Affix(
        Option<Spanned<String>>,
        Option<Spanned<String>>,
        Vec<FieldSpec>,
    ),
    /// ImageTagTransformer.
    Image(ImageArgs, Vec<FieldSpec>),
    /// ReplicaCountTransformer.
    Replicas(ReplicaArgs, Vec<FieldSpec>),
    /// PatchTransformer.
    Patch(PatchArgs),
    /// PatchJson6902Transformer.
    Json6902(PatchArgs),
    /// PatchStrategicMergeTransformer (paths, then inline patches).
    StrategicMerge(Vec<Spanned<String>>),
    /// HashTransformer.
    Hash,
    /// ReplacementTransformer (`path:` entries are read when applied).
    Replacement(Vec<ReplacementEntry>),
    /// ValueAddTransformer (its `targetFilePath` is read when applied).
    ValueAdd(ValueAddArgs, Option<Spanned<String>>),
}

fn text(n: Option<&Node>) -> Option<Spanned<String>> {
    let n = n?;
    let s = scalar_str(n)?;
    Some(Spanned::new(s.to_string(), n.origin.clone()))
}

fn text_or_empty(n: Option<&Node>) -> String {
    text(n).map(|s| s.value).unwrap_or_default()
}

fn pairs(n: Option<&Node>) -> Pairs {
    let Some(m) = n.and_then(Node::as_map) else {
        return Vec::new();
    };
    m.iter()
        .filter_map(|(k, v)| {
            let key = scalar_str(k)?.to_string();
            let value = scalar_str(v).unwrap_or("").to_string();
            Some((key, Spanned::new(value, v.origin.clone())))
        })
        .collect()
}

fn boolean(n: Option<&Node>) -> bool {
    n.and_then(scalar_str) == Some("true")
}

fn field_specs(n: Option<&Node>) -> Option<Vec<FieldSpec>> {
    let items = n.filter(|n| !is_null(n))?.as_seq()?;
    Some(
        items
            .iter()
            .map(|f| {
                FieldSpec::new(
                    &text_or_empty(f.get("group")),
                    &text_or_empty(f.get("version")),
                    &text_or_empty(f.get("kind")),
                    &text_or_empty(f.get("path")),
                    boolean(f.get("create")),
                )
            })
            .collect(),
    )
}

fn selector(n: Option<&Node>) -> Option<SelectorArgs> {
    let n = n.filter(|n| !is_null(n))?;
    Some(SelectorArgs {
        group: text_or_empty(n.get("group")),
        version: text_or_empty(n.get("version")),
        kind: text_or_empty(n.get("kind")),
        name: text_or_empty(n.get("name")),
        namespace: text_or_empty(n.get("namespace")),
        label_selector: text_or_empty(n.get("labelSelector")),
        annotation_selector: text_or_empty(n.get("annotationSelector")),
    })
}

fn non_empty(s: Option<Spanned<String>>) -> Option<Spanned<String>> {
    s.filter(|s| !s.value.is_empty())
}

fn image(n: Option<&Node>, origin: &Origin) -> ImageArgs {
    let get = |k: &str| non_empty(text(n.and_then(|n| n.get(k))));
    ImageArgs {
        name: text_or_empty(n.and_then(|n| n.get("name"))),
        new_name: get("newName"),
        new_tag: get("newTag"),
        digest: get("digest"),
        tag_suffix: get("tagSuffix"),
        origin: origin.clone(),
    }
}

fn replica(n: Option<&Node>, origin: &Origin) -> Result<ReplicaArgs> {
    let count = n.and_then(|n| n.get("count"));
    let value = match count.and_then(scalar_str) {
        None => 0,
        Some(s) => s.parse::<i64>().map_err(|_| {
            KustomizeError::invalid(
                format!("replica count {s:?} is not an integer"),
                Some(origin),
            )
        })?,
    };
    Ok(ReplicaArgs {
        name: text_or_empty(n.and_then(|n| n.get("name"))),
        count: Spanned::new(
            value,
            count.map_or_else(|| origin.clone(), |c| c.origin.clone()),
        ),
        origin: origin.clone(),
    })
}

fn patch_args(cfg: &Node, patch_key: &str) -> PatchArgs {
    let options: BTreeMap<String, bool> = cfg
        .get("options")
        .and_then(Node::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((scalar_str(k)?.to_string(), boolean(Some(v)))))
                .collect()
        })
        .unwrap_or_default();
    PatchArgs {
        path: non_empty(text(cfg.get("path"))),
        patch: non_empty(text(cfg.get(patch_key))),
        target: selector(cfg.get("target")),
        options,
        origin: cfg.origin.clone(),
    }
}

fn subjects(n: Option<&Node>, origin: &Origin) -> Result<Subjects> {
    match text_or_empty(n).as_str() {
        "" | "defaultOnly" => Ok(Subjects::DefaultOnly),
        "allServiceAccounts" => Ok(Subjects::AllServiceAccounts),
        "none" => Ok(Subjects::None),
        other => Err(KustomizeError::invalid(
            format!("invalid value for setRoleBindingSubjects: {other}"),
            Some(origin),
        )),
    }
}

/// Reads a transformer config object.
///
/// Errors: `Unsupported` for anything but the builtin transformers listed in the module
/// documentation; `Invalid` for malformed values.
pub fn decode(cfg: &Resource) -> Result<Builtin> {
    let n = &cfg.node;
    let o = &n.origin;
    if cfg.api_version() != "builtin" {
        return Err(KustomizeError::unsupported(
            format!(
                "transformers: {} plugins (apiVersion {}); only builtin transformers are implemented",
                cfg.kind(),
                cfg.api_version()
            ),
            Some(o),
        ));
    }
    let specs = |default: Vec<FieldSpec>| field_specs(n.get("fieldSpecs")).unwrap_or(default);
    Ok(match cfg.kind() {
        "LabelTransformer" => Builtin::Labels(pairs(n.get("labels")), specs(Vec::new())),
        "AnnotationsTransformer" => {
            Builtin::Annotations(pairs(n.get("annotations")), specs(Vec::new()))
        }
        "NamespaceTransformer" => {
            let ns = text(n.get_path(&["metadata", "namespace"]))
                .unwrap_or_else(|| Spanned::new(String::new(), o.clone()));
            let opts = namespace::Options {
                specs: namespace::without_hacks(specs(Vec::new())),
                unset_only: boolean(n.get("unsetOnly")),
                subjects: subjects(n.get("setRoleBindingSubjects"), o)?,
                only: None,
            };
            Builtin::Namespace(ns, opts)
        }
        "PrefixTransformer" | "SuffixTransformer" | "PrefixSuffixTransformer" => Builtin::Affix(
            non_empty(text(n.get("prefix"))),
            non_empty(text(n.get("suffix"))),
            specs(Vec::new()),
        ),
        "ImageTagTransformer" => Builtin::Image(image(n.get("imageTag"), o), specs(Vec::new())),
        "ReplicaCountTransformer" => {
            Builtin::Replicas(replica(n.get("replica"), o)?, specs(Vec::new()))
        }
        "PatchTransformer" => Builtin::Patch(patch_args(n, "patch")),
        "PatchJson6902Transformer" => Builtin::Json6902(patch_args(n, "jsonOp")),
        "PatchStrategicMergeTransformer" => {
            let mut entries: Vec<Spanned<String>> = n
                .get("paths")
                .and_then(Node::as_seq)
                .map(|p| p.iter().filter_map(|x| text(Some(x))).collect())
                .unwrap_or_default();
            entries.extend(non_empty(text(n.get("patches"))));
            Builtin::StrategicMerge(entries)
        }
        "HashTransformer" => Builtin::Hash,
        "ReplacementTransformer" => Builtin::Replacement(
            n.get("replacements")
                .and_then(Node::as_seq)
                .map(|items| {
                    items
                        .iter()
                        .map(|r| decode_replacement_entry(r, "ReplacementTransformer.replacements"))
                        .collect::<Result<Vec<_>>>()
                })
                .transpose()?
                .unwrap_or_default(),
        ),
        "ValueAddTransformer" => Builtin::ValueAdd(
            ValueAddArgs {
                value: value_add_value(n.get("value"), o),
                targets: value_add_targets(n.get("targets")),
            },
            non_empty(text(n.get("targetFilePath"))),
        ),
        "IAMPolicyGenerator" | "HelmChartInflationGenerator" => {
            return Err(KustomizeError::unsupported(
                format!("transformers: builtin {} is a generator", cfg.kind()),
                Some(o),
            ))
        }
        other => {
            return Err(KustomizeError::unsupported(
                format!("transformers: builtin {other}"),
                Some(o),
            ))
        }
    })
}

/// Reads a generator config object (`generators:`): a builtin ConfigMapGenerator or
/// SecretGenerator. Returns the generator arguments and whether it makes a Secret.
///
/// Errors: `Unsupported` for other generators.
pub fn decode_generator(cfg: &Resource) -> Result<(GeneratorArgs, bool)> {
    let n = &cfg.node;
    let secret = match (cfg.api_version(), cfg.kind()) {
        ("builtin", "ConfigMapGenerator") => false,
        ("builtin", "SecretGenerator") => true,
        ("builtin", "IAMPolicyGenerator") => {
            return Err(KustomizeError::unsupported(
                "generators: builtin IAMPolicyGenerator (GKE Workload Identity service accounts; not implemented)",
                Some(&n.origin),
            ))
        }
        (av, kind) => {
            return Err(KustomizeError::unsupported(
                format!("generators: {kind} (apiVersion {av}); only builtin ConfigMapGenerator, SecretGenerator and HelmChartInflationGenerator are implemented"),
                Some(&n.origin),
            ))
        }
    };
    let strings = |k: &str| -> Vec<Spanned<String>> {
        n.get(k)
            .and_then(Node::as_seq)
            .map(|items| items.iter().filter_map(|x| text(Some(x))).collect())
            .unwrap_or_default()
    };
    let or_meta = |k: &str| {
        non_empty(text(n.get(k)))
            .or_else(|| text(n.get_path(&["metadata", k])))
            .unwrap_or_else(|| Spanned::new(String::new(), n.origin.clone()))
    };
    let mut envs = strings("envs");
    envs.extend(non_empty(text(n.get("env"))));
    let options = n
        .get("options")
        .filter(|o| !is_null(o))
        .map(|o| GeneratorOptions {
            labels: pairs(o.get("labels")),
            annotations: pairs(o.get("annotations")),
            disable_name_suffix_hash: boolean(o.get("disableNameSuffixHash")),
            immutable: boolean(o.get("immutable")),
        });
    let args = GeneratorArgs {
        name: or_meta("name"),
        namespace: or_meta("namespace").value,
        behavior: text(n.get("behavior"))
            .unwrap_or_else(|| Spanned::new(String::new(), n.origin.clone())),
        literals: strings("literals"),
        files: strings("files"),
        envs,
        options,
        secret_type: text_or_empty(n.get("type")),
        origin: n.origin.clone(),
    };
    Ok((args, secret))
}

/// Applies one configured builtin transformer to `m`.
///
/// Errors: those of the underlying transformer.
pub fn apply(b: &Builtin, m: &mut ResMap, patcher: &Patcher) -> Result<()> {
    match b {
        Builtin::Labels(p, specs) => labels::set_entries(m, p, specs, "LabelTransformer"),
        Builtin::Annotations(p, specs) => {
            labels::set_entries(m, p, specs, "AnnotationsTransformer")
        }
        Builtin::Namespace(ns, opts) => namespace::apply_with(m, ns, opts),
        Builtin::Affix(prefix, suffix, specs) => {
            prefix_suffix::apply_with(m, prefix.as_ref(), End::Prefix, specs)?;
            prefix_suffix::apply_with(m, suffix.as_ref(), End::Suffix, specs)
        }
        Builtin::Image(args, specs) => images::apply_with(m, args, specs),
        Builtin::Replicas(args, specs) => replicas::apply_with(m, args, specs),
        Builtin::Patch(p) => patcher.apply_patches(m, std::slice::from_ref(p)),
        Builtin::Json6902(p) => patcher.apply_json6902(m, std::slice::from_ref(p)),
        Builtin::StrategicMerge(entries) => patcher.apply_strategic_merge(m, entries),
        Builtin::Hash => {
            super::hash_transformer::apply(m);
            Ok(())
        }
        Builtin::Replacement(entries) => {
            let repl = replacements::load_entries(patcher.loader, patcher.dir, entries)?;
            replacements::apply(m, &repl, super::budget::MAX_BUILD_SIZE)
        }
        Builtin::ValueAdd(args, file) => {
            let mut args = args.clone();
            if let Some(f) = file {
                let (path, text) =
                    patcher
                        .loader
                        .read_restricted(patcher.dir, &f.value, &f.origin)?;
                let docs =
                    driftlint_yaml::parse_documents(super::loader::display(&path).into(), &text)?;
                args.targets.extend(value_add_targets(
                    docs.first().and_then(|d| d.get("targets")),
                ));
            }
            value_add::validate(&args, &args.value.origin)?;
            let root = patcher.loader.root_dir();
            value_add::apply(m, &args, &value_add::dir_name(patcher.dir, &root))
        }
    }
}

/// `value`: trimmed text (empty when absent).
fn value_add_value(n: Option<&Node>, origin: &Origin) -> Spanned<String> {
    let v = text(n).unwrap_or_else(|| Spanned::new(String::new(), origin.clone()));
    Spanned::new(v.value.trim().to_string(), v.origin)
}

/// `targets`: selector, fieldPath, filePathPosition of each entry.
fn value_add_targets(n: Option<&Node>) -> Vec<ValueAddTarget> {
    n.and_then(Node::as_seq)
        .map(|items| {
            items
                .iter()
                .map(|t| ValueAddTarget {
                    selector: selector(t.get("selector")),
                    field_path: text_or_empty(t.get("fieldPath")),
                    position: t
                        .get("filePathPosition")
                        .and_then(super::nodeutil::scalar_str)
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::parse_documents;

    fn cfg(src: &str) -> Resource {
        Resource::new(
            parse_documents("t.yaml".into(), src)
                .expect("parses")
                .remove(0),
        )
    }

    #[test]
    fn reads_label_transformer_leniently() {
        let b = decode(&cfg(
            "apiVersion: builtin\nkind: AnnotationsTransformer\nmetadata:\n  name: x\nannotations:\n  area: 51\nfieldSpecs:\n- kind: Deployment\n  path: spec/template/metadata/annotations\n  create: true\n",
        ))
        .expect("decodes");
        match b {
            Builtin::Annotations(p, specs) => {
                assert_eq!(p[0].1.value, "51");
                assert_eq!(specs.len(), 1);
                assert!(specs[0].create);
            }
            _ => panic!("wrong transformer"),
        }
    }

    #[test]
    fn other_plugins_are_unsupported() {
        let e = decode(&cfg(
            "apiVersion: example.com/v1\nkind: MyPlugin\nmetadata:\n  name: x\n",
        ))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.starts_with("unsupported: transformers: MyPlugin"), "{e}");
        assert!(decode(&cfg(
            "apiVersion: builtin\nkind: SortOrderTransformer\nmetadata:\n  name: x\n"
        ))
        .is_err());
    }
}
