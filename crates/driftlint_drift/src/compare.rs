//! The two drift comparisons of one object: [`server`] (server-side-apply dry-run vs live, as
//! `kubectl diff --server-side` and Flux's `ssa` drift detection) and [`read_only`] (the fields
//! the repository sets vs live, with Kubernetes normalisation, as Argo CD's two-way diff).
//!
//! Decisions, identical in both modes:
//! - a key or list item only the live object has (a label added with `kubectl label`, a
//!   ConfigMap key added with `kubectl patch`) is **not** drift: server-side apply keeps fields
//!   other managers own, so the dry-run keeps them too and re-applying the repository would not
//!   remove them (Flux and `kubectl diff --server-side` show nothing); the read-only mode only
//!   compares what the repository sets (Argo CD's two-way diff ignores live-only fields).
//! - Secret `data`/`stringData` values are compared by hash and reported only as
//!   `sha256:<12 hex>`, with `sensitive = true`.
//! - `null` = `{}` = `[]` = absent; in read-only mode a repository value of `false`, `0` or `""`
//!   also equals an absent live field (the server drops Go zero values of `omitempty` fields).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::ignore::IgnoreRules;
use super::model::{FieldDrift, FieldPath, PathSegment};
use super::normalize::{
    format_at, is_empty, is_server_field, is_zero_scalar, item_key, list_keys, mask_secret_data,
    mask_secret_string_data, scalar_eq, secret_data_bytes, secret_hash, strip_server_fields,
    ObjectKind,
};
use driftlint_rules::ObjectRef;
use driftlint_schema::Catalog;
use driftlint_yaml::{Node, Origin, Value as YamlValue};

/// What a comparison needs besides the two objects.
pub struct CompareContext<'a> {
    /// Merge keys and field formats of the cluster's Kubernetes version (with the repository's
    /// CRDs added, so custom resources are keyed too).
    pub catalog: &'a Catalog,
    /// Objects an HPA or KEDA ScaledObject scales: their `spec.replicas` is never drift
    /// (see [`super::inventory::hpa_targets`]).
    pub hpa_targets: &'a BTreeSet<ObjectRef>,
    /// Configured and annotated ignore rules.
    pub ignore: &'a IgnoreRules,
}

