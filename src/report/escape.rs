//! Terminal- and log-safe text: what a repository wrote never reaches a terminal or a CI log as
//! a control character.
//!
//! A name, message or path taken from the repository could otherwise start a new line that the
//! GitHub Actions runner reads as a workflow command (`::error file=…::`, after trimming
//! leading blanks), move the cursor or recolour the terminal (ESC sequences), ring the bell, or
//! reorder what the reader sees (Unicode bidirectional overrides, "Trojan Source").

use std::borrow::Cow;

/// True for the characters [`controls`] and [`control_pictures`] replace: C0 controls but tab,
/// DEL, C1 controls, and the Unicode bidirectional embedding, override and isolate characters.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// `s` on one line and without control characters: LF as `\n`, CR as `\r`, every other
/// unsafe character (see the module docs) as `\u001b`-style escapes; tab is kept. Borrowed
/// when there is nothing to escape.
pub fn controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `s` with its control characters escaped as [`controls`] does, except line breaks, which
/// stay (for a format that encodes them itself, as GitHub's workflow commands do).
pub fn controls_keep_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && c != '\r' && is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for line in s.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(b) => (
                b.strip_suffix('\r').unwrap_or(b),
                &line[b.trim_end_matches('\r').len()..],
            ),
            None => (line, ""),
        };
        out.push_str(&controls(body));
        out.push_str(end);
    }
    Cow::Owned(out)
}

/// A message for a CI log (stderr): control characters escaped as [`controls_keep_lines`]
/// does, and a line that would start a GitHub workflow command once the runner trims its
/// leading blanks (`::error …`) gets its first `:` written `\u003a`. Line breaks stay.
pub fn log_lines(s: &str) -> Cow<'_, str> {
    let kept = controls_keep_lines(s);
    if !kept.split('\n').any(|l| l.trim_start().starts_with("::")) {
        return kept;
    }
    let mut out = String::with_capacity(kept.len() + 8);
    for (i, line) in kept.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let body = line.trim_start();
        match body.strip_prefix(':') {
            Some(rest) if rest.starts_with(':') => {
                out.push_str(&line[..line.len() - body.len()]);
                out.push_str("\\u003a");
                out.push_str(rest);
            }
            _ => out.push_str(line),
        }
    }
    Cow::Owned(out)
}

/// A source file's text made safe to print while keeping its lines and columns: line breaks
/// stay, every other unsafe character becomes one visible character (the Unicode control
/// picture `␛` for ESC and the other C0 controls, `␡` for DEL, `�` for the rest).
pub fn control_pictures(s: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c != '\n' && c != '\r' && is_unsafe(c);
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c {
                c if !unsafe_char(c) => c,
                c if u32::from(c) < 0x20 => char::from_u32(0x2400 + u32::from(c)).unwrap_or('�'),
                '\u{7f}' => '\u{2421}',
                _ => '\u{fffd}',
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_line_breaks_escapes_and_bidi() {
        assert!(matches!(controls("plain text\twith tab"), Cow::Borrowed(_)));
        assert_eq!(
            controls("web\n::error file=README.md::x"),
            "web\\n::error file=README.md::x"
        );
        assert_eq!(controls("a\u{1b}[31mred\u{7}"), "a\\u001b[31mred\\u0007");
        assert_eq!(controls("x\u{202e}y\r"), "x\\u202ey\\r");
    }

    #[test]
    fn keeping_lines_escapes_the_rest() {
        assert_eq!(
            controls_keep_lines("a\u{1b}b\r\nc\u{7}\n"),
            "a\\u001bb\r\nc\\u0007\n"
        );
    }

    #[test]
    fn log_lines_cannot_start_workflow_commands() {
        assert!(matches!(log_lines("Error: a\nb: c"), Cow::Borrowed(_)));
        assert_eq!(
            log_lines("Error: x\n  ::error file=a::INJECTED\u{1b}"),
            "Error: x\n  \\u003a:error file=a::INJECTED\\u001b"
        );
    }

    #[test]
    fn pictures_keep_lines_and_columns() {
        let src = "a: \u{1b}[2J\nb: \u{7}\u{202e}\n";
        let out = control_pictures(src);
        assert_eq!(out, "a: ␛[2J\nb: ␇�\n");
        assert_eq!(out.chars().count(), src.chars().count());
    }
}
