//! kustomize's `helmCharts` and `helmGlobals` (api/internal/builtins/
//! HelmChartInflationGenerator.go, api/types/helmchartargs.go; `--enable-helm`): each entry
//! inflates a chart with `helm template`, here through the [`HelmRenderer`] the caller gives
//! in [`BuildOptions`](super::BuildOptions) (the CLI implements it with the native Helm
//! engine; kustomize shells out to the `helm` binary).
//!
//! As kustomize v5.7.1:
//! - the chart lives in `chartHome` (default `charts`, relative to the kustomization) as
//!   `chartHome/NAME`, or `chartHome/NAME-VERSION/NAME` when both `version` and `repo` are
//!   set;
//! - a chart missing there without `repo` fails (`no repo specified for pull, no chart found
//!   at ...`); with `repo`, kustomize would `helm pull` it (the latest version without
//!   `version`): we never pull while building, the renderer is asked for its own copy
//!   ([`HelmRenderer::pulled_values`]; the CLI reads its chart cache) and without one the
//!   build fails with [`ErrorKind::ChartNotAvailable`](super::ErrorKind::ChartNotAvailable)
//!   at the entry;
//! - the values given to Helm are `valuesFile` (default: the chart's `values.yaml`, which must
//!   exist) merged with `valuesInline` by `valuesMerge` (`override`, the default: inline
//!   wins; `merge`: the file wins; `replace`: inline only), as kyaml's merge2 merges them
//!   (maps recursively, lists replaced, a null deletes the key), then each of
//!   `additionalValuesFiles` as a further `-f`;
//! - `releaseName`, `namespace`, `nameTemplate`, `includeCRDs`, `skipHooks`, `skipTests`,
//!   `apiVersions`, `kubeVersion`, `skipSchemaValidation` become the `helm template` flags of
//!   the same names;
//! - the objects are added as a generator's are (an id already present is an error).
//!
//! kustomize v5.7.1 refuses Helm 4 (it runs `helm version -c`, which Helm 4 rejects), so the
//! Helm it runs is Helm 3: without `kubeVersion`, Helm v3.18's built-in default
//! [`HELM3_KUBE_VERSION`] is asked for.

use std::path::{Path, PathBuf};

use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{Node, Origin, ScalarStyle, Value};

use super::decode;
use super::error::{KustomizeError, Result};
pub use super::helm_args::{HelmChartArgs, HelmGlobals};
use super::loader::{Loader, Target};

/// `.Capabilities.KubeVersion` of Helm v3.18.0 (the Helm kustomize v5.7.1 can run), asked
/// for when a chart entry has no `kubeVersion`.
pub const HELM3_KUBE_VERSION: &str = "v1.33.0";

/// The `helm template` invocation kustomize would run for one chart entry.
#[derive(Clone, Debug)]
pub struct HelmTemplate<'a> {
    /// The chart directory, repo-relative.
    pub chart_dir: PathBuf,
    /// The release name; empty when Helm picks it (`nameTemplate`, else `--generate-name`).
    pub release_name: &'a str,
    /// `--name-template` (empty: none).
    pub name_template: &'a str,
    /// `--namespace` (empty: Helm's `default`).
    pub namespace: &'a str,
    /// The values document kustomize writes to its temporary values file (the first `-f`).
    pub values: Node,
    /// The further `-f` files (`additionalValuesFiles`), repo-relative.
    pub value_files: Vec<PathBuf>,
    /// `--api-versions`.
    pub api_versions: &'a [String],
    /// `--kube-version`.
    pub kube_version: &'a str,
    /// `--include-crds`.
    pub include_crds: bool,
    /// `--no-hooks`.
    pub skip_hooks: bool,
    /// `--skip-tests`.
    pub skip_tests: bool,
    /// `--skip-schema-validation`.
    pub skip_schema_validation: bool,
    /// The `helmCharts` entry, for errors and origins.
    pub origin: &'a Origin,
    /// Set when the chart is one kustomize would `helm pull` (`chart_dir` is then where
    /// kustomize would put it, and does not exist): the renderer renders its own copy.
    pub remote: Option<RemoteChart<'a>>,
}

/// A chart kustomize would `helm pull` into `chartHome`: `repo` is set and the chart is not
/// there.
#[derive(Clone, Copy, Debug)]
pub struct RemoteChart<'a> {
    /// `repo`: a Helm repository URL (`https://...`) or an OCI registry path (`oci://...`).
    pub repo: &'a str,
    /// The chart name.
    pub name: &'a str,
    /// `version` (a version or semver range as `helm pull --version` takes it; empty: the
    /// latest stable, as `helm pull` without `--version`).
    pub version: &'a str,
}

