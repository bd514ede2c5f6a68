//! Behaviour checked against `kubectl kustomize` (kustomize v5.7.1): each expected output
//! below is what kubectl printed for the same files (`buildMetadata`, `crds`, `openapi` in
//! a base), so these tests pin byte-for-byte parity on inputs the corpus lacks.

use std::path::Path;

use super::{build, render_yaml, BuildOptions};
use driftlint_yaml::fs::RepoFs;

/// Builds `dir` of a repository holding `files` and compares the rendering with kubectl's.
fn assert_renders(files: &[(&str, &str)], dir: &str, kubectl: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (p, c) in files {
        let path = tmp.path().join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, c).expect("write");
    }
    let fs = RepoFs::new(tmp.path()).expect("root");
    let b = build(&fs, Path::new(dir), &BuildOptions::default())
        .unwrap_or_else(|e| panic!("build failed: {e}"));
    let ours = render_yaml(&b.objects);
    if ours != kubectl {
        panic!("ours:\n{ours}\nkubectl:\n{kubectl}");
    }
}

#[test]
fn build_metadata_annotations_and_label() {
    let files: &[(&str, &str)] = &[
            ("base/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.1\n"),
            ("base/list.yaml", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: sa}\n"),
            ("base/kustomization.yaml", "resources:\n- deploy.yaml\n- ./list.yaml\ncommonLabels: {app: x}\nconfigMapGenerator:\n- name: cm\n  literals: [a=b]\nbuildMetadata: [transformerAnnotations]\n"),
            ("comp/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- cm.yaml\nnameSuffix: -c\n"),
            ("comp/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ccm}\n"),
            ("ov/kustomization.yaml", "resources:\n- ../base\ncomponents:\n- ../comp\nnamespace: ns\nimages:\n- name: nginx\n  newTag: \"2\"\nsecretGenerator:\n- name: s\n  literals: [x=y]\ntransformers:\n- |-\n  apiVersion: builtin\n  kind: PrefixTransformer\n  metadata:\n    name: inl\n  prefix: p-\n  fieldSpecs: [{path: metadata/name}]\nbuildMetadata: [originAnnotations, transformerAnnotations, managedByLabel]\n"),
    ];
    assert_renders(files, "ov", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  annotations:\n    alpha.config.kubernetes.io/transformations: |\n      - configuredIn: ../base/kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: LabelTransformer\n      - configuredIn: ../comp/kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: SuffixTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: NamespaceTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: ImageTagTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: PrefixTransformer\n          name: inl\n    config.kubernetes.io/origin: |\n      path: ../base/list.yaml\n  labels:\n    app: x\n    app.kubernetes.io/managed-by: kustomize-v5.7.1\n  name: p-sa-c\n  namespace: ns\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    alpha.config.kubernetes.io/transformations: |\n      - configuredIn: ../comp/kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: SuffixTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: NamespaceTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: ImageTagTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: PrefixTransformer\n          name: inl\n    config.kubernetes.io/origin: |\n      path: ../comp/cm.yaml\n  labels:\n    app.kubernetes.io/managed-by: kustomize-v5.7.1\n  name: p-ccm-c\n  namespace: ns\n---\napiVersion: v1\ndata:\n  a: b\nkind: ConfigMap\nmetadata:\n  annotations:\n    alpha.config.kubernetes.io/transformations: |\n      - configuredIn: ../base/kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: LabelTransformer\n      - configuredIn: ../comp/kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: SuffixTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: NamespaceTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: ImageTagTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: PrefixTransformer\n          name: inl\n    config.kubernetes.io/origin: |\n      configuredIn: ../base/kustomization.yaml\n      configuredBy:\n        apiVersion: builtin\n        kind: ConfigMapGenerator\n  labels:\n    app: x\n    app.kubernetes.io/managed-by: kustomize-v5.7.1\n  name: p-cm-c-4h2mbtbbt6\n  namespace: ns\n---\napiVersion: v1\ndata:\n  x: eQ==\nkind: Secret\nmetadata:\n  annotations:\n    alpha.config.kubernetes.io/transformations: |\n      - configuredIn: ../comp/kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: SuffixTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: NamespaceTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: ImageTagTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: PrefixTransformer\n          name: inl\n    config.kubernetes.io/origin: |\n      configuredIn: kustomization.yaml\n      configuredBy:\n        apiVersion: builtin\n        kind: SecretGenerator\n  labels:\n    app.kubernetes.io/managed-by: kustomize-v5.7.1\n  name: p-s-c-t86b282gdf\n  namespace: ns\ntype: Opaque\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  annotations:\n    alpha.config.kubernetes.io/transformations: |\n      - configuredIn: ../base/kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: LabelTransformer\n      - configuredIn: ../comp/kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: SuffixTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: NamespaceTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: ImageTagTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: PrefixTransformer\n          name: inl\n    config.kubernetes.io/origin: |\n      path: ../base/deploy.yaml\n  labels:\n    app: x\n    app.kubernetes.io/managed-by: kustomize-v5.7.1\n  name: p-web-c\n  namespace: ns\nspec:\n  selector:\n    matchLabels:\n      app: x\n  template:\n    metadata:\n      labels:\n        app: x\n    spec:\n      containers:\n      - image: nginx:2\n        name: web\n");
}

#[test]
fn build_metadata_patch_drops_provenance() {
    let files: &[(&str, &str)] = &[
            ("k/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.1\n"),
            ("k/kustomization.yaml", "resources: [deploy.yaml]\nnamePrefix: a-\npatches:\n- target: {kind: Deployment}\n  patch: '[{\"op\": \"replace\", \"path\": \"/metadata/annotations\", \"value\": {\"q\": \"r\"}}]'\nconfigMapGenerator:\n- name: cm\n  literals: [k=v]\nbuildMetadata: [originAnnotations, transformerAnnotations]\n"),
    ];
    assert_renders(files, "k", "apiVersion: v1\ndata:\n  k: v\nkind: ConfigMap\nmetadata:\n  annotations:\n    alpha.config.kubernetes.io/transformations: |\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: PatchTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: PrefixTransformer\n    config.kubernetes.io/origin: |\n      configuredIn: kustomization.yaml\n      configuredBy:\n        apiVersion: builtin\n        kind: ConfigMapGenerator\n  name: a-cm-bdg947hgcc\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  annotations:\n    alpha.config.kubernetes.io/transformations: |\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: PrefixTransformer\n    config.kubernetes.io/origin: |\n      configuredIn: kustomization.yaml\n      configuredBy:\n        apiVersion: builtin\n        kind: PatchTransformer\n    q: r\n  name: a-web\nspec:\n  template:\n    spec:\n      containers:\n      - image: nginx:1.1\n        name: web\n");
}

#[test]
fn build_metadata_label_only_and_merge() {
    let files: &[(&str, &str)] = &[
            ("base/kustomization.yaml", "configMapGenerator:\n- name: cm\n  literals: [a=b]\nbuildMetadata: [originAnnotations]\n"),
            ("ov/kustomization.yaml", "resources: [../base]\nconfigMapGenerator:\n- name: cm\n  behavior: merge\n  literals: [c=d]\nbuildMetadata: [managedByLabel, somethingElse]\n"),
    ];
    assert_renders(files, "ov", "apiVersion: v1\ndata:\n  a: b\n  c: d\nkind: ConfigMap\nmetadata:\n  labels:\n    app.kubernetes.io/managed-by: kustomize-v5.7.1\n  name: cm-fh478f99mk\n");
}

#[test]
fn build_metadata_merge_keeps_origin() {
    let files: &[(&str, &str)] = &[
            ("base/kustomization.yaml", "configMapGenerator:\n- name: cm\n  literals: [a=b]\nnamePrefix: x-\n"),
            ("ov/kustomization.yaml", "resources: [../base]\nconfigMapGenerator:\n- name: cm\n  behavior: merge\n  literals: [c=d]\nbuildMetadata: [originAnnotations, transformerAnnotations]\n"),
    ];
    assert_renders(files, "ov", "apiVersion: v1\ndata:\n  a: b\n  c: d\nkind: ConfigMap\nmetadata:\n  annotations:\n    alpha.config.kubernetes.io/transformations: |\n      - configuredIn: ../base/kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: PrefixTransformer\n    config.kubernetes.io/origin: |\n      configuredIn: ../base/kustomization.yaml\n      configuredBy:\n        apiVersion: builtin\n        kind: ConfigMapGenerator\n  name: x-cm-fh478f99mk\n");
}

#[test]
fn crds_teach_transformers_about_custom_kinds() {
    let files: &[(&str, &str)] = &[
            ("k/kustomization.yaml", "crds:\n- mycrd.json\n- crd.yaml\nresources:\n- secret.yaml\n- mykind.yaml\n- bee.yaml\n- b.yaml\nnamePrefix: x-\ncommonLabels: {team: a}\ncommonAnnotations: {note: \"n\"}\n"),
            ("k/bee.yaml", "apiVersion: v1beta1\nkind: Bee\nmetadata:\n  name: bee\n"),
            ("k/mykind.yaml", "apiVersion: jingfang.example.com/v1beta1\nkind: MyKind\nmetadata:\n  name: mykind\nspec:\n  secretRef:\n    name: crdsecret\n  beeRef:\n    name: bee\n  sel: {}\n  notes: {}\n  upper: {}\n  ident: foo\n  deep:\n    sel: {}\n"),
            ("k/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: crdsecret\n"),
            ("k/b.yaml", "apiVersion: v1\nkind: B\nmetadata: {name: b}\nsel: {}\n"),
            ("k/crd.yaml", "B:\n  schema:\n    properties:\n      apiVersion: {}\n      kind: {}\n      metadata: {}\n      sel:\n        x-kubernetes-label-selector: \"\"\n"),
            ("k/mycrd.json", "{\n \"github.com/example/pkg/apis/jingfang/v1beta1.MyKind\": {\n  \"Schema\": {\n   \"properties\": {\n    \"apiVersion\": {\n     \"type\": \"string\"\n    },\n    \"kind\": {\n     \"type\": \"string\"\n    },\n    \"metadata\": {\n     \"$ref\": \"k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta\"\n    },\n    \"spec\": {\n     \"$ref\": \"github.com/example/pkg/apis/jingfang/v1beta1.MyKindSpec\"\n    }\n   }\n  }\n },\n \"github.com/example/pkg/apis/jingfang/v1beta1.MyKindSpec\": {\n  \"Schema\": {\n   \"properties\": {\n    \"beeRef\": {\n     \"x-kubernetes-object-ref-api-version\": \"v1beta1\",\n     \"x-kubernetes-object-ref-kind\": \"Bee\"\n    },\n    \"secretRef\": {\n     \"x-kubernetes-object-ref-api-version\": \"v1\",\n     \"x-kubernetes-object-ref-kind\": \"Secret\",\n     \"$ref\": \"k8s.io/api/core/v1.LocalObjectReference\"\n    },\n    \"sel\": {\n     \"x-kubernetes-label-selector\": \"\"\n    },\n    \"notes\": {\n     \"x-kubernetes-annotation\": \"\"\n    },\n    \"upper\": {\n     \"X-Kubernetes-Annotation\": \"\"\n    },\n    \"ident\": {\n     \"x-kubernetes-identity\": true\n    },\n    \"deep\": {\n     \"$ref\": \"github.com/example/pkg/apis/jingfang/v1beta1.Deep\"\n    }\n   }\n  }\n },\n \"github.com/example/pkg/apis/jingfang/v1beta1.Deep\": {\n  \"Schema\": {\n   \"properties\": {\n    \"sel\": {\n     \"x-kubernetes-label-selector\": \"\"\n    }\n   }\n  }\n }\n}"),
    ];
    assert_renders(files, "k", "apiVersion: v1\nkind: Secret\nmetadata:\n  annotations:\n    note: \"n\"\n  labels:\n    team: a\n  name: x-crdsecret\n---\napiVersion: jingfang.example.com/v1beta1\nkind: MyKind\nmetadata:\n  annotations:\n    note: \"n\"\n  labels:\n    team: a\n  name: x-mykind\nspec:\n  beeRef:\n    name: x-bee\n  deep:\n    sel:\n      team: a\n  ident: foo\n  notes:\n    note: \"n\"\n  secretRef:\n    name: x-crdsecret\n  sel:\n    team: a\n  upper: {}\n---\napiVersion: v1\nkind: B\nmetadata:\n  annotations:\n    note: \"n\"\n  labels:\n    team: a\n  name: x-b\nsel:\n  team: a\n---\napiVersion: v1beta1\nkind: Bee\nmetadata:\n  annotations:\n    note: \"n\"\n  labels:\n    team: a\n  name: x-bee\n");
}

#[test]
fn openapi_of_a_base_applies_to_the_overlay() {
    let files: &[(&str, &str)] = &[
            ("base/kustomization.yaml", "resources:\n- r.yaml\nopenapi:\n  path: schema.json\n"),
            ("base/r.yaml", "apiVersion: example.com/v1alpha1\nkind: MyResource\nmetadata:\n  name: service\nspec:\n  template:\n    spec:\n      containers:\n      - name: server\n        image: server\n        command: example\n      - name: other\n        image: other\n"),
            ("base/schema.json", "{\"definitions\": {\"v1alpha1.MyResource\": {\"properties\": {\"apiVersion\": {\"type\": \"string\"}, \"kind\": {\"type\": \"string\"}, \"metadata\": {\"type\": \"object\"}, \"spec\": {\"properties\": {\"template\": {\"$ref\": \"#/definitions/io.k8s.api.core.v1.PodTemplateSpec\"}}, \"type\": \"object\"}}, \"type\": \"object\", \"x-kubernetes-group-version-kind\": [{\"group\": \"example.com\", \"kind\": \"MyResource\", \"version\": \"v1alpha1\"}]}, \"io.k8s.api.core.v1.PodTemplateSpec\": {\"properties\": {\"spec\": {\"$ref\": \"#/definitions/io.k8s.api.core.v1.PodSpec\"}}, \"type\": \"object\"}, \"io.k8s.api.core.v1.PodSpec\": {\"properties\": {\"containers\": {\"items\": {\"$ref\": \"#/definitions/io.k8s.api.core.v1.Container\"}, \"type\": \"array\", \"x-kubernetes-patch-merge-key\": \"name\", \"x-kubernetes-patch-strategy\": \"merge\"}}, \"type\": \"object\"}, \"io.k8s.api.core.v1.Container\": {\"properties\": {\"name\": {\"type\": \"string\"}, \"image\": {\"type\": \"string\"}}, \"type\": \"object\"}}}"),
            ("ov/kustomization.yaml", "resources:\n- ../base\npatches:\n- patch: |-\n    apiVersion: example.com/v1alpha1\n    kind: MyResource\n    metadata:\n      name: service\n    spec:\n      template:\n        spec:\n          containers:\n          - name: server\n            image: nginx\n"),
    ];
    assert_renders(files, "ov", "apiVersion: example.com/v1alpha1\nkind: MyResource\nmetadata:\n  name: service\nspec:\n  template:\n    spec:\n      containers:\n      - command: example\n        image: nginx\n        name: server\n      - image: other\n        name: other\n");
}

/// Builds `dir` expecting an error whose message contains `needle` (kubectl also refuses
/// each of these inputs; its message is quoted in the test).
fn assert_refused(files: &[(&str, &str)], dir: &str, needle: &str) -> String {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (p, c) in files {
        let path = tmp.path().join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, c).expect("write");
    }
    let fs = RepoFs::new(tmp.path()).expect("root");
    match build(&fs, Path::new(dir), &BuildOptions::default()) {
        Ok(b) => panic!("expected an error, built:\n{}", render_yaml(&b.objects)),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
            msg
        }
    }
}

