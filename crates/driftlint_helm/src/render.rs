//! The install action of `helm template`: user values (`-f`, `--set*`), dependency checks and
//! processing (`condition`, `tags`, `alias`), `kubeVersion`, Helm's values coalescing and
//! schema validation, and rendering every chart's templates with Helm's engine rules
//! (deepest path first, partials parsed but not rendered, `<no value>` removed,
//! `missingkey=zero`), as pkg/action/install.go and pkg/engine/engine.go.

use std::path::Path;
use std::sync::Arc;

use once_cell::sync::Lazy;
use regex::Regex;
use serde_json::{Map, Value as Json};

use super::load::Chart;
use super::objects::{ApiVersions, Capabilities, Files, KubeVersion, DEFAULT_KUBE_VERSION};
use super::output::{sort_manifests, Manifest};
use super::tracer::{register_values, strip_no_value, Tracer};
use super::values::{
    coalesce, floats, helm_json, merge_maps, parse_set, parse_values, push_globals, set_string_at,
    to_value, SetKind,
};
use super::{HelmError, TemplateOptions};
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::Origin;
use gotmpl::{
    funcs, trace, Budget, ExecError, Extensions, FuncMap, Function, MissingKey, Param, ParseError,
    Templates, Value,
};
use std::collections::HashMap;

/// Merges the in-memory values documents, then `-f` files, then `--set-json`, `--set`, `--set-string` and `--set-file`, as
/// Helm's `values.Options.MergeValues`. Errors: unreadable files, YAML and strvals errors.
pub fn user_values(fs: &RepoFs, opts: &TemplateOptions) -> Result<Map<String, Json>, HelmError> {
    let mut base = Map::new();
    for doc in &opts.values_docs {
        match floats(helm_json(doc)) {
            Json::Object(m) => merge_maps(&mut base, m),
            Json::Null => {}
            _ => {
                return Err(HelmError::Load(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal into Go value of type map[string]interface {{}} ({})",
                    doc.origin.file
                )))
            }
        }
    }
    for f in &opts.value_files {
        let path = fs
            .resolve(Path::new(""), &f.to_string_lossy())
            .map_err(|e| match e {
                driftlint_yaml::fs::FsError::NotFound { path }
                | driftlint_yaml::fs::FsError::Io { path, .. } => {
                    HelmError::Load(format!("open {path}: no such file or directory"))
                }
                e => e.into(),
            })?;
        let text = fs.read_text(&path)?;
        let file = f.to_string_lossy();
        let m = parse_values(&file, &text)
            .map_err(|e| HelmError::Load(format!("failed to parse {file}: {e}")))?;
        merge_maps(&mut base, m);
    }
    for kind in [SetKind::Json, SetKind::Typed, SetKind::String] {
        for (k, arg) in opts.sets.iter().filter(|(k, _)| *k == kind) {
            let mut m = Map::new();
            let flag = match k {
                SetKind::Json => "--set-json",
                SetKind::Typed => "--set",
                SetKind::String => "--set-string",
            };
            parse_set(arg, *k, &mut m).map_err(|e| {
                HelmError::Load(match k {
                    SetKind::Json => format!("failed parsing {flag} data {arg}"),
                    _ => format!("failed parsing {flag} data: {e}"),
                })
            })?;
            if *k == SetKind::Json {
                m = match floats(Json::Object(m)) {
                    Json::Object(m) => m,
                    _ => Map::new(),
                };
            }
            merge_maps(&mut base, m);
        }
    }
    for arg in &opts.set_files {
        let Some((key, file)) = arg.split_once('=') else {
            return Err(HelmError::Load(format!(
                "failed parsing --set-file data: key {arg:?} has no value"
            )));
        };
        let path = fs.resolve(Path::new(""), file)?;
        let text = fs.read_text(&path)?;
        let mut m = Map::new();
        set_string_at(key, &text, &mut m)
            .map_err(|e| HelmError::Load(format!("failed parsing --set-file data: {e}")))?;
        merge_maps(&mut base, m);
    }
    for arg in &opts.set_literals {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(HelmError::Load(format!(
                "failed parsing --set-literal data: key {arg:?} has no value"
            )));
        };
        let mut m = Map::new();
        set_string_at(key, value, &mut m)
            .map_err(|e| HelmError::Load(format!("failed parsing --set-literal data: {e}")))?;
        merge_maps(&mut base, m);
    }
    Ok(base)
}