/// The identity of a desired object; a namespace the rendered object lacks (a chart applied
/// with `-n`) is taken from the live object.
pub fn object_ref(desired: &Node, live: &Value) -> ObjectRef {
    let mut r = ObjectRef::of(desired);
    if r.namespace.is_none() {
        r.namespace = live
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    r
}

/// Server mode: the fields where the server-side-apply dry-run of `desired` (`dry_run`, what
/// the object would be after applying the repository) differs from `live`, as `kubectl diff
/// --server-side` and Flux's `ssa` drift detection decide.
///
/// Never drift: `status`, `metadata.managedFields`/`resourceVersion`/`uid`/`generation`/
/// `creationTimestamp`/`selfLink`, the `last-applied-configuration` and
/// `deployment.kubernetes.io/revision` annotations, and `spec.replicas` of an object in
/// `ctx.hpa_targets`; fields ignored by `ctx.ignore`; everything for an object Flux does not
/// reconcile (`kustomize.toolkit.fluxcd.io/ssa: Ignore`). Each [`FieldDrift`] has
/// `desired` = the dry-run value, `live` = the live value, keyed segments for merge-keyed lists,
/// and the origin of the field in `desired` (or of its nearest ancestor there). Sorted by path.
pub fn server(
    desired: &Node,
    dry_run: &Value,
    live: &Value,
    ctx: &CompareContext,
) -> Vec<FieldDrift> {
    if IgnoreRules::skips_object(desired) {
        return Vec::new();
    }
    let object = object_ref(desired, live);
    let scaled = ctx.hpa_targets.contains(&object);
    let kind = ObjectKind {
        api_version: &object.api_version,
        kind: &object.kind,
        scaled,
    };
    let (mut a, mut b) = (dry_run.clone(), live.clone());
    for side in [&mut a, &mut b] {
        strip_server_fields(side, scaled);
        if kind.is_secret() {
            mask_secret(side);
        }
    }
    let mut walk = Walk::new(ctx, kind, desired);
    walk.diff(Some(&a), Some(&b));
    finish(walk.out, &object, desired, live, ctx)
}

/// Read-only mode: the fields the repository sets in `desired` that `live` does not match,
/// with Kubernetes normalisation (see the module docs and [`super::normalize`]): quantities and
/// int-or-string by the schema, merge-keyed lists by key (ports with the defaulted `protocol:
/// TCP`), Secret `stringData`/`data` against the live base64 `data` by hash. Fields the server
/// owns and `spec.replicas` of a scaled object are skipped; `ctx.ignore` applies. Each
/// [`FieldDrift`] has `desired` = the rendered value, `live` = the live value, and the origin of
/// the rendered field. Sorted by path.
pub fn read_only(desired: &Node, live: &Value, ctx: &CompareContext) -> Vec<FieldDrift> {
    if IgnoreRules::skips_object(desired) {
        return Vec::new();
    }
    let object = object_ref(desired, live);
    let kind = ObjectKind {
        api_version: &object.api_version,
        kind: &object.kind,
        scaled: ctx.hpa_targets.contains(&object),
    };
    let mut masked = live.clone();
    if kind.is_secret() {
        mask_secret(&mut masked);
    }
    let mut walk = Walk::new(ctx, kind, desired);
    walk.node(desired, Some(&masked));
    finish(walk.out, &object, desired, live, ctx)
}

fn finish(
    mut out: Vec<FieldDrift>,
    object: &ObjectRef,
    desired: &Node,
    live: &Value,
    ctx: &CompareContext,
) -> Vec<FieldDrift> {
    out.retain(|f| !ctx.ignore.is_ignored(object, desired, live, &f.path));
    out.sort_by(|x, y| x.path.cmp(&y.path));
    out
}

/// Replaces Secret `data` values by their hashes; drops `stringData` (never returned).
fn mask_secret(obj: &mut Value) {
    if let Some(map) = obj.as_object_mut() {
        if let Some(data) = map.get_mut("data") {
            *data = mask_secret_data(data);
        }
        map.remove("stringData");
    }
}

/// The origin of the field at `path` in the desired object, matching keyed list items by their
/// key (a missing `protocol` is `TCP`), or of the nearest ancestor the repository sets. A
/// collection found through a map key points at the key's line. A Secret's `data.K` is found
/// at `stringData.K` when the repository writes it there.
pub fn origin_at(desired: &Node, path: &FieldPath) -> Origin {
    let mut node = desired;
    let mut origin = desired.origin.clone();
    for (depth, seg) in path.0.iter().enumerate() {
        let next = match seg {
            PathSegment::Field(k) => {
                let entry = node.as_map().and_then(|m| m.get_entry(k));
                let entry = match (entry, depth, k.as_str()) {
                    (None, 0, "data") => node.as_map().and_then(|m| m.get_entry("stringData")),
                    _ => entry,
                };
                entry.map(|(key, value)| match value.value {
                    YamlValue::Scalar(_) => (value, value.origin.clone()),
                    _ => (value, key.origin.clone()),
                })
            }
            PathSegment::Key(keys) => node
                .as_seq()
                .and_then(|items| items.iter().find(|item| key_matches(item, keys)))
                .map(|item| (item, item.origin.clone())),
            PathSegment::Index(i) => node
                .as_seq()
                .and_then(|items| items.get(*i))
                .map(|item| (item, item.origin.clone())),
        };
        match next {
            Some((n, o)) => {
                node = n;
                origin = o;
            }
            None => break,
        }
    }
    origin
}

fn key_matches(item: &Node, keys: &[(String, String)]) -> bool {
    keys.iter().all(|(k, v)| match item.get(k) {
        Some(n) => n.scalar_text() == Some(v.as_str()),
        None => k == "protocol" && v == "TCP",
    })
}

/// A comparison in progress: the current path (with keyed segments) and schema path (field
/// names only), and the drifts found so far.
struct Walk<'a> {
    ctx: &'a CompareContext<'a>,
    kind: ObjectKind<'a>,
    desired: &'a Node,
    path: Vec<PathSegment>,
    schema: Vec<String>,
    out: Vec<FieldDrift>,
}

impl<'a> Walk<'a> {
    fn new(ctx: &'a CompareContext<'a>, kind: ObjectKind<'a>, desired: &'a Node) -> Self {
        Walk {
            ctx,
            kind,
            desired,
            path: Vec::new(),
            schema: Vec::new(),
            out: Vec::new(),
        }
    }

