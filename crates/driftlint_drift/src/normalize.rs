//! Normalisation shared by both drift modes: what is never drift (server-managed fields), how
//! list items are keyed, how scalars compare (quantities, int-or-string, numbers), and how
//! Secret values are hashed.
//!
//! Mirrors what `kubectl diff --server-side`, Flux's `ssa` drift detection and Argo CD's diff
//! normalisers do: status and server metadata are dropped, `null` = `{}` = `[]` = absent,
//! quantities are compared as numbers where the schema says `resource.Quantity` (argo-cd
//! #21135), int-or-string only where the schema says so, ports keyed with the defaulted
//! `protocol: TCP`, Secret values compared and shown only as hashes.

use serde_json::Value;
use sha2::{Digest, Sha256};

use driftlint_schema::{Catalog, FieldFormat};

/// Metadata fields the server owns; never drift.
const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
];

/// Annotations written by clients or controllers, never by the repository.
const SERVER_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
];

/// What an object's comparison needs to know about the object itself.
#[derive(Clone, Copy, Debug)]
pub struct ObjectKind<'a> {
    /// `apiVersion` of the object.
    pub api_version: &'a str,
    /// `kind` of the object.
    pub kind: &'a str,
    /// True when an HPA (or KEDA ScaledObject) scales the object: `spec.replicas` is not drift.
    pub scaled: bool,
}

impl ObjectKind<'_> {
    /// True for `v1` Secrets, whose `data`/`stringData` values are hashed.
    pub fn is_secret(&self) -> bool {
        self.api_version == "v1" && self.kind == "Secret"
    }
}

/// Removes from `obj` (a whole object as JSON) what is never drift: `status`, the server
/// metadata (`managedFields`, `resourceVersion`, `uid`, `generation`, `creationTimestamp`,
/// `selfLink`), the `last-applied-configuration` and `deployment.kubernetes.io/revision`
/// annotations (an annotations map left empty is removed), and `spec.replicas` when `scaled`.
pub fn strip_server_fields(obj: &mut Value, scaled: bool) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    map.remove("status");
    if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in SERVER_METADATA {
            meta.remove(*key);
        }
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            for key in SERVER_ANNOTATIONS {
                ann.remove(*key);
            }
        }
    }
    if scaled {
        if let Some(spec) = map.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("replicas");
        }
    }
}

/// True when `path` (field names from the object root) is never drift in either mode; the
/// read-only walk uses it to skip fields the repository sets but the server owns.
pub fn is_server_field(path: &[&str], scaled: bool) -> bool {
    match path {
        ["status", ..] => true,
        ["metadata", field, ..] if SERVER_METADATA.contains(field) => true,
        ["metadata", "annotations", key, ..] => SERVER_ANNOTATIONS.contains(key),
        ["spec", "replicas"] => scaled,
        _ => false,
    }
}

/// `null`, `{}` and `[]` (and an absent field, `None`) are the same value: Kubernetes' Go
/// types drop empty maps/slices with `omitempty`, so either side may spell them either way.
pub fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

