//! Flux Kustomizations (`kustomize.toolkit.fluxcd.io` v1, and v1beta2 as Flux reads it) as
//! apply units, rendered as kustomize-controller renders them: the folder `spec.path` of the
//! source (this repository, or a folder of it mapped under `sources:`), built by kustomize with
//! Flux's generator ([`kustomize::FluxOverlay`]: a kustomization generated for a folder without
//! one, `targetNamespace`, `namePrefix`/`nameSuffix`, `patches`, `images`, `components`, no load
//! restrictions), then `spec.commonMetadata`, then `spec.postBuild` substitution
//! ([`substitute`]).
//!
//! Units are found among rendered objects: first those of the folders discovery checks, then
//! those each unit renders, level by level (a Flux Kustomization applied by another one is
//! read as that one renders it, after its substitutions). A folder a unit renders is not also
//! checked as a bare folder.

pub(crate) mod substitute;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::check::Rendered;
use crate::config::Config;
use crate::discover::{self, Kind, Target, UnitRef};
use crate::report::{Finding, Severity};
use driftlint_kustomize::{self as kustomize, BuildOptions, FluxOverlay};
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{Node, Origin};
use substitute::Vars;

/// The group of Flux Kustomizations.
const GROUP: &str = "kustomize.toolkit.fluxcd.io";
/// Flux Kustomizations nested deeper than this are not followed (a loop of units).
const MAX_DEPTH: usize = 16;
/// At most this many units are rendered.
const MAX_UNITS: usize = 20_000;
/// Bytes a unit's post-build steps (`commonMetadata` copies, substituted values) may add.
const MAX_POST_BUILD_BYTES: u64 = 64 << 20;
/// The label or annotation that turns substitution off for one object.
const SUBSTITUTE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// True for a Flux Kustomization in an API version current Flux serves (`v1`, `v1beta2`).
pub(crate) fn is_flux_kustomization(obj: &Node) -> bool {
    obj.str_at(&["kind"]) == Some("Kustomization")
        && matches!(
            obj.str_at(&["apiVersion"]),
            Some(v) if v == format!("{GROUP}/v1") || v == format!("{GROUP}/v1beta2")
        )
}

/// A Flux Kustomization object as written: file, line, namespace, name.
type Key = (Arc<str>, u32, String, String);

/// One Flux Kustomization to render, and what declared it.
#[derive(Clone)]
struct Declared {
    object: Node,
    /// The unit whose output holds it (index into the unit list); `None` for a bare folder.
    parent: Option<usize>,
    /// The namespace it is applied to.
    namespace: String,
}

impl Declared {
    fn key(&self) -> Key {
        (
            self.object.origin.file.clone(),
            self.object.origin.line,
            self.namespace.clone(),
            self.name().to_string(),
        )
    }

    fn name(&self) -> &str {
        self.object.str_at(&["metadata", "name"]).unwrap_or("")
    }
}

/// A unit and how it went.
struct Unit {
    declared: Declared,
    /// `None` when it is not rendered (its source is not this repository).
    rendered: Option<Rendered>,
    superseded: bool,
}

/// Everything a unit rendering reads.
pub(crate) struct UnitContext<'a> {
    pub(crate) fs: &'a RepoFs,
    pub(crate) config: &'a Config,
    pub(crate) build: &'a BuildOptions<'a>,
}

/// What rendering the Flux Kustomizations gave.
pub(crate) struct Units {
    /// The units rendered (or failed), in a deterministic order.
    pub(crate) rendered: Vec<Rendered>,
    /// Flux Kustomizations not rendered, with the reason (a source outside this repository).
    pub(crate) skipped: Vec<(String, Origin, String)>,
}

