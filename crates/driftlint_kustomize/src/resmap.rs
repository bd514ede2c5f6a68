//! The ordered set of objects a kustomization accumulates (kustomize `resmap.ResMap`).

use std::collections::HashMap;

use driftlint_yaml::Origin;

use super::config::TransformerConfig;
use super::error::{KustomizeError, Result};
use super::kustfile::VarArgs;
use super::resid::{Gvk, ResId};
use super::resource::Resource;

/// Objects in accumulation order; ids (current GVK/name/namespace) are unique. Also holds
/// the transformer configuration accumulated with them (kustomize `ResAccumulator`).
///
/// Lookups by id are O(1) on average: an index from every id an object has had (previous
/// and current, compared as kyaml's `ResId.Equals` does) to the object's position is built
/// on the first lookup and kept in sync by [`ResMap::append`] and [`ResMap::replace`];
/// [`ResMap::list_mut`] drops it, since objects may be renamed through it.
#[derive(Clone, Debug, Default)]
pub struct ResMap {
    /// The objects.
    list: Vec<Resource>,
    /// The transformer configuration.
    pub config: TransformerConfig,
    /// Vars declared so far.
    pub vars: Vec<VarArgs>,
    /// Id key -> positions of the objects with that id among their ids, ascending.
    index: Option<HashMap<IdKey, Vec<usize>>>,
}

/// What kyaml's `ResId.Equals` compares: GVK, name and effective namespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdKey {
    gvk: Gvk,
    name: String,
    namespace: String,
}

impl IdKey {
    /// The key of `id`: two ids have the same key exactly when [`ResId::equals`] holds.
    pub fn of(id: &ResId) -> IdKey {
        IdKey {
            gvk: id.gvk.clone(),
            name: id.name.clone(),
            namespace: id.effective_namespace().to_string(),
        }
    }
}

impl ResMap {
    /// An empty map.
    #[cfg(test)]
    pub fn new() -> Self {
        ResMap::default()
    }

    /// The objects, in order.
    pub fn list(&self) -> &[Resource] {
        &self.list
    }

    /// The objects, mutable (for transformers); drops the id index, which the next lookup
    /// rebuilds.
    pub fn list_mut(&mut self) -> &mut Vec<Resource> {
        self.index = None;
        &mut self.list
    }

    /// The objects, consuming the map.
    pub fn into_list(self) -> Vec<Resource> {
        self.list
    }

    /// The id index, built when missing (O(number of ids)).
    fn index(&mut self) -> &HashMap<IdKey, Vec<usize>> {
        let list = &self.list;
        self.index.get_or_insert_with(|| {
            let mut index: HashMap<IdKey, Vec<usize>> = HashMap::with_capacity(list.len());
            for (i, r) in list.iter().enumerate() {
                add_ids(&mut index, r, i);
            }
            index
        })
    }

    /// Appends `res`, refusing a second object with the same current id, as kustomize's
    /// `resWrangler.Append` ("may not add resource with an already registered id").
    pub fn append(&mut self, res: Resource, origin: Option<&Origin>) -> Result<()> {
        let id = res.cur_id();
        let key = IdKey::of(&id);
        self.index();
        let taken = self
            .index
            .as_ref()
            .and_then(|x| x.get(&key))
            .is_some_and(|hits| {
                hits.iter()
                    .any(|&i| IdKey::of(&self.list[i].cur_id()) == key)
            });
        if taken {
            return Err(KustomizeError::invalid(
                format!("may not add resource with an already registered id: {id}"),
                origin.or(Some(&res.node.origin)),
            ));
        }
        let i = self.list.len();
        if let Some(index) = self.index.as_mut() {
            add_ids(index, &res, i);
        }
        self.list.push(res);
        Ok(())
    }

    /// Replaces the object at `i` by `res` (a generator's `merge`/`replace`), keeping the
    /// id index when the ids did not change.
    pub fn replace(&mut self, i: usize, res: Resource) {
        if self.list[i].all_ids() != res.all_ids() {
            self.index = None;
        }
        self.list[i] = res;
    }

