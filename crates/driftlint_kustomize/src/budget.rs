//! The size budget of one build: kustomizations come from untrusted pull requests, and a
//! few lines can make objects grow exponentially (replacements or JSON patch `copy`
//! operations that copy a field into itself, a base reached through two renaming overlays
//! at every level) or quadratically (`$(VAR)` references to a large var). The engine
//! measures what it builds and refuses to go past [`MAX_BUILD_SIZE`], with an error at the
//! kustomization (or replacement, patch) line responsible, instead of running out of memory.

use driftlint_yaml::{Node, Origin, Value};

use super::decode::Pairs;
use super::error::{ErrorKind, KustomizeError, Result};
use super::kustfile::Kustomization;
use super::resmap::ResMap;

/// The default size budget of one build, in estimated bytes (see `node_size`): 256 MiB,
/// about ten times the largest real overlays (a 20 MB CRD bundle measures ~85 MiB).
pub const MAX_BUILD_SIZE: u64 = 256 << 20;

/// The weight of one node in [`node_size`], about what a node takes in memory.
const NODE_WEIGHT: u64 = 64;

/// The estimated size of `n` in bytes: [`NODE_WEIGHT`] per node (map keys included) plus
/// the length of every scalar's text. Iterative, so deep trees cannot overflow the stack.
pub fn node_size(n: &Node) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![n];
    while let Some(n) = stack.pop() {
        total += NODE_WEIGHT;
        match &n.value {
            Value::Scalar(s) => total += s.text.len() as u64,
            Value::Seq(items) => stack.extend(items),
            Value::Map(m) => {
                for (k, v) in m.iter() {
                    total += NODE_WEIGHT + k.as_scalar().map_or(0, |s| s.text.len() as u64);
                    stack.push(v);
                }
            }
        }
    }
    total
}

/// The estimated size of every object in `m`.
pub fn map_size(m: &ResMap) -> u64 {
    m.list().iter().map(|r| node_size(&r.node)).sum()
}

/// A running total checked against a limit.
#[derive(Clone, Debug)]
pub struct Budget {
    used: u64,
    limit: u64,
}

impl Budget {
    /// A budget of `limit` bytes of which `used` are spent.
    pub fn new(used: u64, limit: u64) -> Budget {
        Budget { used, limit }
    }

    /// A budget of `limit` starting at the size of `m`.
    pub fn of_map(m: &ResMap, limit: u64) -> Budget {
        Budget::new(map_size(m), limit)
    }

    /// Spends `bytes` more, on behalf of `what` written at `origin`.
    ///
    /// Errors: [`ErrorKind::TooLarge`] when the total passes the limit.
    pub fn charge(&mut self, bytes: u64, what: &str, origin: &Origin) -> Result<()> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limit {
            return Err(too_large(what, self.limit, origin));
        }
        Ok(())
    }
}

/// Checks the objects of `m` against `limit` after `what` (written at `origin`) ran.
///
/// Errors: [`ErrorKind::TooLarge`].
pub fn check(m: &ResMap, limit: u64, what: &str, origin: &Origin) -> Result<()> {
    if map_size(m) > limit {
        return Err(too_large(what, limit, origin));
    }
    Ok(())
}

/// Checks, before the transformers run, what `labels`, `commonLabels` and
/// `commonAnnotations` of `k` will copy into every object of `m` (a large value times many
/// objects would otherwise be allocated in full before the budget is next checked): each
/// pair is counted once per object for annotations and three times for labels (metadata,
/// selectors, pod templates).
///
/// Errors: [`ErrorKind::TooLarge`] at the first pair of the largest field.
pub fn check_copies(m: &ResMap, k: &Kustomization, limit: u64) -> Result<()> {
    let objects = m.list().len() as u64;
    let groups = [
        ("commonLabels", &k.common_labels, 3),
        ("commonAnnotations", &k.common_annotations, 1),
    ]
    .into_iter()
    .chain(k.labels.iter().map(|l| ("labels", &l.pairs, 3)));
    let mut added = 0u64;
    let mut largest: Option<(u64, &str, &Origin)> = None;
    for (what, pairs, copies) in groups {
        let size = pairs_size(pairs).saturating_mul(copies);
        added = added.saturating_add(size.saturating_mul(objects));
        if let Some((_, first)) = pairs.first() {
            if largest.is_none_or(|(s, _, _)| size > s) {
                largest = Some((size, what, &first.origin));
            }
        }
    }
    match largest {
        Some((_, what, origin)) if map_size(m).saturating_add(added) > limit => {
            Err(too_large(what, limit, origin))
        }
        _ => Ok(()),
    }
}

/// The estimated size of label or annotation pairs as nodes (see [`node_size`]).
fn pairs_size(pairs: &Pairs) -> u64 {
    pairs
        .iter()
        .map(|(k, v)| 2 * NODE_WEIGHT + k.len() as u64 + v.value.len() as u64)
        .sum()
}

fn too_large(what: &str, limit: u64, origin: &Origin) -> KustomizeError {
    KustomizeError::new(
        ErrorKind::TooLarge {
            message: format!(
                "{what} makes the objects larger than the build budget of {} MiB",
                limit >> 20
            ),
        },
        Some(origin.clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::parse_documents;

    #[test]
    fn size_counts_nodes_and_text() {
        let d = &parse_documents("a.yaml".into(), "a: bc\nl: [x]\n").expect("parses")[0];
        // map, 2 keys (1 + 1 bytes), 2 values ("bc", seq), 1 item ("x")
        assert_eq!(node_size(d), 6 * NODE_WEIGHT + 2 + 2 + 1);
        let o = Origin::new("k.yaml".into(), 3, 1);
        let mut b = Budget::new(10, 20);
        b.charge(10, "x", &o).expect("within");
        let e = b.charge(1, "replacement", &o).unwrap_err();
        assert!(e.to_string().contains("build budget"), "{e}");
        assert_eq!(e.origin, Some(o));
    }
}