/// Helm's `action.CheckDependencies`: every `dependencies:` entry of the chart must have a
/// subchart of that name in `charts/`.
pub fn check_dependencies(chart: &Chart) -> Result<(), HelmError> {
    let missing: Vec<&str> = chart
        .dependencies
        .iter()
        .filter(|d| !chart.subcharts.iter().any(|s| s.name == d.name))
        .map(|d| d.name.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(HelmError::MissingDependencies(missing.join(", ")))
    }
}

/// Coalesces user values with the chart tree's defaults, as Helm's `CoalesceValues`.
fn coalesce_chart(chart: &Chart, vals: &mut Map<String, Json>) {
    coalesce(vals, &chart.values);
    for sub in &chart.subcharts {
        let mut sv = match vals.remove(&sub.name) {
            Some(Json::Object(m)) => m,
            _ => Map::new(),
        };
        push_globals(vals, &mut sv);
        coalesce_chart(sub, &mut sv);
        vals.insert(sub.name.clone(), Json::Object(sv));
    }
}

fn lookup<'a>(vals: &'a Map<String, Json>, path: &str) -> Option<&'a Json> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let mut cur = vals.get(first)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}

/// Helm's `ProcessDependencies`: aliases applied, subcharts disabled by `condition`/`tags`
/// removed, recursively; `cvals` are the coalesced top-level values, `prefix` the value path
/// of `chart`.
fn process_dependencies(chart: &mut Chart, cvals: &Map<String, Json>, prefix: &str) {
    let mut subs: Vec<Chart> = Vec::new();
    let mut used = vec![false; chart.subcharts.len()];
    for dep in &chart.dependencies {
        let Some(pos) = chart.subcharts.iter().position(|s| s.name == dep.name) else {
            continue;
        };
        if let Some(u) = used.get_mut(pos) {
            *u = true;
        }
        let Some(orig) = chart.subcharts.get(pos) else {
            continue;
        };
        let mut sub = orig.clone();
        if let Some(alias) = &dep.alias {
            sub.name = alias.clone();
        }
        if enabled(dep, cvals, prefix) {
            subs.push(sub);
        }
    }
    for (i, s) in chart.subcharts.iter().enumerate() {
        if !used.get(i).copied().unwrap_or(true) {
            subs.push(s.clone());
        }
    }
    for sub in &mut subs {
        let p = format!("{prefix}{}.", sub.name);
        process_dependencies(sub, cvals, &p);
    }
    chart.subcharts = subs;
}

fn enabled(dep: &super::load::Dependency, cvals: &Map<String, Json>, prefix: &str) -> bool {
    let mut on = true;
    if !dep.tags.is_empty() {
        let tags = cvals.get("tags").and_then(Json::as_object);
        let vals: Vec<bool> = dep
            .tags
            .iter()
            .filter_map(|t| tags.and_then(|m| m.get(t)).and_then(Json::as_bool))
            .collect();
        if !vals.is_empty() {
            on = vals.iter().any(|b| *b);
        }
    }
    if let Some(cond) = &dep.condition {
        for c in cond.split(',') {
            let path = format!("{prefix}{}", c.trim());
            if let Some(Json::Bool(b)) = lookup(cvals, &path) {
                return *b;
            }
        }
    }
    on
}

