//! Sprig v3's key functions (`crypto.go`), plus the private keys the certificate functions in
//! [`super::crypto_cert`] sign with; `derivePassword`, `encryptAES`, `decryptAES`, `bcrypt`
//! and `htpasswd` live in [`super::crypto_secret`].
//!
//! - `genPrivateKey TYPE` → PEM text of a new key: `""`/`"rsa"` RSA 4096 (PKCS#1
//!   `RSA PRIVATE KEY`), `"ecdsa"` P-256 (SEC 1 `EC PRIVATE KEY` with the named curve, as
//!   Go's `MarshalECPrivateKey`), `"dsa"` L2048N256 (OpenSSL's `DSA PRIVATE KEY` sequence,
//!   Sprig's `DSAKeyFormat`), `"ed25519"` (PKCS#8 v1 `PRIVATE KEY`, 48 bytes). Another type
//!   yields the text `Unknown type TYPE`, as Sprig.
//! - `randBytes N` → standard base64 of N random bytes; a negative N is an error (Go
//!   panics), more than 64 MiB too (Go would try).
//! - `getHostByName NAME` → always an error: driftlint never touches the network while
//!   rendering (Helm resolves the name).
//!
//! Non-deterministic by design, as in Helm: keys, serial numbers, salts, IVs and
//! `randBytes` draw from the operating system's CSPRNG at every call, also when
//! [`FuncOptions::random_seed`] is set (a seeded key would be a known key).

use data_encoding::BASE64;
use rand_core::{OsRng, RngCore};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, PrivateKeyInfo};
use sec1::der::Encode;

use super::{f, iarg, sarg, FuncOptions, A, I, S};
use crate::{FuncMap, Function};

/// OID 1.3.101.112 (Ed25519), dotted.
const ED25519_OID: &str = "1.3.101.112";
/// PKCS#8 v1 prefix of an Ed25519 key, as Go's `MarshalPKCS8PrivateKey` writes it
/// (RFC 8410 §7): the 32-byte seed follows.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A private key of one of the kinds Sprig generates or parses.
pub(super) enum PrivKey {
    /// RSA (Sprig: 4096 bits from `genPrivateKey`, 2048 for certificates).
    Rsa(Box<rsa::RsaPrivateKey>),
    /// ECDSA on P-256 (`genPrivateKey "ecdsa"`).
    P256(p256::SecretKey),
    /// ECDSA on P-384 (only from a given key).
    P384(p384::SecretKey),
    /// Ed25519: the 32-byte seed.
    Ed25519([u8; 32]),
    /// DSA: Go can hold such a key but cannot sign certificates with it.
    Dsa(Box<dsa::SigningKey>),
}

/// `size` random bytes from the OS CSPRNG.
pub(super) fn random_bytes(size: usize) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; size];
    OsRng
        .try_fill_bytes(&mut buf)
        .map_err(|e| format!("reading random bytes: {e}"))?;
    Ok(buf)
}

impl PrivKey {
    /// A new RSA key of `bits` bits (Sprig: 4096 for `genPrivateKey`, 2048 for certs).
    pub(super) fn new_rsa(bits: usize) -> Result<Self, String> {
        rsa::RsaPrivateKey::new(&mut OsRng, bits)
            .map(|k| PrivKey::Rsa(Box::new(k)))
            .map_err(|e| format!("failed to generate private key: {e}"))
    }

    /// A new key of Sprig's `genPrivateKey` type name (`""`/`rsa`, `dsa`, `ecdsa`,
    /// `ed25519`); `Ok(None)` for an unknown name.
    fn generate(typ: &str) -> Result<Option<Self>, String> {
        Ok(Some(match typ {
            "" | "rsa" => Self::new_rsa(4096)?,
            "dsa" => {
                let params = dsa::Components::generate(&mut OsRng, dsa::KeySize::DSA_2048_256);
                PrivKey::Dsa(Box::new(dsa::SigningKey::generate(&mut OsRng, params)))
            }
            "ecdsa" => PrivKey::P256(p256::SecretKey::random(&mut OsRng)),
            "ed25519" => {
                let seed = random_bytes(32)?;
                let mut k = [0u8; 32];
                k.copy_from_slice(&seed);
                PrivKey::Ed25519(k)
            }
            _ => return Ok(None),
        }))
    }

