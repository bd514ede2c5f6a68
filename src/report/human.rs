//! Human-readable diagnostics: miette reports that show the source line of each finding.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};

use super::escape::{control_pictures, controls};
use super::summary::in_file_order;
use super::{Finding, Severity, Summary};

/// Width the reports are wrapped at (fixed, so output does not depend on the terminal).
pub const HUMAN_WIDTH: usize = 100;

/// Renders findings for a terminal, in file order, then one summary line
/// (`3 problems (2 errors, 1 warning, 0 notes)` or `no problems found`).
///
/// For each finding whose origin file `sources` can supply (by its repo-relative path) and
/// whose line exists in it, a miette graphical report: `severity[CODE]`, the message, the
/// source line with a label under the value (`set by <via>` when a transformation set it),
/// and a help block naming the object, target and field. Otherwise a plain
/// `file:line:col: severity[CODE] message` line followed by the same context as `= ` lines.
///
/// Findings of the secret rules (codes starting `SEC`) never print the secret: their report
/// shows only the offending line, without context lines, and the value on it is masked after
/// its first four characters (as the messages themselves are).
///
/// Every string taken from the repository (messages, names, paths) is shown with its control
/// characters escaped ([`super::escape::controls`]), and source lines with them replaced by
/// visible pictures, so nothing the repository wrote can move the terminal's cursor or start a
/// GitHub workflow command. `sources` must only supply files read through the confined
/// repository reader (and redacted): this function prints what it returns.
///
/// `color` picks miette's `unicode` theme (ANSI colours) or `unicode_nocolor`; the caller
/// decides (honouring `NO_COLOR` and whether stdout is a terminal). Output is wrapped at
/// [`HUMAN_WIDTH`] columns and is otherwise independent of the environment.
pub fn human(
    findings: &[Finding],
    sources: &dyn Fn(&str) -> Option<Arc<str>>,
    color: bool,
) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(HUMAN_WIDTH)
        .with_links(false);
    let secret_handler = handler.clone().with_context_lines(0);
    let mut out = String::new();
    for f in in_file_order(findings) {
        let diag = sources(&f.origin.file).and_then(|src| diagnostic(f, src));
        let rendered = diag.and_then(|d| {
            let h = if is_secret_code(&f.code) {
                &secret_handler
            } else {
                &handler
            };
            let mut s = String::new();
            h.render_report(&mut s, &d).ok().map(|()| s)
        });
        match rendered {
            Some(s) => out.push_str(&s),
            None => out.push_str(&plain(f)),
        }
        out.push('\n');
    }
    out.push_str(&Summary::new(findings, 0, 0).counts_line());
    out.push('\n');
    out
}

/// `severity[CODE]`, as rustc writes `error[E0308]`.
fn code_label(f: &Finding) -> String {
    format!("{}[{}]", f.severity, f.code)
}

/// The plain one-finding form used when the source is not available.
fn plain(f: &Finding) -> String {
    let origin = f.origin.to_string();
    let mut s = format!(
        "{}: {} {}\n",
        controls(&origin),
        code_label(f),
        controls(&f.message)
    );
    for line in context(f) {
        s.push_str(&format!("  = {}\n", controls(&line)));
    }
    s
}

/// Object, target, field and `via` lines.
fn context(f: &Finding) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(o) = &f.object {
        lines.push(format!("object: {o} ({})", o.api_version));
    }
    if !f.target.is_empty() {
        lines.push(format!("target: {}", f.target));
    }
    if let Some(field) = &f.field {
        lines.push(format!("field: {field}"));
    }
    if let Some(via) = &f.origin.via {
        lines.push(format!("set by: {via}"));
    }
    lines
}

/// True for the secret rules, whose source lines must not be printed in clear.
fn is_secret_code(code: &str) -> bool {
    code.starts_with("SEC")
}

