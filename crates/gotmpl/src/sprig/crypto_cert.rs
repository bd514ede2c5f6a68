//! Sprig v3's certificate functions (`crypto.go`): `genCA genCAWithKey genSelfSignedCert
//! genSelfSignedCertWithKey genSignedCert genSignedCertWithKey buildCustomCert`.
//!
//! - `genCA CN DAYS` / `genCAWithKey CN DAYS KEY`: a self-signed CA;
//! - `genSelfSignedCert CN IPS DNSNAMES DAYS` / `genSelfSignedCertWithKey … KEY`;
//! - `genSignedCert CN IPS DNSNAMES DAYS CA` / `genSignedCertWithKey … CA KEY`: signed by
//!   `CA`, a certificate these functions returned;
//! - `buildCustomCert B64CERT B64KEY`: checks that the base64 PEM certificate and key parse
//!   and returns them as a certificate usable as `CA`.
//!
//! `IPS` and `DNSNAMES` are lists of strings (or nil); `KEY` is PEM text (`genPrivateKey`'s
//! or any RSA, P-256, P-384 or Ed25519 key; a DSA key fails as in Go). Without `KEY` a new
//! RSA 2048 key is made. Each returns a [`Certificate`] (Sprig's `certificate` struct) whose
//! `.Cert` and `.Key` are PEM text (the key re-encoded as `genPrivateKey` writes it). Certificates are built as Sprig's `getBaseCertTemplate`: a random 128-bit
//! serial, subject `CN=<cn>`, validity from now to now + `days` × 24 h, key usages
//! digitalSignature + keyEncipherment (+ keyCertSign for a CA), extended key usages
//! serverAuth + clientAuth, basic constraints (`CA:TRUE` without a path length for a CA,
//! a critical, empty `CA:FALSE` otherwise), the given IP and DNS subject alternative names,
//! for a CA a subject key identifier as Go ≥ 1.25 derives it (truncated SHA-256 of the public
//! key bits), for a CA-signed certificate the CA's key identifier as authority key
//! identifier. The extensions' order differs from Go's. The signature is
//! the one Go picks for the signing key: SHA-256 with RSA, ECDSA P-256/SHA-256,
//! ECDSA P-384/SHA-384, Ed25519.
//!
//! Non-deterministic by design, as in Helm: keys, serials and signatures are fresh at every
//! call. "Now" is [`FuncOptions::fixed_now`] when set, else the system clock.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use data_encoding::BASE64;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, SanType,
    SerialNumber,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::crypto::{pem_decode, random_bytes, PrivKey};
use super::{arg, iarg, sarg, FuncOptions, A, I, S};
use crate::fmt::sprint;
use crate::{FuncMap, Function, Object, Param, Value};

/// Go type name of Sprig's certificate struct.
const TYPE_NAME: &str = "sprig.certificate";

/// Sprig's `certificate` struct: fields `Cert` and `Key`, PEM text. Like a Go struct it
/// has no other fields, cannot be ranged over, and `toJson`/`toYaml` refuse it (Go would
/// marshal `{"Cert":…,"Key":…}`).
#[derive(Debug, Clone)]
pub struct Certificate {
    /// PEM `CERTIFICATE` block.
    pub cert: String,
    /// PEM private key block (see [`super::crypto`] for the formats).
    pub key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> String {
        TYPE_NAME.into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(self.cert.as_str().into()),
            "Key" => Some(self.key.as_str().into()),
            _ => None,
        }
    }
    /// Go's `%v` of a struct: `{<cert> <key>}`.
    fn format(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }
}

/// What a template asked for: subject, SANs and validity.
struct Request {
    cn: String,
    ips: Vec<IpAddr>,
    dns: Vec<String>,
    days: i64,
    now: i64,
}

fn now_secs(opts: &FuncOptions) -> i64 {
    opts.fixed_now.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    })
}