    fn schema_path(&self) -> Vec<&str> {
        self.schema.iter().map(String::as_str).collect()
    }

    fn skipped(&self) -> bool {
        is_server_field(&self.schema_path(), self.kind.scaled)
    }

    fn sensitive(&self) -> bool {
        self.kind.is_secret()
            && matches!(
                self.schema.first().map(String::as_str),
                Some("data" | "stringData")
            )
    }

    fn push(&mut self, desired: Option<&Value>, live: Option<&Value>) {
        let path = FieldPath(self.path.clone());
        let origin = origin_at(self.desired, &path);
        let clean = |v: Option<&Value>| v.filter(|v| !is_empty(Some(v))).cloned();
        self.out.push(FieldDrift {
            path,
            desired: clean(desired),
            live: clean(live),
            sensitive: self.sensitive(),
            origin,
        });
    }

    fn enter_field(&mut self, key: &str) {
        self.path.push(PathSegment::Field(key.to_string()));
        self.schema.push(key.to_string());
    }

    fn leave_field(&mut self) {
        self.path.pop();
        self.schema.pop();
    }

    fn keys(&self) -> Vec<String> {
        list_keys(self.ctx.catalog, &self.kind, &self.schema_path())
    }

    fn scalars_equal(&self, a: &Value, b: &Value) -> bool {
        let format = format_at(self.ctx.catalog, &self.kind, &self.schema_path());
        scalar_eq(a, b, format)
    }

    // ---- server mode: two JSON values ----

    fn diff(&mut self, a: Option<&Value>, b: Option<&Value>) {
        if self.skipped() || (is_empty(a) && is_empty(b)) {
            return;
        }
        match (a, b) {
            (Some(Value::Object(x)), Some(Value::Object(y))) => self.diff_maps(x, y),
            (Some(Value::Array(x)), Some(Value::Array(y))) => self.diff_lists(x, y),
            (Some(x), Some(y)) if !x.is_object() && !x.is_array() && self.scalars_equal(x, y) => {}
            _ => self.push(a, b),
        }
    }

    fn diff_maps(&mut self, x: &Map<String, Value>, y: &Map<String, Value>) {
        let keys: Vec<&String> = x
            .keys()
            .chain(y.keys().filter(|k| !x.contains_key(*k)))
            .collect();
        for k in keys {
            self.enter_field(k);
            self.diff(x.get(k), y.get(k));
            self.leave_field();
        }
    }

    fn diff_lists(&mut self, x: &[Value], y: &[Value]) {
        let keys = self.keys();
        let keyed = |items: &[Value]| -> Option<Vec<Vec<(String, String)>>> {
            items.iter().map(|i| item_key(i, &keys)).collect()
        };
        match (keys.is_empty(), keyed(x), keyed(y)) {
            (false, Some(kx), Some(ky)) => {
                for (key, item) in kx.iter().zip(x) {
                    let other = ky.iter().position(|k| k == key).and_then(|i| y.get(i));
                    self.path.push(PathSegment::Key(key.clone()));
                    self.diff(Some(item), other);
                    self.path.pop();
                }
                for (key, item) in ky.iter().zip(y).filter(|(k, _)| !kx.contains(k)) {
                    self.path.push(PathSegment::Key(key.clone()));
                    self.diff(None, Some(item));
                    self.path.pop();
                }
            }
            _ if x.len() == y.len() => {
                for (i, (a, b)) in x.iter().zip(y).enumerate() {
                    self.path.push(PathSegment::Index(i));
                    self.diff(Some(a), Some(b));
                    self.path.pop();
                }
            }
            _ => self.push(
                Some(&Value::Array(x.to_vec())),
                Some(&Value::Array(y.to_vec())),
            ),
        }
    }

    // ---- read-only mode: the rendered tree against live JSON ----