/// `src` with the value inside `offset..offset + len` masked: after a `key: ` prefix (if
/// any; with `generated`, a kustomize generator's `key=` prefix) and an opening quote, the
/// first four characters stay and every other byte becomes `*`, so offsets and line numbers
/// are unchanged. The key stays readable; the value never is.
fn mask_secret(src: &str, offset: usize, len: usize, generated: bool) -> Arc<str> {
    let span = src.get(offset..offset + len).unwrap_or("");
    let value_start = generator_key_end(span)
        .filter(|_| generated)
        .or_else(|| span.find(": ").map(|i| i + 2))
        .unwrap_or(0);
    let value = &span[value_start..];
    let quote = usize::from(value.starts_with(['"', '\'']));
    let keep = value[quote..]
        .char_indices()
        .nth(4)
        .map_or(value.len(), |(b, _)| b + quote);
    let mut out = String::with_capacity(src.len());
    out.push_str(&src[..offset + value_start + keep]);
    out.extend(std::iter::repeat_n('*', len - value_start - keep));
    out.push_str(&src[offset + len..]);
    Arc::from(out)
}

/// End of the `key=` of a kustomize generator source (`literals:` item, `envs:` line), whose
/// key is `[-._a-zA-Z0-9]+` as kustomize validates it. Never splits base64 padding
/// (`aGVsbG8=`): the value after the key must hold something but `=`.
fn generator_key_end(span: &str) -> Option<usize> {
    let eq = span.find('=')?;
    let key = &span[..eq];
    let valid = !key.is_empty()
        && !span[eq..].chars().all(|c| c == '=')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    valid.then_some(eq + 1)
}

/// True when `origin` may be a kustomize generator source written `key=value`: a
/// kustomization file (`literals:`), a non-YAML file (`envs:`), or a value set by a generator.
fn is_generator_source(origin: &driftlint_yaml::Origin) -> bool {
    let file = origin.file.as_ref();
    let name = file.rsplit('/').next().unwrap_or(file);
    let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    let kustomization = matches!(
        name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    );
    kustomization
        || !yaml
        || origin
            .via
            .as_deref()
            .is_some_and(|v| v.contains("Generator"))
}

fn diagnostic(f: &Finding, src: Arc<str>) -> Option<FindingDiagnostic> {
    let src = match control_pictures(&src) {
        std::borrow::Cow::Borrowed(_) => src,
        std::borrow::Cow::Owned(safe) => Arc::from(safe),
    };
    let (offset, len) = span_at(&src, f.origin.line, f.origin.column)?;
    let src = if is_secret_code(&f.code) {
        mask_secret(&src, offset, len, is_generator_source(&f.origin))
    } else {
        src
    };
    let label = match &f.origin.via {
        Some(via) => format!("set by {}", controls(via)),
        None => "here".to_string(),
    };
    let ctx: Vec<String> = context(f)
        .into_iter()
        .filter(|l| !l.starts_with("set by:"))
        .map(|l| controls(&l).into_owned())
        .collect();
    Some(FindingDiagnostic {
        message: controls(&f.message).into_owned(),
        code: code_label(f),
        severity: match f.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        },
        help: (!ctx.is_empty()).then(|| ctx.join("\n")),
        label: LabeledSpan::new_primary_with_span(Some(label), (offset, len)),
        source: NamedSource::new(controls(&f.origin.file), src),
    })
}

/// Byte offset and length of the value at 1-based `line`/`column` (columns count characters):
/// from the column to the end of the line, without trailing blanks or a trailing `# comment`.
/// `None` when the line does not exist (stale origin); a column past the end is clamped.
fn span_at(src: &str, line: u32, column: u32) -> Option<(usize, usize)> {
    let index = usize::try_from(line.checked_sub(1)?).ok()?;
    let mut start = 0;
    let mut text = None;
    for (i, l) in src.split_inclusive('\n').enumerate() {
        if i == index {
            text = Some(l.trim_end_matches(['\n', '\r']));
            break;
        }
        start += l.len();
    }
    let text = text?;
    let col = usize::try_from(column.saturating_sub(1)).ok()?;
    let in_line = text.char_indices().nth(col).map_or(text.len(), |(b, _)| b);
    let rest = &text[in_line..];
    let rest = rest.find(" #").map_or(rest, |i| &rest[..i]).trim_end();
    Some((start + in_line, rest.len()))
}

