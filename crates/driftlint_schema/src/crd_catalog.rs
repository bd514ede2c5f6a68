//! CRD schemas from a CRDs-catalog (datreeio/CRDs-catalog layout: `<group>/<kind>_<version>.json`,
//! lower case, one JSON schema per served CRD version, converted from the CRD's
//! `openAPIV3Schema` by kubeconform's `openapi2jsonschema.py` in strict mode).
//!
//! Two instances exist: the groups embedded by `scripts/gen-crd-catalog.py`
//! (`schemas/crd-catalog-index.json.gz` and `crd-catalog-groups.bin`, one gzip member per API
//! group so that a run decompresses only the groups it looks up; strict mode already undone,
//! kinds spelled where the generator could tell) and the files of a checkout given at run time (`--crd-catalog DIR`),
//! whose kinds are known only in lower case. A kind known only in lower case matches any
//! spelling, as kubeconform's file lookup does. Schemas are converted on first use like a CRD
//! added at run time ([`crd::to_json_schema`]), after removing the `additionalProperties: false`
//! that the strict conversion added next to every `properties` (driftlint's strict mode puts
//! them back; a CRD structural schema cannot carry one).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::{Arc, OnceLock};

use flate2::read::GzDecoder;
use serde::Deserialize;
use serde_json::Value;

use super::crd::{self, CrdSchema};
use super::SchemaError;

const INDEX_FILE: &str = "crd-catalog-index.json.gz";
const GROUPS_FILE: &str = "crd-catalog-groups.bin";
static INDEX_GZ: &[u8] = include_bytes!("../../../schemas/crd-catalog-index.json.gz");
static GROUPS_BIN: &[u8] = include_bytes!("../../../schemas/crd-catalog-groups.bin");

/// One apiVersion/kind of a catalog.
struct Entry {
    /// The kind as the CRD spells it, or lower case when unknown.
    kind: String,
    case_known: bool,
    body: usize,
}

/// Where a schema body's JSON text is.
enum Text {
    /// Read from a checkout.
    Owned(String),
    /// Line `line` of embedded group member `group`.
    Member { group: usize, line: usize },
}

/// One embedded group's gzip member (a byte range of `crd-catalog-groups.bin`), decompressed
/// and split into lines on first use.
struct Member {
    range: std::ops::Range<usize>,
    lines: OnceLock<Result<Vec<String>, String>>,
}

/// A schema body: its JSON text, converted on first use.
struct Body {
    text: Text,
    /// Catalog-relative file (`group/kind_version.json`) or `embedded`, for messages.
    file: String,
    converted: OnceLock<Result<Arc<CrdSchema>, String>>,
}

/// The schemas of one CRDs-catalog, keyed by (apiVersion, lower-case kind).
pub(crate) struct CrdCatalog {
    /// `datreeio/CRDs-catalog@7b1e26e (MIT), embedded` or `--crd-catalog DIR`.
    pub(crate) source: String,
    entries: BTreeMap<(String, String), Entry>,
    bodies: Vec<Body>,
    members: Vec<Member>,
}

#[derive(Deserialize)]
struct RawHead {
    source: RawSource,
    groups: Vec<(String, usize, usize)>,
    kinds: Vec<(String, String, bool, usize, usize)>,
}

#[derive(Deserialize)]
struct RawSource {
    catalog: String,
    commit: String,
    license: String,
}

static EMBEDDED: OnceLock<Result<CrdCatalog, SchemaError>> = OnceLock::new();

