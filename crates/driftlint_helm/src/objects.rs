//! Helm's built-in template objects that are Go structs with methods: `.Capabilities`
//! (`KubeVersion`, `APIVersions.Has`, `HelmVersion`) and `.Files` (`Get`, `GetBytes`, `Glob`,
//! `Lines`, `AsConfig`, `AsSecrets`), as pkg/chart/common's `Capabilities` and engine `files`.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use gotmpl::{Function, Object, Param, Value};

/// Helm v4.1.4's built-in API group/versions (`chartutil.DefaultVersionSet`), one a line.
const DEFAULT_API_VERSIONS: &str = include_str!("api_versions.txt");

/// Helm v4.1.4's default Kubernetes version when `--kube-version` is not given.
pub const DEFAULT_KUBE_VERSION: &str = "v1.35.0";

/// The Helm version reported by `.Capabilities.HelmVersion`.
const HELM_VERSION: &str = "v4.1.4";

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`).
pub fn go_float(f: f64) -> String {
    gotmpl::fmt::sprint(&[Value::Float(f)])
}

/// `.Capabilities.KubeVersion`: `Version`/`GitVersion` (`v1.35.0`), `Major`, `Minor`.
#[derive(Debug, Clone)]
pub struct KubeVersion {
    /// `v`-prefixed full version.
    pub version: String,
    /// Major number as text.
    pub major: String,
    /// Minor number as text.
    pub minor: String,
}

impl KubeVersion {
    /// Parses `1.31.4` or `v1.31.4` (a missing patch is `0`), as Helm's
    /// `common.ParseKubeVersion`. Errors: Helm's `invalid kube version` text.
    pub fn parse(text: &str) -> Result<KubeVersion, String> {
        let v = super::semver::Version::parse(text.trim_start_matches('v')).ok_or_else(|| {
            format!("invalid kube version '{text}': could not parse {text:?} as version")
        })?;
        Ok(KubeVersion {
            version: format!("v{}", v.text()),
            major: v.major.to_string(),
            minor: v.minor.to_string(),
        })
    }
}

impl Object for KubeVersion {
    fn type_name(&self) -> String {
        "common.KubeVersion".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" | "GitVersion" => Some(Value::str(&self.version)),
            "Major" => Some(Value::str(&self.major)),
            "Minor" => Some(Value::str(&self.minor)),
            _ => None,
        }
    }
    fn method(&self, name: &str) -> Option<Function> {
        let v = self.version.clone();
        (name == "String").then(|| Function::new(&[], None, move |_, _| Ok(Value::str(&v))))
    }
    fn format(&self) -> String {
        self.version.clone()
    }
}

/// `.Capabilities.APIVersions`: the default set plus `--api-versions`, with `Has`.
#[derive(Debug, Clone)]
pub struct ApiVersions(pub Arc<Vec<String>>);

impl ApiVersions {
    /// The default set followed by `extra`.
    pub fn with_extra(extra: &[String]) -> ApiVersions {
        let mut v: Vec<String> = DEFAULT_API_VERSIONS
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        v.extend(extra.iter().cloned());
        ApiVersions(Arc::new(v))
    }

    /// Whether `gv` (`apps/v1` or `apps/v1/Deployment`) is in the set.
    pub fn has(&self, gv: &str) -> bool {
        self.0.iter().any(|v| v == gv)
    }
}

impl Object for ApiVersions {
    fn type_name(&self) -> String {
        "common.VersionSet".into()
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str) -> Option<Function> {
        let me = self.clone();
        (name == "Has").then(|| {
            Function::new(&[Param::String], None, move |_, a| {
                let s = a.first().and_then(Value::as_str).unwrap_or("");
                Ok(Value::Bool(me.has(s)))
            })
        })
    }
    fn format(&self) -> String {
        format!("[{}]", self.0.join(" "))
    }
    fn underlying(&self) -> Option<Value> {
        Some(Value::list(self.0.iter().map(|s| Value::str(s)).collect()))
    }
}

/// `.Capabilities.HelmVersion`.
#[derive(Debug, Clone)]
struct HelmVersion;

impl Object for HelmVersion {
    fn type_name(&self) -> String {
        "common.BuildInfo".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" => Some(Value::str(HELM_VERSION)),
            "GitCommit" | "GitTreeState" | "GoVersion" | "KubeClientVersion" => {
                Some(Value::str(""))
            }
            _ => None,
        }
    }
    fn format(&self) -> String {
        format!("{{{HELM_VERSION}    }}")
    }
}

/// `.Capabilities`.
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// The Kubernetes version.
    pub kube: KubeVersion,
    /// The API versions.
    pub apis: ApiVersions,
}

impl Object for Capabilities {
    fn type_name(&self) -> String {
        "*common.Capabilities".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "KubeVersion" => Some(Value::Object(Arc::new(self.kube.clone()))),
            "APIVersions" => Some(Value::Object(Arc::new(self.apis.clone()))),
            "HelmVersion" => Some(Value::Object(Arc::new(HelmVersion))),
            _ => None,
        }
    }
    fn format(&self) -> String {
        format!(
            "{{{} {} {{{HELM_VERSION}    }}}}",
            self.kube.version,
            self.apis.format()
        )
    }
}

/// `.Files`: the chart's non-template files by chart-relative path, sorted.
#[derive(Debug, Clone)]
pub struct Files(pub Arc<Vec<(String, Vec<u8>)>>);

impl Files {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(p, _)| p == name)
            .map(|(_, b)| b.as_slice())
    }

    fn glob(&self, pattern: &str) -> Result<Files, String> {
        let g = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| e.to_string())?
            .compile_matcher();
        Ok(Files(Arc::new(
            self.0
                .iter()
                .filter(|(p, _)| g.is_match(p))
                .cloned()
                .collect(),
        )))
    }

    fn entries(&self, encode: bool) -> String {
        let mut m = Map::new();
        for (p, b) in self.0.iter() {
            let base = p.rsplit('/').next().unwrap_or(p).to_string();
            let v = if encode {
                data_encoding::BASE64.encode(b)
            } else {
                String::from_utf8_lossy(b).into_owned()
            };
            m.insert(base, Json::String(v));
        }
        if m.is_empty() {
            return String::new();
        }
        let mut sorted: Vec<(String, Json)> = m.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let node = driftlint_yaml::Node::from_json(
            &Json::Object(sorted.into_iter().collect()),
            &driftlint_yaml::Origin::new(Arc::from(""), 0, 0),
        );
        driftlint_yaml::emit_node(&node).trim_end().to_string()
    }
}

fn files_fn(
    f: Files,
    params: &[Param],
    body: fn(&Files, &[Value]) -> Result<Value, String>,
) -> Function {
    Function::new(params, None, move |_, a| body(&f, a))
}

fn arg(a: &[Value]) -> &str {
    a.first().and_then(Value::as_str).unwrap_or("")
}

impl Object for Files {
    fn type_name(&self) -> String {
        "engine.files".into()
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str) -> Option<Function> {
        let f = self.clone();
        let s = [Param::String];
        Some(match name {
            "Get" => files_fn(f, &s, |f, a| {
                Ok(Value::str(&String::from_utf8_lossy(
                    f.get(arg(a)).unwrap_or(&[]),
                )))
            }),
            "GetBytes" => files_fn(f, &s, |f, a| {
                let b = f.get(arg(a)).unwrap_or(&[]);
                Ok(Value::list(
                    b.iter().map(|x| Value::Int(i64::from(*x))).collect(),
                ))
            }),
            "Lines" => files_fn(f, &s, |f, a| {
                let Some(b) = f.get(arg(a)) else {
                    return Ok(Value::list(Vec::new()));
                };
                // Helm's `Lines`: one trailing newline dropped, then split.
                let text = String::from_utf8_lossy(b);
                let text = text.strip_suffix('\n').unwrap_or(&text);
                Ok(Value::list(text.split('\n').map(Value::str).collect()))
            }),
            "Glob" => files_fn(f, &s, |f, a| Ok(Value::Object(Arc::new(f.glob(arg(a))?)))),
            "AsConfig" => files_fn(f, &[], |f, _| Ok(Value::str(&f.entries(false)))),
            "AsSecrets" => files_fn(f, &[], |f, _| Ok(Value::str(&f.entries(true)))),
            _ => return None,
        })
    }
    fn format(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|(p, b)| format!("{p}:{:?}", b)).collect();
        format!("map[{}]", parts.join(" "))
    }
    fn underlying(&self) -> Option<Value> {
        Some(Value::map(self.0.iter().map(|(p, b)| {
            let bytes = b.iter().map(|x| Value::Int(i64::from(*x))).collect();
            (p.clone(), Value::list(bytes))
        })))
    }
}
