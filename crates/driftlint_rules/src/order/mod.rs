//! The apply graph and the rules over it: which unit installs each CRD, which units each one
//! waits for, and whether every custom resource can be applied on a fresh cluster.
//!
//! Units are the repository's apply units (Flux Kustomizations, charts, folders). Edges, as
//! Flux orders them: a Flux Kustomization waits for the units in its `spec.dependsOn`
//! (transitively), and is applied by its parent (the unit whose output holds its object), so
//! everything its ancestors and their dependencies install exists before it reconciles. A
//! repository deploying several clusters has one tree per cluster: units are only compared
//! with units of the same tree — those whose top ancestors are declared in the same folder
//! (`clusters/prod/`), as one cluster's bootstrap reads one folder.

pub(crate) mod argo_wave_order;
pub(crate) mod chart_crd_with_cr;
pub(crate) mod cr_crd_cross_unit;
pub(crate) mod cr_crd_from_helmrelease;
pub(crate) mod cr_version_not_served;
pub(crate) mod depends_on_cycle;
pub(crate) mod depends_on_unknown;
mod sync_steps;

pub use sync_steps::{sync_steps, SyncStep};

use std::collections::{BTreeMap, BTreeSet};

use crate::k8s::group_of;
pub(crate) use crate::k8s::is_crd;
use crate::{is_builtin_group, Hit, RuleContext};
use driftlint_yaml::Node;

/// What a unit is, for the rules that only concern some kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitKind {
    /// A Flux Kustomization.
    FluxKustomization,
    /// A Helm chart rendered as `helm template`.
    HelmChart,
    /// A helmfile release (its chart rendered as `helmfile template` does).
    HelmfileRelease,
    /// A Flux HelmRelease (its chart rendered as helm-controller does).
    HelmRelease,
    /// A kustomization or manifest folder no Flux Kustomization reaches.
    Folder,
    /// An Argo CD Application.
    ArgoApplication,
}

/// One apply unit as the ordering rules see it.
pub struct GraphUnit<'a> {
    /// The target id findings name.
    pub id: &'a str,
    /// What it is.
    pub kind: UnitKind,
    /// For a Flux Kustomization or a HelmRelease: its object as applied (`metadata`,
    /// `spec.dependsOn`).
    pub flux: Option<&'a Node>,
    /// For an Argo CD Application: its object (sync wave, sync options).
    pub argo: Option<&'a Node>,
    /// Its namespace (a Flux Kustomization's, for `dependsOn` entries without one).
    pub namespace: &'a str,
    /// The index of the unit that applies its object.
    pub parent: Option<usize>,
    /// What it renders.
    pub objects: &'a [Node],
    /// For a helmfile release: its `needs:` entries, resolved.
    pub needs: Vec<Need>,
}

/// A helmfile `needs:` entry resolved against the units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Need {
    /// `namespace/name` of the release needed.
    pub name: String,
    /// The unit rendering it, if any.
    pub unit: Option<usize>,
}

/// A `dependsOn` entry resolved against the graph.
pub(crate) struct Dependency<'n> {
    /// The `name:` node of the entry (where findings point).
    pub at: &'n Node,
    pub name: String,
    pub namespace: String,
    /// The unit it names in the same tree, if any.
    pub unit: Option<usize>,
}

/// The graph built over the units: trees, dependencies and CRD installers.
pub(crate) struct Graph<'g, 'a> {
    pub units: &'g [GraphUnit<'a>],
    pub root: Vec<usize>,
    pub deps: Vec<Vec<Dependency<'a>>>,
    /// (group, kind) -> (unit, the CRD object) for every rendered CRD.
    pub installers: BTreeMap<(String, String), Vec<(usize, &'a Node)>>,
}