/// Renders every Flux Kustomization found in `bare` (the folders discovery renders) and,
/// level by level, in what units render.
pub(crate) fn render_units(ctx: &UnitContext, bare: &[Rendered]) -> Units {
    let mut units: Vec<Unit> = Vec::new();
    let mut seen: BTreeSet<(Option<usize>, Key)> = BTreeSet::new();
    let mut level: Vec<Declared> = declared_in(bare.iter().map(|r| (None, r)), None);
    let mut depth = 0;
    let mut over: Vec<(Declared, &str)> = Vec::new();
    while !level.is_empty() && depth < MAX_DEPTH {
        level.retain(|d| seen.insert((d.parent, d.key())));
        let room = MAX_UNITS.saturating_sub(units.len());
        if level.len() > room {
            over.extend(
                level
                    .drain(room..)
                    .map(|d| (d, "over the budget of 20,000 units")),
            );
        }
        let known: Vec<&Node> = bare
            .iter()
            .chain(units.iter().filter_map(|u| u.rendered.as_ref()))
            .flat_map(|r| r.objects.iter())
            .collect();
        let results: Vec<Option<Rendered>> = level
            .par_iter()
            .map(|d| render_unit(ctx, d, &known))
            .collect();
        let first = units.len();
        for (declared, rendered) in level.into_iter().zip(results) {
            units.push(Unit {
                declared,
                rendered,
                superseded: false,
            });
        }
        let outputs =
            (first..units.len()).filter_map(|i| units[i].rendered.as_ref().map(|r| (Some(i), r)));
        let next = declared_in(outputs, Some(&units));
        supersede(&mut units, &next);
        level = next;
        depth += 1;
    }
    over.extend(
        level
            .into_iter()
            .map(|d| (d, "nested deeper than 16 levels")),
    );
    let mut done = finish(units);
    for (d, why) in over {
        done.skipped.push((
            format!("Kustomization {}/{}", d.namespace, d.name()),
            d.object.origin.clone(),
            format!("not rendered: {why}"),
        ));
    }
    done
}

/// The Flux Kustomizations among the objects of `outputs` (each with the unit that rendered
/// it), leaving out a unit's own object and those of its ancestors (a unit that applies
/// itself, as `flux-system` does).
fn declared_in<'r>(
    outputs: impl Iterator<Item = (Option<usize>, &'r Rendered)>,
    units: Option<&Vec<Unit>>,
) -> Vec<Declared> {
    let mut out = Vec::new();
    for (parent, r) in outputs {
        for obj in r.objects.iter().filter(|o| is_flux_kustomization(o)) {
            let parent_ns = parent
                .and_then(|p| units.map(|u| u[p].declared.namespace.clone()))
                .unwrap_or_else(|| "flux-system".into());
            let d = Declared {
                namespace: obj
                    .str_at(&["metadata", "namespace"])
                    .map(str::to_string)
                    .unwrap_or(parent_ns),
                object: obj.clone(),
                parent,
            };
            if !is_ancestor(units, parent, &d.key()) {
                out.push(d);
            }
        }
    }
    out
}

fn is_ancestor(units: Option<&Vec<Unit>>, mut at: Option<usize>, key: &Key) -> bool {
    let Some(units) = units else { return false };
    while let Some(i) = at {
        if units[i].declared.key() == *key {
            return true;
        }
        at = units[i].declared.parent;
    }
    false
}

/// A unit declared by a bare folder is replaced by the same object declared by a unit.
fn supersede(units: &mut [Unit], next: &[Declared]) {
    let keys: BTreeSet<Key> = next.iter().map(Declared::key).collect();
    for u in units.iter_mut() {
        if u.declared.parent.is_none() && keys.contains(&u.declared.key()) {
            u.superseded = true;
        }
    }
}

