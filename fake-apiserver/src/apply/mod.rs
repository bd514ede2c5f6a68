//! Server-side apply (`PATCH` with `application/apply-patch+yaml`), as kube-apiserver's
//! fieldmanager over structured-merge-diff: conflicts with other managers, forced
//! takeover, removal of fields the applier no longer sets (unless someone else owns
//! them), defaulting, validation, generation and managedFields bookkeeping.

pub mod defaults;
pub mod fieldset;
pub mod managed;
pub mod merge;
pub mod quantity;
pub mod schema;
pub mod validate;

use crate::discovery::ResourceInfo;
use crate::status::{ApiError, Target};
use crate::store::{ObjKey, Store};
use crate::util::{rfc3339, uid_from};
use data_encoding::BASE64;
use defaults::{apply_defaults, DefaultCtx};
use fieldset::{applied_set, display_path, get_at, remove_at, FieldSet};
use managed::Entry;
use serde_json::{json, Map, Value};

/// One apply request, already routed.
pub struct ApplyRequest<'a> {
    /// The resource the URL names.
    pub info: &'a ResourceInfo,
    /// Namespace from the URL ("" for cluster-scoped).
    pub namespace: &'a str,
    /// Name from the URL.
    pub name: &'a str,
    /// Request body: JSON or YAML.
    pub body: &'a [u8],
    /// `fieldManager`.
    pub manager: &'a str,
    /// `force=true`.
    pub force: bool,
    /// `dryRun=All`: never write the store.
    pub dry_run: bool,
    /// Request time, Unix seconds.
    pub now: i64,
}

/// HTTP code (200 or 201) and the resulting object.
pub type ApplyOutcome = (u16, Value);

/// Runs one server-side apply against `store`.
pub fn server_side_apply(store: &mut Store, req: &ApplyRequest) -> Result<ApplyOutcome, ApiError> {
    let patch = parse_body(req.body)?;
    check_identity(req, &patch)?;
    let kind = req.info.kind.as_str();
    let target = Target {
        group: &req.info.group,
        resource: &req.info.plural,
        name: req.name,
        namespace: req.namespace,
    };
    if let Some(field) = validate::unknown_field(kind, &patch) {
        let gvk = format!("{}/{}, Kind={kind}", req.info.group, req.info.version);
        return Err(ApiError::internal(&format!(
            "failed to create typed patch object ({}/{}; {gvk}): {field}: field not declared in schema",
            req.namespace, req.name
        )));
    }
    let key = ObjKey {
        group: req.info.group.clone(),
        version: req.info.version.clone(),
        plural: req.info.plural.clone(),
        namespace: req.namespace.to_string(),
        name: req.name.to_string(),
    };
    let applied = applied_set(kind, &patch);
    let body = body_for_merge(kind, &patch);
    let (code, obj) = match store.get(&key) {
        Some(live) => (200, update(req, live, &applied, &body)?),
        None => {
            check_namespace(store, req)?;
            (201, create(req, &applied, &body))
        }
    };
    let invalid = validate::invalid_fields(kind, &obj);
    if !invalid.is_empty() {
        return Err(ApiError::invalid(&target, kind, &invalid));
    }
    if req.dry_run {
        return Ok((code, obj));
    }
    Ok((code, persist(store, key, obj)))
}

fn persist(store: &mut Store, key: ObjKey, mut obj: Value) -> Value {
    let rv = store.next_revision();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        // Go's ObjectMeta order: resourceVersion right after uid.
        let mut out = Map::new();
        for (k, v) in std::mem::take(meta) {
            let after_uid = k == "uid";
            if k != "resourceVersion" {
                out.insert(k, v);
            }
            if after_uid {
                out.insert("resourceVersion".into(), json!(rv.to_string()));
            }
        }
        out.entry("resourceVersion")
            .or_insert(json!(rv.to_string()));
        *meta = out;
    }
    store.put(key, obj.clone());
    obj
}

fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    let v = match serde_json::from_slice::<Value>(body) {
        Ok(v) => v,
        Err(_) => {
            let text = std::str::from_utf8(body)
                .map_err(|e| ApiError::bad_request(&format!("error decoding YAML: {e}")))?;
            // sigs.k8s.io/yaml (go-yaml v2, YAML 1.1): `on`/`yes` are booleans, `0755` is octal.
            let options = serde_saphyr::options! { legacy_octal_numbers: true };
            serde_saphyr::from_str_with_options::<Value>(text, options)
                .map_err(|e| ApiError::bad_request(&format!("error decoding YAML: {e}")))?
        }
    };
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "error decoding YAML: the apply patch is not an object",
        ));
    }
    Ok(v)
}