impl<'g, 'a> Graph<'g, 'a> {
    fn new(units: &'g [GraphUnit<'a>]) -> Self {
        let root = trees(units);
        let mut by_name: ByName = BTreeMap::new();
        for (i, u) in units.iter().enumerate() {
            if let Some(name) = u.flux.and_then(|o| o.str_at(&["metadata", "name"])) {
                by_name
                    .entry((root[i], is_release(u), u.namespace, name))
                    .or_insert(i);
            }
        }
        let deps = units
            .iter()
            .enumerate()
            .map(|(i, u)| dependencies(u, root[i], &by_name))
            .collect();
        let mut installers: BTreeMap<(String, String), Vec<(usize, &'a Node)>> = BTreeMap::new();
        for (i, u) in units.iter().enumerate() {
            for crd in u.objects.iter().filter(|o| is_crd(o)) {
                if let (Some(g), Some(k)) = (
                    crd.str_at(&["spec", "group"]),
                    crd.str_at(&["spec", "names", "kind"]),
                ) {
                    installers
                        .entry((g.to_string(), k.to_string()))
                        .or_default()
                        .push((i, crd));
                }
            }
        }
        Graph {
            units,
            root,
            deps,
            installers,
        }
    }

    /// Every unit `i` waits for: its dependencies and ancestors, transitively (not `i`).
    pub(crate) fn waits_for(&self, i: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![i];
        while let Some(x) = todo.pop() {
            let next = self.deps[x]
                .iter()
                .filter_map(|d| d.unit)
                .chain(self.units[x].needs.iter().filter_map(|n| n.unit))
                .chain(self.units[x].parent);
            for n in next {
                if seen.insert(n) {
                    todo.push(n);
                }
            }
        }
        seen.remove(&i);
        seen
    }

    /// How a unit is named in messages: `Flux Kustomization ns/name`, `HelmRelease ns/name`
    /// or its id.
    pub(crate) fn label(&self, i: usize) -> String {
        let u = &self.units[i];
        let what = if is_release(u) {
            "HelmRelease"
        } else {
            "Flux Kustomization"
        };
        match u.flux.and_then(|o| o.str_at(&["metadata", "name"])) {
            Some(name) => format!("{what} {}/{name}", u.namespace),
            None => u.id.to_string(),
        }
    }
}

/// The tree of each unit, as the index of the first unit of that tree: units whose top
/// ancestors are Flux Kustomizations declared in the same folder share a tree; any other
/// top unit is a tree of its own.
fn trees(units: &[GraphUnit]) -> Vec<usize> {
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    (0..units.len())
        .map(|i| {
            let t = top(units, i);
            let key = match units[t].flux {
                Some(o) => {
                    let file = &o.origin.file;
                    let dir = file.rsplit_once('/').map_or("", |(d, _)| d);
                    format!("dir:{dir}")
                }
                None => format!("unit:{t}"),
            };
            *first.entry(key).or_insert(i)
        })
        .collect()
}

fn top(units: &[GraphUnit], mut i: usize) -> usize {
    let mut steps = 0;
    while let Some(p) = units[i].parent.filter(|_| steps < units.len()) {
        i = p;
        steps += 1;
    }
    i
}

/// Units by (tree, is a HelmRelease, namespace, name): a Flux Kustomization's `dependsOn`
/// names Flux Kustomizations, a HelmRelease's names HelmReleases.
type ByName<'a> = BTreeMap<(usize, bool, &'a str, &'a str), usize>;

fn is_release(u: &GraphUnit) -> bool {
    u.kind == UnitKind::HelmRelease
}

fn dependencies<'a>(u: &GraphUnit<'a>, root: usize, by_name: &ByName) -> Vec<Dependency<'a>> {
    let Some(entries) = u
        .flux
        .and_then(|o| o.get_path(&["spec", "dependsOn"]))
        .and_then(Node::as_seq)
    else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|e| {
            let at = e.get("name")?;
            let name = at.as_str()?.to_string();
            let namespace = e.str_at(&["namespace"]).unwrap_or(u.namespace).to_string();
            let unit = by_name
                .get(&(root, is_release(u), namespace.as_str(), name.as_str()))
                .copied();
            Some(Dependency {
                at,
                name,
                namespace,
                unit,
            })
        })
        .collect()
}

/// The (group, kind) of a custom resource: an object whose group is not built in.
pub(crate) fn custom_kind(o: &Node) -> Option<(&str, &str)> {
    let group = group_of(o.str_at(&["apiVersion"])?);
    let kind = o.str_at(&["kind"])?;
    (!is_builtin_group(group)).then_some((group, kind))
}

/// A finding of a graph rule: about an object of unit `unit` (or none).
pub(crate) struct GraphHit<'n> {
    pub hit: Hit,
    pub unit: usize,
    pub object: Option<&'n Node>,
}

