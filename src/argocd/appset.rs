//! ApplicationSet generators evaluated against the local repository, as the
//! applicationset-controller evaluates them (argo-cd `applicationset/generators`): `list`,
//! `git` (`directories` and `files`) on a repository `sources:` maps to this one, and
//! `matrix`/`merge` of those. Generators that need a live Argo CD (clusters, SCM providers,
//! pull requests, plugins, cluster decisions) are refused loudly.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use serde_json::{Map, Value as Json};

use super::template::{sanitize_name, Engine, Params};
use super::Located;
use crate::config::Config;
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{Node, Origin};

/// Parameter sets one ApplicationSet may generate.
const MAX_PARAMS: usize = 10_000;
/// Directories and files a git generator may list.
const MAX_ENTRIES: usize = 200_000;
/// Nesting of `matrix`/`merge` generators followed.
const MAX_NESTING: usize = 4;

/// What generators read.
pub(crate) struct GenContext<'a> {
    pub(crate) fs: &'a RepoFs,
    pub(crate) config: &'a Config,
    /// The URL of the repository's `origin` remote.
    pub(crate) origin: Option<&'a str>,
    pub(crate) engine: &'a Engine,
}

/// The Applications `appset` generates (each an `Application` object with the set's
/// namespace when its template names none), in generator order.
///
/// Errors: an unsupported generator or field (RENDER002), a repository that is not this one,
/// a template or generator that fails (RENDER001), at its line.
pub(crate) fn applications(ctx: &GenContext, appset: &Node) -> Result<Vec<Node>, Located> {
    let spec = appset
        .get("spec")
        .ok_or_else(|| invalid("no spec", appset))?;
    if let Some(p) = spec.get("templatePatch") {
        return Err(unsupported(
            "templatePatch is not supported by driftlint",
            p,
        ));
    }
    let template = spec
        .get("template")
        .ok_or_else(|| invalid("no spec.template", spec))?;
    let generators = spec
        .get("generators")
        .and_then(Node::as_seq)
        .ok_or_else(|| invalid("no spec.generators", spec))?;
    let ns = appset
        .str_at(&["metadata", "namespace"])
        .unwrap_or("argocd");
    let mut apps = Vec::new();
    for g in generators {
        let params = generate(ctx, g, 0)?;
        let tmpl = match g
            .as_map()
            .and_then(|m| m.iter().find_map(|(_, v)| v.get("template")))
        {
            Some(over) => merge_nodes(template, over),
            None => template.clone(),
        };
        for p in &params {
            let app = ctx.engine.render(&tmpl, p).map_err(|(m, at)| Located {
                code: "RENDER001",
                message: format!("ApplicationSet template: {m}"),
                origin: at,
            })?;
            apps.push(application(app, ns, &appset.origin));
        }
    }
    Ok(apps)
}

/// The `Application` object of a rendered template.
fn application(mut template: Node, ns: &str, at: &Origin) -> Node {
    let mut obj = Node::map(at.clone());
    if let Some(m) = obj.as_map_mut() {
        m.insert(
            "apiVersion",
            Node::string("argoproj.io/v1alpha1", at.clone()),
        );
        m.insert("kind", Node::string("Application", at.clone()));
        let mut meta = template
            .as_map_mut()
            .and_then(|t| t.remove("metadata"))
            .filter(|n| n.as_map().is_some())
            .unwrap_or_else(|| Node::map(at.clone()));
        if meta.str_at(&["namespace"]).is_none_or(str::is_empty) {
            if let Some(mm) = meta.as_map_mut() {
                mm.insert("namespace", Node::string(ns, at.clone()));
            }
        }
        m.insert("metadata", meta);
        if let Some(spec) = template.as_map_mut().and_then(|t| t.remove("spec")) {
            m.insert("spec", spec);
        }
    }
    obj
}

