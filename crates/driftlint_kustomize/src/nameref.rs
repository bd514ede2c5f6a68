//! Name references (kustomize's nameReference transformer, api/filters/nameref): after
//! prefixes, suffixes and hash suffixes renamed objects, every field that refers to an
//! object by name (a ConfigMap in a pod volume, a ServiceAccount in a RoleBinding subject,
//! ...) is updated to the referred object's new name, following kustomize's builtin
//! `nameReference` configuration (api/konfig/builtinpluginconsts/namereference.go).

use std::collections::HashMap;

use driftlint_yaml::{Node, Origin, Value};

use super::error::{KustomizeError, Result};
use super::fieldspec::{self, BackRef, Create, FieldSpec};
use super::nodeutil::{scalar_str, set_key, str_at, string_node};
use super::resid::{Gvk, ResId};
use super::resmap::ResMap;
use super::resource::Resource;

/// What name references need to know about a candidate referral.
struct Candidate {
    cur: ResId,
    prev: Vec<ResId>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    name_origin: Origin,
    /// `cur` is of a cluster-scoped type.
    cluster_scoped: bool,
    /// `cur`'s effective namespace.
    effective_ns: String,
}

impl Candidate {
    fn of(r: &Resource) -> Candidate {
        let name_origin = r
            .node
            .get_path(&["metadata", "name"])
            .map(|n| n.origin.clone())
            .unwrap_or_else(|| r.node.origin.clone());
        let cur = r.cur_id();
        Candidate {
            cluster_scoped: cur.gvk.is_cluster_scoped(),
            effective_ns: cur.effective_namespace().to_string(),
            cur,
            prev: r.prev_ids_or_cur(),
            prefixes: r.prefixes.clone(),
            suffixes: r.suffixes.clone(),
            name_origin,
        }
    }
}

/// The referrer's view used while filtering candidates.
struct Referrer {
    cur: ResId,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    role_ref: Option<Gvk>,
}

/// kustomize `SameEndingSubSlice`.
fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return long.is_empty();
    }
    let diff = long.len() - short.len();
    short.iter().enumerate().all(|(i, s)| &long[i + diff] == s)
}

fn prefix_suffix_equal(c: &Candidate, r: &Referrer, allow_empty: bool) -> bool {
    if allow_empty {
        let p =
            c.prefixes.is_empty() || r.prefixes.is_empty() || same_ending(&c.prefixes, &r.prefixes);
        let s =
            c.suffixes.is_empty() || r.suffixes.is_empty() || same_ending(&c.suffixes, &r.suffixes);
        p && s
    } else {
        same_ending(&c.prefixes, &r.prefixes) && same_ending(&c.suffixes, &r.suffixes)
    }
}

/// kustomize `selectReferral`: the single candidate the old name refers to, if any.
fn select<'c>(
    old: &str,
    cands: Vec<&'c Candidate>,
    target: &Gvk,
    r: &Referrer,
    role_ref_path: bool,
    with_namespace: bool,
    origin: &Origin,
) -> Result<Option<&'c Candidate>> {
    let mut c: Vec<&Candidate> = cands
        .into_iter()
        .filter(|c| c.prev.iter().any(|id| id.name == old))
        .filter(|c| c.prev.iter().any(|id| id.gvk.is_selected(target)))
        .collect();
    if role_ref_path {
        if let Some(rr) = &r.role_ref {
            c.retain(|c| c.prev.iter().any(|id| id.gvk.is_selected(rr)));
        }
    }
    if !r.cur.gvk.is_cluster_scoped() {
        c.retain(|c| {
            c.cluster_scoped
                || c.cur.gvk.kind == "ServiceAccount"
                || r.cur.effective_namespace() == c.effective_ns
        });
    }
    if c.len() == 1 {
        return Ok(c.pop());
    }
    c.retain(|x| prefix_suffix_equal(x, r, true));
    if c.len() == 1 {
        return Ok(c.pop());
    }
    c.retain(|x| prefix_suffix_equal(x, r, false));
    match c.len() {
        0 => Ok(None),
        1 => Ok(c.pop()),
        _ => {
            let first = c[0];
            let identical = c.iter().all(|x| {
                x.cur.name == first.cur.name
                    && (!with_namespace || x.cur.namespace == first.cur.namespace)
            });
            if identical {
                Ok(Some(first))
            } else {
                let ids: Vec<String> = c.iter().map(|x| x.cur.to_string()).collect();
                Err(KustomizeError::invalid(
                    format!("found multiple possible referrals: {}", ids.join(", ")),
                    Some(origin),
                ))
            }
        }
    }
}