/// Helm's `processDependencyImportValues`: bottom-up, each chart's `import-values` copy
/// tables from its subcharts' default values (`exports.X` for the string form, `child` to
/// `parent` paths for the map form) into its own defaults, its own values winning.
fn import_values(chart: &mut Chart) {
    for sub in &mut chart.subcharts {
        import_values(sub);
    }
    let wanted: Vec<(String, Json)> = chart
        .dependencies
        .iter()
        .filter_map(|d| {
            let name = d.alias.clone().unwrap_or_else(|| d.name.clone());
            d.raw.get("import-values").map(|iv| (name, iv.clone()))
        })
        .collect();
    if wanted.is_empty() {
        return;
    }
    let mut cvals = Map::new();
    coalesce_chart(chart, &mut cvals);
    let mut imported = Map::new();
    for (name, ivs) in wanted {
        for iv in ivs.as_array().into_iter().flatten() {
            let (child, parent) = match iv {
                Json::String(s) => (format!("exports.{s}"), String::new()),
                Json::Object(m) => (
                    m.get("child")
                        .and_then(Json::as_str)
                        .unwrap_or("")
                        .to_string(),
                    m.get("parent")
                        .and_then(Json::as_str)
                        .unwrap_or("")
                        .to_string(),
                ),
                _ => continue,
            };
            let Some(Json::Object(table)) = lookup(&cvals, &format!("{name}.{child}")) else {
                continue;
            };
            let mut layer = table.clone();
            for key in parent.split('.').rev().filter(|k| !k.is_empty()) {
                let mut m = Map::new();
                m.insert(key.to_string(), Json::Object(layer));
                layer = m;
            }
            let mut merged = imported.clone();
            coalesce(&mut merged, &layer);
            imported = merged;
        }
    }
    coalesce(&mut chart.values, &imported);
}

/// Runs the install action on a loaded chart; returns `helm template`'s stdout.
pub fn run(
    chart: Chart,
    user: Map<String, Json>,
    opts: &TemplateOptions,
) -> Result<String, HelmError> {
    let (chart, vals, caps) = prepare(chart, user, opts)?;
    let files = render_all(&chart, &vals, caps, opts, None)?;
    print_all(&chart, &files, opts)
}

/// [`run`] with provenance tracing on: the rendered files (parse name, text) before Helm's
/// sorting, `tracer.recorded` holding what the engine recorded for each.
pub(crate) fn run_traced(
    chart: Chart,
    user: Map<String, Json>,
    opts: &TemplateOptions,
    tracer: &mut Tracer,
) -> Result<Vec<(String, String)>, HelmError> {
    let (chart, vals, caps) = prepare(chart, user, opts)?;
    render_all(&chart, &vals, caps, opts, Some(tracer))
}

/// [`run`] and [`run_traced`] in one rendering: `helm template`'s stdout, and the rendered
/// files (parse name, text) before Helm's sorting with `tracer.recorded` holding what the
/// engine recorded for each. Tracing does not change what the templates print, so the
/// stdout is [`run`]'s.
pub(crate) fn run_printed_and_traced(
    chart: Chart,
    user: Map<String, Json>,
    opts: &TemplateOptions,
    tracer: &mut Tracer,
) -> Result<(String, Vec<(String, String)>), HelmError> {
    let (chart, vals, caps) = prepare(chart, user, opts)?;
    let files = render_all(&chart, &vals, caps, opts, Some(tracer))?;
    let printed = print_all(&chart, &files, opts)?;
    Ok((printed, files))
}

/// Dependencies, `kubeVersion`, values coalescing and schema validation: the chart to render,
/// its final values and `.Capabilities`.
fn prepare(
    mut chart: Chart,
    user: Map<String, Json>,
    opts: &TemplateOptions,
) -> Result<(Chart, Map<String, Json>, Value), HelmError> {
    let mut cvals = user.clone();
    coalesce_chart(&chart, &mut cvals);
    process_dependencies(&mut chart, &cvals, "");
    import_values(&mut chart);
    let kube = KubeVersion::parse(opts.kube_version.as_deref().unwrap_or(DEFAULT_KUBE_VERSION))
        .map_err(HelmError::Load)?;
    if let Some(c) = &chart.kube_version {
        check_kube_version(c, &kube)?;
    }
    let mut vals = user;
    coalesce_chart(&chart, &mut vals);
    if !opts.skip_schema_validation {
        super::schema::validate(&chart, &vals)?;
    }
    let caps = Value::Object(Arc::new(Capabilities {
        kube,
        apis: ApiVersions::with_extra(&opts.api_versions),
    }));
    Ok((chart, vals, caps))
}