    /// The PEM block Sprig's `pemBlockForKey` writes for this key.
    pub(super) fn to_pem(&self) -> Result<String, String> {
        let (tag, der) = match self {
            PrivKey::Rsa(k) => (
                "RSA PRIVATE KEY",
                k.to_pkcs1_der()
                    .map_err(|e| e.to_string())?
                    .as_bytes()
                    .to_vec(),
            ),
            PrivKey::P256(k) => (
                "EC PRIVATE KEY",
                sec1_der(&k.to_bytes(), &k.public_key(), P256_OID)?,
            ),
            PrivKey::P384(k) => (
                "EC PRIVATE KEY",
                sec1_der(&k.to_bytes(), &k.public_key(), P384_OID)?,
            ),
            PrivKey::Ed25519(seed) => ("PRIVATE KEY", ed25519_pkcs8(seed)),
            PrivKey::Dsa(k) => ("DSA PRIVATE KEY", dsa_der(k)),
        };
        Ok(pem_encode(tag, der))
    }

    /// PKCS#8 DER for signing with ring (through rcgen); DSA cannot sign, as in Go's
    /// `x509.CreateCertificate`.
    pub(super) fn to_pkcs8(&self) -> Result<Vec<u8>, String> {
        let doc = match self {
            PrivKey::Rsa(k) => k.to_pkcs8_der(),
            PrivKey::P256(k) => k.to_pkcs8_der(),
            PrivKey::P384(k) => k.to_pkcs8_der(),
            PrivKey::Ed25519(seed) => return Ok(ed25519_pkcs8(seed)),
            PrivKey::Dsa(_) => {
                return Err("x509: certificate private key does not implement crypto.Signer".into())
            }
        };
        doc.map(|d| d.as_bytes().to_vec())
            .map_err(|e| e.to_string())
    }

    /// Parses the first PEM block of `text` as Sprig's `parsePrivateKeyPEM`: `PRIVATE KEY`
    /// (PKCS#8: RSA, ECDSA P-256/P-384, Ed25519), `RSA PRIVATE KEY` (PKCS#1), `EC PRIVATE
    /// KEY` (SEC 1) and `DSA PRIVATE KEY` (OpenSSL). Other curves (P-224, P-521) are
    /// refused: ring cannot sign with them.
    pub(super) fn from_pem(text: &str) -> Result<Self, String> {
        let block = pem_decode(text).ok_or("no PEM data in input")?;
        let der = block.contents();
        let tag = block.tag();
        if tag == "PRIVATE KEY" {
            return parse_pkcs8(der).map_err(|e| format!("decoding PEM as PKCS#8: {e}"));
        }
        match tag.strip_suffix(" PRIVATE KEY") {
            Some("RSA") => rsa::RsaPrivateKey::from_pkcs1_der(der)
                .map(|k| PrivKey::Rsa(Box::new(k)))
                .map_err(|e| format!("parsing RSA private key from PEM: {e}")),
            Some("EC") => p256::SecretKey::from_sec1_der(der)
                .map(PrivKey::P256)
                .or_else(|_| p384::SecretKey::from_sec1_der(der).map(PrivKey::P384))
                .map_err(|e| {
                    format!(
                        "parsing EC private key from PEM: {e} (driftlint supports P-256 and P-384)"
                    )
                }),
            Some("DSA") => parse_dsa(der)
                .map(|k| PrivKey::Dsa(Box::new(k)))
                .map_err(|e| format!("parsing DSA private key from PEM: {e}")),
            Some(_) => Err(format!("invalid private key type {tag}")),
            None => Err(format!("no private key data in PEM block of type {tag}")),
        }
    }
}