/// A finding as a miette diagnostic with its source attached.
#[derive(Debug)]
struct FindingDiagnostic {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    label: LabeledSpan,
    source: NamedSource<Arc<str>>,
}

impl fmt::Display for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FindingDiagnostic {}

impl Diagnostic for FindingDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(self.label.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftlint_yaml::Origin;

    #[test]
    fn span_covers_the_value_without_comment() {
        let src = "a: 1\nimage: nginx:latest  # pin me\n";
        let (off, len) = span_at(src, 2, 8).unwrap();
        assert_eq!(&src[off..off + len], "nginx:latest");
        assert_eq!(span_at(src, 3, 1), None);
        assert_eq!(span_at(src, 9, 1), None);
        assert_eq!(span_at(src, 0, 1), None);
    }

    #[test]
    fn secrets_are_masked_keeping_offsets() {
        let src = "a: 1\n  password: \"hunter2-long\"\nb: 2\n";
        let (off, len) = span_at(src, 2, 3).unwrap();
        let masked = mask_secret(src, off, len, false);
        assert_eq!(&*masked, "a: 1\n  password: \"hunt*********\nb: 2\n");
        let (off, len) = span_at(src, 2, 13).unwrap();
        assert_eq!(
            &*mask_secret(src, off, len, false),
            "a: 1\n  password: \"hunt*********\nb: 2\n"
        );
        let src = "- AKIAABCDEFGHIJKLMNOP\n";
        let (off, len) = span_at(src, 1, 3).unwrap();
        assert_eq!(
            &*mask_secret(src, off, len, false),
            "- AKIA****************\n"
        );
    }

    #[test]
    fn generator_literals_keep_their_key() {
        let src = "secretGenerator:\n  - name: db\n    literals:\n      - password=hunter2-long\n";
        let (off, len) = span_at(src, 4, 9).unwrap();
        let masked = mask_secret(src, off, len, true);
        assert!(masked.contains("- password=hunt********\n"), "{masked}");
        assert!(!masked.contains("hunter"), "{masked}");
        let b64 = "data:\n  k: aHVudGVyMi1sb25n==\n";
        let (off, len) = span_at(b64, 2, 6).unwrap();
        assert_eq!(
            &*mask_secret(b64, off, len, true),
            "data:\n  k: aHVu**************\n"
        );
        let (off, len) = span_at(b64, 2, 3).unwrap();
        assert_eq!(
            &*mask_secret(b64, off, len, true),
            "data:\n  k: aHVu**************\n"
        );
    }

    #[test]
    fn span_counts_characters_not_bytes() {
        let src = "é: ünïcode\n";
        let (off, len) = span_at(src, 1, 4).unwrap();
        assert_eq!(&src[off..off + len], "ünïcode");
        let (off, len) = span_at(src, 1, 99).unwrap();
        assert_eq!((off, len), (src.len() - 1, 0));
    }

    #[test]
    fn falls_back_to_a_plain_line_for_missing_or_stale_sources() {
        let f = Finding {
            code: "PIN002".into(),
            severity: Severity::Warning,
            message: "no tag".into(),
            origin: Origin::new("gone.yaml".into(), 4, 2),
            object: None,
            target: String::new(),
            field: None,
        };
        let none = |_: &str| None;
        assert_eq!(
            human(std::slice::from_ref(&f), &none, false),
            "gone.yaml:4:2: warning[PIN002] no tag\n\n1 problem (0 errors, 1 warning, 0 notes)\n"
        );
        let short = |_: &str| Some(Arc::<str>::from("one line\n"));
        assert!(human(&[f], &short, false).starts_with("gone.yaml:4:2: warning[PIN002]"));
    }
}
