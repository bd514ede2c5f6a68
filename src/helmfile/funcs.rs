//! The template functions of helmfile state files and values templates, after helmfile
//! `pkg/tmpl/context_funcs.go`: Sprig and Helm's `toYaml`/`fromYaml`/`tpl`/`required`/`include`,
//! plus `readFile`, `isFile`, `isDir` (through the confined reader, relative to the state
//! file's folder), `get`/`getOrNil`/`setValueAtPath`, and `env`/`requiredEnv`, which read only
//! the variables `.driftlint.yaml` lists under `helmfile.env` (never the process environment
//! by default). `exec`, `envExec`, `readDir`, `readDirEntries` are refused: driftlint never runs
//! a command a repository names. `fetchSecretValue` and `expandSecretRefs` return their
//! argument unchanged: secret references stay opaque, never fetched.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use driftlint_yaml::fs::RepoFs;
use gotmpl::sprig::{arg, f, fv, sarg, A, S};
use gotmpl::{FuncMap, Function, Param, Value};

/// The message marker of a refused function: the failure becomes RENDER002.
pub(crate) const UNSUPPORTED: &str = "is not supported by driftlint";

/// Largest file `readFile` returns, in bytes.
const MAX_READ_FILE: u64 = 16 << 20;

/// What the functions of one rendering see.
#[derive(Clone)]
pub(crate) struct FuncEnv {
    /// The confined repository reader.
    pub(crate) fs: RepoFs,
    /// The repo-relative folder of the file being rendered (relative paths start there).
    pub(crate) dir: PathBuf,
    /// The environment variables `env`/`requiredEnv` may read.
    pub(crate) vars: Arc<BTreeMap<String, String>>,
}

/// The function map for templates rendered in `env`.
pub(crate) fn helmfile_funcs(env: &FuncEnv) -> FuncMap {
    let mut m = driftlint_helm::funcs::helm_funcs();
    m.insert("toYaml", f(&[A], |a| Ok(to_yaml(arg(a, 0)).into())));
    for name in ["exec", "envExec", "readDir", "readDirEntries"] {
        m.insert(name, refused(name));
    }
    let vars = env.vars.clone();
    m.insert(
        "env",
        f(&[S], move |a| {
            Ok(vars.get(sarg(a, 0)).cloned().unwrap_or_default().into())
        }),
    );
    let vars = env.vars.clone();
    m.insert(
        "requiredEnv",
        f(&[S], move |a| match vars.get(sarg(a, 0)) {
            Some(v) if !v.is_empty() => Ok(v.clone().into()),
            _ => Err(format!(
                "required env var `{}` is not set (driftlint reads only the variables listed in .driftlint.yaml helmfile.env)",
                sarg(a, 0)
            )),
        }),
    );
    let e = env.clone();
    m.insert("readFile", f(&[S], move |a| read_file(&e, sarg(a, 0))));
    let e = env.clone();
    m.insert(
        "isFile",
        f(&[S], move |a| {
            Ok(Value::Bool(
                resolve(&e, sarg(a, 0)).is_some_and(|p| p.is_file()),
            ))
        }),
    );
    let e = env.clone();
    m.insert(
        "isDir",
        f(&[S], move |a| {
            Ok(Value::Bool(
                resolve(&e, sarg(a, 0)).is_some_and(|p| p.is_dir()),
            ))
        }),
    );
    m.insert("get", fv(&[S], A, |a| get(a, false)));
    m.insert("getOrNil", f(&[S, A], |a| get(a, true)));
    m.insert("setValueAtPath", f(&[S, A, A], set_value_at_path));
    for name in ["fetchSecretValue", "expandSecretRefs"] {
        m.insert(name, f(&[A], |a| Ok(arg(a, 0).clone())));
    }
    m
}

fn refused(name: &'static str) -> Function {
    Function::new(&[], Some(Param::Any), move |_, _| {
        Err(format!(
            "{name} {UNSUPPORTED}: it never runs commands or lists folders named by a repository"
        ))
    })
}

