use super::*;
use crate::{check_graph, Finding, RuleConfig};
use driftlint_yaml::parse_documents;

fn docs(file: &str, text: &str) -> Vec<Node> {
    parse_documents(file.into(), text).expect("yaml")
}

fn ks(name: &str, depends: &[&str]) -> String {
    let deps = if depends.is_empty() {
        String::new()
    } else {
        let items: Vec<String> = depends
            .iter()
            .map(|d| format!("    - name: {d}\n"))
            .collect();
        format!("  dependsOn:\n{}", items.concat())
    };
    format!("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  path: ./{name}\n{deps}")
}

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: clusterissuers.cert-manager.io\nspec:\n  group: cert-manager.io\n  names:\n    kind: ClusterIssuer\n  versions:\n    - name: v1\n      served: true\n    - name: v1alpha2\n      served: false\n";
const ISSUER: &str =
    "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: letsencrypt\n";

struct Repo {
    flux: Vec<Node>,
    objects: Vec<Vec<Node>>,
    ids: Vec<String>,
    parents: Vec<Option<usize>>,
    kinds: Vec<UnitKind>,
}

impl Repo {
    /// Unit 0 is `flux-system` (a root); the others are its children unless `parent` says.
    fn new() -> Repo {
        Repo {
            flux: docs("sync.yaml", &ks("flux-system", &[])),
            objects: vec![Vec::new()],
            ids: vec!["flux-system".into()],
            parents: vec![None],
            kinds: vec![UnitKind::FluxKustomization],
        }
    }

    fn unit(
        &mut self,
        name: &str,
        depends: &[&str],
        parent: Option<usize>,
        objects: &str,
    ) -> usize {
        self.flux
            .extend(docs(&format!("{name}.ks.yaml"), &ks(name, depends)));
        self.objects
            .push(docs(&format!("{name}/objects.yaml"), objects));
        self.ids.push(name.into());
        self.parents.push(parent);
        self.kinds.push(UnitKind::FluxKustomization);
        self.ids.len() - 1
    }

    fn check(&self) -> Vec<Finding> {
        let units: Vec<GraphUnit> = (0..self.ids.len())
            .map(|i| GraphUnit {
                id: &self.ids[i],
                kind: self.kinds[i],
                flux: (self.kinds[i] == UnitKind::FluxKustomization).then(|| &self.flux[i]),
                argo: None,
                namespace: "flux-system",
                parent: self.parents[i],
                objects: &self.objects[i],
                needs: Vec::new(),
            })
            .collect();
        let config = RuleConfig::default();
        let known = |_: &str, _: &str| true;
        check_graph(&units, &RuleContext::new(&config, &known))
    }
}

fn codes(f: &[Finding]) -> Vec<(&str, &str, u32)> {
    f.iter()
        .map(|f| (f.code.as_str(), &*f.origin.file, f.origin.line))
        .collect()
}

#[test]
fn cr_in_another_unit_than_its_crd_needs_depends_on() {
    let mut r = Repo::new();
    r.unit("controllers", &[], Some(0), CRD);
    r.unit("configs", &[], Some(0), ISSUER);
    let f = r.check();
    assert_eq!(codes(&f), [("CRD002", "configs/objects.yaml", 2)]);
    assert!(
        f[0].message
            .contains("Flux Kustomization flux-system/controllers (controllers/objects.yaml:1)"),
        "{}",
        f[0].message
    );
    assert!(
        f[0].message.contains("`dependsOn: [{name: controllers}]`"),
        "{}",
        f[0].message
    );
    assert_eq!(f[0].target, "configs");

    let mut r = Repo::new();
    r.unit("controllers", &[], Some(0), CRD);
    r.unit("configs", &["controllers"], Some(0), ISSUER);
    assert_eq!(codes(&r.check()), []);
}