const CM_LABELLED: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    a: b\n";

#[test]
fn validators_must_not_modify_objects() {
    // kubectl: "validator shouldn't modify the resource map: nodes unequal: ..." even
    // when the label it sets is already there.
    let label = "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: v\nlabels:\n  a: b\nfieldSpecs:\n- path: metadata/labels\n  create: true\n";
    let files = [
        (
            "k/kustomization.yaml",
            "resources: [cm.yaml]\nvalidators:\n- v.yaml\n",
        ),
        ("k/cm.yaml", CM_LABELLED),
        ("k/v.yaml", label),
    ];
    let msg = assert_refused(&files, "k", "validator shouldn't modify the resource map");
    assert!(msg.ends_with("(k/v.yaml:1)"), "{msg}");
    // A builtin validator that touches nothing passes, as in kubectl.
    let quiet = label.replace("metadata/labels\n  create: true", "metadata/nolabels");
    let files = [
        (
            "k/kustomization.yaml",
            "resources: [cm.yaml]\nvalidators:\n- v.yaml\n",
        ),
        ("k/cm.yaml", CM_LABELLED),
        ("k/v.yaml", quiet.as_str()),
    ];
    assert_renders(
        &files,
        "k",
        CM_LABELLED
            .replace(
                "  name: c\n  labels:\n    a: b\n",
                "  labels:\n    a: b\n  name: c\n",
            )
            .as_str(),
    );
    // kubectl: "external plugins disabled; unable to load external plugin 'Validator'".
    let files = [
        ("k/kustomization.yaml", "resources: [cm.yaml]\nvalidators:\n- |-\n  apiVersion: example.com/v1\n  kind: Validator\n  metadata:\n    name: v\n"),
        ("k/cm.yaml", CM_LABELLED),
    ];
    let msg = assert_refused(&files, "k", "unsupported: validators: Validator");
    assert!(msg.ends_with("(k/kustomization.yaml:4)"), "{msg}");
}

