//! Secret previews: a finding about a credential shows at most its first four characters, and
//! never more than half of it, followed by `…`.

/// The quoted preview of `secret`: `"hunt…"` for `hunter22`, `"ab…"` for `abcd`, `"…"` for
/// one character. Control characters in the prefix are escaped.
pub(crate) fn preview(secret: &str) -> String {
    let n = secret.chars().count();
    let keep = (n / 2).min(4);
    let prefix: String = secret.chars().take(keep).collect();
    format!("\"{}…\"", prefix.escape_debug())
}

#[cfg(test)]
mod tests {
    use super::preview;

    #[test]
    fn shows_at_most_four_characters_and_at_most_half() {
        assert_eq!(preview("hunter22"), "\"hunt…\"");
        assert_eq!(preview("hunter2"), "\"hun…\"");
        assert_eq!(preview("abcd"), "\"ab…\"");
        assert_eq!(preview("x"), "\"…\"");
        assert_eq!(preview(""), "\"…\"");
        assert_eq!(preview("pässwörter"), "\"päss…\"");
        assert_eq!(preview("a\nbcdefgh"), "\"a\\nbc…\"");
        for s in ["correct horse battery staple", "0123456789"] {
            let p = preview(s);
            let shown = p.trim_matches('"').trim_end_matches('…');
            assert!(shown.chars().count() <= 4 && s.starts_with(shown), "{p}");
        }
    }
}
