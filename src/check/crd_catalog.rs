//! CRD knowledge beyond the repository: a CRDs-catalog checkout (`--crd-catalog DIR`,
//! `crdCatalog:`) read into the schema catalog, and the per-group SCHEMA002 for custom
//! resources whose API group is known nowhere.
//!
//! The checkout has datreeio/CRDs-catalog's layout, `<group>/<kind>_<version>.json` (the
//! layout kubeconform reads with `-schema-location '{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'`).
//! Only the folders of API groups that rendered objects use are read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use driftlint_rules::is_builtin_group;
use driftlint_schema::Catalog;
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::Node;

use super::{config_finding, CheckError, CheckOptions, Rendered};
use crate::config::Config;
use crate::discover;
use crate::report::{Finding, ObjectRef, Severity};

/// At most this many schema files are read from one group folder.
const MAX_FILES_PER_GROUP: usize = 500;

/// Reads the `--crd-catalog` checkout (or else the configuration's `crdCatalog:`, confined to
/// the repository) for the custom API groups that `rendered` objects use, and hands the files
/// to [`Catalog::add_crd_catalog_files`]. A file that cannot be read is a RENDER001 at it.
///
/// Errors: [`CheckError::NoSuchPath`] when `--crd-catalog` is not a readable directory. A bad
/// `crdCatalog:` is a CONFIG001 at its line.
pub(super) fn load(
    catalog: &mut Catalog,
    rendered: &[Rendered],
    fs: &RepoFs,
    opts: &CheckOptions,
    config: &Config,
    findings: &mut Vec<Finding>,
) -> Result<(), CheckError> {
    let (dir_fs, label) = if let Some(dir) = &opts.crd_catalog {
        let no_dir = |e: &dyn std::fmt::Display| {
            CheckError::NoSuchPath(format!("--crd-catalog {}: {e}", dir.display()))
        };
        let real = dir.canonicalize().map_err(|e| no_dir(&e))?;
        // Written inside the checkout, the directory is the pull request's: it must not lead
        // out of the repository (as `--crd-dir`).
        let abs = std::env::current_dir().map_or_else(|_| dir.clone(), |cwd| cwd.join(dir));
        if super::lexical(&abs).starts_with(fs.root()) && !real.starts_with(fs.root()) {
            return Err(no_dir(&"leads outside the repository"));
        }
        let dir_fs = RepoFs::new(&real).map_err(|e| no_dir(&e))?;
        (dir_fs, format!("--crd-catalog {}", dir.display()))
    } else if let Some(entry) = &config.crd_catalog {
        let found = discover::config_path(fs, &entry.path)
            .and_then(|rel| fs.resolve(Path::new(""), &rel.to_string_lossy()))
            .and_then(|real| RepoFs::new(&real));
        match found {
            Ok(dir_fs) => (dir_fs, format!("crdCatalog {}", entry.path)),
            Err(e) => {
                findings.push(config_finding(
                    format!("crdCatalog: {e}"),
                    entry.origin.clone(),
                ));
                return Ok(());
            }
        }
    } else {
        return Ok(());
    };
    let mut files = Vec::new();
    for group in used_groups(rendered) {
        read_group(&dir_fs, &group, &mut files, findings);
    }
    catalog.add_crd_catalog_files(label, files);
    Ok(())
}

/// The custom API groups of every rendered object that look like DNS subdomains (anything
/// else never becomes a path).
fn used_groups(rendered: &[Rendered]) -> BTreeSet<String> {
    rendered
        .iter()
        .flat_map(|r| r.objects.iter())
        .filter_map(|o| o.str_at(&["apiVersion"])?.rsplit_once('/').map(|(g, _)| g))
        .filter(|g| !is_builtin_group(g) && is_dns_subdomain(g))
        .map(str::to_owned)
        .collect()
}

/// `a-z0-9`, `-` and `.`, dot-separated non-empty labels that neither start nor end with `-`,
/// at most 253 characters: an API group as Kubernetes accepts it, and a safe folder name.
fn is_dns_subdomain(group: &str) -> bool {
    group.len() <= 253
        && group.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

fn read_group(
    dir_fs: &RepoFs,
    group: &str,
    files: &mut Vec<(String, String, String)>,
    findings: &mut Vec<Finding>,
) {
    let folder = dir_fs.root().join(group);
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names.truncate(MAX_FILES_PER_GROUP);
    for name in names {
        let path: PathBuf = folder.join(&name);
        match dir_fs.read_text(&path) {
            Ok(text) => files.push((group.to_owned(), name, text.to_string())),
            Err(e) => findings.push(Finding {
                code: "RENDER001".into(),
                severity: Severity::Error,
                message: format!("cannot read CRD catalog file: {e}"),
                origin: driftlint_yaml::Origin::new(format!("{group}/{name}").into(), 1, 1),
                object: None,
                target: group.to_owned(),
                field: None,
            }),
        }
    }
}

/// One SCHEMA002 per custom API group of `objects` that is known nowhere (the objects that got
/// no schema and that no rule explains), at the first such object's `kind`, listing the count
/// and kinds.
pub(super) fn unknown_group_findings(target: &str, objects: &[&Node]) -> Vec<Finding> {
    let mut by_group: BTreeMap<&str, Vec<&Node>> = BTreeMap::new();
    for obj in objects {
        let api_version = obj.str_at(&["apiVersion"]).unwrap_or_default();
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        by_group.entry(group).or_default().push(obj);
    }
    by_group
        .into_iter()
        .filter_map(|(group, objs)| {
            let first = objs.first()?;
            let kinds: BTreeSet<&str> = objs.iter().filter_map(|o| o.str_at(&["kind"])).collect();
            let count = objs.len();
            let noun = if count == 1 { "object" } else { "objects" };
            Some(Finding {
                code: "SCHEMA002".into(),
                severity: Severity::Warning,
                message: format!(
                    "no schema for {count} {noun} of API group {group} ({}): the group is known neither in this repository, --crd-dir nor the CRD catalog, so they are not validated (add the CRD, --crd-dir or --crd-catalog; --strict-crds makes them errors)",
                    kinds.into_iter().collect::<Vec<_>>().join(", ")
                ),
                origin: first
                    .get("kind")
                    .map(|k| k.origin.clone())
                    .unwrap_or_else(|| first.origin.clone()),
                object: Some(ObjectRef::of(first)),
                target: target.into(),
                field: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dns_subdomains_become_folders() {
        assert!(is_dns_subdomain("external-secrets.io"));
        assert!(is_dns_subdomain("volsync.backube"));
        for bad in [
            "..", "a/../b", "A.io", "a..io", "-a.io", "", "a.io/", "/etc",
        ] {
            assert!(!is_dns_subdomain(bad), "{bad}");
        }
    }

    #[test]
    fn one_warning_per_group_with_count_and_kinds() {
        let docs = driftlint_yaml::parse_documents(
            "t.yaml".into(),
            "apiVersion: a.example/v1\nkind: Foo\nmetadata: {name: x}\n---\napiVersion: a.example/v1\nkind: Bar\nmetadata: {name: y}\n---\napiVersion: b.example/v2\nkind: Baz\nmetadata: {name: z}\n",
        )
        .expect("parses");
        let refs: Vec<&Node> = docs.iter().collect();
        let found = unknown_group_findings("t", &refs);
        assert_eq!(found.len(), 2);
        assert!(
            found[0]
                .message
                .starts_with("no schema for 2 objects of API group a.example (Bar, Foo):"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].origin.line, 2);
        assert!(found[1]
            .message
            .starts_with("no schema for 1 object of API group b.example (Baz):"));
    }
}
