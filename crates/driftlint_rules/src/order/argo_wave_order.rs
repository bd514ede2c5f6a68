//! CRD005 argocd-wave-order.
//!
//! ## What it does
//! Flags a custom resource of an Argo CD Application applied no later than its CRD: in the
//! same Application, a CR applied in an earlier step than the CRD — an earlier hook phase
//! (`PreSync` before `Sync` before `PostSync`, see [`super::sync_steps`]), or in the same
//! phase a lower `argocd.argoproj.io/sync-wave` (in the same wave Argo CD applies CRDs first);
//! across two Applications with the same parent
//! (app-of-apps siblings), a CR whose Application's wave is not later than the wave of the
//! Application installing the CRD. `SkipDryRunOnMissingResource=true` on the object's
//! `argocd.argoproj.io/sync-options` or the Application's `spec.syncPolicy.syncOptions`
//! accepts the order.
//!
//! ## Why
//! On a fresh cluster the CR's dry-run (or apply) fails until the CRD exists, and the sync fails.

use super::sync_steps::{first_step, step_text};
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

/// The sync step of an object of the Application, as messages name it (`Sync wave 0`).
fn step_of(o: &Node) -> String {
    first_step(o).map_or_else(|| format!("sync wave {}", wave(o)), step_text)
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
                    return match (first_step(obj), first_step(crd)) {
                        (Some(cr), Some(def)) => cr < def,
                        _ => false,
                    };
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
            let (ours, theirs) = if *j == i {
                (step_of(obj), step_of(crd))
            } else {
                let app_wave = |a: Option<&Node>| format!("sync wave {}", a.map_or(0, wave));
                (app_wave(u.argo), app_wave(g.units[*j].argo))
            };
            let message = format!(
                "{kind} {} ({ours}) is applied by {} no later than its CRD, installed by {} ({}:{}, {theirs}): on a fresh cluster the sync fails until the CRD exists; give it a later `{WAVE}` or `{SKIP}`",
                obj.str_at(&["metadata", "name"]).unwrap_or("<unnamed>"),
                u.id,
                g.units[*j].id,
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

#[cfg(test)]
mod tests {
    use super::super::{Graph, GraphUnit, UnitKind};
    use super::*;

    fn docs(text: &str) -> Vec<Node> {
        driftlint_yaml::parse_documents("app.yaml".into(), text).expect("yaml")
    }

    /// The lines of the CRD005 hits over one Application rendering `objects`.
    fn hits(objects: &[Node]) -> Vec<u32> {
        let app = docs("kind: Application\nmetadata: {name: a}\n").remove(0);
        let units = [GraphUnit {
            id: "a",
            kind: UnitKind::ArgoApplication,
            flux: None,
            argo: Some(&app),
            namespace: "argocd",
            parent: None,
            objects,
            needs: Vec::new(),
        }];
        let g = Graph::new(&units);
        let mut out = Vec::new();
        check(&g, &mut out);
        out.iter()
            .map(|h| h.object.map_or(0, |o| o.origin.line))
            .collect()
    }

    const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: things.x.io\nspec:\n  group: x.io\n  names: {kind: Thing, plural: things}\n";

    fn cr(name: &str, annotations: &str) -> String {
        format!("---\napiVersion: x.io/v1\nkind: Thing\nmetadata:\n  name: {name}\n  annotations: {{{annotations}}}\n")
    }

    #[test]
    fn hook_phases_order_a_custom_resource_against_its_crd() {
        let text = [
            CRD.to_string(),
            cr(
                "pre",
                "argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/sync-wave: '5'",
            ),
            cr(
                "post",
                "argocd.argoproj.io/hook: PostSync, argocd.argoproj.io/sync-wave: '-5'",
            ),
            cr("same", ""),
            cr("early", "argocd.argoproj.io/sync-wave: '-1'"),
            cr(
                "skipped",
                "argocd.argoproj.io/hook: Skip, argocd.argoproj.io/sync-wave: '-1'",
            ),
        ]
        .concat();
        let objects = docs(&text);
        let lines: Vec<u32> = objects
            .iter()
            .filter(|o| matches!(o.str_at(&["metadata", "name"]), Some("pre" | "early")))
            .map(|o| o.origin.line)
            .collect();
        assert_eq!(hits(&objects), lines);
    }
}