/// helmfile's `toYaml`: go-yaml's `Marshal`, keys sorted, with its trailing newline.
pub(crate) fn to_yaml(v: &Value) -> String {
    let s = driftlint_helm::funcs::to_yaml(v);
    if s.is_empty() || s == "{}" && matches!(v, Value::Nil) {
        return if matches!(v, Value::Nil) {
            "null\n".into()
        } else {
            "{}\n".into()
        };
    }
    format!("{s}\n")
}

/// The absolute path of `rel` (relative to the rendered file's folder) when it stays in the
/// repository.
fn resolve(env: &FuncEnv, rel: &str) -> Option<PathBuf> {
    env.fs.resolve(&env.dir, rel).ok()
}

fn read_file(env: &FuncEnv, rel: &str) -> Result<Value, String> {
    let abs = env.fs.resolve(&env.dir, rel).map_err(|e| e.to_string())?;
    let meta = std::fs::metadata(&abs).map_err(|e| format!("{}: {e}", env.fs.display(&abs)))?;
    if meta.len() > MAX_READ_FILE {
        return Err(format!(
            "{}: larger than the readFile budget of {MAX_READ_FILE} bytes",
            env.fs.display(&abs)
        ));
    }
    let text = env.fs.read_text(&abs).map_err(|e| e.to_string())?;
    Ok(Value::from(text.as_ref()))
}

/// `get PATH [DEFAULT] MAP` / `getOrNil PATH MAP`: the value at the dotted path, else the
/// default (an error without one, as helmfile's `no value exist for key`).
fn get(a: &[Value], or_nil: bool) -> Result<Value, String> {
    let path = sarg(a, 0);
    let (default, obj) = match a.len() {
        2 => (None, arg(a, 1)),
        3 => (Some(arg(a, 1)), arg(a, 2)),
        n => {
            return Err(format!(
                "unexpected number of args passed to get: {}",
                n - 1
            ))
        }
    };
    if path.is_empty() {
        return Ok(obj.clone());
    }
    match super::values::at_path(obj, path) {
        Some(v) => Ok(v),
        None if or_nil => Ok(Value::Nil),
        None => default
            .cloned()
            .ok_or_else(|| format!("no value exist for key \"{path}\" in {}", debug(obj))),
    }
}

fn debug(v: &Value) -> String {
    gotmpl::sprig::encoding::to_json(v, gotmpl::sprig::encoding::JsonStyle::Compact)
        .unwrap_or_default()
}

/// `setValueAtPath PATH VALUE MAP`: sets the value in the map (creating maps on the way) and
/// returns the map.
fn set_value_at_path(a: &[Value]) -> Result<Value, String> {
    let path: Vec<&str> = sarg(a, 0).split('.').collect();
    let obj = arg(a, 2).clone();
    let Value::Map(mut cur) = obj.clone() else {
        return Err(format!(
            "setValueAtPath: expected a map, got {}",
            obj.go_type()
        ));
    };
    for (i, seg) in path.iter().enumerate() {
        if i + 1 == path.len() {
            cur.write().insert((*seg).to_string(), arg(a, 1).clone());
            break;
        }
        let next = match cur.get(seg) {
            Some(Value::Map(m)) => m,
            Some(other) => {
                return Err(format!(
                    "setValueAtPath: {seg} is a {}, not a map",
                    other.go_type()
                ))
            }
            None => {
                let m = gotmpl::MapRef::new(BTreeMap::new());
                cur.write()
                    .insert((*seg).to_string(), Value::Map(m.clone()));
                m
            }
        };
        cur = next;
    }
    Ok(obj)
}

/// The `_*.tpl` helper files of a folder (repo-relative, sorted), which helmfile parses into
/// every template of that folder so that `include` finds their `define`s.
pub(crate) fn helper_files(fs: &RepoFs, dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(fs.root().join(dir)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.starts_with('_') && n.ends_with(".tpl"))
        .collect();
    names.sort();
    names.into_iter().map(|n| dir.join(n)).collect()
}
