//! PIN001 image-tag-latest.
//!
//! ## What it does
//! Flags container images (containers, initContainers, ephemeralContainers of Pods and pod
//! templates) whose tag is `latest`. An image that also carries a digest is pinned and passes.
//!
//! ## Why
//! `latest` is whatever was pushed last: deploys are not reproducible and rollbacks do not roll
//! back the image.
//!
//! ## Example
//! `image: nginx:latest` — use instead `image: nginx:1.27.3` (ideally `@sha256:...`).

use crate::image_ref::{images, ImageRef};
use crate::{Hit, Scope};
use driftlint_yaml::Node;

pub(crate) const CODE: &str = "PIN001";
pub(crate) const META: &str = include_str!("../../../../rules/PIN001.yaml");

pub(crate) fn check(obj: &Node, _scope: &Scope<'_>, out: &mut Vec<Hit>) {
    for site in images(obj) {
        let r = ImageRef::parse(site.image);
        if r.tag == Some("latest") && !r.has_digest() {
            let msg = format!(
                "container {} uses image {} with the mutable tag `latest`",
                site.container, site.image
            );
            out.push(Hit::new(CODE, site.at.node, site.at.pointer, msg));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    #[test]
    fn pass_fail_table() {
        let cases = [
            ("latest", pod_with_image("nginx:latest"), 1),
            (
                "registry latest",
                pod_with_image("host:5000/team/app:latest"),
                1,
            ),
            ("pinned", pod_with_image("nginx:1.27.3"), 0),
            (
                "latest with digest",
                pod_with_image("nginx:latest@sha256:0123abcd"),
                0,
            ),
            ("no tag is PIN002", pod_with_image("nginx"), 0),
            ("latest-ish tag", pod_with_image("nginx:latest-alpine"), 0),
            ("placeholder", pod_with_image("nginx:${TAG}"), 0),
        ];
        let cases: Vec<(&str, &str, usize)> =
            cases.iter().map(|(n, s, w)| (*n, s.as_str(), *w)).collect();
        table(check, &cases);
    }

    #[test]
    fn every_container_list_of_every_workload() {
        let src = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          initContainers: [{name: i, image: \"a:latest\"}]\n          containers: [{name: m, image: \"b:latest\"}]\n          ephemeralContainers: [{name: e, image: \"c:latest\"}]\n";
        let hits = run_rule(check, src);
        let fields: Vec<_> = hits.iter().map(|h| h.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "/spec/jobTemplate/spec/template/spec/containers/0/image",
                "/spec/jobTemplate/spec/template/spec/initContainers/0/image",
                "/spec/jobTemplate/spec/template/spec/ephemeralContainers/0/image",
            ]
        );
        assert_eq!(hits[0].origin.line, 10);
    }

    #[test]
    fn origin_is_the_image_scalar() {
        let hits = run_rule(check, &pod_with_image("nginx:latest"));
        assert_eq!((hits[0].origin.line, hits[0].origin.column), (8, 14));
        assert_eq!(hits[0].field, "/spec/containers/0/image");
    }
}
