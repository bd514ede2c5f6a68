//! `driftlint diff --format markdown`: a pull request comment.
//!
//! A heading naming the base, a summary table with one row per changed unit (at most
//! [`MAX_TABLE_ROWS`]), each changed unit's objects in a collapsed `<details>` block with
//! their unified diffs in fenced `diff` blocks and the source lines that caused them (a unit
//! added or removed as a whole lists its objects without diffs; a change whose added and
//! removed lines and origins an earlier unit shows names that unit instead), then the
//! new findings (at most [`MAX_FINDING_ROWS`]). The whole comment stays within GitHub's
//! 65,536-character limit ([`COMMENT_LIMIT`], counted in characters): the largest diffs are
//! left out first, then the largest units' sections, and the comment says what was left out.
//! Text from the repository is escaped (table cells, code spans, HTML in `<summary>`), and each
//! fence is longer than any run of backticks inside it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::summary::{md_cell, md_code, most_severe_first};
use crate::diff::{DiffReport, ObjectDiff, UnitDiff, UnitStatus};

/// GitHub's limit on an issue or pull request comment, in characters.
pub const COMMENT_LIMIT: usize = 65_536;
/// Most units listed in the summary table.
pub const MAX_TABLE_ROWS: usize = 200;
/// Most new findings listed.
pub const MAX_FINDING_ROWS: usize = 50;
/// A marker GitHub does not show, for finding the comment to update (the Action's sticky
/// comment).
pub const COMMENT_MARKER: &str = "<!-- driftlint-diff -->";

/// What is left out to fit the limit: diffs by (unit, object) index, whole units by index.
#[derive(Default)]
struct Omitted {
    diffs: BTreeSet<(usize, usize)>,
    units: BTreeSet<usize>,
    /// Diffs whose changed lines and origins an earlier unit shows: the id of that unit.
    repeats: BTreeMap<(usize, usize), String>,
}

/// The changes (by unit and object index) that repeat an earlier one: the same added and
/// removed lines from the same origins (a shared base or component changed under many units),
/// with the first unit that shows it.
fn repeats(report: &DiffReport) -> BTreeMap<(usize, usize), String> {
    let mut first: BTreeMap<(Vec<&str>, &[String]), &str> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (u, unit) in report
        .units
        .iter()
        .enumerate()
        .filter(|(_, u)| with_diffs(u))
    {
        for (o, obj) in unit.objects.iter().enumerate() {
            if obj.change != crate::diff::Change::Changed || obj.origins.is_empty() {
                continue;
            }
            let changed: Vec<&str> = obj
                .diff
                .lines()
                .skip(2)
                .filter(|l| l.starts_with('+') || l.starts_with('-'))
                .collect();
            match first.get(&(changed.clone(), obj.origins.as_slice())) {
                Some(id) if *id != unit.id => {
                    out.insert((u, o), id.to_string());
                }
                _ => {
                    first.insert((changed, obj.origins.as_slice()), &unit.id);
                }
            }
        }
    }
    out
}

/// The comment for `report`, at most [`COMMENT_LIMIT`] characters.
pub fn diff_markdown(report: &DiffReport) -> String {
    let mut omitted = Omitted {
        repeats: repeats(report),
        ..Omitted::default()
    };
    let mut text = render(report, &omitted);
    // Each diff with what leaving it out saves (its section with the diff minus without).
    let mut diffs: Vec<(usize, (usize, usize))> = Vec::new();
    for (u, unit) in report
        .units
        .iter()
        .enumerate()
        .filter(|(_, u)| with_diffs(u))
    {
        for (o, obj) in unit.objects.iter().enumerate() {
            if omitted.repeats.contains_key(&(u, o)) {
                continue;
            }
            let (mut full, mut short) = (String::new(), String::new());
            object_section(&mut full, obj, false);
            object_section(&mut short, obj, true);
            let saved = full.chars().count().saturating_sub(short.chars().count());
            diffs.push((saved, (u, o)));
        }
    }
    diffs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut next = diffs.into_iter();
    while text.chars().count() > COMMENT_LIMIT {
        let mut excess = text.chars().count() - COMMENT_LIMIT;
        let mut dropped = false;
        for (size, at) in next.by_ref() {
            omitted.diffs.insert(at);
            dropped = true;
            excess = excess.saturating_sub(size);
            if excess == 0 {
                break;
            }
        }
        if !dropped && !drop_largest_unit(report, &mut omitted) {
            return cut(&text);
        }
        text = render(report, &omitted);
    }
    text
}