fn check_identity(req: &ApplyRequest, patch: &Value) -> Result<(), ApiError> {
    let s = |p: &str| patch.pointer(p).and_then(Value::as_str).unwrap_or("");
    let want_api = req.info.api_version();
    if s("/apiVersion") != want_api || s("/kind") != req.info.kind {
        return Err(ApiError::bad_request(&format!(
            "the apply patch is {}, Kind={} but the URL serves {want_api}, Kind={}",
            s("/apiVersion"),
            s("/kind"),
            req.info.kind
        )));
    }
    if s("/metadata/name") != req.name {
        return Err(ApiError::bad_request(&format!(
            "the name of the object ({}) does not match the name on the URL ({})",
            s("/metadata/name"),
            req.name
        )));
    }
    let ns = s("/metadata/namespace");
    if !ns.is_empty() && ns != req.namespace {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    if req.manager.is_empty() {
        return Err(ApiError::bad_request(
            "PATCH, application/apply-patch+yaml requests must supply fieldManager",
        ));
    }
    Ok(())
}

/// As the NamespaceLifecycle admission plugin: creating in a missing namespace is 404.
fn check_namespace(store: &Store, req: &ApplyRequest) -> Result<(), ApiError> {
    if req.namespace.is_empty() {
        return Ok(());
    }
    let key = ObjKey {
        group: String::new(),
        version: "v1".into(),
        plural: "namespaces".into(),
        namespace: String::new(),
        name: req.namespace.to_string(),
    };
    if store.get(&key).is_some() {
        return Ok(());
    }
    Err(ApiError::not_found(&Target {
        group: "",
        resource: "namespaces",
        name: req.namespace,
        namespace: "",
    }))
}

/// The patch as it is merged: system metadata and `status` dropped (status is reset
/// on apply to the main resource), Secret `stringData` folded into base64 `data`.
fn body_for_merge(kind: &str, patch: &Value) -> Value {
    let mut body = patch.clone();
    quantity::canonicalize_resources(&mut body);
    if let Some(m) = body.as_object_mut() {
        m.shift_remove("status");
        if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in [
                "uid",
                "resourceVersion",
                "generation",
                "creationTimestamp",
                "managedFields",
                "selfLink",
            ] {
                meta.shift_remove(k);
            }
        }
        if kind == "Secret" {
            if let Some(Value::Object(sd)) = m.shift_remove("stringData") {
                let data = m
                    .entry("data".to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(d) = data.as_object_mut() {
                    for (k, v) in sd {
                        let raw = v
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string());
                        d.insert(k, json!(BASE64.encode(raw.as_bytes())));
                    }
                }
            }
        }
    }
    body
}

fn create(req: &ApplyRequest, applied: &FieldSet, body: &Value) -> Value {
    let info = req.info;
    let mut meta = Map::new();
    meta.insert("name".into(), json!(req.name));
    if !req.namespace.is_empty() {
        meta.insert("namespace".into(), json!(req.namespace));
    }
    let seed = format!(
        "{}/{}/{}/{}",
        info.api_version(),
        info.kind,
        req.namespace,
        req.name
    );
    meta.insert("uid".into(), json!(uid_from(&seed)));
    if schema::has_generation(&info.group, &info.kind) {
        meta.insert("generation".into(), json!(1));
    }
    meta.insert("creationTimestamp".into(), json!(rfc3339(req.now)));
    let mut obj = Map::new();
    obj.insert("kind".into(), json!(info.kind));
    obj.insert("apiVersion".into(), json!(info.api_version()));
    obj.insert("metadata".into(), Value::Object(meta));
    let mut obj = Value::Object(obj);
    merge::merge(&info.kind, &mut Vec::new(), &mut obj, body);
    let ns_name = format!("{}/{}", req.namespace, req.name);
    let ctx = DefaultCtx {
        seed: &ns_name,
        create: true,
    };
    apply_defaults(&info.kind, &mut obj, &ctx);
    let entry = Entry::apply(
        req.manager,
        &info.api_version(),
        rfc3339(req.now),
        applied.clone(),
    );
    set_managed(&mut obj, &[entry]);
    obj
}