/// True for Go zero values (`false`, `0`, `""`) that the server drops from `omitempty` fields,
/// so that a repository spelling out `hostNetwork: false` is not drift against a live object
/// without the field.
pub fn is_zero_scalar(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// The merge keys of the list at `schema_path` (field names from the object root, list items
/// transparent): `x-kubernetes-list-map-keys` when set (ports: `containerPort`, `protocol`),
/// else `x-kubernetes-patch-merge-key`; empty for atomic lists and unknown kinds.
pub fn list_keys(catalog: &Catalog, kind: &ObjectKind, schema_path: &[&str]) -> Vec<String> {
    let Some(meta) = catalog.list_patch_meta(kind.api_version, kind.kind, schema_path) else {
        return Vec::new();
    };
    if !meta.list_map_keys.is_empty() {
        return meta.list_map_keys;
    }
    meta.merge_key.into_iter().collect()
}

/// The key of a list item under `keys`, values written as strings (`80`, `TCP`, `web`); a
/// missing `protocol` is the server's default `TCP`. `None` when the item is not a map or
/// lacks another key field.
pub fn item_key(item: &Value, keys: &[String]) -> Option<Vec<(String, String)>> {
    let map = item.as_object()?;
    keys.iter()
        .map(|k| match map.get(k) {
            Some(Value::String(s)) => Some((k.clone(), s.clone())),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Some((k.clone(), v.to_string())),
            None if k == "protocol" => Some((k.clone(), "TCP".to_string())),
            _ => None,
        })
        .collect()
}

/// The value format of the field at `schema_path` per the catalog (`Other` when unknown).
pub fn format_at(catalog: &Catalog, kind: &ObjectKind, schema_path: &[&str]) -> FieldFormat {
    catalog
        .field_format(kind.api_version, kind.kind, schema_path)
        .unwrap_or(FieldFormat::Other)
}

/// Whether two scalars are the same value for a field of `format`: numbers by value (`1` =
/// `1.0`), quantities by amount (`1000m` = `1`, `1Gi` = `1024Mi`, `0.5` = `500m`),
/// int-or-string `80` = `"80"`; anything else by JSON equality.
pub fn scalar_eq(a: &Value, b: &Value, format: FieldFormat) -> bool {
    if a == b {
        return true;
    }
    match (a, b, format) {
        (Value::Number(x), Value::Number(y), _) => x.as_f64() == y.as_f64(),
        (_, _, FieldFormat::Quantity) => match (quantity_text(a), quantity_text(b)) {
            (Some(x), Some(y)) => quantity_eq(&x, &y),
            _ => false,
        },
        (Value::String(s), Value::Number(n), FieldFormat::IntOrString)
        | (Value::Number(n), Value::String(s), FieldFormat::IntOrString) => {
            n.as_i64().is_some_and(|i| s.trim() == i.to_string())
        }
        _ => false,
    }
}

fn quantity_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether two Kubernetes quantities (`resource.Quantity` text: sign, decimal number, then a
/// binary `Ki..Ei`, decimal `n u m k M G T P E` or exponent `e3`/`E3` suffix) are the same
/// amount. Text that does not parse compares as text.
pub fn quantity_eq(a: &str, b: &str) -> bool {
    match (canonical_quantity(a), canonical_quantity(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// `(negative, mantissa, exponent of ten)` with no trailing zeros in the mantissa: the exact
/// amount, so equal amounts give equal triples. `None` when unparsable or too large.
fn canonical_quantity(text: &str) -> Option<(bool, u128, i64)> {
    let text = text.trim();
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let number_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_len);
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty()) || !digits_only(frac_part) {
        return None;
    }
    let mut mantissa: u128 = 0;
    for d in int_part.bytes().chain(frac_part.bytes()) {
        mantissa = mantissa
            .checked_mul(10)?
            .checked_add(u128::from(d - b'0'))?;
    }
    let (pow2, pow10) = suffix_powers(suffix)?;
    mantissa = mantissa.checked_mul(1u128.checked_shl(pow2)?)?;
    let mut exp10 = pow10 - i64::try_from(frac_part.len()).ok()?;
    if mantissa == 0 {
        return Some((false, 0, 0));
    }
    while mantissa.is_multiple_of(10) {
        mantissa /= 10;
        exp10 += 1;
    }
    Some((negative, mantissa, exp10))
}

/// `(power of two, power of ten)` of a quantity suffix.
fn suffix_powers(suffix: &str) -> Option<(u32, i64)> {
    let binary = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    if let Some(i) = binary.iter().position(|s| *s == suffix) {
        return Some((10 * (u32::try_from(i).ok()? + 1), 0));
    }
    let decimal = match suffix {
        "n" => -9,
        "u" => -6,
        "m" => -3,
        "" => 0,
        "k" => 3,
        "M" => 6,
        "G" => 9,
        "T" => 12,
        "P" => 15,
        "E" => 18,
        other => {
            let exp = other.strip_prefix(['e', 'E'])?;
            return exp.parse::<i64>().ok().map(|e| (0, e));
        }
    };
    Some((0, decimal))
}

/// `sha256:<first 12 hex>` of `bytes`: how Secret values appear in drift, never in clear.
pub fn secret_hash(bytes: &[u8]) -> String {
    let hex = data_encoding::HEXLOWER.encode(&Sha256::digest(bytes));
    format!("sha256:{}", &hex[..12])
}

/// The bytes of a Secret `data` value (base64, as the API returns it); text that is not valid
/// base64 is taken as is so that it is still hashed, never shown.
pub fn secret_data_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => data_encoding::BASE64
            .decode(s.as_bytes())
            .unwrap_or_else(|_| s.as_bytes().to_vec()),
        other => other.to_string().into_bytes(),
    }
}

/// A Secret `data` value or map of values with every value replaced by its
/// [`secret_hash`]; used for both sides of a sensitive [`super::FieldDrift`].
pub fn mask_secret_data(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), mask_secret_data(v)))
                .collect(),
        ),
        Value::Null => Value::Null,
        other => Value::String(secret_hash(&secret_data_bytes(other))),
    }
}