#[test]
fn openapi_versions_and_crd_files_are_checked() {
    // kubectl: "the specified OpenAPI version is not built in".
    let files = [
        (
            "k/kustomization.yaml",
            "resources: [cm.yaml]\nopenapi:\n  version: v1.30.0\n",
        ),
        ("k/cm.yaml", CM_LABELLED),
    ];
    assert_refused(&files, "k", "the specified OpenAPI version is not built in");
    // kubectl: "unable to parse open API definition from 'crd.yaml': ... cannot unmarshal
    // array"; on an empty file kubectl panics (index out of range).
    for (text, why) in [("- a\n", "expected a map"), ("", "the file is empty")] {
        let files = [
            (
                "k/kustomization.yaml",
                "resources: [cm.yaml]\ncrds: [crd.yaml]\n",
            ),
            ("k/cm.yaml", CM_LABELLED),
            ("k/crd.yaml", text),
        ];
        let msg = assert_refused(
            &files,
            "k",
            "unable to parse open API definition from 'crd.yaml'",
        );
        assert!(msg.contains(why), "{msg}");
    }
    // kubectl: "json: cannot unmarshal string into Go struct field
    // Kustomization.buildMetadata of type []string".
    let files = [(
        "k/kustomization.yaml",
        "resources: []\nbuildMetadata: originAnnotations\n",
    )];
    assert_refused(&files, "k", "buildMetadata");
}

