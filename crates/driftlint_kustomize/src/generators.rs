//! `configMapGenerator:` and `secretGenerator:` (kustomize ConfigMapGenerator and
//! SecretGenerator, api/kv): build ConfigMaps/Secrets from literals, files and env files,
//! then merge them into the accumulated objects according to `behavior`.

use std::path::Path;

use driftlint_yaml::{Mapping, Node, Origin, Value};

use super::build_metadata;
use super::decode::{Pairs, Spanned};
use super::error::{ErrorKind, KustomizeError, Result};
use super::kustfile::{GeneratorArgs, GeneratorOptions, Kustomization};
use super::loader::{display, Loader};
use super::nodeutil::{child_map_mut, set_key, string_node};
use super::resmap::ResMap;
use super::resource::{Behavior, Generated, Resource};

/// A key/value pair with the origin of its value.
struct Pair {
    key: String,
    value: String,
    origin: Origin,
}

/// Local options, with `generatorOptions` filling what they leave unset (kustomize
/// `MergeGlobalOptionsIntoLocal`: local labels/annotations win; flags are or-ed).
fn merged_options(
    local: Option<&GeneratorOptions>,
    global: Option<&GeneratorOptions>,
) -> GeneratorOptions {
    let mut o = local.cloned().unwrap_or_default();
    if let Some(g) = global {
        for (k, v) in &g.labels {
            if !o.labels.iter().any(|(x, _)| x == k) {
                o.labels.push((k.clone(), v.clone()));
            }
        }
        for (k, v) in &g.annotations {
            if !o.annotations.iter().any(|(x, _)| x == k) {
                o.annotations.push((k.clone(), v.clone()));
            }
        }
        o.disable_name_suffix_hash |= g.disable_name_suffix_hash;
        o.immutable |= g.immutable;
    }
    o
}

/// Strips one pair of matching surrounding quotes (kustomize `removeQuotes`).
fn remove_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

fn literal(l: &Spanned<String>) -> Result<Pair> {
    let bad = || {
        KustomizeError::invalid(
            format!("invalid literal source {}, expected key=value", l.value),
            Some(&l.origin),
        )
    };
    match l.value.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok(Pair {
            key: k.to_string(),
            value: remove_quotes(v).to_string(),
            origin: l.origin.clone(),
        }),
        _ => Err(bad()),
    }
}

fn file_source(loader: &Loader, dir: &Path, f: &Spanned<String>) -> Result<Pair> {
    let bad = |m: String| KustomizeError::invalid(m, Some(&f.origin));
    let (key, path) = match f.value.matches('=').count() {
        0 => {
            let base = f.value.rsplit('/').next().unwrap_or(&f.value);
            (base.to_string(), f.value.as_str())
        }
        1 => match f.value.split_once('=') {
            Some(("", p)) => return Err(bad(format!("key name for file path {p} missing"))),
            Some((k, "")) => return Err(bad(format!("file path for key name {k} missing"))),
            Some((k, p)) => (k.to_string(), p),
            None => return Err(bad("malformed file source".into())),
        },
        _ => return Err(bad("key names or file paths cannot contain '='".into())),
    };
    let (file, text) = loader.read_restricted(dir, path, &f.origin)?;
    Ok(Pair {
        key,
        value: text.to_string(),
        origin: Origin::new(display(&file).into(), 1, 1),
    })
}

fn is_env_var_name(k: &str) -> bool {
    let mut chars = k.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '-' || c == '_' || c == '.')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

