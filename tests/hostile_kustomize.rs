//! Hostile pull requests against the Kustomize engine and the YAML tree (issue 11): inputs
//! that used to take minutes (quadratic lookups), abort the process (exponential growth)
//! or point findings at the wrong line. Each test runs the real binary; the big inputs are
//! generated, and the tests assert results, not times (bench/kustomize_vs_kubectl.py
//! `--scale` measures the speed).

use std::fmt::Write as _;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn driftlint() -> Command {
    Command::cargo_bin("driftlint").expect("binary built")
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// A repository (a `.git` marker at its root) with one healthy overlay holding a planted
/// `latest` image, so that every test can see the other targets are still checked.
fn repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(d.path().join(".git")).expect("git marker");
    write(
        d.path(),
        "good/kustomization.yaml",
        "resources:\n- pod.yaml\n",
    );
    write(
        d.path(),
        "good/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:latest\n",
    );
    d
}

/// A finding as (code, file, line, column, message).
type Found = (String, String, u64, u64, String);

/// `check --format json`: the exit code and the findings.
fn check(root: &Path) -> (i32, Vec<Found>) {
    let out = driftlint()
        .arg("check")
        .arg(root)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "json report: {e}\nstatus: {:?}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let findings = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                s(&f["code"]),
                s(&f["location"]["file"]),
                f["location"]["line"].as_u64().unwrap_or_default(),
                f["location"]["column"].as_u64().unwrap_or_default(),
                s(&f["message"]),
            )
        })
        .collect();
    (out.status.code().unwrap_or(-1), findings)
}

/// Asserts exit 2, a RENDER001 at `file:line` whose message contains `says`, and that the
/// healthy target was checked.
fn assert_render_error(root: &Path, file: &str, line: u64, says: &str) {
    let (code, findings) = check(root);
    assert_eq!(code, 2, "{findings:?}");
    assert!(
        findings
            .iter()
            .any(|(c, f, l, _, m)| c == "RENDER001" && f == file && *l == line && m.contains(says)),
        "no RENDER001 at {file}:{line} saying {says:?}: {findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|(c, f, ..)| c == "PIN001" && f == "good/pod.yaml"),
        "the healthy target was not checked: {findings:?}"
    );
}

/// `kustomize build DIR` from `root`: (exit code, stdout, stderr).
fn build(root: &Path, dir: &str) -> (i32, String, String) {
    let out = driftlint()
        .current_dir(root)
        .args(["kustomize", "build", dir])
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Item 18: a malformed resource in an overlay is reported at the bad file's line and
/// column, not at `overlays/prod/kustomization.yaml:1:1`.
#[test]
fn malformed_resource_in_an_overlay_points_at_its_line() {
    let d = repo();
    write(
        d.path(),
        "base/kustomization.yaml",
        "resources:\n- cm.yaml\n",
    );
    write(
        d.path(),
        "base/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\n",
    );
    write(
        d.path(),
        "overlays/prod/kustomization.yaml",
        "resources:\n- ../../base\n- extra.yaml\n",
    );
    write(
        d.path(),
        "overlays/prod/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: name: x\n",
    );
    let (code, findings) = check(d.path());
    assert_eq!(code, 2, "{findings:?}");
    let f = findings
        .iter()
        .find(|f| f.0 == "RENDER001")
        .unwrap_or_else(|| panic!("no RENDER001: {findings:?}"));
    assert_eq!(
        (f.1.as_str(), f.2, f.3),
        ("overlays/prod/extra.yaml", 3, 15),
        "{f:?}"
    );
    assert!(f.4.contains("malformed YAML"), "{f:?}");
    assert!(findings.iter().any(|f| f.0 == "PIN001"), "{findings:?}");
}

/// Item 13: one ConfigMap with 200,000 keys (a linear scan per key made parsing quadratic:
/// over 60 s). The duplicate-key check must still work through the index.
#[test]
fn a_configmap_with_200000_keys_builds() {
    let d = repo();
    let mut cm = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n");
    for i in 0..200_000 {
        writeln!(cm, "  key-{i:07}: value-{i}").expect("write");
    }
    write(d.path(), "big/cm.yaml", &cm);
    write(
        d.path(),
        "big/kustomization.yaml",
        "resources:\n- cm.yaml\n",
    );
    let (code, out, err) = build(d.path(), "big");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("  key-")).count(),
        200_000
    );
    assert!(out.contains("  key-0000000: value-0\n"));
    assert!(out.contains("  key-0199999: value-199999\n"));
    // The same key again, 200,000 entries later: still refused, at its line.
    cm.push_str("  key-0000001: again\n");
    write(d.path(), "big/cm.yaml", &cm);
    let (code, _, err) = build(d.path(), "big");
    assert_ne!(code, 0);
    assert!(err.contains("big/cm.yaml:200006:3"), "{err}");
    assert!(err.contains("already defined"), "{err}");
}