/// Builds `dir` with remote bases allowed, cloning into `cache`.
fn build_remote(
    files: &[(&str, &str)],
    dir: &str,
    cache: &Path,
) -> Result<super::Build, super::KustomizeError> {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (p, c) in files {
        let path = tmp.path().join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, c).expect("write");
    }
    let fs = RepoFs::new(tmp.path()).expect("root");
    let opts = BuildOptions {
        allow_remote: true,
        remote_cache: Some(cache),
        ..BuildOptions::default()
    };
    build(&fs, Path::new(dir), &opts)
}

#[test]
fn remote_bases_are_cloned_and_annotated_like_kubectl() {
    let (tmp, bare, _) = super::remote::tests::bare_repo();
    let cache = tmp.path().join("cache");
    let url = format!("file://{}", bare.display());
    let k = format!(
        "resources:\n- {url}//deploy?ref=v1\nbuildMetadata: [originAnnotations, transformerAnnotations]\nnameSuffix: -s\n"
    );
    let b = build_remote(&[("ov/kustomization.yaml", &k)], "ov", &cache).expect("builds");
    // kubectl v1.35.2 printed this for the same repository (at /tmp/rr/repo.git).
    let expected = format!(
        "apiVersion: v1\ndata:\n  a: b\nkind: ConfigMap\nmetadata:\n  annotations:\n    alpha.config.kubernetes.io/transformations: |\n      - repo: {url}\n        ref: v1\n        configuredIn: deploy/kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: PrefixTransformer\n      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: SuffixTransformer\n    config.kubernetes.io/origin: |\n      path: deploy/cm.yaml\n      repo: {url}\n      ref: v1\n  name: r-remote-cm-s\n"
    );
    assert_eq!(render_yaml(&b.objects), expected);
    let data = b.objects[0].get_path(&["data", "a"]).expect("data");
    let label = format!("<remote>/file{}@v1/deploy/cm.yaml", bare.display());
    assert_eq!((&*data.origin.file, data.origin.line), (label.as_str(), 6));
    assert_eq!(
        b.files,
        vec![std::path::PathBuf::from("ov/kustomization.yaml")]
    );
}

