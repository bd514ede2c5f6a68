//! PIN011 kustomize-images-latest.
//!
//! ## What it does
//! Inspects a kustomization file (not rendered objects): flags each `images[]` entry whose
//! `newTag` is `latest` or empty (written but blank or null) and that has no `digest`.
//!
//! ## Why
//! The images transformer rewrites every matching container: one `newTag: latest` in an
//! overlay defeats the pinned tags of all its bases.
//!
//! ## Example
//! `images: [{name: ghcr.io/acme/api, newTag: latest}]` — use instead an exact `newTag` and a
//! `digest`.

use crate::k8s::Located;
use crate::Hit;
use driftlint_yaml::Node;

pub(crate) const CODE: &str = "PIN011";
pub(crate) const META: &str = include_str!("../../../../rules/PIN011.yaml");

pub(crate) fn check(kustomization: &Node, out: &mut Vec<Hit>) {
    let Some(images) = Located::root(kustomization).key("images") else {
        return;
    };
    for entry in images.items() {
        let Some(tag) = entry.key("newTag") else {
            continue;
        };
        let digest = entry
            .node
            .str_at(&["digest"])
            .is_some_and(|d| !d.trim().is_empty());
        let text = tag.node.scalar_text().unwrap_or("").trim();
        if digest || !(text.is_empty() || text == "latest") {
            continue;
        }
        let name = entry.node.str_at(&["name"]).unwrap_or("?");
        let shown = if text.is_empty() {
            "an empty tag"
        } else {
            "`latest`"
        };
        let msg = format!("images entry {name} sets newTag to {shown} without a digest");
        out.push(Hit::new(CODE, tag.node, tag.pointer, msg));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::parse_one;

    fn hits(src: &str) -> Vec<Hit> {
        let mut out = Vec::new();
        check(&parse_one("kustomization.yaml", src), &mut out);
        out
    }

    #[test]
    fn pass_fail_table() {
        let cases = [
            ("latest", "images:\n  - name: a\n    newTag: latest\n", 1),
            ("empty", "images:\n  - name: a\n    newTag: \"\"\n", 1),
            ("null", "images:\n  - name: a\n    newTag:\n", 1),
            ("latest with digest", "images:\n  - name: a\n    newTag: latest\n    digest: sha256:00ff\n", 0),
            ("exact", "images:\n  - name: a\n    newTag: 1.2.3\n", 0),
            ("newName only", "images:\n  - name: a\n    newName: b\n", 0),
            ("digest only", "images:\n  - name: a\n    digest: sha256:00ff\n", 0),
            ("no images", "resources: [a.yaml]\n", 0),
            ("two of three", "images:\n  - {name: a, newTag: latest}\n  - {name: b, newTag: '1'}\n  - {name: c, newTag: ''}\n", 2),
        ];
        for (name, src, want) in cases {
            assert_eq!(hits(src).len(), want, "{name}");
        }
    }

    #[test]
    fn origin_is_the_new_tag_line() {
        let h = hits("images:\n  - name: a\n    newTag: latest\n");
        assert_eq!(h[0].field, "/images/0/newTag");
        assert_eq!((h[0].origin.line, h[0].origin.column), (3, 13));
    }
}
