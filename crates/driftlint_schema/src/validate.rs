//! Assemble self-contained schemas, apply strict mode, compile them with `jsonschema` and turn
//! its errors into [`Violation`]s with readable messages.

use std::collections::{BTreeSet, VecDeque};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, JsonType, PatternOptions, ValidationError, Validator};
use serde_json::{Map, Value};

use super::crd::escape;
use super::embedded::KubeVersion;
use super::{SchemaError, Violation};

const DRAFT_URI: &str = "https://json-schema.org/draft/2020-12/schema";
/// At most this many alternatives are quoted in an `anyOf`/`oneOf` message.
const MAX_ALTERNATIVES: usize = 3;
/// Longer strings are cut in messages.
const MAX_QUOTED_CHARS: usize = 60;

/// `root` plus, under `$defs`, every built-in definition it references (transitively), with
/// strict mode applied to all of them when `strict`.
pub(crate) fn assemble(
    root: &Value,
    kube: &KubeVersion,
    strict: bool,
) -> Result<Value, SchemaError> {
    let mut schema = root.clone();
    let mut defs = Map::new();
    for name in closure(root, kube)? {
        let body = kube.def(&name)?.ok_or_else(|| SchemaError::Embedded {
            file: "kubernetes-index.json.gz",
            reason: format!("{}: {name} is referenced but not defined", kube.version()),
        })?;
        let mut body = body.clone();
        if strict {
            strictify(&mut body);
        }
        defs.insert(name, body);
    }
    if strict {
        strictify(&mut schema);
    }
    if let Value::Object(map) = &mut schema {
        map.insert("$schema".into(), Value::String(DRAFT_URI.into()));
        if !defs.is_empty() {
            map.insert("$defs".into(), Value::Object(defs));
        }
    }
    Ok(schema)
}

/// Names of the definitions reachable from `root` through `#/$defs/NAME` references, sorted.
fn closure(root: &Value, kube: &KubeVersion) -> Result<BTreeSet<String>, SchemaError> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::new();
    collect_refs(root, &mut queue);
    while let Some(name) = queue.pop_front() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(body) = kube.def(&name)? {
            collect_refs(body, &mut queue);
        }
    }
    Ok(seen)
}

fn collect_refs(value: &Value, out: &mut VecDeque<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = r.strip_prefix("#/$defs/") {
                            out.push_back(name.to_owned());
                        }
                    }
                    _ => collect_refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, out)),
        _ => {}
    }
}

/// Strict mode, as `kubeconform -strict` and `kubernetes-validate --strict`: every schema that
/// lists `properties` and says nothing about other keys (no `additionalProperties`, no
/// `x-kubernetes-preserve-unknown-fields: true`) gets `additionalProperties: false`. Only the
/// structural skeleton is walked (`properties`, `items`, `additionalProperties`), not
/// `allOf`/`anyOf`/`oneOf`/`not` branches, which may list a subset of the fields.
/// `scripts/gen-schemas.py` checks that this reproduces the package's `-strict` schemas.
pub(crate) fn strictify(schema: &mut Value) {
    let Value::Object(map) = schema else {
        return;
    };
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        props.values_mut().for_each(strictify);
        let preserve = map.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
        if !map.contains_key("additionalProperties") && !preserve {
            map.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(child @ Value::Object(_)) = map.get_mut(key) {
            strictify(child);
        }
    }
}

/// Compile an assembled schema (draft 2020-12, formats not asserted, `pattern` with the
/// linear-time `regex` engine, close to Go's RE2 that the apiserver uses).
pub(crate) fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(false)
        .with_pattern_options(PatternOptions::regex())
        .build(schema)
        .map_err(|err| err.to_string())
}

/// Every violation of `object`, sorted by pointer then message, without duplicates; `None`
/// when every error is about an opaque value (see [`is_opaque`]), i.e. the object is valid
/// as far as can be known before substitution or decryption. `sops`: the object came from a
/// SOPS-encrypted file (its `ENC[...]` values are opaque).
pub(crate) fn violations(
    validator: &Validator,
    object: &Value,
    sops: bool,
) -> Option<Vec<Violation>> {
    let mut any = false;
    let mut out: Vec<Violation> = Vec::new();
    for err in validator.iter_errors(object) {
        if is_opaque(&err, sops) {
            continue;
        }
        any = true;
        out.extend(to_violations(&err));
    }
    out.sort();
    out.dedup();
    any.then_some(out)
}

/// True when `object` carries a top-level `sops:` mapping (SOPS metadata: the file is
/// encrypted with SOPS and its `ENC[...]` values are ciphertext).
pub(crate) fn has_sops_metadata(object: &Value) -> bool {
    matches!(object.get("sops"), Some(Value::Object(_)))
}

