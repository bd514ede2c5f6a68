//! `driftlint diff` and `check --new-only`: what a change does to the rendered cluster state,
//! and which findings it introduces.
//!
//! The base revision is read from the Git object database into a temporary directory
//! ([`git`]: no checkout, no hooks, validated revision, bounded size); both trees are then
//! checked in one process, in parallel ([`rayon::join`]), with [`check::check_rendered`].
//! Apply units pair by [`Target::id`]; their objects pair and diff as [`objects`] describes.
//! Findings pair by [`fingerprint`]: those only in the new tree are *new*, those in both
//! *existing*, those only in the base *fixed*.

pub mod git;
pub mod objects;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::check::{self, CheckError, CheckOptions, CheckReport, RenderedTargets, Sources};
use crate::discover::Target;
use driftlint_rules::{fingerprint, Finding};
use git::{GitError, Repo};
pub use objects::{Change, ObjectDiff};

/// What to compare.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// The new tree's check (paths in the work tree, Kubernetes version, remote bases...);
    /// the base is checked with the same options, its paths moved into the base's tree.
    pub check: CheckOptions,
    /// The base revision; `None`: the merge base of HEAD with `origin/HEAD`, `main` or `master`.
    pub base: Option<String>,
}

/// Why a comparison could not run.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// Reading the base revision failed.
    #[error("{0}")]
    Git(#[from] GitError),
    /// Checking one of the trees failed (a missing path, an unsupported Kubernetes version).
    #[error("{0}")]
    Check(#[from] CheckError),
}

/// How one apply unit changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitStatus {
    /// Only in the new tree.
    Added,
    /// Only in the base.
    Removed,
    /// Some object differs.
    Changed,
    /// It rendered in the base but not in the new tree (the findings say why).
    FailsNow,
    /// It did not render in the base; it does now (its objects show as added).
    Fixed,
}

/// One apply unit that differs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitDiff {
    /// The unit's id ([`Target::id`]).
    pub id: String,
    /// Its kind (`kustomize`, `helm`, `manifests`, `flux-kustomization`).
    pub kind: &'static str,
    /// How it changed.
    pub status: UnitStatus,
    /// The objects that differ, by kind, namespace and name.
    pub objects: Vec<ObjectDiff>,
    /// Objects rendered the same on both sides.
    pub unchanged: usize,
}

impl UnitDiff {
    /// Objects added, changed and removed.
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |c: Change| self.objects.iter().filter(|o| o.change == c).count();
        (n(Change::Added), n(Change::Changed), n(Change::Removed))
    }
}

/// The findings of the new tree split by whether the base had them.
#[derive(Debug, Clone, Default)]
pub struct FindingsDelta {
    /// Findings only in the new tree (redacted, in report order).
    pub new: Vec<Finding>,
    /// Findings in both trees (not reported).
    pub existing: usize,
    /// Findings only in the base (fixed by the change).
    pub fixed: usize,
}

/// The result of `driftlint diff`.
#[derive(Debug, Clone)]
pub struct DiffReport {
    /// The base as given (`origin/main`) or chosen (`merge-base(HEAD, origin/HEAD)`).
    pub base: String,
    /// The base's full commit id.
    pub base_commit: String,
    /// The units that differ, by id.
    pub units: Vec<UnitDiff>,
    /// Units rendered the same on both sides.
    pub unchanged_units: usize,
    /// Findings new, existing, fixed.
    pub findings: FindingsDelta,
    /// The new tree's check (its findings are all of them, new or not).
    pub check: CheckReport,
}

impl DiffReport {
    /// True when a new finding says an input could not be processed (exit code 2).
    pub fn has_input_errors(&self) -> bool {
        self.findings
            .new
            .iter()
            .any(|f| check::ERROR_CODES.contains(&f.code.as_str()))
    }
}

/// The base's tree, extracted, and the revision it came from.
struct Base {
    label: String,
    extracted: git::Extracted,
    top: PathBuf,
}

impl Base {
    /// Reads `rev` (or the default base) of the repository holding the first path.
    fn read(opts: &CheckOptions, rev: Option<&str>) -> Result<Base, DiffError> {
        let first = opts.paths.first().cloned().unwrap_or_else(|| ".".into());
        let repo = Repo::discover(&first)?;
        let (label, commit) = match rev {
            Some(r) => (r.to_string(), repo.resolve(r)?),
            None => repo.default_base()?,
        };
        let extracted = repo.extract(&commit)?;
        Ok(Base {
            label,
            extracted,
            top: repo.top,
        })
    }

    /// `opts` with every path that lies in the work tree moved to the same place in the
    /// base's tree (a directory the base does not have is created empty: nothing there).
    fn options(&self, opts: &CheckOptions) -> Result<CheckOptions, DiffError> {
        let mut paths = Vec::new();
        let given = if opts.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            opts.paths.clone()
        };
        for p in &given {
            let real = p
                .canonicalize()
                .map_err(|_| CheckError::NoSuchPath(p.display().to_string()))?;
            let rel = real
                .strip_prefix(&self.top)
                .map_err(|_| CheckError::OutsideRoot {
                    path: p.display().to_string(),
                    real: real.display().to_string(),
                    root: self.top.display().to_string(),
                })?;
            let moved = self.extracted.dir.path().join(rel);
            if real.is_dir() && !moved.exists() {
                let _ = std::fs::create_dir_all(&moved);
            }
            paths.push(if moved.exists() {
                moved
            } else {
                moved.parent().map(Path::to_path_buf).unwrap_or(moved)
            });
        }
        Ok(CheckOptions {
            paths,
            changed_files: None,
            ..opts.clone()
        })
    }
}

