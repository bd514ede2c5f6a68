//! Flux post-build variable placeholders, as the kustomize-controller's `envsubst` reads them in
//! a rendered Kustomization (`spec.postBuild.substitute` / `substituteFrom`).
//!
//! Recognised forms (Flux documents these three):
//!
//! * `${var}` — the variable's value;
//! * `${var:=default}` and `${var:-default}` — the default when the variable is unset or
//!   empty.
//!
//! A variable name matches `[_a-zA-Z][_a-zA-Z0-9]*` (the controller's check); the default runs
//! to the matching `}` (it may hold a nested placeholder, `${PVC:=${APP}}`) and holds no
//! newline. `$$` is Flux's escape for a literal `$`: `$${var}` is
//! the text `${var}` after substitution, so it is not a placeholder here. A `$` before anything
//! else, `${}`, `${1x}` or an unclosed `${` are literal text (not placeholders).
//!
//! Every driftlint component that decides whether a value is still unknown (schema
//! validation, rules, the substitution itself) asks these functions, so they agree.

/// One placeholder found by [`flux_placeholders`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluxPlaceholder<'a> {
    /// Byte range of the whole `${...}` in the scanned text.
    pub span: std::ops::Range<usize>,
    /// The variable name.
    pub name: &'a str,
    /// The default and its operator (`:=` or `:-`), when written.
    pub default: Option<(&'a str, &'a str)>,
}

/// Placeholders longer than this many bytes are not recognised (bounded scanning).
const MAX_PLACEHOLDER_BYTES: usize = 4096;

/// Every placeholder of `text`, left to right, skipping `$$` escapes. Linear in `text`.
pub fn flux_placeholders(text: &str) -> Vec<FluxPlaceholder<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let Some(last_close) = text.rfind('}') else {
        return out;
    };
    let mut i = 0;
    while i < last_close {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'$') => i += 2,
            Some(b'{') => match parse_at(text, i) {
                Some(p) => {
                    i = p.span.end;
                    out.push(p);
                }
                None => i += 2,
            },
            _ => i += 1,
        }
    }
    out
}

/// True when `text` holds at least one Flux placeholder (`$${...}` escapes do not count):
/// after substitution the value is unknown at check time.
pub fn contains_flux_placeholder(text: &str) -> bool {
    !flux_placeholders(text).is_empty()
}

/// True when `text` is exactly one Flux placeholder (`${PORT}`, `${TAG:=1.2.3}`), nothing
/// around it: a value that may become any type (an integer, a boolean) after substitution.
pub fn is_flux_placeholder(text: &str) -> bool {
    matches!(flux_placeholders(text).as_slice(), [p] if p.span == (0..text.len()))
}

/// The placeholder starting at byte `start` (`${`), if one is well formed there.
/// True for a name Flux accepts as a post-build variable: `^[_[:alpha:]][_[:alpha:][:digit:]]*$`
/// (ASCII), as kustomize-controller checks `substitute` keys.
pub fn is_flux_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_at(text: &str, start: usize) -> Option<FluxPlaceholder<'_>> {
    let body_start = start + 2;
    let mut limit = text.len().min(start + MAX_PLACEHOLDER_BYTES);
    while !text.is_char_boundary(limit) {
        limit -= 1;
    }
    let close = closing_brace(text.get(body_start..limit)?)? + body_start;
    let body = &text[body_start..close];
    let name_len = body
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(body.len(), |(i, _)| i);
    let name = &body[..name_len];
    if !is_flux_var_name(name) {
        return None;
    }
    let rest = &body[name_len..];
    let default = if rest.is_empty() {
        None
    } else {
        let op = [":=", ":-"].into_iter().find(|op| rest.starts_with(op))?;
        let value = &rest[op.len()..];
        if value.contains('\n') {
            return None;
        }
        Some((op, value))
    };
    Some(FluxPlaceholder {
        span: start..close + 1,
        name,
        default,
    })
}

/// Byte index of the `}` that closes a placeholder whose body starts `window`, skipping
/// nested `${...}` (a default may hold one: `${PVC:=${APP}}`).
fn closing_brace(window: &str) -> Option<usize> {
    let bytes = window.as_bytes();
    let mut depth = 1usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_flux_forms_only() {
        for yes in [
            "${PORT}",
            "${_a1}",
            "${TAG:=1.2.3}",
            "${TAG:-latest}",
            "${X:=}",
        ] {
            assert!(is_flux_placeholder(yes), "{yes}");
            assert!(contains_flux_placeholder(yes), "{yes}");
        }
        for no in [
            "$PORT",
            "${}",
            "${1X}",
            "${A B}",
            "${A",
            "${A:+x}",
            "${A=x}",
            "$${A}",
            "plain",
            "${A:=x\n}",
            "$(A)",
            "{{ .A }}",
        ] {
            assert!(!is_flux_placeholder(no), "{no:?}");
            assert!(!contains_flux_placeholder(no), "{no:?}");
        }
    }

    #[test]
    fn finds_placeholders_inside_text() {
        let s = "ghcr.io/x/app:${TAG} and $${LIT} and ${B:-d}";
        let found = flux_placeholders(s);
        let names: Vec<_> = found.iter().map(|p| p.name).collect();
        assert_eq!(names, ["TAG", "B"]);
        assert_eq!(found[1].default, Some((":-", "d")));
        assert_eq!(&s[found[0].span.clone()], "${TAG}");
        assert!(!is_flux_placeholder("x${A}"));
        assert!(!is_flux_placeholder("${A}${B}"));
        assert!(is_flux_placeholder("${VOLSYNC_PVC:=${APP}}"));
        assert_eq!(
            flux_placeholders("${P:=${A}-x}")[0].default,
            Some((":=", "${A}-x"))
        );
        assert!(!contains_flux_placeholder("$$$${A}"));
        assert!(contains_flux_placeholder("$$${A}"));
    }

    #[test]
    fn long_or_unclosed_input_is_linear_and_safe() {
        let s = "${".repeat(100_000);
        assert!(!contains_flux_placeholder(&s));
        let long = format!("${{A:={}}}", "x".repeat(MAX_PLACEHOLDER_BYTES));
        assert!(!is_flux_placeholder(&long));
        let straddling = format!("${{A}}{}é}}", "x".repeat(MAX_PLACEHOLDER_BYTES - 5));
        assert!(
            contains_flux_placeholder(&straddling),
            "a cut inside a character"
        );
    }
}
