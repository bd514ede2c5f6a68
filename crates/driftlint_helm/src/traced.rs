//! Rendering a chart into objects whose every node knows its source line, for
//! `driftlint check`.
//!
//! The engine records (see [`gotmpl::trace`]) which output bytes came
//! from values and which template node printed the rest. After rendering, each template
//! file's output is cut into manifests exactly as Helm's `SplitManifests`, parsed with our
//! YAML parser, and every node gets:
//!
//! - for a scalar overlapping bytes printed from a value: the origin of that value's line in
//!   the values file that supplied it (user `-f` files, then the parent charts' `values.yaml`,
//!   then the chart's own). A scalar mixing several sources (`{{ .Values.image.repository }}:
//!   {{ .Values.image.tag }}`) takes the value printed last into it (the tag). The origin's
//!   `via` names the template line that printed it;
//! - otherwise the template line that produced it: literal template text maps byte for byte
//!   (so the line and column are exact), output of an action (`{{ include ... }}`,
//!   `{{ .Chart.Name }}`) maps to the line of the `{{`. Text produced inside `define`d
//!   templates called with `{{ template }}` maps into the file holding the `define`; output
//!   of `include`/`tpl` maps to the calling action.
//!
//! Values set with `--set` have no file and fall back to the template line.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use super::tracer::Tracer;
use super::{HelmError, TemplateOptions};
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{self as yaml, Node, Origin};
use gotmpl::trace::{self, Recorded};

/// One manifest of a traced render.
#[derive(Clone, Debug)]
pub struct TracedManifest {
    /// Helm's `# Source:` path (`app/templates/deployment.yaml`).
    pub source: String,
    /// The repo-relative template file it came from.
    pub file: String,
    /// The parsed document, origins remapped as the module docs say.
    pub document: Node,
}

/// Renders like [`super::template`] and returns every manifest (hooks and test hooks
/// included; the `crds/` files first with `opts.include_crds`) as a YAML tree with origins. Errors: as [`super::template`]; a manifest our
/// YAML parser rejects is a [`HelmError::Template`] at the template line that produced it.
pub fn render_objects(
    fs: &RepoFs,
    chart_dir: &Path,
    opts: &TemplateOptions,
) -> Result<Vec<TracedManifest>, HelmError> {
    render_chart_objects(fs, super::locate_and_load(fs, chart_dir)?, opts)
}

/// [`render_objects`] for a chart already loaded (a packaged chart from the chart cache):
/// template origins point into `chart.dir` (the archive's display name).
///
/// Errors: as [`render_objects`].
pub fn render_chart_objects(
    fs: &RepoFs,
    chart: super::Chart,
    opts: &TemplateOptions,
) -> Result<Vec<TracedManifest>, HelmError> {
    let (user, mut tracer) = traced_setup(fs, &chart, opts)?;
    let crds = crd_list(&chart, opts)?;
    let files = gotmpl::with_exec_stack(|| {
        trace::start();
        let r = super::render::run_traced(chart, user, opts, &mut tracer);
        trace::finish();
        r
    })
    .map_err(HelmError::Load)??;
    manifests_of(crds, &files, &tracer)
}

/// [`render_chart_objects`] and [`super::template_chart`]'s stdout from ONE rendering (the
/// templates run once, traced): `helm template`'s text, authoritative for content and order,
/// and the traced manifests, or why tracing could not map them (a manifest our YAML parser
/// rejects: the text is still Helm's).
///
/// Errors: as [`super::template_chart`].
pub fn render_chart_text_and_objects(
    fs: &RepoFs,
    chart: super::Chart,
    opts: &TemplateOptions,
) -> Result<(String, Result<Vec<TracedManifest>, HelmError>), HelmError> {
    let (user, mut tracer) = traced_setup(fs, &chart, opts)?;
    let crds = crd_list(&chart, opts);
    let (printed, files) = gotmpl::with_exec_stack(|| {
        trace::start();
        let r = super::render::run_printed_and_traced(chart, user, opts, &mut tracer);
        trace::finish();
        r
    })
    .map_err(HelmError::Load)??;
    let traced = crds.and_then(|crds| manifests_of(crds, &files, &tracer));
    Ok((printed, traced))
}

/// What a traced rendering starts from, checked in Helm's order: the user values, an
/// installable chart (`application`, not `library`), the tracer holding the values documents
/// (for value origins), the chart's dependencies present.
fn traced_setup(
    fs: &RepoFs,
    chart: &super::Chart,
    opts: &TemplateOptions,
) -> Result<(serde_json::Map<String, serde_json::Value>, Tracer), HelmError> {
    let user = super::render::user_values(fs, opts)?;
    if !(chart.chart_type.is_empty() || chart.chart_type == "application") {
        return Err(HelmError::Load(format!(
            "{} charts are not installable",
            chart.chart_type
        )));
    }
    let tracer = Tracer {
        user_docs: user_docs(fs, opts)?,
        ..Tracer::default()
    };
    super::render::check_dependencies(chart)?;
    Ok((user, tracer))
}

