//! CustomResourceDefinition -> JSON Schema 2020-12, as the apiserver reads `openAPIV3Schema`.
//!
//! Conversion (OpenAPI v3 structural schema -> JSON Schema 2020-12):
//! * documentation keys (`description`, `default`, `example`, `title`, `externalDocs`) and CEL
//!   rules (`x-kubernetes-validations`, not evaluated) are dropped; other `x-kubernetes-*`
//!   extensions are kept (strict mode and patch metadata read them);
//! * `nullable: true` adds `null` to `type` and `enum`;
//! * `exclusiveMinimum: true` + `minimum: N` becomes `exclusiveMinimum: N` (same for maximum);
//! * `x-kubernetes-int-or-string: true` without `type` becomes `type: [integer, string]`;
//! * `dependencies` becomes `dependentRequired` / `dependentSchemas`;
//! * `$ref`, `definitions` and tuple `items` (forbidden by the apiserver) are errors.
//!
//! The root always lists `apiVersion` and `kind` (strings) and validates `metadata` against the
//! built-in `ObjectMeta` of the catalog's Kubernetes version (plus the CRD's own `metadata`
//! schema), as the apiserver does for every custom resource.

use serde_json::{json, Map, Value};

use super::SchemaError;

/// The definition every object's `metadata` is validated against.
pub(crate) const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// A custom resource's schema and where it came from.
#[derive(Debug)]
pub(crate) struct CrdSchema {
    /// JSON Schema 2020-12 (non-strict form), `$ref`s only to built-in definitions.
    pub(crate) schema: Value,
    /// Where the CRD came from, for messages.
    pub(crate) source: String,
}

/// One served version of a CRD.
#[derive(Debug)]
pub(crate) struct ServedVersion {
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) schema: Value,
}

/// Every served version of `crd` (an `apiextensions.k8s.io/v1` or `v1beta1`
/// CustomResourceDefinition as JSON), with its converted schema.
///
/// As the apiserver: a version is registered when `served: true`; v1beta1 falls back to the
/// CRD-wide `spec.validation` and to `spec.version`; a v1beta1 version without any schema
/// accepts everything, a v1 version without one is an error. `preserveUnknownFields: true`
/// (the v1beta1 default) makes the whole schema keep unknown fields, so strict mode does not
/// flag them.
pub(crate) fn served_versions(
    crd: &Value,
    source: &str,
) -> Result<Vec<ServedVersion>, SchemaError> {
    let invalid = |reason: String| SchemaError::InvalidCrd {
        source_name: source.to_owned(),
        reason,
    };
    let api = crd.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let v1 = match api {
        "apiextensions.k8s.io/v1" => true,
        "apiextensions.k8s.io/v1beta1" => false,
        _ => {
            return Err(invalid(format!(
                "apiVersion {api:?} is not apiextensions.k8s.io/v1 or v1beta1"
            )))
        }
    };
    if crd.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
        return Err(invalid("kind is not CustomResourceDefinition".into()));
    }
    let spec = crd.get("spec").unwrap_or(&Value::Null);
    let group = non_empty(spec.pointer("/group")).ok_or_else(|| invalid("no spec.group".into()))?;
    let kind = non_empty(spec.pointer("/names/kind"))
        .ok_or_else(|| invalid("no spec.names.kind".into()))?;
    let preserve = spec
        .get("preserveUnknownFields")
        .and_then(Value::as_bool)
        .unwrap_or(!v1);
    let shared = spec.pointer("/validation/openAPIV3Schema");
    let mut out = Vec::new();
    for (index, version) in versions(spec).into_iter().enumerate() {
        let name = non_empty(version.get("name"))
            .ok_or_else(|| invalid(format!("/spec/versions/{index}: no name")))?;
        if version.get("served").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let openapi = match (version.pointer("/schema/openAPIV3Schema"), shared) {
            (Some(schema), _) | (None, Some(schema)) => schema.clone(),
            (None, None) if !v1 => {
                json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
            }
            (None, None) => {
                return Err(invalid(format!(
                    "/spec/versions/{index}: no schema.openAPIV3Schema"
                )))
            }
        };
        let mut schema = to_json_schema(&openapi, true)
            .map_err(|reason| invalid(format!("{group}/{name} {kind}: {reason}")))?;
        if preserve {
            mark_preserve_unknown(&mut schema);
        }
        out.push(ServedVersion {
            api_version: format!("{group}/{name}"),
            kind: kind.to_owned(),
            schema,
        });
    }
    Ok(out)
}