/// Deep merge of `over` onto `base` (maps merged key by key, anything else replaced): a
/// generator's own `template` over the set's.
fn merge_nodes(base: &Node, over: &Node) -> Node {
    let (Some(b), Some(o)) = (base.as_map(), over.as_map()) else {
        return over.clone();
    };
    let mut out = base.clone();
    let Some(m) = out.as_map_mut() else {
        return over.clone();
    };
    for (k, v) in o.iter() {
        let Some(key) = k.as_str() else { continue };
        let merged = match b.get(key) {
            Some(old) => merge_nodes(old, v),
            None => v.clone(),
        };
        m.insert(key, merged);
    }
    out
}

fn generate(ctx: &GenContext, g: &Node, depth: usize) -> Result<Vec<Params>, Located> {
    let map = g
        .as_map()
        .ok_or_else(|| invalid("a generator is a mapping", g))?;
    let Some((k, body)) = map.iter().find(|(k, _)| k.as_str() != Some("selector")) else {
        return Err(invalid("an empty generator", g));
    };
    if g.get("selector").is_some() {
        return Err(unsupported(
            "generator selector is not supported by driftlint",
            g,
        ));
    }
    let out = match k.as_str().unwrap_or("") {
        "list" => list(ctx, body)?,
        "git" => git(ctx, body)?,
        "matrix" if depth < MAX_NESTING => matrix(ctx, body, depth + 1)?,
        "merge" if depth < MAX_NESTING => merge(ctx, body, depth + 1)?,
        "matrix" | "merge" => return Err(invalid("generators nested too deep", body)),
        other => {
            return Err(unsupported(
                &format!("the {other} generator needs a live Argo CD: not supported by driftlint"),
                k,
            ))
        }
    };
    if out.len() > MAX_PARAMS {
        return Err(invalid(
            "a generator yields more than 10,000 parameter sets (driftlint's budget)",
            g,
        ));
    }
    Ok(out)
}

/// The `list` generator: each element a parameter set; with fasttemplate every value must be
/// a string (`values` entries become `values.KEY`).
fn list(ctx: &GenContext, body: &Node) -> Result<Vec<Params>, Located> {
    if let Some(y) = body.get("elementsYaml") {
        return Err(unsupported("elementsYaml is not supported by driftlint", y));
    }
    let empty = Vec::new();
    let elements = body
        .get("elements")
        .and_then(Node::as_seq)
        .unwrap_or(&empty);
    let mut out = Vec::new();
    for e in elements {
        let Json::Object(obj) = e.to_json() else {
            return Err(invalid("a list element is a mapping", e));
        };
        if ctx.engine.is_go() {
            out.push(obj);
            continue;
        }
        let mut p = Params::new();
        for (k, v) in obj {
            match (k.as_str(), v) {
                ("values", Json::Object(vals)) => {
                    for (vk, vv) in vals {
                        let Json::String(s) = vv else {
                            return Err(invalid("error parsing value as string", e));
                        };
                        p.insert(format!("values.{vk}"), Json::String(s));
                    }
                }
                (_, Json::String(s)) => {
                    p.insert(k, Json::String(s));
                }
                _ => return Err(invalid("error parsing value as string", e)),
            }
        }
        out.push(p);
    }
    Ok(out)
}

/// The folder of this repository a git generator's `repoURL` names.
fn repo_folder(ctx: &GenContext, body: &Node) -> Result<PathBuf, Located> {
    let url = body.str_at(&["repoURL"]).unwrap_or("");
    let folder = super::local_folder(ctx.config, ctx.origin, url).ok_or_else(|| Located {
        code: "RENDER001",
        message: format!(
            "git generator repoURL {url} is not this repository (not the origin remote of .git/config; map it under `sources:` with `url:` in .driftlint.yaml)"
        ),
        origin: body.get("repoURL").unwrap_or(body).origin.clone(),
    })?;
    crate::discover::config_path(ctx.fs, &folder).map_err(|e| invalid(&e.to_string(), body))
}