    fn node(&mut self, node: &Node, live: Option<&Value>) {
        if self.skipped() {
            return;
        }
        match &node.value {
            YamlValue::Map(m) => {
                if self.kind.is_secret() && self.path.is_empty() {
                    self.secret_values(node, live);
                }
                match live {
                    Some(Value::Object(lm)) => {
                        for (k, v) in m.iter() {
                            let key = k.as_scalar().map(|s| s.text.as_str()).unwrap_or("");
                            if self.kind.is_secret()
                                && self.path.is_empty()
                                && (key == "data" || key == "stringData")
                            {
                                continue;
                            }
                            self.enter_field(key);
                            self.node(v, lm.get(key));
                            self.leave_field();
                        }
                    }
                    other => self.absent_or_mismatch(node, other),
                }
            }
            YamlValue::Seq(items) => match live {
                Some(Value::Array(la)) => self.node_list(node, items, la),
                other => self.absent_or_mismatch(node, other),
            },
            YamlValue::Scalar(_) => {
                let d = node.to_json();
                match live {
                    _ if d.is_null() => {}
                    None | Some(Value::Null) if is_zero_scalar(&d) => {}
                    Some(l) if !l.is_object() && !l.is_array() && self.scalars_equal(&d, l) => {}
                    _ => self.push(Some(&d), live),
                }
            }
        }
    }

    /// The live side is absent, null, or of another shape: drift unless the desired value is
    /// empty once its nulls, empties and zero values are pruned.
    fn absent_or_mismatch(&mut self, node: &Node, live: Option<&Value>) {
        let pruned = prune(&node.to_json());
        match (pruned, live) {
            (None, l) if is_empty(l) => {}
            (d, l) => {
                let d = d.unwrap_or(Value::Null);
                self.push(Some(&d), l);
            }
        }
    }

    fn node_list(&mut self, node: &Node, items: &[Node], live: &[Value]) {
        let keys = self.keys();
        let desired_keys: Option<Vec<_>> = items
            .iter()
            .map(|i| item_key(&i.to_json(), &keys))
            .collect();
        match desired_keys {
            Some(dk) if !keys.is_empty() => {
                for (key, item) in dk.into_iter().zip(items) {
                    let other = live
                        .iter()
                        .find(|l| item_key(l, &keys).as_ref() == Some(&key));
                    self.path.push(PathSegment::Key(key));
                    match other {
                        Some(l) => self.node(item, Some(l)),
                        None => self.absent_or_mismatch(item, None),
                    }
                    self.path.pop();
                }
            }
            _ if items.len() == live.len() => {
                for (i, (item, l)) in items.iter().zip(live).enumerate() {
                    self.path.push(PathSegment::Index(i));
                    self.node(item, Some(l));
                    self.path.pop();
                }
            }
            _ => {
                let d = node.to_json();
                self.push(Some(&d), Some(&Value::Array(live.to_vec())));
            }
        }
    }

    /// Secret `data` (base64) and `stringData` (text) against the live `data`, already masked:
    /// every value is compared and reported as a hash, at `data.KEY`.
    fn secret_values(&mut self, secret: &Node, live: Option<&Value>) {
        let live_data = live.and_then(|l| l.get("data"));
        for (field, base64) in [("data", true), ("stringData", false)] {
            let Some(map) = secret.get(field).and_then(Node::as_map) else {
                continue;
            };
            for (k, v) in map.iter() {
                let key = k.as_scalar().map(|s| s.text.as_str()).unwrap_or("");
                let value = v.to_json();
                let hashed = if base64 {
                    Value::String(secret_hash(&secret_data_bytes(&value)))
                } else {
                    mask_secret_string_data(&value)
                };
                let other = live_data.and_then(|d| d.get(key));
                if other != Some(&hashed) {
                    self.enter_field("data");
                    self.enter_field(key);
                    self.push(Some(&hashed), other);
                    self.leave_field();
                    self.leave_field();
                }
            }
        }
    }
}

