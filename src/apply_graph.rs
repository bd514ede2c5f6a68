//! `driftlint graph`: the apply graph as data and as pictures — JSON, Mermaid (renders in
//! GitHub markdown and job summaries), Graphviz dot, and one self-contained HTML page (an
//! inline SVG laid out in columns by apply order; no script, no network).
//!
//! Nodes are apply units (id, kind, source file:line, the CRDs they install, the ordering
//! findings about them; for an Argo CD Application its sync wave and the phases and waves its
//! objects are applied in); edges point from the unit applied first to the one that waits for
//! it (`dependsOn`/`needs`, solid; "applies the object of", dashed; the sync waves of sibling
//! Argo CD Applications, thick). A `dependsOn` naming no unit is an edge to a node
//! `missing: ns/name`.

mod html;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::check::Rendered;
use crate::report::Finding;
use driftlint_rules::order::{sync_steps, Edge, EdgeKind, SyncStep};

/// One unit of the graph.
#[derive(Debug, Clone, Serialize)]
pub struct GraphNode {
    /// The unit id, as `check` names it.
    pub id: String,
    /// `flux-kustomization`, `kustomize`, `helm` or `manifests`.
    pub kind: &'static str,
    /// Where a Flux Kustomization is declared (`file:line`).
    pub source: Option<String>,
    /// Objects rendered.
    pub objects: usize,
    /// CRDs it installs (`group/Kind`).
    pub crds: Vec<String>,
    /// Codes of the ordering findings about it.
    pub violations: Vec<String>,
    /// For an Argo CD Application: its `argocd.argoproj.io/sync-wave` (default 0).
    #[serde(rename = "syncWave", skip_serializing_if = "Option::is_none")]
    pub sync_wave: Option<i64>,
    /// For an Argo CD Application: the hook phases and sync waves its objects are applied in,
    /// in order (see [`driftlint_rules::order::sync_steps`]).
    #[serde(rename = "syncSteps", skip_serializing_if = "Vec::is_empty")]
    pub sync_steps: Vec<SyncStep>,
}

/// One edge: `to` waits for `from`.
#[derive(Debug, Clone, Serialize)]
pub struct GraphEdge {
    /// Index of the unit applied first (`None`: a `dependsOn` naming no unit).
    pub from: Option<usize>,
    /// Index of the unit that waits.
    pub to: usize,
    /// `dependsOn`, `needs`, `applies` or `syncWave`.
    pub kind: &'static str,
    /// For `dependsOn`/`needs`: the `namespace/name` written; for `syncWave`: `wave A < B`.
    pub name: String,
}

/// The apply graph of a repository.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyGraph {
    /// Units, in target order.
    pub nodes: Vec<GraphNode>,
    /// Edges.
    pub edges: Vec<GraphEdge>,
    /// The ordering findings (CRD002, CRD004, CRD006, ORDER001, ORDER002), redacted.
    pub violations: Vec<Finding>,
    /// Render and configuration failures, redacted.
    #[serde(skip)]
    pub failures: Vec<Finding>,
}

impl ApplyGraph {
    pub(crate) fn new(
        rendered: &[Rendered],
        ids: Vec<String>,
        edges: Vec<Edge>,
        crds: Vec<Vec<String>>,
        violations: Vec<Finding>,
        failures: Vec<Finding>,
    ) -> ApplyGraph {
        let mut by_unit: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for f in &violations {
            by_unit.entry(&f.target).or_default().push(f.code.clone());
        }
        let nodes = rendered
            .iter()
            .zip(ids.iter())
            .zip(crds)
            .map(|((r, id), crds)| {
                let mut codes = by_unit.get(id.as_str()).cloned().unwrap_or_default();
                codes.sort();
                codes.dedup();
                GraphNode {
                    id: id.clone(),
                    kind: r.target.kind.as_str(),
                    source: r
                        .target
                        .unit
                        .as_ref()
                        .map(|u| format!("{}:{}", u.file, u.line)),
                    objects: r.objects.len(),
                    crds,
                    violations: codes,
                    sync_wave: argo_wave(r),
                    sync_steps: match r.target.kind {
                        crate::discover::Kind::Argo => sync_steps(&r.objects),
                        _ => Vec::new(),
                    },
                }
            })
            .collect();
        let edges = edges
            .into_iter()
            .map(|e| GraphEdge {
                from: e.on,
                to: e.unit,
                kind: match e.kind {
                    EdgeKind::DependsOn => "dependsOn",
                    EdgeKind::AppliedBy => "applies",
                    EdgeKind::Needs => "needs",
                    EdgeKind::SyncWave => "syncWave",
                },
                name: e.name,
            })
            .collect();
        ApplyGraph {
            nodes,
            edges,
            violations,
            failures,
        }
    }