fn git(ctx: &GenContext, body: &Node) -> Result<Vec<Params>, Located> {
    let root = repo_folder(ctx, body)?;
    if let Some(p) = body.get("pathParamPrefix") {
        return Err(unsupported(
            "pathParamPrefix is not supported by driftlint",
            p,
        ));
    }
    let mut out = match (body.get("directories"), body.get("files")) {
        (Some(d), None) => directories(ctx, &root, d)?,
        (None, Some(f)) => files(ctx, &root, f)?,
        _ => return Err(invalid("a git generator has directories or files", body)),
    };
    if let Some(values) = body.get("values").and_then(Node::as_map) {
        for p in out.iter_mut() {
            for (k, v) in values.iter() {
                let (Some(key), Some(text)) = (k.as_str(), v.scalar_text()) else {
                    continue;
                };
                let rendered = ctx.engine.render_str(text, p).map_err(|m| invalid(&m, v))?;
                add_value(p, key, rendered, ctx.engine.is_go());
            }
        }
    }
    Ok(out)
}

fn add_value(p: &mut Params, key: &str, value: String, go: bool) {
    if !go {
        p.insert(format!("values.{key}"), Json::String(value));
        return;
    }
    let values = p
        .entry("values".to_string())
        .or_insert_with(|| Json::Object(Map::new()));
    if let Json::Object(m) = values {
        m.insert(key.to_string(), Json::String(value));
    }
}

/// One `path:` glob of a git generator (Go's `path.Match`: `*` stops at `/`).
struct PathGlob {
    glob: GlobMatcher,
    exclude: bool,
}

fn globs(list: &Node) -> Result<Vec<PathGlob>, Located> {
    let empty = Vec::new();
    let mut out = Vec::new();
    for item in list.as_seq().unwrap_or(&empty) {
        let path = item.str_at(&["path"]).unwrap_or("");
        let glob = GlobBuilder::new(path)
            .literal_separator(true)
            .build()
            .map_err(|e| invalid(&format!("invalid path glob {path:?}: {e}"), item))?
            .compile_matcher();
        let exclude = super::flag(item, "exclude");
        out.push(PathGlob { glob, exclude });
    }
    Ok(out)
}

/// Matches `rel` (repository-relative) as the generators' `filterPaths`: included by one
/// glob and excluded by none.
fn selected(globs: &[PathGlob], rel: &str) -> bool {
    let m = |g: &&PathGlob| g.glob.is_match(rel);
    globs.iter().filter(m).any(|g| !g.exclude) && !globs.iter().filter(m).any(|g| g.exclude)
}

fn directories(ctx: &GenContext, root: &Path, list: &Node) -> Result<Vec<Params>, Located> {
    let globs = globs(list)?;
    let (dirs, _) = walk(ctx.fs, root, list)?;
    Ok(dirs
        .iter()
        .filter(|d| selected(&globs, d))
        .map(|d| path_params(d, None, ctx.engine.is_go()))
        .collect())
}

fn files(ctx: &GenContext, root: &Path, list: &Node) -> Result<Vec<Params>, Located> {
    let globs = globs(list)?;
    let (_, all) = walk(ctx.fs, root, list)?;
    let mut out = Vec::new();
    for f in all.iter().filter(|f| selected(&globs, f)) {
        let abs = ctx.fs.root().join(root).join(f);
        let text = ctx
            .fs
            .read_text(&abs)
            .map_err(|e| invalid(&e.to_string(), list))?;
        let display = ctx.fs.display(&abs);
        let docs = driftlint_yaml::parse_documents(display.clone().into(), &text)
            .map_err(|e| invalid(&format!("unable to parse file {display}: {e}"), list))?;
        let (dir, name) = f.rsplit_once('/').unwrap_or((".", f.as_str()));
        let items: Vec<Json> = match docs.first().map(Node::to_json) {
            Some(Json::Array(items)) => items,
            Some(obj @ Json::Object(_)) => vec![obj],
            _ => Vec::new(),
        };
        for item in items {
            let Json::Object(obj) = item else {
                return Err(invalid(&format!("unable to parse file {display}"), list));
            };
            let mut p = if ctx.engine.is_go() {
                obj
            } else {
                let mut flat = Params::new();
                flatten("", &Json::Object(obj), &mut flat);
                flat
            };
            p.extend(path_params(dir, Some(name), ctx.engine.is_go()));
            out.push(p);
        }
    }
    Ok(out)
}

