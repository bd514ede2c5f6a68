//! Routing and answering one request, synchronously, from the discovery documents and
//! the store. Paths follow kube-apiserver: `/api/v1/...`, `/apis/{group}/{version}/...`,
//! `namespaces/{ns}/{resource}[/{name}[/{subresource}]]`.

use crate::apply::{server_side_apply, ApplyRequest};
use crate::discovery::{Discovery, ResourceInfo, AGGREGATED_V2};
use crate::query::{get, parse_query, wants};
use crate::selector::Selector;
use crate::status::{ApiError, Target};
use crate::store::{ObjKey, Store};
use data_encoding::BASE64URL_NOPAD;
use serde_json::{json, Map, Value};

/// A request as the handler sees it.
#[derive(Debug, Clone, Default)]
pub struct Req {
    /// HTTP method, upper case.
    pub method: String,
    /// Path without query.
    pub path: String,
    /// Raw query string (no `?`).
    pub query: String,
    /// `Accept` header ("" when absent).
    pub accept: String,
    /// `Content-Type` header ("" when absent).
    pub content_type: String,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// A response before headers common to every answer are added.
#[derive(Debug, Clone)]
pub struct Resp {
    /// HTTP status code.
    pub code: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// `Cache-Control` (`no-cache, private`, or `public` for aggregated discovery).
    pub cache_control: &'static str,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Resp {
    fn json(code: u16, body: String) -> Self {
        Resp {
            code,
            content_type: "application/json".into(),
            cache_control: "no-cache, private",
            headers: Vec::new(),
            body: body.into_bytes(),
        }
    }
}

impl From<ApiError> for Resp {
    fn from(e: ApiError) -> Self {
        let mut r = match e.body {
            Some(b) => Resp::json(e.code, b.to_string()),
            None => Resp {
                code: e.code,
                content_type: "text/plain; charset=utf-8".into(),
                cache_control: "no-cache, private",
                headers: Vec::new(),
                body: b"404 page not found\n".to_vec(),
            },
        };
        r.headers.extend(e.headers);
        r
    }
}

/// What the handler needs besides the request.
pub struct Ctx<'a> {
    /// Discovery documents and resource table.
    pub disc: &'a Discovery,
    /// The store (locked by the caller).
    pub store: &'a mut Store,
    /// When set, PATCH is forbidden for this user name.
    pub forbid_patch_as: Option<&'a str>,
    /// Request time, Unix seconds.
    pub now: i64,
}

/// Answers one request.
pub fn handle(ctx: &mut Ctx, req: &Req) -> Resp {
    match route(ctx, req) {
        Ok(r) => r,
        Err(e) => e.into(),
    }
}

fn route(ctx: &mut Ctx, req: &Req) -> Result<Resp, ApiError> {
    let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    let disc = ctx.disc;
    let doc = |d: Option<crate::discovery::Doc>| {
        d.map(|d| Resp::json(200, d.body))
            .ok_or_else(ApiError::page_not_found)
    };
    let get = req.method == "GET";
    match segs.as_slice() {
        ["version"] if get => doc(Some(disc.version_doc())),
        ["healthz" | "livez" | "readyz"] if get => Ok(Resp {
            code: 200,
            content_type: "text/plain; charset=utf-8".into(),
            cache_control: "no-cache, private",
            headers: vec![("X-Content-Type-Options", "nosniff".into())],
            body: b"ok".to_vec(),
        }),
        ["api"] if get && aggregated(req) => Ok(aggregated_resp(disc, true)),
        ["apis"] if get && aggregated(req) => Ok(aggregated_resp(disc, false)),
        ["api"] if get => doc(Some(disc.api_doc())),
        ["apis"] if get => doc(Some(disc.apis_doc())),
        ["api", v] if get => doc(disc.group_version_doc("", v)),
        ["apis", g] if get => doc(disc.group_doc(g)),
        ["apis", g, v] if get => doc(disc.group_version_doc(g, v)),
        ["api", v, rest @ ..] => resource(ctx, req, "", v, rest),
        ["apis", g, v, rest @ ..] => resource(ctx, req, g, v, rest),
        _ => Err(ApiError::page_not_found()),
    }
}

