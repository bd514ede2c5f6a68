//! Span-aware YAML: parse multi-document YAML into [`Node`] trees whose every node carries its
//! [`Origin`] (file, line, column), resolve scalars as the Go YAML libraries do, and emit YAML
//! the way `kustomize build` prints it; and [`fs::RepoFs`], the confined repository reader
//! every other crate reads files through (no symlink or `..` leaves the root, special files
//! and oversized files are refused, every text read is remembered for reports).
//!
//! ```
//! use std::sync::Arc;
//! use driftlint_yaml::{emit_documents, parse_documents};
//! let docs = parse_documents(Arc::from("cm.yaml"), "kind: ConfigMap\ndata: {a: \"1\"}\n").unwrap();
//! assert_eq!(docs[0].get("kind").unwrap().origin.line, 1);
//! assert_eq!(emit_documents(&docs), "data:\n  a: \"1\"\nkind: ConfigMap\n");
//! ```

mod emit;
mod flux_vars;
pub mod fs;
mod json;
mod node;
mod parse;
mod resolve;
mod timestamp;

pub use emit::{emit_documents, emit_documents_with_origins, emit_node};
pub use flux_vars::{
    contains_flux_placeholder, flux_placeholders, is_flux_placeholder, is_flux_var_name,
    FluxPlaceholder,
};
pub use node::{json_pointer, Mapping, Node, Origin, PathSegment, Scalar, ScalarStyle, Value};
pub use parse::{parse_documents, parse_file, Comment, ParsedFile, YamlError};
pub use resolve::{looks_like_timestamp, resolve_plain, Resolved, Schema};
pub use timestamp::rfc3339;