/// Sprig's `getNetIPs`: nil or a list of strings Go's `net.ParseIP` accepts.
fn ips_arg(v: &Value) -> Result<Vec<IpAddr>, String> {
    list_arg(v)?
        .iter()
        .map(|item| {
            let s = item.as_str().ok_or_else(|| {
                format!(
                    "error parsing ip: {} is not a string",
                    sprint(std::slice::from_ref(item))
                )
            })?;
            let ip: IpAddr = s.parse().map_err(|_| format!("error parsing ip: {s}"))?;
            // Go writes IPv4(-mapped) addresses as 4 bytes.
            Ok(match ip {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
                v4 => v4,
            })
        })
        .collect()
}

/// Sprig's `getAlternateDNSStrs`: nil or a list of strings.
fn dns_arg(v: &Value) -> Result<Vec<String>, String> {
    list_arg(v)?
        .iter()
        .map(|item| {
            item.as_str().map(str::to_string).ok_or_else(|| {
                format!(
                    "error processing alternate dns name: {} is not a string",
                    sprint(std::slice::from_ref(item))
                )
            })
        })
        .collect()
}

fn list_arg(v: &Value) -> Result<Vec<Value>, String> {
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::List(l) => Ok(l.as_ref().clone()),
        other => Err(format!(
            "wrong type for value; expected []interface {{}}; got {}",
            other.go_type()
        )),
    }
}

/// The CA argument of `genSignedCert`: a certificate returned by another Sprig function.
fn ca_arg(v: &Value) -> Result<Certificate, String> {
    match v {
        Value::Object(o) if o.type_name() == TYPE_NAME => {
            let get = |n| o.field(n).and_then(|v| v.as_str().map(str::to_string));
            Ok(Certificate {
                cert: get("Cert").unwrap_or_default(),
                key: get("Key").unwrap_or_default(),
            })
        }
        other => Err(format!(
            "wrong type for value; expected {TYPE_NAME}; got {}",
            other.go_type()
        )),
    }
}

/// A common name as Go's `asn1` marshals it: PrintableString when it can be, else UTF8String.
fn cn_value(cn: &str) -> DnValue {
    match rcgen::string::PrintableString::try_from(cn) {
        Ok(p) => DnValue::PrintableString(p),
        Err(_) => DnValue::Utf8String(cn.to_string()),
    }
}

fn to_time(secs: i64) -> Result<OffsetDateTime, String> {
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|_| format!("certificate validity out of range: {secs} s since the epoch"))
}

/// Sprig's `getBaseCertTemplate`, with the CA overrides of
/// `generateCertificateAuthorityWithKeyInternal` when `is_ca`.
fn params(req: &Request, is_ca: bool, key: &KeyPair) -> Result<CertificateParams, String> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn_value(&req.cn));
    p.distinguished_name = dn;
    let mut serial = random_bytes(16)?;
    serial.insert(0, 0); // unsigned: Go's serial is in [0, 2^128)
    p.serial_number = Some(SerialNumber::from_slice(&serial));
    let days_secs = req
        .days
        .checked_mul(86_400)
        .ok_or("validity in days out of range")?;
    p.not_before = to_time(req.now)?;
    p.not_after = to_time(req.now.saturating_add(days_secs))?;
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    if is_ca {
        p.key_usages.push(KeyUsagePurpose::KeyCertSign);
    }
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    if is_ca {
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // Go ≥ 1.25: RFC 7093 method 1, SHA-256 of the subjectPublicKey bits, cut to 20 bytes.
        let digest = Sha256::digest(key.public_key_raw());
        p.key_identifier_method = KeyIdMethod::PreSpecified(digest[..20].to_vec());
    } else {
        // Go writes `CA:FALSE` (an empty, critical basicConstraints) and no key identifier.
        p.is_ca = IsCa::NoCa;
        let mut bc = CustomExtension::from_oid_content(&[2, 5, 29, 19], vec![0x30, 0x00]);
        bc.set_criticality(true);
        p.custom_extensions.push(bc);
    }
    let mut sans: Vec<SanType> = Vec::new();
    for d in &req.dns {
        let name = d.clone().try_into().map_err(|_| {
            format!("error creating certificate: x509: {d:?} cannot be encoded as an IA5String")
        })?;
        sans.push(SanType::DnsName(name));
    }
    sans.extend(req.ips.iter().map(|ip| SanType::IpAddress(*ip)));
    p.subject_alt_names = sans;
    Ok(p)
}