/// As [`mask_secret_data`] for `stringData` values (plain text, not base64).
pub fn mask_secret_string_data(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), mask_secret_string_data(v)))
                .collect(),
        ),
        Value::String(s) => Value::String(secret_hash(s.as_bytes())),
        Value::Null => Value::Null,
        other => Value::String(secret_hash(other.to_string().as_bytes())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_compare_by_amount() {
        assert!(quantity_eq("1000m", "1"));
        assert!(quantity_eq("1Gi", "1024Mi"));
        assert!(quantity_eq("0.5", "500m"));
        assert!(quantity_eq("1k", "1e3"));
        assert!(quantity_eq("128Mi", "134217728"));
        assert!(!quantity_eq("1Gi", "1G"));
        assert!(!quantity_eq("100m", "1"));
        assert!(!quantity_eq("-1", "1"));
        assert!(quantity_eq("abc", "abc"));
        assert!(!quantity_eq("abc", "abd"));
        assert!(!quantity_eq("1.2.3", "1.23"));
    }

    #[test]
    fn scalars_follow_the_schema_format() {
        let q = FieldFormat::Quantity;
        assert!(scalar_eq(&json!("1000m"), &json!("1"), q));
        assert!(scalar_eq(&json!(1), &json!("1"), q));
        assert!(!scalar_eq(&json!("1000m"), &json!("1"), FieldFormat::Other));
        assert!(scalar_eq(
            &json!("80"),
            &json!(80),
            FieldFormat::IntOrString
        ));
        assert!(!scalar_eq(&json!("80"), &json!(80), FieldFormat::Other));
        assert!(!scalar_eq(
            &json!("http"),
            &json!(80),
            FieldFormat::IntOrString
        ));
        assert!(scalar_eq(&json!(1), &json!(1.0), FieldFormat::Other));
    }

    #[test]
    fn formats_and_keys_come_from_the_schema() {
        let catalog = Catalog::builtin("1.36").expect("catalog");
        let deploy = ObjectKind {
            api_version: "apps/v1",
            kind: "Deployment",
            scaled: false,
        };
        let containers = ["spec", "template", "spec", "containers"];
        fn at(rest: &[&'static str]) -> Vec<&'static str> {
            ["spec", "template", "spec", "containers"]
                .iter()
                .chain(rest)
                .copied()
                .collect()
        }
        assert_eq!(
            format_at(&catalog, &deploy, &at(&["resources", "limits", "cpu"])),
            FieldFormat::Quantity
        );
        assert_eq!(
            format_at(
                &catalog,
                &deploy,
                &at(&["livenessProbe", "httpGet", "port"])
            ),
            FieldFormat::IntOrString
        );
        assert_eq!(
            format_at(&catalog, &deploy, &at(&["image"])),
            FieldFormat::Other
        );
        assert_eq!(list_keys(&catalog, &deploy, &containers), vec!["name"]);
        assert_eq!(
            list_keys(&catalog, &deploy, &at(&["ports"])),
            vec!["containerPort", "protocol"]
        );
        assert!(list_keys(&catalog, &deploy, &at(&["args"])).is_empty());
    }

    #[test]
    fn ports_are_keyed_with_the_default_protocol() {
        let keys = vec!["containerPort".to_string(), "protocol".to_string()];
        assert_eq!(
            item_key(&json!({"containerPort": 80}), &keys),
            Some(vec![
                ("containerPort".into(), "80".into()),
                ("protocol".into(), "TCP".into())
            ])
        );
        assert_eq!(item_key(&json!({"protocol": "UDP"}), &keys), None);
    }

    #[test]
    fn server_fields_are_stripped() {
        let mut obj = json!({
            "metadata": {"name": "a", "uid": "u", "generation": 2,
                "annotations": {"deployment.kubernetes.io/revision": "2", "keep": "x"}},
            "spec": {"replicas": 3}, "status": {"x": 1}
        });
        strip_server_fields(&mut obj, true);
        assert_eq!(
            obj,
            json!({"metadata": {"name": "a", "annotations": {"keep": "x"}}, "spec": {}})
        );
        assert!(is_server_field(&["spec", "replicas"], true));
        assert!(!is_server_field(&["spec", "replicas"], false));
    }

    #[test]
    fn secrets_are_hashed_the_same_from_data_and_string_data() {
        let data = mask_secret_data(&json!({"p": "c2hvcA=="}));
        let string_data = mask_secret_string_data(&json!({"p": "shop"}));
        assert_eq!(data, string_data);
        let shown = data["p"].as_str().unwrap_or_default();
        assert!(shown.starts_with("sha256:") && shown.len() == 19, "{shown}");
    }

    #[test]
    fn empties_are_absent() {
        assert!(is_empty(None));
        assert!(is_empty(Some(&json!({}))));
        assert!(is_empty(Some(&json!([]))));
        assert!(is_empty(Some(&Value::Null)));
        assert!(!is_empty(Some(&json!(0))));
    }
}
