//! What Flux's kustomize-controller does to a kustomization before it builds it, as
//! fluxcd/pkg/kustomize's `Generator.WriteFile`: when `spec.path` has no kustomization file
//! one is generated listing what the folder holds, then the Flux Kustomization's
//! `spec.targetNamespace`, `namePrefix`/`nameSuffix`, `patches`, `images` and `components` are
//! written into it. The build itself runs with `LoadRestrictionsNone` (files anywhere in the
//! repository, never outside it).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use driftlint_yaml::{parse_file, Node, Origin};

use super::decode::{self, fields, Spanned};
use super::error::{KustomizeError, Result};
use super::kustfile::{self, ImageArgs, Kustomization, PatchArgs};
use super::loader::{display, Loader, KUSTOMIZATION_FILE_NAMES};

/// At most this many directory entries are looked at when a kustomization is generated.
const MAX_SCANNED: usize = 20_000;

/// The parts of a Flux `Kustomization` (`kustomize.toolkit.fluxcd.io`) spec that change the
/// kustomize build. Values keep their origins in the Flux Kustomization's file, so what a
/// patch sets points at that patch's line.
#[derive(Clone, Debug, Default)]
pub struct FluxOverlay {
    /// `spec.targetNamespace`: replaces the kustomization's `namespace`.
    pub target_namespace: Option<Spanned<String>>,
    /// `spec.namePrefix`: replaces the kustomization's `namePrefix`.
    pub name_prefix: Option<Spanned<String>>,
    /// `spec.nameSuffix`: replaces the kustomization's `nameSuffix`.
    pub name_suffix: Option<Spanned<String>>,
    /// `spec.patches` (`patch` + `target`), appended to the kustomization's `patches`.
    pub patches: Vec<PatchArgs>,
    /// `spec.images`: an entry replaces the kustomization's entry of the same `name`, else
    /// it is appended.
    pub images: Vec<ImageArgs>,
    /// `spec.components`, relative to `spec.path`, appended to `components`.
    pub components: Vec<Spanned<String>>,
    /// The Flux Kustomization's file name and text (inline patches map their lines into it).
    pub source: Option<(Arc<str>, Arc<str>)>,
}

impl FluxOverlay {
    /// Reads the overlay from a Flux Kustomization's `spec` node; `source` is the text of the
    /// file the node was parsed from (for the lines of inline patches), when known.
    ///
    /// Errors: a malformed `patches`/`images`/`components` entry, at its line (Flux's own
    /// message would be a decoding error of the same field).
    pub fn from_spec(spec: &Node, source: Option<Arc<str>>) -> Result<FluxOverlay> {
        let what = "Kustomization.spec";
        let mut o = FluxOverlay {
            source: source.map(|text| (spec.origin.file.clone(), text)),
            ..FluxOverlay::default()
        };
        let Some(map) = spec.as_map() else {
            return Ok(o);
        };
        for (key, v) in map.iter() {
            let Some(name) = key.as_str() else { continue };
            if decode::is_null(v) {
                continue;
            }
            match name {
                "targetNamespace" => o.target_namespace = kustfile::opt_string(v, what)?,
                "namePrefix" => o.name_prefix = kustfile::opt_string(v, what)?,
                "nameSuffix" => o.name_suffix = kustfile::opt_string(v, what)?,
                "patches" => o.patches = kustfile::map_seq(v, what, flux_patch)?,
                "images" => o.images = kustfile::map_seq(v, what, kustfile::decode_image)?,
                "components" => o.components = decode::strings(v, what)?,
                _ => {}
            }
        }
        Ok(o)
    }

