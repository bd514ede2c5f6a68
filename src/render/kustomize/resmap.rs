//! The ordered set of objects a kustomization accumulates (kustomize `resmap.ResMap`).

use crate::yaml::Origin;

use super::config::TransformerConfig;
use super::error::{KustomizeError, Result};
use super::resid::ResId;
use super::resource::Resource;
use super::vars::{self, VarArgs};

/// Objects in accumulation order; ids (current GVK/name/namespace) are unique. Also holds
/// the transformer configuration accumulated with them (kustomize `ResAccumulator`).
#[derive(Clone, Debug, Default)]
pub struct ResMap {
    /// The objects.
    pub list: Vec<Resource>,
    /// The transformer configuration.
    pub config: TransformerConfig,
    /// Vars declared so far.
    pub vars: Vec<VarArgs>,
}

impl ResMap {
    /// An empty map.
    #[cfg(test)]
    pub fn new() -> Self {
        ResMap::default()
    }

    /// Appends `res`, refusing a second object with the same current id, as kustomize's
    /// `resWrangler.Append` ("may not add resource with an already registered id").
    pub fn append(&mut self, res: Resource, origin: Option<&Origin>) -> Result<()> {
        let id = res.cur_id();
        if self.list.iter().any(|r| r.cur_id().equals(&id)) {
            return Err(KustomizeError::invalid(
                format!("may not add resource with an already registered id: {id}"),
                origin.or(Some(&res.node.origin)),
            ));
        }
        self.list.push(res);
        Ok(())
    }

    /// Appends every object of `other` (see [`ResMap::append`]) and merges its
    /// configuration (kustomize `MergeAccumulator`).
    pub fn append_all(&mut self, other: ResMap, origin: Option<&Origin>) -> Result<()> {
        let o = origin
            .cloned()
            .unwrap_or_else(|| Origin::new("".into(), 0, 0));
        self.config.merge(&other.config, &o)?;
        vars::merge(&mut self.vars, &other.vars)?;
        for r in other.list {
            self.append(r, origin)?;
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

    /// The single object matching `id` by any of its ids (kustomize `GetById`).
    ///
    /// Errors: no match, or several matches.
    pub fn get_by_id(&self, id: &ResId, origin: Option<&Origin>) -> Result<usize> {
        let found = self.matching_any_id(|x| x.equals(id));
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
