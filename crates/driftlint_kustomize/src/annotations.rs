//! `commonAnnotations:` (kustomize AnnotationsTransformer): sets annotations on every object
//! and on the pod templates of the built-in workload kinds.

#[cfg(test)]
use super::{builtin_specs, decode::Pairs, error::Result, labels::set_entries, resmap::ResMap};

/// Applies `commonAnnotations`.
///
/// Errors: a field-spec path crossing a scalar, or an annotations field that is not a map.
#[cfg(test)]
pub fn apply(m: &mut ResMap, annotations: &Pairs) -> Result<()> {
    set_entries(
        m,
        annotations,
        &builtin_specs::common_annotations(),
        "commonAnnotations transformer",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Spanned;
    use crate::resource::Resource;
    use driftlint_yaml::{parse_documents, Origin};

    #[test]
    fn annotates_objects_and_pod_templates() {
        let mut m = ResMap::new();
        let src = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\nspec:\n  jobTemplate:\n    spec:\n      template: {}\n";
        for d in parse_documents("r.yaml".into(), src).expect("parses") {
            m.append(Resource::new(d), None).expect("unique");
        }
        let pairs = vec![(
            "team".to_string(),
            Spanned::new("a".to_string(), Origin::new("k.yaml".into(), 2, 9)),
        )];
        apply(&mut m, &pairs).expect("applies");
        let j = m.list()[0].node.to_json();
        assert_eq!(j["metadata"]["annotations"]["team"], "a");
        assert_eq!(
            j["spec"]["jobTemplate"]["metadata"]["annotations"]["team"],
            "a"
        );
        assert_eq!(
            j["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["annotations"]["team"],
            "a"
        );
    }
}