fn aggregated(req: &Req) -> bool {
    wants(
        &req.accept,
        "apidiscovery.k8s.io",
        "v2",
        "APIGroupDiscoveryList",
    )
}

fn aggregated_resp(disc: &Discovery, core: bool) -> Resp {
    let (doc, etag) = disc.aggregated_doc(core);
    Resp {
        code: 200,
        content_type: AGGREGATED_V2.into(),
        cache_control: "public",
        headers: vec![("Etag", etag), ("Vary", "Accept".into())],
        body: doc.body.into_bytes(),
    }
}

/// A routed resource request.
struct Routed<'a> {
    info: ResourceInfo,
    namespace: &'a str,
    name: Option<&'a str>,
    sub: Option<&'a str>,
}

fn parse_resource<'a>(
    disc: &Discovery,
    group: &str,
    version: &str,
    rest: &[&'a str],
) -> Option<Routed<'a>> {
    let (namespace, plural, tail) = match rest {
        ["namespaces", ns, plural, tail @ ..] => (*ns, *plural, tail),
        [plural, tail @ ..] => ("", *plural, tail),
        [] => return None,
    };
    let info = disc.by_plural(group, version, plural)?.clone();
    let (name, sub) = match tail {
        [] => (None, None),
        [n] => (Some(*n), None),
        [n, s] => (Some(*n), Some(*s)),
        _ => return None,
    };
    if !info.namespaced && !namespace.is_empty() {
        return None;
    }
    if info.namespaced && namespace.is_empty() && name.is_some() {
        return None;
    }
    Some(Routed {
        info,
        namespace,
        name,
        sub,
    })
}

fn resource(
    ctx: &mut Ctx,
    req: &Req,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Result<Resp, ApiError> {
    let r = parse_resource(ctx.disc, group, version, rest).ok_or_else(ApiError::page_not_found)?;
    let query = parse_query(&req.query);
    match (req.method.as_str(), r.name, r.sub) {
        ("GET", None, None) => list(ctx, req, &r, &query),
        ("GET", Some(name), None | Some("status")) => get_object(ctx, req, &r, name),
        ("PATCH", Some(name), None) => patch(ctx, req, &r, name, &query),
        (_, _, Some(_)) => Err(ApiError::page_not_found()),
        (m, _, _) => Err(ApiError::method_not_allowed(&format!(
            "fake-apiserver implements GET (get, list) and PATCH (server-side apply) only, not {m} on {}",
            req.path
        ))),
    }
}

fn key(r: &Routed, name: &str) -> ObjKey {
    ObjKey {
        group: r.info.group.clone(),
        version: r.info.version.clone(),
        plural: r.info.plural.clone(),
        namespace: r.namespace.to_string(),
        name: name.to_string(),
    }
}

fn target<'a>(r: &'a Routed, name: &'a str) -> Target<'a> {
    Target {
        group: &r.info.group,
        resource: &r.info.plural,
        name,
        namespace: r.namespace,
    }
}

fn get_object(ctx: &Ctx, req: &Req, r: &Routed, name: &str) -> Result<Resp, ApiError> {
    let obj = ctx
        .store
        .get(&key(r, name))
        .ok_or_else(|| ApiError::not_found(&target(r, name)))?;
    if wants(&req.accept, "meta.k8s.io", "v1", "PartialObjectMetadata") {
        let meta = obj.get("metadata").cloned().unwrap_or(json!({}));
        let body = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta});
        return Ok(Resp::json(200, body.to_string()));
    }
    Ok(Resp::json(200, obj.to_string()))
}

fn patch(
    ctx: &mut Ctx,
    req: &Req,
    r: &Routed,
    name: &str,
    q: &[(String, String)],
) -> Result<Resp, ApiError> {
    if let Some(user) = ctx.forbid_patch_as {
        return Err(ApiError::forbidden(&target(r, name), user, "patch"));
    }
    let ct = req.content_type.split(';').next().unwrap_or("").trim();
    if ct != "application/apply-patch+yaml" {
        return Err(ApiError::unsupported_media_type(&req.content_type));
    }
    let dry_run = match get(q, "dryRun") {
        None => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::bad_request(&format!(
                "Invalid dry run value: {other:?}: supported values: \"All\""
            )))
        }
    };
    let apply = ApplyRequest {
        info: &r.info,
        namespace: r.namespace,
        name,
        body: &req.body,
        manager: get(q, "fieldManager").unwrap_or(""),
        force: get(q, "force") == Some("true"),
        dry_run,
        now: ctx.now,
    };
    let (code, obj) = server_side_apply(ctx.store, &apply)?;
    Ok(Resp::json(code, obj.to_string()))
}

