//! SEC005 known-token-pattern.
//!
//! ## What it does
//! Scans every string value of a rendered object (not its keys) for the gitleaks provider
//! formats in `tokens.rs` (keyword prefilter, regex, entropy threshold): AWS, GitHub, GitLab,
//! Slack, Stripe, Google API keys, PEM private keys, JWTs, age secret keys, npm tokens. One
//! finding per value, at that value; the message shows at most four characters. SEC002 and
//! SEC003 report env and ConfigMap values more precisely; the same value is then not reported
//! twice. SOPS ciphertext (`ENC[...]` values, the top-level `sops:` metadata block) is
//! not scanned.
//!
//! ## Why
//! These formats are high precision: a match is almost always a live credential.
//!
//! ## Example
//! `annotations: {ci/token: ghp_...}` — revoke it; keep credentials in encrypted Secrets.

use crate::k8s::is_sops_encrypted;
use crate::redact::preview;
use crate::tokens::find_token;
use crate::{Hit, Scope};
use driftlint_yaml::{json_pointer, Node, PathSegment};

pub(crate) const CODE: &str = "SEC005";
pub(crate) const META: &str = include_str!("../../../../rules/SEC005.yaml");

pub(crate) fn check(obj: &Node, _scope: &Scope<'_>, out: &mut Vec<Hit>) {
    obj.walk(&mut |path, node| {
        let Some(text) = node.as_str() else { return };
        if is_sops_encrypted(text) || matches!(path.first(), Some(PathSegment::Key("sops"))) {
            return;
        }
        if let Some(token) = find_token(text) {
            let msg = format!(
                "value contains {} {}",
                token.kind.description,
                preview(token.secret)
            );
            out.push(Hit::new(CODE, node, json_pointer(path), msg));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use crate::tokens::samples;

    #[test]
    fn every_known_format_is_found_anywhere() {
        for (id, sample) in samples::all() {
            let src = format!(
                "apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\n  annotations:\n    note: {}\n",
                serde_json::to_string(&sample).expect("json")
            );
            let hits = run_rule(check, &src);
            assert_eq!(hits.len(), 1, "{id}");
            assert_eq!(hits[0].field, "/metadata/annotations/note", "{id}");
            let shown = hits[0].message.rsplit('"').nth(1).unwrap_or("");
            assert!(
                shown.trim_end_matches('…').chars().count() <= 4,
                "{id}: {}",
                hits[0].message
            );
        }
    }

    #[test]
    fn pass_fail_table() {
        let pat = fake_github_pat();
        let in_list = format!("kind: X\nspec:\n  args: [--verbose, \"--token={pat}\"]\n");
        let in_key = format!("kind: X\nspec:\n  {pat}: value\n");
        let cases = [
            ("in a list", in_list.as_str(), 1),
            ("keys are not scanned", in_key.as_str(), 0),
            (
                "nothing",
                "kind: X\nspec:\n  image: nginx:1.2.3\n  replicas: 3\n",
                0,
            ),
        ];
        table(check, &cases);
    }

    #[test]
    fn pointer_and_origin() {
        let aws = fake_aws_key();
        let src = format!("kind: X\nspec:\n  list:\n    - a\n    - \"id {aws}\"\n");
        let hits = run_rule(check, &src);
        assert_eq!(hits[0].field, "/spec/list/1");
        assert_eq!((hits[0].origin.line, hits[0].origin.column), (5, 7));
        assert_eq!(
            hits[0].message,
            "value contains an AWS access key ID \"AKIA…\""
        );
    }
}