fn env_file(
    loader: &Loader,
    dir: &Path,
    e: &Spanned<String>,
    notes: &mut Vec<String>,
) -> Result<Vec<Pair>> {
    let (file, text) = loader.read_restricted(dir, &e.value, &e.origin)?;
    let name: std::sync::Arc<str> = display(&file).into();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = if i == 0 {
            raw.trim_start_matches('\u{feff}')
        } else {
            raw
        };
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let origin = Origin::new(name.clone(), i as u32 + 1, 1);
        let (key, value) = match line.split_once('=') {
            Some(kv) => kv,
            None => {
                notes.push(format!(
                    "# Warning: {}:{}: '{line}' has no '=': kustomize reads its value from the process environment; driftlint uses an empty value",
                    origin.file, origin.line
                ));
                (line, "")
            }
        };
        if !is_env_var_name(key) {
            return Err(KustomizeError::invalid(
                format!("\"{key}\" is not a valid environment variable name"),
                Some(&origin),
            ));
        }
        out.push(Pair {
            key: key.to_string(),
            value: value.to_string(),
            origin,
        });
    }
    Ok(out)
}

fn is_config_map_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 253
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
        && k != "."
        && !k.starts_with("..")
}

/// Loads the pairs of a generator (envs, then literals, then files) and validates keys.
fn load_pairs(
    loader: &Loader,
    dir: &Path,
    g: &GeneratorArgs,
    notes: &mut Vec<String>,
) -> Result<Vec<Pair>> {
    let mut pairs = Vec::new();
    for e in &g.envs {
        pairs.extend(env_file(loader, dir, e, notes)?);
    }
    for l in &g.literals {
        pairs.push(literal(l)?);
    }
    for f in &g.files {
        pairs.push(file_source(loader, dir, f)?);
    }
    let mut seen: Vec<&str> = Vec::new();
    for p in &pairs {
        if !is_config_map_key(&p.key) {
            return Err(KustomizeError::invalid(
                format!(
                    "\"{}\" is not a valid key name for a ConfigMap or Secret",
                    p.key
                ),
                Some(&p.origin),
            ));
        }
        if seen.contains(&p.key.as_str()) {
            return Err(KustomizeError::invalid(
                format!(
                    "configmap {} illegally repeats the key `{}`",
                    g.name.value, p.key
                ),
                Some(&p.origin),
            ));
        }
        seen.push(&p.key);
    }
    Ok(pairs)
}

fn behavior(g: &GeneratorArgs) -> Result<Behavior> {
    match g.behavior.value.as_str() {
        "" | "create" => Ok(Behavior::Create),
        "merge" => Ok(Behavior::Merge),
        "replace" => Ok(Behavior::Replace),
        other => Err(KustomizeError::invalid(
            format!("unknown generator behavior \"{other}\""),
            Some(&g.behavior.origin),
        )),
    }
}

fn pairs_node(pairs: &Pairs, origin: &Origin) -> Node {
    let mut m = Mapping::new();
    for (k, v) in pairs {
        m.push(string_node(k, &v.origin), string_node(&v.value, &v.origin));
    }
    Node::new(Value::Map(m), origin.clone())
}

fn base64(s: &str) -> String {
    data_encoding::BASE64.encode(s.as_bytes())
}

/// Builds one generated object.
fn generate(
    loader: &Loader,
    dir: &Path,
    g: &GeneratorArgs,
    secret: bool,
    global: Option<&GeneratorOptions>,
    notes: &mut Vec<String>,
) -> Result<Resource> {
    if g.name.value.is_empty() {
        return Err(KustomizeError::invalid(
            "a generated ConfigMap or Secret must have a name",
            Some(&g.origin),
        ));
    }
    let behavior = behavior(g)?;
    let opts = merged_options(g.options.as_ref(), global);
    let o = g.origin.clone().with_via(if secret {
        "secretGenerator"
    } else {
        "configMapGenerator"
    });
    let mut obj = Mapping::new();
    obj.insert("apiVersion", string_node("v1", &o));
    obj.insert(
        "kind",
        string_node(if secret { "Secret" } else { "ConfigMap" }, &o),
    );
    let mut md = Mapping::new();
    md.insert("name", string_node(&g.name.value, &g.name.origin));
    if !g.namespace.is_empty() {
        md.insert("namespace", string_node(&g.namespace, &o));
    }
    if !opts.labels.is_empty() {
        md.insert("labels", pairs_node(&opts.labels, &o));
    }
    if !opts.annotations.is_empty() {
        md.insert("annotations", pairs_node(&opts.annotations, &o));
    }
    obj.insert("metadata", Node::new(Value::Map(md), o.clone()));
    let pairs = load_pairs(loader, dir, g, notes)?;
    if !pairs.is_empty() {
        let mut data = Mapping::new();
        for p in pairs {
            let v = if secret { base64(&p.value) } else { p.value };
            data.push(string_node(&p.key, &p.origin), string_node(&v, &p.origin));
        }
        obj.insert("data", Node::new(Value::Map(data), o.clone()));
    }
    if secret {
        let t = if g.secret_type.is_empty() {
            "Opaque"
        } else {
            &g.secret_type
        };
        obj.insert("type", string_node(t, &o));
    }
    if opts.immutable {
        obj.insert("immutable", Node::bool(true, o.clone()));
    }
    let mut res = Resource::new(Node::new(Value::Map(obj), o));
    res.generated = Some(Generated {
        behavior,
        needs_hash: !opts.disable_name_suffix_hash,
    });
    Ok(res)
}

