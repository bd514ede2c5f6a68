//! Container image references (`[registry[:port]/]repo[:tag][@algo:digest]`), split the way
//! the container runtimes (distribution/reference) read them: the tag is a `:` after the last
//! `/`, so `host:5000/app` has no tag.

use super::k8s::{container_name, containers, Located};
use driftlint_yaml::Node;

/// The parts of an image reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ImageRef<'a> {
    /// Registry and repository, without tag or digest.
    pub name: &'a str,
    /// The tag, if written (possibly empty for `app:`).
    pub tag: Option<&'a str>,
    /// The digest after `@` (`sha256:...`), if written.
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    /// Splits `image` (never fails: every string has a name).
    pub(crate) fn parse(image: &'a str) -> ImageRef<'a> {
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (image, None),
        };
        let last = rest.rfind('/').map_or(0, |i| i + 1);
        match rest[last..].rfind(':') {
            Some(i) => ImageRef {
                name: &rest[..last + i],
                tag: Some(&rest[last + i + 1..]),
                digest,
            },
            None => ImageRef {
                name: rest,
                tag: None,
                digest,
            },
        }
    }

    /// True when pinned by a content digest (`@<algorithm>:<hex>`).
    pub(crate) fn has_digest(&self) -> bool {
        self.digest.is_some_and(|d| {
            d.split_once(':')
                .is_some_and(|(alg, hex)| !alg.is_empty() && !hex.is_empty())
        })
    }

    /// The tag when it is written and non-empty.
    pub(crate) fn nonempty_tag(&self) -> Option<&'a str> {
        self.tag.filter(|t| !t.is_empty())
    }
}

/// One container image found in an object.
pub(crate) struct ImageSite<'a> {
    /// The `image` value node and its pointer.
    pub at: Located<'a>,
    /// The image string.
    pub image: &'a str,
    /// The container's name.
    pub container: &'a str,
}

/// Every string `image` of the object's containers, skipping images that still hold a Flux
/// placeholder (`ghcr.io/x/app:${TAG}`, see [`driftlint_yaml::contains_flux_placeholder`]) or
/// `{{...}}`: their value is unknown until substitution, never a finding.
pub(crate) fn images(obj: &Node) -> Vec<ImageSite<'_>> {
    containers(obj)
        .into_iter()
        .filter_map(|c| {
            let at = c.key("image")?;
            let image = at.node.as_str()?.trim();
            if image.is_empty()
                || driftlint_yaml::contains_flux_placeholder(image)
                || image.contains("{{")
            {
                return None;
            }
            Some(ImageSite {
                image,
                container: container_name(c.node),
                at,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_references() {
        let cases = [
            ("nginx", "nginx", None, None),
            ("nginx:1.27", "nginx", Some("1.27"), None),
            ("host:5000/app", "host:5000/app", None, None),
            ("host:5000/app:v2", "host:5000/app", Some("v2"), None),
            ("app@sha256:abc", "app", None, Some("sha256:abc")),
            ("app:1@sha256:abc", "app", Some("1"), Some("sha256:abc")),
            ("app:", "app", Some(""), None),
        ];
        for (s, name, tag, digest) in cases {
            assert_eq!(ImageRef::parse(s), ImageRef { name, tag, digest }, "{s}");
        }
        assert!(ImageRef::parse("a@sha256:00").has_digest());
        assert!(!ImageRef::parse("a@sha256:").has_digest());
        assert_eq!(ImageRef::parse("app:").nonempty_tag(), None);
    }
}
