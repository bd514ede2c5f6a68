//! Orphans from the inventories the deployers keep in the cluster, reported at the line of the
//! unit that owns them:
//!
//! - a Flux Kustomization the repository renders: the live object's `status.inventory.entries`
//!   (what kustomize-controller prunes from); without one (not reconciled yet, Flux not
//!   installed), the objects carrying its `kustomize.toolkit.fluxcd.io/name|namespace` labels
//!   over every listable kind the server serves (kustomize-controller adds these labels when it
//!   applies, so the rendered objects never carry them);
//! - a Helm release (a chart target's release, or a rendered Flux HelmRelease): its storage
//!   Secrets `sh.helm.release.v1.NAME.vN` (`owner=helm,name=NAME`), the latest deployed
//!   revision's manifest (what `helm upgrade` deletes from).
//!
//! Only objects that still exist are orphans (an inventory entry deleted by hand is not), and
//! the usual exclusions apply (prune disabled, `helm.sh/resource-policy: keep`, owner
//! references, being deleted).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{failed, Desired, FluxOwners};
use crate::report::ObjectRef;
use driftlint_drift::cluster::{ApiFailure, ApiResource, Cluster, Resolution};
use driftlint_drift::deployer_inventory as storage;
use driftlint_drift::inventory::{self, InventoryQuery, FLUX_NAMESPACE_LABEL, FLUX_NAME_LABEL};
use driftlint_drift::model::{DriftKind, ObjectDrift};
use driftlint_yaml::{Node, Origin};

/// A Helm release the repository deploys, with where it is declared.
#[derive(Clone, Debug)]
pub struct ReleaseOwner {
    /// Release name.
    pub name: String,
    /// The namespace of its storage Secrets.
    pub namespace: String,
    /// Where it is declared (the `releases:` entry, the chart, the HelmRelease).
    pub origin: Origin,
    /// The id of the target that renders it.
    pub target: String,
}

/// Who owns an inventory and how it is named in reports.
struct Owner {
    inventory: String,
    origin: Origin,
    target: String,
}

/// The Helm releases of `targets`: each chart target's release (name: the `releases:` name,
/// else the chart directory's; namespace: its namespace, else `default_ns`), and each rendered
/// Flux `HelmRelease` (as helm-controller names it: `spec.releaseName`, else
/// `[spec.targetNamespace-]NAME`; storage in `spec.storageNamespace`, else the HelmRelease's
/// namespace). Release names helm-controller shortens (over 53 characters) are not matched.
pub fn release_owners(
    targets: &[(crate::discover::Target, Vec<Node>)],
    default_ns: &str,
) -> Vec<ReleaseOwner> {
    let mut out = Vec::new();
    for (t, objs) in targets {
        if let (crate::discover::Kind::Helm, Some(r)) = (t.kind, &t.release) {
            let dir = t.path.file_name().map(|n| n.to_string_lossy().to_string());
            let Some(name) = r.name.clone().or(dir) else {
                continue;
            };
            let chart_yaml = format!("{}/Chart.yaml", crate::discover::display_path(&t.path));
            let chart = Origin::new(chart_yaml.into(), 1, 1);
            out.push(ReleaseOwner {
                name,
                namespace: r
                    .namespace
                    .clone()
                    .unwrap_or_else(|| default_ns.to_string()),
                origin: r.origin.clone().unwrap_or(chart),
                target: t.id(),
            });
        }
        out.extend(unit_release(t));
        out.extend(
            objs.iter()
                .filter_map(|o| helm_release(o, &t.id(), default_ns)),
        );
    }
    // One owner per release: the first (a unit before the HelmRelease object it renders).
    let mut seen = BTreeSet::new();
    out.retain(|r| seen.insert((r.namespace.clone(), r.name.clone())));
    out
}

/// Whether a unit is a Flux HelmRelease (its label names the kind: `HelmRelease NS/NAME`)
/// rather than a Kustomization.
pub fn is_helm_release_unit(u: &crate::discover::UnitRef) -> bool {
    u.label.starts_with("HelmRelease")
}

/// A HelmRelease unit's release, as helm-controller names it by default (`NAME`, storage in
/// the HelmRelease's namespace); `spec.releaseName`/`targetNamespace`/`storageNamespace` are
/// read where the HelmRelease object itself is rendered ([`helm_release`]). A helmfile
/// release unit's release: its `name:`, storage in its namespace (`helm upgrade --install
/// NAME -n NS` keeps its Secrets there).
fn unit_release(t: &crate::discover::Target) -> Option<ReleaseOwner> {
    let helmfile = t.kind == crate::discover::Kind::Helmfile;
    let u = t
        .unit
        .as_ref()
        .filter(|u| helmfile || is_helm_release_unit(u))?;
    Some(ReleaseOwner {
        name: u.name.clone(),
        namespace: u.namespace.clone(),
        origin: Origin::new(u.file.as_str().into(), u.line, 1),
        target: t.id(),
    })
}

