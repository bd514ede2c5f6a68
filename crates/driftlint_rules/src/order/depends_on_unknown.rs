//! ORDER002 depends-on-unknown.
//!
//! ## What it does
//! Flags a `spec.dependsOn` entry of a Flux Kustomization naming a Flux Kustomization (name and
//! namespace, the namespace defaulting to the dependent's) that the repository does not define.
//!
//! ## Why
//! kustomize-controller waits for the dependency forever (`dependency 'ns/name' not found`):
//! the dependent is never applied. Usually a typo or a rename.
//!
//! ## Example
//! `dependsOn: [{name: infra-controler}]` next to a Kustomization named `infra-controllers`.

use std::collections::BTreeSet;

use super::{Graph, GraphHit};
use crate::Hit;

pub(crate) const CODE: &str = "ORDER002";
pub(crate) const META: &str = include_str!("../../../../rules/ORDER002.yaml");

pub(crate) fn check<'a>(g: &Graph<'_, 'a>, out: &mut Vec<GraphHit<'a>>) {
    // Every Flux Kustomization the repository renders, rendered as a unit or not (a
    // Kustomization whose source is elsewhere still exists in the cluster).
    let mut defined: BTreeSet<(Option<&str>, &str)> = BTreeSet::new();
    for u in g.units {
        for o in u.objects.iter().filter(|o| is_flux_kustomization(o)) {
            if let Some(name) = o.str_at(&["metadata", "name"]) {
                defined.insert((o.str_at(&["metadata", "namespace"]), name));
            }
        }
        if let Some(name) = u.flux.and_then(|o| o.str_at(&["metadata", "name"])) {
            defined.insert((Some(u.namespace), name));
        }
    }
    // A HelmRelease's `dependsOn` names HelmReleases, which this rule does not list (one
    // found in a folder without its namespace cannot be told from another).
    let flux = |i: &usize| g.units[*i].kind != super::UnitKind::HelmRelease;
    for (i, deps) in g.deps.iter().enumerate().filter(|(i, _)| flux(i)) {
        for d in deps.iter().filter(|d| d.unit.is_none()) {
            let known = defined.contains(&(Some(d.namespace.as_str()), d.name.as_str()))
                || defined.contains(&(None, d.name.as_str()));
            if known {
                continue;
            }
            let message = format!(
                "dependsOn names Flux Kustomization {}/{}, which this repository does not define: kustomize-controller waits for it forever",
                d.namespace, d.name
            );
            out.push(GraphHit {
                hit: Hit::new(CODE, d.at, "/spec/dependsOn".into(), message),
                unit: i,
                object: g.units[i].flux,
            });
        }
    }
}

fn is_flux_kustomization(o: &driftlint_yaml::Node) -> bool {
    o.str_at(&["kind"]) == Some("Kustomization")
        && o.str_at(&["apiVersion"])
            .is_some_and(|a| a.starts_with("kustomize.toolkit.fluxcd.io/"))
}