/// Helm's sorting and `helm template` output of rendered files.
fn print_all(
    chart: &Chart,
    files: &[(String, String)],
    opts: &TemplateOptions,
) -> Result<String, HelmError> {
    let (manifests, hooks) = sort_manifests(files)?;
    let mut body = String::new();
    if opts.include_crds {
        crds(chart, &chart.name, &mut body);
    }
    let print = |ms: &[Manifest], out: &mut String| {
        for m in ms {
            out.push_str(&format!("---\n# Source: {}\n{}\n", m.source, m.content));
        }
    };
    let hooks: Vec<Manifest> = if opts.no_hooks {
        Vec::new()
    } else {
        hooks
            .into_iter()
            .filter(|h| !(opts.skip_tests && h.is_test()))
            .collect()
    };
    if !opts.show_only.is_empty() {
        let mut all = manifests;
        all.extend(hooks);
        let mut out = String::new();
        print(&show_only(all, &chart.name, &opts.show_only)?, &mut out);
        return Ok(out);
    }
    print(&manifests, &mut body);
    // Helm's template command: the release manifest trimmed, a newline, then the hooks.
    let mut out = format!("{}\n", body.trim());
    print(&hooks, &mut out);
    Ok(out)
}

fn check_kube_version(constraint: &str, kube: &KubeVersion) -> Result<(), HelmError> {
    let v = super::semver::Version::parse(&kube.version)
        .ok_or_else(|| HelmError::Load(format!("invalid kube version {}", kube.version)))?;
    let ok = super::semver::satisfies(constraint, &v).map_err(HelmError::Render)?;
    if ok {
        Ok(())
    } else {
        Err(HelmError::Render(format!(
            "chart requires kubeVersion: {constraint} which is incompatible with Kubernetes {}",
            kube.version
        )))
    }
}

fn crds(chart: &Chart, path: &str, out: &mut String) {
    for (p, text) in chart.crds() {
        out.push_str(&format!("---\n# Source: {path}/{p}\n{text}\n"));
    }
    for sub in &chart.subcharts {
        crds(sub, &format!("{path}/charts/{}", sub.name), out);
    }
}

/// `--show-only`: for each requested path in flag order, the manifests rendered from it
/// (`templates/x.yaml` relative to the root chart, or a glob). Errors: Helm's
/// `could not find template X in chart`.
fn show_only(
    all: Vec<Manifest>,
    root: &str,
    wanted: &[String],
) -> Result<Vec<Manifest>, HelmError> {
    let mut out = Vec::new();
    for w in wanted {
        let w = w.trim_start_matches("./");
        let full = format!("{root}/{w}");
        let glob = globset::Glob::new(&full).ok().map(|g| g.compile_matcher());
        let before = out.len();
        for m in &all {
            if m.source == full || glob.as_ref().is_some_and(|g| g.is_match(&m.source)) {
                out.push(m.clone());
            }
        }
        if out.len() == before {
            return Err(HelmError::Load(format!(
                "could not find template {w} in chart"
            )));
        }
    }
    Ok(out)
}

/// A template to execute: its full name and the data (`.Values`, `.Chart`, ...) of its chart.
struct Renderable {
    name: String,
    /// The template's file, repo-relative (through the archive for packaged charts).
    file: String,
    base_path: String,
    text: String,
    objects: Value,
}

fn chart_map(chart: &Chart, is_root: bool) -> Value {
    let m = &chart.meta;
    let s = |k: &str| match m.get(k) {
        Some(Json::String(s)) => Value::str(s),
        Some(Json::Number(n)) => Value::str(&super::objects::go_float(n.as_f64().unwrap_or(0.0))),
        _ => Value::str(""),
    };
    let list = |k: &str| match m.get(k) {
        Some(v @ Json::Array(_)) => to_value(v),
        _ => Value::list(Vec::new()),
    };
    let mut name = s("name");
    if !is_root || name.as_str() != Some(chart.name.as_str()) {
        name = Value::str(&chart.name);
    }
    Value::map([
        ("APIVersion", Value::str(&chart.api_version)),
        (
            "Annotations",
            m.get("annotations")
                .map_or_else(|| Value::map(Vec::<(String, Value)>::new()), to_value),
        ),
        ("AppVersion", s("appVersion")),
        ("Condition", s("condition")),
        ("Dependencies", list("dependencies")),
        (
            "Deprecated",
            Value::Bool(m.get("deprecated").and_then(Json::as_bool).unwrap_or(false)),
        ),
        ("Description", s("description")),
        ("Home", s("home")),
        ("Icon", s("icon")),
        ("IsRoot", Value::Bool(is_root)),
        ("Keywords", list("keywords")),
        ("KubeVersion", s("kubeVersion")),
        ("Maintainers", list("maintainers")),
        ("Name", name),
        ("Sources", list("sources")),
        ("Tags", s("tags")),
        ("Type", s("type")),
        ("Version", s("version")),
    ])
}