/// The renderer's copy of a [`RemoteChart`], as far as kustomize reads it: the chart's own
/// `values.yaml` (kustomize's default `valuesFile`).
#[derive(Clone, Debug)]
pub enum PulledValues {
    /// The chart is available: its `values.yaml` as parsed (origins name the renderer's copy,
    /// never a repository path; a null document when the chart has none).
    Found(Node),
    /// The renderer has no copy: why, naming the chart, version, repository and what fetches
    /// it.
    NotAvailable(String),
}

/// Renders a chart as `helm template` does; what kustomize's `--enable-helm` and
/// `--helm-command` provide.
pub trait HelmRenderer: Sync {
    /// The documents `helm template` prints for `req`, in its order, as YAML trees (with
    /// origins where the renderer knows them). `fs` is the repository the chart lies in.
    ///
    /// Errors: Helm's message.
    fn template(&self, fs: &RepoFs, req: &HelmTemplate) -> std::result::Result<Vec<Node>, String>;

    /// The renderer's copy of a chart kustomize would `helm pull`: its `values.yaml`, or why
    /// it has none. The default has none (a renderer without a chart cache).
    ///
    /// Errors: the renderer's copy cannot be read (a corrupt cache).
    fn pulled_values(&self, chart: &RemoteChart) -> std::result::Result<PulledValues, String> {
        Ok(PulledValues::NotAvailable(format!(
            "chart not available: {} version {:?} from {} is not in chartHome and kustomize would `helm pull` it; this build has no chart cache",
            chart.name, chart.version, chart.repo
        )))
    }
}

/// Inflates one `helmCharts` entry of the kustomization in `dir`: the documents Helm
/// printed, in order.
///
/// Errors: `Unsupported` without a renderer (kustomize: `must specify --enable-helm`), for a
/// chart kustomize would pull, a chart in a remote base, or no release name; `Missing` for
/// a missing values file; `Invalid` for a missing chart without `repo`, a bad `valuesMerge`
/// and Helm's errors (at the entry).
pub fn inflate(
    loader: &Loader,
    renderer: Option<&dyn HelmRenderer>,
    dir: &Path,
    globals: &HelmGlobals,
    c: &HelmChartArgs,
) -> Result<Vec<Node>> {
    let Some(renderer) = renderer else {
        return Err(KustomizeError::unsupported(
            "helmCharts (a Helm renderer is needed, as kustomize's --enable-helm)",
            Some(&c.origin),
        ));
    };
    render(loader, renderer, dir, globals, c)
}

fn render(
    loader: &Loader,
    renderer: &dyn HelmRenderer,
    dir: &Path,
    globals: &HelmGlobals,
    c: &HelmChartArgs,
) -> Result<Vec<Node>> {
    let o = &c.origin;
    if c.name.is_empty() {
        return Err(KustomizeError::invalid(
            "chart name cannot be empty",
            Some(o),
        ));
    }
    release_name(c)?;
    let Some(fs) = loader.local_fs(dir) else {
        return Err(KustomizeError::unsupported(
            "helmCharts in a remote base",
            Some(o),
        ));
    };
    let chart_rel = chart_path(globals, c);
    let (chart_dir, remote, pulled) = match loader.resolve(dir, &chart_rel, o) {
        Ok(Target::Dir(d)) => (d, None, None),
        _ if c.repo.is_empty() => {
            return Err(KustomizeError::invalid(
                // kustomize prints the path its failed `stat` returned: always empty.
                format!(
                    "no repo specified for pull, no chart found at '' (no directory {chart_rel})"
                ),
                Some(o),
            ));
        }
        _ => {
            let remote = RemoteChart {
                repo: &c.repo,
                name: &c.name,
                version: &c.version,
            };
            let pulled = pulled(renderer, &remote, o)?;
            (dir.join(&chart_rel), Some(remote), Some(pulled))
        }
    };
    let values = values_doc(loader, dir, c, &chart_rel, pulled)?;
    let mut value_files = Vec::new();
    for f in &c.additional_values_files {
        value_files.push(loader.read_restricted(dir, &f.value, &f.origin)?.0);
    }
    let req = HelmTemplate {
        chart_dir,
        release_name: &c.release_name,
        name_template: &c.name_template,
        namespace: &c.namespace,
        values,
        value_files,
        api_versions: &c.api_versions,
        kube_version: if c.kube_version.is_empty() {
            HELM3_KUBE_VERSION
        } else {
            &c.kube_version
        },
        include_crds: c.include_crds,
        skip_hooks: c.skip_hooks,
        skip_tests: c.skip_tests,
        skip_schema_validation: c.skip_schema_validation,
        origin: o,
        remote,
    };
    renderer.template(fs, &req).map_err(|e| {
        KustomizeError::invalid(
            format!("helmCharts {}: helm template: {e}", c.name),
            Some(o),
        )
    })
}

