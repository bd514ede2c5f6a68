//! The steps in which Argo CD applies one Application's objects, as gitops-engine's sync
//! (`pkg/sync/sync_context.go`, `pkg/sync/hook`, `pkg/sync/syncwaves`): phases `PreSync`,
//! `Sync`, `PostSync` in that order (`SyncFail` only when the sync fails, `PostDelete` only
//! when the Application is deleted), and inside each phase the sync waves in ascending order.
//!
//! An object's phases come from its `argocd.argoproj.io/hook` annotation (comma-separated;
//! `Skip` means never applied); without one, from Helm's `helm.sh/hook` as Argo CD maps it
//! (`pre-install`/`pre-upgrade` → PreSync, `post-install`/`post-upgrade` → PostSync,
//! `post-delete` → PostDelete; `crd-install` is an ordinary resource; any other Helm hook,
//! such as `test`, is never run by a sync); an object with neither is an ordinary resource of
//! the `Sync` phase.

use std::collections::BTreeMap;

use serde::Serialize;

use super::argo_wave_order::wave;
use driftlint_yaml::Node;

/// The phases, in the order a sync runs them.
const PHASES: [&str; 5] = ["PreSync", "Sync", "PostSync", "SyncFail", "PostDelete"];

/// One step of a sync: the objects of one wave of one phase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SyncStep {
    /// `PreSync`, `Sync`, `PostSync`, `SyncFail` or `PostDelete`.
    pub phase: &'static str,
    /// The sync wave.
    pub wave: i64,
    /// How many objects it applies (a hook of two phases counts in both).
    pub objects: usize,
}

/// The steps `objects` (one Application's render) are applied in, in order.
pub fn sync_steps(objects: &[Node]) -> Vec<SyncStep> {
    let mut steps: BTreeMap<(usize, i64), usize> = BTreeMap::new();
    for o in objects {
        for phase in phases(o) {
            *steps.entry((phase, wave(o))).or_default() += 1;
        }
    }
    steps
        .into_iter()
        .map(|((phase, wave), objects)| SyncStep {
            phase: PHASES[phase],
            wave,
            objects,
        })
        .collect()
}

/// The first step `o` is applied in, `(phase index, wave)` (so steps compare in the order a
/// sync runs them); `None` when no sync applies it.
pub(crate) fn first_step(o: &Node) -> Option<(usize, i64)> {
    phases(o).into_iter().min().map(|p| (p, wave(o)))
}

/// A step as messages name it: `PreSync wave -1`.
pub(crate) fn step_text(step: (usize, i64)) -> String {
    format!("{} wave {}", PHASES[step.0], step.1)
}

/// The phases (indices into [`PHASES`]) of one object; empty when no sync applies it.
fn phases(o: &Node) -> Vec<usize> {
    let annotation = |key: &str| {
        o.get_path(&["metadata", "annotations", key])
            .and_then(Node::scalar_text)
    };
    let index = |name: &str| PHASES.iter().position(|p| *p == name);
    if let Some(hook) = annotation("argocd.argoproj.io/hook") {
        let names: Vec<&str> = hook.split(',').map(str::trim).collect();
        if names.contains(&"Skip") {
            return Vec::new();
        }
        let found: Vec<usize> = names.iter().filter_map(|n| index(n)).collect();
        if !found.is_empty() {
            return found;
        }
    }
    let Some(helm) = annotation("helm.sh/hook") else {
        return vec![1];
    };
    let mut out: Vec<usize> = helm
        .split(',')
        .filter_map(|t| match t.trim() {
            "pre-install" | "pre-upgrade" => index("PreSync"),
            "post-install" | "post-upgrade" => index("PostSync"),
            "post-delete" => index("PostDelete"),
            _ => None,
        })
        .collect();
    if out.is_empty() && helm.trim() == "crd-install" {
        out.push(1);
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(annotations: &str) -> Node {
        let text = format!("kind: Job\nmetadata:\n  name: j\n  annotations: {{{annotations}}}\n");
        driftlint_yaml::parse_documents("t.yaml".into(), &text)
            .expect("yaml")
            .remove(0)
    }

    fn steps(objs: &[Node]) -> Vec<(&'static str, i64, usize)> {
        sync_steps(objs)
            .into_iter()
            .map(|s| (s.phase, s.wave, s.objects))
            .collect()
    }

    #[test]
    fn phases_then_waves_in_the_order_a_sync_runs_them() {
        let objs = [
            obj("argocd.argoproj.io/hook: PostSync"),
            obj("argocd.argoproj.io/sync-wave: '2'"),
            obj(""),
            obj("argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/sync-wave: '-1'"),
            obj("argocd.argoproj.io/hook: 'PreSync,PostSync'"),
            obj("argocd.argoproj.io/hook: Skip"),
        ];
        assert_eq!(
            steps(&objs),
            [
                ("PreSync", -1, 1),
                ("PreSync", 0, 1),
                ("Sync", 0, 1),
                ("Sync", 2, 1),
                ("PostSync", 0, 2),
            ]
        );
    }

    #[test]
    fn helm_hooks_map_as_argo_cd_maps_them() {
        let objs = [
            obj("helm.sh/hook: pre-install, helm.sh/hook-weight: '-5'"),
            obj("helm.sh/hook: 'post-install,post-upgrade'"),
            obj("helm.sh/hook: test"),
            obj("helm.sh/hook: crd-install"),
            obj("helm.sh/hook: pre-install, argocd.argoproj.io/hook: Sync"),
        ];
        assert_eq!(
            steps(&objs),
            [("PreSync", -5, 1), ("Sync", 0, 2), ("PostSync", 0, 1)]
        );
    }
}
