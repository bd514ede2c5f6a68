//! `replicas:` (kustomize ReplicaCountTransformer): sets `spec.replicas` of the Deployment,
//! ReplicationController, ReplicaSet or StatefulSet with the given (current or previous) name.

use driftlint_yaml::Node;

use super::error::{KustomizeError, Result};
use super::fieldspec::{self, Create, FieldSpec};
use super::kustfile::ReplicaArgs;
use super::resmap::ResMap;

/// Applies one `replicas` entry.
///
/// Errors: no object of a scalable kind has that name (kustomize: "resource with name X
/// does not match a config with the following GVK").
#[cfg(test)]
pub fn apply(m: &mut ResMap, r: &ReplicaArgs) -> Result<()> {
    apply_with(m, r, &super::builtin_specs::replicas())
}

/// Applies one replica rule with explicit field specs (a ReplicaCountTransformer config).
///
/// Errors: as [`apply`].
pub fn apply_with(m: &mut ResMap, r: &ReplicaArgs, specs: &[FieldSpec]) -> Result<()> {
    let origin = r.count.origin.clone().with_via("replicas transformer");
    let mut found = false;
    for fs in specs {
        let hits = m.matching_any_id(|id| id.name == r.name && id.gvk.is_selected(&fs.gvk));
        for i in hits {
            found = true;
            fieldspec::apply(
                &mut m.list_mut()[i].node,
                fs,
                Create::Scalar,
                &origin,
                &mut |n: &mut Node| {
                    *n = Node::int(r.count.value, origin.clone());
                    Ok(())
                },
            )?;
        }
    }
    if found {
        Ok(())
    } else {
        Err(KustomizeError::invalid(
            format!(
                "resource with name {} does not match a config with the following GVK [Deployment.[noVer].[noGrp] StatefulSet.[noVer].[noGrp] ReplicaSet.[noVer].[noGrp] ReplicationController.[noVer].[noGrp]]",
                r.name
            ),
            Some(&r.origin),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Spanned;
    use crate::resource::Resource;
    use driftlint_yaml::{parse_documents, Origin};

    fn args(name: &str) -> ReplicaArgs {
        let o = Origin::new("k.yaml".into(), 3, 10);
        ReplicaArgs {
            name: name.into(),
            count: Spanned::new(5, o.clone()),
            origin: o,
        }
    }

    #[test]
    fn sets_replicas_by_name() {
        let mut m = ResMap::new();
        let src =
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n";
        for d in parse_documents("r.yaml".into(), src).expect("parses") {
            m.append(Resource::new(d), None).expect("unique");
        }
        apply(&mut m, &args("web")).expect("applies");
        let r = m.list()[0]
            .node
            .get_path(&["spec", "replicas"])
            .expect("replicas");
        assert_eq!(r.to_json(), serde_json::json!(5));
        assert_eq!(r.origin.via.as_deref(), Some("replicas transformer"));
        assert!(apply(&mut m, &args("nope")).is_err());
    }
}
