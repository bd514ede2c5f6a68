//! `driftlint diff` for a terminal (`--format human`) and for machines (`--format json`).
//!
//! Human: per changed unit a header (id, kind, status, counts), per object a line (`+`
//! added, `-` removed, `~` changed; kind, namespace/name; the source lines that caused it) and
//! its unified diff, base (`-`) against new (`+`); then one line of totals and findings. Every
//! text from the repository has its control characters escaped; `color` adds ANSI colours.
//!
//! JSON: `{"version": 1, "base", "baseCommit", "unchangedUnits", "units": [{"id", "kind",
//! "status", "unchanged", "objects": [{"change", "apiVersion", "kind", "namespace", "name",
//! "oldName"?, "diff", "added", "removed", "origins"}]}], "findings": {"new": [check JSON
//! findings], "existing", "fixed"}}`.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::escape::controls;
use crate::diff::{Change, DiffReport, UnitStatus};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// The JSON report's format version.
pub const DIFF_JSON_VERSION: u32 = 1;

/// The human report of `report`'s units and totals (the caller adds the new findings).
pub fn diff_human(report: &DiffReport, color: bool) -> String {
    let paint = |code: &str, text: &str| match color {
        true => format!("{code}{text}{RESET}"),
        false => text.to_string(),
    };
    let mut out = String::new();
    for unit in &report.units {
        let (a, c, r) = unit.counts();
        let status = match unit.status {
            UnitStatus::Added => "added",
            UnitStatus::Removed => "removed",
            UnitStatus::Changed => "changed",
            UnitStatus::FailsNow => "fails to render now",
            UnitStatus::Fixed => "renders again",
        };
        let _ = writeln!(
            out,
            "{} ({}): {status}, {a} added, {c} changed, {r} removed",
            paint(BOLD, &controls(&unit.id)),
            unit.kind
        );
        for o in &unit.objects {
            let sign = match o.change {
                Change::Added => paint(GREEN, "+"),
                Change::Removed => paint(RED, "-"),
                Change::Changed => paint(CYAN, "~"),
            };
            let from = match o.origins.is_empty() {
                true => String::new(),
                false => format!("  ← {}", o.origins.join(", ")),
            };
            let _ = writeln!(out, "  {sign} {}{}", controls(&o.title()), controls(&from));
            for line in o.diff.lines().skip(2) {
                let line = controls(line);
                let painted = match line.chars().next() {
                    Some('-') => paint(RED, &line),
                    Some('+') => paint(GREEN, &line),
                    Some('@') => paint(CYAN, &line),
                    _ => line.to_string(),
                };
                let _ = writeln!(out, "    {painted}");
            }
        }
    }
    let f = &report.findings;
    let _ = writeln!(
        out,
        "{} unit(s) changed, {} unchanged (base {} {}); findings: {} new, {} existing, {} fixed",
        report.units.len(),
        report.unchanged_units,
        controls(&report.base),
        &report.base_commit[..12.min(report.base_commit.len())],
        f.new.len(),
        f.existing,
        f.fixed
    );
    out
}

/// The JSON report of `report` (see the module docs), pretty-printed, ending with a newline.
pub fn diff_json(report: &DiffReport) -> String {
    let summary = super::Summary::new(&report.findings.new, report.check.targets.len(), 0);
    let findings: Value = serde_json::from_str(&super::json(&report.findings.new, &summary))
        .ok()
        .and_then(|v: Value| v.get("findings").cloned())
        .unwrap_or(Value::Array(Vec::new()));
    let doc = json!({
        "version": DIFF_JSON_VERSION,
        "base": report.base,
        "baseCommit": report.base_commit,
        "unchangedUnits": report.unchanged_units,
        "units": report.units,
        "findings": {
            "new": findings,
            "existing": report.findings.existing,
            "fixed": report.findings.fixed,
        },
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