fn parse_pkcs8(der: &[u8]) -> Result<PrivKey, String> {
    let info = PrivateKeyInfo::try_from(der).map_err(|e| e.to_string())?;
    let oid = info.algorithm.oid.to_string();
    match oid.as_str() {
        "1.2.840.113549.1.1.1" => rsa::RsaPrivateKey::from_pkcs8_der(der)
            .map(|k| PrivKey::Rsa(Box::new(k)))
            .map_err(|e| e.to_string()),
        "1.2.840.10045.2.1" => p256::SecretKey::from_pkcs8_der(der)
            .map(PrivKey::P256)
            .or_else(|_| p384::SecretKey::from_pkcs8_der(der).map(PrivKey::P384))
            .map_err(|e| format!("{e} (driftlint supports P-256 and P-384)")),
        ED25519_OID => match info.private_key {
            [0x04, 0x20, seed @ ..] if seed.len() == 32 => {
                let mut k = [0u8; 32];
                k.copy_from_slice(seed);
                Ok(PrivKey::Ed25519(k))
            }
            _ => Err("x509: invalid Ed25519 private key".into()),
        },
        _ => Err(format!(
            "x509: PKCS#8 wrapping contained private key with unknown algorithm: {oid}"
        )),
    }
}

const P256_OID: &str = "1.2.840.10045.3.1.7";
const P384_OID: &str = "1.3.132.0.34";

/// SEC 1 `ECPrivateKey` with the named curve and the public key, as Go's
/// `MarshalECPrivateKey` (RustCrypto's own encoder leaves the curve out, which Go rejects).
fn sec1_der<C>(
    secret: &[u8],
    public: &p256::elliptic_curve::PublicKey<C>,
    curve: &str,
) -> Result<Vec<u8>, String>
where
    C: p256::elliptic_curve::CurveArithmetic,
    p256::elliptic_curve::AffinePoint<C>: p256::elliptic_curve::sec1::FromEncodedPoint<C>
        + p256::elliptic_curve::sec1::ToEncodedPoint<C>,
    p256::elliptic_curve::FieldBytesSize<C>: p256::elliptic_curve::sec1::ModulusSize,
{
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let point = public.to_encoded_point(false);
    let oid = sec1::der::asn1::ObjectIdentifier::new(curve).map_err(|e| e.to_string())?;
    sec1::EcPrivateKey {
        private_key: secret,
        parameters: Some(sec1::EcParameters::NamedCurve(oid)),
        public_key: Some(point.as_bytes()),
    }
    .to_der()
    .map_err(|e| e.to_string())
}

fn ed25519_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut out = ED25519_PKCS8_PREFIX.to_vec();
    out.extend_from_slice(seed);
    out
}

/// OpenSSL's DSA private key: `SEQUENCE { version 0, p, q, g, y, x }` (Sprig's
/// `DSAKeyFormat`).
fn dsa_der(k: &dsa::SigningKey) -> Vec<u8> {
    let vk = k.verifying_key();
    let c = vk.components();
    let ints = [
        vec![0u8],
        c.p().to_bytes_be(),
        c.q().to_bytes_be(),
        c.g().to_bytes_be(),
        vk.y().to_bytes_be(),
        k.x().to_bytes_be(),
    ];
    let mut body = Vec::new();
    for i in ints {
        let mut content = i;
        if content.first().is_some_and(|b| b & 0x80 != 0) {
            content.insert(0, 0);
        }
        der_tlv(&mut body, 0x02, &content);
    }
    let mut out = Vec::new();
    der_tlv(&mut out, 0x30, &body);
    out
}

fn der_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
}

/// Reads a DER TLV at the start of `input`: (tag, content, rest).
fn der_read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&len0, rest) = rest.split_first()?;
    let (len, rest) = if len0 < 0x80 {
        (usize::from(len0), rest)
    } else {
        let k = usize::from(len0 & 0x7f);
        if k == 0 || k > 4 || rest.len() < k {
            return None;
        }
        let (lb, rest) = rest.split_at(k);
        (
            lb.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b)),
            rest,
        )
    };
    if rest.len() < len {
        return None;
    }
    let (content, rest) = rest.split_at(len);
    Some((tag, content, rest))
}