/// Merges two string maps at `key` of `old` and `new` into `new` (new entries win).
fn merge_map_field(new: &mut Node, old: &Node, path: &[&str]) {
    let old_map = old.get_path(path).and_then(Node::as_map).cloned();
    let Some(old_map) = old_map else { return };
    let (last, parents) = match path.split_last() {
        Some(x) => x,
        None => return,
    };
    let mut cur = &mut *new;
    for p in parents {
        let o = cur.origin.clone();
        match child_map_mut(cur, p, &o) {
            Some(c) => cur = c,
            None => return,
        }
    }
    let existing = cur
        .get(last)
        .and_then(Node::as_map)
        .cloned()
        .unwrap_or_default();
    let mut merged = old_map;
    for (k, v) in existing.entries().iter().cloned() {
        match k.as_scalar().map(|s| s.text.clone()) {
            Some(key) if merged.contains_key(&key) => merged.insert(&key, v),
            _ => merged.push(k, v),
        }
    }
    let origin = cur.origin.clone();
    set_key(cur, last, Node::new(Value::Map(merged), origin));
}

/// kustomize `CopyMergeMetaDataFieldsFrom`: labels and annotations merged (new wins), name,
/// namespace and rename history taken from the existing object.
fn copy_merge_metadata(new: &mut Resource, old: &Resource) {
    merge_map_field(&mut new.node, &old.node, &["metadata", "labels"]);
    merge_map_field(&mut new.node, &old.node, &["metadata", "annotations"]);
    if let Some(name) = old.node.get_path(&["metadata", "name"]).cloned() {
        let o = new.node.origin.clone();
        if let Some(md) = child_map_mut(&mut new.node, "metadata", &o) {
            set_key(md, "name", name);
        }
    }
    let o = new.node.origin.clone();
    if let Some(md) = child_map_mut(&mut new.node, "metadata", &o) {
        match old.node.get_path(&["metadata", "namespace"]).cloned() {
            Some(ns) => set_key(md, "namespace", ns),
            None => {
                md.as_map_mut().map(|m| m.remove("namespace"));
            }
        }
    }
    new.prev_ids = old.prev_ids.clone();
    new.prefixes = old.prefixes.clone();
    new.suffixes = old.suffixes.clone();
    if let (Some(n), Some(o)) = (new.generated.as_mut(), old.generated.as_ref()) {
        n.needs_hash &= o.needs_hash;
    } else if let Some(n) = new.generated.as_mut() {
        n.needs_hash = false;
    }
}