/// Item 13: 20,000 small objects (id checks on append, name references and the namespace
/// conflict check compared every object with every other: minutes), renamed and moved to
/// a namespace, with a Deployment whose reference to the last ConfigMap must follow it.
#[test]
fn twenty_thousand_objects_build() {
    let d = repo();
    let mut objects = String::new();
    for i in 0..20_000 {
        write!(
            objects,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:05}\ndata:\n  k: v{i}\n---\n"
        )
        .expect("write");
    }
    objects.push_str(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: nginx:1.27\n      volumes:\n      - name: v\n        configMap:\n          name: cm-19999\n",
    );
    write(d.path(), "many/objects.yaml", &objects);
    write(
        d.path(),
        "many/kustomization.yaml",
        "namePrefix: p-\nnamespace: team\nresources:\n- objects.yaml\n",
    );
    let (code, out, err) = build(d.path(), "many");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("kind: ConfigMap\n").count(), 20_000);
    assert_eq!(out.matches("  namespace: team\n").count(), 20_001);
    assert!(out.contains("  name: p-cm-00000\n"));
    assert!(
        out.contains("      - configMap:\n          name: p-cm-19999\n"),
        "the name reference was not followed"
    );
    // A duplicate id, 20,000 objects after the first: still refused.
    objects.push_str("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-00007\n");
    write(d.path(), "many/objects.yaml", &objects);
    let (code, _, err) = build(d.path(), "many");
    assert_ne!(code, 0);
    assert!(err.contains("already registered id"), "{err}");
}

/// Item 10: forty replacements, each copying `data` into a field of itself, would double
/// the ConfigMap forty times (the process used to abort with exit 134 and no report).
#[test]
fn replacements_that_double_an_object_are_refused() {
    let d = repo();
    write(
        d.path(),
        "grow/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n",
    );
    let mut k = String::from("resources:\n- cm.yaml\nreplacements:\n");
    for i in 0..40 {
        write!(
            k,
            "- source: {{kind: ConfigMap, name: c, fieldPath: data}}\n  targets:\n  - select: {{kind: ConfigMap, name: c}}\n    fieldPaths: [data.copy{i}]\n    options: {{create: true}}\n"
        )
        .expect("write");
    }
    write(d.path(), "grow/kustomization.yaml", &k);
    let (code, findings) = check(d.path());
    assert_eq!(code, 2, "{findings:?}");
    let f = findings
        .iter()
        .find(|f| f.0 == "RENDER001")
        .unwrap_or_else(|| panic!("no RENDER001: {findings:?}"));
    assert_eq!(f.1, "grow/kustomization.yaml", "{f:?}");
    assert!(f.2 > 3, "at a replacement, not the top: {f:?}");
    assert!(f.4.contains("build budget"), "{f:?}");
    assert!(findings.iter().any(|f| f.0 == "PIN001"), "{findings:?}");
}