/// Leaves out the section of the largest unit still shown; false when none is left.
fn drop_largest_unit(report: &DiffReport, omitted: &mut Omitted) -> bool {
    let largest = (0..report.units.len())
        .filter(|u| !omitted.units.contains(u))
        .max_by_key(|&u| (report.units[u].objects.len(), std::cmp::Reverse(u)));
    largest.is_some_and(|u| omitted.units.insert(u))
}

/// The last resort: the text cut at a line before the limit, with a note.
fn cut(text: &str) -> String {
    let note = "\n\n… the rest of this report is left out (GitHub's comment limit); run `driftlint diff` locally for all of it.\n";
    let keep = COMMENT_LIMIT - note.chars().count() - 1;
    let prefix: String = text.chars().take(keep).collect();
    let end = prefix.rfind('\n').unwrap_or(0);
    format!("{}{note}", &prefix[..end])
}

fn render(report: &DiffReport, omitted: &Omitted) -> String {
    let mut out = String::new();
    heading(&mut out, report);
    table(&mut out, report);
    for (u, unit) in report.units.iter().enumerate() {
        if !omitted.units.contains(&u) {
            unit_section(&mut out, u, unit, omitted);
        }
    }
    let left_out = omitted.diffs.len();
    if left_out > 0 || !omitted.units.is_empty() {
        let _ = writeln!(
            out,
            "> [!NOTE]\n> To fit GitHub's comment limit, {left_out} of the largest diffs and {} unit section(s) are left out; run `driftlint diff --base {}` locally to see them.\n",
            omitted.units.len(),
            md_code(&report.base_commit[..12.min(report.base_commit.len())])
        );
    }
    findings(&mut out, report);
    out
}

fn heading(out: &mut String, report: &DiffReport) {
    let short = &report.base_commit[..12.min(report.base_commit.len())];
    let (mut added, mut changed, mut removed) = (0, 0, 0);
    for u in &report.units {
        let (a, c, r) = u.counts();
        added += a;
        changed += c;
        removed += r;
    }
    let _ = writeln!(out, "{COMMENT_MARKER}\n### driftlint diff\n");
    let _ = writeln!(
        out,
        "Compared with `{}` (`{short}`): **{} unit(s) changed**, {} unchanged; objects: {added} added, {changed} changed, {removed} removed.\n",
        md_code(&report.base),
        report.units.len(),
        report.unchanged_units,
    );
    let f = &report.findings;
    let _ = writeln!(
        out,
        "Findings: **{} new**, {} existing (not shown), {} fixed.\n",
        f.new.len(),
        f.existing,
        f.fixed
    );
}

fn status(s: UnitStatus) -> &'static str {
    match s {
        UnitStatus::Added => "added",
        UnitStatus::Removed => "removed",
        UnitStatus::Changed => "changed",
        UnitStatus::FailsNow => "⚠️ fails to render",
        UnitStatus::Fixed => "renders again",
    }
}

fn table(out: &mut String, report: &DiffReport) {
    if report.units.is_empty() {
        out.push_str("No rendered object changes.\n\n");
        return;
    }
    out.push_str("| unit | kind | status | added | changed | removed |\n");
    out.push_str("| --- | --- | --- | ---: | ---: | ---: |\n");
    for unit in report.units.iter().take(MAX_TABLE_ROWS) {
        let (a, c, r) = unit.counts();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {a} | {c} | {r} |",
            md_code(&unit.id),
            unit.kind,
            status(unit.status)
        );
    }
    if report.units.len() > MAX_TABLE_ROWS {
        let _ = writeln!(
            out,
            "\n… and {} more units.",
            report.units.len() - MAX_TABLE_ROWS
        );
    }
    out.push('\n');
}