/// kustomize `SubsetThatCouldBeReferencedByResource`: cluster-scoped referrers see
/// everything; others see cluster-scoped objects, their own namespace, and (RoleBindings)
/// the namespaces of their ServiceAccount subjects. Kept as a predicate, so that only the
/// candidates of a referenced name are ever tested.
struct Visibility {
    /// The referrer is cluster-scoped: it sees everything.
    all: bool,
    /// The referrer's effective namespace.
    namespace: String,
    /// Namespaces of a RoleBinding's ServiceAccount subjects.
    sa_namespaces: Vec<String>,
}

impl Visibility {
    fn of(referrer: &Resource) -> Visibility {
        let rid = referrer.cur_id();
        let mut sa_namespaces = Vec::new();
        if referrer.kind() == "RoleBinding" {
            if let Some(subjects) = referrer.node.get("subjects").and_then(Node::as_seq) {
                for s in subjects {
                    if str_at(s, &["kind"]) == Some("ServiceAccount") {
                        if let Some(ns) = str_at(s, &["namespace"]) {
                            sa_namespaces.push(ns.to_string());
                        }
                    }
                }
            }
        }
        Visibility {
            all: rid.gvk.is_cluster_scoped(),
            namespace: rid.effective_namespace().to_string(),
            sa_namespaces,
        }
    }

    fn sees(&self, c: &Candidate) -> bool {
        self.all
            || c.cluster_scoped
            || c.effective_ns == self.namespace
            || self.sa_namespaces.contains(&c.cur.namespace)
    }
}

/// What the candidates of an original namespace look like now, to tell in O(1) whether a
/// referrer sees any of them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum NsProbe {
    /// Any candidate.
    Any,
    /// A candidate that is cluster-scoped now.
    ClusterScoped,
    /// A candidate whose current effective namespace is this.
    Effective(String),
    /// A candidate whose current namespace, as written, is this.
    Written(String),
}

/// Lookups over the candidates (every object of the build), so that a name reference
/// costs what its matches cost, not the size of the build.
struct Index {
    /// Each name a candidate has had -> candidate positions, ascending.
    by_name: HashMap<String, Vec<usize>>,
    /// (original namespace, probe) -> number of candidates.
    by_org_namespace: HashMap<(String, NsProbe), usize>,
}

impl Index {
    fn new(cands: &[Candidate]) -> Index {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_org_namespace: HashMap<(String, NsProbe), usize> = HashMap::new();
        for (i, c) in cands.iter().enumerate() {
            for id in &c.prev {
                let hits = by_name.entry(id.name.clone()).or_default();
                if hits.last() != Some(&i) {
                    hits.push(i);
                }
            }
            if let Some(org) = org_namespace(c) {
                let mut probes = vec![
                    NsProbe::Any,
                    NsProbe::Effective(c.effective_ns.clone()),
                    NsProbe::Written(c.cur.namespace.clone()),
                ];
                if c.cluster_scoped {
                    probes.push(NsProbe::ClusterScoped);
                }
                for p in probes {
                    *by_org_namespace.entry((org.to_string(), p)).or_default() += 1;
                }
            }
        }
        Index {
            by_name,
            by_org_namespace,
        }
    }

