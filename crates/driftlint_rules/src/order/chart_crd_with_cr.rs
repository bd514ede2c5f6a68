//! CRD004 helm-crd-in-templates-with-cr.
//!
//! ## What it does
//! Flags a custom resource rendered by a chart whose `templates/` also render its CRD.
//!
//! ## Why
//! Helm sends a release's templates to the API server together: on the first install the
//! custom resource is rejected because its CRD does not exist yet. Charts put CRDs in `crds/`
//! (installed first) or in a separate chart for this reason.
//!
//! ## Example
//! A chart whose `templates/crd.yaml` defines `widgets.example.com` and whose
//! `templates/widget.yaml` renders a `Widget`.

use super::{custom_kind, is_crd, Graph, GraphHit, UnitKind};
use crate::Hit;

pub(crate) const CODE: &str = "CRD004";
pub(crate) const META: &str = include_str!("../../../../rules/CRD004.yaml");

/// True when `crd` was rendered from a chart's `templates/` (not its `crds/`, which Helm
/// installs before the templates).
fn from_templates(crd: &driftlint_yaml::Node) -> bool {
    crd.origin.file.split('/').any(|c| c == "templates")
}

pub(crate) fn check<'a>(g: &Graph<'_, 'a>, out: &mut Vec<GraphHit<'a>>) {
    for (i, u) in g.units.iter().enumerate() {
        if !matches!(u.kind, UnitKind::HelmChart | UnitKind::HelmfileRelease) {
            continue;
        }
        let crds: Vec<(&str, &str, &driftlint_yaml::Node)> = u
            .objects
            .iter()
            .filter(|o| is_crd(o) && from_templates(o))
            .filter_map(|c| {
                Some((
                    c.str_at(&["spec", "group"])?,
                    c.str_at(&["spec", "names", "kind"])?,
                    c,
                ))
            })
            .collect();
        for obj in u.objects {
            let Some((group, kind)) = custom_kind(obj) else {
                continue;
            };
            let Some((_, _, crd)) = crds.iter().find(|(g, k, _)| *g == group && *k == kind) else {
                continue;
            };
            let Some(kind_node) = obj.get("kind") else {
                continue;
            };
            let message = format!(
                "{kind} {} is rendered by the same chart as its CRD ({}:{}), from templates: the first install fails because Helm applies both at once; move the CRD to the chart's crds/ folder or to a chart installed first",
                obj.str_at(&["metadata", "name"]).unwrap_or("<unnamed>"),
                crd.origin.file,
                crd.origin.line
            );
            out.push(GraphHit {
                hit: Hit::new(CODE, kind_node, "/kind".into(), message),
                unit: i,
                object: Some(obj),
            });
        }
    }
}