fn finish(mut units: Vec<Unit>) -> Units {
    // What a replaced unit declared is replaced too (its replacement declares it again).
    for i in 0..units.len() {
        if let Some(p) = units[i].declared.parent {
            if units[p].superseded {
                units[i].superseded = true;
            }
        }
    }
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for u in units.iter().filter(|u| !u.superseded) {
        if let Some(r) = &u.rendered {
            *count.entry(r.target.id()).or_insert(0) += 1;
        }
    }
    // Units of the same path and name (one per cluster) are told apart by their file.
    for u in units.iter_mut().filter(|u| !u.superseded) {
        let Some(r) = u.rendered.as_mut() else {
            continue;
        };
        if count.get(&r.target.id()).is_some_and(|n| *n > 1) {
            if let Some(unit) = r.target.unit.as_mut() {
                unit.label = format!("{} in {}:{}", unit.label, unit.file, unit.line);
            }
            let id = r.target.id();
            if let Some(f) = r.failure.as_mut() {
                f.target = id;
            }
        }
    }
    let ids: Vec<Option<String>> = units
        .iter()
        .map(|u| u.rendered.as_ref().map(|r| r.target.id()))
        .collect();
    let mut rendered = Vec::new();
    let mut skipped = Vec::new();
    for u in units.into_iter().filter(|u| !u.superseded) {
        let d = u.declared;
        match u.rendered {
            Some(mut r) => {
                if let Some(unit) = r.target.unit.as_mut() {
                    unit.parent = d.parent.and_then(|p| ids[p].clone());
                }
                rendered.push(r);
            }
            None => {
                let reason = source_problem(&d).unwrap_or_default();
                skipped.push((
                    format!("Kustomization {}/{}", d.namespace, d.name()),
                    d.object.origin.clone(),
                    reason,
                ));
            }
        }
    }
    Units { rendered, skipped }
}

/// Why a unit's source is not read, for the listing of skipped units.
fn source_problem(d: &Declared) -> Option<String> {
    let r = d.object.get_path(&["spec", "sourceRef"])?;
    Some(format!(
        "its source {} {} is not this repository, or an ArtifactGenerator driftlint does not follow (map it to a folder under `sources:` in .driftlint.yaml)",
        r.str_at(&["kind"]).unwrap_or("?"),
        r.str_at(&["name"]).unwrap_or("?")
    ))
}

/// The repo-relative folder a Flux source holds: the bootstrap source (`GitRepository` or
/// `OCIRepository` `flux-system` in `flux-system`) is the repository root unless `sources:`
/// says otherwise; other sources only when listed there.
fn source_folder(config: &Config, d: &Declared, known: &[&Node]) -> Option<String> {
    let r = d.object.get_path(&["spec", "sourceRef"])?;
    let kind = r.str_at(&["kind"])?;
    let name = r.str_at(&["name"])?;
    let ns = r.str_at(&["namespace"]).unwrap_or(&d.namespace);
    if kind == "ExternalArtifact" {
        return artifact_folder(config, known, name, ns);
    }
    folder_of(config, kind, name, ns)
}

pub(crate) fn folder_of(config: &Config, kind: &str, name: &str, ns: &str) -> Option<String> {
    if let Some(s) = config
        .sources
        .iter()
        .find(|s| s.kind == kind && s.name == name && s.namespace == ns)
    {
        return Some(s.path.clone());
    }
    let bootstrap = matches!(kind, "GitRepository" | "OCIRepository")
        && name == "flux-system"
        && ns == "flux-system";
    bootstrap.then(|| ".".to_string())
}

/// The folder of this repository an `ExternalArtifact` made by a Flux `ArtifactGenerator`
/// (`source.extensions.fluxcd.io`) holds, when its copy operations keep the layout of one
/// folder of a source of this repository: every `copy` is `from: "@alias/P/S/**"`,
/// `to: "@artifact/S/"` with the same `P` (the artifact is folder `P`; subfolders not copied
/// are still visible to driftlint). Other generators are not followed.
fn artifact_folder(config: &Config, known: &[&Node], name: &str, ns: &str) -> Option<String> {
    let generator = known.iter().find(|o| {
        o.str_at(&["kind"]) == Some("ArtifactGenerator")
            && o.str_at(&["metadata", "namespace"])
                .unwrap_or("flux-system")
                == ns
            && artifact_spec(o, name).is_some()
    })?;
    let artifact = artifact_spec(generator, name)?;
    let mut prefix: Option<String> = None;
    for copy in artifact.get("copy")?.as_seq()? {
        if copy.get("exclude").is_some() {
            return None;
        }
        let from = copy.str_at(&["from"])?.strip_prefix('@')?;
        let (alias, rest) = from.split_once('/')?;
        let source = generator
            .get_path(&["spec", "sources"])?
            .as_seq()?
            .iter()
            .find(|s| s.str_at(&["alias"]) == Some(alias))?;
        let base = folder_of(
            config,
            source.str_at(&["kind"])?,
            source.str_at(&["name"])?,
            source.str_at(&["namespace"]).unwrap_or(ns),
        )?;
        let dir = rest.strip_suffix("/**")?;
        let to = copy
            .str_at(&["to"])?
            .strip_prefix("@artifact/")?
            .trim_end_matches('/');
        let p = if to.is_empty() {
            dir
        } else {
            dir.strip_suffix(to)?.trim_end_matches('/')
        };
        let p = format!("{base}/{p}");
        match &prefix {
            Some(q) if *q != p => return None,
            _ => prefix = Some(p),
        }
    }
    prefix
}