/// Builds the per-chart top-level data (`.Values .Release .Chart .Capabilities .Files
/// .Subcharts`) and collects renderables, as Helm's `recAllTpls`.
#[allow(clippy::too_many_arguments)]
fn collect(
    chart: &Chart,
    path: &str,
    vals: &Map<String, Json>,
    release: &Value,
    caps: &Value,
    is_root: bool,
    out: &mut Vec<Renderable>,
    tracer: &mut Option<&mut Tracer>,
    chain: &mut Vec<(Option<Arc<driftlint_yaml::Node>>, Vec<String>)>,
) -> Value {
    let mut subcharts = Vec::new();
    for sub in &chart.subcharts {
        let sv = match vals.get(&sub.name) {
            Some(Json::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        let p = format!("{path}/charts/{}", sub.name);
        let mut at = chain.last().map(|(_, p)| p.clone()).unwrap_or_default();
        at.push(sub.name.clone());
        chain.push((sub.values_doc.clone(), at));
        let v = collect(sub, &p, &sv, release, caps, false, out, tracer, chain);
        chain.pop();
        subcharts.push((sub.name.clone(), v));
    }
    let values = to_value(&Json::Object(vals.clone()));
    if let Some(t) = tracer.as_deref_mut() {
        register_values(t, chain, vals, &values);
        for (rel, _) in &chart.templates {
            t.files
                .insert(format!("{path}/{rel}"), format!("{}/{rel}", chart.dir));
        }
    }
    let objects = Value::map([
        ("Values", values),
        ("Release", release.clone()),
        ("Chart", chart_map(chart, is_root)),
        ("Capabilities", caps.clone()),
        (
            "Files",
            Value::Object(Arc::new(Files(Arc::new(chart.files.clone())))),
        ),
        ("Subcharts", Value::map(subcharts)),
    ]);
    for (rel, text) in &chart.templates {
        let base = rel.rsplit('/').next().unwrap_or(rel);
        if chart.is_library() && !base.starts_with('_') {
            continue;
        }
        out.push(Renderable {
            name: format!("{path}/{rel}"),
            file: format!("{}/{rel}", chart.dir),
            base_path: format!("{path}/templates"),
            text: text.clone(),
            objects: objects.clone(),
        });
    }
    objects
}

/// Helm's `sortTemplates`: more path segments first, then reverse lexical order.
fn sort_templates(r: &mut [Renderable]) {
    r.sort_by(|a, b| {
        let (ca, cb) = (a.name.matches('/').count(), b.name.matches('/').count());
        cb.cmp(&ca).then_with(|| b.name.cmp(&a.name))
    });
}

fn render_all(
    chart: &Chart,
    vals: &Map<String, Json>,
    caps: Value,
    opts: &TemplateOptions,
    mut tracer: Option<&mut Tracer>,
) -> Result<Vec<(String, String)>, HelmError> {
    let release = Value::map([
        ("Name", Value::str(&opts.release_name)),
        ("Namespace", Value::str(&opts.namespace)),
        ("IsUpgrade", Value::Bool(opts.is_upgrade)),
        ("IsInstall", Value::Bool(!opts.is_upgrade)),
        ("Revision", Value::Int(1)),
        ("Service", Value::str("Helm")),
    ]);
    let mut rs = Vec::new();
    let mut chain = vec![(chart.values_doc.clone(), Vec::new())];
    collect(
        chart,
        &chart.name,
        vals,
        &release,
        &caps,
        true,
        &mut rs,
        &mut tracer,
        &mut chain,
    );
    sort_templates(&mut rs);
    let mut set = Templates::with_funcs("gotpl", shared_engine_funcs(opts.random_seed));
    set.set_missing_key(MissingKey::Zero);
    let files: HashMap<&str, &str> = rs
        .iter()
        .map(|r| (r.name.as_str(), r.file.as_str()))
        .collect();
    for r in &rs {
        set.parse(&r.name, &r.text)
            .map_err(|e| parse_error(&r.name, &e, &files))?;
    }
    let budget = Budget::default();
    let mut out = Vec::new();
    for r in &rs {
        let base = r.name.rsplit('/').next().unwrap_or(&r.name);
        if base.starts_with('_') {
            continue;
        }
        let data = with_template(&r.objects, &r.name, &r.base_path);
        if tracer.is_some() {
            trace::take();
        }
        // Each file gets its own function state (random sequences restart, as before) but
        // all share the chart's budget.
        let mut ext = Extensions::default();
        *ext.get_mut::<Budget>() = budget.clone();
        let text = set
            .execute_with(&r.name, &data, &mut ext)
            .map_err(|e| exec_error(&r.name, &e, &files))?;
        if r.name.ends_with("NOTES.txt") {
            continue;
        }
        match tracer.as_deref_mut() {
            Some(t) => {
                let mut rec = trace::take();
                let text = strip_no_value(&text, &mut rec);
                t.recorded.push(rec);
                out.push((r.name.clone(), text));
            }
            None => out.push((r.name.clone(), text.replace("<no value>", ""))),
        }
    }
    Ok(out)
}

fn with_template(objects: &Value, name: &str, base: &str) -> Value {
    let mut m = match objects {
        Value::Map(m) => m.snapshot(),
        _ => Default::default(),
    };
    m.insert(
        "Template".into(),
        Value::map([("Name", Value::str(name)), ("BasePath", Value::str(base))]),
    );
    Value::from(m)
}

const WARN_START: &str = "HELM_ERR_START";
const WARN_END: &str = "HELM_ERR_END";

static WARN_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?s)HELM_ERR_START(.*)HELM_ERR_END")
        .unwrap_or_else(|_| unreachable!("static regex"))
});

