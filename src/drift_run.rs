//! The `driftlint drift` pipeline: render the repository as `check` does, ask the cluster for
//! each desired object (and, in server mode, a server-side-apply dry-run of it), compare, find
//! orphans through the inventories, and turn every verdict into findings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;

use crate::check::{self, CheckError, CheckOptions};
use crate::report::{Finding, ObjectRef};
use driftlint_drift::cluster::{
    ApiFailure, ApiResource, Cluster, ClusterError, ClusterOptions, DryRun, Resolution,
    FIELD_MANAGER,
};
use driftlint_drift::compare::{self, CompareContext};
use driftlint_drift::findings::{self, to_findings};
use driftlint_drift::ignore::IgnoreRules;
use driftlint_drift::inventory::{self, InventoryQuery};
use driftlint_drift::managers::FieldManager;
use driftlint_drift::model::{DriftKind, Mode, ObjectDrift};
use driftlint_yaml::{Node, Origin};

mod deployers;

/// What to compare and how.
#[derive(Clone, Debug)]
pub struct DriftOptions {
    /// Paths, Kubernetes version, CRD dirs... as for `check` (`changed_files` is ignored).
    pub check: CheckOptions,
    /// How to reach the cluster.
    pub cluster: ClusterOptions,
    /// Server-side-apply dry-run (default) or read-only comparison.
    pub mode: Mode,
    /// An extra inventory: a label selector whose objects the repository must declare
    /// (`--selector`).
    pub selector: Option<String>,
    /// Who server-side-apply dry-runs apply as (`--field-manager`, default `auto`: the
    /// manager that applied each object, so fields the repository removed show as drift).
    pub field_manager: FieldManager,
}

/// The outcome of a drift run.
#[derive(Clone, Debug)]
pub struct DriftReport {
    /// The repository root every origin is relative to.
    pub root: PathBuf,
    /// The cluster's name (kubeconfig context), part of every fingerprint.
    pub cluster: String,
    /// The mode asked for; objects whose dry-run was forbidden were compared read-only.
    pub mode: Mode,
    /// One verdict per desired object (in-sync ones included) and per orphan, in
    /// deterministic order.
    pub objects: Vec<ObjectDrift>,
    /// Drift, render and query findings, sorted.
    pub findings: Vec<Finding>,
    /// The source texts a report may show (read through the confined reader, redacted).
    pub sources: check::Sources,
}

/// Codes that mean "the run could not look at something" (exit code 2).
pub const ERROR_CODES: [&str; 4] = ["RENDER001", "RENDER002", "CONFIG001", "DRIFT005"];

impl DriftReport {
    /// True when a target failed to render, the configuration is invalid or the cluster
    /// answered an object with an error (exit code 2).
    pub fn has_input_errors(&self) -> bool {
        self.findings
            .iter()
            .any(|f| ERROR_CODES.contains(&f.code.as_str()))
    }
}

/// A problem that stops the run.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    /// The repository could not be read at all.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// The cluster cannot be used.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// One object the repository declares, ready to send (its rendered node is kept beside it,
/// at the same index, so node slices can be handed to the comparison functions uncloned).
struct Desired {
    target: String,
    origin: Origin,
    object: ObjectRef,
    resource: ApiResource,
}

/// Where an inventory's orphans point when the repository renders the Flux Kustomization
/// that owns it: `(namespace, name)` → (its origin, its target).
type FluxOwners = BTreeMap<(String, String), (Origin, String)>;

