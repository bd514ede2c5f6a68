//! One object in the build, with the bookkeeping kustomize keeps in its internal
//! `internal.config.kubernetes.io/*` annotations (previous ids, prefixes, suffixes) and
//! generator options. We keep them as fields, so they never reach the output.

use driftlint_yaml::{Node, Origin};

use super::nodeutil::{child_map_mut, set_key, str_at, string_node};
use super::resid::{Gvk, ResId};

/// How a generated ConfigMap/Secret combines with an existing one of the same id
/// (kustomize `types.GenerationBehavior`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// Must not exist yet.
    Create,
    /// Replace the existing object's data (metadata merged).
    Replace,
    /// Merge into the existing object's data.
    Merge,
}

/// Generator bookkeeping on a generated object.
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    /// The generator entry's behavior.
    pub behavior: Behavior,
    /// Whether the name gets kustomize's content-hash suffix at the end of the build.
    pub needs_hash: bool,
}

/// An object being built.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    /// The object itself.
    pub node: Node,
    /// Ids the object had before renames (kustomize `PrevIds`), oldest first.
    pub prev_ids: Vec<ResId>,
    /// Name prefixes applied, one entry per kustomization layer (possibly empty strings).
    pub prefixes: Vec<String>,
    /// Name suffixes applied, one entry per kustomization layer.
    pub suffixes: Vec<String>,
    /// Present on objects made by a configMapGenerator/secretGenerator.
    pub generated: Option<Generated>,
}

impl Resource {
    /// Wraps an object read from a file.
    pub fn new(node: Node) -> Self {
        Resource {
            node,
            prev_ids: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            generated: None,
        }
    }

    /// `apiVersion`.
    pub fn api_version(&self) -> &str {
        str_at(&self.node, &["apiVersion"]).unwrap_or("")
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        str_at(&self.node, &["kind"]).unwrap_or("")
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        str_at(&self.node, &["metadata", "name"]).unwrap_or("")
    }

    /// `metadata.namespace` (empty when absent).
    pub fn namespace(&self) -> &str {
        str_at(&self.node, &["metadata", "namespace"]).unwrap_or("")
    }

    /// The object's GVK.
    pub fn gvk(&self) -> Gvk {
        Gvk::from_api_version(self.api_version(), self.kind())
    }

    /// The current id.
    pub fn cur_id(&self) -> ResId {
        ResId {
            gvk: self.gvk(),
            name: self.name().to_string(),
            namespace: self.namespace().to_string(),
        }
    }

    /// Previous ids, or the current id when the object was never renamed (kustomize
    /// `Resource.PrevIds` as used by name references).
    pub fn prev_ids_or_cur(&self) -> Vec<ResId> {
        if self.prev_ids.is_empty() {
            vec![self.cur_id()]
        } else {
            self.prev_ids.clone()
        }
    }

    /// Every id the object has had, including the current one.
    pub fn all_ids(&self) -> Vec<ResId> {
        let mut ids = self.prev_ids.clone();
        ids.push(self.cur_id());
        ids
    }

    /// The original id (kustomize `OrgId`): the first previous id, or the current one.
    pub fn org_id(&self) -> ResId {
        self.prev_ids
            .first()
            .cloned()
            .unwrap_or_else(|| self.cur_id())
    }

    /// Records the current id as a previous id (kustomize `StorePreviousId`, which stores
    /// the effective namespace).
    pub fn store_previous_id(&mut self) {
        let cur = self.cur_id();
        let namespace = cur.effective_namespace().to_string();
        self.prev_ids.push(ResId { namespace, ..cur });
    }

    /// Sets `metadata.name` (string-typed) with `origin`.
    pub fn set_name(&mut self, name: &str, origin: &Origin) {
        if let Some(md) = child_map_mut(&mut self.node, "metadata", origin) {
            set_key(md, "name", string_node(name, origin));
        }
    }

    /// The `metadata.labels` entries.
    pub fn labels(&self) -> Vec<(String, String)> {
        super::nodeutil::string_map(self.node.get_path(&["metadata", "labels"]))
    }

    /// The `metadata.annotations` entries.
    pub fn annotations(&self) -> Vec<(String, String)> {
        super::nodeutil::string_map(self.node.get_path(&["metadata", "annotations"]))
    }
}