/// The `crds/` manifests printed first with `opts.include_crds`. Errors: as [`crd_manifests`].
fn crd_list(
    chart: &super::Chart,
    opts: &TemplateOptions,
) -> Result<Vec<TracedManifest>, HelmError> {
    let mut out = Vec::new();
    if opts.include_crds {
        crd_manifests(chart, &chart.name, &mut out)?;
    }
    Ok(out)
}

/// The traced manifests of the rendered `files` (in file-name order, partials and empty
/// files skipped, each cut as Helm's `SplitManifests`), after `out` (the CRDs).
fn manifests_of(
    mut out: Vec<TracedManifest>,
    files: &[(String, String)],
    tracer: &Tracer,
) -> Result<Vec<TracedManifest>, HelmError> {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|a, b| files[*a].0.cmp(&files[*b].0));
    for i in order {
        let (name, text) = &files[i];
        let base = name.rsplit('/').next().unwrap_or(name);
        if base.starts_with('_') || text.trim().is_empty() {
            continue;
        }
        let rec = tracer.recorded.get(i).cloned().unwrap_or_default();
        let file = tracer
            .files
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.clone());
        for span in super::output::manifest_spans(text) {
            let doc = traced_doc(name, &file, text, span, &rec, &tracer.files)?;
            out.extend(doc);
        }
    }
    Ok(out)
}

/// The `crds/` files of the chart and its subcharts (as `--include-crds` prints them), parsed
/// with their own file's lines. Errors: YAML errors in a CRD file.
fn crd_manifests(
    chart: &super::Chart,
    source: &str,
    out: &mut Vec<TracedManifest>,
) -> Result<(), HelmError> {
    for (path, text) in chart.crds() {
        let file = format!("{}/{path}", chart.dir);
        let docs = yaml::parse_documents(Arc::from(file.as_str()), &text)
            .map_err(|e| HelmError::Load(e.to_string()))?;
        out.extend(docs.into_iter().map(|document| TracedManifest {
            source: format!("{source}/{path}"),
            file: file.clone(),
            document,
        }));
    }
    for sub in &chart.subcharts {
        crd_manifests(sub, &format!("{source}/charts/{}", sub.name), out)?;
    }
    Ok(())
}

fn user_docs(fs: &RepoFs, opts: &TemplateOptions) -> Result<Vec<Arc<Node>>, HelmError> {
    let mut docs = Vec::new();
    for f in opts.value_files.iter().rev() {
        let path = fs.resolve(Path::new(""), &f.to_string_lossy())?;
        let text = fs.read_text(&path)?;
        let file = fs.display(&path);
        let (_, doc) = super::values::parse_values_doc(&file, &text).map_err(HelmError::Load)?;
        docs.extend(doc.map(Arc::new));
    }
    docs.extend(opts.values_docs.iter().rev().cloned().map(Arc::new));
    Ok(docs)
}

fn traced_doc(
    name: &str,
    file: &str,
    text: &str,
    span: Range<usize>,
    rec: &Recorded,
    files: &HashMap<String, String>,
) -> Result<Vec<TracedManifest>, HelmError> {
    let content = text.get(span.clone()).unwrap_or("");
    let mut mapper = Mapper {
        content,
        base: span.start,
        lines: line_starts(content),
        rec,
        files,
        file,
        src_lines: HashMap::new(),
        scalar_starts: Vec::new(),
    };
    // Helm prints every manifest followed by a line break, so a block scalar ending the
    // manifest keeps its final break (the trimmed span alone would end the file without one).
    let printed = format!("{content}\n");
    let docs = yaml::parse_documents(Arc::from(file), &printed).map_err(|e| {
        let origin = mapper
            .offset(&Origin::new(Arc::from(file), e.line, e.column))
            .and_then(|o| mapper.template_origin(o));
        HelmError::Template {
            message: format!(
                "YAML parse error on {name}: line {} of its output: {}",
                e.line, e.message
            ),
            origin,
        }
    })?;
    let mut out = Vec::new();
    for mut doc in docs {
        mapper.scalar_starts.clear();
        collect_scalar_starts(&doc, &mut mapper);
        mapper.scalar_starts.sort_unstable();
        mapper.remap(&mut doc);
        out.push(TracedManifest {
            source: name.to_string(),
            file: file.to_string(),
            document: doc,
        });
    }
    Ok(out)
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

fn collect_scalar_starts(node: &Node, m: &mut Mapper) {
    match &node.value {
        yaml::Value::Scalar(_) => {
            if let Some(o) = m.offset(&node.origin) {
                m.scalar_starts.push(o);
            }
        }
        yaml::Value::Seq(items) => items.iter().for_each(|n| collect_scalar_starts(n, m)),
        yaml::Value::Map(map) => {
            for (k, v) in map.iter() {
                collect_scalar_starts(k, m);
                collect_scalar_starts(v, m);
            }
        }
    }
}

struct Mapper<'a> {
    content: &'a str,
    base: usize,
    lines: Vec<usize>,
    rec: &'a Recorded,
    files: &'a HashMap<String, String>,
    file: &'a str,
    src_lines: HashMap<usize, Vec<usize>>,
    scalar_starts: Vec<usize>,
}