/// `flatten.Flatten(obj, "", flatten.DotStyle)` with values printed as `%v`.
fn flatten(prefix: &str, v: &Json, out: &mut Params) {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Json::Object(m) => m.iter().for_each(|(k, v)| flatten(&key(k), v, out)),
        Json::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| flatten(&key(&i.to_string()), v, out)),
        Json::String(s) => {
            out.insert(prefix.to_string(), Json::String(s.clone()));
        }
        Json::Null => {
            out.insert(prefix.to_string(), Json::String("<nil>".into()));
        }
        other => {
            out.insert(prefix.to_string(), Json::String(other.to_string()));
        }
    }
}

/// The `path` parameters of a directory (and, for the files generator, of a file in it).
fn path_params(dir: &str, file: Option<&str>, go: bool) -> Params {
    let base = dir.rsplit('/').next().unwrap_or(dir);
    let mut p = Params::new();
    if go {
        let mut m = Map::new();
        m.insert("path".into(), Json::String(dir.into()));
        m.insert("basename".into(), Json::String(base.into()));
        m.insert(
            "basenameNormalized".into(),
            Json::String(sanitize_name(base)),
        );
        if let Some(f) = file {
            m.insert("filename".into(), Json::String(f.into()));
            m.insert("filenameNormalized".into(), Json::String(sanitize_name(f)));
        }
        let segs = dir.split('/').map(|s| Json::String(s.into())).collect();
        m.insert("segments".into(), Json::Array(segs));
        p.insert("path".into(), Json::Object(m));
        return p;
    }
    p.insert("path".into(), Json::String(dir.into()));
    p.insert("path.basename".into(), Json::String(base.into()));
    p.insert(
        "path.basenameNormalized".into(),
        Json::String(sanitize_name(base)),
    );
    if let Some(f) = file {
        p.insert("path.filename".into(), Json::String(f.into()));
        p.insert(
            "path.filenameNormalized".into(),
            Json::String(sanitize_name(f)),
        );
    }
    for (i, s) in dir.split('/').enumerate().filter(|(_, s)| !s.is_empty()) {
        p.insert(format!("path[{i}]"), Json::String(s.into()));
    }
    p
}

/// Every directory (hidden ones and their contents skipped, as the repo-server's
/// `GetGitDirectories`) and every file under `root` (the repository's folder), as paths
/// relative to it, sorted. Symbolic links are not followed.
fn walk(fs: &RepoFs, root: &Path, at: &Node) -> Result<(Vec<String>, Vec<String>), Located> {
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    let mut todo = vec![PathBuf::new()];
    let mut budget = MAX_ENTRIES;
    while let Some(dir) = todo.pop() {
        let abs = fs.root().join(root).join(&dir);
        let entries = std::fs::read_dir(&abs)
            .map_err(|e| invalid(&format!("cannot read {}: {e}", fs.display(&abs)), at))?;
        for entry in entries.flatten() {
            budget = budget
                .checked_sub(1)
                .ok_or_else(|| invalid("more than 200,000 repository entries", at))?;
            let Ok(t) = entry.file_type() else { continue };
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = dir.join(&name);
            let text = crate::discover::display_path(&rel);
            if t.is_dir() && !name.starts_with('.') {
                dirs.push(text);
                todo.push(rel);
            } else if t.is_file() {
                files.push(text);
            }
        }
    }
    dirs.sort();
    files.sort();
    Ok((dirs, files))
}

