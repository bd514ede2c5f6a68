//! PIN002 image-tag-missing.
//!
//! ## What it does
//! Flags container images with neither a `:tag` after the last `/` nor a digest. A registry
//! port (`host:5000/app`) is not a tag; an empty tag (`app:`) counts as missing.
//!
//! ## Why
//! Without a tag the runtime pulls `latest`, implicitly.
//!
//! ## Example
//! `image: host:5000/team/app` — use instead `image: host:5000/team/app:2.4.1`.

use crate::image_ref::{images, ImageRef};
use crate::{Hit, Scope};
use driftlint_yaml::Node;

pub(crate) const CODE: &str = "PIN002";
pub(crate) const META: &str = include_str!("../../../../rules/PIN002.yaml");

pub(crate) fn check(obj: &Node, _scope: &Scope<'_>, out: &mut Vec<Hit>) {
    for site in images(obj) {
        let r = ImageRef::parse(site.image);
        if r.nonempty_tag().is_none() && !r.has_digest() {
            let msg = format!(
                "container {} uses image {} without a tag or digest (pulled as `latest`)",
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
            ("bare", pod_with_image("nginx"), 1),
            (
                "registry port is not a tag",
                pod_with_image("host:5000/team/app"),
                1,
            ),
            ("empty tag", pod_with_image("nginx:"), 1),
            ("tagged", pod_with_image("nginx:1.27"), 0),
            (
                "registry port and tag",
                pod_with_image("host:5000/team/app:2.4.1"),
                0,
            ),
            ("digest only", pod_with_image("nginx@sha256:0123abcd"), 0),
            ("latest is PIN001", pod_with_image("nginx:latest"), 0),
        ];
        let cases: Vec<(&str, &str, usize)> =
            cases.iter().map(|(n, s, w)| (*n, s.as_str(), *w)).collect();
        table(check, &cases);
    }
}