/// The renderer's copy of `remote`'s `values.yaml`. Errors:
/// `ChartNotAvailable` without a copy; `Invalid` when the copy cannot be read.
fn pulled(renderer: &dyn HelmRenderer, remote: &RemoteChart, o: &Origin) -> Result<Node> {
    match renderer.pulled_values(remote) {
        Ok(PulledValues::Found(doc)) => Ok(doc),
        Ok(PulledValues::NotAvailable(message)) => Err(KustomizeError::new(
            super::ErrorKind::ChartNotAvailable { message },
            Some(o.clone()),
        )),
        Err(e) => Err(KustomizeError::invalid(
            format!("helmCharts {}: {e}", remote.name),
            Some(o),
        )),
    }
}

/// Helm's `NameAndChart` for the arguments kustomize passes: a release name, or a name
/// template, not both. Errors: both (`Invalid`, Helm's message); neither (`Unsupported`:
/// Helm's `--generate-name` names the release after the clock).
fn release_name(c: &HelmChartArgs) -> Result<()> {
    match (c.release_name.is_empty(), c.name_template.is_empty()) {
        (false, false) => Err(KustomizeError::invalid(
            "cannot set --name-template and also specify a name",
            Some(&c.origin),
        )),
        (true, true) => Err(KustomizeError::unsupported(
            "helmCharts without releaseName or nameTemplate (helm --generate-name names the release after the current time)",
            Some(&c.origin),
        )),
        _ => Ok(()),
    }
}

/// `chartHome/NAME`, or `chartHome/NAME-VERSION/NAME` with `version` and `repo` set.
fn chart_path(globals: &HelmGlobals, c: &HelmChartArgs) -> String {
    let home = globals
        .chart_home
        .as_ref()
        .map_or("charts", |h| h.value.as_str());
    if !c.version.is_empty() && !c.repo.is_empty() {
        format!("{home}/{}-{}/{}", c.name, c.version, c.name)
    } else {
        format!("{home}/{}", c.name)
    }
}

/// The values kustomize writes to its temporary values file: `valuesFile` (default the
/// chart's `values.yaml`, from the renderer's copy for a pulled chart) merged with
/// `valuesInline` by `valuesMerge`.
fn values_doc(
    loader: &Loader,
    dir: &Path,
    c: &HelmChartArgs,
    chart_rel: &str,
    pulled: Option<Node>,
) -> Result<Node> {
    let merge = match c.values_merge.as_str() {
        "" | "override" => ValuesMerge::Override,
        "merge" => ValuesMerge::Merge,
        "replace" => ValuesMerge::Replace,
        _ => {
            return Err(KustomizeError::invalid(
                "valuesMerge must be one of [merge override replace]",
                Some(&c.origin),
            ))
        }
    };
    let default_file = format!("{chart_rel}/values.yaml");
    let (rel, at) = match &c.values_file {
        Some(f) if !f.value.is_empty() => (f.value.as_str(), &f.origin),
        _ => (default_file.as_str(), &c.origin),
    };
    let inline = c.values_inline.as_ref();
    if let (Some(inline), ValuesMerge::Replace) = (inline, merge) {
        return Ok(inline.clone());
    }
    let doc = match pulled {
        Some(doc) if c.values_file.as_ref().is_none_or(|f| f.value.is_empty()) => doc,
        _ => {
            let (file, text) = loader.read_restricted(dir, rel, at)?;
            let display = super::loader::display(&file);
            let docs = driftlint_yaml::parse_documents(display.into(), &text)?;
            docs.into_iter()
                .next()
                .unwrap_or_else(|| Node::null(Origin::new(c.origin.file.clone(), 1, 1)))
        }
    };
    let Some(inline) = inline else {
        return Ok(doc);
    };
    // kustomize reads `valuesInline` with sigs.k8s.io/yaml (YAML 1.1): a key `n` is "false".
    let inline = &yaml11_keys(inline.clone());
    // kustomize reads the values file with kyaml (YAML 1.2: `yes`, `on` are strings) before
    // merging and writing it back.
    let mut doc = yaml12_strings(doc);
    match merge {
        ValuesMerge::Override => {
            let mut out = doc;
            merge_into(&mut out, inline);
            drop_nulls(&mut out);
            Ok(out)
        }
        _ => {
            let mut out = inline.clone();
            merge_into(
                &mut out,
                &std::mem::replace(&mut doc, Node::null(c.origin.clone())),
            );
            drop_nulls(&mut out);
            Ok(out)
        }
    }
}