fn artifact_spec<'a>(generator: &'a Node, name: &str) -> Option<&'a Node> {
    generator
        .get_path(&["spec", "artifacts"])?
        .as_seq()?
        .iter()
        .find(|a| a.str_at(&["name"]) == Some(name))
}

/// Renders one unit; `None` when its source is not this repository.
fn render_unit(ctx: &UnitContext, d: &Declared, known: &[&Node]) -> Option<Rendered> {
    let folder = source_folder(ctx.config, d, known)?;
    let spec = d.object.get("spec");
    let path_node = spec.and_then(|s| s.get("path"));
    let path_text = path_node.and_then(Node::as_str).unwrap_or("");
    let at = path_node
        .map(|n| n.origin.clone())
        .unwrap_or_else(|| d.object.origin.clone());
    let joined = format!("{folder}/{path_text}");
    let mut target = Target::new(Kind::Flux, PathBuf::from(&joined));
    target.unit = Some(UnitRef::declared(
        "Kustomization",
        &d.namespace,
        d.name(),
        &d.object.origin,
    ));
    let dir = match discover::config_path(ctx.fs, &joined) {
        Ok(dir) => dir,
        Err(e) => {
            target.path = PathBuf::from(path_text.trim_start_matches("./"));
            let msg = format!("kustomization path not found: {e}");
            return Some(failed(target, d, "RENDER001", msg, at));
        }
    };
    target.path = dir.clone();
    Some(build_unit(ctx, d, target, &dir, known))
}

fn build_unit(
    ctx: &UnitContext,
    d: &Declared,
    target: Target,
    dir: &std::path::Path,
    known: &[&Node],
) -> Rendered {
    let empty = Node::null(d.object.origin.clone());
    let spec = d.object.get("spec").unwrap_or(&empty);
    let text = ctx.fs.text_read(&d.object.origin.file);
    let overlay = match FluxOverlay::from_spec(spec, text) {
        Ok(o) => o,
        Err(e) => return kustomize_failed(target, d, &e),
    };
    let opts = BuildOptions {
        flux: Some(&overlay),
        ..*ctx.build
    };
    let build = match kustomize::build(ctx.fs, dir, &opts) {
        Ok(b) => b,
        Err(e) => return kustomize_failed(target, d, &e),
    };
    let mut objects = build.objects;
    let mut files = build.files;
    files.push(PathBuf::from(d.object.origin.file.as_ref()));
    let mut budget = MAX_POST_BUILD_BYTES;
    if let Err(at) = common_metadata(spec, &mut objects, &mut budget) {
        let msg = "commonMetadata copies exceed 64 MiB (driftlint's budget)".to_string();
        return failed(target, d, "RENDER001", msg, at);
    }
    let vars = match variables(spec, d, known, &mut files) {
        Ok(v) => v,
        Err((msg, at)) => return failed(target, d, "RENDER001", msg, at),
    };
    if vars.active() {
        for obj in objects.iter_mut().filter(|o| !substitution_disabled(o)) {
            if let Err((e, at)) = vars.apply(obj, &mut budget) {
                let code = match e {
                    substitute::SubstError::Unsupported(_) => "RENDER002",
                    _ => "RENDER001",
                };
                return failed(target, d, code, format!("envsubst error: {e}"), at);
            }
        }
    }
    files.sort();
    files.dedup();
    Rendered {
        target,
        objects,
        files,
        failure: None,
        declared: Some(d.object.clone()),
    }
}

