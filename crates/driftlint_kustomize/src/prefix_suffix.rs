//! `namePrefix:` and `nameSuffix:` (kustomize PrefixTransformer and SuffixTransformer):
//! prepend/append to `metadata.name` of every object except CustomResourceDefinitions,
//! APIServices and Namespaces, remembering the previous name so references can follow.

use driftlint_yaml::Node;

use super::decode::Spanned;
use super::error::Result;
use super::fieldspec::{self, Create, FieldSpec};
use super::nodeutil::{str_at, string_node};
use super::resid::Gvk;
use super::resmap::ResMap;

/// Which end of the name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// `namePrefix`.
    Prefix,
    /// `nameSuffix`.
    Suffix,
}

fn skipped(gvk: &Gvk) -> bool {
    let skip = [
        Gvk::from_api_version("", "CustomResourceDefinition"),
        Gvk {
            group: "apiregistration.k8s.io".into(),
            version: String::new(),
            kind: "APIService".into(),
        },
        Gvk::from_api_version("", "Namespace"),
    ];
    skip.iter().any(|s| gvk.is_selected(s))
}

/// kustomize's `namePrefix`/`nameSuffix` field specs: `metadata/name` only.
#[cfg(test)]
pub fn field_specs() -> Vec<FieldSpec> {
    vec![FieldSpec::new("", "", "", "metadata/name", false)]
}

/// Applies a prefix or suffix to every eligible object of `m`. An absent or empty value
/// changes nothing.
#[cfg(test)]
pub fn apply(m: &mut ResMap, value: Option<&Spanned<String>>, end: End) {
    let _ = apply_with(m, value, end, &field_specs());
}

/// Applies a prefix or suffix at `specs` (a Prefix/SuffixTransformer config); the object
/// name bookkeeping happens for the `metadata/name` spec, as in kustomize.
///
/// Errors: a field-spec path crossing a scalar.
pub fn apply_with(
    m: &mut ResMap,
    value: Option<&Spanned<String>>,
    end: End,
    specs: &[FieldSpec],
) -> Result<()> {
    let Some(v) = value.filter(|v| !v.value.is_empty()) else {
        return Ok(());
    };
    let via = match end {
        End::Prefix => "namePrefix transformer",
        End::Suffix => "nameSuffix transformer",
    };
    let origin = v.origin.clone().with_via(via);
    let affix = |s: &str| match end {
        End::Prefix => format!("{}{s}", v.value),
        End::Suffix => format!("{s}{}", v.value),
    };
    for res in m.list_mut() {
        let org = res.org_id().gvk;
        if skipped(&org) {
            continue;
        }
        for fs in specs.iter().filter(|fs| org.is_selected(&fs.gvk)) {
            if fs.path == "metadata/name" {
                match end {
                    End::Prefix => res.prefixes.push(v.value.clone()),
                    End::Suffix => res.suffixes.push(v.value.clone()),
                }
                res.store_previous_id();
            }
            fieldspec::apply(
                &mut res.node,
                fs,
                Create::Nothing,
                &origin,
                &mut |n: &mut Node| {
                    if let Some(s) = str_at(n, &[]) {
                        *n = string_node(&affix(s), &origin);
                    }
                    Ok(())
                },
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Resource;
    use driftlint_yaml::{parse_documents, Origin};

    #[test]
    fn prefixes_and_suffixes_names_except_namespaces() {
        let mut m = ResMap::new();
        let src = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n";
        for d in parse_documents("r.yaml".into(), src).expect("parses") {
            m.append(Resource::new(d), None).expect("unique");
        }
        let o = Origin::new("k.yaml".into(), 4, 13);
        apply(
            &mut m,
            Some(&Spanned::new("p-".into(), o.clone())),
            End::Prefix,
        );
        apply(&mut m, Some(&Spanned::new("-s".into(), o)), End::Suffix);
        assert_eq!(m.list()[0].name(), "p-c-s");
        assert_eq!(m.list()[0].prev_ids.len(), 2);
        assert_eq!(m.list()[0].prev_ids[0].name, "c");
        assert_eq!(m.list()[0].prefixes, vec!["p-"]);
        assert_eq!(m.list()[1].name(), "n");
        let via = m.list()[0]
            .node
            .get_path(&["metadata", "name"])
            .and_then(|n| n.origin.via.clone());
        assert_eq!(via.as_deref(), Some("nameSuffix transformer"));
    }
}
