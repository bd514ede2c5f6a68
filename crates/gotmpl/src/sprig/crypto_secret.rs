//! Sprig v3's password and symmetric-encryption functions (`crypto.go`): `derivePassword
//! encryptAES decryptAES bcrypt htpasswd`.
//!
//! `derivePassword` and `decryptAES` are deterministic. `encryptAES` (random IV), `bcrypt`
//! and `htpasswd` (random salt) are non-deterministic by design, as in Helm, also when
//! [`FuncOptions::random_seed`](super::FuncOptions::random_seed) is set.

use aes::cipher::block_padding::{NoPadding, Pkcs7};
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use data_encoding::BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::crypto::random_bytes;
use super::{f, sarg, S};
use crate::{FuncMap, Function, Param, Value};

/// Salt prefix of the Master Password algorithm (v3), as Sprig's `masterPasswordSeed`.
const MP_SEED: &[u8] = b"com.lyndir.masterpassword";

/// Master Password templates per password type, as Sprig's `passwordTypeTemplates`.
fn templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

/// The characters a template letter stands for (Sprig's `templateCharacters`).
fn class(c: u8) -> &'static [u8] {
    match c {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// `scope ‖ u32be(len(text)) ‖ text` (lengths in bytes).
fn with_len(buf: &mut Vec<u8>, text: &str) {
    buf.extend_from_slice(&(text.len() as u32).to_be_bytes());
    buf.extend_from_slice(text.as_bytes());
}

/// The Master Password algorithm as Sprig's `derivePassword`: the master key is
/// scrypt(password, seed ‖ user, N=32768, r=8, p=2, 64 bytes), the site seed
/// HMAC-SHA256(key, seed ‖ site ‖ u32be(counter)); its first byte picks the template, the
/// next ones the characters. An unknown type yields Sprig's message as the output.
pub fn derive_password(
    counter: u32,
    kind: &str,
    password: &str,
    user: &str,
    site: &str,
) -> Result<String, String> {
    let Some(temps) = templates(kind) else {
        return Ok(format!("cannot find password template {kind}"));
    };
    let mut salt = MP_SEED.to_vec();
    with_len(&mut salt, user);
    let params = scrypt::Params::new(15, 8, 2, 64).map_err(|e| e.to_string())?;
    let mut key = [0u8; 64];
    scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key)
        .map_err(|e| format!("failed to derive password: {e}"))?;
    let mut msg = MP_SEED.to_vec();
    with_len(&mut msg, site);
    msg.extend_from_slice(&counter.to_be_bytes());
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(&msg);
    let seed = mac.finalize().into_bytes();
    let pick = |i: usize| usize::from(seed.get(i).copied().unwrap_or(0));
    let temp = temps.get(pick(0) % temps.len()).copied().unwrap_or("");
    let out = temp.bytes().enumerate().map(|(i, t)| {
        let chars = class(t);
        char::from(
            chars
                .get(pick(i + 1) % chars.len())
                .copied()
                .unwrap_or(b'a'),
        )
    });
    Ok(out.collect())
}

/// Sprig's AES key: the password's bytes in a zeroed 32-byte buffer (longer ones cut).
fn aes_key(password: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    let p = password.as_bytes();
    let n = p.len().min(32);
    key[..n].copy_from_slice(&p[..n]);
    key
}

type Enc = cbc::Encryptor<aes::Aes256>;
type Dec = cbc::Decryptor<aes::Aes256>;

/// Sprig's `encryptAES`: AES-256-CBC, PKCS#7 padding, a random IV before the ciphertext,
/// standard base64. Empty text gives empty output.
pub fn encrypt_aes(password: &str, text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Ok(String::new());
    }
    let iv = random_bytes(16)?;
    encrypt_with_iv(password, text, &iv)
}

fn encrypt_with_iv(password: &str, text: &str, iv: &[u8]) -> Result<String, String> {
    let enc = Enc::new_from_slices(&aes_key(password), iv).map_err(|e| e.to_string())?;
    let mut out = iv.to_vec();
    out.extend(enc.encrypt_padded_vec_mut::<Pkcs7>(text.as_bytes()));
    Ok(BASE64.encode(&out))
}

