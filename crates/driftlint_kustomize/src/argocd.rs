//! The kustomization edits Argo CD's repo-server makes before `kustomize build` for an
//! Application's `spec.source.kustomize` (argo-cd `util/kustomize/kustomize.go`, `Build`):
//! in this order `kustomize edit set nameprefix`, `set namesuffix`, `set image`, `set
//! replicas`, `add label`, `add annotation`, `set namespace`, the `patches` appended to the
//! file, `add component`. Values keep their origins in the Application's file.

use std::sync::Arc;

use crate::decode::{self, fields, Pairs, Spanned};
use crate::error::KustomizeError;
use crate::kustfile::{self, ImageArgs, Kustomization, LabelArgs, PatchArgs, ReplicaArgs};
use driftlint_yaml::Node;

type Result<T> = std::result::Result<T, KustomizeError>;

/// The parts of an Argo CD `ApplicationSourceKustomize` that edit the top kustomization.
#[derive(Clone, Debug, Default)]
pub struct ArgoOverlay {
    /// `namePrefix` (`kustomize edit set nameprefix`: replaces).
    pub name_prefix: Option<Spanned<String>>,
    /// `nameSuffix` (`kustomize edit set namesuffix`: replaces).
    pub name_suffix: Option<Spanned<String>>,
    /// `images` (`kustomize edit set image`: merged into the entry of the same name).
    pub images: Vec<ImageArgs>,
    /// `replicas` (`kustomize edit set replicas`: replaces the entry of the same name).
    pub replicas: Vec<ReplicaArgs>,
    /// `commonLabels` (`kustomize edit add label`).
    pub common_labels: Pairs,
    /// `forceCommonLabels` (`--force`): an existing key is replaced instead of refused.
    pub force_labels: bool,
    /// `labelWithoutSelector` (`--without-selector`): a `labels` entry instead.
    pub label_without_selector: bool,
    /// `labelIncludeTemplates` (`--include-templates`, with `labelWithoutSelector`).
    pub label_include_templates: bool,
    /// `commonAnnotations` (`kustomize edit add annotation`).
    pub common_annotations: Pairs,
    /// `forceCommonAnnotations` (`--force`).
    pub force_annotations: bool,
    /// `namespace` (`kustomize edit set namespace`: replaces).
    pub namespace: Option<Spanned<String>>,
    /// `patches`, appended to the kustomization's `patches`.
    pub patches: Vec<PatchArgs>,
    /// `components`, appended (`kustomize edit add component`).
    pub components: Vec<Spanned<String>>,
    /// The Application's file name and text (inline patches map their lines into it).
    pub source: Option<(Arc<str>, Arc<str>)>,
}

impl ArgoOverlay {
    /// Reads the overlay from an Application source's `kustomize` node (`images` and label
    /// values already substituted by the caller as Argo CD's `Envsubst` does); `source` is the
    /// text of the file the node was parsed from.
    ///
    /// Errors: a malformed entry, at its line; an `images` entry Argo CD's `kustomize edit set
    /// image` cannot parse.
    pub fn from_spec(spec: &Node, source: Option<Arc<str>>) -> Result<ArgoOverlay> {
        let what = "Application.spec.source.kustomize";
        let mut o = ArgoOverlay {
            source: source.map(|text| (spec.origin.file.clone(), text)),
            ..ArgoOverlay::default()
        };
        if spec.as_map().is_none() {
            return Ok(o);
        }
        for (name, v) in fields(spec, ALLOWED, what)? {
            if decode::is_null(v) {
                continue;
            }
            match name {
                "namePrefix" => o.name_prefix = kustfile::opt_string(v, what)?,
                "nameSuffix" => o.name_suffix = kustfile::opt_string(v, what)?,
                "namespace" => o.namespace = kustfile::opt_string(v, what)?,
                "images" => o.images = kustfile::map_seq(v, what, argo_image)?,
                "replicas" => o.replicas = kustfile::map_seq(v, what, argo_replica)?,
                "commonLabels" => o.common_labels = decode::string_map(v, what)?,
                "commonAnnotations" => o.common_annotations = decode::string_map(v, what)?,
                "forceCommonLabels" => o.force_labels = decode::boolean(v, what)?,
                "forceCommonAnnotations" => o.force_annotations = decode::boolean(v, what)?,
                "labelWithoutSelector" => o.label_without_selector = decode::boolean(v, what)?,
                "labelIncludeTemplates" => o.label_include_templates = decode::boolean(v, what)?,
                "patches" => o.patches = kustfile::map_seq(v, what, kustfile::decode_patch)?,
                "components" => o.components = decode::strings(v, what)?,
                _ => {}
            }
        }
        Ok(o)
    }

