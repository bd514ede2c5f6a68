//! The URL of this repository's `origin` remote, read from `.git/config` as git reads it
//! (git-config(1) syntax; `git remote get-url origin`): the first `url` of the section
//! `[remote "origin"]` (or the deprecated `[remote.origin]`), rewritten by the longest
//! matching `[url "BASE"] insteadOf = PREFIX`. Section and key names are case-insensitive,
//! `#`/`;` start comments outside quotes, values may be quoted. `include`/`includeIf` are not
//! followed, and the global and system configuration files are never read: only the
//! repository's own file counts.
//!
//! An Argo CD `repoURL` equal to this URL (compared as [`super::normalize_url`] does) is
//! this repository, with no `sources:` entry needed.

use std::path::Path;

use driftlint_yaml::fs::RepoFs;

/// `.git/config` files above this size (bytes) are not read: 256 KiB.
const MAX_CONFIG_BYTES: u64 = 256 * 1024;
/// Lines of `.git/config` looked at.
const MAX_LINES: usize = 10_000;

/// The `origin` remote's URL of the repository `fs` reads, when its root holds a `.git`
/// directory whose `config` names one; `None` otherwise (no `.git`, a `.git` file of a
/// worktree or submodule pointing outside the root, an unreadable or too large file).
pub(crate) fn origin_url(fs: &RepoFs) -> Option<String> {
    let path = fs.resolve(Path::new(""), ".git/config").ok()?;
    let text = fs.read_text_at_most(&path, MAX_CONFIG_BYTES).ok()?;
    parse(&text)
}

/// The `origin` URL `text` (a git configuration file) gives.
fn parse(text: &str) -> Option<String> {
    let mut section: Option<Section> = None;
    let mut url: Option<String> = None;
    let mut rewrites: Vec<(String, String)> = Vec::new();
    for line in text.lines().take(MAX_LINES) {
        let mut rest = line.trim_start();
        if rest.starts_with('[') {
            let (header, after) = header(rest)?;
            section = Some(header);
            rest = after.trim_start();
        }
        let Some((key, value)) = entry(rest) else {
            continue;
        };
        match section.as_ref() {
            Some(Section::Remote(name)) if name == "origin" && key == "url" => {
                url.get_or_insert(value);
            }
            Some(Section::Url(base)) if key == "insteadof" => rewrites.push((value, base.clone())),
            _ => {}
        }
    }
    url.map(|u| rewrite(&u, &rewrites))
}

/// The sections that matter here.
enum Section {
    /// `[remote "NAME"]`.
    Remote(String),
    /// `[url "BASE"]`.
    Url(String),
    Other,
}

/// A section header at the start of `line` (`[name "sub"]` or `[name.sub]`) and what follows
/// it on the line; `None` for a malformed header, which makes git refuse the whole file.
fn header(line: &str) -> Option<(Section, &str)> {
    let body = line.strip_prefix('[')?;
    let (name, sub, after) = match body.find(['"', ']']) {
        Some(i) if body.as_bytes()[i] == b'"' => {
            let (sub, len) = quoted(&body[i + 1..])?;
            let after = body[i + 1 + len..].trim_start().strip_prefix(']')?;
            (body[..i].trim(), Some(sub), after)
        }
        Some(i) => {
            let (name, sub) = match body[..i].split_once('.') {
                Some((n, s)) => (n, Some(s.to_ascii_lowercase())),
                None => (&body[..i], None),
            };
            (name.trim(), sub, &body[i + 1..])
        }
        None => return None,
    };
    let section = match (name.to_ascii_lowercase().as_str(), sub) {
        ("remote", Some(s)) => Section::Remote(s),
        ("url", Some(s)) => Section::Url(s),
        _ => Section::Other,
    };
    Some((section, after))
}

/// A quoted subsection name after its opening `"`: the name (`\x` is `x`) and the bytes up to
/// and including the closing `"`.
fn quoted(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => out.push(chars.next()?.1),
            c => out.push(c),
        }
    }
    None
}

/// A `key = value` line: the key in lower case and the value with quotes, escapes and the
/// trailing comment removed. `None` for blank and comment lines.
fn entry(line: &str) -> Option<(String, String)> {
    let (key, raw) = line.split_once('=')?;
    let key = key.trim();
    if key.is_empty() || key.starts_with(['#', ';']) {
        return None;
    }
    Some((key.to_ascii_lowercase(), value(raw)))
}