/// Item 10: a JSON patch whose `copy` operations copy `data` into itself, forty times.
#[test]
fn json_patch_copies_that_double_an_object_are_refused() {
    let d = repo();
    write(
        d.path(),
        "copy/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n",
    );
    let mut ops = String::new();
    for i in 0..40 {
        write!(
            ops,
            "      - op: copy\n        from: /data\n        path: /data/copy{i}\n"
        )
        .expect("write");
    }
    write(
        d.path(),
        "copy/kustomization.yaml",
        &format!(
            "resources:\n- cm.yaml\npatches:\n- target: {{kind: ConfigMap}}\n  patch: |-\n{ops}"
        ),
    );
    let (code, findings) = check(d.path());
    assert_eq!(code, 2, "{findings:?}");
    assert!(
        findings.iter().any(|f| f.0 == "RENDER001"
            && f.1 == "copy/kustomization.yaml"
            && f.4.contains("build budget")),
        "{findings:?}"
    );
}

/// Item 10: a base reached through two renaming overlays at every level: 2^30 copies. The
/// base is small on disk but 70 MB large through aliases of a 64 KB string, so the build
/// budget is reached after a few levels.
#[test]
fn bases_multiplied_by_overlays_are_refused() {
    let d = repo();
    let blob = "x".repeat(64 * 1024);
    let mut base = format!(
        "apiVersion: example.com/v1\nkind: Blob\nmetadata:\n  name: c\nspec:\n  a0: &a0 {blob}\n"
    );
    for i in 1..4 {
        let p = format!("*a{}", i - 1);
        let items = [p.as_str(); 10].join(", ");
        writeln!(base, "  a{i}: &a{i} [{items}]").expect("write");
    }
    write(d.path(), "l0/cm.yaml", &base);
    write(d.path(), "l0/kustomization.yaml", "resources:\n- cm.yaml\n");
    for i in 1..=30 {
        let below = i - 1;
        for side in ["a", "b"] {
            write(
                d.path(),
                &format!("l{i}/{side}/kustomization.yaml"),
                &format!("namePrefix: {side}-\nresources:\n- ../../l{below}\n"),
            );
        }
        write(
            d.path(),
            &format!("l{i}/kustomization.yaml"),
            "resources:\n- a\n- b\n",
        );
    }
    let (code, findings) = check(d.path());
    assert_eq!(code, 2, "{findings:?}");
    assert!(
        findings
            .iter()
            .any(|f| f.0 == "RENDER001" && f.4.contains("build budget")),
        "{findings:?}"
    );
    assert!(findings.iter().any(|f| f.0 == "PIN001"), "{findings:?}");
}

/// Item 10: aliases that nest one another 200 levels deeper per line; the parser bounds
/// plain nesting (255 levels) but not this, and the tree's drop overflowed the stack.
#[test]
fn aliases_stacking_depth_are_refused_at_their_line() {
    let d = repo();
    let (open, close) = ("[".repeat(200), "]".repeat(200));
    let mut src = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\na0: &a0 {open}x{close}\n"
    );
    for i in 1..100 {
        writeln!(src, "a{i}: &a{i} {open}*a{}{close}", i - 1).expect("write");
    }
    write(d.path(), "deep/cm.yaml", &src);
    write(
        d.path(),
        "deep/kustomization.yaml",
        "resources:\n- cm.yaml\n",
    );
    assert_render_error(d.path(), "deep/cm.yaml", 9, "nested deeper than 1000");
}

/// Item 10: a large `commonAnnotations` value copied into many objects is refused before the
/// copies are made (4 MiB × 20,000 objects would be 80 GB).
#[test]
fn a_large_annotation_copied_into_many_objects_is_refused() {
    let d = repo();
    let mut objects = String::new();
    for i in 0..20_000 {
        write!(
            objects,
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n"
        )
        .expect("write");
    }
    write(d.path(), "wide/cms.yaml", &objects);
    let big = "x".repeat(4 << 20);
    write(
        d.path(),
        "wide/kustomization.yaml",
        &format!("resources:\n- cms.yaml\ncommonAnnotations:\n  note: {big}\n"),
    );
    assert_render_error(d.path(), "wide/kustomization.yaml", 4, "build budget");
}