/// Runs drift over `opts.check.paths` against the cluster of `opts.cluster`.
///
/// Errors: [`DriftError`] when the repository root is unusable or the cluster cannot be
/// reached; everything about single objects is a finding.
pub fn drift(opts: &DriftOptions) -> Result<DriftReport, DriftError> {
    let mut repo = check::render_repo(&opts.check)?;
    let cluster = Cluster::connect(&opts.cluster)?;
    let mut objects = Vec::new();
    let flux_owners = flux_owners(&repo.targets);
    let releases = deployers::release_owners(&repo.targets, cluster.default_namespace());
    let namespaces = deployers::release_namespaces(&repo.targets);
    let (desired, nodes) = resolve_desired(
        &cluster,
        std::mem::take(&mut repo.targets),
        &namespaces,
        &mut objects,
    );
    let lives = cluster.fetch_all(
        desired
            .iter()
            .map(|d| {
                (
                    d.resource.clone(),
                    d.object.namespace.clone(),
                    d.object.name.clone(),
                )
            })
            .collect(),
    );
    let hpa = scaled_objects(&nodes, &lives);
    let ignore = repo.config.drift_ignore.clone();
    let ctx = CompareContext {
        catalog: &repo.catalog,
        hpa_targets: &hpa,
        ignore: &ignore,
    };
    let verdicts = verdicts(&cluster, opts, &nodes, &desired, &lives, &ctx);
    let mut forbidden: Option<(ObjectDrift, String)> = None;
    let mut rejected = Vec::new();
    for (d, (verdict, fallback)) in desired.iter().zip(verdicts) {
        let object = ObjectDrift {
            object: d.object.clone(),
            origin: d.origin.clone(),
            target: d.target.clone(),
            drift: verdict,
        };
        match fallback {
            Some(Fallback::Forbidden(message)) if forbidden.is_none() => {
                forbidden = Some((object.clone(), message));
            }
            Some(Fallback::Rejected(code, message)) => {
                rejected.push(findings::dry_run_rejected(
                    &object,
                    cluster.name(),
                    code,
                    &message,
                ));
            }
            _ => {}
        }
        objects.push(object);
    }
    let inventory = Inventory {
        desired: &desired,
        nodes: &nodes,
        flux_owners: &flux_owners,
    };
    // The deployers' own inventories first: their owner is the unit that deployed the object.
    let mut found = deployers::orphans(&cluster, &desired, &lives, &flux_owners, &releases);
    found.extend(orphans(&cluster, &inventory, opts.selector.as_deref()));
    let mut reported = BTreeSet::new();
    objects.extend(found.into_iter().filter(|o| {
        !matches!(o.drift, DriftKind::Orphaned { .. }) || reported.insert(o.object.clone())
    }));
    objects.sort_by(|a, b| a.object.cmp(&b.object).then(a.target.cmp(&b.target)));
    if let Some(cause) = cluster.gone() {
        collapse_unanswered(&mut objects, desired.len(), &cause);
    }
    driftlint_drift::redact::redact_objects(&mut objects, repo.sources.redactor());
    let mut findings = repo.findings;
    findings.extend(to_findings(&objects, cluster.name()));
    if let Some((first, message)) = &forbidden {
        findings.push(findings::dry_run_forbidden(first, cluster.name(), message));
    }
    findings.extend(rejected);
    for f in &mut findings {
        repo.sources.redact_finding(f);
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(DriftReport {
        root: repo.root,
        cluster: cluster.name().to_string(),
        mode: opts.mode,
        objects,
        findings,
        sources: repo.sources,
    })
}

/// Maps every rendered object to its resource; unserved kinds and failed discovery become
/// verdicts in `out`. An object rendered by two targets is compared once (first target).
/// `namespaces` are the release namespaces of Helm release units by target id
/// ([`deployers::release_namespaces`]).
/// Returns the objects to compare and, at the same indexes, their rendered nodes (moved out of
/// `targets`, namespaces filled in).
fn resolve_desired(
    cluster: &Cluster,
    targets: Vec<(crate::discover::Target, Vec<Node>)>,
    namespaces: &BTreeMap<String, String>,
    out: &mut Vec<ObjectDrift>,
) -> (Vec<Desired>, Vec<Node>) {
    let gvks: BTreeSet<(String, String)> = targets
        .iter()
        .flat_map(|(_, objs)| objs.iter())
        .map(|o| {
            let r = ObjectRef::of(o);
            (r.api_version, r.kind)
        })
        .collect();
    let resolved = cluster.resolve(&gvks.into_iter().collect::<Vec<_>>());
    let mut seen = BTreeSet::new();
    let (mut desired, mut nodes) = (Vec::new(), Vec::new());
    for (target, objs) in targets {
        // As `helm install -n NS` for a release (a chart target's, a HelmRelease's, a helmfile
        // release's), else as `kubectl apply` (the context's).
        let default_ns = target
            .release
            .as_ref()
            .and_then(|r| r.namespace.clone())
            .or_else(|| namespaces.get(&target.id()).cloned())
            .unwrap_or_else(|| cluster.default_namespace().to_string());
        for node in objs.into_iter().filter(|o| !is_helm_hook(o)) {
            let mut object = ObjectRef::of(&node);
            let key = (object.api_version.clone(), object.kind.clone());
            let verdict = |drift| ObjectDrift {
                object: object.clone(),
                origin: node.origin.clone(),
                target: target.id(),
                drift,
            };
            match resolved.get(&key) {
                Some(Resolution::Served(res)) => {
                    object.namespace = match res.namespaced {
                        true => object.namespace.or_else(|| Some(default_ns.clone())),
                        false => None,
                    };
                    if seen.insert(object.clone()) {
                        let node = with_namespace(node, object.namespace.as_deref());
                        desired.push(Desired {
                            target: target.id(),
                            origin: node.origin.clone(),
                            object,
                            resource: res.clone(),
                        });
                        nodes.push(node);
                    }
                }
                Some(Resolution::Failed(f)) => out.push(verdict(failed(f))),
                Some(Resolution::NotServed) | None => out.push(verdict(DriftKind::NotServed)),
            }
        }
    }
    (desired, nodes)
}

/// Helm hooks (`helm.sh/hook`: tests, pre/post-install Jobs) are not part of a release's
/// manifest: Helm runs them and usually deletes them, so their absence is not drift.
fn is_helm_hook(node: &Node) -> bool {
    node.get_path(&["metadata", "annotations", "helm.sh/hook"])
        .is_some()
}

/// `node` with `metadata.namespace` set when it lacks one (as `kubectl apply -n` does).
fn with_namespace(mut node: Node, namespace: Option<&str>) -> Node {
    if let Some(ns) = namespace {
        if node.str_at(&["metadata", "namespace"]).is_none() {
            if let Some(meta) = node.get_mut("metadata") {
                let origin = meta.origin.clone();
                if let Some(map) = meta.as_map_mut() {
                    map.insert("namespace", Node::string(ns, origin));
                }
            }
        }
    }
    node
}

/// The objects an autoscaler scales (their `spec.replicas` is never drift), from the
/// autoscalers the repository renders and those the cluster runs; only autoscalers are looked
/// at (and copied).
fn scaled_objects(
    nodes: &[Node],
    lives: &[Result<Option<Value>, ApiFailure>],
) -> BTreeSet<ObjectRef> {
    let is_scaler =
        |kind: Option<&str>| matches!(kind, Some("HorizontalPodAutoscaler" | "ScaledObject"));
    let scalers: Vec<Node> = nodes
        .iter()
        .filter(|n| is_scaler(n.str_at(&["kind"])))
        .cloned()
        .collect();
    let live: Vec<Value> = lives
        .iter()
        .filter_map(|l| l.as_ref().ok().and_then(Option::as_ref))
        .filter(|v| is_scaler(v.get("kind").and_then(Value::as_str)))
        .cloned()
        .collect();
    inventory::hpa_targets(&scalers, &live)
}

/// Why an object's server-side-apply dry-run gave way to a read-only comparison.
enum Fallback {
    /// 403: the credentials lack `patch` (the Status message).
    Forbidden(String),
    /// 422 (an immutable field, an invalid object) or an admission webhook's denial or
    /// failure: the HTTP code and the Status message.
    Rejected(u16, String),
}

/// The verdict of every desired object, with why its dry-run was refused or rejected when
/// it was compared read-only instead. Server mode dry-runs each object that exists
/// (a missing object needs none) and compares each answer as it arrives.
fn verdicts(
    cluster: &Cluster,
    opts: &DriftOptions,
    nodes: &[Node],
    desired: &[Desired],
    lives: &[Result<Option<Value>, ApiFailure>],
    ctx: &CompareContext,
) -> Vec<(DriftKind, Option<Fallback>)> {
    let mut out: Vec<Option<(DriftKind, Option<Fallback>)>> = Vec::with_capacity(nodes.len());
    let mut wanted = Vec::new();
    for (i, (node, live)) in nodes.iter().zip(lives).enumerate() {
        match (opts.mode, live) {
            (Mode::Server, Ok(Some(_))) => {
                wanted.push(i);
                out.push(None);
            }
            _ => {
                let mut refused = None;
                let verdict = judge(node, live, None, (ctx, &opts.field_manager), &mut refused);
                out.push(Some((verdict, refused)));
            }
        }
    }
    let items = wanted
        .iter()
        .map(|&i| {
            let d = &desired[i];
            let live = lives[i].as_ref().ok().and_then(Option::as_ref);
            let manager = live.map_or(FIELD_MANAGER.to_string(), |l| {
                opts.field_manager.for_object(l, FIELD_MANAGER)
            });
            DryRun {
                resource: d.resource.clone(),
                namespace: d.object.namespace.clone(),
                name: d.object.name.clone(),
                node: &nodes[i],
                manager,
                live,
            }
        })
        .collect();
    let answers = cluster.apply_dry_run_each(items, |k, answer| {
        let i = wanted[k];
        let mut refused = None;
        let fm = &opts.field_manager;
        let verdict = judge(&nodes[i], &lives[i], Some(answer), (ctx, fm), &mut refused);
        (verdict, refused)
    });
    for (i, answer) in wanted.iter().zip(answers) {
        out[*i] = Some(answer);
    }
    out.into_iter()
        .map(|v| {
            v.unwrap_or_else(|| {
                let message = "no dry-run answer".to_string();
                (DriftKind::Failed { code: 0, message }, None)
            })
        })
        .collect()
}

/// The verdict for one object from its live state and dry-run answer; a forbidden (403) or
/// rejected (422, admission webhook) dry-run falls back to read-only (why is put in
/// `refused`): the object was read, so its drift is known without the server's merge. Only a
/// failure to read it is DRIFT005. A read-only comparison also reports the fields the
/// manager that applied the object owns and the repository removed (`fm`, see
/// [`driftlint_drift::removed`]).
fn judge(
    node: &Node,
    live: &Result<Option<Value>, ApiFailure>,
    dry: Option<Result<Value, ApiFailure>>,
    (ctx, fm): (&CompareContext, &FieldManager),
    refused: &mut Option<Fallback>,
) -> DriftKind {
    let live = match live {
        Err(f) => return failed(f),
        Ok(None) if IgnoreRules::skips_missing(node) => return DriftKind::InSync,
        Ok(None) => return DriftKind::Missing,
        Ok(Some(live)) => live,
    };
    let fields = match dry {
        Some(Ok(dry)) => compare::server(node, &dry, live, ctx),
        Some(Err(f)) if is_rejection(&f) => {
            *refused = Some(Fallback::Rejected(f.code, f.message.clone()));
            read_only(node, live, ctx, fm)
        }
        Some(Err(f)) if f.code == 403 => {
            *refused = Some(Fallback::Forbidden(f.message.clone()));
            read_only(node, live, ctx, fm)
        }
        Some(Err(f)) => return failed(&f),
        None => read_only(node, live, ctx, fm),
    };
    if fields.is_empty() {
        DriftKind::InSync
    } else {
        DriftKind::Changed { fields }
    }
}

/// The read-only comparison plus the fields the applier owns and the repository removed.
fn read_only(
    node: &Node,
    live: &Value,
    ctx: &CompareContext,
    fm: &FieldManager,
) -> Vec<driftlint_drift::FieldDrift> {
    let mut fields = compare::read_only(node, live, ctx);
    if IgnoreRules::skips_object(node) {
        return fields;
    }
    let manager = fm.for_object(live, FIELD_MANAGER);
    for removed in driftlint_drift::removed::removed_fields(node, live, &manager, ctx) {
        if !fields.iter().any(|f| f.path == removed.path) {
            fields.push(removed);
        }
    }
    fields.sort_by(|x, y| x.path.cmp(&y.path));
    fields
}

/// A dry-run the cluster rejected for the object's content, not for the caller: 422
/// (`Invalid`: immutable fields, validation) or an admission webhook's denial (any 4xx) or
/// failure (`failed calling webhook`, 500).
fn is_rejection(f: &ApiFailure) -> bool {
    let webhook = f.message.contains("admission webhook") || f.message.contains("calling webhook");
    f.code == 422 || (webhook && (400..600).contains(&f.code))
}

/// Once the API server stopped answering, the objects (and inventory lists) that got no
/// answer are one verdict, at the first of them: "the API server stopped answering after 412
/// of 2,000 objects; 1,588 not compared (CAUSE)". `total` is the number of declared objects.
fn collapse_unanswered(objects: &mut Vec<ObjectDrift>, total: usize, cause: &str) {
    let unanswered = |o: &ObjectDrift| matches!(o.drift, DriftKind::Failed { code: 0, .. });
    let Some(first) = objects.iter().position(unanswered) else {
        return;
    };
    let is_list = |o: &ObjectDrift| o.object.name.starts_with("<list ");
    let lists = objects
        .iter()
        .filter(|o| unanswered(o) && is_list(o))
        .count();
    let missed = objects.iter().filter(|o| unanswered(o)).count() - lists;
    let mut message = format!(
        "the API server stopped answering after {} of {} objects; {} not compared",
        thousands(total.saturating_sub(missed)),
        thousands(total),
        thousands(missed)
    );
    if lists > 0 {
        message.push_str(&format!(", {lists} inventory list(s) not read"));
    }
    message.push_str(&format!(" ({cause})"));
    let mut keep = objects[first].clone();
    keep.drift = DriftKind::Failed { code: 0, message };
    objects.retain(|o| !unanswered(o));
    objects.insert(first.min(objects.len()), keep);
}

/// `2,000`: a count with thousands separators, for messages.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn failed(f: &ApiFailure) -> DriftKind {
    DriftKind::Failed {
        code: f.code,
        message: f.message.clone(),
    }
}