/// The namespace each Helm release unit installs into, by target id: a helmfile release's
/// namespace; a HelmRelease's `spec.targetNamespace`, else its own namespace (read from the
/// HelmRelease object another unit renders, else the unit's namespace). Objects a chart
/// renders without `metadata.namespace` land there, as `helm install -n NS` puts them.
pub fn release_namespaces(
    targets: &[(crate::discover::Target, Vec<Node>)],
) -> BTreeMap<String, String> {
    let mut target_ns: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    for o in targets.iter().flat_map(|(_, objs)| objs) {
        if !crate::helmrelease::is_helm_release(o) {
            continue;
        }
        if let (Some(name), Some(tns)) = (
            o.str_at(&["metadata", "name"]),
            o.str_at(&["spec", "targetNamespace"]),
        ) {
            let ns = crate::helmrelease::namespace_of(o);
            target_ns.entry((ns, name)).or_insert(tns);
        }
    }
    let mut out = BTreeMap::new();
    for (t, _) in targets {
        let Some(u) = &t.unit else { continue };
        let ns = match t.kind {
            crate::discover::Kind::Helmfile => u.namespace.clone(),
            crate::discover::Kind::HelmRelease => target_ns
                .get(&(u.namespace.as_str(), u.name.as_str()))
                .map_or_else(|| u.namespace.clone(), |s| s.to_string()),
            _ => continue,
        };
        out.insert(t.id(), ns);
    }
    out
}

fn helm_release(o: &Node, target: &str, default_ns: &str) -> Option<ReleaseOwner> {
    let is_hr = o.str_at(&["kind"]) == Some("HelmRelease")
        && o.str_at(&["apiVersion"])
            .is_some_and(|a| a.starts_with("helm.toolkit.fluxcd.io/"));
    if !is_hr {
        return None;
    }
    let name = o.str_at(&["metadata", "name"])?;
    let ns = o.str_at(&["metadata", "namespace"]).unwrap_or(default_ns);
    let release = match (
        o.str_at(&["spec", "releaseName"]),
        o.str_at(&["spec", "targetNamespace"]),
    ) {
        (Some(r), _) => r.to_string(),
        (None, Some(tns)) => format!("{tns}-{name}"),
        (None, None) => name.to_string(),
    };
    Some(ReleaseOwner {
        name: release,
        namespace: o
            .str_at(&["spec", "storageNamespace"])
            .unwrap_or(ns)
            .to_string(),
        origin: o.origin.clone(),
        target: target.to_string(),
    })
}

/// The orphans of every Flux Kustomization in `flux_owners` and every release in `releases`;
/// `lives` are the live states of `desired` (same indexes), where the live Kustomizations are.
/// Inventories that cannot be read are DRIFT005 verdicts at their owner.
pub fn orphans(
    cluster: &Cluster,
    desired: &[Desired],
    lives: &[Result<Option<Value>, ApiFailure>],
    flux_owners: &FluxOwners,
    releases: &[ReleaseOwner],
) -> Vec<ObjectDrift> {
    let declared: Vec<ObjectRef> = desired.iter().map(|d| d.object.clone()).collect();
    let mut out = Vec::new();
    let mut listed: Vec<(Owner, Vec<ObjectRef>)> = Vec::new();
    let mut by_labels = Vec::new();
    let fetched = fetch_kustomizations(cluster, desired, flux_owners);
    for ((ns, name), (origin, target)) in flux_owners {
        let key = (ns.clone(), name.clone());
        let live = live_kustomization(desired, lives, ns, name).or(fetched.get(&key));
        let owner = |how: &str| Owner {
            inventory: format!("flux:{ns}/{name} ({how})"),
            origin: origin.clone(),
            target: target.clone(),
        };
        match live.and_then(storage::flux_entries) {
            Some(entries) => listed.push((owner("status.inventory"), entries)),
            None => by_labels.push((owner("labels"), flux_selector(ns, name))),
        }
    }
    listed.extend(release_inventories(cluster, releases, &mut out));
    out.extend(members_alive(cluster, &declared, listed));
    out.extend(labelled(cluster, &declared, by_labels));
    out
}