fn set_managed(obj: &mut Value, entries: &[Entry]) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if entries.is_empty() {
            meta.shift_remove("managedFields");
        } else {
            // Replaces in place, so an unchanged object keeps its exact key order.
            let list: Vec<Value> = entries.iter().map(Entry::to_json).collect();
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// A conflict: index of the other manager's entry and the contested path.
type Conflict = (usize, Vec<String>);

fn update(
    req: &ApplyRequest,
    live: &Value,
    applied: &FieldSet,
    body: &Value,
) -> Result<Value, ApiError> {
    let kind = req.info.kind.as_str();
    let mut entries = Entry::read_all(live);
    let mut merged = live.clone();
    merge::merge(kind, &mut Vec::new(), &mut merged, body);
    let conflicts = find_conflicts(req.manager, &entries, applied, live, &merged);
    if !conflicts.is_empty() && !req.force {
        return Err(conflict_error(&entries, &conflicts));
    }
    for (i, path) in &conflicts {
        if let Some(e) = entries.get_mut(*i) {
            e.set.remove(path);
            e.raw = None;
        }
    }
    let own = entries.iter().position(|e| e.is_apply_of(req.manager));
    if let Some(i) = own {
        let stale = entries[i].set.difference(applied);
        remove_stale(&mut merged, &stale, &entries, i);
    }
    let seed = format!("{}/{}", req.namespace, req.name);
    apply_defaults(
        kind,
        &mut merged,
        &DefaultCtx {
            seed: &seed,
            create: false,
        },
    );
    let changed = strip_managed(&merged) != strip_managed(live);
    if changed && spec_changed(live, &merged) {
        bump_generation(&mut merged);
    }
    let now = rfc3339(req.now);
    match own {
        Some(i) if entries[i].set == *applied && !changed => {}
        Some(i) => {
            let e = &mut entries[i];
            e.set = applied.clone();
            e.time = Some(now);
            e.raw = None;
        }
        None => entries.push(Entry::apply(
            req.manager,
            &req.info.api_version(),
            now,
            applied.clone(),
        )),
    }
    entries.retain(|e| !e.set.is_empty());
    managed::sort(&mut entries);
    set_managed(&mut merged, &entries);
    Ok(merged)
}

fn find_conflicts(
    manager: &str,
    entries: &[Entry],
    applied: &FieldSet,
    live: &Value,
    merged: &Value,
) -> Vec<Conflict> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if e.is_apply_of(manager) {
            continue;
        }
        for p in e.set.members() {
            let leaf = applied.contains(&p) && !applied.has_children_at(&p);
            if leaf && get_at(live, &p) != get_at(merged, &p) {
                out.push((i, p));
            }
        }
    }
    out
}

/// The 409 as `internal/conflict.go` words it: one conflict inline, several grouped by
/// manager (sorted).
fn conflict_error(entries: &[Entry], conflicts: &[Conflict]) -> ApiError {
    let describe = |i: usize| entries.get(i).map(Entry::describe).unwrap_or_default();
    let causes: Vec<(String, String)> = conflicts
        .iter()
        .map(|(i, p)| (format!("conflict with {}", describe(*i)), display_path(p)))
        .collect();
    let message = if let [(i, p)] = conflicts {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            describe(*i),
            display_path(p)
        )
    } else {
        let mut managers: Vec<usize> = conflicts.iter().map(|(i, _)| *i).collect();
        managers.sort_by_key(|i| entries.get(*i).map(|e| e.manager.clone()));
        managers.dedup();
        let mut lines = Vec::new();
        for m in managers {
            lines.push(format!("conflicts with {}:", describe(m)));
            for (_, p) in conflicts.iter().filter(|(i, _)| *i == m) {
                lines.push(format!("- {}", display_path(p)));
            }
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    ApiError::apply_conflict(&message, &causes)
}

/// Removes fields the applier owned before and no longer sets, unless another manager
/// owns them (or something below them).
fn remove_stale(obj: &mut Value, stale: &FieldSet, entries: &[Entry], own: usize) {
    for p in stale.members() {
        let owned_elsewhere = entries
            .iter()
            .enumerate()
            .any(|(i, e)| i != own && (e.set.contains(&p) || e.set.has_children_at(&p)));
        if !owned_elsewhere {
            remove_at(obj, &p);
        }
    }
}

fn strip_managed(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.shift_remove("managedFields");
    }
    o
}