impl Mapper<'_> {
    /// Byte offset in the file output of a node parsed from the manifest text.
    fn offset(&self, o: &Origin) -> Option<usize> {
        let start = *self.lines.get((o.line as usize).checked_sub(1)?)?;
        let line = self.content.get(start..)?;
        let col: usize = line
            .chars()
            .take((o.column as usize).saturating_sub(1))
            .map(char::len_utf8)
            .sum();
        Some(self.base + start + col)
    }

    fn remap(&mut self, node: &mut Node) {
        let scalar = matches!(node.value, yaml::Value::Scalar(_));
        node.origin = self.origin_of(&node.origin, scalar);
        match &mut node.value {
            yaml::Value::Scalar(_) => {}
            yaml::Value::Seq(items) => items.iter_mut().for_each(|n| self.remap(n)),
            yaml::Value::Map(m) => {
                for (k, v) in m.entries_mut().iter_mut() {
                    self.remap(k);
                    self.remap(v);
                }
            }
        }
    }

    fn origin_of(&mut self, parsed: &Origin, scalar: bool) -> Origin {
        let fallback = Origin::new(Arc::from(self.file), 1, 1);
        let Some(at) = self.offset(parsed) else {
            return fallback;
        };
        let template = self.template_origin(at).unwrap_or(fallback);
        if !scalar {
            return template;
        }
        let end = self.scalar_end(at);
        let hit = self
            .rec
            .ranges
            .iter()
            .filter(|r| r.start < end && r.end > at)
            .max_by_key(|r| r.start);
        match hit {
            Some(r) => r
                .origin
                .clone()
                .with_via(format!("helm template {}:{}", template.file, template.line)),
            None => template,
        }
    }

    /// End of the scalar starting at `at`: the end of its line or the next scalar's start.
    fn scalar_end(&self, at: usize) -> usize {
        let rel = at - self.base;
        let eol = self
            .content
            .get(rel..)
            .and_then(|r| r.find('\n'))
            .map_or(self.base + self.content.len(), |i| at + i);
        let next = self
            .scalar_starts
            .iter()
            .find(|s| **s > at)
            .copied()
            .unwrap_or(usize::MAX);
        eol.min(next).max(at + 1)
    }

    fn template_origin(&mut self, at: usize) -> Option<Origin> {
        let segs = &self.rec.segs;
        let i = segs.partition_point(|s| s.start <= at).checked_sub(1)?;
        let seg = segs.get(i)?;
        if at >= seg.end {
            return None;
        }
        let src = if seg.literal {
            seg.pos + (at - seg.start)
        } else {
            seg.pos
        };
        let key = Arc::as_ptr(&seg.text) as *const () as usize;
        let lines = self
            .src_lines
            .entry(key)
            .or_insert_with(|| line_starts(&seg.text));
        let li = lines.partition_point(|s| *s <= src).saturating_sub(1);
        let line_start = lines.get(li).copied().unwrap_or(0);
        let col = seg
            .text
            .get(line_start..src)
            .map_or(0, |s| s.chars().count());
        let file = self
            .files
            .get(seg.file.as_ref())
            .map_or_else(|| seg.file.to_string(), String::clone);
        Some(Origin::new(Arc::from(file), li as u32 + 1, col as u32 + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(doc: &Node, path: &[&str]) -> String {
        let mut n = doc;
        for p in path {
            n = match p.parse::<usize>() {
                Ok(i) => &n.as_seq().expect("seq")[i],
                Err(_) => n.get(p).expect("key"),
            };
        }
        format!("{}:{}:{}", n.origin.file, n.origin.line, n.origin.column)
    }

    #[test]
    fn scalars_point_at_values_lines_and_the_rest_at_template_lines() {
        let root =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/helm-check/good");
        let fs = RepoFs::new(&root).unwrap();
        let opts = TemplateOptions {
            release_name: "app".into(),
            ..TemplateOptions::default()
        };
        let out = render_objects(&fs, Path::new("charts/app"), &opts).unwrap();
        let kind = |k: &str| {
            out.iter()
                .map(|m| &m.document)
                .find(|d| d.str_at(&["kind"]) == Some(k))
                .expect("rendered")
        };
        // The subchart's image tag comes from the parent's values (`worker.image.tag`).
        let job = kind("Job");
        assert_eq!(
            at(
                job,
                &["spec", "template", "spec", "containers", "0", "image"]
            ),
            "charts/app/values.yaml:16:10"
        );
        let d = kind("Deployment");
        let v = "charts/app/values.yaml";
        let t = "charts/app/templates/deployment.yaml";
        let c = ["spec", "template", "spec", "containers", "0"];
        let cat = |rest: &[&str]| at(d, &[&c[..], rest].concat());
        assert_eq!(cat(&["image"]), format!("{v}:4:8"));
        assert_eq!(cat(&["env", "1", "value"]), format!("{v}:7:13"));
        assert_eq!(cat(&["env", "1", "name"]), format!("{t}:27:21"));
        assert_eq!(
            cat(&["resources", "limits", "memory"]),
            format!("{v}:13:13")
        );
        assert_eq!(
            cat(&["securityContext", "privileged"]),
            format!("{t}:32:28")
        );
        assert_eq!(at(d, &["spec", "replicas"]), format!("{v}:1:15"));
        assert_eq!(at(d, &["kind"]), format!("{t}:2:7"));
        assert_eq!(at(d, &["metadata", "name"]), format!("{t}:4:12"));
        assert_eq!(
            at(d, &["metadata", "labels", "app.kubernetes.io/name"]),
            format!("{t}:6:9")
        );
        let image = d
            .get_path(&["spec", "template", "spec", "containers"])
            .unwrap();
        let via = image.as_seq().unwrap()[0]
            .get("image")
            .unwrap()
            .origin
            .via
            .clone();
        assert_eq!(
            via.as_deref(),
            Some("helm template charts/app/templates/deployment.yaml:23")
        );
    }

    #[test]
    fn defines_ranges_defaults_and_transformed_values() {
        let d = tempfile::tempdir().unwrap();
        let w = |rel: &str, text: &str| {
            let p = d.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        w("c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n");
        w(
            "c/values.yaml",
            "name: web\nimage: nginx\nargs:\n  - a\n  - b\nn: 1\nenabled: true\n",
        );
        w(
            "c/templates/_helpers.tpl",
            "{{- define \"c.ports\" }}\n        - containerPort: 80\n{{- end }}\n{{- define \"c.on\" }}{{ if .Values.enabled }}true-ish{{ end }}{{- end }}\n",
        );
        w(
            "c/templates/pod.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name | default \"x\" }}\n  labels:\n    gone: \"{{ .Values.nothing }}\"\n    flag: {{ .Values.false | quote }}\n    on: \"{{ include \"c.on\" . }}\"\n    enabled: {{ .Values.enabled }}\nspec:\n  containers:\n    - image: {{ .Values.image | upper }}\n      args:\n      {{- range .Values.args }}\n        - {{ . }}\n      {{- end }}\n      ports:\n      {{- template \"c.ports\" . }}\n",
        );
        let fs = RepoFs::new(d.path()).unwrap();
        let out = render_objects(&fs, Path::new("c"), &TemplateOptions::default()).unwrap();
        let doc = &out[0].document;
        let (v, t) = ("c/values.yaml", "c/templates/pod.yaml");
        assert_eq!(at(doc, &["metadata", "name"]), format!("{v}:1:7"));
        // `<no value>` removed: the rest of the line keeps its template columns.
        assert_eq!(
            at(doc, &["metadata", "labels", "gone"]),
            format!("{t}:6:11")
        );
        // The key `n:` is the boolean false for Helm: `.Values.false` is its value.
        assert_eq!(at(doc, &["metadata", "labels", "flag"]), format!("{v}:6:4"));
        // A flag tested inside an `include` is not what the include printed.
        assert_eq!(at(doc, &["metadata", "labels", "on"]), format!("{t}:8:9"));
        assert_eq!(
            at(doc, &["metadata", "labels", "enabled"]),
            format!("{v}:7:10")
        );
        let c = ["spec", "containers", "0"];
        let cat = |rest: &[&str]| at(doc, &[&c[..], rest].concat());
        // `upper` prints text that is not the value's: the template line.
        assert_eq!(cat(&["image"]), format!("{t}:12:17"));
        assert_eq!(cat(&["args", "1"]), format!("{v}:5:5"));
        assert_eq!(
            cat(&["ports", "0", "containerPort"]),
            "c/templates/_helpers.tpl:2:26"
        );
    }
}