fn non_empty(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn versions(spec: &Value) -> Vec<Value> {
    match (
        spec.get("versions").and_then(Value::as_array),
        spec.get("version"),
    ) {
        (Some(list), _) if !list.is_empty() => list.clone(),
        (_, Some(Value::String(name))) => vec![json!({"name": name, "served": true})],
        _ => Vec::new(),
    }
}

fn mark_preserve_unknown(schema: &mut Value) {
    if let Value::Object(map) = schema {
        map.insert(
            "x-kubernetes-preserve-unknown-fields".into(),
            Value::Bool(true),
        );
        for key in ["properties", "patternProperties"] {
            if let Some(Value::Object(props)) = map.get_mut(key) {
                props.values_mut().for_each(mark_preserve_unknown);
            }
        }
        for key in ["items", "additionalProperties"] {
            if let Some(child) = map.get_mut(key) {
                mark_preserve_unknown(child);
            }
        }
    }
}

/// Convert an `openAPIV3Schema` to JSON Schema 2020-12 (see the module docs). `root` adds the
/// object-level fields every custom resource has. Errors name the JSON pointer of the
/// offending keyword.
pub(crate) fn to_json_schema(openapi: &Value, root: bool) -> Result<Value, String> {
    let mut schema = convert(openapi, "")?;
    if root {
        complete_root(&mut schema);
    }
    Ok(schema)
}

/// Keys copied unchanged (validation keywords and numbers/lists that need no recursion).
const PLAIN: &[&str] = &[
    "type",
    "format",
    "enum",
    "required",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "multipleOf",
    "nullable",
];
/// Documentation-only keys (and CEL rules, which driftlint does not evaluate).
const DROPPED: &[&str] = &[
    "description",
    "default",
    "example",
    "title",
    "externalDocs",
    "$schema",
    "id",
    "x-kubernetes-validations",
];

fn convert(node: &Value, at: &str) -> Result<Value, String> {
    let map = match node {
        Value::Object(map) => map,
        Value::Bool(_) => return Ok(node.clone()),
        _ => return Err(format!("{}: a schema must be an object", pointer(at))),
    };
    let mut out = Map::new();
    for (key, value) in map {
        let here = format!("{at}/{}", escape(key));
        let converted = match key.as_str() {
            "properties" | "patternProperties" => convert_map(value, &here)?,
            "additionalProperties" | "not" => convert(value, &here)?,
            "items" if value.is_array() => {
                return Err(format!(
                    "{}: items as a list (tuple) is not supported",
                    pointer(&here)
                ))
            }
            "items" => convert(value, &here)?,
            "allOf" | "anyOf" | "oneOf" => convert_list(value, &here)?,
            "dependencies" => {
                convert_dependencies(value, &here, &mut out)?;
                continue;
            }
            k if PLAIN.contains(&k) || k.starts_with("x-kubernetes-") && !DROPPED.contains(&k) => {
                value.clone()
            }
            k if DROPPED.contains(&k) || k.starts_with("x-") => continue,
            "$ref" | "definitions" | "additionalItems" => {
                return Err(format!(
                    "{}: {key} is not allowed in a CRD schema",
                    pointer(&here)
                ))
            }
            _ => {
                return Err(format!(
                    "{}: unknown schema keyword {key:?}",
                    pointer(&here)
                ))
            }
        };
        out.insert(key.clone(), converted);
    }
    exclusive_bound(&mut out, "minimum", "exclusiveMinimum");
    exclusive_bound(&mut out, "maximum", "exclusiveMaximum");
    int_or_string(&mut out);
    nullable(&mut out);
    if out.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true)) {
        add_object_fields(&mut out, json!({"type": "object"}));
    }
    Ok(Value::Object(out))
}

fn convert_map(value: &Value, at: &str) -> Result<Value, String> {
    let map = value
        .as_object()
        .ok_or_else(|| format!("{}: must be an object", pointer(at)))?;
    let mut out = Map::new();
    for (name, schema) in map {
        out.insert(
            name.clone(),
            convert(schema, &format!("{at}/{}", escape(name)))?,
        );
    }
    Ok(Value::Object(out))
}