    /// True when the overlay changes nothing (Argo CD runs no `kustomize edit`).
    pub fn is_empty(&self) -> bool {
        self.name_prefix.is_none()
            && self.name_suffix.is_none()
            && self.images.is_empty()
            && self.replicas.is_empty()
            && self.common_labels.is_empty()
            && self.common_annotations.is_empty()
            && self.namespace.is_none()
            && self.patches.is_empty()
            && self.components.is_empty()
    }

    /// Writes the overlay into `k` as the `kustomize edit` commands Argo CD runs do.
    ///
    /// Errors: a label or annotation key the kustomization already has, without `force`
    /// (`kustomize edit add label`: "label K already in kustomization file").
    pub(crate) fn apply(&self, k: &mut Kustomization) -> Result<()> {
        if let Some(p) = &self.name_prefix {
            k.name_prefix = Some(p.clone());
        }
        if let Some(s) = &self.name_suffix {
            k.name_suffix = Some(s.clone());
        }
        for image in &self.images {
            set_image(&mut k.images, image);
        }
        for r in &self.replicas {
            match k.replicas.iter_mut().find(|e| e.name == r.name) {
                Some(existing) => *existing = r.clone(),
                None => k.replicas.push(r.clone()),
            }
        }
        self.add_labels(k)?;
        add_pairs(
            &mut k.common_annotations,
            &self.common_annotations,
            self.force_annotations,
            "annotation",
        )?;
        if let Some(ns) = &self.namespace {
            k.namespace = Some(ns.clone());
        }
        k.patches.extend(self.patches.iter().cloned());
        k.components.extend(self.components.iter().cloned());
        k.extra_source = self.source.clone();
        Ok(())
    }

    fn add_labels(&self, k: &mut Kustomization) -> Result<()> {
        if self.common_labels.is_empty() {
            return Ok(());
        }
        if !self.label_without_selector {
            return add_pairs(
                &mut k.common_labels,
                &self.common_labels,
                self.force_labels,
                "label",
            );
        }
        let origin = self.common_labels[0].1.origin.clone();
        k.labels.push(LabelArgs {
            pairs: self.common_labels.clone(),
            include_selectors: false,
            include_templates: self.label_include_templates,
            fields: Vec::new(),
            origin,
        });
        Ok(())
    }
}

const ALLOWED: &[&str] = &[
    "namePrefix",
    "nameSuffix",
    "images",
    "replicas",
    "commonLabels",
    "commonAnnotations",
    "commonAnnotationsEnvsubst",
    "forceCommonLabels",
    "forceCommonAnnotations",
    "labelWithoutSelector",
    "labelIncludeTemplates",
    "namespace",
    "patches",
    "components",
    "ignoreMissingComponents",
    "version",
    "kubeVersion",
    "apiVersions",
];

fn add_pairs(into: &mut Pairs, pairs: &Pairs, force: bool, what: &str) -> Result<()> {
    for (key, value) in pairs {
        match into.iter_mut().find(|(k, _)| k == key) {
            Some(_) if !force => {
                return Err(KustomizeError::invalid(
                    format!("{what} {key} already in kustomization file"),
                    Some(&value.origin),
                ))
            }
            Some(existing) => existing.1 = value.clone(),
            None => into.push((key.clone(), value.clone())),
        }
    }
    Ok(())
}