/// Sprig's `decryptAES`: reads `encryptAES`'s output. Where Go would panic (input shorter
/// than two blocks, not whole blocks, a pad length beyond the text) this is an error; like
/// Go the pad bytes themselves are not checked. Text that is not UTF-8 (a wrong key) is an
/// error too, as template strings are UTF-8 here.
pub fn decrypt_aes(password: &str, b64: &str) -> Result<String, String> {
    if b64.is_empty() {
        return Ok(String::new());
    }
    let data = BASE64
        .decode(b64.as_bytes())
        .map_err(|e| format!("illegal base64 data: {e}"))?;
    if data.len() < 32 || data.len() % 16 != 0 {
        return Err(format!(
            "ciphertext of {} bytes is not an IV and whole AES blocks",
            data.len()
        ));
    }
    let (iv, body) = data.split_at(16);
    let dec = Dec::new_from_slices(&aes_key(password), iv).map_err(|e| e.to_string())?;
    let mut plain = dec
        .decrypt_padded_vec_mut::<NoPadding>(body)
        .map_err(|e| e.to_string())?;
    let pad = usize::from(plain.last().copied().unwrap_or(0));
    if pad > plain.len() {
        return Err("runtime error: slice bounds out of range (wrong key?)".into());
    }
    plain.truncate(plain.len() - pad);
    String::from_utf8(plain).map_err(|_| "decrypted text is not UTF-8 (wrong key?)".into())
}

