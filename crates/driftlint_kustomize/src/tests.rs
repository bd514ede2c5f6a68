//! End-to-end tests of [`build`]: behaviour on small repositories, and bad input (cycles,
//! missing files, unknown fields, escapes, malformed YAML, remote resources) that must
//! produce errors with a file and line, never a panic.

use std::path::Path;

use super::{
    build, referenced_kustomization_dirs, render_yaml, BuildOptions, ErrorKind, KustomizeError,
};
use driftlint_yaml::fs::RepoFs;

fn repo(files: &[(&str, &str)]) -> (tempfile::TempDir, RepoFs) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (p, c) in files {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, c).expect("write");
    }
    let fs = RepoFs::new(dir.path()).expect("root");
    (dir, fs)
}

fn run(files: &[(&str, &str)], dir: &str) -> Result<super::Build, KustomizeError> {
    let (_d, fs) = repo(files);
    build(&fs, Path::new(dir), &BuildOptions::default())
}

fn err(files: &[(&str, &str)], dir: &str) -> KustomizeError {
    match run(files, dir) {
        Ok(b) => panic!("expected an error, built {}", render_yaml(&b.objects)),
        Err(e) => e,
    }
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";

#[test]
fn cycles_are_errors_naming_the_cycle() {
    let e = err(
        &[
            ("a/kustomization.yaml", "resources:\n- ../b\n"),
            ("b/kustomization.yaml", "resources:\n- ../a\n"),
        ],
        "a",
    );
    match &e.kind {
        ErrorKind::Cycle { chain } => assert_eq!(chain, &vec!["a", "b", "a"]),
        other => panic!("not a cycle: {other:?}"),
    }
    assert_eq!(
        e.origin.as_ref().map(|o| (&*o.file, o.line)),
        Some(("b/kustomization.yaml", 2))
    );
    let e = err(&[("a/kustomization.yaml", "resources:\n- .\n")], "a");
    assert!(matches!(e.kind, ErrorKind::Cycle { .. }), "{e}");
    let e = err(
        &[
            ("p/kustomization.yaml", "resources: []\n"),
            ("p/c/kustomization.yaml", "resources:\n- ..\n"),
        ],
        "p/c",
    );
    assert!(
        matches!(e.kind, ErrorKind::Cycle { .. }),
        "a parent directory: {e}"
    );
}

#[test]
fn missing_files_point_at_the_reference() {
    let e = err(
        &[
            (
                "k/kustomization.yaml",
                "resources:\n- ok.yaml\n- nope.yaml\n",
            ),
            ("k/ok.yaml", CM),
        ],
        "k",
    );
    assert!(matches!(e.kind, ErrorKind::Missing { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "missing: nope.yaml does not exist (k/kustomization.yaml:3)"
    );
    let e = err(
        &[(
            "k/kustomization.yaml",
            "configMapGenerator:\n- name: x\n  files: [absent.txt]\n",
        )],
        "k",
    );
    assert!(matches!(e.kind, ErrorKind::Missing { .. }), "{e}");
    let e = err(&[("k/other.yaml", CM)], "k");
    assert!(matches!(e.kind, ErrorKind::Missing { .. }), "{e}");
}

#[test]
fn unknown_fields_are_errors_with_their_line() {
    let e = err(
        &[("k/kustomization.yaml", "resources: []\nnameprefx: a-\n")],
        "k",
    );
    assert!(matches!(e.kind, ErrorKind::Invalid { .. }));
    assert_eq!(
        e.to_string(),
        "invalid: unknown field \"nameprefx\" in Kustomization (k/kustomization.yaml:2)"
    );
}

#[test]
fn escapes_are_refused() {
    let e = err(
        &[(
            "a/b/kustomization.yaml",
            "resources:\n- ../../../../etc/passwd\n",
        )],
        "a/b",
    );
    assert!(matches!(e.kind, ErrorKind::Escapes { .. }), "{e}");
    let e = err(
        &[
            ("a/b/kustomization.yaml", "resources:\n- ../x.yaml\n"),
            ("a/x.yaml", CM),
        ],
        "a/b",
    );
    assert!(
        matches!(e.kind, ErrorKind::Escapes { .. }),
        "load restrictor: {e}"
    );
    let e = err(
        &[
            ("a/b/kustomization.yaml", "patches:\n- path: ../p.yaml\n"),
            ("a/p.yaml", CM),
        ],
        "a/b",
    );
    assert!(matches!(e.kind, ErrorKind::Escapes { .. }), "{e}");
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_repository_are_refused() {
    let (d, fs) = repo(&[("k/kustomization.yaml", "resources:\n- link.yaml\n")]);
    std::os::unix::fs::symlink("/etc/hostname", d.path().join("k/link.yaml")).expect("symlink");
    let e = build(&fs, Path::new("k"), &BuildOptions::default()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Escapes { .. }), "{e}");
}

#[test]
fn malformed_yaml_has_file_line_column() {
    let e = err(
        &[
            ("k/kustomization.yaml", "resources:\n- bad.yaml\n"),
            ("k/bad.yaml", "apiVersion: v1\nkind: [ConfigMap\n"),
        ],
        "k",
    );
    match &e.kind {
        ErrorKind::Yaml(y) => {
            assert_eq!(&*y.file, "k/bad.yaml");
            assert!(y.line >= 2);
        }
        other => panic!("not a YAML error: {other:?}"),
    }
    let e = err(&[("k/kustomization.yaml", "resources: [\n")], "k");
    assert!(matches!(e.kind, ErrorKind::Yaml(_)), "{e}");
}

#[test]
fn remote_and_unsupported_are_loud() {
    let e = err(
        &[(
            "k/kustomization.yaml",
            "resources:\n- github.com/org/repo//deploy?ref=v1\n",
        )],
        "k",
    );
    assert_eq!(
        e.to_string(),
        "remote resources are not fetched: github.com/org/repo//deploy?ref=v1 (--allow-remote clones git bases) (k/kustomization.yaml:2)"
    );
    let e = err(
        &[(
            "k/kustomization.yaml",
            "resources: []\nhelmCharts:\n- name: x\n",
        )],
        "k",
    );
    assert_eq!(
        e.to_string(),
        "unsupported: helmCharts (a Helm renderer is needed, as kustomize's --enable-helm) (k/kustomization.yaml:3)"
    );
}

#[test]
fn builds_with_origins_and_lists_files_read() {
    let b = run(
        &[
            (
                "o/kustomization.yaml",
                "resources:\n- ../b\nnamespace: prod\nimages:\n- name: nginx\n  newTag: \"2\"\n",
            ),
            ("b/kustomization.yaml", "resources:\n- d.yaml\n"),
            (
                "b/d.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: nginx\n",
            ),
        ],
        "o",
    )
    .expect("builds");
    let d = &b.objects[0];
    let ns = d.get_path(&["metadata", "namespace"]).expect("namespace");
    assert_eq!(
        (&*ns.origin.file, ns.origin.line),
        ("o/kustomization.yaml", 3)
    );
    assert_eq!(ns.origin.via.as_deref(), Some("namespace transformer"));
    let name = d.get_path(&["metadata", "name"]).expect("name");
    assert_eq!((&*name.origin.file, name.origin.line), ("b/d.yaml", 4));
    let image = d
        .get_path(&["spec", "template", "spec", "containers"])
        .and_then(|c| c.as_seq())
        .and_then(|c| c[0].get("image"))
        .expect("image");
    assert_eq!(
        (&*image.origin.file, image.origin.line),
        ("o/kustomization.yaml", 6)
    );
    let files: Vec<String> = b.files.iter().map(|f| f.display().to_string()).collect();
    assert_eq!(
        files,
        vec!["o/kustomization.yaml", "b/kustomization.yaml", "b/d.yaml"]
    );
}

#[test]
fn duplicate_ids_and_component_kinds() {
    let e = err(
        &[
            ("k/kustomization.yaml", "resources:\n- a.yaml\n- b.yaml\n"),
            ("k/a.yaml", CM),
            ("k/b.yaml", CM),
        ],
        "k",
    );
    assert!(e.to_string().contains("already registered id"), "{e}");
    let e = err(
        &[
            ("k/kustomization.yaml", "components:\n- ../c\n"),
            ("c/kustomization.yaml", "resources: []\n"),
        ],
        "k",
    );
    assert!(e.to_string().contains("expected kind 'Component'"), "{e}");
}

#[test]
fn referenced_dirs_for_discovery() {
    let (_d, fs) = repo(&[
        ("o/kustomization.yaml", "resources:\n- ../b\n- x.yaml\n- https://example.com/y.yaml\ncomponents:\n- ../c\nbases:\n- ../b\n"),
        ("o/x.yaml", CM),
        ("b/kustomization.yaml", ""),
        ("c/kustomization.yaml", "kind: Component\n"),
    ]);
    let dirs = referenced_kustomization_dirs(&fs, Path::new("o")).expect("reads");
    let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    assert_eq!(dirs, vec!["b", "c"]);
}

#[test]
fn build_types_are_thread_safe() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<BuildOptions<'static>>();
    assert_send_sync::<super::Build>();
    assert_send_sync::<KustomizeError>();
}

#[test]
fn renders_an_overlay_like_kubectl_kustomize() {
    let b = run(
        &[
            (
                "base/kustomization.yaml",
                "resources:\n- app.yaml\nconfigMapGenerator:\n- name: cfg\n  literals: [LEVEL=info]\n",
            ),
            (
                "base/app.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: app:1.0\n        envFrom:\n        - configMapRef:\n            name: cfg\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app\nspec:\n  ports:\n  - port: 80\n",
            ),
            (
                "prod/kustomization.yaml",
                "resources:\n- ../base\nnamespace: prod\nnamePrefix: prod-\nlabels:\n- pairs:\n    env: prod\n  includeSelectors: true\nimages:\n- name: app\n  newTag: \"1.1\"\nreplicas:\n- name: app\n  count: 3\nconfigMapGenerator:\n- name: cfg\n  behavior: merge\n  literals: [LEVEL=warn]\n",
            ),
        ],
        "prod",
    )
    .expect("builds");
    insta::assert_snapshot!(render_yaml(&b.objects));
}

#[test]
fn malformed_kustomizations_are_errors_not_panics() {
    let bad = [
        "patches:\n- target: [1]\n  patch: x\n",
        "images: {a: b}\n",
        "replicas:\n- name: x\n  count: many\n",
        "configMapGenerator:\n- name: c\n  options: [1]\n",
        "labels:\n- pairs: [1]\n",
        "replacements:\n- source: 1\n  targets: 2\n",
        "replacements:\n- source: {kind: X}\n  targets:\n  - fieldPaths: [a]\n",
        "resources:\n- {a: 1}\n",
        "components: 1\n",
        "namespace: [x]\n",
        "commonLabels: [a]\n",
        "vars:\n- name: V\n  objref: 3\n",
        "sortOptions:\n  order: random\n",
        "openapi:\n  path: x.json\n  version: v1.21.2\n",
        "patches:\n- patch: \"- op: add\\n  path: /a\\n\"\n  target: {kind: X}\n",
        "patches:\n- {}\n",
        "patchesJson6902:\n- path: p.yaml\n",
        "transformers:\n- |\n  apiVersion: example.com/v1\n  kind: Exec\n  metadata: {name: x}\n",
        "resources: [r.yaml]\nnamespace: a\nnamePrefix: x-\npatches:\n- target: {kind: ConfigMap}\n  patch: \"- op: replace\\n  path: /metadata/labels/9/x\\n  value: 1\\n\"\n",
        "- just\n- a\n- list\n",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- r.yaml\nreplacements:\n- source: {kind: ConfigMap, name: c, fieldPath: data.a, options: {delimiter: '.', index: 7}}\n  targets:\n  - select: {kind: ConfigMap}\n    fieldPaths: [data.b]\n",
    ];
    for k in bad {
        let r = run(
            &[
                ("k/kustomization.yaml", k),
                (
                    "k/r.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: x.y\n",
                ),
            ],
            "k",
        );
        let e = r
            .err()
            .unwrap_or_else(|| panic!("expected an error for {k:?}"));
        assert!(!e.to_string().contains('\n'), "one-line error: {e}");
    }
}
