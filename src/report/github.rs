//! GitHub Actions workflow-command annotations (`::error file=…::message`).

use super::escape::{controls, controls_keep_lines};
use super::summary::most_severe_first;
use super::{Finding, Severity};

/// Renders one workflow command per finding, most severe first (GitHub shows only the first
/// few annotations of a step; the full list belongs in `$GITHUB_STEP_SUMMARY`, see
/// [`super::markdown_summary`]):
///
/// ```text
/// ::error file=overlays/prod/kustomization.yaml,line=12,col=5,title=PIN001 web::message
/// ```
///
/// `::warning` and `::notice` are used for warnings and notes. The title is the code and, for
/// object findings, the object's name. The message is the finding's message followed by the
/// object, target, field and `via` note on their own lines. Escaping follows the runner's
/// `toCommandValue`/`toCommandProperty`: `%`→`%25`, CR→`%0D`, LF→`%0A` everywhere, and
/// `:`→`%3A`, `,`→`%2C` inside properties. Findings whose origin is a pseudo file (such as
/// `<generated>`) get no `file` property. Ends with a newline unless there are no findings.
pub fn github(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in most_severe_first(findings) {
        out.push_str(&command(f));
        out.push('\n');
    }
    out
}

fn command(f: &Finding) -> String {
    let level = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    };
    let mut props = Vec::new();
    if is_real_file(&f.origin.file) {
        props.push(format!(
            "file={}",
            escape_property(&controls(&f.origin.file))
        ));
        if f.origin.line > 0 {
            props.push(format!("line={}", f.origin.line));
            if f.origin.column > 0 {
                props.push(format!("col={}", f.origin.column));
            }
        }
    }
    let title = match &f.object {
        Some(o) => format!("{} {}", f.code, o.name),
        None => f.code.clone(),
    };
    props.push(format!("title={}", escape_property(&controls(&title))));
    format!(
        "::{level} {}::{}",
        props.join(","),
        escape_data(&message(f))
    )
}

/// The finding's message plus its context lines.
fn message(f: &Finding) -> String {
    let mut msg = controls_keep_lines(&f.message).into_owned();
    if let Some(o) = &f.object {
        let object = format!("{o} ({})", o.api_version);
        msg.push_str(&format!("\nobject: {}", controls(&object)));
    }
    if !f.target.is_empty() {
        msg.push_str(&format!("\ntarget: {}", controls(&f.target)));
    }
    if let Some(field) = &f.field {
        msg.push_str(&format!("\nfield: {}", controls(field)));
    }
    if let Some(via) = &f.origin.via {
        msg.push_str(&format!("\nset by: {}", controls(via)));
    }
    msg
}

/// True for a repo-relative path, false for pseudo names such as `<generated>` or empty.
pub(crate) fn is_real_file(file: &str) -> bool {
    !file.is_empty() && !file.starts_with('<')
}

/// Escapes a command's message (the runner's `toCommandValue`).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property value (the runner's `toCommandProperty`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ObjectRef;
    use driftlint_yaml::Origin;

    fn finding(sev: Severity, file: &str, msg: &str) -> Finding {
        Finding {
            code: "SEC002".into(),
            severity: sev,
            message: msg.into(),
            origin: Origin::new(file.into(), 7, 9),
            object: None,
            target: String::new(),
            field: None,
        }
    }

    #[test]
    fn escapes_data_and_properties() {
        let f = finding(Severity::Error, "a,b:c%.yaml", "50% off\r\nnext: line");
        assert_eq!(
            github(&[f]),
            "::error file=a%2Cb%3Ac%25.yaml,line=7,col=9,title=SEC002::50%25 off%0D%0Anext: line\n"
        );
    }

    #[test]
    fn title_names_the_object_and_levels_map() {
        let mut f = finding(Severity::Note, "x.yaml", "m");
        f.object = Some(ObjectRef {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: None,
            name: "p,q".into(),
        });
        let out = github(&[f]);
        assert!(
            out.starts_with(
                "::notice file=x.yaml,line=7,col=9,title=SEC002 p%2Cq::m%0Aobject: Pod p,q (v1)"
            ),
            "{out}"
        );
    }

    #[test]
    fn highest_severity_first_and_pseudo_files_have_no_file() {
        let out = github(&[
            finding(Severity::Warning, "a.yaml", "w"),
            finding(Severity::Error, "<generated>", "e"),
        ]);
        let lines: Vec<_> = out.lines().collect();
        assert_eq!(
            lines,
            [
                "::error title=SEC002::e",
                "::warning file=a.yaml,line=7,col=9,title=SEC002::w"
            ]
        );
    }
}
