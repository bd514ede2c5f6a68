//! `driftlint helm template` on tests/fixtures/helm-crypto, a chart that calls Sprig's crypto
//! functions (genCA, genSignedCert, genPrivateKey, genSelfSignedCertWithKey, htpasswd, bcrypt,
//! derivePassword, encryptAES/decryptAES, randBytes). Output is random, so the checks are on
//! structure: the YAML parses, the PEM blocks parse, the certificate chain verifies, and, when
//! the reference helm v4 is installed (`$DRIFTLINT_REFERENCE_HELM`, default
//! `/work/.reference-tools/bin/helm`), the structure equals what helm renders for the chart.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use data_encoding::BASE64;
use driftlint_yaml::{parse_documents, Schema};
use serde_json::Value as Json;
use x509_parser::prelude::*;

const CHART: &str = "tests/fixtures/helm-crypto";
const DEFAULT_HELM: &str = "/work/.reference-tools/bin/helm";
const ARGS: [&str; 5] = ["template", "rel", CHART, "-n", "ns"];

fn docs(yaml: &str) -> Vec<Json> {
    parse_documents("out.yaml".into(), yaml)
        .expect("output parses as YAML")
        .iter()
        .map(|d| d.to_json_with(Schema::Yaml11))
        .filter(|d| !d.is_null())
        .collect()
}

fn driftlint_output() -> Vec<Json> {
    let out = Command::cargo_bin("driftlint")
        .unwrap()
        .arg("helm")
        .args(ARGS)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "driftlint failed: {stderr}");
    docs(&String::from_utf8(out.stdout).unwrap())
}