fn convert_list(value: &Value, at: &str) -> Result<Value, String> {
    let list = value
        .as_array()
        .ok_or_else(|| format!("{}: must be a list", pointer(at)))?;
    let converted = list
        .iter()
        .enumerate()
        .map(|(i, schema)| convert(schema, &format!("{at}/{i}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::Array(converted))
}

fn convert_dependencies(
    value: &Value,
    at: &str,
    out: &mut Map<String, Value>,
) -> Result<(), String> {
    let map = value
        .as_object()
        .ok_or_else(|| format!("{}: must be an object", pointer(at)))?;
    let (mut required, mut schemas) = (Map::new(), Map::new());
    for (name, dep) in map {
        if dep.is_array() {
            required.insert(name.clone(), dep.clone());
        } else {
            schemas.insert(
                name.clone(),
                convert(dep, &format!("{at}/{}", escape(name)))?,
            );
        }
    }
    if !required.is_empty() {
        out.insert("dependentRequired".into(), Value::Object(required));
    }
    if !schemas.is_empty() {
        out.insert("dependentSchemas".into(), Value::Object(schemas));
    }
    Ok(())
}

/// OpenAPI v3.0 boolean `exclusiveMinimum` -> JSON Schema 2020-12 numeric form.
fn exclusive_bound(out: &mut Map<String, Value>, bound: &str, exclusive: &str) {
    match out.get(exclusive) {
        Some(Value::Bool(true)) => match out.remove(bound) {
            Some(limit) => {
                out.insert(exclusive.into(), limit);
            }
            None => {
                out.remove(exclusive);
            }
        },
        Some(Value::Bool(false)) => {
            out.remove(exclusive);
        }
        _ => {}
    }
}

/// `x-kubernetes-int-or-string: true` -> `type: [integer, string]`; the usual companion
/// `anyOf: [{type: integer}, {type: string}]` then says nothing more and is dropped (it would
/// only repeat the type error).
fn int_or_string(out: &mut Map<String, Value>) {
    if out.get("x-kubernetes-int-or-string") != Some(&Value::Bool(true)) || out.contains_key("type")
    {
        return;
    }
    out.insert("type".into(), json!(["integer", "string"]));
    let only_types = |branches: &Vec<Value>| {
        branches.iter().all(|b| {
            let t = b.get("type");
            b.as_object().is_some_and(|m| m.len() == 1)
                && (t == Some(&json!("integer")) || t == Some(&json!("string")))
        })
    };
    if out
        .get("anyOf")
        .and_then(Value::as_array)
        .is_some_and(only_types)
    {
        out.remove("anyOf");
    }
}

fn nullable(out: &mut Map<String, Value>) {
    if out.get("nullable") != Some(&Value::Bool(true)) {
        return;
    }
    match out.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            out.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(types)) if !types.contains(&json!("null")) => types.push(json!("null")),
        _ => {}
    }
    if let Some(Value::Array(options)) = out.get_mut("enum") {
        if !options.contains(&Value::Null) {
            options.push(Value::Null);
        }
    }
}

/// `apiVersion`, `kind` and `metadata`, which the apiserver accepts on every (embedded) object.
fn add_object_fields(out: &mut Map<String, Value>, metadata: Value) {
    let Some(Value::Object(props)) = out.get_mut("properties") else {
        return;
    };
    for field in ["apiVersion", "kind"] {
        props
            .entry(field)
            .or_insert_with(|| json!({"type": "string"}));
    }
    props.entry("metadata").or_insert(metadata);
}

fn complete_root(schema: &mut Value) {
    let Value::Object(root) = schema else {
        return;
    };
    root.entry("type").or_insert_with(|| json!("object"));
    let Value::Object(props) = root.entry("properties").or_insert_with(|| json!({})) else {
        return;
    };
    let object_meta = json!({"$ref": format!("#/$defs/{OBJECT_META}")});
    let metadata = match props.remove("metadata") {
        Some(own) => json!({"allOf": [own, object_meta]}),
        None => object_meta,
    };
    props.insert("metadata".into(), metadata);
    add_object_fields(root, Value::Null);
}

/// Remove `null` map values whose schema is not `nullable`, as the apiserver's
/// `PruneNonNullableNullsWithoutDefaults` does before validating a custom resource.
pub(crate) fn prune_nulls(value: &mut Value, schema: &Value) {
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|s| s.is_object());
            let field_schema = |key: &str| props.and_then(|p| p.get(key)).or(additional);
            map.retain(|key, child| {
                !(child.is_null()
                    && field_schema(key)
                        .is_some_and(|s| s.get("nullable") != Some(&Value::Bool(true))))
            });
            for (key, child) in map.iter_mut() {
                if let Some(child_schema) = field_schema(key) {
                    prune_nulls(child, child_schema);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                items
                    .iter_mut()
                    .for_each(|item| prune_nulls(item, item_schema));
            }
        }
        _ => {}
    }
}

/// Whether `value` holds a `null` anywhere (then [`prune_nulls`] may change it).
pub(crate) fn contains_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.values().any(contains_null),
        Value::Array(items) => items.iter().any(contains_null),
        _ => false,
    }
}

