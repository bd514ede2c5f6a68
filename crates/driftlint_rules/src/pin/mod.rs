//! Pinned versions: images, chart versions, kustomize image overrides.

pub(crate) mod helmrelease_chart_unpinned;
pub(crate) mod image_digest_required;
pub(crate) mod image_tag_latest;
pub(crate) mod image_tag_missing;
pub(crate) mod image_tag_mutable;
pub(crate) mod kustomize_images_latest;
