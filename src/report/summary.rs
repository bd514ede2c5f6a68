//! Counts of a check run and the Markdown summary for `$GITHUB_STEP_SUMMARY`.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Finding, Severity};

/// Most finding rows [`markdown_summary`] lists; GitHub caps a step summary at 1 MiB.
pub const MARKDOWN_MAX_ROWS: usize = 1000;

/// Totals of one run: findings per severity and targets checked/failed.
///
/// Serialised (in the JSON report) with camelCase keys:
/// `{"errors":N,"warnings":N,"notes":N,"total":N,"targetsChecked":N,"targetsFailed":N,
/// "chartsNotAvailable":N}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Findings at severity `error`.
    pub errors: usize,
    /// Findings at severity `warning`.
    pub warnings: usize,
    /// Findings at severity `note`.
    pub notes: usize,
    /// All findings (`errors + warnings + notes`).
    pub total: usize,
    /// Targets (overlays, charts, manifest folders) that were rendered and checked.
    pub targets_checked: usize,
    /// Targets among those that failed to render (a render error is a finding too).
    pub targets_failed: usize,
    /// Releases not rendered because their chart is not in the chart cache (CHART001).
    pub charts_not_available: usize,
}

impl Summary {
    /// Counts `findings` per severity; the target counts come from the caller, which knows
    /// which targets it rendered.
    pub fn new(findings: &[Finding], targets_checked: usize, targets_failed: usize) -> Summary {
        let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
        Summary {
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            notes: count(Severity::Note),
            total: findings.len(),
            targets_checked,
            targets_failed,
            charts_not_available: findings.iter().filter(|f| f.code == "CHART001").count(),
        }
    }

    /// One line such as `3 problems (2 errors, 1 warning, 0 notes)` or `no problems found`;
    /// with CHART001 findings, followed by `; 2 charts not available (driftlint charts pull)`.
    pub fn counts_line(&self) -> String {
        if self.total == 0 {
            return "no problems found".to_string();
        }
        let mut line = format!(
            "{} ({}, {}, {})",
            plural(self.total, "problem"),
            plural(self.errors, "error"),
            plural(self.warnings, "warning"),
            plural(self.notes, "note"),
        );
        if self.charts_not_available > 0 {
            let _ = write!(
                line,
                "; {} not available (driftlint charts pull)",
                plural(self.charts_not_available, "chart")
            );
        }
        line
    }
}

/// `1 error`, `2 errors`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The findings ordered most severe first, then in file order ([`Finding::sort_key`]).
pub(crate) fn most_severe_first(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings.iter().collect();
    v.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.sort_key().cmp(&b.sort_key()))
    });
    v
}

/// The findings in file order ([`Finding::sort_key`]).
pub(crate) fn in_file_order(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings.iter().collect();
    v.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    v
}

/// GitHub-flavoured Markdown for `$GITHUB_STEP_SUMMARY`: a heading, a counts table, and a
/// table of findings (most severe first, at most [`MARKDOWN_MAX_ROWS`] rows, then a line
/// saying how many were left out). Table cells escape `|`, `<`, `>`, `&` and newlines, so a
/// message can never break the table or inject HTML.
pub fn markdown_summary(findings: &[Finding], summary: &Summary) -> String {
    markdown_summary_counting(findings, summary, ("targets checked", "targets failed"))
}