/// `object` without its top-level SOPS metadata block, when it has one: `sops:` is written by
/// the `sops` tool and removed by the decrypting controller (Flux's kustomize-controller)
/// before apply, so it is never a schema violation.
pub(crate) fn without_sops_metadata(object: &Value) -> Option<Value> {
    if !has_sops_metadata(object) {
        return None;
    }
    let mut copy = object.clone();
    if let Value::Object(map) = &mut copy {
        map.remove("sops");
    }
    Some(copy)
}

/// An error that says nothing certain before Flux substitutes variables or SOPS decrypts
/// values: its value is a string holding a Flux placeholder
/// ([`driftlint_yaml::contains_flux_placeholder`]), or an `ENC[...]` value in a SOPS file;
/// such a string may become any type and any value. `anyOf`/`oneOf` errors are opaque when one
/// alternative fails only on opaque values. Unknown and missing fields are never opaque (they
/// are about objects, not strings).
fn is_opaque(err: &ValidationError<'_>, sops: bool) -> bool {
    match err.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            context
                .iter()
                .any(|branch| branch.iter().all(|e| is_opaque(e, sops)))
        }
        ValidationErrorKind::FalseSchema
        | ValidationErrorKind::AdditionalProperties { .. }
        | ValidationErrorKind::UnevaluatedProperties { .. }
        | ValidationErrorKind::Required { .. } => false,
        _ => match err.instance().as_ref() {
            Value::String(s) => {
                driftlint_yaml::contains_flux_placeholder(s) || (sops && is_sops_value(s))
            }
            _ => false,
        },
    }
}

/// A SOPS ciphertext value (`ENC[AES256_GCM,data:...,type:int]`).
fn is_sops_value(s: &str) -> bool {
    s.starts_with("ENC[") && s.ends_with(']')
}

fn to_violations(err: &ValidationError<'_>) -> Vec<Violation> {
    let pointer = err.instance_path().as_str();
    match err.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => unexpected
            .iter()
            .map(|field| Violation {
                pointer: format!("{pointer}/{}", escape(field)),
                message: format!("unknown field {}", quote(field)),
            })
            .collect(),
        _ => vec![Violation {
            pointer: pointer.to_owned(),
            message: message(err),
        }],
    }
}

fn message(err: &ValidationError<'_>) -> String {
    let value = describe(err.instance());
    match err.kind() {
        ValidationErrorKind::Type { kind } => format!("{value} is not of type {}", type_list(kind)),
        ValidationErrorKind::Required { property } => match property {
            Value::String(name) => format!("missing required field {}", quote(name)),
            other => format!("missing required field {other}"),
        },
        ValidationErrorKind::Enum { options } => {
            format!("{value} is not one of {}", enum_list(options))
        }
        ValidationErrorKind::Constant { expected_value } => {
            format!("{value} is not {expected_value}")
        }
        ValidationErrorKind::Pattern { pattern } => {
            format!("{value} does not match the pattern {}", quote(pattern))
        }
        ValidationErrorKind::Minimum { limit } => {
            format!("{value} is less than the minimum {limit}")
        }
        ValidationErrorKind::Maximum { limit } => {
            format!("{value} is greater than the maximum {limit}")
        }
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            format!("{value} must be greater than {limit}")
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            format!("{value} must be less than {limit}")
        }
        ValidationErrorKind::MinLength { limit } => {
            format!("{value} is shorter than {limit} characters")
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!("{value} is longer than {limit} characters")
        }
        ValidationErrorKind::MinItems { limit } => format!("{value} has fewer than {limit} items"),
        ValidationErrorKind::MaxItems { limit } => format!("{value} has more than {limit} items"),
        ValidationErrorKind::MinProperties { limit } => {
            format!("{value} has fewer than {limit} fields")
        }
        ValidationErrorKind::MaxProperties { limit } => {
            format!("{value} has more than {limit} fields")
        }
        ValidationErrorKind::UniqueItems => format!("{value} has duplicate items"),
        ValidationErrorKind::MultipleOf { multiple_of } => {
            format!("{value} is not a multiple of {multiple_of}")
        }
        ValidationErrorKind::Format { format } => {
            format!("{value} is not a valid {}", quote(format))
        }
        ValidationErrorKind::Not { .. } | ValidationErrorKind::FalseSchema => {
            format!("{value} is not allowed here")
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            format!("{value} matches more than one of the allowed forms")
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            format!(
                "{value} matches none of the allowed forms{}",
                alternatives(context)
            )
        }
        _ => err.to_string(),
    }
}