/// The live Flux Kustomizations of the owners the repository does not render as objects
/// (its units), by `(namespace, name)`; none when the cluster does not serve Flux's
/// `kustomize.toolkit.fluxcd.io/v1` Kustomization or they are absent.
fn fetch_kustomizations(
    cluster: &Cluster,
    desired: &[Desired],
    owners: &FluxOwners,
) -> BTreeMap<(String, String), Value> {
    let wanted: Vec<&(String, String)> = owners
        .keys()
        .filter(|(ns, name)| !desired.iter().any(|d| is_kustomization(d, ns, name)))
        .collect();
    let gvk = (
        FLUX_KUSTOMIZATION.0.to_string(),
        FLUX_KUSTOMIZATION.1.to_string(),
    );
    let resolved = match wanted.is_empty() {
        true => BTreeMap::new(),
        false => cluster.resolve(std::slice::from_ref(&gvk)),
    };
    let Some(Resolution::Served(res)) = resolved.get(&gvk) else {
        return BTreeMap::new();
    };
    let items = wanted
        .iter()
        .map(|(ns, name)| (res.clone(), Some(ns.clone()), name.clone()))
        .collect();
    wanted
        .into_iter()
        .zip(cluster.get_all(items))
        .filter_map(|(key, live)| live.ok().flatten().map(|v| (key.clone(), v)))
        .collect()
}

/// Flux's Kustomization kind, whose live objects hold `status.inventory`.
const FLUX_KUSTOMIZATION: (&str, &str) = ("kustomize.toolkit.fluxcd.io/v1", "Kustomization");

fn is_kustomization(d: &Desired, ns: &str, name: &str) -> bool {
    d.object.kind == "Kustomization"
        && d.object
            .api_version
            .starts_with("kustomize.toolkit.fluxcd.io/")
        && d.object.name == name
        && d.object.namespace.as_deref().unwrap_or_default() == ns
}

/// The live Flux Kustomization `ns/name` among the desired objects' live states.
fn live_kustomization<'a>(
    desired: &[Desired],
    lives: &'a [Result<Option<Value>, ApiFailure>],
    ns: &str,
    name: &str,
) -> Option<&'a Value> {
    let i = desired.iter().position(|d| is_kustomization(d, ns, name))?;
    lives[i].as_ref().ok()?.as_ref()
}

fn flux_selector(ns: &str, name: &str) -> String {
    format!("{FLUX_NAME_LABEL}={name},{FLUX_NAMESPACE_LABEL}={ns}")
}

/// Each release's members from its latest deployed storage Secret; a release without one
/// (never installed, or installed another way) has no inventory. Unreadable storage is a
/// DRIFT005 verdict in `out`.
fn release_inventories(
    cluster: &Cluster,
    releases: &[ReleaseOwner],
    out: &mut Vec<ObjectDrift>,
) -> Vec<(Owner, Vec<ObjectRef>)> {
    let secrets = ApiResource {
        group: String::new(),
        version: "v1".into(),
        api_version: "v1".into(),
        kind: "Secret".into(),
        plural: "secrets".into(),
        namespaced: true,
    };
    let queries = releases
        .iter()
        .map(|r| {
            let selector = storage::helm_storage_selector(&r.name);
            (secrets.clone(), Some(r.namespace.clone()), selector)
        })
        .collect();
    let mut found = Vec::new();
    for (r, answer) in releases.iter().zip(cluster.list_in(queries)) {
        let inventory = format!("helm:{}/{} (release storage)", r.namespace, r.name);
        let fail = |drift| ObjectDrift {
            object: storage_ref(r),
            origin: r.origin.clone(),
            target: r.target.clone(),
            drift,
        };
        let list = match answer {
            Ok(list) => list,
            Err(f) => {
                out.push(fail(failed(&f)));
                continue;
            }
        };
        let Some((version, secret)) = storage::latest_deployed(&list) else {
            continue;
        };
        match storage::release_manifest(secret) {
            Ok(manifest) => found.push((
                Owner {
                    inventory: format!(
                        "helm:{}/{} (release storage v{version})",
                        r.namespace, r.name
                    ),
                    origin: r.origin.clone(),
                    target: r.target.clone(),
                },
                with_namespace(storage::manifest_objects(&manifest), &r.namespace),
            )),
            Err(e) => out.push(fail(DriftKind::Failed {
                code: 0,
                message: format!("{inventory}: {e}"),
            })),
        }
    }
    found
}