#[test]
fn the_same_unit_an_ancestor_or_a_transitive_dependency_is_in_order() {
    let mut r = Repo::new();
    r.unit("all", &[], Some(0), &format!("{CRD}---\n{ISSUER}"));
    assert_eq!(
        codes(&r.check()),
        [],
        "Flux applies CRDs first within one unit"
    );

    let mut r = Repo::new();
    let parent = r.unit("infra", &[], Some(0), CRD);
    r.unit("child", &[], Some(parent), ISSUER);
    assert_eq!(
        codes(&r.check()),
        [],
        "the parent applied the CRD before the child exists"
    );

    let mut r = Repo::new();
    r.unit("controllers", &[], Some(0), CRD);
    r.unit("middle", &["controllers"], Some(0), "");
    r.unit("configs", &["middle"], Some(0), ISSUER);
    assert_eq!(codes(&r.check()), []);
}

#[test]
fn another_cluster_tree_is_not_compared() {
    let mut r = Repo::new();
    r.unit("other-root", &[], None, CRD);
    r.flux[1].set_origin_deep(&driftlint_yaml::Origin::new(
        "clusters/test/ks.yaml".into(),
        1,
        1,
    ));
    r.unit("configs", &[], Some(0), ISSUER);
    assert_eq!(codes(&r.check()), []);
    // Top units declared in the same folder are one cluster.
    let mut r = Repo::new();
    r.unit("controllers", &[], None, CRD);
    r.unit("configs", &[], None, ISSUER);
    for f in &mut r.flux {
        f.set_origin_deep(&driftlint_yaml::Origin::new(
            "clusters/prod/ks.yaml".into(),
            1,
            1,
        ));
    }
    assert_eq!(codes(&r.check()).len(), 1);
}

#[test]
fn a_version_the_crd_does_not_serve() {
    let mut r = Repo::new();
    r.unit(
        "all",
        &[],
        Some(0),
        &format!("{CRD}---\n{}", ISSUER.replace("/v1\n", "/v1alpha2\n")),
    );
    let f = r.check();
    assert_eq!(codes(&f), [("CRD006", "all/objects.yaml", 15)]);
    assert!(f[0].message.contains("(served: v1)"), "{}", f[0].message);
}

#[test]
fn a_chart_rendering_a_crd_and_its_cr() {
    let mut r = Repo::new();
    let i = r.unit("chart", &[], None, &format!("{CRD}---\n{ISSUER}"));
    r.kinds[i] = UnitKind::HelmChart;
    assert_eq!(codes(&r.check()), [], "a CRD from crds/ is installed first");
    for o in &mut r.objects[i] {
        o.set_origin_deep(&driftlint_yaml::Origin::new(
            "chart/templates/all.yaml".into(),
            1,
            1,
        ));
    }
    assert_eq!(
        codes(&r.check()),
        [("CRD004", "chart/templates/all.yaml", 1)]
    );
}

#[test]
fn depends_on_cycles_are_reported_once() {
    let mut r = Repo::new();
    r.unit("a", &["b"], Some(0), "");
    r.unit("b", &["a"], Some(0), "");
    r.unit("c", &["c"], Some(0), "");
    let f = r.check();
    assert_eq!(
        codes(&f),
        [("ORDER001", "a.ks.yaml", 9), ("ORDER001", "c.ks.yaml", 9)]
    );
    assert!(f[0].message.contains("a -> b -> a"), "{}", f[0].message);
}

#[test]
fn depends_on_a_kustomization_nobody_defines() {
    let mut r = Repo::new();
    r.unit("a", &["infra-controler"], Some(0), "");
    let f = r.check();
    assert_eq!(codes(&f), [("ORDER002", "a.ks.yaml", 9)]);
    assert!(f[0].message.contains("flux-system/infra-controler"));
    // Defined, though not rendered as a unit (its source is elsewhere).
    let mut r = Repo::new();
    r.unit("a", &["tenant"], Some(0), &ks("tenant", &[]));
    assert_eq!(codes(&r.check()), []);
}

#[test]
fn suppression_annotations_apply() {
    let mut r = Repo::new();
    r.unit("controllers", &[], Some(0), CRD);
    let ignored = ISSUER.replace(
        "  name: letsencrypt\n",
        "  name: letsencrypt\n  annotations:\n    driftlint.io/ignore: CRD002\n",
    );
    r.unit("configs", &[], Some(0), &ignored);
    assert_eq!(codes(&r.check()), []);
}
