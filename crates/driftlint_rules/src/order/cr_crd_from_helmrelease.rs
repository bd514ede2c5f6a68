//! CRD003 cr-crd-from-helmrelease.
//!
//! ## What it does
//! Flags a custom resource applied by the same Flux Kustomization as the HelmRelease whose
//! chart installs its CRD (and not installed by that Flux Kustomization itself).
//!
//! ## Why
//! kustomize-controller applies the HelmRelease object, not the chart: the CRD exists only
//! after helm-controller installed the release, so on a fresh cluster the custom resource's
//! dry-run fails and the whole Flux Kustomization with it (the cert-manager `ClusterIssuer`
//! story). Flux applies CRDs first only when the same unit renders them.
//!
//! ## Example
//! A Flux Kustomization applying `HelmRelease cert-manager` and `ClusterIssuer letsencrypt`.

use std::collections::BTreeMap;

use super::{custom_kind, is_crd, Graph, GraphHit, UnitKind};
use crate::Hit;
use driftlint_yaml::Node;

pub(crate) const CODE: &str = "CRD003";
pub(crate) const META: &str = include_str!("../../../../rules/CRD003.yaml");

/// (group, kind) of each CRD in `objects`, with the CRD.
fn crds(objects: &[Node]) -> BTreeMap<(&str, &str), &Node> {
    objects
        .iter()
        .filter(|o| is_crd(o))
        .filter_map(|c| {
            let g = c.str_at(&["spec", "group"])?;
            let k = c.str_at(&["spec", "names", "kind"])?;
            Some(((g, k), c))
        })
        .collect()
}

pub(crate) fn check<'a>(g: &Graph<'_, 'a>, out: &mut Vec<GraphHit<'a>>) {
    for (h, release) in g.units.iter().enumerate() {
        let Some(p) = release
            .parent
            .filter(|_| release.kind == UnitKind::HelmRelease)
        else {
            continue;
        };
        let parent = &g.units[p];
        if parent.kind != UnitKind::FluxKustomization {
            continue;
        }
        let installed = crds(release.objects);
        let own = crds(parent.objects);
        for obj in parent.objects {
            let Some(key) = custom_kind(obj) else {
                continue;
            };
            let (Some(crd), false) = (installed.get(&key), own.contains_key(&key)) else {
                continue;
            };
            let Some(kind_node) = obj.get("kind") else {
                continue;
            };
            let message = format!(
                "{} {} is applied by {} together with {}, whose chart installs its CRD ({}:{}): kustomize-controller applies the HelmRelease, not the chart, so on a fresh cluster the CRD does not exist yet and the dry-run fails; move it to a Flux Kustomization that dependsOn this one with wait: true",
                key.1,
                obj.str_at(&["metadata", "name"]).unwrap_or("<unnamed>"),
                g.label(p),
                g.label(h),
                crd.origin.file,
                crd.origin.line
            );
            out.push(GraphHit {
                hit: Hit::new(CODE, kind_node, "/kind".into(), message),
                unit: p,
                object: Some(obj),
            });
        }
    }
}