/// One tree's check report and rendered objects.
type Checked = (CheckReport, RenderedTargets);

/// Checks both trees in parallel: (new, base), each with its rendered objects.
fn check_both(opts: &CheckOptions, base: &Base) -> Result<(Checked, Checked), DiffError> {
    let base_opts = base.options(opts)?;
    let (new, old) = rayon::join(
        || check::check_rendered(opts),
        || check::check_rendered(&base_opts),
    );
    Ok((new?, old?))
}

/// Splits `new`'s findings by whether `base` has the same fingerprint.
pub fn findings_delta(new: &[Finding], base: &[Finding]) -> FindingsDelta {
    let old: BTreeSet<String> = base.iter().map(fingerprint).collect();
    let now: BTreeSet<String> = new.iter().map(fingerprint).collect();
    let (existing, fresh): (Vec<&Finding>, Vec<&Finding>) =
        new.iter().partition(|f| old.contains(&fingerprint(f)));
    FindingsDelta {
        new: fresh.into_iter().cloned().collect(),
        existing: existing.len(),
        fixed: old.difference(&now).count(),
    }
}

/// `driftlint diff`: the base and the work tree rendered, their units and objects compared,
/// the findings split into new and existing.
///
/// Errors: [`DiffError::Git`] when the base cannot be read (not a Git work tree, an unknown
/// or invalid revision, a tree past the budget), [`DiffError::Check`] as [`check::check`].
pub fn diff(opts: &DiffOptions) -> Result<DiffReport, DiffError> {
    let base = Base::read(&opts.check, opts.base.as_deref())?;
    let ((new, new_objects), (old, old_objects)) = check_both(&opts.check, &base)?;
    let (mut units, unchanged_units) = diff_units(&new, &new_objects, &old, &old_objects);
    for u in &mut units {
        // Secret values are hashes already; other text is redacted as findings are.
        for o in u.objects.iter_mut().filter(|o| !o.is_secret()) {
            let text = new.sources.redactor().redact(&o.diff).into_owned();
            o.diff = old.sources.redactor().redact(&text).into_owned();
        }
    }
    Ok(DiffReport {
        base: base.label.clone(),
        base_commit: base.extracted.commit.clone(),
        units,
        unchanged_units,
        findings: findings_delta(&new.findings, &old.findings),
        check: new,
    })
}

/// `check --new-only`: the new tree's report with only the findings the base does not have.
///
/// Errors: as [`diff`].
pub fn check_new_only(
    opts: &CheckOptions,
    base: Option<&str>,
) -> Result<(CheckReport, FindingsDelta, String), DiffError> {
    let base = Base::read(opts, base)?;
    let ((mut new, _), (old, _)) = check_both(opts, &base)?;
    let delta = findings_delta(&new.findings, &old.findings);
    new.findings = delta.new.clone();
    let label = format!("{} ({})", base.label, &base.extracted.commit[..12]);
    Ok((new, delta, label))
}

/// One side's units by id: `Some(objects)` when it rendered, `None` when it failed.
fn units_by_id<'a>(
    report: &CheckReport,
    objects: &'a RenderedTargets,
) -> BTreeMap<String, (&'static str, Option<&'a [driftlint_yaml::Node]>)> {
    let rendered: BTreeMap<String, &'a [driftlint_yaml::Node]> = objects
        .iter()
        .map(|(t, o): &(Target, _)| (t.id(), o.as_slice()))
        .collect();
    report
        .targets
        .iter()
        .map(|t| {
            let id = t.target.id();
            let objs = rendered.get(&id).copied();
            (id, (t.target.kind.as_str(), objs))
        })
        .collect()
}

/// The units that differ (by id) and how many are the same.
fn diff_units(
    new: &CheckReport,
    new_objects: &RenderedTargets,
    old: &CheckReport,
    old_objects: &RenderedTargets,
) -> (Vec<UnitDiff>, usize) {
    let now = units_by_id(new, new_objects);
    let before = units_by_id(old, old_objects);
    let ids: BTreeSet<&String> = now.keys().chain(before.keys()).collect();
    let mut units = Vec::new();
    let mut same = 0;
    for id in ids {
        let kind = now.get(id).or(before.get(id)).map_or("", |(k, _)| *k);
        let b = before.get(id).map(|(_, o)| *o);
        let n = now.get(id).map(|(_, o)| *o);
        let (status, base_objs, new_objs) = match (b, n) {
            (Some(None), Some(None)) => {
                same += 1;
                continue;
            }
            (None, Some(n)) => (UnitStatus::Added, None, n),
            (Some(b), None) => (UnitStatus::Removed, b, None),
            (Some(Some(_)), Some(None)) => (UnitStatus::FailsNow, None, None),
            (Some(None), Some(n)) => (UnitStatus::Fixed, None, n),
            (Some(b), Some(n)) => (UnitStatus::Changed, b, n),
            (None, None) => continue,
        };
        let (objects, unchanged) =
            objects::diff_objects(base_objs.unwrap_or_default(), new_objs.unwrap_or_default());
        if status == UnitStatus::Changed && objects.is_empty() {
            same += 1;
            continue;
        }
        units.push(UnitDiff {
            id: id.clone(),
            kind,
            status,
            objects,
            unchanged,
        });
    }
    (units, same)
}

/// The sources a human report of the new tree shows.
pub fn sources(report: &DiffReport) -> &Sources {
    &report.check.sources
}