fn kustomize_failed(target: Target, d: &Declared, e: &kustomize::KustomizeError) -> Rendered {
    let (code, severity) = crate::check::kustomize_failure_code(e);
    let at = e.origin.clone().unwrap_or_else(|| d.object.origin.clone());
    let mut r = failed(target, d, code, format!("kustomize build failed: {e}"), at);
    if let Some(f) = &mut r.failure {
        f.severity = severity;
    }
    r
}

fn failed(target: Target, d: &Declared, code: &str, msg: String, origin: Origin) -> Rendered {
    let id = target.id();
    let finding = Finding {
        code: code.into(),
        severity: Severity::Error,
        message: format!(
            "cannot render Flux Kustomization {}/{}: {msg}",
            d.namespace,
            d.name()
        ),
        origin,
        object: None,
        target: id,
        field: None,
    };
    Rendered {
        files: vec![PathBuf::from(d.object.origin.file.as_ref())],
        target,
        objects: Vec::new(),
        failure: Some(finding),
        declared: Some(d.object.clone()),
    }
}

/// `spec.commonMetadata`: labels and annotations set on every object (replacing values of
/// the same key), selectors untouched. Each copy is charged to `budget` (key and value bytes).
///
/// Errors: the origin of the entry whose copies outgrow `budget`.
fn common_metadata(spec: &Node, objects: &mut [Node], budget: &mut u64) -> Result<(), Origin> {
    for field in ["labels", "annotations"] {
        let Some(pairs) = spec
            .get_path(&["commonMetadata", field])
            .and_then(Node::as_map)
        else {
            continue;
        };
        // Each entry once: its key, its value marked as set by commonMetadata, and the bytes
        // one copy costs.
        let entries: Vec<(&str, Node, u64, &Origin)> = pairs
            .iter()
            .filter_map(|(k, v)| {
                let key = k.as_str()?;
                let mut value = v.clone();
                value.origin = value.origin.with_via("commonMetadata");
                let size = (key.len() + v.to_json().to_string().len()) as u64;
                Some((key, value, size, &k.origin))
            })
            .collect();
        for obj in objects.iter_mut() {
            for (key, value, size, at) in &entries {
                *budget = budget.checked_sub(*size).ok_or_else(|| (*at).clone())?;
                set_metadata(obj, field, key, value.clone());
            }
        }
    }
    Ok(())
}

/// Sets `metadata.<field>.<key>` of `obj`, creating the maps as needed.
pub(crate) fn set_metadata(obj: &mut Node, field: &str, key: &str, value: Node) {
    let at = obj.origin.clone();
    let Some(root) = obj.as_map_mut() else { return };
    if root.get("metadata").is_none_or(|m| m.as_map().is_none()) {
        root.insert("metadata", Node::map(at.clone()));
    }
    let Some(meta) = root.get_mut("metadata").and_then(Node::as_map_mut) else {
        return;
    };
    if meta.get(field).is_none_or(|m| m.as_map().is_none()) {
        meta.insert(field, Node::map(at));
    }
    if let Some(map) = meta.get_mut(field).and_then(Node::as_map_mut) {
        map.insert(key, value);
    }
}

fn substitution_disabled(obj: &Node) -> bool {
    ["labels", "annotations"]
        .iter()
        .any(|f| obj.str_at(&["metadata", f, SUBSTITUTE_KEY]) == Some("disabled"))
}