/// Whether anything outside `metadata` and `status` changed (what bumps generation).
fn spec_changed(live: &Value, merged: &Value) -> bool {
    let body = |v: &Value| {
        let mut o = v.clone();
        if let Some(m) = o.as_object_mut() {
            m.shift_remove("metadata");
            m.shift_remove("status");
        }
        o
    };
    body(live) != body(merged)
}

fn bump_generation(obj: &mut Value) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if let Some(g) = meta.get("generation").and_then(Value::as_i64) {
            meta.insert("generation".into(), json!(g + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::Discovery;
    use std::path::Path;

    fn store_with(objs: &[Value]) -> (Discovery, Store) {
        let mut d = Discovery::recorded();
        let mut s = Store::default();
        for o in objs {
            let seeded = s.seed_object(&mut d, o.clone(), Path::new("<test>"));
            assert!(seeded.is_ok());
        }
        (d, s)
    }

    fn apply(
        d: &Discovery,
        s: &mut Store,
        body: &Value,
        manager: &str,
        dry_run: bool,
    ) -> Result<ApplyOutcome, ApiError> {
        let api_version = body["apiVersion"].as_str().unwrap_or("");
        let kind = body["kind"].as_str().unwrap_or("");
        let info = d.by_kind(api_version, kind).cloned();
        let info = info.unwrap_or_else(|| panic!("{kind} served"));
        let text = body.to_string();
        let req = ApplyRequest {
            info: &info,
            namespace: body["metadata"]["namespace"].as_str().unwrap_or(""),
            name: body["metadata"]["name"].as_str().unwrap_or(""),
            body: text.as_bytes(),
            manager,
            force: false,
            dry_run,
            now: 1_795_315_396,
        };
        server_side_apply(s, &req)
    }

    fn cm(data: Value, labels: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "ns", "labels": labels}, "data": data})
    }

    #[test]
    fn yaml_bodies_parse_as_sigs_k8s_io_yaml() {
        let v = parse_body(b"kind: X\na: on\nb: yes\nc: 0755\nd: \"0755\"\n").unwrap_or_default();
        assert_eq!(v["a"], true);
        assert_eq!(v["b"], true);
        assert_eq!(v["c"], 493);
        assert_eq!(v["d"], "0755");
        assert_eq!(parse_body(b"- a").map_err(|e| e.code).err(), Some(400));
    }

    #[test]
    fn fields_the_applier_drops_are_removed_unless_co_owned() {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}});
        let (d, mut s) = store_with(&[ns]);
        let first = apply(
            &d,
            &mut s,
            &cm(json!({"a": "1", "b": "2"}), json!({"x": "1"})),
            "one",
            false,
        );
        assert_eq!(first.map(|(c, _)| c).ok(), Some(201));
        let shared = apply(&d, &mut s, &cm(json!({"b": "2"}), json!({})), "two", false);
        assert!(shared.is_ok());
        let (code, after) =
            apply(&d, &mut s, &cm(json!({}), json!({})), "one", true).unwrap_or((0, Value::Null));
        assert_eq!(code, 200);
        // `a` and label `x` were only "one"'s: gone; `b` is co-owned by "two": kept.
        assert_eq!(after["data"], json!({"b": "2"}));
        assert_eq!(after["metadata"]["labels"], json!({}));
    }

    #[test]
    fn metadata_only_change_keeps_generation_and_conflicts_without_force() {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}});
        let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "ns", "labels": {"a": "1"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "d"}},
                "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}}});
        let (d, mut s) = store_with(&[ns]);
        let created = apply(&d, &mut s, &dep, "one", false)
            .map(|(_, o)| o)
            .unwrap_or_default();
        assert_eq!(created["metadata"]["generation"], 1);
        assert_eq!(
            created["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
        let mut relabel = dep.clone();
        relabel["metadata"]["labels"]["a"] = json!("2");
        let (_, o) = apply(&d, &mut s, &relabel, "one", true).unwrap_or((0, Value::Null));
        assert_eq!(o["metadata"]["generation"], 1);
        let mut rescale = dep.clone();
        rescale["spec"]["replicas"] = json!(3);
        let err = apply(&d, &mut s, &rescale, "two", true)
            .err()
            .map(|e| e.code);
        assert_eq!(err, Some(409));
        let (_, o) = apply(&d, &mut s, &rescale, "one", true).unwrap_or((0, Value::Null));
        assert_eq!(o["metadata"]["generation"], 2);
    }
}