#[test]
fn remote_refusals() {
    let (tmp, bare, _) = super::remote::tests::bare_repo();
    let cache = tmp.path().join("cache");
    let url = format!("file://{}", bare.display());
    let one = |k: String| {
        build_remote(&[("ov/kustomization.yaml", k.as_str())], "ov", &cache)
            .map(|b| render_yaml(&b.objects))
            .map_err(|e| e.to_string())
    };
    let e = one(format!("resources:\n- {url}//deploy?ref=nope\n")).expect_err("bad ref");
    assert!(
        e.starts_with(&format!(
            "fetching remote resource {url}//deploy?ref=nope failed: git clone failed"
        )),
        "{e}"
    );
    assert!(e.ends_with("(ov/kustomization.yaml:2)"), "{e}");
    let e = one(format!("resources:\n- {url}//deploy/cm.yaml?ref=v1\n")).expect_err("a file");
    assert!(
        e.contains("is a file; a remote base must be a directory"),
        "{e}"
    );
    let e = one(format!("resources:\n- {url}//nowhere?ref=v1\n")).expect_err("missing");
    assert!(e.starts_with("missing: "), "{e}");
    let e = one("resources:\n- https://example.com/x/deploy.yaml\n".into()).expect_err("http");
    assert!(e.starts_with("unsupported: remote file over HTTP"), "{e}");
    // A clone is its own root: a remote kustomization cannot reach outside it.
    let src = tmp.path().join("esc");
    std::fs::create_dir_all(src.join("k")).expect("mkdir");
    std::fs::write(
        src.join("k/kustomization.yaml"),
        "resources:\n- ../../outside\n",
    )
    .expect("write");
    std::fs::create_dir_all(tmp.path().join("outside")).expect("mkdir");
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(["-c", "user.email=t@e", "-c", "user.name=t"])
            .args(args)
            .current_dir(&src)
            .output()
            .expect("git")
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "x"]);
    let e = one(format!("resources:\n- file://{}//k\n", src.display())).expect_err("escape");
    assert!(e.starts_with("refused: ../../outside"), "{e}");
    // Without --allow-remote nothing is cloned.
    let tmp2 = tempfile::tempdir().expect("tempdir");
    let k = format!("resources:\n- {url}//deploy?ref=v1\n");
    std::fs::create_dir_all(tmp2.path().join("ov")).expect("mkdir");
    std::fs::write(tmp2.path().join("ov/kustomization.yaml"), k).expect("write");
    let fs = RepoFs::new(tmp2.path()).expect("root");
    let e = build(&fs, Path::new("ov"), &BuildOptions::default()).expect_err("not allowed");
    assert!(matches!(e.kind, super::ErrorKind::Remote { .. }), "{e}");
}

/// Builds `dir` of `files` and expects success.
fn ok(files: &[(&str, &str)], dir: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (p, c) in files {
        let path = tmp.path().join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, c).expect("write");
    }
    let fs = RepoFs::new(tmp.path()).expect("root");
    if let Err(e) = build(&fs, Path::new(dir), &BuildOptions::default()) {
        panic!("{dir}: kubectl builds this, we refuse: {e}");
    }
}

/// Expects a refusal naming `problem`, at `location` (`FILE:LINE`, or "" when none).
fn no(files: &[(&str, &str)], dir: &str, problem: &str, location: &str) {
    let msg = assert_refused(files, dir, problem);
    let at = if location.is_empty() {
        String::new()
    } else {
        format!(" ({location})")
    };
    assert!(
        msg.ends_with(&at) && (!at.is_empty() || !msg.ends_with(')')),
        "{msg:?} not at {location:?}"
    );
}