fn key_pair(key: &PrivKey) -> Result<KeyPair, String> {
    let der = key
        .to_pkcs8()
        .map_err(|e| format!("error creating certificate: {e}"))?;
    KeyPair::try_from(der.as_slice()).map_err(|e| format!("error creating certificate: {e}"))
}

/// Sprig's `getCertAndKey` for a self-signed certificate (also a CA).
fn self_signed(req: &Request, key: PrivKey, is_ca: bool) -> Result<Certificate, String> {
    let kp = key_pair(&key)?;
    let p = params(req, is_ca, &kp)?;
    let cert = p
        .self_signed(&kp)
        .map_err(|e| format!("error creating certificate: {e}"))?;
    Ok(Certificate {
        cert: cert.pem(),
        key: key.to_pem()?,
    })
}

/// Whether Go's `CreateCertificate` writes an authority key identifier under `ca`: when
/// the CA has a subject key identifier and its subject differs from the new one (compared
/// as `CN=<cn>`, the only subject Sprig writes).
fn writes_aki(ca: &x509_parser::certificate::X509Certificate<'_>, cn: &str) -> bool {
    use x509_parser::extensions::ParsedExtension;
    let has_ski = ca.iter_extensions().any(|e| {
        matches!(
            e.parsed_extension(),
            ParsedExtension::SubjectKeyIdentifier(_)
        )
    });
    let subject = ca.subject();
    let same = subject.iter_attributes().count() == 1
        && subject
            .iter_common_name()
            .next()
            .and_then(|c| c.as_str().ok())
            == Some(cn);
    has_ski && !same
}

/// Sprig's `generateSignedCertificateWithKeyInternal`: `key`'s certificate signed by `ca`.
fn signed(req: &Request, key: PrivKey, ca: &Certificate) -> Result<Certificate, String> {
    let ca_block = pem_decode(&ca.cert).ok_or("unable to decode certificate")?;
    let (_, ca_x509) = x509_parser::parse_x509_certificate(ca_block.contents())
        .map_err(|e| format!("error parsing certificate: decodedSignerCert.Bytes: {e}"))?;
    let with_aki = writes_aki(&ca_x509, &req.cn);
    let ca_key =
        PrivKey::from_pem(&ca.key).map_err(|e| format!("error parsing private key: {e}"))?;
    let ca_kp = key_pair(&ca_key)?;
    let issuer = Issuer::from_ca_cert_der(&ca_block.contents().to_vec().into(), ca_kp)
        .map_err(|e| format!("error parsing certificate: {e}"))?;
    let kp = key_pair(&key)?;
    let mut p = params(req, false, &kp)?;
    p.use_authority_key_identifier_extension = with_aki;
    let cert = p
        .signed_by(&kp, &issuer)
        .map_err(|e| format!("error creating certificate: {e}"))?;
    Ok(Certificate {
        cert: cert.pem(),
        key: key.to_pem()?,
    })
}

/// The key of a `…WithKey` function (its last argument).
fn pem_key(a: &[Value], i: usize) -> Result<PrivKey, String> {
    PrivKey::from_pem(sarg(a, i)).map_err(|e| format!("parsing private key: {e}"))
}

/// Sprig's `buildCustomCertificate`: checks both base64 PEM inputs parse, returns them.
fn build_custom(b64cert: &str, b64key: &str) -> Result<Certificate, String> {
    let cert = BASE64
        .decode(b64cert.as_bytes())
        .map_err(|_| "unable to decode base64 certificate")?;
    let key = BASE64
        .decode(b64key.as_bytes())
        .map_err(|_| "unable to decode base64 private key")?;
    let cert = String::from_utf8(cert).map_err(|_| "unable to decode certificate")?;
    let key = String::from_utf8(key).map_err(|_| "unable to decode base64 private key")?;
    let block = pem_decode(&cert).ok_or("unable to decode certificate")?;
    x509_parser::parse_x509_certificate(block.contents())
        .map_err(|e| format!("error parsing certificate: decodedCert.Bytes: {e}"))?;
    PrivKey::from_pem(&key).map_err(|e| format!("error parsing private key: {e}"))?;
    Ok(Certificate { cert, key })
}

