//! `driftlint render --origins` on corpus cases (`../shared/corpus`, or
//! `../../shared/corpus` from a worktree): snapshots of the annotated YAML, plus checks
//! that every origin points at the source text of its value.
//!
//! Origins are repo-relative to the case directory (the case is its own repository), so a
//! comment such as `# input/base/deployment.yaml:19:18` names the case's file.

mod common;

use std::path::{Path, PathBuf};

use driftlint_kustomize::{build, render_yaml, render_yaml_with_origins, BuildOptions};
use driftlint_schema::Catalog;
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{Node, Origin, ScalarStyle, Value};

/// The case directory and its built objects; None (with the reason printed) when the corpus
/// or the case is absent.
fn build_case(name: &str, dir: &str) -> Option<(PathBuf, Vec<Node>)> {
    let Some(corpus) = common::corpus() else {
        println!("skipped: the shared corpus (../shared/corpus) is absent");
        return None;
    };
    let case = corpus.join(name);
    if !case.is_dir() {
        println!("skipped: corpus case {name} is absent");
        return None;
    }
    let fs = RepoFs::new(&case).expect("the case directory is a root");
    let catalog = Catalog::newest().expect("the embedded schema catalog loads");
    let opts = BuildOptions {
        merge_info: Some(&catalog),
        ..BuildOptions::default()
    };
    let b = build(&fs, Path::new(dir), &opts).expect("the case builds");
    Some((case, b.objects))
}

/// Every scalar leaf (not keys) with its origin.
fn leaves(n: &Node, out: &mut Vec<Node>) {
    match &n.value {
        Value::Scalar(_) => out.push(n.clone()),
        Value::Seq(items) => items.iter().for_each(|i| leaves(i, out)),
        Value::Map(m) => m.iter().for_each(|(_, v)| leaves(v, out)),
    }
}

/// The source text at an origin: the rest of the line from the column on.
fn source_at(case: &Path, o: &Origin) -> String {
    let text = std::fs::read_to_string(case.join(&*o.file)).unwrap_or_default();
    let line = text.lines().nth(o.line as usize - 1).unwrap_or("");
    line.chars().skip(o.column as usize - 1).collect()
}

/// Asserts that values read unchanged from a file (no `via`) sit at their origin: a plain
/// or quoted scalar's source text at line:column starts with its first word, and a value a
/// transformer or patch set points into the kustomization or patch text that holds it.
fn assert_origins_point_at_values(case: &Path, objects: &[Node]) {
    let mut all = Vec::new();
    objects.iter().for_each(|o| leaves(o, &mut all));
    let mut checked = 0;
    for leaf in &all {
        let Some(s) = leaf.as_scalar() else { continue };
        if !matches!(
            s.style,
            ScalarStyle::Plain | ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted
        ) || leaf.origin.file.starts_with('<')
        {
            continue;
        }
        let via = leaf.origin.via.as_deref().unwrap_or("");
        let literal_value = via.is_empty()
            || via.starts_with("patch")
            || via.ends_with("namespace transformer")
            || via.starts_with("commonLabels")
            || via.starts_with("labels");
        if !literal_value {
            continue;
        }
        let first: String = s
            .text
            .chars()
            .take_while(|c| c.is_alphanumeric() || "-./:_".contains(*c))
            .collect();
        let at = source_at(case, &leaf.origin);
        let at = at.trim_start_matches(['"', '\'']);
        assert!(
            at.starts_with(&first),
            "{} ({:?}): source there reads {at:?}, value {:?}",
            leaf.origin,
            leaf.origin.via,
            s.text
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} values checked");
}

/// The annotated output without its comments is the plain output, byte for byte.
fn assert_comments_only(objects: &[Node], annotated: &str) {
    let stripped: Vec<&str> = annotated
        .lines()
        .map(|l| match l.find(" # input/") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect();
    assert_eq!(stripped.join("\n") + "\n", render_yaml(objects));
}

fn snapshot_case(name: &str, dir: &str) {
    let Some((case, objects)) = build_case(name, dir) else {
        return;
    };
    let annotated = render_yaml_with_origins(&objects);
    assert_comments_only(&objects, &annotated);
    assert_origins_point_at_values(&case, &objects);
    insta::assert_snapshot!(name, annotated);
}

/// The line of `file` (in the case) an annotated output line's origin names.
fn origin_of<'a>(annotated: &'a str, needle: &str) -> &'a str {
    let line = annotated
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line contains {needle:?}"));
    line.split(" # ").nth(1).unwrap_or("")
}