    /// True when `view` sees a candidate whose original namespace is `ns`.
    fn sees_org_namespace(&self, ns: &str, view: &Visibility) -> bool {
        let has = |p: NsProbe| self.by_org_namespace.contains_key(&(ns.to_string(), p));
        if view.all {
            return has(NsProbe::Any);
        }
        has(NsProbe::ClusterScoped)
            || has(NsProbe::Effective(view.namespace.clone()))
            || view
                .sa_namespaces
                .iter()
                .any(|s| has(NsProbe::Written(s.clone())))
    }
}

struct Ctx<'a> {
    target: &'a Gvk,
    referrer: &'a Referrer,
    all: &'a [Candidate],
    index: &'a Index,
    view: &'a Visibility,
    role_ref_path: bool,
}

impl Ctx<'_> {
    /// The visible candidates that have had the name `old`, in build order.
    fn named(&self, old: &str) -> Vec<&Candidate> {
        self.index.by_name.get(old).map_or_else(Vec::new, |hits| {
            hits.iter()
                .map(|&i| &self.all[i])
                .filter(|c| self.view.sees(c))
                .collect()
        })
    }

    fn set(&self, n: &mut Node) -> Result<()> {
        match &mut n.value {
            Value::Scalar(_) => self.set_scalar(n),
            Value::Map(_) => self.set_mapping(n),
            Value::Seq(items) => {
                for item in items.iter_mut() {
                    match item.value {
                        Value::Scalar(_) => self.set_scalar(item)?,
                        Value::Map(_) => self.set_mapping(item)?,
                        Value::Seq(_) => {
                            return Err(KustomizeError::invalid(
                                "name reference list element must be a scalar or a map",
                                Some(&item.origin),
                            ))
                        }
                    }
                }
                Ok(())
            }
        }
    }

    fn set_scalar(&self, n: &mut Node) -> Result<()> {
        let Some(old) = scalar_str(n).map(str::to_string) else {
            return Ok(());
        };
        let sel = select(
            &old,
            self.named(&old),
            self.target,
            self.referrer,
            self.role_ref_path,
            false,
            &n.origin,
        )?;
        if let Some(c) = sel {
            if c.cur.name != old {
                *n = string_node(
                    &c.cur.name,
                    &c.name_origin.clone().with_via("name reference"),
                );
            }
        }
        Ok(())
    }

    fn set_mapping(&self, n: &mut Node) -> Result<()> {
        let Some(old) = n
            .get("name")
            .map(|v| scalar_str(v).unwrap_or("").to_string())
        else {
            return Err(KustomizeError::invalid(
                "path config error; no 'name' field in node",
                Some(&n.origin),
            ));
        };
        // kustomize narrows the visible candidates to those originally in the referenced
        // namespace, or, when there are none, to those in it now; then selects by name.
        let mut cands = self.named(&old);
        if let Some(ns) = n
            .get("namespace")
            .map(|v| scalar_str(v).unwrap_or("").to_string())
        {
            if self.index.sees_org_namespace(&ns, self.view) {
                cands.retain(|c| org_namespace(c) == Some(ns.as_str()));
            } else {
                cands.retain(|c| !c.cluster_scoped && c.effective_ns == ns);
            }
        }
        let sel = select(
            &old,
            cands,
            self.target,
            self.referrer,
            self.role_ref_path,
            true,
            &n.origin,
        )?;
        let Some(c) = sel else { return Ok(()) };
        if c.cur.name == old && c.cur.namespace.is_empty() {
            return Ok(());
        }
        let origin = c.name_origin.clone().with_via("name reference");
        set_key(n, "name", string_node(&c.cur.name, &origin));
        if !c.cur.namespace.is_empty() {
            set_key(n, "namespace", string_node(&c.cur.namespace, &origin));
        }
        Ok(())
    }
}