/// The embedded catalog, decoded on first use (schemas are converted per kind when needed).
pub(crate) fn embedded() -> Result<&'static CrdCatalog, SchemaError> {
    EMBEDDED
        .get_or_init(|| {
            let mut text = String::new();
            GzDecoder::new(INDEX_GZ)
                .read_to_string(&mut text)
                .map_err(|e| error(INDEX_FILE, e.to_string()))?;
            CrdCatalog::parse_embedded(&text)
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn error(file: &'static str, reason: String) -> SchemaError {
    SchemaError::Embedded { file, reason }
}

/// The lines of one embedded group member.
fn inflate(range: std::ops::Range<usize>) -> Result<Vec<String>, String> {
    let bytes = GROUPS_BIN
        .get(range)
        .ok_or_else(|| format!("{GROUPS_FILE}: member out of range"))?;
    let mut text = String::new();
    GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .map_err(|e| format!("{GROUPS_FILE}: {e}"))?;
    Ok(text.lines().map(str::to_owned).collect())
}

impl CrdCatalog {
    /// Decode the index written by `scripts/gen-crd-catalog.py`; group members are inflated
    /// when a schema of theirs is first needed.
    fn parse_embedded(text: &str) -> Result<CrdCatalog, SchemaError> {
        let head: RawHead =
            serde_json::from_str(text).map_err(|e| error(INDEX_FILE, e.to_string()))?;
        let commit = head.source.commit.get(..7).unwrap_or(&head.source.commit);
        let source = format!(
            "{}@{commit} ({}), embedded",
            head.source.catalog, head.source.license
        );
        let members = head
            .groups
            .iter()
            .map(|(_, offset, length)| Member {
                range: *offset..offset.saturating_add(*length),
                lines: OnceLock::new(),
            })
            .collect::<Vec<_>>();
        let mut entries = BTreeMap::new();
        let mut bodies = Vec::new();
        let mut body_of: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        for (api_version, kind, case_known, group, line) in head.kinds {
            if group >= members.len() {
                return Err(error(
                    INDEX_FILE,
                    format!("{api_version} {kind}: no group {group}"),
                ));
            }
            let body = *body_of.entry((group, line)).or_insert_with(|| {
                bodies.push(Body {
                    text: Text::Member { group, line },
                    file: String::new(),
                    converted: OnceLock::new(),
                });
                bodies.len() - 1
            });
            let key = (api_version, kind.to_lowercase());
            entries.insert(
                key,
                Entry {
                    kind,
                    case_known,
                    body,
                },
            );
        }
        Ok(CrdCatalog {
            source,
            entries,
            bodies,
            members,
        })
    }

    /// A catalog over files of a checkout: `(group, file name, JSON text)`; file names that are
    /// not `<kind>_<version>.json` are ignored. `source` names the checkout for messages.
    pub(crate) fn from_files(source: String, files: Vec<(String, String, String)>) -> CrdCatalog {
        let mut entries = BTreeMap::new();
        let mut bodies = Vec::new();
        for (group, name, text) in files {
            let Some((kind, version)) = name
                .strip_suffix(".json")
                .and_then(|stem| stem.rsplit_once('_'))
            else {
                continue;
            };
            let key = (format!("{group}/{version}"), kind.to_lowercase());
            let entry = Entry {
                kind: kind.to_lowercase(),
                case_known: false,
                body: bodies.len(),
            };
            bodies.push(Body {
                text: Text::Owned(text),
                file: format!("{group}/{name}"),
                converted: OnceLock::new(),
            });
            entries.insert(key, entry);
        }
        CrdCatalog {
            source,
            entries,
            bodies,
            members: Vec::new(),
        }
    }

    /// The JSON text of `body`.
    fn text_of<'s>(&'s self, body: &'s Body) -> Result<&'s str, String> {
        match &body.text {
            Text::Owned(text) => Ok(text),
            Text::Member { group, line } => {
                let member = self
                    .members
                    .get(*group)
                    .ok_or_else(|| format!("no group {group}"))?;
                let lines = member
                    .lines
                    .get_or_init(|| inflate(member.range.clone()))
                    .as_ref()
                    .map_err(Clone::clone)?;
                lines
                    .get(*line)
                    .map(String::as_str)
                    .ok_or_else(|| format!("no line {line} in group {group}"))
            }
        }
    }

    fn entry(&self, api_version: &str, kind: &str) -> Option<&Entry> {
        let entry = self
            .entries
            .get(&(api_version.to_owned(), kind.to_lowercase()))?;
        (entry.kind == kind || !entry.case_known).then_some(entry)
    }

    /// The schema of `api_version`/`kind`, converted on first use. `Err` when the catalog has
    /// it but it does not convert (reported as a violation by the caller).
    pub(crate) fn get(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Option<Result<Arc<CrdSchema>, String>> {
        let entry = self.entry(api_version, kind)?;
        let body = self.bodies.get(entry.body)?;
        let converted = body.converted.get_or_init(|| {
            let raw: Value =
                serde_json::from_str(self.text_of(body)?).map_err(|e| e.to_string())?;
            let schema = crd::to_json_schema(&unstrict(raw), true)?;
            let file = if body.file.is_empty() {
                String::new()
            } else {
                format!(" {}", body.file)
            };
            Ok(Arc::new(CrdSchema {
                schema,
                source: format!("CRD catalog {}{file}", self.source),
            }))
        });
        Some(converted.clone())
    }

    /// (version, kind) of every kind of `group`, kinds as spelled (lower case when unknown).
    pub(crate) fn kinds_in_group(&self, group: &str, out: &mut BTreeSet<(String, String)>) {
        let prefix = format!("{group}/");
        for ((av, _), entry) in self.entries.range((prefix.clone(), String::new())..) {
            let Some(version) = av.strip_prefix(&prefix) else {
                break;
            };
            out.insert((version.to_owned(), entry.kind.clone()));
        }
    }

    /// Number of apiVersion/kinds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Remove `additionalProperties: false` from every schema that lists `properties` (the inverse
/// of openapi2jsonschema's strict mode), at any depth.
fn unstrict(mut node: Value) -> Value {
    strip(&mut node);
    node
}

fn strip(node: &mut Value) {
    match node {
        Value::Object(map) => {
            if map.contains_key("properties")
                && map.get("additionalProperties") == Some(&Value::Bool(false))
            {
                map.remove("additionalProperties");
            }
            for (key, value) in map.iter_mut() {
                if !matches!(key.as_str(), "enum" | "required" | "default" | "example") {
                    strip(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_decodes_and_spells_kinds() {
        let catalog = embedded().expect("decodes");
        assert!(catalog
            .source
            .starts_with("datreeio/CRDs-catalog@7b1e26e (MIT)"));
        assert!(catalog.len() > 300);
        let secret = catalog
            .get("external-secrets.io/v1", "ExternalSecret")
            .expect("known")
            .expect("converts");
        assert!(secret.source.contains("datreeio/CRDs-catalog@7b1e26e"));
        assert!(catalog
            .get("external-secrets.io/v1", "Externalsecret")
            .is_none());
        let mut kinds = BTreeSet::new();
        catalog.kinds_in_group("cert-manager.io", &mut kinds);
        assert!(kinds.contains(&("v1".to_owned(), "ClusterIssuer".to_owned())));
    }

    #[test]
    fn every_embedded_schema_converts() {
        let catalog = embedded().expect("decodes");
        for ((api_version, _), entry) in &catalog.entries {
            let kind = &entry.kind;
            let got = catalog.get(api_version, kind).expect("present");
            assert!(got.is_ok(), "{api_version} {kind}: {got:?}");
        }
    }

    #[test]
    fn files_match_any_spelling_and_lose_strictness() {
        let text = r#"{"type":"object","properties":{"spec":{"type":"object","additionalProperties":false,"properties":{"size":{"type":"integer"}}}}}"#;
        let catalog = CrdCatalog::from_files(
            "--crd-catalog /cat".into(),
            vec![
                ("example.com".into(), "widget_v1.json".into(), text.into()),
                ("example.com".into(), "README.md".into(), String::new()),
            ],
        );
        assert_eq!(catalog.len(), 1);
        let schema = catalog
            .get("example.com/v1", "Widget")
            .expect("any spelling")
            .expect("converts");
        assert_eq!(
            schema.source,
            "CRD catalog --crd-catalog /cat example.com/widget_v1.json"
        );
        assert_eq!(
            schema.schema["properties"]["spec"].get("additionalProperties"),
            None
        );
        assert!(catalog.get("example.com/v2", "Widget").is_none());
    }
}