/// What orphan detection needs: the declared objects, their nodes (same indexes) and the
/// Flux Kustomizations the repository renders.
struct Inventory<'a> {
    desired: &'a [Desired],
    nodes: &'a [Node],
    flux_owners: &'a FluxOwners,
}

/// Lists every inventory's kinds and reports the objects the repository does not declare; a
/// list the cluster refuses is a DRIFT005 at the inventory's owner.
fn orphans(cluster: &Cluster, inv: &Inventory, selector: Option<&str>) -> Vec<ObjectDrift> {
    // The Flux Kustomizations the repository renders are searched by `deployers`.
    let mut queries = inventory::plan(inv.nodes, selector);
    queries.retain(|q| {
        let flux = q
            .inventory
            .strip_prefix("flux:")
            .and_then(|r| r.split_once('/'));
        !flux.is_some_and(|(ns, name)| {
            inv.flux_owners
                .contains_key(&(ns.to_string(), name.to_string()))
        })
    });
    let gvks: BTreeSet<(String, String)> = queries
        .iter()
        .flat_map(|q| q.kinds.iter().cloned())
        .collect();
    let resolved = cluster.resolve(&gvks.into_iter().collect::<Vec<_>>());
    let mut lists: Vec<(usize, ApiResource)> = Vec::new();
    for (qi, q) in queries.iter().enumerate() {
        for gvk in &q.kinds {
            if let Some(Resolution::Served(res)) = resolved.get(gvk) {
                lists.push((qi, res.clone()));
            }
        }
    }
    let answers = cluster.list_all(
        lists
            .iter()
            .map(|(qi, res)| (res.clone(), queries[*qi].label_selector.clone()))
            .collect(),
    );
    let mut live_by_query: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    let mut out = Vec::new();
    for ((qi, res), answer) in lists.iter().zip(answers) {
        match answer {
            Ok(items) => live_by_query.entry(*qi).or_default().extend(items),
            Err(f) => out.push(list_failure(&queries[*qi], res, &f, inv)),
        }
    }
    let declared: Vec<ObjectRef> = inv.desired.iter().map(|d| d.object.clone()).collect();
    let mut reported = BTreeSet::new();
    for (qi, live) in live_by_query {
        let (origin, target) = owner(&queries[qi], inv);
        let found = inventory::orphans(&declared, &queries[qi], &live, &origin, &target);
        // An object two inventories claim (Flux labels and `--selector`) is reported once,
        // for the first inventory in plan order.
        out.extend(
            found
                .into_iter()
                .filter(|o| reported.insert(o.object.clone())),
        );
    }
    out
}

