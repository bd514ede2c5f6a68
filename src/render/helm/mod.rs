//! Native Helm rendering.

pub mod chart;
pub mod funcs;
pub mod template;