fn parse_dsa(der: &[u8]) -> Result<dsa::SigningKey, String> {
    let bad = || "asn1: structure error: not a DSA key sequence".to_string();
    let (tag, mut body, _) = der_read(der).ok_or_else(bad)?;
    if tag != 0x30 {
        return Err(bad());
    }
    let mut ints = Vec::new();
    while !body.is_empty() {
        let (t, content, rest) = der_read(body).ok_or_else(bad)?;
        if t != 0x02 {
            return Err(bad());
        }
        ints.push(rsa::BigUint::from_bytes_be(content));
        body = rest;
    }
    let [_, p, q, g, y, x]: [rsa::BigUint; 6] = ints.try_into().map_err(|_| bad())?;
    let comps = dsa::Components::from_components(p, q, g).map_err(|e| e.to_string())?;
    let vk = dsa::VerifyingKey::from_components(comps, y).map_err(|e| e.to_string())?;
    dsa::SigningKey::from_components(vk, x).map_err(|e| e.to_string())
}

/// Go's `pem.EncodeToMemory`: 64-column base64 lines, `\n` line ends.
pub(super) fn pem_encode(tag: &str, der: Vec<u8>) -> String {
    let cfg = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(tag, der), cfg)
}

/// The first PEM block in `text`, as Go's `pem.Decode` (text before it is skipped).
pub(super) fn pem_decode(text: &str) -> Option<pem::Pem> {
    let start = text.find("-----BEGIN ")?;
    pem::parse(text.get(start..)?).ok()
}

/// Largest `randBytes` count: Go would try to allocate any size; driftlint refuses rather
/// than abort the process on a chart's typo.
const MAX_RAND_BYTES: usize = 64 << 20;

