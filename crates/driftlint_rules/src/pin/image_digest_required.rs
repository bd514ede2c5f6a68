//! PIN004 image-digest-required (off by default).
//!
//! ## What it does
//! Flags every container image without a content digest (`@sha256:...`, or any
//! `@<algorithm>:<hex>`).
//!
//! ## Why
//! Only a digest fixes the bytes that run; a policy for teams that require it.
//!
//! ## Example
//! `image: nginx:1.27.3` — use instead `image: nginx:1.27.3@sha256:...`.

use crate::image_ref::{images, ImageRef};
use crate::{Hit, Scope};
use driftlint_yaml::Node;

pub(crate) const CODE: &str = "PIN004";
pub(crate) const META: &str = include_str!("../../../../rules/PIN004.yaml");

pub(crate) fn check(obj: &Node, _scope: &Scope<'_>, out: &mut Vec<Hit>) {
    for site in images(obj) {
        if !ImageRef::parse(site.image).has_digest() {
            let msg = format!(
                "container {} uses image {} without a digest",
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
            ("tag only", pod_with_image("nginx:1.27.3"), 1),
            ("bare", pod_with_image("nginx"), 1),
            ("digest", pod_with_image("nginx@sha256:0123abcd"), 0),
            (
                "tag and digest",
                pod_with_image("nginx:1.27.3@sha256:0123abcd"),
                0,
            ),
            ("empty digest", pod_with_image("nginx@sha256:"), 1),
        ];
        let cases: Vec<(&str, &str, usize)> =
            cases.iter().map(|(n, s, w)| (*n, s.as_str(), *w)).collect();
        table(check, &cases);
    }

    #[test]
    fn off_by_default() {
        assert_eq!(crate::RuleConfig::default().severity_for(CODE), None);
    }
}