/// [`markdown_summary`] with other names for the two counts (`targets_checked`,
/// `targets_failed`): a drift run counts objects (`("objects compared", "query failures")`).
pub fn markdown_summary_counting(
    findings: &[Finding],
    summary: &Summary,
    (checked, failed): (&str, &str),
) -> String {
    let mut out = String::from("## driftlint\n\n");
    let _ = writeln!(out, "| errors | warnings | notes | {checked} | {failed} |");
    out.push_str("| ---: | ---: | ---: | ---: | ---: |\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} |\n",
        summary.errors,
        summary.warnings,
        summary.notes,
        summary.targets_checked,
        summary.targets_failed
    );
    if findings.is_empty() {
        out.push_str("No problems found.\n");
        return out;
    }
    out.push_str("| severity | code | location | object | message |\n");
    out.push_str("| --- | --- | --- | --- | --- |\n");
    let ordered = most_severe_first(findings);
    for f in ordered.iter().take(MARKDOWN_MAX_ROWS) {
        let object = f.object.as_ref().map(|o| o.to_string()).unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | `{}` | `{}` | {} | {} |",
            f.severity,
            md_code(&f.code),
            md_code(&f.origin.to_string()),
            md_cell(&object),
            md_cell(&f.message)
        );
    }
    if ordered.len() > MARKDOWN_MAX_ROWS {
        let _ = writeln!(
            out,
            "\n… and {} more; see the SARIF or JSON report for the full list.",
            ordered.len() - MARKDOWN_MAX_ROWS
        );
    }
    out
}

/// Escapes text for a Markdown table cell.
pub(super) fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => {}
            '\n' => out.push_str("<br>"),
            c if c.is_control() && c != '\t' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// Text for inside a backtick code span in a table cell: `|` still needs escaping there, and
/// backticks and newlines cannot appear.
pub(super) fn md_code(s: &str) -> String {
    super::escape::controls(&s.replace(['\n', '\r'], " "))
        .replace('|', "\\|")
        .replace('`', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::Origin;

    fn finding(sev: Severity, msg: &str) -> Finding {
        Finding {
            code: "PIN001".into(),
            severity: sev,
            message: msg.into(),
            origin: Origin::new("a.yaml".into(), 3, 5),
            object: None,
            target: "t".into(),
            field: None,
        }
    }

    #[test]
    fn counts_per_severity() {
        let f = [
            finding(Severity::Error, "a"),
            finding(Severity::Note, "b"),
            finding(Severity::Error, "c"),
        ];
        let s = Summary::new(&f, 4, 1);
        assert_eq!((s.errors, s.warnings, s.notes, s.total), (2, 0, 1, 3));
        assert_eq!(s.counts_line(), "3 problems (2 errors, 0 warnings, 1 note)");
        assert_eq!(Summary::new(&[], 0, 0).counts_line(), "no problems found");
        let chart = Finding {
            code: "CHART001".into(),
            severity: Severity::Warning,
            ..finding(Severity::Warning, "m")
        };
        assert_eq!(
            Summary::new(&[chart], 1, 1).counts_line(),
            "1 problem (0 errors, 1 warning, 0 notes); 1 chart not available (driftlint charts pull)"
        );
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        let f = [finding(Severity::Warning, "a | b\n<script>")];
        let md = markdown_summary(&f, &Summary::new(&f, 1, 0));
        assert!(md.contains("a \\| b<br>&lt;script&gt;"), "{md}");
    }

    #[test]
    fn a_drift_run_counts_objects_not_targets() {
        let f = [finding(Severity::Warning, "a")];
        let md = markdown_summary_counting(
            &f,
            &Summary::new(&f, 20, 1),
            ("objects compared", "query failures"),
        );
        assert!(md.contains("| objects compared | query failures |"), "{md}");
        assert!(md.contains("| 0 | 1 | 0 | 20 | 1 |"), "{md}");
        assert!(!md.contains("targets"), "{md}");
    }

    #[test]
    fn markdown_caps_rows() {
        let f: Vec<Finding> = (0..MARKDOWN_MAX_ROWS + 3)
            .map(|i| finding(Severity::Note, &format!("m{i}")))
            .collect();
        let md = markdown_summary(&f, &Summary::new(&f, 1, 0));
        assert!(md.contains("… and 3 more"), "{md}");
        assert_eq!(md.matches("| note |").count(), MARKDOWN_MAX_ROWS);
    }

    #[test]
    fn most_severe_first_orders_by_severity_then_file() {
        let f = [
            finding(Severity::Note, "n"),
            finding(Severity::Error, "e"),
            finding(Severity::Warning, "w"),
        ];
        let order: Vec<_> = most_severe_first(&f)
            .iter()
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(order, ["e", "w", "n"]);
    }
}