/// The Flux Kustomizations (`kustomize.toolkit.fluxcd.io/*`) the repository declares: its
/// Flux units and the Kustomization objects it renders.
fn flux_owners(targets: &[(crate::discover::Target, Vec<Node>)]) -> FluxOwners {
    let mut owners = FluxOwners::new();
    // The Flux Kustomization units, at the line declaring them (HelmRelease and helmfile
    // release units are Helm releases, see `deployers::release_owners`; Argo CD Applications
    // keep no Flux inventory).
    for (t, _) in targets {
        if let Some(u) = t
            .unit
            .as_ref()
            .filter(|_| t.kind == crate::discover::Kind::Flux)
        {
            let origin = Origin::new(u.file.as_str().into(), u.line, 1);
            owners
                .entry((u.namespace.clone(), u.name.clone()))
                .or_insert_with(|| (origin, t.id()));
        }
    }
    for (t, objs) in targets {
        for o in objs {
            let is_flux = o.str_at(&["kind"]) == Some("Kustomization")
                && o.str_at(&["apiVersion"])
                    .is_some_and(|a| a.starts_with("kustomize.toolkit.fluxcd.io/"));
            if let (true, Some(name)) = (is_flux, o.str_at(&["metadata", "name"])) {
                let ns = o.str_at(&["metadata", "namespace"]).unwrap_or_default();
                owners
                    .entry((ns.to_string(), name.to_string()))
                    .or_insert_with(|| (o.origin.clone(), t.id()));
            }
        }
    }
    owners
}

