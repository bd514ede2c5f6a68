//! Span-aware YAML: parse multi-document YAML into [`Node`] trees whose every node carries its
//! [`Origin`] (file, line, column), resolve scalars as the Go YAML libraries do, and emit YAML
//! the way `kustomize build` prints it.

mod emit;
pub mod fs;
mod json;
mod node;
mod parse;
mod resolve;
mod timestamp;

pub use emit::{emit_documents, emit_documents_with_origins, emit_node};
pub use node::{json_pointer, Mapping, Node, Origin, PathSegment, Scalar, ScalarStyle, Value};
pub use parse::{parse_documents, parse_file, Comment, ParsedFile, YamlError};
pub use resolve::{looks_like_timestamp, resolve_plain, Resolved, Schema};
pub use timestamp::rfc3339;