fn unit_section(out: &mut String, u: usize, unit: &UnitDiff, omitted: &Omitted) {
    if unit.objects.is_empty() {
        return;
    }
    let (a, c, r) = unit.counts();
    let _ = writeln!(
        out,
        "<details>\n<summary><code>{}</code>: {a} added, {c} changed, {r} removed</summary>\n",
        html(&unit.id)
    );
    if with_diffs(unit) {
        for (o, obj) in unit.objects.iter().enumerate() {
            match omitted.repeats.get(&(u, o)) {
                Some(id) => repeated_section(out, obj, id),
                None => object_section(out, obj, omitted.diffs.contains(&(u, o))),
            }
        }
    } else {
        for obj in &unit.objects {
            let _ = writeln!(
                out,
                "- `{}` `{}`",
                md_code(&obj.api_version),
                md_code(&obj.title())
            );
        }
        out.push('\n');
    }
    out.push_str("</details>\n\n");
}

/// A unit added or removed as a whole lists its objects; the others show diffs.
fn with_diffs(unit: &UnitDiff) -> bool {
    !matches!(unit.status, UnitStatus::Added | UnitStatus::Removed)
}

/// An object whose change another unit shows: one line naming that unit.
fn repeated_section(out: &mut String, obj: &ObjectDiff, first: &str) {
    let _ = writeln!(
        out,
        "**~** `{}` `{}` — the same change as in `{}`\n",
        md_code(&obj.api_version),
        md_code(&obj.title()),
        md_code(first)
    );
}

fn object_section(out: &mut String, obj: &ObjectDiff, left_out: bool) {
    let sign = match obj.change {
        crate::diff::Change::Added => "+",
        crate::diff::Change::Removed => "−",
        crate::diff::Change::Changed => "~",
    };
    let _ = write!(
        out,
        "**{sign}** `{}` `{}`",
        md_code(&obj.api_version),
        md_code(&obj.title())
    );
    if !obj.origins.is_empty() {
        let list: Vec<String> = obj
            .origins
            .iter()
            .map(|o| format!("`{}`", md_code(o)))
            .collect();
        let _ = write!(out, " — from {}", list.join(", "));
    }
    out.push_str("\n\n");
    if left_out {
        let _ = writeln!(
            out,
            "_Diff left out (+{} −{} lines) to fit the comment limit._\n",
            obj.added, obj.removed
        );
        return;
    }
    let fence = "`".repeat(longest_backticks(&obj.diff).max(2) + 1);
    let body = crate::report::escape::controls_keep_lines(&obj.diff);
    let _ = writeln!(out, "{fence}diff\n{}{fence}\n", ensure_newline(&body));
}

fn findings(out: &mut String, report: &DiffReport) {
    let new = &report.findings.new;
    if new.is_empty() {
        return;
    }
    out.push_str("#### New findings\n\n| severity | code | location | message |\n| --- | --- | --- | --- |\n");
    let ordered = most_severe_first(new);
    for f in ordered.iter().take(MAX_FINDING_ROWS) {
        let _ = writeln!(
            out,
            "| {} | `{}` | `{}` | {} |",
            f.severity,
            md_code(&f.code),
            md_code(&f.origin.to_string()),
            md_cell(&f.message)
        );
    }
    if ordered.len() > MAX_FINDING_ROWS {
        let _ = writeln!(out, "\n… and {} more.", ordered.len() - MAX_FINDING_ROWS);
    }
    out.push('\n');
}

fn ensure_newline(s: &str) -> String {
    if s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}

fn longest_backticks(s: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// Text for inside HTML: `&`, `<`, `>`, `"` as entities, controls escaped, on one line.
fn html(s: &str) -> String {
    crate::report::escape::controls(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