    /// Appends every object of `other` (see [`ResMap::append`]) and merges its
    /// configuration (kustomize `MergeAccumulator`).
    pub fn append_all(&mut self, other: ResMap, origin: Option<&Origin>) -> Result<()> {
        let o = origin
            .cloned()
            .unwrap_or_else(|| Origin::new("".into(), 0, 0));
        self.config.merge(&other.config, &o)?;
        self.merge_vars(&other.vars)?;
        for r in other.list {
            self.append(r, origin)?;
        }
        Ok(())
    }

    /// Adds the vars `more` (kustomize `MergeVars`), refusing a name defined twice.
    pub fn merge_vars(&mut self, more: &[VarArgs]) -> Result<()> {
        for v in more {
            if self.vars.iter().any(|x| x.name == v.name) {
                return Err(KustomizeError::invalid(
                    format!("var '{}' already encountered", v.name),
                    Some(&v.origin),
                ));
            }
            self.vars.push(v.clone());
        }
        Ok(())
    }

    /// Indexes of objects any of whose ids (previous or current) satisfies `pred`
    /// (kustomize `GetMatchingResourcesByAnyId`).
    pub fn matching_any_id(&self, pred: impl Fn(&ResId) -> bool) -> Vec<usize> {
        self.list
            .iter()
            .enumerate()
            .filter(|(_, r)| r.all_ids().iter().any(&pred))
            .map(|(i, _)| i)
            .collect()
    }

    /// Indexes of objects any of whose ids (previous or current) equals `id` (kyaml
    /// `ResId.Equals`), in order; [`ResMap::matching_any_id`] through the index.
    pub fn matching_id(&mut self, id: &ResId) -> Vec<usize> {
        let key = IdKey::of(id);
        self.index().get(&key).cloned().unwrap_or_default()
    }

    /// The single object matching `id` by any of its ids (kustomize `GetById`).
    ///
    /// Errors: no match, or several matches.
    pub fn get_by_id(&mut self, id: &ResId, origin: Option<&Origin>) -> Result<usize> {
        let found = self.matching_id(id);
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(KustomizeError::invalid(
                format!("no resource matches {id}"),
                origin,
            )),
            _ => Err(KustomizeError::invalid(
                format!("multiple resources match {id}"),
                origin,
            )),
        }
    }
}

/// Indexes every id of `r` (at position `i`), once per distinct key.
fn add_ids(index: &mut HashMap<IdKey, Vec<usize>>, r: &Resource, i: usize) {
    for id in r.all_ids() {
        let hits = index.entry(IdKey::of(&id)).or_default();
        if hits.last() != Some(&i) {
            hits.push(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::parse_documents;

    fn res(src: &str) -> Resource {
        Resource::new(parse_documents("r.yaml".into(), src).expect("parses")[0].clone())
    }

    #[test]
    fn index_follows_appends_renames_and_replacements() {
        let mut m = ResMap::new();
        let cm = |name: &str| {
            res(&format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
            ))
        };
        for i in 0..40 {
            m.append(cm(&format!("c{i}")), None).expect("unique");
        }
        assert!(m.append(cm("c7"), None).is_err(), "duplicate id refused");
        let id = m.list()[7].cur_id();
        assert_eq!(m.matching_id(&id), vec![7]);
        // A rename through list_mut is seen by the next lookup.
        let o = Origin::new("k.yaml".into(), 1, 1);
        m.list_mut()[7].store_previous_id();
        m.list_mut()[7].set_name("renamed", &o);
        assert_eq!(m.matching_id(&id), vec![7], "found by its previous id");
        m.append(cm("c7"), None)
            .expect("the old name is free again (only current ids conflict)");
        assert_eq!(m.matching_id(&id), vec![7, 40]);
        assert!(m.append(cm("renamed"), None).is_err());
        let renamed = m.list()[7].cur_id();
        assert_eq!(m.get_by_id(&renamed, None).expect("one"), 7);
        m.replace(40, cm("other"));
        assert_eq!(m.matching_id(&id), vec![7]);
        let default_ns =
            res("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\n  namespace: default\n");
        assert!(
            m.append(default_ns, None).is_err(),
            "default is the effective namespace"
        );
    }
}
