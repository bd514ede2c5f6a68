//! The drift data model shared by comparison, inventory, ignore rules, the cluster client and
//! the reports.
//!
//! A [`FieldPath`] names a field inside one object the way `kubectl explain` and Argo CD do,
//! with list items of merge-keyed lists named by their key
//! (`spec.template.spec.containers[name=web].image`); a [`FieldDrift`] is one differing field;
//! an [`ObjectDrift`] is everything drift found about one object.

use std::fmt;

use serde::Serialize;

use driftlint_rules::ObjectRef;
use driftlint_yaml::Origin;

/// How desired objects are compared with the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Server-side-apply dry-run (`fieldManager=driftlint`, `dryRun=All`, `force=true`) of each
    /// desired object, compared with the live object: the server fills defaults and runs
    /// admission, so only real differences remain (as `kubectl diff --server-side`).
    Server,
    /// Only `get`/`list`: compare the fields the repository sets, with Kubernetes
    /// normalisation (quantities, int-or-string, merge-keyed lists, known defaults).
    ReadOnly,
}

impl Mode {
    /// `server` or `read-only`, as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Server => "server",
            Mode::ReadOnly => "read-only",
        }
    }
}

/// One step of a [`FieldPath`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PathSegment {
    /// A map key.
    Field(String),
    /// An item of a list matched by its merge key(s), e.g. `[name=web]` or
    /// `[containerPort=80,protocol=TCP]` (`x-kubernetes-patch-merge-key` /
    /// `x-kubernetes-list-map-keys`), key values written as strings.
    Key(Vec<(String, String)>),
    /// An item of an atomic list, by position.
    Index(usize),
}

/// Where a field sits in an object: `spec.replicas`, `data.LOG_LEVEL`,
/// `spec.template.spec.containers[name=web].image`, `metadata.labels.hotfix`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FieldPath(pub Vec<PathSegment>);

impl FieldPath {
    /// The JSON pointer of this path inside the *desired* object when every segment is a field
    /// or an index (RFC 6901 escaping); `None` when a keyed segment needs the desired list to
    /// resolve.
    pub fn simple_pointer(&self) -> Option<String> {
        let mut out = String::new();
        for seg in &self.0 {
            out.push('/');
            match seg {
                PathSegment::Field(f) => out.push_str(&f.replace('~', "~0").replace('/', "~1")),
                PathSegment::Index(i) => out.push_str(&i.to_string()),
                PathSegment::Key(_) => return None,
            }
        }
        Some(out)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                PathSegment::Field(name) => {
                    let plain = !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    match (plain, i) {
                        (true, 0) => write!(f, "{name}")?,
                        (true, _) => write!(f, ".{name}")?,
                        (false, _) => write!(f, "[{name:?}]")?,
                    }
                }
                PathSegment::Key(keys) => {
                    let parts: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    write!(f, "[{}]", parts.join(","))?;
                }
                PathSegment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// One field whose desired and live values differ.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldDrift {
    /// The field.
    pub path: FieldPath,
    /// The value the repository renders; `None` when only the live object has the field.
    /// For Secret data this is `sha256:<first 12 hex>` of the decoded value, never the value.
    pub desired: Option<serde_json::Value>,
    /// The value the cluster runs; `None` when the live object lacks the field. Secret data is
    /// hashed as for `desired`.
    pub live: Option<serde_json::Value>,
    /// True when the values are Secret data (shown only as hashes).
    pub sensitive: bool,
    /// The source line that sets the desired field, or the nearest ancestor's when the
    /// repository does not set the field itself.
    pub origin: Origin,
}

/// What drift found about one object.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum DriftKind {
    /// The live object matches the repository.
    InSync,
    /// These fields differ (never empty).
    Changed {
        /// The differing fields, in path order.
        fields: Vec<FieldDrift>,
    },
    /// The repository declares the object; the cluster does not have it.
    Missing,
    /// The cluster runs the object, deployed by this inventory (`flux:NAMESPACE/NAME`,
    /// `helm:NAMESPACE/RELEASE` or `selector:SELECTOR`), but the repository no longer
    /// declares it.
    Orphaned {
        /// Which inventory claims it.
        inventory: String,
    },
    /// The cluster does not serve this apiVersion/kind (no discovery entry).
    NotServed,
    /// The cluster answered with an error for this object (Status reason and message).
    Failed {
        /// The HTTP status code, 0 for a transport error.
        code: u16,
        /// The `Status` message or transport error.
        message: String,
    },
}

/// Everything drift found about one object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObjectDrift {
    /// The object (desired identity; for an orphan, the live one).
    pub object: ObjectRef,
    /// Where the object is declared (its `apiVersion` line in the rendered source); for an
    /// orphan, the origin of the inventory owner (Flux Kustomization / release) when the
    /// repository renders it, else of the target that deployed the inventory.
    pub origin: Origin,
    /// The target (overlay, chart, manifest folder) that rendered it, repo-relative.
    pub target: String,
    /// The verdict.
    pub drift: DriftKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_like_kubectl_and_argo() {
        let p = FieldPath(vec![
            PathSegment::Field("spec".into()),
            PathSegment::Field("containers".into()),
            PathSegment::Key(vec![("name".into(), "web".into())]),
            PathSegment::Field("image".into()),
        ]);
        assert_eq!(p.to_string(), "spec.containers[name=web].image");
        assert_eq!(p.simple_pointer(), None);
        let q = FieldPath(vec![
            PathSegment::Field("metadata".into()),
            PathSegment::Field("annotations".into()),
            PathSegment::Field("example.com/x".into()),
        ]);
        assert_eq!(q.to_string(), "metadata.annotations[\"example.com/x\"]");
        assert_eq!(
            q.simple_pointer().as_deref(),
            Some("/metadata/annotations/example.com~1x")
        );
    }
}