#[test]
fn images_namespace_and_labels_point_at_the_kustomization() {
    snapshot_case("kust-ingress-nginx-grafana", "input/deploy/grafana");
    let Some((_, objects)) = build_case("kust-ingress-nginx-grafana", "input/deploy/grafana")
    else {
        return;
    };
    let out = render_yaml_with_origins(&objects);
    let k = "input/deploy/grafana/kustomization.yaml";
    assert_eq!(
        origin_of(&out, "namespace: ingress-nginx"),
        format!("{k}:3:12 (namespace transformer)")
    );
    assert_eq!(
        origin_of(&out, "app.kubernetes.io/part-of: ingress-nginx"),
        format!("{k}:6:30 (commonLabels transformer)")
    );
    // The images entry names no new tag: the image keeps its own origin.
    assert_eq!(
        origin_of(&out, "image: grafana/grafana"),
        "input/deploy/grafana/deployment.yaml:15:18"
    );
}

#[test]
fn strategic_merge_patch_and_generator_merge() {
    snapshot_case("kust-ex-ldap-staging", "input/overlays/staging");
}

#[test]
fn json6902_patches() {
    snapshot_case("kust-md-jsonpatch", "input");
}

#[test]
fn config_map_generator_with_files() {
    snapshot_case("kust-md-configgeneration-staging", "input/overlays/staging");
}

#[test]
fn inline_patches_point_into_the_kustomization() {
    snapshot_case("kust-md-inlinepatch-patch", "input/patch");
}

#[test]
fn suffix_labels_and_inline_patches() {
    let dir = "input/envs/inseng-pdx-egert-sandbox/namespaces/inst-system/apps/hello-world";
    snapshot_case("kust-argocd-td-components-monorepo", dir);
    let Some((_, objects)) = build_case("kust-argocd-td-components-monorepo", dir) else {
        return;
    };
    let out = render_yaml_with_origins(&objects);
    let k = format!("{dir}/kustomization.yaml");
    // The images entry names `hello-world`, not the `nginx` image the container runs
    // (kustomize matches image names): the image keeps its base origin.
    assert_eq!(
        origin_of(&out, "image: nginx:1.16.0"),
        "input/kustomize/apps/hello-world/base/deployment.yaml:20:18"
    );
    assert_eq!(
        origin_of(&out, "  name: hello-world-kustomize"),
        format!("{k}:10:13 (nameSuffix transformer)")
    );
    assert!(out.contains(&format!(
        "serviceAccountName: hello-world-kustomize # {k}:28:33 (patch)"
    )));
}

#[test]
fn image_tags_point_at_new_tag() {
    let dir = "input/manifests/base";
    let Some((_, objects)) = build_case("kust-argocd-base", dir) else {
        return;
    };
    let out = render_yaml_with_origins(&objects);
    let images: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("image: quay.io/argoproj/argocd:latest"))
        .collect();
    assert!(images.len() > 3, "{images:?}");
    // The top kustomization's `newTag: latest` (line 8, column 11) ran last.
    let k = format!("{dir}/kustomization.yaml");
    for l in images {
        assert!(
            l.ends_with(&format!("# {k}:8:11 (images transformer)")),
            "{l}"
        );
    }
}
