//! `validators:` (kustomize `KustTarget.runValidators`): plugins that check the objects
//! after the transformers ran and must not change them.
//!
//! kustomize has no builtin validator: validators are exec or KRM-function plugins, which
//! driftlint does not run (unsupported, loudly). A validator entry whose config is a
//! builtin transformer is run as kustomize runs it, on a copy: if it changes any object
//! (a value, or even a value's YAML type or style, as kustomize compares the YAML nodes),
//! the build fails with kustomize's "validator shouldn't modify the resource map".

use driftlint_yaml::{Node, Value};

use super::error::{KustomizeError, Result};
use super::patch::Patcher;
use super::plugins;
use super::resmap::ResMap;
use super::resource::Resource;

/// Runs the validator configs of one `validators` entry against `ra`.
///
/// Errors: `Unsupported` for non-builtin validators; `Invalid` when a builtin validator
/// modifies the objects; the transformer's own errors.
pub fn run(patcher: &Patcher, configs: &[Resource], ra: &ResMap) -> Result<()> {
    for cfg in configs {
        if cfg.api_version() != "builtin" {
            return Err(KustomizeError::unsupported(
                format!(
                    "validators: {} (apiVersion {}): exec and KRM-function validators are not run",
                    cfg.kind(),
                    cfg.api_version()
                ),
                Some(&cfg.node.origin),
            ));
        }
        let b = plugins::decode(cfg)?;
        let mut copy = ra.clone();
        plugins::apply(&b, &mut copy, patcher)?;
        if let Some(changed) = first_change(ra, &copy) {
            return Err(KustomizeError::invalid(
                format!(
                    "validator shouldn't modify the resource map: {} {} changed {changed}",
                    cfg.kind(),
                    cfg.name()
                ),
                Some(&cfg.node.origin),
            ));
        }
    }
    Ok(())
}

/// The first object (`Kind/name`) that differs between the two maps, if any.
fn first_change(before: &ResMap, after: &ResMap) -> Option<String> {
    if before.list().len() != after.list().len() {
        return Some(format!(
            "the number of objects ({} -> {})",
            before.list().len(),
            after.list().len()
        ));
    }
    before
        .list()
        .iter()
        .zip(after.list())
        .find(|(a, b)| !same(&a.node, &b.node))
        .map(|(a, _)| format!("{}/{}", a.kind(), a.name()))
}

/// Structural equality of two trees, scalars compared with their style and tag, origins
/// ignored.
fn same(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Scalar(x), Value::Scalar(y)) => x == y,
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((k1, v1), (k2, v2))| same(k1, k2) && same(v1, v2))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::parse_documents;

    #[test]
    fn equality_ignores_origins_but_not_types() {
        let a = parse_documents("a".into(), "x: 1\ny: [a]\n").expect("a");
        let b = parse_documents("b".into(), "\nx: 1\ny:\n- a\n").expect("b");
        let c = parse_documents("c".into(), "x: \"1\"\ny: [a]\n").expect("c");
        assert!(same(&a[0], &b[0]));
        assert!(!same(&a[0], &c[0]));
    }
}
