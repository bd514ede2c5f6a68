//! Reading `driftlint drift --format json` reports in the drift tests (`cli_drift`,
//! `drift_units`, `real_cluster`): the report, and its findings as sorted
//! (code, `file:line`, field) triples.

#![allow(dead_code)]

use std::process::Output;

use serde_json::Value;

/// The JSON report on stdout; panics with stdout and stderr when it is not JSON.
pub fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// (code, file:line, field) of every finding of a JSON report, sorted.
pub fn findings(out: &Output) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = report(out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                format!(
                    "{}:{}",
                    f["location"]["file"].as_str().unwrap(),
                    f["location"]["line"]
                ),
                f["field"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// One expected finding, as [`findings`] lists them.
pub fn triple(code: &str, at: impl Into<String>, field: &str) -> (String, String, String) {
    (code.into(), at.into(), field.into())
}