/// RFC 6901 escaping of one pointer segment.
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn pointer(at: &str) -> &str {
    if at.is_empty() {
        "/"
    } else {
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_openapi_specifics() {
        let openapi = json!({
            "type": "object",
            "description": "dropped",
            "properties": {
                "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                "size": {"type": "integer", "minimum": 0, "exclusiveMinimum": true, "default": 3},
                "mode": {"type": "string", "enum": ["a", "b"], "nullable": true},
                "rule": {"type": "string", "x-kubernetes-validations": [{"rule": "self != ''"}]},
            },
        });
        let schema = to_json_schema(&openapi, false).expect("converts");
        assert_eq!(schema.get("description"), None);
        assert_eq!(
            schema["properties"]["port"],
            json!({"type": ["integer", "string"], "x-kubernetes-int-or-string": true})
        );
        assert_eq!(
            schema["properties"]["size"],
            json!({"type": "integer", "exclusiveMinimum": 0})
        );
        assert_eq!(
            schema["properties"]["mode"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(
            schema["properties"]["mode"]["enum"],
            json!(["a", "b", null])
        );
        assert_eq!(schema["properties"]["rule"], json!({"type": "string"}));
    }

    #[test]
    fn root_gets_object_fields_and_object_meta() {
        let schema = to_json_schema(
            &json!({"type": "object", "properties": {"spec": {"type": "object"}}}),
            true,
        )
        .expect("converts");
        let props = &schema["properties"];
        assert_eq!(props["apiVersion"], json!({"type": "string"}));
        assert_eq!(
            props["metadata"],
            json!({"$ref": format!("#/$defs/{OBJECT_META}")})
        );
        let own_meta = json!({"type": "object", "properties": {"metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 5}}}}});
        let schema = to_json_schema(&own_meta, true).expect("converts");
        assert_eq!(
            schema["properties"]["metadata"]["allOf"][0]["properties"]["name"]["maxLength"],
            json!(5)
        );
    }

    #[test]
    fn rejects_what_the_apiserver_rejects() {
        let err = to_json_schema(
            &json!({"type": "object", "properties": {"a": {"$ref": "#/x"}}}),
            false,
        )
        .expect_err("$ref is refused");
        assert!(err.contains("/properties/a/$ref"), "{err}");
        let err =
            to_json_schema(&json!({"type": "object", "bogus": 1}), false).expect_err("unknown");
        assert!(err.contains("unknown schema keyword \"bogus\""), "{err}");
    }

    #[test]
    fn served_versions_of_v1_and_v1beta1() {
        let v1 = json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "spec": {"group": "example.dev", "names": {"kind": "Widget"}, "versions": [
                {"name": "v1", "served": true, "schema": {"openAPIV3Schema": {"type": "object"}}},
                {"name": "v0", "served": false, "schema": {"openAPIV3Schema": {"type": "object"}}},
            ]},
        });
        let served = served_versions(&v1, "w.yaml:1").expect("reads");
        assert_eq!(served.len(), 1);
        assert_eq!(
            (served[0].api_version.as_str(), served[0].kind.as_str()),
            ("example.dev/v1", "Widget")
        );
        let v1beta1 = json!({
            "apiVersion": "apiextensions.k8s.io/v1beta1", "kind": "CustomResourceDefinition",
            "spec": {"group": "example.dev", "version": "v1alpha1", "names": {"kind": "Gadget"},
                     "validation": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string"}}}}}}},
        });
        let served = served_versions(&v1beta1, "g.yaml:1").expect("reads");
        assert_eq!(served[0].api_version, "example.dev/v1alpha1");
        assert_eq!(
            served[0].schema["properties"]["spec"]["x-kubernetes-preserve-unknown-fields"],
            json!(true)
        );
    }

    #[test]
    fn invalid_crds_name_their_source() {
        let err = served_versions(
            &json!({"apiVersion": "v1", "kind": "ConfigMap"}),
            "x.yaml:3",
        )
        .expect_err("not a CRD");
        assert!(
            err.to_string()
                .starts_with("x.yaml:3: invalid CustomResourceDefinition"),
            "{err}"
        );
        let no_schema = json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "spec": {"group": "example.dev", "names": {"kind": "Widget"}, "versions": [{"name": "v1", "served": true}]},
        });
        let err = served_versions(&no_schema, "w.yaml:1").expect_err("v1 needs a schema");
        assert!(
            err.to_string()
                .contains("/spec/versions/0: no schema.openAPIV3Schema"),
            "{err}"
        );
    }

    #[test]
    fn prunes_non_nullable_nulls_only() {
        let schema = to_json_schema(
            &json!({"type": "object", "properties": {
                "a": {"type": "string"}, "b": {"type": "string", "nullable": true},
                "m": {"type": "object", "additionalProperties": {"type": "string"}},
            }}),
            false,
        )
        .expect("converts");
        let mut object = json!({"a": null, "b": null, "m": {"x": null, "y": "1"}, "other": null});
        assert!(contains_null(&object));
        prune_nulls(&mut object, &schema);
        assert_eq!(object, json!({"b": null, "m": {"y": "1"}, "other": null}));
    }
}
