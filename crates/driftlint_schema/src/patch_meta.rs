//! Strategic-merge-patch metadata lookup: walk a schema along a field path, as kustomize's
//! kyaml `openapi.ResourceSchema.Lookup` / `Field` does, and read the patch extensions.

use serde_json::Value;

use super::embedded::KubeVersion;
use super::{FieldFormat, PatchMeta};

/// `$ref` chains longer than this are treated as unresolvable (a cycle guard).
const MAX_REF_DEPTH: usize = 32;

/// The patch metadata of the field at `path` below `root` (field names from the object root;
/// list items are transparent), or `None` when the path leaves the schema.
pub(crate) fn lookup(root: &Value, kube: &KubeVersion, path: &[&str]) -> Option<PatchMeta> {
    let (first, rest) = path.split_first()?;
    let mut field = child(root, first, kube)?;
    for segment in rest {
        field = child(field, segment, kube)?;
    }
    Some(meta(field, kube))
}

/// The value format of the field at `path` below `root` (same walk as [`lookup`]): a
/// `resource.Quantity`, an `intstr.IntOrString` / `x-kubernetes-int-or-string`, or anything
/// else; `None` when the path leaves the schema.
pub(crate) fn format(root: &Value, kube: &KubeVersion, path: &[&str]) -> Option<FieldFormat> {
    let (first, rest) = path.split_first()?;
    let mut field = child(root, first, kube)?;
    for segment in rest {
        field = child(field, segment, kube)?;
    }
    let reference = field.get("$ref").and_then(Value::as_str).unwrap_or("");
    let target = resolve(field, kube);
    let int_or_string = |s: &Value| s.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
    Some(if reference.ends_with(".api.resource.Quantity") {
        FieldFormat::Quantity
    } else if int_or_string(field) || target.is_some_and(int_or_string) {
        FieldFormat::IntOrString
    } else {
        FieldFormat::Other
    })
}

/// Follow `$ref` until a schema with its own structure.
fn resolve<'a>(mut schema: &'a Value, kube: &KubeVersion) -> Option<&'a Value> {
    for _ in 0..MAX_REF_DEPTH {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => schema = kube.resolve_ref(reference)?,
            None => return Some(schema),
        }
    }
    None
}

/// The schema of field `name` inside `schema` (an object, or a list of objects, possibly
/// behind `$ref`s, `allOf`/`anyOf`/`oneOf` branches, or a map's `additionalProperties`).
fn child<'a>(schema: &'a Value, name: &str, kube: &KubeVersion) -> Option<&'a Value> {
    let mut schema = resolve(schema, kube)?;
    for _ in 0..MAX_REF_DEPTH {
        match schema.get("items") {
            Some(items) if items.is_object() && schema.get("properties").is_none() => {
                schema = resolve(items, kube)?;
            }
            _ => break,
        }
    }
    if let Some(field) = schema.get("properties").and_then(|p| p.get(name)) {
        return Some(field);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        let branches = schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        if let Some(found) = branches.filter_map(|b| child(b, name, kube)).next() {
            return Some(found);
        }
    }
    schema.get("additionalProperties").filter(|s| s.is_object())
}

/// Patch extensions of `field`: its own first, then those of the definition it references.
fn meta(field: &Value, kube: &KubeVersion) -> PatchMeta {
    let target = resolve(field, kube);
    let get = |key: &str| field.get(key).or_else(|| target.and_then(|t| t.get(key)));
    let string = |key: &str| get(key).and_then(Value::as_str).map(str::to_owned);
    PatchMeta {
        merge_key: string("x-kubernetes-patch-merge-key"),
        strategies: string("x-kubernetes-patch-strategy")
            .map(|s| {
                s.split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        list_type: string("x-kubernetes-list-type"),
        list_map_keys: get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .map(|keys| {
                keys.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    }
}
