//! The workspace's shape: each crate depends only on the crates below it (the table in the
//! README's crate map), and no crate has an import circle between its top-level modules.

use std::path::Path;
use std::process::Command;

/// Every workspace crate and the workspace crates it may depend on (normal dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("driftlint_yaml", &[]),
    ("gotmpl", &["driftlint_yaml"]),
    ("driftlint_helm", &["driftlint_yaml", "gotmpl"]),
    ("driftlint_schema", &["driftlint_yaml"]),
    ("driftlint_charts", &["driftlint_yaml", "driftlint_helm"]),
    (
        "driftlint_kustomize",
        &["driftlint_yaml", "driftlint_schema"],
    ),
    ("driftlint_rules", &["driftlint_yaml"]),
    (
        "driftlint_drift",
        &["driftlint_yaml", "driftlint_schema", "driftlint_rules"],
    ),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace crates named in the `[dependencies]` table of `manifest`.
fn internal_deps(manifest: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        let name = line.split(['.', ' ', '=']).next().unwrap_or("");
        let known = ALLOWED.iter().any(|(c, _)| *c == name);
        if in_deps && known {
            out.push(name.to_string());
        }
    }
    out
}

#[test]
fn every_crate_depends_only_downward() {
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(root().join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let allowed = ALLOWED
            .iter()
            .find(|(c, _)| *c == name)
            .unwrap_or_else(|| panic!("crates/{name} is not in the crate map (ALLOWED)"))
            .1;
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        for dep in internal_deps(&manifest) {
            assert!(
                allowed.contains(&dep.as_str()),
                "{name} depends on {dep}, which the crate map does not allow"
            );
        }
        seen.push(name);
    }
    seen.sort();
    let mut expected: Vec<&str> = ALLOWED.iter().map(|(c, _)| *c).collect();
    expected.sort();
    assert_eq!(seen, expected);
}

#[test]
fn no_crate_has_an_import_circle_between_its_top_level_modules() {
    let out = Command::new("python3")
        .arg(root().join("scripts/module-cycles.py"))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
