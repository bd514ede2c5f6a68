//! Native Helm rendering.

pub mod template;
