//! The `driftlint drift` pipeline: render the repository as `check` does, ask the cluster for
//! each desired object (and, in server mode, a server-side-apply dry-run of it), compare, find
//! orphans through the inventories, and turn every verdict into findings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;

use crate::check::{self, CheckError, CheckOptions};
use crate::report::{Finding, ObjectRef};
use driftlint_drift::cluster::{
    ApiFailure, ApiResource, Cluster, ClusterError, ClusterOptions, Resolution,
};
use driftlint_drift::compare::{self, CompareContext};
use driftlint_drift::findings::{self, to_findings};
use driftlint_drift::ignore::IgnoreRules;
use driftlint_drift::inventory::{self, InventoryQuery};
use driftlint_drift::model::{DriftKind, Mode, ObjectDrift};
use driftlint_yaml::{Node, Origin};

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
    let (desired, nodes) =
        resolve_desired(&cluster, std::mem::take(&mut repo.targets), &mut objects);
    let lives = cluster.get_all(
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
    let verdicts = verdicts(&cluster, opts.mode, &nodes, &desired, &lives, &ctx);
    let mut forbidden: Option<(ObjectDrift, String)> = None;
    for (d, (verdict, refused)) in desired.iter().zip(verdicts) {
        let object = ObjectDrift {
            object: d.object.clone(),
            origin: d.origin.clone(),
            target: d.target.clone(),
            drift: verdict,
        };
        if let (None, Some(message)) = (&forbidden, refused) {
            forbidden = Some((object.clone(), message));
        }
        objects.push(object);
    }
    let inventory = Inventory {
        desired: &desired,
        nodes: &nodes,
        flux_owners: &flux_owners,
    };
    objects.extend(orphans(&cluster, &inventory, opts.selector.as_deref()));
    objects.sort_by(|a, b| a.object.cmp(&b.object).then(a.target.cmp(&b.target)));
    driftlint_drift::redact::redact_objects(&mut objects, repo.sources.redactor());
    let mut findings = repo.findings;
    findings.extend(to_findings(&objects, cluster.name()));
    if let Some((first, message)) = &forbidden {
        findings.push(findings::dry_run_forbidden(first, cluster.name(), message));
    }
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
/// Returns the objects to compare and, at the same indexes, their rendered nodes (moved out of
/// `targets`, namespaces filled in).
fn resolve_desired(
    cluster: &Cluster,
    targets: Vec<(crate::discover::Target, Vec<Node>)>,
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
        // As `helm install -n NS` for a release, else as `kubectl apply` (the context's).
        let default_ns = target
            .release
            .as_ref()
            .and_then(|r| r.namespace.clone())
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

/// The verdict of every desired object, with the Status message when its dry-run was refused
/// (403) and it was compared read-only instead. Server mode dry-runs each object that exists
/// (a missing object needs none) and compares each answer as it arrives.
fn verdicts(
    cluster: &Cluster,
    mode: Mode,
    nodes: &[Node],
    desired: &[Desired],
    lives: &[Result<Option<Value>, ApiFailure>],
    ctx: &CompareContext,
) -> Vec<(DriftKind, Option<String>)> {
    let mut out: Vec<Option<(DriftKind, Option<String>)>> = Vec::with_capacity(nodes.len());
    let mut wanted = Vec::new();
    for (i, (node, live)) in nodes.iter().zip(lives).enumerate() {
        match (mode, live) {
            (Mode::Server, Ok(Some(_))) => {
                wanted.push(i);
                out.push(None);
            }
            _ => {
                let mut refused = None;
                out.push(Some((judge(node, live, None, ctx, &mut refused), refused)));
            }
        }
    }
    let items = wanted
        .iter()
        .map(|&i| {
            let d = &desired[i];
            let ns = d.object.namespace.clone();
            (d.resource.clone(), ns, d.object.name.clone(), &nodes[i])
        })
        .collect();
    let answers = cluster.apply_dry_run_each(items, |k, answer| {
        let i = wanted[k];
        let mut refused = None;
        let verdict = judge(&nodes[i], &lives[i], Some(answer), ctx, &mut refused);
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

/// The verdict for one object from its live state and dry-run answer; a forbidden dry-run
/// falls back to read-only (its Status message is put in `refused`).
fn judge(
    node: &Node,
    live: &Result<Option<Value>, ApiFailure>,
    dry: Option<Result<Value, ApiFailure>>,
    ctx: &CompareContext,
    refused: &mut Option<String>,
) -> DriftKind {
    let live = match live {
        Err(f) => return failed(f),
        Ok(None) if IgnoreRules::skips_missing(node) => return DriftKind::InSync,
        Ok(None) => return DriftKind::Missing,
        Ok(Some(live)) => live,
    };
    let fields = match dry {
        Some(Ok(dry)) => compare::server(node, &dry, live, ctx),
        Some(Err(f)) if f.code == 403 => {
            *refused = Some(f.message.clone());
            compare::read_only(node, live, ctx)
        }
        Some(Err(f)) => return failed(&f),
        None => compare::read_only(node, live, ctx),
    };
    if fields.is_empty() {
        DriftKind::InSync
    } else {
        DriftKind::Changed { fields }
    }
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
    let queries = inventory::plan(inv.nodes, selector);
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

/// The Flux Kustomizations (`kustomize.toolkit.fluxcd.io/*`) the repository renders.
fn flux_owners(targets: &[(crate::discover::Target, Vec<Node>)]) -> FluxOwners {
    let mut owners = FluxOwners::new();
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