/// `v` without nulls, empty maps/lists and zero scalars, recursively; `None` when nothing is
/// left (the repository sets nothing the server would keep).
fn prune(v: &Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            let kept: Map<String, Value> = m
                .iter()
                .filter_map(|(k, v)| prune(v).map(|v| (k.clone(), v)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(items) => (!items.is_empty()).then(|| {
            // Positions matter in atomic lists: an item that prunes to nothing stays as written.
            Value::Array(
                items
                    .iter()
                    .map(|i| prune(i).unwrap_or_else(|| i.clone()))
                    .collect(),
            )
        }),
        Value::Null => None,
        other if is_zero_scalar(other) => None,
        other => Some(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crate::inventory::hpa_targets;
    use serde_json::json;

    struct Fixture {
        catalog: Catalog,
        desired: Vec<Node>,
        hpa: BTreeSet<ObjectRef>,
        ignore: IgnoreRules,
    }

    fn fixture() -> Fixture {
        let catalog = Catalog::builtin("1.36").expect("catalog");
        let desired = fixtures::desired();
        let hpa = hpa_targets(&desired, &fixtures::objects("live-after-drift"));
        Fixture {
            catalog,
            desired,
            hpa,
            ignore: IgnoreRules::default(),
        }
    }

    impl Fixture {
        fn ctx(&self) -> CompareContext<'_> {
            CompareContext {
                catalog: &self.catalog,
                hpa_targets: &self.hpa,
                ignore: &self.ignore,
            }
        }

        /// (stem, path, desired, live, origin line) of every drift in `mode` against `folder`.
        fn drifts(
            &self,
            folder: &str,
            server_mode: bool,
        ) -> Vec<(String, String, String, String, u32)> {
            let mut out = Vec::new();
            for d in &self.desired {
                let stem = fixtures::stem(d);
                let Some(live) = fixtures::json(folder, &format!("{stem}.json")) else {
                    continue;
                };
                let fields = if server_mode {
                    let dry = fixtures::json("ssa-dry-run", &format!("{stem}.dry-run.json"));
                    let dry = match folder {
                        "live-after-apply" => live.clone(),
                        _ => dry.expect("dry-run fixture"),
                    };
                    server(d, &dry, &live, &self.ctx())
                } else {
                    read_only(d, &live, &self.ctx())
                };
                let show = |v: &Option<Value>| v.as_ref().map_or("-".to_string(), Value::to_string);
                for f in fields {
                    out.push((
                        stem.clone(),
                        f.path.to_string(),
                        show(&f.desired),
                        show(&f.live),
                        f.origin.line,
                    ));
                }
            }
            out
        }
    }

    fn row(
        stem: &str,
        path: &str,
        d: &str,
        l: &str,
        line: u32,
    ) -> (String, String, String, String, u32) {
        (stem.into(), path.into(), d.into(), l.into(), line)
    }

    #[test]
    fn applied_objects_have_no_drift_in_either_mode() {
        let f = fixture();
        assert_eq!(f.drifts("live-after-apply", false), vec![]);
        assert_eq!(f.drifts("live-after-apply", true), vec![]);
    }

    #[test]
    fn after_drift_both_modes_find_exactly_the_injected_changes() {
        let f = fixture();
        let expected = vec![
            row("shop.Deployment.web", "spec.replicas", "4", "7", 39),
            row(
                "shop.Deployment.web",
                "spec.template.spec.containers[name=web].image",
                "\"nginx:latest\"",
                "\"nginx:1.27\"",
                54,
            ),
            row(
                "platform.ConfigMap.app-settings",
                "data.LOG_LEVEL",
                "\"info\"",
                "\"debug\"",
                50,
            ),
        ];
        let mut sorted = expected.clone();
        sorted.sort();
        for server_mode in [true, false] {
            let mut got = f.drifts("live-after-drift", server_mode);
            got.sort();
            assert_eq!(got, sorted, "server mode: {server_mode}");
        }
    }

    #[test]
    fn ignored_managers_hide_the_kubectl_changes_of_the_fixture() {
        let mut f = fixture();
        let cfg = driftlint_yaml::parse_documents(
            "c.yaml".into(),
            "- group: apps\n  kind: Deployment\n  managedFieldsManagers: [kubectl, kubectl-set]\n- kind: ConfigMap\n  name: app-*\n  jsonPointers: [/data/LOG_LEVEL]\n",
        )
        .expect("parses")
        .remove(0);
        f.ignore = IgnoreRules::parse(&cfg).expect("valid");
        assert_eq!(f.drifts("live-after-drift", true), vec![]);
        assert_eq!(f.drifts("live-after-drift", false), vec![]);
        let cfg = driftlint_yaml::parse_documents(
            "c.yaml".into(),
            "- kind: Deployment\n  managedFieldsManagers: [kubectl-set]\n",
        )
        .expect("parses")
        .remove(0);
        f.ignore = IgnoreRules::parse(&cfg).expect("valid");
        let left: Vec<String> = f
            .drifts("live-after-drift", true)
            .into_iter()
            .map(|r| r.1)
            .collect();
        assert_eq!(left, vec!["spec.replicas", "data.LOG_LEVEL"]);
    }

    #[test]
    fn a_raw_dry_run_in_server_key_order_with_another_manager_gives_the_same_drift() {
        let f = fixture();
        let web = f
            .desired
            .iter()
            .find(|d| fixtures::stem(d) == "shop.Deployment.web")
            .expect("web");
        let dry = fixtures::json("raw-http", "apply-dry-run-force.response.json").expect("raw");
        let live = fixtures::json("live-after-drift", "shop.Deployment.web.json").expect("live");
        let got: Vec<(String, u32)> = server(web, &dry, &live, &f.ctx())
            .into_iter()
            .map(|d| (d.path.to_string(), d.origin.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("spec.replicas".to_string(), 39),
                (
                    "spec.template.spec.containers[name=web].image".to_string(),
                    54
                )
            ]
        );
    }

    #[test]
    fn secrets_are_compared_by_hash_and_never_shown() {
        let f = fixture();
        let secret = f
            .desired
            .iter()
            .find(|d| fixtures::stem(d) == "shop.Secret.db-credentials")
            .expect("secret");
        let mut live =
            fixtures::json("live-after-drift", "shop.Secret.db-credentials.json").expect("live");
        live["data"]["password"] = json!("b3RoZXI=");
        for fields in [
            read_only(secret, &live, &f.ctx()),
            server(
                secret,
                &fixtures::json("ssa-dry-run", "shop.Secret.db-credentials.dry-run.json")
                    .expect("dry"),
                &live,
                &f.ctx(),
            ),
        ] {
            assert_eq!(fields.len(), 1, "{fields:?}");
            let d = &fields[0];
            assert_eq!(d.path.to_string(), "data.password");
            assert!(d.sensitive);
            assert_eq!(d.origin.line, 10);
            let text = serde_json::to_string(&fields).expect("json");
            assert!(
                !text.contains("fixture-password")
                    && !text.contains("b3RoZXI")
                    && !text.contains("other"),
                "{text}"
            );
            assert!(text.contains("sha256:"), "{text}");
        }
    }

    #[test]
    fn read_only_normalises_quantities_ports_and_int_or_string() {
        let f = fixture();
        let desired = driftlint_yaml::parse_documents(
            "d.yaml".into(),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  namespace: ns\nspec:\n  template:\n    spec:\n      hostNetwork: false\n      containers:\n      - name: c\n        ports:\n        - containerPort: 80\n        resources:\n          limits: {cpu: 1000m, memory: 1Gi}\n        livenessProbe:\n          httpGet: {port: \"8080\"}\n",
        )
        .expect("parses")
        .remove(0);
        let live = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "namespace": "ns"},
            "spec": {"template": {"spec": {"containers": [{"name": "c",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "resources": {"limits": {"cpu": "1", "memory": "1024Mi"}},
                "livenessProbe": {"httpGet": {"port": 8080}}}]}}}});
        assert_eq!(read_only(&desired, &live, &f.ctx()), vec![]);
        let mut changed = live.clone();
        changed["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"] = json!("UDP");
        let fields = read_only(&desired, &changed, &f.ctx());
        assert_eq!(fields.len(), 1);
        assert_eq!(
            fields[0].path.to_string(),
            "spec.template.spec.containers[name=c].ports[containerPort=80,protocol=TCP]"
        );
        assert_eq!(fields[0].live, None);
        assert_eq!(fields[0].origin.line, 13);
    }
}

#[cfg(test)]
mod hpa_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replicas_of_a_scaled_object_are_not_drift() {
        let catalog = Catalog::builtin("1.36").expect("catalog");
        let desired = driftlint_yaml::parse_documents(
            "d.yaml".into(),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  namespace: ns\nspec:\n  replicas: 3\n",
        )
        .expect("parses")
        .remove(0);
        let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "a", "namespace": "ns"}, "spec": {"replicas": 5}});
        let ignore = IgnoreRules::default();
        let mut scaled = BTreeSet::new();
        let none = BTreeSet::new();
        let plain = CompareContext {
            catalog: &catalog,
            hpa_targets: &none,
            ignore: &ignore,
        };
        assert_eq!(read_only(&desired, &live, &plain).len(), 1);
        assert_eq!(server(&desired, &desired.to_json(), &live, &plain).len(), 1);
        scaled.insert(object_ref(&desired, &live));
        let ctx = CompareContext {
            catalog: &catalog,
            hpa_targets: &scaled,
            ignore: &ignore,
        };
        assert_eq!(read_only(&desired, &live, &ctx), vec![]);
        assert_eq!(server(&desired, &desired.to_json(), &live, &ctx), vec![]);
    }
}