fn org_namespace(c: &Candidate) -> Option<&str> {
    let org = c.prev.first().unwrap_or(&c.cur);
    if org.gvk.is_cluster_scoped() {
        None
    } else {
        Some(org.effective_namespace())
    }
}

fn role_ref_gvk(r: &Resource) -> Option<Gvk> {
    let rr = r.node.get("roleRef")?;
    Some(Gvk {
        group: str_at(rr, &["apiGroup"])?.to_string(),
        version: String::new(),
        kind: str_at(rr, &["kind"])?.to_string(),
    })
}

/// Fixes every name reference in `m` (kustomize `FixBackReferences`).
///
/// Errors: a reference that could mean several different objects, or a referrer map
/// without a `name` field.
pub fn apply(m: &mut ResMap, backrefs: &[BackRef]) -> Result<()> {
    let cands: Vec<Candidate> = m.list().iter().map(Candidate::of).collect();
    let index = Index::new(&cands);
    for i in 0..m.list().len() {
        let org_gvk = m.list()[i].org_id().gvk;
        let referrer = Referrer {
            cur: m.list()[i].cur_id(),
            prefixes: m.list()[i].prefixes.clone(),
            suffixes: m.list()[i].suffixes.clone(),
            role_ref: role_ref_gvk(&m.list()[i]),
        };
        let view = Visibility::of(&m.list()[i]);
        let origin = m.list()[i].node.origin.clone();
        for br in backrefs {
            for spec in &br.referrers {
                if !org_gvk.is_selected(&spec.gvk) {
                    continue;
                }
                let ctx = Ctx {
                    target: &br.target,
                    referrer: &referrer,
                    all: &cands,
                    index: &index,
                    view: &view,
                    role_ref_path: spec.path.ends_with("roleRef/name"),
                };
                let any = FieldSpec::new("", "", "", &spec.path, false);
                fieldspec::apply(
                    &mut m.list_mut()[i].node,
                    &any,
                    Create::Nothing,
                    &origin,
                    &mut |n| ctx.set(n),
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin_specs;
    use crate::decode::Spanned;
    use crate::prefix_suffix::{self, End};
    use driftlint_yaml::parse_documents;

    fn map(src: &str) -> ResMap {
        let mut m = ResMap::new();
        for d in parse_documents("r.yaml".into(), src).expect("parses") {
            m.append(Resource::new(d), None).expect("unique");
        }
        m
    }

    const SRC: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      serviceAccountName: sa\n      volumes:\n      - name: v\n        configMap:\n          name: cfg\n      - name: w\n        configMap:\n          name: other\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: rb\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: cfg\nsubjects:\n- kind: ServiceAccount\n  name: sa\n";

    #[test]
    fn follows_prefixes() {
        let mut m = map(SRC);
        let o = Origin::new("k.yaml".into(), 1, 13);
        prefix_suffix::apply(&mut m, Some(&Spanned::new("p-".into(), o)), End::Prefix);
        apply(&mut m, &builtin_specs::name_reference()).expect("fixes");
        let d = m.list()[2].node.to_json();
        assert_eq!(d["spec"]["template"]["spec"]["serviceAccountName"], "p-sa");
        assert_eq!(
            d["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"],
            "p-cfg"
        );
        assert_eq!(
            d["spec"]["template"]["spec"]["volumes"][1]["configMap"]["name"],
            "other"
        );
        let rb = m.list()[3].node.to_json();
        assert_eq!(rb["subjects"][0]["name"], "p-sa");
        assert_eq!(rb["roleRef"]["name"], "cfg", "a ConfigMap is not a Role");
    }

    #[test]
    fn same_ending_slices() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(same_ending(&s(&["a", "b", "c"]), &s(&["b", "c"])));
        assert!(!same_ending(&s(&["a", "b", "c"]), &s(&["a", "b"])));
        assert!(!same_ending(&s(&[]), &s(&["a"])));
        assert!(same_ending(&s(&[]), &s(&[])));
    }
}