fn list(ctx: &Ctx, req: &Req, r: &Routed, q: &[(String, String)]) -> Result<Resp, ApiError> {
    if matches!(get(q, "watch"), Some("true" | "1")) {
        return Err(ApiError::method_not_allowed(
            "fake-apiserver does not implement watch",
        ));
    }
    let selector = Selector::parse(get(q, "labelSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(&e.to_string()))?;
    let fields = FieldSelector::parse(get(q, "fieldSelector").unwrap_or(""))?;
    let ns = (!r.namespace.is_empty()).then_some(r.namespace);
    let matching: Vec<&Value> = ctx
        .store
        .list(&r.info, ns)
        .filter(|o| selector.matches(o.pointer("/metadata/labels").and_then(Value::as_object)))
        .filter(|o| fields.matches(o))
        .collect();
    let start = match get(q, "continue") {
        Some(tok) if !tok.is_empty() => decode_continue(tok)?,
        _ => 0,
    };
    let limit = get(q, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let end = limit.map_or(matching.len(), |l| (start + l).min(matching.len()));
    let page = matching.get(start..end).unwrap_or(&[]);
    let metadata_only = wants(
        &req.accept,
        "meta.k8s.io",
        "v1",
        "PartialObjectMetadataList",
    );
    let items: Vec<Value> = page.iter().map(|o| list_item(o, metadata_only)).collect();
    let mut meta = Map::new();
    meta.insert(
        "resourceVersion".into(),
        json!(ctx.store.revision().to_string()),
    );
    if end < matching.len() {
        meta.insert(
            "continue".into(),
            json!(BASE64URL_NOPAD.encode(end.to_string().as_bytes())),
        );
        meta.insert("remainingItemCount".into(), json!(matching.len() - end));
    }
    let (kind, api_version) = if metadata_only {
        (
            "PartialObjectMetadataList".to_string(),
            "meta.k8s.io/v1".to_string(),
        )
    } else {
        (format!("{}List", r.info.kind), r.info.api_version())
    };
    let mut body = Map::new();
    body.insert("kind".into(), json!(kind));
    body.insert("apiVersion".into(), json!(api_version));
    body.insert("metadata".into(), Value::Object(meta));
    body.insert("items".into(), Value::Array(items));
    Ok(Resp::json(200, Value::Object(body).to_string()))
}

fn decode_continue(tok: &str) -> Result<usize, ApiError> {
    BASE64URL_NOPAD
        .decode(tok.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ApiError::bad_request(&format!("invalid continue token {tok:?}")))
}

/// A list item: without `kind`/`apiVersion` (README point 10), or as
/// `PartialObjectMetadata`.
fn list_item(obj: &Value, metadata_only: bool) -> Value {
    if metadata_only {
        let meta = obj.get("metadata").cloned().unwrap_or(json!({}));
        return json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta});
    }
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        m.shift_remove("kind");
        m.shift_remove("apiVersion");
    }
    o
}

/// `fieldSelector` on `metadata.name` / `metadata.namespace` with `=`, `==`, `!=`.
struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, neg, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (f, false, v)
            } else {
                return Err(ApiError::bad_request(&format!(
                    "invalid selector: {part:?}"
                )));
            };
            if !matches!(field, "metadata.name" | "metadata.namespace") {
                return Err(ApiError::bad_request(&format!(
                    "field label not supported: {field}"
                )));
            }
            reqs.push((field.to_string(), neg, value.to_string()));
        }
        Ok(FieldSelector(reqs))
    }

    fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(field, neg, value)| {
            let ptr = if field == "metadata.name" {
                "/metadata/name"
            } else {
                "/metadata/namespace"
            };
            let have = obj.pointer(ptr).and_then(Value::as_str).unwrap_or("");
            (have == value) != *neg
        })
    }
}