    /// Writes the overlay into `k`, as Flux rewrites the kustomization file.
    pub(crate) fn apply(&self, k: &mut Kustomization) {
        if let Some(ns) = &self.target_namespace {
            k.namespace = Some(ns.clone());
        }
        if let Some(p) = &self.name_prefix {
            k.name_prefix = Some(p.clone());
        }
        if let Some(s) = &self.name_suffix {
            k.name_suffix = Some(s.clone());
        }
        k.patches.extend(self.patches.iter().cloned());
        for image in &self.images {
            match k.images.iter_mut().find(|i| i.name == image.name) {
                Some(existing) => *existing = image.clone(),
                None => k.images.push(image.clone()),
            }
        }
        k.components.extend(self.components.iter().cloned());
        k.extra_source = self.source.clone();
    }
}

/// A Flux patch: `patch` and `target` only (Flux's `kustomize.Patch` has no `path` or
/// `options`).
fn flux_patch(n: &Node, what: &str) -> Result<PatchArgs> {
    fields(n, &["patch", "target"], &format!("{what}.patches"))?;
    kustfile::decode_patch(n, what)
}

/// The kustomization Flux generates for a folder without one (fluxcd/pkg/kustomize
/// `generateKustomization`): walking the folder in lexical order, a subfolder holding a
/// kustomization file is listed as a resource and not entered; every `.yaml`/`.yml` file
/// is listed, and must parse as YAML. Symbolic links are not followed into folders.
///
/// Errors: a YAML file that does not parse ("failed to decode Kubernetes YAML from ..."),
/// an unreadable folder, or more than [`MAX_SCANNED`] entries.
pub(crate) fn generate(loader: &Loader, dir: &Path, origin: &Origin) -> Result<Kustomization> {
    let file: Arc<str> = format!("{}/kustomization.yaml", display(dir)).into();
    let mut k = Kustomization::empty(file.clone());
    let mut found = Vec::new();
    let mut budget = MAX_SCANNED;
    scan(loader, dir, Path::new("."), &mut found, &mut budget, origin)?;
    let at = Origin::new(file, 1, 1).with_via("generated by Flux");
    k.resources = found
        .into_iter()
        .map(|p| Spanned::new(display(&p), at.clone()))
        .collect();
    k.source = "".into();
    Ok(k)
}

fn scan(
    loader: &Loader,
    top: &Path,
    rel: &Path,
    found: &mut Vec<PathBuf>,
    budget: &mut usize,
    origin: &Origin,
) -> Result<()> {
    let here = top.join(rel);
    let real = loader.real_path(&here, origin)?;
    let entries = std::fs::read_dir(&real).map_err(|e| {
        KustomizeError::invalid(format!("cannot read {}: {e}", display(&here)), Some(origin))
    })?;
    let mut names: Vec<(String, std::fs::FileType)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            KustomizeError::invalid(format!("cannot read {}: {e}", display(&here)), Some(origin))
        })?;
        *budget = budget.checked_sub(1).ok_or_else(|| {
            KustomizeError::invalid(
                format!(
                    "{} holds more than {MAX_SCANNED} entries: too many to generate a kustomization from",
                    display(top)
                ),
                Some(origin),
            )
        })?;
        if let (Some(name), Ok(t)) = (entry.file_name().to_str(), entry.file_type()) {
            names.push((name.to_string(), t));
        }
    }
    names.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    for (name, t) in names {
        let child = rel.join(&name);
        if t.is_dir() {
            let has_kustomization = KUSTOMIZATION_FILE_NAMES
                .iter()
                .any(|k| loader.is_file(&top.join(&child).join(k)));
            if has_kustomization {
                found.push(child);
            } else {
                scan(loader, top, &child, found, budget, origin)?;
            }
            continue;
        }
        if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
            continue;
        }
        let path = top.join(&child);
        let text = loader.read(&path)?;
        parse_file(display(&path).into(), &text).map_err(|e| {
            KustomizeError::invalid(
                format!(
                    "failed to decode Kubernetes YAML from {}: {e}",
                    display(&path)
                ),
                Some(origin),
            )
        })?;
        found.push(child);
    }
    Ok(())
}