/// The variables of a unit: `substituteFrom` ConfigMaps and Secrets in order (found among
/// the objects the repository renders, nearest to the Flux Kustomization's file first), then
/// `substitute`, which overrides them. A source not in the repository, or a Secret whose
/// values cannot be read (SOPS), makes the unit's unknown variables opaque.
///
/// Errors: a variable name Flux refuses, at its line.
fn variables(
    spec: &Node,
    d: &Declared,
    known: &[&Node],
    files: &mut Vec<PathBuf>,
) -> Result<Vars, (String, Origin)> {
    let mut vars = Vars::default();
    let post = spec.get("postBuild");
    let refs = post
        .and_then(|p| p.get("substituteFrom"))
        .and_then(Node::as_seq)
        .map(|s| s.to_vec())
        .unwrap_or_default();
    for r in &refs {
        let kind = r.str_at(&["kind"]).unwrap_or("");
        let name = r.str_at(&["name"]).unwrap_or("");
        match find_source(known, kind, name, &d.namespace, &d.object.origin.file) {
            Some(obj) => {
                files.push(PathBuf::from(obj.origin.file.as_ref()));
                if !read_source(obj, &mut vars) {
                    vars.opaque = true;
                }
            }
            None => vars.opaque = true,
        }
    }
    if let Some(map) = post
        .and_then(|p| p.get("substitute"))
        .and_then(Node::as_map)
    {
        for (k, v) in map.iter() {
            let (Some(name), Some(value)) = (k.as_str(), v.as_scalar()) else {
                continue;
            };
            vars.known.insert(
                name.to_string(),
                (value.text.replace('\n', ""), v.origin.clone()),
            );
        }
    }
    for (name, (_, at)) in &vars.known {
        if !driftlint_yaml::is_flux_var_name(name) {
            let msg = format!(
                "'{name}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'"
            );
            return Err((msg, at.clone()));
        }
    }
    Ok(vars)
}

/// The ConfigMap or Secret `name` in `namespace` among `known`, the one whose file shares
/// the longest folder prefix with `near` (a repository deploying several clusters has one
/// per cluster, next to that cluster's Flux Kustomizations).
pub(crate) fn find_source<'a>(
    known: &[&'a Node],
    kind: &str,
    name: &str,
    namespace: &str,
    near: &str,
) -> Option<&'a Node> {
    let shared = |file: &str| {
        file.split('/')
            .zip(near.split('/'))
            .take_while(|(a, b)| a == b)
            .count()
    };
    known
        .iter()
        .filter(|o| {
            o.str_at(&["kind"]) == Some(kind)
                && o.str_at(&["apiVersion"]) == Some("v1")
                && o.str_at(&["metadata", "name"]) == Some(name)
                && o.str_at(&["metadata", "namespace"])
                    .is_none_or(|n| n == namespace)
        })
        .max_by_key(|o| {
            (
                shared(&o.origin.file),
                std::cmp::Reverse(o.origin.file.clone()),
            )
        })
        .copied()
}

/// Adds the values of a ConfigMap's `data` or a Secret's `data` (base64) and `stringData`
/// to `vars`, newlines removed as Flux does. False when the values cannot be read (a
/// SOPS-encrypted Secret, data that is not base64).
fn read_source(obj: &Node, vars: &mut Vars) -> bool {
    if obj.get("sops").is_some() {
        return false;
    }
    let secret = obj.str_at(&["kind"]) == Some("Secret");
    let mut ok = true;
    if let Some(data) = obj.get("data").and_then(Node::as_map) {
        for (k, v) in data.iter() {
            let (Some(key), Some(value)) = (k.as_str(), v.as_scalar()) else {
                continue;
            };
            let text = if secret {
                match data_encoding::BASE64.decode(value.text.trim().as_bytes()) {
                    Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Err(_) => {
                        ok = false;
                        continue;
                    }
                }
            } else {
                value.text.clone()
            };
            vars.known
                .insert(key.to_string(), (text.replace('\n', ""), v.origin.clone()));
        }
    }
    if secret {
        if let Some(data) = obj.get("stringData").and_then(Node::as_map) {
            for (k, v) in data.iter() {
                if let (Some(key), Some(value)) = (k.as_str(), v.as_scalar()) {
                    vars.known.insert(
                        key.to_string(),
                        (value.text.replace('\n', ""), v.origin.clone()),
                    );
                }
            }
        }
    }
    ok
}
