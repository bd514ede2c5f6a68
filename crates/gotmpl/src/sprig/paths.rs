//! Sprig's slash-path functions, Go's `path` package: `base dir clean ext isAbs`.

use super::{f, sarg, S};
use crate::{FuncMap, Value};

/// Go's `path.Clean`: lexical shortest equivalent path (`.` for empty).
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&l) if l != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// Go's `path.Base`: the last element after trailing slashes are removed.
pub fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// Go's `path.Dir`: everything up to the last slash, cleaned.
pub fn dir(p: &str) -> String {
    let cut = p.rfind('/').map_or(0, |i| i + 1);
    clean(&p[..cut])
}

/// Go's `path.Ext`: the suffix from the final dot in the last element.
pub fn ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        match c {
            '/' => return String::new(),
            '.' => return p[i..].to_string(),
            _ => {}
        }
    }
    String::new()
}

pub(super) fn register(m: &mut FuncMap) {
    m.insert("base", f(&[S], |a| Ok(base(sarg(a, 0)).into())));
    m.insert("dir", f(&[S], |a| Ok(dir(sarg(a, 0)).into())));
    m.insert("clean", f(&[S], |a| Ok(clean(sarg(a, 0)).into())));
    m.insert("ext", f(&[S], |a| Ok(ext(sarg(a, 0)).into())));
    m.insert(
        "isAbs",
        f(&[S], |a| Ok(Value::Bool(sarg(a, 0).starts_with('/')))),
    );
}

#[cfg(test)]
mod tests {
    use super::super::testutil::r;
    use super::*;

    #[test]
    fn go_path_examples() {
        // Examples from Go's path package documentation.
        for (i, o) in [
            ("a/c", "a/c"),
            ("a//c", "a/c"),
            ("a/c/.", "a/c"),
            ("a/c/b/..", "a/c"),
            ("/../a/c", "/a/c"),
            ("/../a/b/../././/c", "/a/c"),
            ("", "."),
            ("../../x", "../../x"),
        ] {
            assert_eq!(clean(i), o, "{i}");
        }
        assert_eq!(
            (base("/a/b"), base("/"), base("")),
            ("b".into(), "/".into(), ".".into())
        );
        assert_eq!(
            (dir("/a/b/c"), dir("a/b/c"), dir("/"), dir("")),
            ("/a/b".into(), "a/b".into(), "/".into(), ".".into())
        );
        assert_eq!(
            (ext("/a/b/c/bar.css"), ext("/")),
            (".css".into(), String::new())
        );
        assert_eq!(
            r(r#"{{ base "foo/bar.txt" }} {{ isAbs "/x" }}"#),
            "bar.txt true"
        );
    }
}