/// The secret data of the object named `name`: `data` base64-decoded, then `stringData`.
fn secret(docs: &[Json], name: &str) -> BTreeMap<String, String> {
    let doc = docs
        .iter()
        .find(|d| d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no object {name}"));
    let mut out = BTreeMap::new();
    if let Some(m) = doc["data"].as_object() {
        for (k, v) in m {
            let raw = BASE64.decode(v.as_str().unwrap().as_bytes()).unwrap();
            out.insert(k.clone(), String::from_utf8(raw).unwrap());
        }
    }
    if let Some(m) = doc["stringData"].as_object() {
        for (k, v) in m {
            out.insert(k.clone(), v.as_str().unwrap().to_string());
        }
    }
    out
}

fn der(pem_text: &str) -> Vec<u8> {
    let block = ::pem::parse(pem_text).expect("a PEM block");
    assert_eq!(block.tag(), "CERTIFICATE");
    block.contents().to_vec()
}

/// What can be compared between two renderings of a certificate.
fn shape(pem_text: &str) -> String {
    let der = der(pem_text);
    let (_, c) = parse_x509_certificate(&der).expect("certificate parses");
    let mut oids: Vec<String> = c
        .extensions()
        .iter()
        .map(|e| e.oid.to_id_string())
        .collect();
    oids.sort();
    let sans = c
        .subject_alternative_name()
        .unwrap()
        .map(|s| format!("{:?}", s.value.general_names))
        .unwrap_or_default();
    let v = c.validity();
    format!(
        "subject={} issuer={} ca={} sig={} days={} exts={oids:?} sans={sans} ku={:?} eku={:?}",
        c.subject(),
        c.issuer(),
        c.is_ca(),
        c.signature_algorithm.algorithm.to_id_string(),
        (v.not_after.timestamp() - v.not_before.timestamp()) / 86_400,
        c.key_usage().unwrap().map(|k| k.value.flags),
        c.extended_key_usage()
            .unwrap()
            .map(|e| (e.value.server_auth, e.value.client_auth)),
    )
}

/// A structural summary of the chart's output, equal for two correct renderings.
fn summary(docs: &[Json]) -> Vec<String> {
    let mut out = Vec::new();
    for d in docs {
        let name = d["metadata"]["name"].as_str().unwrap_or("");
        out.push(format!("{} {name}", d["kind"]));
        for (k, v) in secret(docs, name) {
            let first = v.lines().next().unwrap_or("").to_string();
            let s = if first.contains("CERTIFICATE") {
                shape(&v)
            } else if first.starts_with("-----BEGIN") {
                first
            } else if k == "auth" || k == "hash" {
                v.rsplit_once('$')
                    .map(|(h, _)| h.to_string())
                    .unwrap_or_default()
            } else if k == "enc" || k == "token" {
                format!(
                    "{} base64 bytes",
                    BASE64.decode(v.as_bytes()).unwrap().len()
                )
            } else {
                v
            };
            out.push(format!("  {k}: {s}"));
        }
    }
    out
}

#[test]
fn renders_crypto_functions() {
    let docs = driftlint_output();
    assert_eq!(docs.len(), 2);
    let tls = secret(&docs, "rel-tls");
    assert!(tls["ca.crt"].starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(tls["tls.key"].starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    let (ca_der, leaf_der) = (der(&tls["ca.crt"]), der(&tls["tls.crt"]));
    let (_, ca) = parse_x509_certificate(&ca_der).unwrap();
    let (_, leaf) = parse_x509_certificate(&leaf_der).unwrap();
    assert!(ca.is_ca() && !leaf.is_ca());
    assert_eq!(leaf.subject().to_string(), "CN=rel.ns.svc");
    assert_eq!(leaf.issuer().to_string(), "CN=driftlint-ca");
    assert!(leaf.verify_signature(Some(ca.public_key())).is_ok());
    let v = leaf.validity();
    assert_eq!(
        v.not_after.timestamp() - v.not_before.timestamp(),
        90 * 86_400
    );

    let auth = secret(&docs, "rel-auth");
    assert_eq!(auth["site"], "ZedaFaxcZaso9*");
    assert_eq!(auth["dec"], "hello from helm");
    let (user, hash) = auth["auth"].split_once(':').unwrap();
    assert_eq!(user, "admin");
    assert!(bcrypt::verify("s3cret", hash).unwrap());
    assert!(bcrypt::verify("s3cret", &auth["hash"]).unwrap());
    assert_eq!(BASE64.decode(auth["token"].as_bytes()).unwrap().len(), 32);
    assert!(auth["self.key"].starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
    assert!(
        shape(&auth["self.crt"]).contains("sig=1.2.840.10045.4.3.2"),
        "ECDSA-SHA256"
    );
}

#[test]
fn matches_helm_structure() {
    let helm = std::env::var("DRIFTLINT_REFERENCE_HELM").unwrap_or_else(|_| DEFAULT_HELM.into());
    if !Path::new(&helm).exists() {
        eprintln!("skipped: {helm} is not installed (shared/tools/install-reference-tools)");
        return;
    }
    let out = std::process::Command::new(&helm)
        .args(ARGS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let helm = docs(&String::from_utf8(out.stdout).unwrap());
    let ours = summary(&driftlint_output());
    eprintln!("{}", ours.join("\n"));
    assert_eq!(ours, summary(&helm));
}

/// Keys driftlint generates are read by helm, which re-encodes them to the same bytes (so
/// the PEM formats are Go's), and helm's CA can sign with driftlint's certificate functions.
#[test]
fn helm_reads_driftlint_keys() {
    let helm = std::env::var("DRIFTLINT_REFERENCE_HELM").unwrap_or_else(|_| DEFAULT_HELM.into());
    if !Path::new(&helm).exists() {
        eprintln!("skipped: {helm} is not installed (shared/tools/install-reference-tools)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("keys");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: keys\nversion: 0.1.0\n",
    )
    .unwrap();
    let gen = "rsa: {{ genPrivateKey \"rsa\" | quote }}\necdsa: {{ genPrivateKey \"ecdsa\" | quote }}\ned25519: {{ genPrivateKey \"ed25519\" | quote }}\ndsa: {{ genPrivateKey \"dsa\" | quote }}\n";
    std::fs::write(chart.join("templates/k.yaml"), gen).unwrap();
    let out = Command::cargo_bin("driftlint")
        .unwrap()
        .current_dir(dir.path())
        .args(["helm", "template", "r", "keys"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys = String::from_utf8(out.stdout).unwrap();
    std::fs::write(dir.path().join("keys.yaml"), &keys).unwrap();
    let check = concat!(
        "{{- range $n, $k := .Values }}\n",
        "{{ $n }}: {{ if eq $n \"dsa\" }}{{ (buildCustomCert ((genCA \"x\" 1).Cert | b64enc) ($k | b64enc)).Key | eq $k }}",
        "{{ else }}{{ (genSelfSignedCertWithKey \"x\" nil nil 1 $k).Key | eq $k }}{{ end }}\n",
        "{{- end }}\n"
    );
    std::fs::write(chart.join("templates/k.yaml"), check).unwrap();
    let out = std::process::Command::new(&helm)
        .args(["template", "r"])
        .arg(&chart)
        .arg("-f")
        .arg(dir.path().join("keys.yaml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for n in ["dsa", "ecdsa", "ed25519", "rsa"] {
        assert!(text.contains(&format!("{n}: true")), "{n}: {text}");
    }
}
