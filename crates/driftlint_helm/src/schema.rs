//! `values.schema.json` validation with the `jsonschema` crate, reported in Helm v4's words
//! (santhosh-tekuri/jsonschema v6 messages: `- at '/port': got string, want integer`,
//! `missing properties 'a', 'b'`, ...). The order of errors follows the crate's evaluation
//! order, which can differ from Helm's (Go map order).

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::{Map, Value as Json};

use super::load::Chart;
use super::objects::go_float;
use super::HelmError;

/// Validates the values of `chart` and its subcharts (each against its own schema, with its
/// scoped values). Errors: Helm's `values don't meet the specifications of the schema(s) in
/// the following chart(s):` report, or an invalid schema.
pub fn validate(chart: &Chart, vals: &Map<String, Json>) -> Result<(), HelmError> {
    let mut report = String::new();
    let mut pointer = None;
    collect(chart, vals, "", &mut report, &mut pointer)?;
    if report.is_empty() {
        Ok(())
    } else {
        Err(HelmError::Schema {
            message: format!(
                "values don't meet the specifications of the schema(s) in the following chart(s):\n{}",
                report.trim_end()
            ),
            pointer,
        })
    }
}

/// Validates `chart` (whose values are at JSON pointer `prefix` of the root's) and its
/// subcharts, appending to `report`; `first` gets the root-relative pointer of the first
/// error reported.
fn collect(
    chart: &Chart,
    vals: &Map<String, Json>,
    prefix: &str,
    report: &mut String,
    first: &mut Option<String>,
) -> Result<(), HelmError> {
    if let Some(schema) = &chart.schema {
        let validator = jsonschema::validator_for(schema)
            .map_err(|e| HelmError::Load(format!("{}/values.schema.json: {e}", chart.dir)))?;
        let instance = Json::Object(vals.clone());
        let mut lines: Vec<(String, String)> = Vec::new();
        let mut missing: Vec<(String, Vec<String>)> = Vec::new();
        for e in validator.iter_errors(&instance) {
            let at = e.instance_path().to_string();
            if let ValidationErrorKind::Required { property } = e.kind() {
                let p = property.as_str().unwrap_or("").to_string();
                match missing.iter_mut().find(|(a, _)| *a == at) {
                    Some((_, ps)) => ps.push(p),
                    None => missing.push((at, vec![p])),
                }
                continue;
            }
            lines.push((at, message(e.kind(), e.instance(), &e.to_string())));
        }
        let missing_first = missing.first().map(|(at, _)| at.clone());
        let mut out: Vec<String> = missing
            .into_iter()
            .map(|(at, ps)| {
                let quoted: Vec<String> = ps.iter().map(|p| format!("'{p}'")).collect();
                let word = if ps.len() == 1 {
                    "property"
                } else {
                    "properties"
                };
                format!("- at '{at}': missing {word} {}", quoted.join(", "))
            })
            .collect();
        if first.is_none() {
            *first = missing_first
                .or_else(|| lines.first().map(|(at, _)| at.clone()))
                .map(|at| format!("{prefix}{at}"));
        }
        out.extend(lines.into_iter().map(|(at, m)| format!("- at '{at}': {m}")));
        if !out.is_empty() {
            report.push_str(&format!("{}:\n{}\n", chart.name, out.join("\n")));
        }
    }
    for sub in &chart.subcharts {
        if let Some(Json::Object(sv)) = vals.get(&sub.name) {
            let p = format!(
                "{prefix}/{}",
                sub.name.replace('~', "~0").replace('/', "~1")
            );
            collect(sub, sv, &p, report, first)?;
        }
    }
    Ok(())
}

fn num(v: &Json) -> String {
    match v {
        Json::Number(n) => go_float(n.as_f64().unwrap_or(0.0)),
        other => other.to_string(),
    }
}

fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn quote_list(items: &[Json]) -> String {
    items
        .iter()
        .map(|v| match v {
            Json::String(s) => format!("'{s}'"),
            other => num(other),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn size(v: &Json) -> usize {
    match v {
        Json::String(s) => s.chars().count(),
        Json::Array(a) => a.len(),
        Json::Object(m) => m.len(),
        _ => 0,
    }
}

/// Helm's (santhosh-tekuri v6) wording for common keywords; the crate's text otherwise.
fn message(kind: &ValidationErrorKind, instance: &Json, fallback: &str) -> String {
    use ValidationErrorKind as K;
    match kind {
        K::Type { kind } => {
            let mut want: Vec<String> = match kind {
                TypeKind::Single(t) => vec![t.to_string()],
                TypeKind::Multiple(ts) => ts.iter().map(|t| t.to_string()).collect(),
            };
            want.sort();
            format!("got {}, want {}", json_type(instance), want.join(" or "))
        }
        K::Minimum { limit } => format!("minimum: got {}, want {}", num(instance), num(limit)),
        K::Maximum { limit } => format!("maximum: got {}, want {}", num(instance), num(limit)),
        K::ExclusiveMinimum { limit } => {
            format!(
                "exclusiveMinimum: got {}, want {}",
                num(instance),
                num(limit)
            )
        }
        K::ExclusiveMaximum { limit } => {
            format!(
                "exclusiveMaximum: got {}, want {}",
                num(instance),
                num(limit)
            )
        }
        K::MinLength { limit } => format!("minLength: got {}, want {limit}", size(instance)),
        K::MaxLength { limit } => format!("maxLength: got {}, want {limit}", size(instance)),
        K::MinItems { limit } => format!("minItems: got {}, want {limit}", size(instance)),
        K::MaxItems { limit } => format!("maxItems: got {}, want {limit}", size(instance)),
        K::Enum { options } => match options.as_ref() {
            Json::Array(items) => format!("value must be one of {}", quote_list(items)),
            other => format!("value must be one of {other}"),
        },
        K::Constant { expected_value } => format!(
            "value must be {}",
            quote_list(std::slice::from_ref(expected_value.as_ref()))
        ),
        K::Pattern { pattern } => match instance {
            Json::String(s) => format!("'{s}' does not match pattern '{pattern}'"),
            _ => fallback.to_string(),
        },
        K::AdditionalProperties { unexpected } => {
            let q: Vec<String> = unexpected.iter().map(|p| format!("'{p}'")).collect();
            let word = if q.len() == 1 {
                "property"
            } else {
                "properties"
            };
            format!("additional {word} {} not allowed", q.join(", "))
        }
        _ => fallback.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn helm_wording() {
        // Messages observed with helm v4.1.4 on the same schema and values.
        let schema = json!({"type": "object", "properties": {
            "port": {"type": "integer", "maximum": 10},
            "name": {"type": ["string", "boolean"]},
            "e": {"enum": ["a", "b"]},
            "p": {"type": "string", "pattern": "^x"}},
            "required": ["img", "img2"]});
        let mut chart = super::super::load::tests_support::empty_chart("s");
        chart.schema = Some(schema);
        let vals = match json!({"port": 80.0, "name": 5.0, "e": "c", "p": "abc"}) {
            Json::Object(m) => m,
            _ => unreachable!(),
        };
        let err = validate(&chart, &vals).unwrap_err().to_string();
        for line in [
            "s:",
            "- at '': missing properties 'img', 'img2'",
            "- at '/name': got number, want boolean or string",
            "- at '/port': maximum: got 80, want 10",
            "- at '/p': 'abc' does not match pattern '^x'",
            "- at '/e': value must be one of 'a', 'b'",
        ] {
            assert!(err.lines().any(|l| l == line), "{line:?} missing in\n{err}");
        }
    }
}