/// Adds a generated object to `m` per its behavior (kustomize `appendReplaceOrMerge`).
///
/// Errors: `create` over an existing id, `merge`/`replace` with no existing id, several
/// candidates.
pub fn absorb(m: &mut ResMap, mut res: Resource, origin: &Origin) -> Result<()> {
    let id = res.cur_id();
    let behavior = res
        .generated
        .as_ref()
        .map_or(Behavior::Create, |g| g.behavior);
    let found = m.matching_id(&id);
    match found.as_slice() {
        [] => match behavior {
            Behavior::Create => m.append(res, Some(origin)),
            _ => Err(KustomizeError::invalid(
                format!("id {id} does not exist; cannot merge or replace"),
                Some(origin),
            )),
        },
        [i] => {
            let old = &m.list()[*i];
            match behavior {
                Behavior::Create => {
                    return Err(KustomizeError::invalid(
                        format!("id {id} exists; behavior must be merge or replace"),
                        Some(origin),
                    ))
                }
                Behavior::Replace => copy_merge_metadata(&mut res, old),
                Behavior::Merge => {
                    copy_merge_metadata(&mut res, old);
                    build_metadata::keep_origin(&mut res, old);
                    merge_map_field(&mut res.node, &old.node, &["data"]);
                    merge_map_field(&mut res.node, &old.node, &["binaryData"]);
                }
            }
            m.replace(*i, res);
            Ok(())
        }
        _ => Err(KustomizeError::invalid(
            format!("found multiple objects that could accept merge of {id}"),
            Some(origin),
        )),
    }
}

/// Runs every generator of a kustomization (ConfigMaps first, then Secrets) and absorbs
/// their output into `m`.
///
/// Errors: unreadable or escaping files, invalid literals/keys, behavior conflicts.
/// Notes about inputs driftlint reads differently from kustomize are appended to `notes`.
///
/// `stamp` records the provenance of each generated object (`true` for Secrets) when the
/// build tracks it (`buildMetadata`).
pub fn run(
    loader: &Loader,
    dir: &Path,
    k: &Kustomization,
    m: &mut ResMap,
    notes: &mut Vec<String>,
    stamp: &dyn Fn(&mut Resource, bool),
) -> Result<()> {
    let global = k.generator_options.as_ref();
    let lists = [
        (&k.config_map_generator, false),
        (&k.secret_generator, true),
    ];
    for (list, secret) in lists {
        for g in list {
            let mut res =
                generate(loader, dir, g, secret, global, notes).map_err(|e| at_entry(e, g))?;
            stamp(&mut res, secret);
            absorb(m, res, &g.origin)?;
        }
    }
    Ok(())
}

/// Runs one generator configured by a plugin object (`generators:`), without the
/// kustomization's `generatorOptions`; `stamp` records the generated object's provenance
/// when tracked.
///
/// Errors: as [`run`].
pub fn run_one(
    loader: &Loader,
    dir: &Path,
    g: &GeneratorArgs,
    secret: bool,
    m: &mut ResMap,
    notes: &mut Vec<String>,
    stamp: &dyn Fn(&mut Resource),
) -> Result<()> {
    let mut res = generate(loader, dir, g, secret, None, notes).map_err(|e| at_entry(e, g))?;
    stamp(&mut res);
    absorb(m, res, &g.origin)
}

