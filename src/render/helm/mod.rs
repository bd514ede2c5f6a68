//! Native Helm rendering.

pub mod chart;
pub mod template;