fn matrix(ctx: &GenContext, body: &Node, depth: usize) -> Result<Vec<Params>, Located> {
    let gens = children(body, 2)?;
    if gens.len() != 2 {
        return Err(invalid(
            "the matrix generator needs exactly two generators",
            body,
        ));
    }
    let mut out = Vec::new();
    for a in generate(ctx, &gens[0], depth)? {
        let second = ctx.engine.render(&gens[1], &a).map_err(|(m, at)| Located {
            code: "RENDER001",
            message: m,
            origin: at,
        })?;
        for b in generate(ctx, &second, depth)? {
            out.push(combine(&a, b, ctx.engine.is_go(), body)?);
            if out.len() > MAX_PARAMS {
                return Err(invalid("more than 10,000 parameter sets", body));
            }
        }
    }
    Ok(out)
}

fn combine(a: &Params, b: Params, go: bool, at: &Node) -> Result<Params, Located> {
    let mut out = a.clone();
    for (k, v) in b {
        match out.get(&k) {
            Some(old) if !go && *old != v => {
                return Err(invalid(
                    &format!("found duplicate key {k} with different value, a: {old} ,b: {v}"),
                    at,
                ))
            }
            _ => {
                out.insert(k, v);
            }
        }
    }
    Ok(out)
}

fn children(body: &Node, min: usize) -> Result<Vec<Node>, Located> {
    let gens = body
        .get("generators")
        .and_then(Node::as_seq)
        .cloned()
        .unwrap_or_default();
    if gens.len() < min {
        return Err(invalid(
            &format!("at least {min} child generators are required"),
            body,
        ));
    }
    Ok(gens)
}

fn merge(ctx: &GenContext, body: &Node, depth: usize) -> Result<Vec<Params>, Located> {
    let gens = children(body, 2)?;
    let keys: Vec<String> = body
        .get("mergeKeys")
        .and_then(Node::as_seq)
        .map(|s| {
            s.iter()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if keys.is_empty() {
        return Err(invalid("no merge keys were specified", body));
    }
    let mut base = by_key(&keys, generate(ctx, &gens[0], depth)?, body, true)?;
    for g in &gens[1..] {
        let others = by_key(&keys, generate(ctx, g, depth)?, body, false)?;
        for (key, p) in base.iter_mut() {
            if let Some(o) = others.iter().find(|(k, _)| k == key) {
                for (k, v) in &o.1 {
                    p.insert(k.clone(), v.clone());
                }
            }
        }
    }
    Ok(base.into_iter().map(|(_, p)| p).collect())
}

fn by_key(
    keys: &[String],
    sets: Vec<Params>,
    at: &Node,
    base: bool,
) -> Result<Vec<(String, Params)>, Located> {
    let mut out: Vec<(String, Params)> = Vec::new();
    for p in sets {
        let value: Vec<Json> = keys.iter().map(|k| lookup(&p, k)).collect();
        let key = Json::Array(value).to_string();
        if out.iter().any(|(k, _)| *k == key) {
            if base {
                return Err(invalid(
                    &format!("the parameters from a generator were not unique by the given mergeKeys, Merge requires all param sets to be unique. Duplicate key was {key}"),
                    at,
                ));
            }
            continue;
        }
        out.push((key, p));
    }
    Ok(out)
}

/// A merge key's value: a flat key, or a dotted path into nested parameters.
fn lookup(p: &Params, key: &str) -> Json {
    if let Some(v) = p.get(key) {
        return v.clone();
    }
    let mut parts = key.split('.');
    let mut at = parts.next().and_then(|k| p.get(k));
    for part in parts {
        at = at.and_then(|v| v.get(part));
    }
    at.cloned().unwrap_or(Json::Null)
}

fn invalid(message: &str, at: &Node) -> Located {
    Located {
        code: "RENDER001",
        message: message.to_string(),
        origin: at.origin.clone(),
    }
}

fn unsupported(message: &str, at: &Node) -> Located {
    Located {
        code: "RENDER002",
        message: message.to_string(),
        origin: at.origin.clone(),
    }
}
