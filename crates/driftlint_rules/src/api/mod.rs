//! Removed and deprecated API versions for the target Kubernetes version.

pub(crate) mod api_deprecated;
pub(crate) mod api_removed;

use std::sync::Arc;

use super::lifecycle::{embedded_api_lifecycle, ApiLifecycle};
use super::RuleContext;

/// The lifecycle table in effect: the configured replacement or the embedded data.
pub(crate) fn lifecycle(ctx: &RuleContext) -> Arc<ApiLifecycle> {
    ctx.config
        .api_lifecycle
        .clone()
        .unwrap_or_else(embedded_api_lifecycle)
}

/// `"use X"` or `"no replacement"`.
pub(crate) fn advice(replacement: &str) -> String {
    if replacement.trim().is_empty() {
        "there is no replacement".to_string()
    } else {
        format!("use {replacement}")
    }
}
