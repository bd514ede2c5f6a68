//! Suppression: object annotations (ours and the peers', through [`ALIASES`]) and
//! `# driftlint:ignore CODE reason` comments.

use std::collections::BTreeSet;

use crate::Finding;
use driftlint_yaml::{Comment, Node};

use super::registry;
use super::RuleConfig;

/// Our annotation: a comma- or space-separated list of codes or rule names.
pub const IGNORE_ANNOTATION: &str = "driftlint.io/ignore";

/// Peer tools' suppression keys mapped to our codes: (tool, check, codes). A peer's check
/// usually covers more than one of ours.
///
/// * kube-linter: `ignore-check.kube-linter.io/<check>` (any value);
/// * Polaris: `polaris.fairwinds.com/<check>-exempt: "true"`;
/// * checkov: `checkov.io/skip<N>: <CHECK>[=reason]`;
/// * kube-score: `kube-score/ignore: <check>[,<check>...]`.
pub const ALIASES: &[(&str, &str, &[&str])] = &[
    ("kube-linter", "latest-tag", &["PIN001", "PIN002"]),
    ("kube-linter", "env-var-secret", &["SEC002"]),
    ("polaris", "tagNotSpecified", &["PIN001", "PIN002"]),
    ("checkov", "CKV_K8S_14", &["PIN001", "PIN002"]),
    ("checkov", "CKV_K8S_43", &["PIN004"]),
    ("kube-score", "container-image-tag", &["PIN001", "PIN002"]),
];

/// The codes the object's annotations ask to ignore (upper-case codes; rule names are
/// resolved). Unknown entries are ignored.
pub fn annotation_ignores(obj: &Node) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Some(annotations) = obj
        .get_path(&["metadata", "annotations"])
        .and_then(Node::as_map)
    else {
        return out;
    };
    for (k, v) in annotations.iter() {
        let (Some(key), Some(value)) = (k.as_str(), v.scalar_text()) else {
            continue;
        };
        for code in codes_for_annotation(key, value) {
            out.insert(code);
        }
    }
    out
}

fn codes_for_annotation(key: &str, value: &str) -> Vec<String> {
    if key == IGNORE_ANNOTATION {
        return split_list(value).filter_map(resolve_code).collect();
    }
    let peer: Vec<(&str, &str)> =
        if let Some(check) = key.strip_prefix("ignore-check.kube-linter.io/") {
            vec![("kube-linter", check)]
        } else if let Some(rest) = key.strip_prefix("polaris.fairwinds.com/") {
            match rest.strip_suffix("-exempt") {
                Some(check) if value.eq_ignore_ascii_case("true") => vec![("polaris", check)],
                _ => vec![],
            }
        } else if is_checkov_skip(key) {
            let check = value.split('=').next().unwrap_or("").trim();
            vec![("checkov", check)]
        } else if key == "kube-score/ignore" {
            split_list(value).map(|c| ("kube-score", c)).collect()
        } else {
            vec![]
        };
    peer.into_iter()
        .flat_map(|(tool, check)| aliased(tool, check))
        .collect()
}

fn is_checkov_skip(key: &str) -> bool {
    key.strip_prefix("checkov.io/skip")
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

fn aliased(tool: &str, check: &str) -> Vec<String> {
    ALIASES
        .iter()
        .filter(|(t, c, _)| *t == tool && *c == check)
        .flat_map(|(_, _, codes)| codes.iter().map(|c| c.to_string()))
        .collect()
}

fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
}

fn resolve_code(token: &str) -> Option<String> {
    registry::meta(token).map(|m| m.code.clone())
}

/// True when the object's ignored codes cover `code`, unless SEC* annotation suppression is
/// forbidden by the configuration.
pub(crate) fn annotation_suppresses(
    ignored: &BTreeSet<String>,
    code: &str,
    cfg: &RuleConfig,
) -> bool {
    if cfg.forbid_annotation_suppression_for_security && code.starts_with("SEC") {
        return false;
    }
    ignored.contains(code)
}

/// True when a `# driftlint:ignore CODE[,CODE...] [reason]` comment in the finding's file sits
/// on the finding's line, or alone on the line directly above it. `comments_of(file)` returns
/// that file's comments (None when the file cannot be read: nothing is suppressed).
///
/// "Alone on the line above" is judged from positions only: the comment must start at or
/// before the finding's column, so a trailing comment of the previous line (which sits to the
/// right of that line's content) does not suppress the next line. Codes may be rule names.
pub fn suppressed_by_comment(
    finding: &Finding,
    comments_of: &dyn Fn(&str) -> Option<Vec<Comment>>,
) -> bool {
    let Some(comments) = comments_of(&finding.origin.file) else {
        return false;
    };
    let line = finding.origin.line;
    comments.iter().any(|c| {
        let placed = c.line == line || (c.line + 1 == line && c.column <= finding.origin.column);
        placed
            && comment_codes(&c.text)
                .iter()
                .any(|code| code == &finding.code)
    })
}