/// `: A; or B` from the first error of each failed alternative.
fn alternatives(context: &[Vec<ValidationError<'static>>]) -> String {
    let mut reasons: Vec<String> = Vec::new();
    for branch in context {
        if let Some(first) = branch.first() {
            let reason = match to_violations(first).into_iter().next() {
                Some(v) if v.pointer.is_empty() || v.pointer == first.instance_path().as_str() => {
                    v.message
                }
                Some(v) => format!("{}: {}", v.pointer, v.message),
                None => continue,
            };
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
    }
    if reasons.is_empty() {
        return String::new();
    }
    reasons.truncate(MAX_ALTERNATIVES);
    format!(": {}", reasons.join("; or "))
}

/// A value as messages show it: scalars as JSON (long strings cut), containers by kind.
fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => quote(s),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        other => other.to_string(),
    }
}

fn quote(s: &str) -> String {
    if s.chars().count() <= MAX_QUOTED_CHARS {
        return Value::String(s.to_owned()).to_string();
    }
    let cut: String = s.chars().take(MAX_QUOTED_CHARS).collect();
    let quoted = Value::String(cut).to_string();
    format!("{}…\"", &quoted[..quoted.len() - 1])
}

/// `"integer"`, `"integer" or "string"`; `null` is left out (every Kubernetes type is
/// nullable, so it would be in every message) unless it is the only type.
fn type_list(kind: &TypeKind) -> String {
    let types: Vec<JsonType> = match kind {
        TypeKind::Single(t) => vec![*t],
        TypeKind::Multiple(set) => set.iter().collect(),
    };
    let shown: Vec<String> = types
        .iter()
        .filter(|t| **t != JsonType::Null || types.len() == 1)
        .map(|t| quote(t.as_str()))
        .collect();
    join_or(&shown)
}

fn enum_list(options: &Value) -> String {
    let shown: Vec<String> = match options {
        Value::Array(items) => items
            .iter()
            .filter(|v| !v.is_null())
            .map(Value::to_string)
            .collect(),
        other => vec![other.to_string()],
    };
    join_or(&shown)
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(schema: Value, object: Value) -> Vec<Violation> {
        let validator = compile(&schema).expect("compiles");
        violations(&validator, &object, false).unwrap_or_default()
    }

    #[test]
    fn strictify_closes_objects_with_properties_only() {
        let mut schema = json!({
            "properties": {
                "a": {"properties": {"b": {"type": "string"}}},
                "m": {"additionalProperties": {"properties": {"x": {}}}},
                "keep": {"properties": {"y": {}}, "x-kubernetes-preserve-unknown-fields": true},
                "any": {"anyOf": [{"properties": {"z": {}}}]},
            },
        });
        strictify(&mut schema);
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(
            schema["properties"]["a"]["additionalProperties"],
            json!(false)
        );
        assert_eq!(
            schema["properties"]["m"]["additionalProperties"]["additionalProperties"],
            json!(false)
        );
        assert_eq!(
            schema["properties"]["keep"].get("additionalProperties"),
            None
        );
        assert_eq!(
            schema["properties"]["any"]["anyOf"][0].get("additionalProperties"),
            None
        );
    }

    #[test]
    fn messages_are_readable() {
        let schema = json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z]+$"},
                "n": {"type": ["integer", "null"]},
                "policy": {"type": "string", "enum": ["Always", "Never", null]},
                "list": {"type": "array", "maxItems": 1},
            },
        });
        let got = check(
            schema,
            json!({"n": "abc", "policy": "Sometimes", "list": [1, 2], "a/b": 1}),
        );
        let got: Vec<(&str, &str)> = got
            .iter()
            .map(|v| (v.pointer.as_str(), v.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("", "missing required field \"name\""),
                ("/a~1b", "unknown field \"a/b\""),
                ("/list", "an array has more than 1 items"),
                ("/n", "\"abc\" is not of type \"integer\""),
                (
                    "/policy",
                    "\"Sometimes\" is not one of \"Always\" or \"Never\""
                ),
            ]
        );
    }

    #[test]
    fn any_of_names_the_alternatives() {
        let schema =
            json!({"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+%$"}]});
        let got = check(schema, json!("ten"));
        assert_eq!(
            got[0].message,
            "\"ten\" matches none of the allowed forms: \"ten\" is not of type \"integer\"; \
             or \"ten\" does not match the pattern \"^[0-9]+%$\""
        );
    }

    #[test]
    fn long_strings_are_cut() {
        let long = "x".repeat(100);
        let quoted = quote(&long);
        assert!(
            quoted.ends_with("x…\"") && quoted.chars().count() == MAX_QUOTED_CHARS + 3,
            "{quoted}"
        );
    }
}