/// Registers `genPrivateKey`, `randBytes`, `getHostByName` (always an error: no network
/// while rendering) and the certificate and secret families.
pub(super) fn register(m: &mut FuncMap, opts: &FuncOptions) {
    m.insert(
        "genPrivateKey",
        f(&[S], |a| {
            let typ = sarg(a, 0);
            match PrivKey::generate(typ)? {
                Some(k) => Ok(k.to_pem()?.into()),
                None => Ok(format!("Unknown type {typ}").into()),
            }
        }),
    );
    m.insert(
        "randBytes",
        f(&[I], |a| {
            let n = usize::try_from(iarg(a, 0))
                .map_err(|_| "runtime error: makeslice: len out of range")?;
            if n > MAX_RAND_BYTES {
                return Err(format!(
                    "randBytes {n}: more than driftlint's limit of {MAX_RAND_BYTES} bytes"
                ));
            }
            Ok(BASE64.encode(&random_bytes(n)?).into())
        }),
    );
    m.insert(
        "getHostByName",
        Function::new(&[A], None, |_, _| {
            Err("getHostByName is not supported by driftlint: it never resolves host names or touches the network while rendering".into())
        }),
    );
    super::crypto_cert::register(m, opts);
    super::crypto_secret::register(m);
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{err, r};
    use super::*;

    #[test]
    fn gen_private_key_pem_types() {
        for (typ, tag) in [("ecdsa", "EC PRIVATE KEY"), ("ed25519", "PRIVATE KEY")] {
            let out = r(&format!("{{{{ genPrivateKey {typ:?} }}}}"));
            let block = pem_decode(&out).unwrap();
            assert_eq!(block.tag(), tag);
            assert!(out.starts_with(&format!("-----BEGIN {tag}-----\n")));
            assert!(out.ends_with(&format!("-----END {tag}-----\n")));
            assert!(out.lines().all(|l| l.len() <= 64));
            assert!(PrivKey::from_pem(&out).is_ok(), "{typ} parses back");
        }
        assert_eq!(r(r#"{{ genPrivateKey "bad" }}"#), "Unknown type bad");
        let a = r(r#"{{ genPrivateKey "ed25519" }}"#);
        assert_ne!(a, r(r#"{{ genPrivateKey "ed25519" }}"#));
    }

    #[test]
    fn rsa_default_is_4096_bits_pkcs1() {
        use rsa::traits::PublicKeyParts;
        let out = r(r#"{{ genPrivateKey "" }}"#);
        assert!(out.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        let PrivKey::Rsa(k) = PrivKey::from_pem(&out).unwrap() else {
            panic!("not RSA: {out}")
        };
        assert_eq!(k.size() * 8, 4096);
    }

    #[test]
    fn ec_key_carries_its_curve_as_go_writes_it() {
        let out = r(r#"{{ genPrivateKey "ecdsa" }}"#);
        let der = pem_decode(&out).unwrap().contents().to_vec();
        let parsed = sec1::EcPrivateKey::try_from(der.as_slice()).unwrap();
        let oid = parsed.parameters.and_then(|p| p.named_curve()).unwrap();
        assert_eq!(oid.to_string(), P256_OID);
        assert!(parsed.public_key.is_some());
    }

    #[test]
    fn ed25519_is_pkcs8_v1_of_48_bytes() {
        let out = r(r#"{{ genPrivateKey "ed25519" }}"#);
        let der = pem_decode(&out).unwrap().contents().to_vec();
        assert_eq!(der.len(), 48);
        assert_eq!(der[..16], ED25519_PKCS8_PREFIX);
    }

    #[test]
    fn rsa_pkcs1_and_pkcs8_inputs_parse() {
        // 2048 bits keeps debug test runs short; `genPrivateKey "rsa"` itself makes 4096.
        let k = PrivKey::new_rsa(2048).unwrap();
        let pem1 = k.to_pem().unwrap();
        assert!(pem1.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        let pem8 = pem_encode("PRIVATE KEY", k.to_pkcs8().unwrap());
        let back = PrivKey::from_pem(&format!("junk before\n{pem8}")).unwrap();
        assert_eq!(
            back.to_pem().unwrap(),
            pem1,
            "PKCS#8 input is re-encoded as PKCS#1"
        );
    }

    #[test]
    fn dsa_keys_round_trip_but_cannot_sign() {
        let k = PrivKey::generate("dsa").unwrap().unwrap();
        let pem = k.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN DSA PRIVATE KEY-----\n"));
        let back = PrivKey::from_pem(&pem).unwrap();
        assert_eq!(back.to_pem().unwrap(), pem);
        assert!(back.to_pkcs8().err().unwrap().contains("crypto.Signer"));
    }

    #[test]
    fn rand_bytes_and_get_host_by_name() {
        let out = r("{{ randBytes 24 }}");
        assert_eq!(BASE64.decode(out.as_bytes()).unwrap().len(), 24);
        assert_ne!(out, r("{{ randBytes 24 }}"));
        assert_eq!(r("{{ randBytes 0 }}"), "");
        assert!(err("{{ randBytes -1 }}").contains("out of range"));
        assert!(err("{{ randBytes 1000000000000 }}").contains("limit"));
        let e = err(r#"{{ getHostByName "example.com" }}"#);
        assert!(e.contains("never resolves host names"), "{e}");
    }

    #[test]
    fn key_parse_errors_name_the_problem() {
        assert!(PrivKey::from_pem("nothing")
            .err()
            .unwrap()
            .contains("no PEM data"));
        let cert_block = pem_encode("CERTIFICATE", vec![1, 2, 3]);
        assert!(PrivKey::from_pem(&cert_block)
            .err()
            .unwrap()
            .contains("no private key data in PEM block of type CERTIFICATE"));
        let bad = pem_encode("RSA PRIVATE KEY", vec![0x30, 0x00]);
        assert!(PrivKey::from_pem(&bad)
            .err()
            .unwrap()
            .contains("parsing RSA private key"));
    }
}