fn obj(c: Certificate) -> Value {
    Value::Object(Arc::new(c))
}

/// Registers a certificate function of `params` whose body gets the parsed request.
fn cert_fn(
    params: &[Param],
    now: Option<i64>,
    body: impl Fn(&[Value], Request) -> Result<Certificate, String> + Send + Sync + 'static,
) -> Function {
    let with_sans = params.len() >= 4;
    Function::new(params, None, move |_, a| {
        let opts = FuncOptions {
            fixed_now: now,
            random_seed: None,
        };
        let (ips, dns, days) = if with_sans {
            (ips_arg(arg(a, 1))?, dns_arg(arg(a, 2))?, iarg(a, 3))
        } else {
            (Vec::new(), Vec::new(), iarg(a, 1))
        };
        let req = Request {
            cn: sarg(a, 0).to_string(),
            ips,
            dns,
            days,
            now: now_secs(&opts),
        };
        body(a, req).map(obj)
    })
}

pub(super) fn register(m: &mut FuncMap, opts: &FuncOptions) {
    let now = opts.fixed_now;
    m.insert(
        "genCA",
        cert_fn(&[S, I], now, |_, r| {
            self_signed(&r, PrivKey::new_rsa(2048)?, true)
        }),
    );
    m.insert(
        "genCAWithKey",
        cert_fn(&[S, I, S], now, |a, r| {
            self_signed(&r, pem_key(a, 2)?, true)
        }),
    );
    m.insert(
        "genSelfSignedCert",
        cert_fn(&[S, A, A, I], now, |_, r| {
            self_signed(&r, PrivKey::new_rsa(2048)?, false)
        }),
    );
    m.insert(
        "genSelfSignedCertWithKey",
        cert_fn(&[S, A, A, I, S], now, |a, r| {
            self_signed(&r, pem_key(a, 4)?, false)
        }),
    );
    m.insert(
        "genSignedCert",
        cert_fn(&[S, A, A, I, A], now, |a, r| {
            let ca = ca_arg(arg(a, 4))?;
            signed(&r, PrivKey::new_rsa(2048)?, &ca)
        }),
    );
    m.insert(
        "genSignedCertWithKey",
        cert_fn(&[S, A, A, I, A, S], now, |a, r| {
            let ca = ca_arg(arg(a, 4))?;
            signed(&r, pem_key(a, 5)?, &ca)
        }),
    );
    m.insert(
        "buildCustomCert",
        Function::new(&[S, S], None, |_, a| {
            build_custom(sarg(a, 0), sarg(a, 1)).map(obj)
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{err, r};
    use super::*;
    use x509_parser::prelude::*;

    /// Parses the PEM certificate at the start of `text`.
    fn parse(text: &str) -> (Vec<u8>, String) {
        let block = pem_decode(text).expect("a PEM block");
        assert_eq!(block.tag(), "CERTIFICATE");
        (block.contents().to_vec(), text.to_string())
    }

    fn ski(c: &X509Certificate<'_>) -> Option<Vec<u8>> {
        c.iter_extensions()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
                _ => None,
            })
    }

    fn cn(c: &X509Certificate<'_>) -> String {
        let cn = c.subject().iter_common_name().next().unwrap();
        cn.as_str().unwrap().to_string()
    }

    #[test]
    fn gen_ca_is_a_ca_with_cn_and_validity() {
        let out = r(r#"{{ $ca := genCA "foo-ca" 365 }}{{ $ca.Cert }}{{ $ca.Key }}"#);
        assert!(out.starts_with("-----BEGIN CERTIFICATE-----\n"), "{out}");
        assert!(out.contains("-----END CERTIFICATE-----\n-----BEGIN RSA PRIVATE KEY-----\n"));
        let (der, _) = parse(&out);
        let (_, c) = parse_x509_certificate(&der).unwrap();
        assert_eq!(cn(&c), "foo-ca");
        assert!(c.is_ca());
        let bc = c.basic_constraints().unwrap().unwrap().value;
        assert!(bc.ca && bc.path_len_constraint.is_none());
        let ku = c.key_usage().unwrap().unwrap().value;
        assert!(ku.key_cert_sign() && ku.digital_signature() && ku.key_encipherment());
        let eku = c.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth && eku.client_auth);
        assert_eq!(c.validity().not_before.timestamp(), 1_700_000_000);
        assert_eq!(
            c.validity().not_after.timestamp(),
            1_700_000_000 + 365 * 86_400
        );
        assert!(c.tbs_certificate.serial.bits() <= 128);
        assert_eq!(c.subject().as_raw(), c.issuer().as_raw());
        assert!(c.verify_signature(None).is_ok(), "self-signed");
        let ski = ski(&c).expect("a CA has a subject key identifier");
        let want = Sha256::digest(c.public_key().subject_public_key.data.as_ref());
        assert_eq!(ski, want[..20].to_vec());
    }

    #[test]
    fn self_signed_cert_has_sans_and_is_not_ca() {
        let out = r(
            r#"{{ $c := genSelfSignedCert "foo.com" (list "10.0.0.1" "::ffff:10.0.0.2") (list "bar.com" "bat.com") 30 }}{{ $c.Cert }}"#,
        );
        let (der, _) = parse(&out);
        let (_, c) = parse_x509_certificate(&der).unwrap();
        assert_eq!(cn(&c), "foo.com");
        assert!(!c.is_ca());
        let bc = c.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && !bc.value.ca);
        assert!(ski(&c).is_none(), "Go writes no key identifier for a leaf");
        let san = c.subject_alternative_name().unwrap().unwrap().value;
        let names: Vec<String> = san.general_names.iter().map(|g| format!("{g}")).collect();
        assert!(names.contains(&"DNSName(bar.com)".to_string()), "{names:?}");
        assert!(names.contains(&"DNSName(bat.com)".to_string()), "{names:?}");
        let ips: Vec<&[u8]> = san
            .general_names
            .iter()
            .filter_map(|g| match g {
                GeneralName::IPAddress(b) => Some(*b),
                _ => None,
            })
            .collect();
        assert_eq!(ips, vec![&[10u8, 0, 0, 1][..], &[10u8, 0, 0, 2][..]]);
        assert_eq!(
            c.validity().not_after.timestamp() - c.validity().not_before.timestamp(),
            30 * 86_400
        );
        assert!(c.verify_signature(None).is_ok());
    }

    #[test]
    fn signed_cert_verifies_against_the_ca() {
        let out = r(concat!(
            r#"{{ $ca := genCA "foo" 365 }}{{ $c := genSignedCert "foo.com" nil (list "bar.com") 365 $ca }}"#,
            r#"{{ $ca.Cert }}{{ $c.Cert }}"#
        ));
        let blocks = ::pem::parse_many(&out).unwrap();
        let (_, ca) = parse_x509_certificate(blocks[0].contents()).unwrap();
        let (_, c) = parse_x509_certificate(blocks[1].contents()).unwrap();
        assert_eq!(cn(&c), "foo.com");
        assert!(!c.is_ca());
        assert_eq!(c.issuer().as_raw(), ca.subject().as_raw());
        assert!(c.verify_signature(Some(ca.public_key())).is_ok());
        assert!(c.verify_signature(Some(c.public_key())).is_err());
        let aki = c
            .iter_extensions()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    a.key_identifier.as_ref().map(|k| k.0.to_vec())
                }
                _ => None,
            });
        assert_eq!(aki, ski(&ca));
    }

    #[test]
    fn no_authority_key_id_under_a_ca_of_the_same_name() {
        let out =
            r(r#"{{ $ca := genCA "same" 1 }}{{ (genSignedCert "same" nil nil 1 $ca).Cert }}"#);
        let (der, _) = parse(&out);
        let (_, c) = parse_x509_certificate(&der).unwrap();
        let has_aki = c.iter_extensions().any(|e| {
            matches!(
                e.parsed_extension(),
                ParsedExtension::AuthorityKeyIdentifier(_)
            )
        });
        assert!(!has_aki, "Go writes none when issuer and subject are equal");
    }

    #[test]
    fn with_key_variants_use_the_given_key() {
        let out = r(concat!(
            r#"{{ $k := genPrivateKey "ecdsa" }}{{ $ca := genCAWithKey "ca" 10 $k }}"#,
            r#"{{ $ek := genPrivateKey "ed25519" }}"#,
            r#"{{ $c := genSignedCertWithKey "leaf" (list "127.0.0.1") nil 10 $ca $ek }}"#,
            r#"{{ $s := genSelfSignedCertWithKey "self" nil nil 10 $k }}"#,
            r#"{{ $ca.Cert }}{{ $c.Cert }}{{ $s.Cert }}{{ $ca.Key }}{{ $c.Key }}{{ if eq $ca.Key $k }}same{{ end }}"#
        ));
        let blocks = ::pem::parse_many(&out).unwrap();
        let tags: Vec<&str> = blocks.iter().map(|b| b.tag()).collect();
        assert_eq!(
            tags,
            [
                "CERTIFICATE",
                "CERTIFICATE",
                "CERTIFICATE",
                "EC PRIVATE KEY",
                "PRIVATE KEY"
            ]
        );
        assert!(
            out.ends_with("same"),
            "the CA key is the given key, re-encoded as Sprig"
        );
        let (_, ca) = parse_x509_certificate(blocks[0].contents()).unwrap();
        let (_, c) = parse_x509_certificate(blocks[1].contents()).unwrap();
        let (_, s) = parse_x509_certificate(blocks[2].contents()).unwrap();
        assert!(c.verify_signature(Some(ca.public_key())).is_ok());
        assert_eq!(ca.public_key().raw, s.public_key().raw);
        assert!(s.verify_signature(None).is_ok());
    }

    #[test]
    fn build_custom_cert_round_trips_and_signs() {
        let out = r(concat!(
            r#"{{ $ca := genCA "custom" 365 }}"#,
            r#"{{ $b := buildCustomCert ($ca.Cert | b64enc) ($ca.Key | b64enc) }}"#,
            r#"{{ if and (eq $b.Cert $ca.Cert) (eq $b.Key $ca.Key) }}ok{{ end }}"#,
            r#"{{ $c := genSignedCert "x" nil nil 1 $b }}{{ $ca.Cert }}{{ $c.Cert }}"#
        ));
        assert!(out.starts_with("ok"), "{out}");
        let blocks = ::pem::parse_many(&out[2..]).unwrap();
        let (_, ca) = parse_x509_certificate(blocks[0].contents()).unwrap();
        let (_, c) = parse_x509_certificate(blocks[1].contents()).unwrap();
        assert!(c.verify_signature(Some(ca.public_key())).is_ok());
        let bad = err(r#"{{ buildCustomCert ("fail" | b64enc) ("x" | b64enc) }}"#);
        assert!(bad.contains("unable to decode certificate"), "{bad}");
    }

    #[test]
    fn common_name_string_type_as_go() {
        // Go (and helm) write PrintableString when every byte allows it, else UTF8String.
        assert!(matches!(
            cn_value("plain-name 1"),
            DnValue::PrintableString(_)
        ));
        for cn in ["*.example.com", "a&b", "bücher"] {
            assert!(matches!(cn_value(cn), DnValue::Utf8String(_)), "{cn}");
        }
    }

    #[test]
    fn bad_arguments_fail_loudly() {
        let e = err(r#"{{ genSelfSignedCert "x" (list "nope") nil 1 }}"#);
        assert!(e.contains("error parsing ip: nope"), "{e}");
        let e = err(r#"{{ genSignedCert "x" nil nil 1 (dict "Cert" "a" "Key" "b") }}"#);
        assert!(e.contains("expected sprig.certificate"), "{e}");
        let e = err(r#"{{ genCAWithKey "x" 1 "not a key" }}"#);
        assert!(e.contains("no PEM data"), "{e}");
        let e = err(r#"{{ genSelfSignedCert "x" nil (list "bücher.de") 1 }}"#);
        assert!(e.contains("IA5String"), "{e}");
        let e = err(r#"{{ $ca := genCA "x" 1 }}{{ $ca.Nope }}"#);
        assert!(e.contains("Nope"), "{e}");
    }
}
