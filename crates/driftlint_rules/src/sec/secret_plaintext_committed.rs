//! SEC001 secret-plaintext-committed.
//!
//! ## What it does
//! Flags a core `Secret` whose `data` or `stringData` holds a non-empty value that is neither
//! SOPS-encrypted (`ENC[...]`, or a `sops:` block on the object) nor entirely `${VAR}`
//! placeholders (Flux post-build substitution). One finding per Secret, at its first plaintext
//! value, naming the keys (never the values). A Secret made by a kustomize secretGenerator
//! counts as plaintext in Git too. SealedSecret and ExternalSecret are other kinds and pass.
//!
//! ## Why
//! Base64 is not encryption: the credential is readable by everyone with the repository.
//!
//! ## Example
//! `kind: Secret` with `stringData: {password: hunter22}` — use instead a SOPS-encrypted
//! Secret, a SealedSecret or an ExternalSecret.

use crate::k8s::{is_placeholder_only, is_sops_encrypted, kind_and_group, Located};
use crate::{Hit, Scope};
use driftlint_yaml::Node;

pub(crate) const CODE: &str = "SEC001";
pub(crate) const META: &str = include_str!("../../../../rules/SEC001.yaml");

pub(crate) fn check(obj: &Node, _scope: &Scope<'_>, out: &mut Vec<Hit>) {
    if kind_and_group(obj) != ("Secret", "") || obj.get("sops").is_some() {
        return;
    }
    let root = Located::root(obj);
    let mut plaintext: Vec<(String, Located<'_>)> = Vec::new();
    for section in ["data", "stringData"] {
        let Some(map) = root.key(section) else {
            continue;
        };
        for (key, value) in map.entries() {
            if is_plaintext(value.node) {
                plaintext.push((format!("{section}.{key}"), value));
            }
        }
    }
    let Some((_, first)) = plaintext.first() else {
        return;
    };
    let name = obj.str_at(&["metadata", "name"]).unwrap_or("?");
    let keys: Vec<&str> = plaintext.iter().map(|(k, _)| k.as_str()).collect();
    let generated = first
        .node
        .origin
        .via
        .as_deref()
        .is_some_and(|v| v.contains("secretGenerator"));
    let how = if generated {
        " (made by a secretGenerator)"
    } else {
        ""
    };
    let msg = format!(
        "Secret {name}{how} has {} plaintext value(s) committed to Git ({}); encrypt it with SOPS or use a SealedSecret or ExternalSecret",
        keys.len(),
        keys.join(", ")
    );
    out.push(Hit::new(CODE, first.node, first.pointer.clone(), msg));
}

fn is_plaintext(value: &Node) -> bool {
    let Some(text) = value.scalar_text() else {
        return false;
    };
    !(text.trim().is_empty() || is_sops_encrypted(text) || is_placeholder_only(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    fn secret(body: &str) -> String {
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n{body}")
    }

    #[test]
    fn pass_fail_table() {
        let cases = [
            ("stringData", secret("stringData:\n  password: hunter22\n"), 1),
            ("data", secret("data:\n  password: aHVudGVyMjI=\n"), 1),
            ("both, one finding", secret("data:\n  a: YQ==\nstringData:\n  b: x\n"), 1),
            ("sops block", secret("data:\n  password: ENC[AES256_GCM,data:abc,type:str]\nsops:\n  version: 3.9.0\n"), 0),
            ("sops values only", secret("stringData:\n  password: ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]\n"), 0),
            ("placeholder", secret("stringData:\n  password: ${DB_PASSWORD}\n"), 0),
            ("empty values", secret("data:\n  password: \"\"\n  other:\n"), 0),
            ("no data", secret("type: kubernetes.io/service-account-token\n"), 0),
            ("mixed encrypted and plain", secret("stringData:\n  a: ENC[AES256_GCM,data:x,type:str]\n  b: plain\n"), 1),
            ("SealedSecret", "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: s}\nspec:\n  encryptedData: {password: AgB4x}\n".to_string(), 0),
            ("ExternalSecret", "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata: {name: s}\nspec:\n  data: [{secretKey: a}]\n".to_string(), 0),
            ("other group Secret", "apiVersion: example.com/v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: b}\n".to_string(), 0),
        ];
        let cases: Vec<(&str, &str, usize)> =
            cases.iter().map(|(n, s, w)| (*n, s.as_str(), *w)).collect();
        table(check, &cases);
    }

    #[test]
    fn message_names_keys_not_values() {
        let hits = run_rule(
            check,
            &secret("data:\n  a: \"\"\n  user: YWRtaW4=\nstringData:\n  password: hunter22\n"),
        );
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].field, "/data/user");
        assert_eq!(hits[0].origin.line, 7);
        assert!(
            hits[0].message.contains("(data.user, stringData.password)"),
            "{}",
            hits[0].message
        );
        assert!(!hits[0].message.contains("hunt") && !hits[0].message.contains("YWRt"));
    }

    #[test]
    fn generated_secrets_say_so() {
        let mut docs = parse_all("t.yaml", &secret("data:\n  password: aHVudGVyMjI=\n"));
        let origin = docs[0]
            .origin
            .clone()
            .with_via("secretGenerator in overlays/prod/kustomization.yaml");
        if let Some(v) = docs[0].get_path_mut(&["data", "password"]) {
            v.origin = origin;
        }
        let cfg = crate::RuleConfig::default();
        let none = |_: &str, _: &str| false;
        let ctx = crate::RuleContext::new(&cfg, &none);
        let scope = Scope {
            ctx: &ctx,
            crds: vec![],
        };
        let mut hits = Vec::new();
        check(&docs[0], &scope, &mut hits);
        assert!(
            hits[0].message.contains("secretGenerator"),
            "{}",
            hits[0].message
        );
    }
}
