//! Remote Helm charts: [`ChartLocator`] names a chart in a Helm HTTP repository or an OCI
//! registry, [`ChartCache`] keeps pulled chart archives content-addressed on disk, and
//! [`resolve_version`] picks a version from a semver range as Flux's source-controller does.
//!
//! `check` only reads the cache (it stays offline); `driftlint charts pull` writes it:
//! [`collect`] lists what a repository's rendered objects and kustomizations ask for
//! ([`ChartRequest`]: locator, wanted version, file:line), and `pull::pull` (cargo feature
//! `pull`) fetches it from Helm HTTP repositories and OCI registries under a host and address
//! policy (`pull::policy`).
//!
//! Cache layout under the root (`$XDG_CACHE_HOME/driftlint/charts`, else
//! `$HOME/.cache/driftlint/charts`, or `--cache-dir`):
//!
//! ```text
//! blobs/sha256/<hex>          a chart archive (.tgz), named by the sha256 of its bytes
//! charts/<key>/index.json     one chart of one source: the versions the source offers and,
//!                             for each pulled version, the digest of its archive
//! ```
//!
//! `<key>` is the sha256 (hex) of the locator's canonical text, so nothing a repository says
//! becomes a path. Writes go to a temporary file in the same directory and are renamed into
//! place; reads verify the digest and the archive budget ([`MAX_ARCHIVE_BYTES`]).

mod cache;
mod collect;
mod locator;
#[cfg(feature = "pull")]
pub mod pull;
mod resolve;

pub use cache::{CacheError, ChartCache, ChartIndex, Digest, MAX_ARCHIVE_BYTES};
pub use collect::{
    argo_locator, collect, helm_repository_chart, oci_repository_chart, ChartRequest, Collected,
    Unresolved, Wanted,
};
pub use locator::{ChartLocator, LocatorError, SourceKind};
pub use resolve::resolve_version;
