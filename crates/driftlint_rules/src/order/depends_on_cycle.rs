//! ORDER001 depends-on-cycle.
//!
//! ## What it does
//! Flags Flux Kustomizations whose `spec.dependsOn` entries form a cycle (in one cluster tree),
//! once per cycle, at the `dependsOn` entry of its first member (in id order).
//!
//! ## Why
//! A Kustomization waits until every dependency is ready; in a cycle none ever is, so none of
//! them is applied again (kustomize-controller reports `dependency ... is not ready` forever).
//!
//! ## Example
//! `apps` depends on `infra`, and `infra` depends on `apps`.

use std::collections::BTreeSet;

use super::{Graph, GraphHit};
use crate::Hit;

pub(crate) const CODE: &str = "ORDER001";
pub(crate) const META: &str = include_str!("../../../../rules/ORDER001.yaml");

/// A path from `from` back to `to` over dependsOn edges, if there is one.
fn path_back(g: &Graph, from: usize, to: usize) -> Option<Vec<usize>> {
    let mut stack = vec![(from, vec![from])];
    let mut seen = BTreeSet::new();
    while let Some((x, path)) = stack.pop() {
        for d in g.deps[x].iter().filter_map(|d| d.unit) {
            if d == to {
                return Some(path);
            }
            if seen.insert(d) {
                let mut p = path.clone();
                p.push(d);
                stack.push((d, p));
            }
        }
    }
    None
}

pub(crate) fn check<'a>(g: &Graph<'_, 'a>, out: &mut Vec<GraphHit<'a>>) {
    let mut reported: BTreeSet<Vec<usize>> = BTreeSet::new();
    let mut order: Vec<usize> = (0..g.units.len()).collect();
    order.sort_by_key(|i| g.units[*i].id);
    for i in order {
        for dep in &g.deps[i] {
            let Some(d) = dep.unit else { continue };
            let Some(mut cycle) = (if d == i {
                Some(vec![i])
            } else {
                path_back(g, d, i)
            }) else {
                continue;
            };
            if d != i {
                cycle.insert(0, i);
            }
            let mut key = cycle.clone();
            key.sort_unstable();
            if !reported.insert(key) {
                continue;
            }
            let names: Vec<String> = cycle
                .iter()
                .chain(std::iter::once(&i))
                .map(|u| {
                    g.units[*u]
                        .flux
                        .and_then(|o| o.str_at(&["metadata", "name"]))
                        .unwrap_or(g.units[*u].id)
                        .to_string()
                })
                .collect();
            let message = format!(
                "dependsOn cycle: {}; none of these Flux Kustomizations can become ready",
                names.join(" -> ")
            );
            out.push(GraphHit {
                hit: Hit::new(CODE, dep.at, "/spec/dependsOn".into(), message),
                unit: i,
                object: g.units[i].flux,
            });
        }
    }
}