/// `kustomize edit set image`: an entry of the same name is updated (a new tag drops the
/// digest and a digest drops the tag), else the image is appended.
fn set_image(images: &mut Vec<ImageArgs>, image: &ImageArgs) {
    let Some(existing) = images.iter_mut().find(|i| i.name == image.name) else {
        images.push(image.clone());
        return;
    };
    if image.new_name.is_some() {
        existing.new_name = image.new_name.clone();
    }
    if image.new_tag.is_some() {
        existing.new_tag = image.new_tag.clone();
        existing.digest = None;
    }
    if image.digest.is_some() {
        existing.digest = image.digest.clone();
        existing.new_tag = None;
    }
}

/// An Argo CD image override: `[old=]name[:tag][@digest]` (`nginx:1.25`,
/// `nginx=registry/nginx:1.25`, `nginx@sha256:...`).
fn argo_image(n: &Node, what: &str) -> Result<ImageArgs> {
    let text = decode::string(n, what)?.value;
    let at = n.origin.clone();
    let (old, new) = match text.split_once('=') {
        Some((old, new)) => (Some(old.to_string()), new.to_string()),
        None => (None, text.clone()),
    };
    let (rest, digest) = match new.split_once('@') {
        Some((r, d)) => (r.to_string(), Some(d.to_string())),
        None => (new.clone(), None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[slash..].rfind(':') {
        Some(i) => (
            rest[..slash + i].to_string(),
            Some(rest[slash + i + 1..].to_string()),
        ),
        None => (rest.clone(), None),
    };
    if name.is_empty() || old.as_deref() == Some("") {
        return Err(KustomizeError::invalid(
            format!("invalid format of image: {text:?}"),
            Some(&at),
        ));
    }
    let spanned = |s: String| Spanned::new(s, at.clone());
    Ok(ImageArgs {
        name: old.clone().unwrap_or_else(|| name.clone()),
        new_name: old.map(|_| spanned(name)),
        new_tag: tag.filter(|t| !t.is_empty()).map(spanned),
        digest: digest.filter(|d| !d.is_empty()).map(spanned),
        tag_suffix: None,
        origin: at.clone(),
    })
}

/// An Argo CD replica override: `{name, count}` (count an integer or a string of one).
fn argo_replica(n: &Node, what: &str) -> Result<ReplicaArgs> {
    let mut r = ReplicaArgs {
        name: String::new(),
        count: Spanned::new(0, n.origin.clone()),
        origin: n.origin.clone(),
    };
    for (name, v) in fields(n, &["name", "count"], what)? {
        match name {
            "name" => r.name = decode::string(v, what)?.value,
            _ => {
                let text = v.scalar_text().unwrap_or("").trim().to_string();
                let count = text.parse::<i64>().map_err(|_| {
                    KustomizeError::invalid(
                        format!("expected integer value for count. Received: {text}"),
                        Some(&v.origin),
                    )
                })?;
                r.count = Spanned::new(count, v.origin.clone());
            }
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::parse_file;

    fn spec(text: &str) -> Node {
        parse_file("app.yaml".into(), text).unwrap().documents[0].clone()
    }

    #[test]
    fn images_parse_as_kustomize_edit_set_image() {
        let o = ArgoOverlay::from_spec(
            &spec("images: ['nginx:1.25', 'app=reg.io:5000/app@sha256:abc', 'x']\n"),
            None,
        )
        .unwrap();
        let i = &o.images;
        assert_eq!(i[0].name, "nginx");
        assert_eq!(i[0].new_tag.as_ref().unwrap().value, "1.25");
        assert!(i[0].new_name.is_none());
        assert_eq!(i[1].name, "app");
        assert_eq!(i[1].new_name.as_ref().unwrap().value, "reg.io:5000/app");
        assert_eq!(i[1].digest.as_ref().unwrap().value, "sha256:abc");
        assert!(i[2].new_tag.is_none());
    }

    #[test]
    fn an_existing_label_is_refused_without_force() {
        let o = ArgoOverlay::from_spec(&spec("commonLabels: {a: b}\n"), None).unwrap();
        let mut into: Pairs = vec![("a".into(), Spanned::new("c".into(), spec("x").origin))];
        let e = add_pairs(&mut into, &o.common_labels, false, "label").unwrap_err();
        assert!(e
            .to_string()
            .contains("label a already in kustomization file"));
        add_pairs(&mut into, &o.common_labels, true, "label").unwrap();
        assert_eq!(into[0].1.value, "b");
    }
}
