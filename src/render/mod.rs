//! Native renderers: each turns a render target into Kubernetes objects with origins.

pub mod helm;
pub mod kustomize;
