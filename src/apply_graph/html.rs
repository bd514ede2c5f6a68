//! The self-contained HTML page of `driftlint graph --format html`: an inline SVG laid out in
//! columns by apply order (a unit's column is the length of the longest chain of units it
//! waits for), then a table of units and the ordering findings. No script, no external
//! resource: the page can be opened from a CI artifact.

use std::fmt::Write as _;

use super::{node_label, ApplyGraph};

const COLUMN: u32 = 480;
const WIDTH: u32 = 420;
const LINE: u32 = 16;
const GAP: u32 = 14;
const MARGIN: u32 = 20;

/// The column of each node: 0 for units that wait for nothing, else one more than the
/// deepest unit they wait for (cycles are cut after as many rounds as there are nodes).
fn columns(g: &ApplyGraph) -> Vec<u32> {
    let mut col = vec![0u32; g.nodes.len()];
    for _ in 0..g.nodes.len() {
        let mut changed = false;
        for e in &g.edges {
            if let Some(f) = e.from {
                if col[e.to] < col[f] + 1 {
                    col[e.to] = col[f] + 1;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    col
}

struct Placed {
    x: u32,
    y: u32,
    h: u32,
}

fn place(g: &ApplyGraph, cols: &[u32]) -> (Vec<Placed>, u32, u32) {
    let mut next_y: Vec<u32> = vec![MARGIN; cols.iter().max().map_or(1, |m| *m as usize + 1)];
    let mut placed = Vec::with_capacity(g.nodes.len());
    for (i, n) in g.nodes.iter().enumerate() {
        let lines = node_label(n).lines().count() as u32;
        let h = lines * LINE + 10;
        let c = cols[i] as usize;
        let y = next_y[c];
        next_y[c] += h + GAP;
        placed.push(Placed {
            x: MARGIN + cols[i] * COLUMN,
            y,
            h,
        });
    }
    let width = MARGIN * 2 + next_y.len() as u32 * COLUMN;
    let height = next_y.iter().max().copied().unwrap_or(MARGIN) + MARGIN;
    (placed, width, height)
}

fn xml(s: &str) -> String {
    crate::report::escape::controls(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn svg(g: &ApplyGraph) -> String {
    let cols = columns(g);
    let (placed, width, height) = place(g, &cols);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\">\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>\n"
    );
    for e in &g.edges {
        let to = &placed[e.to];
        let (x2, y2) = (to.x, to.y + to.h / 2);
        let (x1, y1, color) = match e.from {
            Some(f) => {
                let p = &placed[f];
                (p.x + WIDTH, p.y + p.h / 2, "#555")
            }
            None => (to.x.saturating_sub(40), to.y, "#c00"),
        };
        let dash = match e.kind {
            "applies" => " stroke-dasharray=\"5,4\"",
            "syncWave" => " stroke-width=\"3\"",
            _ => "",
        };
        let _ = writeln!(
            out,
            "<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"{color}\"{dash} marker-end=\"url(#arrow)\"><title>{}</title></line>",
            xml(&format!("{} {}", e.kind, e.name))
        );
    }
    for (n, p) in g.nodes.iter().zip(&placed) {
        let (fill, stroke) = if n.violations.is_empty() {
            ("#eef4ff", "#4a6fa5")
        } else {
            ("#ffdddd", "#c00")
        };
        let _ = writeln!(
            out,
            "<g><rect x=\"{}\" y=\"{}\" width=\"{WIDTH}\" height=\"{}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\"/>",
            p.x, p.y, p.h
        );
        for (k, line) in node_label(n).lines().enumerate() {
            let weight = if k == 0 { " font-weight=\"bold\"" } else { "" };
            let text: String = line.chars().take(64).collect();
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" font-size=\"12\" font-family=\"sans-serif\"{weight}>{}</text>",
                p.x + 8,
                p.y + LINE + k as u32 * LINE,
                xml(&text)
            );
        }
        let _ = writeln!(out, "<title>{}</title></g>", xml(&n.id));
    }
    out.push_str("</svg>\n");
    out
}

fn tables(g: &ApplyGraph) -> String {
    let mut out = String::from(
        "<h2>Units</h2>\n<table>\n<tr><th>unit</th><th>kind</th><th>declared at</th><th>objects</th><th>CRDs installed</th><th>findings</th></tr>\n",
    );
    for n in &g.nodes {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            xml(&n.id),
            n.kind,
            xml(n.source.as_deref().unwrap_or("")),
            n.objects,
            xml(&n.crds.join(", ")),
            xml(&n.violations.join(", "))
        );
    }
    out.push_str("</table>\n<h2>Ordering findings</h2>\n");
    if g.violations.is_empty() {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str("<ul>\n");
        for f in &g.violations {
            let _ = writeln!(
                out,
                "<li><b>{}</b> {}:{} — {}</li>",
                f.code,
                xml(&f.origin.file),
                f.origin.line,
                xml(&f.message)
            );
        }
        out.push_str("</ul>\n");
    }
    out
}

/// The page.
pub(crate) fn page(g: &ApplyGraph) -> String {
    let edges = g.edges.len();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>driftlint apply graph</title>\n<style>body{{font-family:sans-serif;margin:1em}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}} .graph{{overflow:auto;border:1px solid #ddd}}</style>\n</head>\n<body>\n<h1>Apply graph</h1>\n<p>{} units, {edges} edges, {} ordering findings. Arrows point from the unit applied first to the unit that waits for it; dashed: applies the object of; thick: Argo CD sync waves; red: ordering findings.</p>\n<div class=\"graph\">\n{}</div>\n{}</body>\n</html>\n",
        g.nodes.len(),
        g.violations.len(),
        svg(g),
        tables(g)
    )
}
