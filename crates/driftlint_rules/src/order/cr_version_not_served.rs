//! CRD006 cr-version-not-served.
//!
//! ## What it does
//! Flags a custom resource whose `apiVersion` version is not served (`served: true`) by the
//! CRD of its kind rendered in the repository (in the same cluster tree when it has one there,
//! else anywhere in the repository).
//!
//! ## Why
//! The API server rejects an object in a version its CRD does not serve (`no matches for kind
//! ... in version ...`), typically after an operator upgrade dropped an old version.
//!
//! ## Example
//! `apiVersion: example.com/v1alpha1` while the CRD serves only `v1`.

use super::{custom_kind, Graph, GraphHit};
use crate::Hit;
use driftlint_yaml::Node;

pub(crate) const CODE: &str = "CRD006";
pub(crate) const META: &str = include_str!("../../../../rules/CRD006.yaml");

/// The versions `crd` serves.
fn served(crd: &Node) -> Vec<&str> {
    let mut out: Vec<&str> = crd
        .get_path(&["spec", "versions"])
        .and_then(Node::as_seq)
        .map(|vs| {
            vs.iter()
                .filter(|v| {
                    v.get("served")
                        .and_then(Node::resolve)
                        .is_some_and(|r| matches!(r, driftlint_yaml::Resolved::Bool(true)))
                })
                .filter_map(|v| v.str_at(&["name"]))
                .collect()
        })
        .unwrap_or_default();
    out.extend(crd.str_at(&["spec", "version"]));
    out
}

pub(crate) fn check<'a>(g: &Graph<'_, 'a>, out: &mut Vec<GraphHit<'a>>) {
    for (i, u) in g.units.iter().enumerate() {
        for obj in u.objects {
            let Some((group, kind)) = custom_kind(obj) else {
                continue;
            };
            let Some(installers) = g.installers.get(&(group.to_string(), kind.to_string())) else {
                continue;
            };
            let local: Vec<&Node> = installers
                .iter()
                .filter(|(j, _)| g.root[*j] == g.root[i])
                .map(|(_, c)| *c)
                .collect();
            let crds: Vec<&Node> = if local.is_empty() {
                installers.iter().map(|(_, c)| *c).collect()
            } else {
                local
            };
            let Some(api) = obj.get("apiVersion") else {
                continue;
            };
            let version = api
                .as_str()
                .and_then(|a| a.rsplit_once('/'))
                .map(|(_, v)| v);
            let Some(version) = version else { continue };
            if crds.iter().any(|c| served(c).contains(&version)) {
                continue;
            }
            let mut versions: Vec<&str> = crds.iter().flat_map(|c| served(c)).collect();
            versions.sort_unstable();
            versions.dedup();
            let message = format!(
                "{kind} {} uses {group}/{version}, which its CRD ({}:{}) does not serve (served: {})",
                obj.str_at(&["metadata", "name"]).unwrap_or("<unnamed>"),
                crds[0].origin.file,
                crds[0].origin.line,
                if versions.is_empty() {
                    "none".to_string()
                } else {
                    versions.join(", ")
                }
            );
            out.push(GraphHit {
                hit: Hit::new(CODE, api, "/apiVersion".into(), message),
                unit: i,
                object: Some(obj),
            });
        }
    }
}