fn storage_ref(r: &ReleaseOwner) -> ObjectRef {
    ObjectRef {
        api_version: "v1".into(),
        kind: "Secret".into(),
        namespace: Some(r.namespace.clone()),
        name: format!("sh.helm.release.v1.{}", r.name),
    }
}

/// Objects of a release manifest without a namespace are in the release namespace (cleared
/// again for cluster-scoped kinds once discovery says so).
fn with_namespace(mut objs: Vec<ObjectRef>, ns: &str) -> Vec<ObjectRef> {
    for o in &mut objs {
        o.namespace.get_or_insert_with(|| ns.to_string());
    }
    objs
}

/// The members of listed inventories that the repository does not declare and that exist.
fn members_alive(
    cluster: &Cluster,
    declared: &[ObjectRef],
    listed: Vec<(Owner, Vec<ObjectRef>)>,
) -> Vec<ObjectDrift> {
    let gvks: BTreeSet<(String, String)> = listed
        .iter()
        .flat_map(|(_, refs)| refs.iter().map(|r| (r.api_version.clone(), r.kind.clone())))
        .collect();
    let resolved = cluster.resolve(&gvks.into_iter().collect::<Vec<_>>());
    let mut wanted: Vec<(usize, ApiResource, ObjectRef)> = Vec::new();
    for (i, (_, refs)) in listed.iter().enumerate() {
        for r in refs {
            let key = (r.api_version.clone(), r.kind.clone());
            if let Some(Resolution::Served(res)) = resolved.get(&key) {
                let mut r = r.clone();
                if !res.namespaced {
                    r.namespace = None;
                }
                if !inventory::is_declared(declared, &r) {
                    wanted.push((i, res.clone(), r));
                }
            }
        }
    }
    let lives = cluster.get_all(
        wanted
            .iter()
            .map(|(_, res, r)| (res.clone(), r.namespace.clone(), r.name.clone()))
            .collect(),
    );
    let mut alive: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    for ((i, _, _), live) in wanted.iter().zip(lives) {
        if let Ok(Some(v)) = live {
            alive.entry(*i).or_default().push(v);
        }
    }
    let mut out = Vec::new();
    for (i, live) in alive {
        let (owner, _) = &listed[i];
        let refs: Vec<&Value> = live.iter().collect();
        out.extend(inventory::undeclared(
            declared,
            &refs,
            &owner.inventory,
            &owner.origin,
            &owner.target,
        ));
    }
    out
}

/// The objects labelled for each Flux Kustomization, over every listable kind, that the
/// repository does not declare.
fn labelled(
    cluster: &Cluster,
    declared: &[ObjectRef],
    owners: Vec<(Owner, String)>,
) -> Vec<ObjectDrift> {
    if owners.is_empty() {
        return Vec::new();
    }
    let kinds = match cluster.listable_resources() {
        Ok(kinds) => kinds,
        Err(f) => {
            return owners
                .iter()
                .map(|(o, sel)| list_failed(o, sel, &f))
                .collect()
        }
    };
    // One list per kind for every unit (the objects with any Flux name label), split by unit
    // below: a repository with many units does not multiply the requests.
    let queries: Vec<(ApiResource, String)> = kinds
        .iter()
        .map(|k| (k.clone(), FLUX_NAME_LABEL.to_string()))
        .collect();
    let mut live = Vec::new();
    let mut refused = None;
    for answer in cluster.list_all(queries) {
        match answer {
            Ok(items) => live.extend(items),
            Err(f) if f.code == 404 => {}
            Err(f) => refused = refused.or(Some(f)),
        }
    }
    let mut out = Vec::new();
    for (owner, sel) in &owners {
        // One verdict per inventory, not one per kind the credentials may not list.
        if let Some(f) = &refused {
            out.push(list_failed(owner, sel, f));
        }
        let query = InventoryQuery {
            inventory: owner.inventory.clone(),
            label_selector: sel.clone(),
            kinds: Vec::new(),
            namespace: None,
        };
        out.extend(inventory::orphans(
            declared,
            &query,
            &live,
            &owner.origin,
            &owner.target,
        ));
    }
    out
}

fn list_failed(owner: &Owner, selector: &str, f: &ApiFailure) -> ObjectDrift {
    ObjectDrift {
        object: ObjectRef {
            api_version: "v1".into(),
            kind: "List".into(),
            namespace: None,
            name: format!("<list {selector}>"),
        },
        origin: owner.origin.clone(),
        target: owner.target.clone(),
        drift: failed(f),
    }
}
