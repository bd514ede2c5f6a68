//! CRD002 cr-crd-cross-unit-no-dependson.
//!
//! ## What it does
//! Flags a custom resource applied by a Flux Kustomization A whose CRD is installed by another
//! Flux Kustomization B of the same cluster tree when A neither depends on B (`dependsOn`,
//! transitively) nor is applied by B or by a unit A waits for.
//!
//! ## Why
//! Flux applies CRDs before custom resources only within one Kustomization. Across two, A's
//! server-side dry-run fails on a fresh cluster (`no matches for kind`) until B has run, and
//! the whole of A is not applied. On a long-lived cluster the CRD is already there, so nothing
//! shows the problem before the cluster is rebuilt.
//!
//! ## Example
//! A `ClusterIssuer` in `infra-configs`, the cert-manager CRDs in `infra-controllers`, and no
//! `dependsOn: [{name: infra-controllers}]` on `infra-configs`.

use super::{custom_kind, Graph, GraphHit, UnitKind};
use crate::Hit;

pub(crate) const CODE: &str = "CRD002";
pub(crate) const META: &str = include_str!("../../../../rules/CRD002.yaml");

pub(crate) fn check<'a>(g: &Graph<'_, 'a>, out: &mut Vec<GraphHit<'a>>) {
    for (i, u) in g.units.iter().enumerate() {
        if u.kind != UnitKind::FluxKustomization {
            continue;
        }
        let mut waits = None;
        for obj in u.objects {
            let Some((group, kind)) = custom_kind(obj) else {
                continue;
            };
            let Some(installers) = g.installers.get(&(group.to_string(), kind.to_string())) else {
                continue;
            };
            let same_tree: Vec<_> = installers
                .iter()
                .filter(|(j, _)| {
                    g.root[*j] == g.root[i] && g.units[*j].kind == UnitKind::FluxKustomization
                })
                .collect();
            let waits = waits.get_or_insert_with(|| g.waits_for(i));
            let ordered = same_tree.iter().any(|(j, _)| *j == i || waits.contains(j));
            let (Some((j, crd)), false) = (same_tree.first(), ordered) else {
                continue;
            };
            let Some(kind_node) = obj.get("kind") else {
                continue;
            };
            let installer = g.label(*j);
            let dep = g.units[*j]
                .flux
                .and_then(|o| o.str_at(&["metadata", "name"]))
                .unwrap_or("");
            let message = format!(
                "{kind} {} is applied by {} but its CRD is installed by {installer} ({}:{}), which it does not depend on: on a fresh cluster the dry-run fails until {installer} has run; add `dependsOn: [{{name: {dep}}}]`",
                obj.str_at(&["metadata", "name"]).unwrap_or("<unnamed>"),
                g.label(i),
                crd.origin.file,
                crd.origin.line,
            );
            out.push(GraphHit {
                hit: Hit::new(CODE, kind_node, "/kind".into(), message),
                unit: i,
                object: Some(obj),
            });
        }
    }
}