/// The codes of a `driftlint:ignore` comment text (after `#`), or none.
fn comment_codes(text: &str) -> Vec<String> {
    let Some(rest) = text.trim_start().strip_prefix("driftlint:ignore") else {
        return Vec::new();
    };
    if !rest.starts_with(char::is_whitespace) {
        return Vec::new();
    }
    let list = rest.split_whitespace().next().unwrap_or("");
    list.split(',').filter_map(resolve_code).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use driftlint_yaml::parse_file;

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  annotations:\n    ANNOTATIONS\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          image: nginx:latest\n          env:\n            - name: API_TOKEN\n              value: abcdefgh12345678\n";

    fn codes_with(annotations: &str, cfg: &RuleConfig) -> Vec<String> {
        let src = DEPLOY.replace("ANNOTATIONS", annotations);
        check_docs("t", &src, cfg)
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn our_annotation_by_code_or_name() {
        let cfg = RuleConfig::default();
        assert_eq!(codes_with("x: y", &cfg), vec!["PIN001", "SEC002"]);
        assert_eq!(
            codes_with("driftlint.io/ignore: \"PIN001,SEC002\"", &cfg),
            Vec::<String>::new()
        );
        assert_eq!(
            codes_with("driftlint.io/ignore: image-tag-latest", &cfg),
            vec!["SEC002"]
        );
    }

    #[test]
    fn peer_annotations_through_aliases() {
        let cfg = RuleConfig::default();
        let cases = [
            "ignore-check.kube-linter.io/latest-tag: \"reason\"",
            "polaris.fairwinds.com/tagNotSpecified-exempt: \"true\"",
            "checkov.io/skip1: CKV_K8S_14=pinned elsewhere",
            "kube-score/ignore: container-image-pull-policy,container-image-tag",
        ];
        for a in cases {
            assert_eq!(codes_with(a, &cfg), vec!["SEC002"], "{a}");
        }
        assert_eq!(
            codes_with(
                "polaris.fairwinds.com/tagNotSpecified-exempt: \"false\"",
                &cfg
            ),
            vec!["PIN001", "SEC002"]
        );
        assert_eq!(
            codes_with("ignore-check.kube-linter.io/env-var-secret: ok", &cfg),
            vec!["PIN001"]
        );
    }

    #[test]
    fn security_annotation_suppression_can_be_forbidden() {
        let cfg = config_from("rules:\n  forbid-annotation-suppression-for-security: true\n");
        assert_eq!(
            codes_with("driftlint.io/ignore: PIN001,SEC002", &cfg),
            vec!["SEC002"]
        );
    }

    #[test]
    fn aliases_point_at_registered_codes() {
        for (_, _, codes) in ALIASES {
            for c in *codes {
                assert!(registry::meta(c).is_some(), "{c}");
            }
        }
    }

    fn finding_at(code: &str, line: u32, column: u32) -> Finding {
        Finding {
            code: code.into(),
            severity: crate::Severity::Error,
            message: String::new(),
            origin: driftlint_yaml::Origin::new("v.yaml".into(), line, column),
            object: None,
            target: "t".into(),
            field: None,
        }
    }

    #[test]
    fn comments_on_the_line_or_alone_above() {
        let src = "a:\n  # driftlint:ignore PIN001 base image is pinned by CI\n  image: nginx:latest\n  other: x # driftlint:ignore PIN003\n  tag: main\n  same: y # driftlint:ignore PIN002,image-tag-mutable\n";
        let parsed = parse_file("v.yaml".into(), src).expect("parses");
        let comments_of = |f: &str| (f == "v.yaml").then(|| parsed.comments.clone());
        assert!(suppressed_by_comment(
            &finding_at("PIN001", 3, 10),
            &comments_of
        ));
        assert!(!suppressed_by_comment(
            &finding_at("PIN002", 3, 10),
            &comments_of
        ));
        // a trailing comment of line 4 does not reach line 5
        assert!(!suppressed_by_comment(
            &finding_at("PIN003", 5, 8),
            &comments_of
        ));
        assert!(suppressed_by_comment(
            &finding_at("PIN003", 4, 10),
            &comments_of
        ));
        assert!(suppressed_by_comment(
            &finding_at("PIN002", 6, 9),
            &comments_of
        ));
        assert!(suppressed_by_comment(
            &finding_at("PIN003", 6, 9),
            &comments_of
        ));
        let unreadable = |_: &str| None;
        assert!(!suppressed_by_comment(
            &finding_at("PIN001", 3, 10),
            &unreadable
        ));
    }

    #[test]
    fn comment_syntax() {
        assert_eq!(
            comment_codes(" driftlint:ignore PIN001 why"),
            vec!["PIN001"]
        );
        assert_eq!(
            comment_codes("driftlint:ignore sec002,PIN001"),
            vec!["SEC002", "PIN001"]
        );
        assert!(comment_codes(" driftlint:ignorePIN001").is_empty());
        assert!(comment_codes(" driftlint:ignore").is_empty());
        assert!(comment_codes(" some other comment PIN001").is_empty());
    }
}