/// The origin of a template position: the file of its parse name (`files`: parse name →
/// repo-relative file), falling back to the file of the template being rendered (`name`).
fn template_origin(
    parse_name: &str,
    line: usize,
    column: usize,
    name: &str,
    files: &HashMap<&str, &str>,
) -> Option<Origin> {
    let (file, line, column) = match files.get(parse_name) {
        Some(f) => (*f, line, column),
        None => (*files.get(name)?, 1, 1),
    };
    let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    Some(Origin::new(Arc::from(file), n(line), n(column)))
}

/// Helm's `reformatExecErrorMsg`: `required`/`fail` errors become
/// `execution error at (FILE:LINE:COL): MESSAGE`; others are Go's text. The origin is the
/// error's position as the engine knows it (the message is never parsed for it).
fn exec_error(name: &str, e: &ExecError, files: &HashMap<&str, &str>) -> HelmError {
    let origin = match &e.position {
        Some(p) => template_origin(&p.parse_name, p.line, p.column, name, files),
        None => template_origin(name, 1, 1, name, files),
    };
    let msg = e.to_string();
    let tokens: Vec<&str> = msg.splitn(3, ": ").collect();
    let message = match tokens.as_slice() {
        [_, location, rest] => match WARN_RE.captures(rest) {
            Some(c) => {
                let m = c.get(1).map_or("", |m| m.as_str());
                format!("execution error at ({location}): {m}")
            }
            None => msg.clone(),
        },
        _ => format!("execution error in ({name}): {msg}"),
    };
    HelmError::Template { message, origin }
}

/// Helm's `cleanupParseError`; the origin is the parse error's template and line.
fn parse_error(name: &str, e: &ParseError, files: &HashMap<&str, &str>) -> HelmError {
    let origin = template_origin(&e.name, e.line, 1, name, files);
    let msg = e.to_string();
    let tokens: Vec<&str> = msg.split(": ").collect();
    let message = match tokens.as_slice() {
        [_, location, .., last] => format!("parse error at ({location}): {last}"),
        _ => format!("parse error in ({name}): {msg}"),
    };
    HelmError::Template { message, origin }
}

/// Sprig/Helm functions the library does not implement yet (none today; `getHostByName` is
/// registered by `funcs` and fails on purpose). Go checks function names when parsing, so
/// charts that merely mention them (behind a disabled `if`) must parse; calling one fails loudly.
const UNSUPPORTED_FUNCS: &[&str] = &[];

