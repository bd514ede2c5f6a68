//! PIN003 image-tag-mutable.
//!
//! ## What it does
//! Flags container images whose tag floats: a tag from the configured list (default `main`,
//! `master`, `stable`, `edge`, `nightly`, `dev`, `develop`) or, unless `floating-versions:
//! false`, a major-only or major.minor version (`v1`, `16`, `1.2`, `v1.2`), optionally with a
//! variant suffix (`16-alpine`, `3.19-slim`). Images with a digest pass.
//!
//! ## Why
//! Publishers move these tags; the running image drifts with no change in Git.
//!
//! ## Example
//! `image: postgres:16` — use instead `image: postgres:16.4`.

use std::sync::LazyLock;

use regex::Regex;

use crate::image_ref::{images, ImageRef};
use crate::{Hit, RuleConfig, Scope};
use driftlint_yaml::Node;

pub(crate) const CODE: &str = "PIN003";
pub(crate) const META: &str = include_str!("../../../../rules/PIN003.yaml");

/// Major-only or major.minor, with an optional letters-only variant (`-alpine`).
static FLOATING_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^v?[0-9]{1,3}(\.[0-9]{1,3})?(-[A-Za-z]+)*$").expect("static regex")
});

pub(crate) fn check(obj: &Node, scope: &Scope<'_>, out: &mut Vec<Hit>) {
    for site in images(obj) {
        let r = ImageRef::parse(site.image);
        let Some(tag) = r.nonempty_tag() else {
            continue;
        };
        if r.has_digest() || !is_mutable(tag, scope.ctx.config) {
            continue;
        }
        let msg = format!(
            "container {} uses image {} with the floating tag `{tag}`",
            site.container, site.image
        );
        out.push(Hit::new(CODE, site.at.node, site.at.pointer, msg));
    }
}

/// A listed tag, a `-` joined combination of listed tags and `latest` (`stable-alpine`,
/// `bookworm-slim`, `latest-alpine`; plain `latest` is PIN001's), or with `floating_versions`
/// a major or major.minor version with optional variants (`16`, `1.2`, `3.19-alpine`).
fn is_mutable(tag: &str, cfg: &RuleConfig) -> bool {
    let listed = |part: &str| cfg.mutable_tags.iter().any(|t| t == part);
    let combined = tag != "latest" && tag.split('-').all(|part| part == "latest" || listed(part));
    listed(tag) || combined || (cfg.floating_versions && FLOATING_VERSION.is_match(tag))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    #[test]
    fn pass_fail_table() {
        let cases = [
            ("main", "app:main", 1),
            ("nightly", "app:nightly", 1),
            ("develop", "app:develop", 1),
            ("major only", "postgres:16", 1),
            ("v major", "app:v1", 1),
            ("major.minor", "app:1.2", 1),
            ("v major.minor", "app:v1.2", 1),
            ("variant", "alpine:3.19-slim", 1),
            ("rolling", "bitnami/redis:rolling", 1),
            ("distro", "debian:bookworm", 1),
            ("alpine", "alpine:alpine", 1),
            ("stable variant", "nginx:stable-alpine", 1),
            ("codename variant", "python:bookworm-slim", 1),
            ("latest variant", "nginx:latest-alpine", 1),
            ("versioned codename", "python:3.12.4-bookworm", 0),
            ("unlisted word", "app:feature-x", 0),
            ("full semver", "app:1.2.3", 0),
            ("v full semver", "app:v1.2.3", 0),
            ("prerelease", "app:1.2-rc1", 0),
            ("date tag", "app:20240101", 0),
            ("sha tag", "app:sha-4f1c2e9", 0),
            ("digest pins", "app:main@sha256:0123abcd", 0),
            ("latest is PIN001", "app:latest", 0),
            ("registry port", "host:5000/app", 0),
        ];
        let srcs: Vec<(&str, String, usize)> = cases
            .iter()
            .map(|(n, i, w)| (*n, pod_with_image(i), *w))
            .collect();
        let cases: Vec<(&str, &str, usize)> =
            srcs.iter().map(|(n, s, w)| (*n, s.as_str(), *w)).collect();
        table(check, &cases);
    }

    #[test]
    fn configurable_list() {
        let cfg = config_from("rules:\n  PIN003: {tags: [qa], floating-versions: false}\n");
        let none = |_: &str, _: &str| false;
        let n = |image: &str| run_rule_with(check, &pod_with_image(image), &cfg, &none).len();
        assert_eq!(n("app:qa"), 1);
        assert_eq!(n("app:main"), 0);
        assert_eq!(n("app:16"), 0);
    }
}