type GraphCheckFn = for<'g, 'a> fn(&Graph<'g, 'a>, &mut Vec<GraphHit<'a>>);

/// The graph rules, in code order.
pub(crate) const GRAPH_RULES: &[(&str, GraphCheckFn)] = &[
    (cr_crd_cross_unit::CODE, cr_crd_cross_unit::check),
    (
        cr_crd_from_helmrelease::CODE,
        cr_crd_from_helmrelease::check,
    ),
    (chart_crd_with_cr::CODE, chart_crd_with_cr::check),
    (argo_wave_order::CODE, argo_wave_order::check),
    (cr_version_not_served::CODE, cr_version_not_served::check),
    (depends_on_cycle::CODE, depends_on_cycle::check),
    (depends_on_unknown::CODE, depends_on_unknown::check),
];

/// Why one unit waits for another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    /// A `spec.dependsOn` entry.
    DependsOn,
    /// The unit's object is applied by the other one (its parent).
    AppliedBy,
    /// A helmfile release's `needs:` entry.
    Needs,
    /// Argo CD Applications with the same parent: one of a later
    /// `argocd.argoproj.io/sync-wave` waits for those of the previous wave.
    SyncWave,
}

/// An edge of the apply graph: `unit` waits for `on` (`None`: a `dependsOn` or `needs` naming
/// no unit of the tree).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The waiting unit (index into the units given).
    pub unit: usize,
    /// The unit waited for.
    pub on: Option<usize>,
    /// Why.
    pub kind: EdgeKind,
    /// For `dependsOn` and `needs`: `namespace/name` as written (defaulted); for a sync
    /// wave: `wave A < B`.
    pub name: String,
}

/// The edges of the apply graph over `units`, and per unit the CRDs it installs
/// (`group/Kind`, sorted).
pub fn edges_and_crds(units: &[GraphUnit]) -> (Vec<Edge>, Vec<Vec<String>>) {
    let g = Graph::new(units);
    let mut edges = Vec::new();
    for (i, u) in units.iter().enumerate() {
        if let Some(p) = u.parent {
            edges.push(Edge {
                unit: i,
                on: Some(p),
                kind: EdgeKind::AppliedBy,
                name: String::new(),
            });
        }
        for d in &g.deps[i] {
            edges.push(Edge {
                unit: i,
                on: d.unit,
                kind: EdgeKind::DependsOn,
                name: format!("{}/{}", d.namespace, d.name),
            });
        }
        for n in &u.needs {
            edges.push(Edge {
                unit: i,
                on: n.unit,
                kind: EdgeKind::Needs,
                name: n.name.clone(),
            });
        }
    }
    edges.extend(wave_edges(units));
    let mut crds = vec![Vec::new(); units.len()];
    for ((group, kind), installers) in &g.installers {
        for (i, _) in installers {
            crds[*i].push(format!("{group}/{kind}"));
        }
    }
    for c in &mut crds {
        c.sort();
        c.dedup();
    }
    (edges, crds)
}

/// The sync-wave edges between Argo CD Applications with the same parent, as the parent's
/// sync applies them (gitops-engine `syncTasks`: waves in ascending order, each applied and
/// healthy before the next): every Application waits for the siblings of the nearest lower
/// wave (the lower ones transitively). Applications without a parent are synced by nothing:
/// no wave edges.
fn wave_edges(units: &[GraphUnit]) -> Vec<Edge> {
    let mut siblings: BTreeMap<usize, Vec<(i64, usize)>> = BTreeMap::new();
    for (i, u) in units.iter().enumerate() {
        if let (Some(app), Some(p)) = (u.argo, u.parent) {
            siblings
                .entry(p)
                .or_default()
                .push((argo_wave_order::wave(app), i));
        }
    }
    let mut edges = Vec::new();
    for apps in siblings.values() {
        for &(w, i) in apps {
            let Some(before) = apps.iter().map(|a| a.0).filter(|v| *v < w).max() else {
                continue;
            };
            edges.extend(apps.iter().filter(|a| a.0 == before).map(|&(_, j)| Edge {
                unit: i,
                on: Some(j),
                kind: EdgeKind::SyncWave,
                name: format!("wave {before} < {w}"),
            }));
        }
    }
    edges
}

/// The hits of the enabled graph rules over `units`.
pub(crate) fn hits<'a>(units: &[GraphUnit<'a>], ctx: &RuleContext) -> Vec<GraphHit<'a>> {
    let graph = Graph::new(units);
    let mut hits = Vec::new();
    for (code, check) in GRAPH_RULES {
        if ctx.config.severity_for(code).is_some() {
            check(&graph, &mut hits);
        }
    }
    hits
}

#[cfg(test)]
pub(crate) mod tests;