/// Sprig's `bcrypt`: `$2a$10$…` (cost 10, Go's `DefaultCost`); failures become the output
/// text `failed to encrypt string with bcrypt: …`, as Sprig returns them.
pub fn bcrypt_hash(password: &str) -> String {
    if password.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
            .into();
    }
    match bcrypt::non_truncating_hash_with_result(password, 10) {
        Ok(h) => h.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

pub(super) fn register(m: &mut FuncMap) {
    m.insert(
        "derivePassword",
        Function::new(&[Param::Int("uint32"), S, S, S, S], None, |_, a| {
            let n = super::iarg(a, 0);
            let counter = u32::try_from(n).map_err(|_| format!("expected uint32; found {n}"))?;
            derive_password(counter, sarg(a, 1), sarg(a, 2), sarg(a, 3), sarg(a, 4))
                .map(Value::from)
        }),
    );
    m.insert(
        "encryptAES",
        f(&[S, S], |a| {
            encrypt_aes(sarg(a, 0), sarg(a, 1)).map(Value::from)
        }),
    );
    m.insert(
        "decryptAES",
        f(&[S, S], |a| {
            decrypt_aes(sarg(a, 0), sarg(a, 1)).map(Value::from)
        }),
    );
    m.insert("bcrypt", f(&[S], |a| Ok(bcrypt_hash(sarg(a, 0)).into())));
    m.insert(
        "htpasswd",
        f(&[S, S], |a| {
            let user = sarg(a, 0);
            if user.contains(':') {
                return Ok(format!("invalid username: {user}").into());
            }
            Ok(format!("{user}:{}", bcrypt_hash(sarg(a, 1))).into())
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_password_matches_sprig_vectors() {
        // Expected values from Sprig's crypto_test.go (TestDerivePassword).
        let cases = [
            (1, "long", "ZedaFaxcZaso9*"),
            (2, "long", "Fovi2@JifpTupx"),
            (1, "maximum", "pf4zS1LjCg&LjhsZ7T2~"),
            (1, "medium", "ZedJuz8$"),
            (1, "basic", "pIS54PLs"),
            (1, "short", "Zed5"),
            (1, "pin", "6685"),
        ];
        for (counter, kind, want) in cases {
            let got = derive_password(counter, kind, "password", "user", "example.com").unwrap();
            assert_eq!(got, want, "{counter} {kind}");
        }
        assert_eq!(
            derive_password(1, "nope", "p", "u", "s").unwrap(),
            "cannot find password template nope"
        );
    }

    #[test]
    fn aes_round_trip_and_fixed_vector() {
        let c = encrypt_aes("secretkey", "plaintext").unwrap();
        assert_eq!(decrypt_aes("secretkey", &c).unwrap(), "plaintext");
        assert_ne!(
            c,
            encrypt_aes("secretkey", "plaintext").unwrap(),
            "random IV"
        );
        assert_eq!(BASE64.decode(c.as_bytes()).unwrap().len(), 32);
        assert_eq!(encrypt_aes("k", "").unwrap(), "");
        assert_eq!(decrypt_aes("k", "").unwrap(), "");
        // A block-sized text gets a whole pad block, as PKCS#7 (and Sprig) want.
        let c16 = encrypt_aes("k", "0123456789abcdef").unwrap();
        assert_eq!(BASE64.decode(c16.as_bytes()).unwrap().len(), 48);
        assert_eq!(decrypt_aes("k", &c16).unwrap(), "0123456789abcdef");
        // Fixed IV: AES-256-CBC of "plaintext" under key "secretkey" zero-padded to 32 bytes
        // (the same as `openssl enc -aes-256-cbc -K 7365637265746b6579000…0 -iv 0001…0f`).
        let iv: Vec<u8> = (0u8..16).collect();
        let fixed = encrypt_with_iv("secretkey", "plaintext", &iv).unwrap();
        assert_eq!(fixed, FIXED_VECTOR);
        assert_eq!(decrypt_aes("secretkey", FIXED_VECTOR).unwrap(), "plaintext");
    }

    const FIXED_VECTOR: &str = "AAECAwQFBgcICQoLDA0OD4aChIkqfhLglmmHSXlA6r0=";

    #[test]
    fn decrypts_helm_output() {
        // `{{ "hello from helm" | encryptAES "secretkey" }}` rendered by helm v4.1.4.
        let helm = "8bIHLV69a5yn6Lwg+n8eYnG77hCr3GiNlDckZHZsI3c=";
        assert_eq!(decrypt_aes("secretkey", helm).unwrap(), "hello from helm");
    }

    #[test]
    fn aes_rejects_malformed_input() {
        assert!(decrypt_aes("k", "not base64!").is_err());
        assert!(decrypt_aes("k", &BASE64.encode(&[0u8; 16])).is_err());
        assert!(decrypt_aes("k", &BASE64.encode(&[0u8; 40])).is_err());
        let c = encrypt_aes("right", "some secret text").unwrap();
        assert_ne!(
            decrypt_aes("wrong", &c).ok().as_deref(),
            Some("some secret text")
        );
    }

    #[test]
    fn bcrypt_and_htpasswd_verify() {
        let h = bcrypt_hash("myPassword");
        assert!(h.starts_with("$2a$10$"), "{h}");
        assert!(bcrypt::verify("myPassword", &h).unwrap());
        assert!(!bcrypt::verify("other", &h).unwrap());
        assert!(bcrypt_hash(&"x".repeat(73)).contains("exceeds 72 bytes"));
        let r = super::super::testutil::r(r#"{{ htpasswd "myUser" "myPassword" }}"#);
        let (user, hash) = r.split_once(':').unwrap();
        assert_eq!(user, "myUser");
        assert!(bcrypt::verify("myPassword", hash).unwrap());
        assert_eq!(
            super::super::testutil::r(r#"{{ htpasswd "wrongus:er" "x" }}"#),
            "invalid username: wrongus:er"
        );
    }

    #[test]
    fn template_calls() {
        use super::super::testutil::{err, r};
        assert_eq!(
            r(r#"{{ derivePassword 1 "pin" "password" "user" "example.com" }}"#),
            "6685"
        );
        assert_eq!(
            r(r#"{{ "plaintext" | encryptAES "secretkey" | decryptAES "secretkey" }}"#),
            "plaintext"
        );
        assert!(err(r#"{{ derivePassword -1 "pin" "p" "u" "s" }}"#).contains("uint32"));
    }
}