/// Where an orphan of `q` points: the Flux Kustomization that owns the inventory when the
/// repository renders it, else the first declared object of the inventory, else the first
/// declared object.
fn owner(q: &InventoryQuery, inv: &Inventory) -> (Origin, String) {
    if let Some(rest) = q.inventory.strip_prefix("flux:") {
        let (ns, name) = rest.split_once('/').unwrap_or(("", rest));
        let found = inv
            .flux_owners
            .iter()
            .find(|((n, k), _)| k == name && (ns.is_empty() || n == ns));
        if let Some((_, owner)) = found {
            return owner.clone();
        }
    }
    let first = inv
        .nodes
        .iter()
        .position(|n| inventory::selector_matches(&q.label_selector, &n.to_json()))
        .or((!inv.desired.is_empty()).then_some(0));
    match first.and_then(|i| inv.desired.get(i)) {
        Some(d) => (d.origin.clone(), d.target.clone()),
        None => (Origin::new(".".into(), 1, 1), ".".into()),
    }
}

fn list_failure(
    q: &InventoryQuery,
    res: &ApiResource,
    f: &ApiFailure,
    inv: &Inventory,
) -> ObjectDrift {
    let (origin, target) = owner(q, inv);
    ObjectDrift {
        object: ObjectRef {
            api_version: res.api_version.clone(),
            kind: res.kind.clone(),
            namespace: None,
            name: format!("<list {}>", q.label_selector),
        },
        origin,
        target,
        drift: failed(f),
    }
}