#[derive(Clone, Copy)]
enum ValuesMerge {
    Override,
    Merge,
    Replace,
}

/// kyaml merge2 without a schema: `src` maps merge into `dest` maps recursively, a null in
/// `src` deletes the key, anything else in `src` replaces `dest`'s value (lists included).
fn merge_into(dest: &mut Node, src: &Node) {
    let Some(sm) = src.as_map() else {
        if !decode::is_null(src) {
            *dest = src.clone();
        }
        return;
    };
    let Some(dmap) = dest.as_map_mut() else {
        *dest = src.clone();
        return;
    };
    for (k, v) in sm.iter() {
        let key = k.as_scalar().map(|s| s.text.clone()).unwrap_or_default();
        if decode::is_null(v) {
            dmap.remove(&key);
            continue;
        }
        let entry = dmap
            .entries_mut()
            .iter_mut()
            .find(|(dk, _)| dk.as_scalar().is_some_and(|s| s.text == key));
        match entry {
            Some((_, d)) if d.as_map().is_some() && v.as_map().is_some() => merge_into(d, v),
            Some((dk, d)) => {
                *dk = k.clone();
                *d = v.clone();
            }
            None => dmap.push(k.clone(), v.clone()),
        }
    }
}

/// Removes null-valued map entries, at any depth of maps: kyaml's merge2 leaves none in its
/// result, so a `key:` left empty in the chart's values.yaml is not in the values file
/// kustomize writes when `valuesInline` is merged (Helm then keeps the chart's null default,
/// where a null in a values file would delete the key).
fn drop_nulls(n: &mut Node) {
    if let Some(m) = n.as_map_mut() {
        let nulls: Vec<String> = m
            .iter()
            .filter(|(_, v)| decode::is_null(v))
            .filter_map(|(k, _)| k.as_scalar().map(|s| s.text.clone()))
            .collect();
        for k in nulls {
            m.remove(&k);
        }
        for (_, v) in m.entries_mut().iter_mut() {
            drop_nulls(v);
        }
    }
}

/// Plain map keys YAML 1.1 reads as booleans (`yes`, `n`, ...) become the strings `"true"`
/// and `"false"`, as sigs.k8s.io/yaml's JSON conversion prints them.
fn yaml11_keys(mut n: Node) -> Node {
    match &mut n.value {
        Value::Seq(items) => {
            for i in items.iter_mut() {
                let o = i.origin.clone();
                *i = yaml11_keys(std::mem::replace(i, Node::null(o)));
            }
        }
        Value::Map(m) => {
            for (k, v) in m.entries_mut() {
                if let Value::Scalar(s) = &mut k.value {
                    if s.style == ScalarStyle::Plain && s.tag.is_none() {
                        if let Some(b) = bool_word(&s.text) {
                            s.text = b.to_string();
                            s.style = ScalarStyle::DoubleQuoted;
                        }
                    }
                }
                let o = v.origin.clone();
                *v = yaml11_keys(std::mem::replace(v, Node::null(o)));
            }
        }
        Value::Scalar(_) => {}
    }
    n
}

/// YAML 1.1's boolean words (go-yaml v2), as their value.
fn bool_word(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            Some(false)
        }
        _ => None,
    }
}

/// Plain scalars (keys too) YAML 1.1 reads as booleans but YAML 1.2 as strings (`yes`, `on`,
/// `y`, ...) become double-quoted strings.
fn yaml12_strings(mut n: Node) -> Node {
    match &mut n.value {
        Value::Scalar(s) if s.style == ScalarStyle::Plain && s.tag.is_none() => {
            let yaml12_bool = matches!(
                s.text.as_str(),
                "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
            );
            if bool_word(&s.text).is_some() && !yaml12_bool {
                s.style = ScalarStyle::DoubleQuoted;
            }
        }
        Value::Seq(items) => {
            for i in items.iter_mut() {
                let o = i.origin.clone();
                *i = yaml12_strings(std::mem::replace(i, Node::null(o)));
            }
        }
        Value::Map(m) => {
            for (k, v) in m.entries_mut() {
                for n in [k, v] {
                    let o = n.origin.clone();
                    *n = yaml12_strings(std::mem::replace(n, Node::null(o)));
                }
            }
        }
        _ => {}
    }
    n
}
