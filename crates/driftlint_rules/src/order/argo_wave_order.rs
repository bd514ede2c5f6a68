//! CRD005 argocd-wave-order.
//!
//! ## What it does
//! Flags a custom resource of an Argo CD Application applied no later than its CRD: in the
//! same Application, a CR whose `argocd.argoproj.io/sync-wave` is lower than the CRD's (in the
//! same wave Argo CD applies CRDs first); across two Applications with the same parent
//! (app-of-apps siblings), a CR whose Application's wave is not later than the wave of the
//! Application installing the CRD. `SkipDryRunOnMissingResource=true` on the object's
//! `argocd.argoproj.io/sync-options` or the Application's `spec.syncPolicy.syncOptions`
//! accepts the order.
//!
//! ## Why
//! On a fresh cluster the CR's dry-run (or apply) fails until the CRD exists, and the sync fails.

use super::{custom_kind, Graph, GraphHit, UnitKind};
use crate::Hit;
use driftlint_yaml::Node;

pub(crate) const CODE: &str = "CRD005";
pub(crate) const META: &str = include_str!("../../../../rules/CRD005.yaml");

const WAVE: &str = "argocd.argoproj.io/sync-wave";
const OPTIONS: &str = "argocd.argoproj.io/sync-options";
const SKIP: &str = "SkipDryRunOnMissingResource=true";

/// An object's sync wave as gitops-engine's `syncwaves.Wave`: the integer
/// `argocd.argoproj.io/sync-wave` annotation, else the `helm.sh/hook-weight` one, else 0.
pub(crate) fn wave(o: &Node) -> i64 {
    let int = |key: &str| {
        o.get_path(&["metadata", "annotations", key])
            .and_then(Node::scalar_text)
            .and_then(|w| w.trim().parse().ok())
    };
    int(WAVE)
        .or_else(|| int("helm.sh/hook-weight"))
        .unwrap_or(0)
}

fn skips(obj: &Node, app: Option<&Node>) -> bool {
    let on_obj = obj
        .get_path(&["metadata", "annotations", OPTIONS])
        .and_then(Node::scalar_text)
        .is_some_and(|s| s.split(',').any(|o| o.trim() == SKIP));
    let on_app = app
        .and_then(|a| a.get_path(&["spec", "syncPolicy", "syncOptions"]))
        .and_then(Node::as_seq)
        .is_some_and(|s| s.iter().any(|o| o.scalar_text() == Some(SKIP)));
    on_obj || on_app
}

pub(crate) fn check<'a>(g: &Graph<'_, 'a>, out: &mut Vec<GraphHit<'a>>) {
    for (i, u) in g.units.iter().enumerate() {
        if u.kind != UnitKind::ArgoApplication {
            continue;
        }
        for obj in u.objects {
            let Some((group, kind)) = custom_kind(obj) else {
                continue;
            };
            let Some(installers) = g.installers.get(&(group.to_string(), kind.to_string())) else {
                continue;
            };
            if skips(obj, u.argo) {
                continue;
            }
            let early = installers.iter().find(|(j, crd)| {
                let other = &g.units[*j];
                if *j == i {
                    return wave(obj) < wave(crd);
                }
                let (Some(a), Some(b)) = (u.argo, other.argo) else {
                    return false;
                };
                other.kind == UnitKind::ArgoApplication
                    && other.parent == u.parent
                    && wave(a) <= wave(b)
            });
            let (Some((j, crd)), Some(kind_node)) = (early, obj.get("kind")) else {
                continue;
            };
            let message = format!(
                "{kind} {} (sync wave {}) is applied by {} no later than its CRD, installed by {} ({}:{}, wave {}): on a fresh cluster the sync fails until the CRD exists; give it a later `{WAVE}` or `{SKIP}`",
                obj.str_at(&["metadata", "name"]).unwrap_or("<unnamed>"),
                if *j == i { wave(obj) } else { u.argo.map_or(0, wave) },
                u.id,
                g.units[*j].id,
                crd.origin.file,
                crd.origin.line,
                if *j == i { wave(crd) } else { g.units[*j].argo.map_or(0, wave) },
            );
            out.push(GraphHit {
                hit: Hit::new(CODE, kind_node, "/kind".into(), message),
                unit: i,
                object: Some(obj),
            });
        }
    }
}