fn unsupported(name: &'static str) -> Function {
    Function::new(&[], Some(Param::Any), move |_, _| {
        Err(format!(
            "{name} is not supported by driftlint's native Helm engine (not implemented)"
        ))
    })
}

/// The function map: the template builtins plus Helm's engine functions (`include`, `tpl`,
/// `required`, `fail`, `lookup` returning an empty map as in client-only mode).
pub fn engine_funcs() -> FuncMap {
    engine_funcs_with(None)
}

/// [`engine_funcs`] with the random functions seeded by `random_seed` (`None`: from the OS).
fn engine_funcs_with(random_seed: Option<u64>) -> FuncMap {
    let opts = gotmpl::sprig::FuncOptions {
        random_seed,
        ..Default::default()
    };
    let mut m = crate::funcs::helm_funcs_with(&opts);
    for name in UNSUPPORTED_FUNCS {
        if !m.contains(name) {
            m.insert(name, unsupported(name));
        }
    }
    m.insert("include", funcs::include());
    m.insert("tpl", tpl());
    m.insert(
        "required",
        Function::new(&[Param::String, Param::Any], None, |_, a| {
            let v = a.get(1).cloned().unwrap_or_default();
            let empty = matches!(&v, Value::Nil) || v.as_str() == Some("");
            if empty {
                let w = a.first().and_then(Value::as_str).unwrap_or("");
                return Err(format!("{WARN_START}{w}{WARN_END}"));
            }
            Ok(v)
        }),
    );
    m.insert(
        "fail",
        Function::new(&[Param::String], None, |_, a| {
            let w = a.first().and_then(Value::as_str).unwrap_or("");
            Err(format!("{WARN_START}{w}{WARN_END}"))
        }),
    );
    m.insert(
        "lookup",
        Function::new(
            &[Param::String, Param::String, Param::String, Param::String],
            None,
            |_, _| Ok(Value::map(Vec::<(String, Value)>::new())),
        ),
    );
    m
}

/// Helm's functions with OS randomness, built once per process and shared by every render
/// (and by `tpl`'s emptiness check).
static ENGINE_FUNCS: Lazy<Arc<FuncMap>> = Lazy::new(|| Arc::new(engine_funcs()));

/// Seeded function maps, built once per seed (`check` uses one seed for every chart). The
/// random functions keep their state per execution, not in the map, so sharing is safe.
static SEEDED_FUNCS: Lazy<SeededFuncs> = Lazy::new(Default::default);

/// Function maps by random seed.
type SeededFuncs = std::sync::Mutex<Vec<(u64, Arc<FuncMap>)>>;

/// The engine's function map for `random_seed` (see [`engine_funcs_with`]), shared.
fn shared_engine_funcs(random_seed: Option<u64>) -> Arc<FuncMap> {
    let Some(seed) = random_seed else {
        return ENGINE_FUNCS.clone();
    };
    let mut cache = SEEDED_FUNCS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, m)) = cache.iter().find(|(s, _)| *s == seed) {
        return m.clone();
    }
    let m = Arc::new(engine_funcs_with(Some(seed)));
    cache.push((seed, m.clone()));
    m
}