    /// The graph as pretty JSON: `{"nodes": [...], "edges": [...], "violations": [...]}`.
    pub fn json(&self) -> String {
        let violations = crate::report::findings_value(&self.violations);
        let doc = serde_json::json!({
            "nodes": self.nodes,
            "edges": self.edges,
            "violations": violations,
        });
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    }

    /// A Mermaid `flowchart LR`; units with ordering findings are red.
    pub fn mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for (i, n) in self.nodes.iter().enumerate() {
            let _ = writeln!(out, "  n{i}[\"{}\"]", mermaid_text(&node_label(n)));
        }
        for (k, e) in self.edges.iter().enumerate() {
            let from = match e.from {
                Some(f) => format!("n{f}"),
                None => {
                    let _ = writeln!(out, "  m{k}[\"missing: {}\"]", mermaid_text(&e.name));
                    let _ = writeln!(out, "  class m{k} violation");
                    format!("m{k}")
                }
            };
            let arrow = match e.kind {
                "applies" => "-.->",
                "syncWave" => "==>",
                _ => "-->",
            };
            let _ = writeln!(out, "  {from} {arrow} n{}", e.to);
        }
        out.push_str("  classDef violation fill:#fdd,stroke:#c00,stroke-width:2px\n");
        for (i, n) in self.nodes.iter().enumerate() {
            if !n.violations.is_empty() {
                let _ = writeln!(out, "  class n{i} violation");
            }
        }
        out
    }

    /// A Graphviz `digraph`.
    pub fn dot(&self) -> String {
        let mut out = String::from(
            "digraph apply {\n  rankdir=LR;\n  node [shape=box, fontname=\"sans-serif\"];\n",
        );
        for (i, n) in self.nodes.iter().enumerate() {
            let style = if n.violations.is_empty() {
                ""
            } else {
                ", color=red, style=filled, fillcolor=\"#ffdddd\""
            };
            let _ = writeln!(
                out,
                "  n{i} [label=\"{}\"{style}];",
                dot_text(&node_label(n))
            );
        }
        for (k, e) in self.edges.iter().enumerate() {
            let from = match e.from {
                Some(f) => format!("n{f}"),
                None => {
                    let _ = writeln!(
                        out,
                        "  m{k} [label=\"missing: {}\", color=red];",
                        dot_text(&e.name)
                    );
                    format!("m{k}")
                }
            };
            let style = match e.kind {
                "applies" => " [style=dashed]",
                "syncWave" => " [style=bold]",
                _ => "",
            };
            let _ = writeln!(out, "  {from} -> n{}{style};", e.to);
        }
        out.push_str("}\n");
        out
    }

    /// One self-contained HTML page: an SVG of the graph (columns by apply order) and a
    /// table of units with their CRDs and findings.
    pub fn html(&self) -> String {
        html::page(self)
    }
}

/// The sync wave of an Argo CD Application unit (its object's annotation, default 0).
fn argo_wave(r: &Rendered) -> Option<i64> {
    if r.target.kind != crate::discover::Kind::Argo {
        return None;
    }
    let text = r
        .declared
        .as_ref()?
        .get_path(&["metadata", "annotations", "argocd.argoproj.io/sync-wave"])
        .and_then(driftlint_yaml::Node::scalar_text);
    Some(text.and_then(|w| w.trim().parse().ok()).unwrap_or(0))
}

/// A node's label: its id, kind, and the CRDs it installs (at most three named).
pub(crate) fn node_label(n: &GraphNode) -> String {
    let mut s = format!("{}\n{}", n.id, n.kind);
    if let Some(w) = n.sync_wave {
        let _ = write!(s, "\nsync-wave {w}");
    }
    if !n.crds.is_empty() {
        let shown: Vec<&str> = n.crds.iter().take(3).map(String::as_str).collect();
        let more = n.crds.len().saturating_sub(3);
        let _ = write!(s, "\nCRDs: {}", shown.join(", "));
        if more > 0 {
            let _ = write!(s, " +{more}");
        }
    }
    if !n.violations.is_empty() {
        let _ = write!(s, "\n{}", n.violations.join(", "));
    }
    s
}

/// A label for Mermaid: each line escaped (control characters shown, `"`, `<`, `>` as
/// entities), lines joined with `<br/>`.
fn mermaid_text(s: &str) -> String {
    s.split('\n')
        .map(|line| {
            crate::report::escape::controls(line)
                .replace('#', "#35;")
                .replace('"', "#quot;")
                .replace('<', "#lt;")
                .replace('>', "#gt;")
        })
        .collect::<Vec<_>>()
        .join("<br/>")
}

/// A label for dot: each line escaped, lines joined with `\n`.
fn dot_text(s: &str) -> String {
    s.split('\n')
        .map(|line| {
            crate::report::escape::controls(line)
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
        })
        .collect::<Vec<_>>()
        .join("\\n")
}