fn at_entry(e: KustomizeError, g: &GeneratorArgs) -> KustomizeError {
    if e.origin.is_some() || matches!(e.kind, ErrorKind::Yaml(_)) {
        e
    } else {
        KustomizeError::new(e.kind, Some(g.origin.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::fs::RepoFs;

    fn repo(files: &[(&str, &str)]) -> (tempfile::TempDir, RepoFs) {
        let dir = tempfile::tempdir().expect("tempdir");
        for (p, c) in files {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, c).expect("write");
        }
        let fs = RepoFs::new(dir.path()).expect("root");
        (dir, fs)
    }

    fn sp(s: &str, line: u32) -> Spanned<String> {
        Spanned::new(
            s.to_string(),
            Origin::new("k/kustomization.yaml".into(), line, 3),
        )
    }

    fn args(name: &str) -> GeneratorArgs {
        GeneratorArgs {
            name: sp(name, 2),
            namespace: String::new(),
            behavior: sp("", 2),
            literals: vec![],
            files: vec![],
            envs: vec![],
            options: None,
            secret_type: String::new(),
            origin: Origin::new("k/kustomization.yaml".into(), 2, 3),
        }
    }

    #[test]
    fn literals_files_envs() {
        let (_d, fs) = repo(&[
            ("k/a.env", "A=1  \n# c\n  B=\"two\"\n"),
            ("k/f.txt", "x\ny\n"),
        ]);
        let l = Loader::new(&fs);
        let mut g = args("c");
        g.literals = vec![sp("q=\"x y\"", 4)];
        g.files = vec![sp("k2=f.txt", 5)];
        g.envs = vec![sp("a.env", 6)];
        let r = generate(&l, Path::new("k"), &g, false, None, &mut Vec::new()).expect("generates");
        let j = r.node.to_json();
        assert_eq!(
            j["data"],
            serde_json::json!({"A": "1  ", "B": "\"two\"", "q": "x y", "k2": "x\ny\n"})
        );
        assert_eq!(super::super::hash::hash(&r.node).len(), 10);
        let a = r.node.get_path(&["data", "A"]).expect("A");
        assert_eq!((&*a.origin.file, a.origin.line), ("k/a.env", 1));
    }

    #[test]
    fn bad_inputs_are_errors() {
        let (_d, fs) = repo(&[("k/x", "")]);
        let l = Loader::new(&fs);
        let mut g = args("c");
        g.literals = vec![sp("=v", 4)];
        assert!(generate(&l, Path::new("k"), &g, false, None, &mut Vec::new()).is_err());
        let mut g = args("c");
        g.literals = vec![sp("a=1", 4), sp("a=2", 5)];
        assert!(generate(&l, Path::new("k"), &g, false, None, &mut Vec::new()).is_err());
        let mut g = args("c");
        g.files = vec![sp("../../etc/passwd", 4)];
        assert!(generate(&l, Path::new("k"), &g, false, None, &mut Vec::new()).is_err());
    }

    #[test]
    fn secrets_are_base64_and_typed() {
        let (_d, fs) = repo(&[("k/x", "")]);
        let l = Loader::new(&fs);
        let mut g = args("s");
        g.literals = vec![sp("k=v", 4)];
        let r = generate(&l, Path::new("k"), &g, true, None, &mut Vec::new()).expect("generates");
        assert_eq!(r.node.to_json()["data"]["k"], "dg==");
        assert_eq!(r.node.to_json()["type"], "Opaque");
        assert_eq!(super::super::hash::hash(&r.node), "ftgtgc4t9f");
    }

    #[test]
    fn merge_behavior_keeps_old_name_and_merges_data() {
        let (_d, fs) = repo(&[("k/x", "")]);
        let l = Loader::new(&fs);
        let mut m = ResMap::new();
        let mut g = args("c");
        g.literals = vec![sp("a=1", 4)];
        let mut base =
            generate(&l, Path::new("k"), &g, false, None, &mut Vec::new()).expect("generates");
        base.set_name("p-c", &Origin::new("x".into(), 1, 1));
        base.prev_ids.push(base.cur_id());
        base.prev_ids[0].name = "c".into();
        absorb(&mut m, base, &g.origin).expect("absorbs");
        let mut g2 = args("c");
        g2.behavior = sp("merge", 3);
        g2.literals = vec![sp("b=2", 4)];
        let over =
            generate(&l, Path::new("k"), &g2, false, None, &mut Vec::new()).expect("generates");
        absorb(&mut m, over, &g2.origin).expect("merges");
        assert_eq!(m.list().len(), 1);
        assert_eq!(m.list()[0].name(), "p-c");
        assert_eq!(
            m.list()[0].node.to_json()["data"],
            serde_json::json!({"a": "1", "b": "2"})
        );
        let g3 = args("c");
        let dup =
            generate(&l, Path::new("k"), &g3, false, None, &mut Vec::new()).expect("generates");
        assert!(absorb(&mut m, dup, &g3.origin).is_err());
    }
}