fn tpl() -> Function {
    Function::new(&[Param::String, Param::Any], None, |ctx, a| {
        let text = a.first().and_then(Value::as_str).unwrap_or("").to_string();
        let data = a.get(1).cloned().unwrap_or_default();
        let fail = |e: String| format!("error during tpl function execution for {text:?}: {e}");
        // Helm v4 parses the text as a new template "gotpl" in a clone of the set and
        // executes that new template directly. Go keeps an existing "gotpl" (an enclosing
        // tpl) when the new tree is empty, so an empty tree (whitespace, comments) is
        // rendered on its own here instead of re-running the enclosing text.
        let mut alone = Templates::with_funcs("gotpl", ENGINE_FUNCS.clone());
        alone
            .parse("gotpl", &text)
            .map_err(|e| fail(e.to_string()))?;
        let out = if alone.get("gotpl").is_none_or(|t| t.is_empty()) {
            let tracing = trace::on();
            if tracing {
                trace::func_depth(true);
            }
            let r = alone.execute("gotpl", &data);
            if tracing {
                trace::func_depth(false);
            }
            r.map_err(|e| fail(e.to_string()))?
        } else {
            ctx.execute_text("gotpl", &text, data).map_err(fail)?
        };
        Ok(Value::str(&out.replace("<no value>", "")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::from_files;

    fn render(tpl: &str) -> Result<String, HelmError> {
        let files = vec![
            (
                "Chart.yaml".to_string(),
                b"apiVersion: v2\nname: d\nversion: 1.0.0\n".to_vec(),
            ),
            ("templates/x.txt".to_string(), tpl.as_bytes().to_vec()),
        ];
        let chart = from_files("d", files).unwrap();
        run(chart, Map::new(), &TemplateOptions::default())
    }

    #[test]
    fn engine_functions_as_helm() {
        // Outputs and messages observed with helm v4.1.4.
        assert_eq!(
            render("# a[{{ tpl \"\" . }}]b[{{ tpl \"  \" . }}]c[{{ tpl \"{{/* x */}}\" . }}]")
                .unwrap(),
            "---\n# Source: d/templates/x.txt\n# a[]b[  ]c[]\n"
        );
        assert_eq!(
            render("# {{ tpl \"{{ .Values.q.r.s }}\" . }}").unwrap_err().to_string(),
            "template: d/templates/x.txt:1:5: executing \"d/templates/x.txt\" at <tpl \"{{ .Values.q.r.s }}\" .>: error calling tpl: error during tpl function execution for \"{{ .Values.q.r.s }}\": template: gotpl:1:10: executing \"gotpl\" at <.Values.q.r.s>: nil pointer evaluating interface {}.r"
        );
        assert_eq!(
            render("# a[{{ tpl \"{{ fail \\\"boom\\\" }}\" . }}]")
                .unwrap_err()
                .to_string(),
            "execution error at (d/templates/x.txt:1:7): boom"
        );
        assert_eq!(
            render("# a[{{ tpl \"{{ tpl \\\"\\\" . }}x{{ tpl \\\" {{/* c */}}\\\" . }}\" . }}]")
                .unwrap(),
            "---\n# Source: d/templates/x.txt\n# a[x ]\n"
        );
        assert_eq!(
            render("# {{ required \"need x\" .Values.x }}")
                .unwrap_err()
                .to_string(),
            "execution error at (d/templates/x.txt:1:5): need x"
        );
        assert_eq!(
            render("# {{ .Release.Name }} {{ .Release.Namespace }} {{ .Release.Revision }} {{ .Release.IsInstall }} {{ .Release.Service }} {{ .Template.BasePath }} {{ .Chart.IsRoot }}").unwrap(),
            "---\n# Source: d/templates/x.txt\n# release-name default 1 true Helm d/templates true\n"
        );
    }

    #[test]
    fn import_values_and_globals_as_helm() {
        // Output observed with helm v4.1.4 on the same chart.
        let f = |p: &str, t: &str| (p.to_string(), t.as_bytes().to_vec());
        let files = vec![
            f("Chart.yaml", "apiVersion: v2\nname: p\nversion: 1.0.0\ndependencies:\n- name: s\n  version: 0.1.0\n  import-values:\n  - data\n  - child: deep.t\n    parent: got.here\n"),
            f("values.yaml", "a: parent\ngot:\n  here:\n    w: parentwins\n"),
            f("templates/x.txt", "# {{ .Values }}\n"),
            f("charts/s/Chart.yaml", "apiVersion: v2\nname: s\nversion: 0.1.0\n"),
            f("charts/s/values.yaml", "exports:\n  data:\n    a: child\n    b: child\ndeep:\n  t:\n    x: 1\n    w: 2\n"),
        ];
        let chart = from_files("p", files).unwrap();
        let out = run(chart, Map::new(), &TemplateOptions::default()).unwrap();
        assert_eq!(
            out,
            "---\n# Source: p/templates/x.txt\n# map[a:parent b:child got:map[here:map[w:parentwins x:1]] s:map[deep:map[t:map[w:2 x:1]] exports:map[data:map[a:child b:child]] global:map[]]]\n"
        );
    }
}
