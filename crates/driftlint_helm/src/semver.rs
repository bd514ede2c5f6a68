//! The subset of Masterminds/semver v3 that Helm's `kubeVersion:` check uses: versions with
//! optional pre-release, constraints joined by `,`/space (and) and `||` (or), operators
//! `= != > < >= <= ~ ^`, `x`/`*` wildcards and `a - b` ranges.

use std::cmp::Ordering;

/// A semantic version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
    /// Pre-release (after `-`), empty when none.
    pub pre: String,
}

impl Version {
    /// Parses `1`, `1.2`, `1.2.3`, `v1.2.3-rc.1+build` (missing parts are 0, build dropped).
    pub fn parse(text: &str) -> Option<Version> {
        let t = text.trim().trim_start_matches('v');
        let t = t.split('+').next().unwrap_or(t);
        let (core, pre) = match t.split_once('-') {
            Some((c, p)) => (c, p.to_string()),
            None => (t, String::new()),
        };
        let mut nums = core.split('.');
        let mut next = || -> Option<u64> {
            match nums.next() {
                None => Some(0),
                Some(n) => n.parse().ok(),
            }
        };
        let v = Version {
            major: next()?,
            minor: next()?,
            patch: next()?,
            pre,
        };
        if core.split('.').count() > 3 || core.is_empty() {
            return None;
        }
        Some(v)
    }

    /// `MAJOR.MINOR.PATCH[-PRE]`.
    pub fn text(&self) -> String {
        let base = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if self.pre.is_empty() {
            base
        } else {
            format!("{base}-{}", self.pre)
        }
    }

    /// Semver precedence (Masterminds' `Compare`): numbers, then a release above its
    /// pre-releases, pre-release identifiers compared numerically or lexically.
    pub fn precedence(&self, o: &Version) -> Ordering {
        self.cmp(o)
    }

    fn cmp(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => cmp_pre(&self.pre, &o.pre),
            })
    }
}

fn cmp_pre(a: &str, b: &str) -> Ordering {
    let mut ai = a.split('.');
    let mut bi = b.split('.');
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(p), Ok(q)) => p.cmp(&q),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    _ => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

/// Whether `v` satisfies `constraint`. Errors: an unparsable constraint
/// (`improper constraint: ...`, Masterminds' text).
pub fn satisfies(constraint: &str, v: &Version) -> Result<bool, String> {
    for alt in constraint.split("||") {
        let mut all = true;
        for c in split_and(alt) {
            if !check_one(&c, v).ok_or_else(|| format!("improper constraint: {constraint}"))? {
                all = false;
            }
        }
        if all {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Splits an AND group into single constraints, keeping `a - b` ranges and an operator
/// separated from its version by spaces together.
fn split_and(alt: &str) -> Vec<String> {
    let toks: Vec<&str> = alt
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        if toks.get(i + 1) == Some(&"-") && i + 2 < toks.len() {
            out.push(format!(">={t}"));
            out.push(format!("<={}", toks[i + 2]));
            i += 3;
        } else if t.chars().all(|c| "=<>!~^".contains(c)) && i + 1 < toks.len() {
            out.push(format!("{t}{}", toks[i + 1]));
            i += 2;
        } else {
            out.push(t.to_string());
            i += 1;
        }
    }
    out
}

fn check_one(c: &str, v: &Version) -> Option<bool> {
    let op_len = c.find(|ch: char| !"=<>!~^".contains(ch)).unwrap_or(c.len());
    let (op, ver) = c.split_at(op_len);
    let ver = ver.trim_start_matches('v');
    let parts: Vec<&str> = ver.split('-').next().unwrap_or("").split('.').collect();
    let wild = |p: Option<&&str>| matches!(p, None | Some(&"x") | Some(&"X") | Some(&"*"));
    let mut base = Version::parse(&ver.replace(['x', 'X', '*'], "0"))?;
    // Masterminds: a constraint without a pre-release excludes pre-release versions.
    if !v.pre.is_empty() && base.pre.is_empty() {
        return Some(false);
    }
    let (wmin, wpatch) = (wild(parts.get(1)), wild(parts.get(2)));
    if matches!(op, "" | "=" | ">=") && parts.first().is_some_and(|p| wild(Some(p))) {
        return Some(true); // `*`, `x`, `>= *`: any version
    }
    let ord = v.cmp(&base);
    Some(match op {
        "" | "=" if wmin || wpatch => in_wild(v, &base, wmin),
        "" | "=" => ord == Ordering::Equal,
        "!=" => ord != Ordering::Equal,
        ">" if wmin => v.major > base.major,
        ">" if wpatch => (v.major, v.minor) > (base.major, base.minor),
        ">" => ord == Ordering::Greater,
        ">=" => ord != Ordering::Less,
        "<" => ord == Ordering::Less,
        "<=" if wmin || wpatch => {
            base.pre.clear();
            in_wild(v, &base, wmin) || ord == Ordering::Less
        }
        "<=" => ord != Ordering::Greater,
        "~" | "~>" => ord != Ordering::Less && in_wild(v, &base, wmin),
        "^" => ord != Ordering::Less && caret(v, &base),
        _ => return None,
    })
}

fn in_wild(v: &Version, base: &Version, whole_major: bool) -> bool {
    v.major == base.major && (whole_major || v.minor == base.minor)
}

fn caret(v: &Version, base: &Version) -> bool {
    if base.major > 0 {
        v.major == base.major
    } else if base.minor > 0 {
        v.major == 0 && v.minor == base.minor
    } else {
        v.major == 0 && v.minor == 0 && v.patch == base.patch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(c: &str, v: &str) -> bool {
        satisfies(c, &Version::parse(v).unwrap()).unwrap()
    }

    #[test]
    fn constraints() {
        assert!(ok(">=1.21.0-0", "1.35.0"));
        assert!(!ok(">=1.21.0-0", "1.20.0"));
        assert!(ok("*", "7.0.0") && ok("x", "0.1.0") && !ok("*", "7.0.0-rc.1"));
        assert!(ok(">= 1.19.0-0 < 1.36.0-0", "1.35.0"));
        assert!(ok("^1.16.0-0", "1.31.4"));
        assert!(ok("1.2.x", "1.2.9"));
        assert!(!ok("~1.2.0", "1.3.0"));
        assert!(ok("<1.10 || >=1.30", "1.31.0"));
        assert!(!ok(">=1.22.0", "1.23.0-rc.1"));
    }
}
