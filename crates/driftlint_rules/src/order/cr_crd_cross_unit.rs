//! CRD002 cr-crd-cross-unit-no-dependson.
//!
//! ## What it does
//! Flags a custom resource applied by a Flux Kustomization A whose CRD is installed by another
//! unit of the same cluster tree that A is not ordered after:
//! - another Flux Kustomization B, when A neither depends on B (`dependsOn`, transitively) nor
//!   is applied by B or by a unit A waits for;
//! - a HelmRelease H applied by another Flux Kustomization P, unless A waits for P (as above)
//!   and P waits for H to be ready (`spec.wait: true`, or a `healthChecks` entry naming H), as
//!   kustomize-controller marks P ready only then.
//!
//! For a helmfile release, the same with `needs:`: a release whose manifests hold a custom
//! resource whose CRD another release installs, without `needs` (transitively) on it.
//!
//! ## Why
//! Flux applies CRDs before custom resources only within one Kustomization. Across two, A's
//! server-side dry-run fails on a fresh cluster (`no matches for kind`) until B has run, and
//! the whole of A is not applied. A HelmRelease's CRDs exist only once helm-controller has
//! installed the release, which a `dependsOn` on the unit applying the HelmRelease does not
//! wait for unless that unit waits for its objects' health. helmfile orders releases only by
//! `needs`. On a long-lived cluster the CRD is already there, so nothing shows the problem
//! before the cluster is rebuilt.
//!
//! ## Example
//! A `ClusterIssuer` in `infra-configs`, the cert-manager CRDs in `infra-controllers`, and no
//! `dependsOn: [{name: infra-controllers}]` on `infra-configs`.

use std::collections::BTreeSet;

use super::{custom_kind, Graph, GraphHit, UnitKind};
use crate::Hit;
use driftlint_yaml::Node;

pub(crate) const CODE: &str = "CRD002";
pub(crate) const META: &str = include_str!("../../../../rules/CRD002.yaml");

pub(crate) fn check<'a>(g: &Graph<'_, 'a>, out: &mut Vec<GraphHit<'a>>) {
    for (i, u) in g.units.iter().enumerate() {
        if !matches!(
            u.kind,
            UnitKind::FluxKustomization | UnitKind::HelmfileRelease
        ) {
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
            let candidates: Vec<_> = installers
                .iter()
                .filter(|(j, _)| relevant(g, i, *j))
                .collect();
            // Installed by this unit itself (Flux applies CRDs first), or by a HelmRelease it
            // applies (CRD003's case).
            let own = candidates
                .iter()
                .any(|(j, _)| *j == i || g.units[*j].parent == Some(i));
            if candidates.is_empty() || own {
                continue;
            }
            let waits = waits.get_or_insert_with(|| g.waits_for(i));
            if candidates.iter().any(|(j, _)| ordered(g, waits, *j)) {
                continue;
            }
            let (Some(kind_node), Some((j, crd))) = (obj.get("kind"), candidates.first()) else {
                continue;
            };
            let message = format!(
                "{kind} {} is applied by {} but its CRD is installed by {} ({}:{}), which it is not ordered after: on a fresh cluster the dry-run fails until that has run; {}",
                obj.str_at(&["metadata", "name"]).unwrap_or("<unnamed>"),
                g.label(i),
                g.label(*j),
                crd.origin.file,
                crd.origin.line,
                fix(g, i, *j),
            );
            out.push(GraphHit {
                hit: Hit::new(CODE, kind_node, "/kind".into(), message),
                unit: i,
                object: Some(obj),
            });
        }
    }
}

/// Whether unit `j` installing a CRD is compared with unit `i` holding a custom resource: Flux
/// Kustomizations and HelmReleases of the same cluster tree for a Flux Kustomization, other
/// helmfile releases for a helmfile release.
fn relevant(g: &Graph, i: usize, j: usize) -> bool {
    let kind = g.units[j].kind;
    match g.units[i].kind {
        UnitKind::HelmfileRelease => kind == UnitKind::HelmfileRelease,
        _ => {
            g.root[j] == g.root[i]
                && matches!(kind, UnitKind::FluxKustomization | UnitKind::HelmRelease)
        }
    }
}

/// Whether a unit waiting for `waits` runs after installer `j` is ready.
fn ordered(g: &Graph, waits: &BTreeSet<usize>, j: usize) -> bool {
    if waits.contains(&j) {
        return true;
    }
    let u = &g.units[j];
    match (u.kind, u.parent) {
        (UnitKind::HelmRelease, Some(p)) => waits.contains(&p) && waits_for_release(g, p, j),
        _ => false,
    }
}

/// Whether Flux Kustomization `p` is ready only once HelmRelease `h` is: `spec.wait: true`, or
/// a `spec.healthChecks` entry of kind HelmRelease naming it (as kustomize-controller's health
/// assessment).
fn waits_for_release(g: &Graph, p: usize, h: usize) -> bool {
    let Some(ks) = g.units[p].flux else {
        return false;
    };
    let wait = ks.get_path(&["spec", "wait"]).and_then(Node::resolve);
    if matches!(wait, Some(driftlint_yaml::Resolved::Bool(true))) {
        return true;
    }
    let release = &g.units[h];
    let name = release.flux.and_then(|o| o.str_at(&["metadata", "name"]));
    let checks = ks
        .get_path(&["spec", "healthChecks"])
        .and_then(Node::as_seq);
    checks.into_iter().flatten().any(|c| {
        c.str_at(&["kind"]) == Some("HelmRelease")
            && c.str_at(&["name"]) == name
            && c.str_at(&["namespace"])
                .is_none_or(|ns| ns == release.namespace)
    })
}

/// The fix: `dependsOn` on the installing Flux Kustomization (and `wait: true` there for a
/// HelmRelease), or `needs` on the installing helmfile release.
fn fix(g: &Graph, i: usize, j: usize) -> String {
    let name = |k: usize| {
        g.units[k]
            .flux
            .and_then(|o| o.str_at(&["metadata", "name"]))
            .unwrap_or("")
            .to_string()
    };
    let u = &g.units[j];
    match (g.units[i].kind, u.kind, u.parent) {
        (UnitKind::HelmfileRelease, _, _) => {
            let need = g.units[j].id.rsplit_once("release ").map_or(u.id, |(_, r)| r);
            format!("add `needs: [{}]`", need.trim_end_matches(')'))
        }
        (_, UnitKind::HelmRelease, Some(p)) => format!(
            "add `dependsOn: [{{name: {}}}]` and give {} `wait: true` (or a healthCheck on the HelmRelease)",
            name(p),
            g.label(p)
        ),
        _ => format!("add `dependsOn: [{{name: {}}}]`", name(j)),
    }
}
