//! Native Helm rendering.

pub mod funcs;
pub mod template;
