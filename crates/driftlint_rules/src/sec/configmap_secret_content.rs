//! SEC003 configmap-secret-content.
//!
//! ## What it does
//! Flags each ConfigMap `data` value, and each base64-decoded `binaryData` value, that contains
//! a known token format or a PEM private key (the SEC005 patterns). The message shows at most
//! the first four characters of the token.
//!
//! ## Why
//! ConfigMaps are readable by more principals than Secrets and never encrypted at rest.
//!
//! ## Example
//! `data: {tls.key: "-----BEGIN PRIVATE KEY-----..."}` — use instead an encrypted Secret.

use data_encoding::BASE64;

use crate::k8s::{kind_and_group, Located};
use crate::redact::preview;
use crate::tokens::find_token;
use crate::{Hit, Scope};
use driftlint_yaml::Node;

pub(crate) const CODE: &str = "SEC003";
pub(crate) const META: &str = include_str!("../../../../rules/SEC003.yaml");

pub(crate) fn check(obj: &Node, _scope: &Scope<'_>, out: &mut Vec<Hit>) {
    if kind_and_group(obj) != ("ConfigMap", "") {
        return;
    }
    let root = Located::root(obj);
    for section in ["data", "binaryData"] {
        let Some(map) = root.key(section) else {
            continue;
        };
        for (key, value) in map.entries() {
            let Some(text) = value.node.scalar_text() else {
                continue;
            };
            let decoded;
            let text = if section == "binaryData" {
                let compact: String = text.split_whitespace().collect();
                match BASE64.decode(compact.as_bytes()) {
                    Ok(bytes) => {
                        decoded = String::from_utf8_lossy(&bytes).into_owned();
                        decoded.as_str()
                    }
                    Err(_) => continue,
                }
            } else {
                text
            };
            if let Some(token) = find_token(text) {
                let msg = format!(
                    "ConfigMap {section} key {key} contains {} {}",
                    token.kind.description,
                    preview(token.secret)
                );
                out.push(Hit::new(CODE, value.node, value.pointer.clone(), msg));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use crate::tokens::samples;

    fn configmap(section: &str, value: &str) -> String {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\n{section}:\n  app.conf: {}\n",
            serde_json::to_string(value).expect("json string")
        )
    }

    #[test]
    fn pass_fail_table() {
        let key = samples::all()
            .into_iter()
            .find(|(id, _)| *id == "private-key")
            .map(|(_, s)| s)
            .expect("sample");
        let aws = fake_aws_key();
        let cases = [
            ("aws key", configmap("data", &format!("aws_access_key_id = {aws}\n")), 1),
            ("pem key", configmap("data", &key), 1),
            ("binary pem", configmap("binaryData", &BASE64.encode(key.as_bytes())), 1),
            ("plain config", configmap("data", "log_level = debug\nport = 8080\n"), 0),
            ("public cert", configmap("data", "-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAK\n-----END CERTIFICATE-----\n"), 0),
            ("bad base64", configmap("binaryData", "not base64 !!"), 0),
            ("a Secret is SEC001", format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData:\n  k: {aws}\n"), 0),
        ];
        let cases: Vec<(&str, &str, usize)> =
            cases.iter().map(|(n, s, w)| (*n, s.as_str(), *w)).collect();
        table(check, &cases);
    }

    #[test]
    fn message_is_redacted() {
        let aws = fake_aws_key();
        let hits = run_rule(check, &configmap("data", &format!("key={aws}")));
        assert_eq!(
            hits[0].message,
            "ConfigMap data key app.conf contains an AWS access key ID \"AKIA…\""
        );
        assert_eq!(hits[0].field, "/data/app.conf");
    }
}