/// kustomize's refusals (issue 3: conflicting ids, missing resources, patches matching
/// nothing where that is an error, cycles) and the look-alikes it accepts, each run through
/// kubectl v1.35.2: we refuse exactly where it does, naming the same problem, with the
/// kustomization line responsible.
#[test]
fn refusals_match_kubectl() {
    // kubectl: error: accumulating resources: accumulation err='accumulating resources from 'a.yaml': may not add resource with an already registered id: ConfigMap.v1.[noGrp]/c.[noNs]': must build at directory: 'k/a...
    no(&[("k/kustomization.yaml", "resources: [a.yaml]\n"), ("k/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")], "k", "may not add resource with an already registered id: ConfigMap.v1.[noGrp]/c.[noNs]", "k/kustomization.yaml:1");
    // kubectl: error: accumulating resources: accumulation err='merging resources from 'b.yaml': may not add resource with an already registered id: ConfigMap.v1.[noGrp]/c.[noNs]': must build at directory: 'k/b.yaml...
    no(
        &[
            ("k/kustomization.yaml", "resources: [a.yaml, b.yaml]\n"),
            (
                "k/a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            ),
            (
                "k/b.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            ),
        ],
        "k",
        "may not add resource with an already registered id: ConfigMap.v1.[noGrp]/c.[noNs]",
        "k/kustomization.yaml:1",
    );
    // kubectl: error: accumulating resources: accumulation err='accumulating resources from '../b': 'b' must resolve to a file': recursed merging from path 'b': may not add resource with an already registered id: Co...
    no(
        &[
            ("k/kustomization.yaml", "resources: [../a, ../b]\n"),
            ("a/kustomization.yaml", "resources: [c.yaml]\n"),
            (
                "a/c.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            ),
            ("b/kustomization.yaml", "resources: [c.yaml]\n"),
            (
                "b/c.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            ),
        ],
        "k",
        "may not add resource with an already registered id: ConfigMap.v1.[noGrp]/c.[noNs]",
        "k/kustomization.yaml:1",
    );
    // kubectl: error: merging from generator &{0xc0009a0680 <nil>}: id resid.ResId{Gvk:resid.Gvk{Group:"", Version:"v1", Kind:"ConfigMap", isClusterScoped:false}, Name:"c", Namespace:""} exists; behavior must be mer...
    no(&[("k/kustomization.yaml", "resources: [a.yaml]\nconfigMapGenerator:\n- name: c\n  literals: [a=b]\ngeneratorOptions: {disableNameSuffixHash: true}\n"), ("k/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")], "k", "id ConfigMap.v1.[noGrp]/c.[noNs] exists; behavior must be merge or replace", "k/kustomization.yaml:3");
    // kubectl: error: merging from generator &{0xc0009705b0 <nil>}: id resid.ResId{Gvk:resid.Gvk{Group:"", Version:"v1", Kind:"ConfigMap", isClusterScoped:false}, Name:"c", Namespace:""} exists; behavior must be mer...
    no(
        &[(
            "k/kustomization.yaml",
            "configMapGenerator:\n- name: c\n  literals: [a=b]\n- name: c\n  literals: [c=d]\n",
        )],
        "k",
        "id ConfigMap.v1.[noGrp]/c.[noNs] exists; behavior must be merge or replace",
        "k/kustomization.yaml:4",
    );
    // kubectl: error: merging from generator &{0xc0009d3a00 <nil>}: id resid.ResId{Gvk:resid.Gvk{Group:"", Version:"v1", Kind:"ConfigMap", isClusterScoped:false}, Name:"c", Namespace:""} does not exist; cannot merge...
    no(
        &[(
            "k/kustomization.yaml",
            "configMapGenerator:\n- name: c\n  behavior: merge\n  literals: [a=b]\n",
        )],
        "k",
        "id ConfigMap.v1.[noGrp]/c.[noNs] does not exist; cannot merge or replace",
        "k/kustomization.yaml:2",
    );
    // kubectl builds this.
    ok(
        &[
            ("k/kustomization.yaml", "resources: [a.yaml, b.yaml]\n"),
            (
                "k/a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            ),
            (
                "k/b.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: x\n",
            ),
        ],
        "k",
    );
    // kubectl: error: accumulating resources: accumulation err='accumulating resources from 'nope.yaml': evalsymlink failure on 'k/nope.yaml' : lstat k/nope.yaml: no such file or directory': must build at directory:...
    no(
        &[("k/kustomization.yaml", "resources: [nope.yaml]\n")],
        "k",
        "missing: nope.yaml",
        "k/kustomization.yaml:1",
    );
    // kubectl: error: accumulating resources: accumulation err='accumulating resources from '../b': 'b' must resolve to a file': couldn't make target for path 'b': unable to find one of 'kustomization.yaml', 'kustom...
    no(
        &[
            ("k/kustomization.yaml", "resources: [../b]\n"),
            (
                "b/x.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            ),
        ],
        "k",
        "missing: b/kustomization.yaml",
        "k/kustomization.yaml:1",
    );
    // kubectl: error: trouble configuring builtin PatchTransformer with config: ` path: p.yaml `: failed to get the patch file from path(p.yaml): evalsymlink failure on 'k/p.yaml' : lstat k/p.yaml: no such file or d...
    no(
        &[
            (
                "k/kustomization.yaml",
                "resources: [a.yaml]\npatches:\n- path: p.yaml\n",
            ),
            (
                "k/a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            ),
        ],
        "k",
        "missing: p.yaml",
        "k/kustomization.yaml:3",
    );
    // kubectl: error: accumulating components: loader.New "must build at directory: not a valid directory: evalsymlink failure on 'comp' : lstat comp: no such file or directory"
    no(
        &[("k/kustomization.yaml", "components: [../comp]\n")],
        "k",
        "missing: ../comp",
        "k/kustomization.yaml:1",
    );
    // kubectl: error: loading KV pairs: file sources: [f.txt]: evalsymlink failure on 'k/f.txt' : lstat k/f.txt: no such file or directory
    no(
        &[(
            "k/kustomization.yaml",
            "configMapGenerator:\n- name: c\n  files: [f.txt]\n",
        )],
        "k",
        "missing: f.txt",
        "k/kustomization.yaml:3",
    );
    // kubectl: error: unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory 'k'
    no(
        &[(
            "k/a.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        )],
        "k",
        "missing: k/kustomization.yaml",
        "",
    );
    // kubectl: error: no matches for Id ConfigMap.v1.[noGrp]/other.[noNs]; failed to find unique target for patch ConfigMap.v1.[noGrp]/other.[noNs]
    no(&[("k/kustomization.yaml", "resources: [a.yaml]\npatchesStrategicMerge:\n- |-\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: other\n  data: {a: b}\n"), ("k/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")], "k", "failed to find unique target for patch ConfigMap.v1.[noGrp]/other.[noNs]", "k/kustomization.yaml:4");
    // kubectl: error: no resource matches strategic merge patch "ConfigMap.v1.[noGrp]/other.[noNs]": no matches for Id ConfigMap.v1.[noGrp]/other.[noNs]; failed to find unique target for patch ConfigMap.v1.[noGrp]/o...
    no(&[("k/kustomization.yaml", "resources: [a.yaml]\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: other\n    data: {a: b}\n"), ("k/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")], "k", "failed to find unique target for patch ConfigMap.v1.[noGrp]/other.[noNs]", "k/kustomization.yaml:3");
    // kubectl builds this.
    ok(&[("k/kustomization.yaml", "resources: [a.yaml]\npatches:\n- target: {kind: Secret}\n  patch: |-\n    - op: add\n      path: /data\n      value: {a: b}\n"), ("k/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")], "k");
    // kubectl builds this.
    ok(&[("k/kustomization.yaml", "resources: [a.yaml]\npatchesJson6902:\n- target: {version: v1, kind: ConfigMap, name: other}\n  patch: '[{\"op\": \"add\", \"path\": \"/data\", \"value\": {\"a\": \"b\"}}]'\n"), ("k/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")], "k");
    // kubectl: error: replace operation does not apply: doc is missing path: /data/x: missing value
    no(&[("k/kustomization.yaml", "resources: [a.yaml]\npatches:\n- target: {kind: ConfigMap}\n  patch: '[{\"op\": \"replace\", \"path\": \"/data/x\", \"value\": \"b\"}]'\n"), ("k/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")], "k", "replace operation does not apply: doc is missing path", "k/kustomization.yaml:4");
    // kubectl: error: nothing selected by Secret.[noVer].[noGrp]/s.[noNs]
    no(&[("k/kustomization.yaml", "resources: [a.yaml]\nreplacements:\n- source: {kind: Secret, name: s}\n  targets:\n  - select: {kind: ConfigMap}\n    fieldPaths: [data.x]\n"), ("k/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")], "k", "nothing selected by the replacement source Secret.[noVer].[noGrp]/s.[noNs]", "k/kustomization.yaml:3");
    // kubectl: error: resource with name other does not match a config with the following GVK [Deployment.[noVer].[noGrp] StatefulSet.[noVer].[noGrp] ReplicaSet.[noVer].[noGrp] ReplicationController.[noVer].[noGrp]]
    no(&[("k/kustomization.yaml", "resources: [a.yaml]\nreplicas:\n- name: other\n  count: 3\n"), ("k/a.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n")], "k", "resource with name other does not match a config with the following GVK", "k/kustomization.yaml:3");
    // kubectl: error: accumulating resources: accumulation err='accumulating resources from '../b': 'b' must resolve to a file': recursed accumulation of path 'b': accumulating resources: accumulation err='accumulat...
    no(
        &[
            ("a/kustomization.yaml", "resources: [../b]\n"),
            ("b/kustomization.yaml", "resources: [../a]\n"),
        ],
        "a",
        "cycle: a -> b -> a",
        "b/kustomization.yaml:1",
    );
    // kubectl: error: accumulating resources: accumulation err='accumulating resources from '.': 'a' must resolve to a file': cycle detected: candidate root 'a' contains visited root 'a'
    no(
        &[("a/kustomization.yaml", "resources: [.]\n")],
        "a",
        "cycle: a -> a",
        "a/kustomization.yaml:1",
    );
    // kubectl: error: accumulating resources: accumulation err='accumulating resources from '..': 'p' must resolve to a file': cycle detected: candidate root 'p' contains visited root 'p/c'
    no(
        &[
            ("p/kustomization.yaml", "resources: [c]\n"),
            ("p/c/kustomization.yaml", "resources: [..]\n"),
        ],
        "p/c",
        "cycle: p/c -> p",
        "p/c/kustomization.yaml:1",
    );
    // kubectl: error: accumulating components: accumulateDirectory: "recursed accumulation of path 'c': accumulating components: loader.New \"cycle detected: candidate root 'c' contains visited root 'c'\""
    no(&[("a/kustomization.yaml", "components: [../c]\n"), ("c/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncomponents: [../c]\n")], "a", "cycle: a -> c -> c", "c/kustomization.yaml:3");
}

/// ValueAddTransformer (`transformers:`): value trimmed, targets from the config and from
/// `targetFilePath`, a file-path insertion, a replacement keeping the string type, an
/// escaped `/` in a key, and `metadata/namespace` through the namespace filter (kubectl's
/// output for these files).
#[test]
fn value_add_transformer() {
    let files: &[(&str, &str)] = &[
        ("k/res.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: old\ndata:\n  path: /a/b/c\n  rel: x/y\n  num: \"5\"\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n"),
        ("k/va.yaml", "apiVersion: builtin\nkind: ValueAddTransformer\nmetadata:\n  name: va\nvalue: \" 42 \"\ntargetFilePath: targets.yaml\ntargets:\n- selector:\n    kind: ConfigMap\n  fieldPath: data/path\n  filePathPosition: 2\n- selector:\n    kind: ConfigMap\n  fieldPath: data/num\n- fieldPath: metadata/annotations/a\\/b\n"),
        ("k/targets.yaml", "targets:\n- selector:\n    kind: Service\n  fieldPath: metadata/namespace\n- selector:\n    kind: ConfigMap\n  fieldPath: data/rel\n  filePathPosition: 1\n"),
        ("k/kustomization.yaml", "resources: [res.yaml]\ntransformers: [va.yaml]\n"),
    ];
    assert_renders(files, "k", "apiVersion: v1\ndata:\n  num: \"42\"\n  path: /a/42/b/c\n  rel: 42/x/y\nkind: ConfigMap\nmetadata:\n  annotations:\n    a/b: \"42\"\n  name: cm\n  namespace: old\n---\napiVersion: v1\nkind: Service\nmetadata:\n  annotations:\n    a/b: \"42\"\n  name: svc\n  namespace: \"42\"\n");
}

/// ReplacementTransformer (`transformers:`): a `path:` entry holding a list and an inline
/// replacement (kubectl's output for these files).
#[test]
fn replacement_transformer() {
    let files: &[(&str, &str)] = &[
        ("k/res.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: src\ndata:\n  host: db.example.com\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        env:\n        - name: HOST\n          value: x\n"),
        ("k/rt.yaml", "apiVersion: builtin\nkind: ReplacementTransformer\nmetadata:\n  name: rt\nreplacements:\n- path: more.yaml\n- source:\n    kind: ConfigMap\n    name: src\n    fieldPath: data.host\n  targets:\n  - select:\n      kind: Deployment\n    fieldPaths:\n    - spec.template.spec.containers.[name=web].env.[name=HOST].value\n"),
        ("k/more.yaml", "- source:\n    kind: ConfigMap\n    name: src\n    fieldPath: metadata.name\n  targets:\n  - select:\n      kind: Deployment\n    fieldPaths:\n    - metadata.annotations.from\n    options:\n      create: true\n"),
        ("k/kustomization.yaml", "resources: [res.yaml]\ntransformers: [rt.yaml]\n"),
    ];
    assert_renders(files, "k", "apiVersion: v1\ndata:\n  host: db.example.com\nkind: ConfigMap\nmetadata:\n  name: src\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  annotations:\n    from: src\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - env:\n        - name: HOST\n          value: db.example.com\n        image: nginx\n        name: web\n");
}

/// HashTransformer as a `transformers:` entry suffixes generated objects once more than the
/// build's own final hash step (kubectl's output for these files).
#[test]
fn hash_transformer_entry_suffixes_again() {
    let files: &[(&str, &str)] = &[
        ("k/res.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n"),
        ("k/so.yaml", "apiVersion: builtin\nkind: HashTransformer\nmetadata:\n  name: h\n"),
        ("k/kustomization.yaml", "resources: [res.yaml]\ntransformers: [so.yaml]\nconfigMapGenerator:\n- name: cm\n  literals: [a=b]\nnamePrefix: p-\n"),
    ];
    assert_renders(files, "k", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \"n\"\n---\napiVersion: v1\ndata:\n  a: b\nkind: ConfigMap\nmetadata:\n  name: p-cm-4h2mbtbbt6-4h2mbtbbt6\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: p-s\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: p-d\n");
}