/// A value as git-config(1) reads it on one line.
fn value(raw: &str) -> String {
    let mut out = String::new();
    let mut in_quotes = false;
    let mut chars = raw.trim().chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => in_quotes = !in_quotes,
            '#' | ';' if !in_quotes => break,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            },
            c => out.push(c),
        }
    }
    out.trim_end().to_string()
}

/// `url` with the longest `insteadOf` prefix replaced by its base, as git rewrites URLs.
fn rewrite(url: &str, rewrites: &[(String, String)]) -> String {
    rewrites
        .iter()
        .filter(|(prefix, _)| !prefix.is_empty() && url.starts_with(prefix.as_str()))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(prefix, base)| format!("{base}{}", &url[prefix.len()..]))
        .unwrap_or_else(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn reads_the_first_origin_url() {
        let text = "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://x/up.git\n\
                    [Remote \"origin\"]\n\tURL = git@github.com:Org/Repo.git # mine\n\
                    \turl = https://mirror/repo\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n";
        assert_eq!(parse(text).as_deref(), Some("git@github.com:Org/Repo.git"));
    }

    #[test]
    fn quoted_values_and_the_old_header_syntax() {
        let text = "[remote.Origin]\n  url = \"https://h/a;b.git\" ; comment\n";
        assert_eq!(parse(text).as_deref(), Some("https://h/a;b.git"));
    }

    #[test]
    fn subsection_names_are_case_sensitive() {
        assert_eq!(parse("[remote \"Origin\"]\nurl = https://h/r\n"), None);
    }

    #[test]
    fn insteadof_rewrites_with_the_longest_prefix() {
        let text = "[url \"https://github.com/\"]\n\tinsteadOf = gh:\n\
                    [url \"https://github.com/org/\"]\n\tinsteadOf = gh:org/\n\
                    [remote \"origin\"]\n\turl = gh:org/repo\n";
        assert_eq!(parse(text).as_deref(), Some("https://github.com/org/repo"));
    }

    #[test]
    fn no_origin_and_malformed_headers_give_none() {
        assert_eq!(parse("[remote \"up\"]\nurl = x\n"), None);
        assert_eq!(parse("[remote \"origin\nurl = x\n"), None);
        assert_eq!(parse(""), None);
    }
}

#[cfg(test)]
mod fs_tests {
    use super::origin_url;
    use driftlint_yaml::fs::RepoFs;

    fn repo(config: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join(".git")).expect("mkdir");
        if let Some(text) = config {
            std::fs::write(dir.path().join(".git/config"), text).expect("write");
        }
        dir
    }

    #[test]
    fn the_origin_of_the_repository_git_config() {
        let dir = repo(Some("[remote \"origin\"]\n\turl = https://h/o/r.git\n"));
        let fs = RepoFs::new(dir.path()).expect("fs");
        assert_eq!(origin_url(&fs).as_deref(), Some("https://h/o/r.git"));
    }

    #[test]
    fn hostile_git_configs_give_no_origin() {
        // Larger than the budget.
        let big = format!(
            "[remote \"origin\"]\n\turl = https://h/o/r\n# {}\n",
            "x".repeat(300 * 1024)
        );
        let dir = repo(Some(&big));
        assert_eq!(origin_url(&RepoFs::new(dir.path()).unwrap()), None);
        // A symbolic link out of the repository.
        let outside = tempfile::tempdir().expect("tempdir");
        let target = outside.path().join("config");
        std::fs::write(&target, "[remote \"origin\"]\n\turl = https://h/o/r\n").unwrap();
        let dir = repo(None);
        #[cfg(unix)]
        std::os::unix::fs::symlink(&target, dir.path().join(".git/config")).unwrap();
        assert_eq!(origin_url(&RepoFs::new(dir.path()).unwrap()), None);
        // A directory where the file should be, and no `.git` at all.
        let dir = repo(None);
        std::fs::create_dir_all(dir.path().join(".git/config")).unwrap();
        assert_eq!(origin_url(&RepoFs::new(dir.path()).unwrap()), None);
        let bare = tempfile::tempdir().unwrap();
        assert_eq!(origin_url(&RepoFs::new(bare.path()).unwrap()), None);
    }
}
