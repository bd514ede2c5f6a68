//! Semantic versions and constraints as Masterminds/semver v3 (`NewVersion`,
//! `NewConstraint`, `Constraints.Check`), behind Sprig's `semver` and `semverCompare`.
//! The grammar regexes use `regex-lite`: they match a few bytes per call, and its compile time
//! (once per process) is a fraction of the full `regex` crate's; its ASCII `\s` is also closer
//! to Go's than Unicode `\s`.
//!
//! Constraint grammar: `||`-separated groups of comma- or space-separated constraints, each
//! an operator (`= != > < >= => <= =< ~ ~> ^` or none) and a version whose minor and patch
//! may be missing or `x`/`X`/`*`; `A - B` hyphen ranges mean `>= A, <= B`. A version with a
//! pre-release only satisfies constraints whose version has one (`>=1.21-0` admits
//! `v1.29.3-gke.100`; `>=1.21` does not).

use std::cmp::Ordering;
use std::sync::{Arc, OnceLock};

use regex_lite::Regex;

use super::{f, sarg, S};
use crate::{FuncMap, Function, Object, Param, Value};

const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";

struct Res {
    version: Regex,
    constraint: Regex,
    range: Regex,
    find: Regex,
    valid: Regex,
}

fn res() -> &'static Res {
    static R: OnceLock<Res> = OnceLock::new();
    R.get_or_init(|| {
        let re = |s: String| Regex::new(&s).unwrap_or_else(|e| panic!("semver regex: {e}"));
        Res {
            version: re(r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$".into()),
            constraint: re(format!(r"^\s*({OPS})\s*({CV})\s*$")),
            range: re(format!(r"\s*({CV})\s+-\s+({CV})\s*")),
            find: re(format!(r"({OPS})\s*({CV})")),
            valid: re(format!(r"^(\s*({OPS})\s*({CV})\s*)((?:\s+|,\s*)({OPS})\s*({CV})\s*)*$")),
        }
    })
}

/// A parsed semantic version (Masterminds `Version`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// Major number.
    pub major: u64,
    /// Minor number (0 when omitted).
    pub minor: u64,
    /// Patch number (0 when omitted).
    pub patch: u64,
    /// Pre-release without the `-`.
    pub pre: String,
    /// Build metadata without the `+`.
    pub metadata: String,
    /// The text parsed.
    pub original: String,
}

impl Version {
    /// Masterminds `NewVersion`: `v` prefix, minor and patch optional. Errors:
    /// `Invalid Semantic Version`, `Version segment starts with 0`.
    pub fn parse(s: &str) -> Result<Version, String> {
        let c = res()
            .version
            .captures(s)
            .ok_or("Invalid Semantic Version")?;
        let num = |i: usize| -> Result<u64, String> {
            c.get(i).map_or(Ok(0), |m| {
                m.as_str()
                    .trim_start_matches('.')
                    .parse()
                    .map_err(|e| format!("Error parsing version segment: {e}"))
            })
        };
        let pre = c.get(5).map_or("", |m| m.as_str()).to_string();
        for part in pre.split('.') {
            if part.len() > 1 && part.starts_with('0') && part.bytes().all(|b| b.is_ascii_digit()) {
                return Err("Version segment starts with 0".into());
            }
        }
        Ok(Version {
            major: num(1)?,
            minor: num(2)?,
            patch: num(3)?,
            pre,
            metadata: c.get(8).map_or("", |m| m.as_str()).to_string(),
            original: s.to_string(),
        })
    }

    /// Semver precedence (metadata ignored; a release sorts after its pre-releases).
    pub fn compare(&self, o: &Version) -> Ordering {
        let nums = (self.major, self.minor, self.patch).cmp(&(o.major, o.minor, o.patch));
        if nums != Ordering::Equal {
            return nums;
        }
        match (self.pre.is_empty(), o.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => compare_pre(&self.pre, &o.pre),
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for i in 0..pa.len().max(pb.len()) {
        let d = compare_pre_part(
            pa.get(i).copied().unwrap_or(""),
            pb.get(i).copied().unwrap_or(""),
        );
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

fn compare_pre_part(s: &str, o: &str) -> Ordering {
    if s == o {
        return Ordering::Equal;
    }
    if s.is_empty() {
        return Ordering::Less;
    }
    if o.is_empty() {
        return Ordering::Greater;
    }
    match (s.parse::<u64>(), o.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => s.cmp(o),
    }
}

#[derive(Clone, Debug)]
struct One {
    op: String,
    con: Version,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

/// A parsed constraint set (Masterminds `Constraints`): OR of ANDs.
#[derive(Clone, Debug)]
pub struct Constraint {
    groups: Vec<Vec<One>>,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

impl Constraint {
    /// Masterminds `NewConstraint`. Errors: `improper constraint: TEXT`.
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let text = rewrite_range(text);
        let mut groups = Vec::new();
        for part in text.split("||") {
            if !res().valid.is_match(part) {
                return Err(format!("improper constraint: {part}"));
            }
            let found: Vec<&str> = res().find.find_iter(part).map(|m| m.as_str()).collect();
            let items = if found.is_empty() { vec![part] } else { found };
            groups.push(items.into_iter().map(parse_one).collect::<Result<_, _>>()?);
        }
        Ok(Constraint { groups })
    }

    /// Whether `v` satisfies any group of constraints.
    pub fn check(&self, v: &Version) -> bool {
        self.groups.iter().any(|g| g.iter().all(|c| c.check(v)))
    }
}

fn rewrite_range(text: &str) -> String {
    let mut out = text.to_string();
    for c in res().range.captures_iter(text) {
        let (Some(all), Some(a), Some(b)) = (c.get(0), c.get(1), c.get(11)) else {
            continue;
        };
        out = out.replacen(
            all.as_str(),
            &format!(">= {}, <= {}", a.as_str(), b.as_str()),
            1,
        );
    }
    out
}

fn parse_one(text: &str) -> Result<One, String> {
    if text.is_empty() {
        return Ok(One {
            op: String::new(),
            con: Version::parse("0.0.0")?,
            dirty: true,
            minor_dirty: false,
            patch_dirty: false,
        });
    }
    let m = res()
        .constraint
        .captures(text)
        .ok_or_else(|| format!("improper constraint: {text}"))?;
    let g = |i: usize| m.get(i).map_or("", |x| x.as_str());
    let (major, minor, patch, pre) = (g(3), g(4), g(5), g(6));
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let ver = if is_x(major) || major.is_empty() {
        dirty = true;
        format!("0.0.0{pre}")
    } else if is_x(minor.trim_start_matches('.')) || minor.is_empty() {
        (dirty, minor_dirty) = (true, true);
        format!("{major}.0.0{pre}")
    } else if is_x(patch.trim_start_matches('.')) || patch.is_empty() {
        (dirty, patch_dirty) = (true, true);
        format!("{major}{minor}.0{pre}")
    } else {
        g(2).to_string()
    };
    let con = Version::parse(&ver).map_err(|_| "constraint Parser Error".to_string())?;
    Ok(One {
        op: g(1).to_string(),
        con,
        dirty,
        minor_dirty,
        patch_dirty,
    })
}

impl One {
    fn check(&self, v: &Version) -> bool {
        let c = &self.con;
        if self.op != "!=" && !v.pre.is_empty() && c.pre.is_empty() {
            return false;
        }
        let cmp = v.compare(c);
        match self.op.as_str() {
            "" | "=" if self.dirty => self.tilde(v),
            "" | "=" => cmp == Ordering::Equal,
            "!=" => self.not_equal(v),
            ">" => self.greater(v),
            "<" => cmp == Ordering::Less,
            ">=" | "=>" => cmp != Ordering::Less,
            "<=" | "=<" => self.less_equal(v),
            "~" | "~>" => self.tilde(v),
            _ => self.caret(v),
        }
    }

    fn not_equal(&self, v: &Version) -> bool {
        let c = &self.con;
        if self.dirty {
            if !v.pre.is_empty() && c.pre.is_empty() {
                return false;
            }
            if c.major != v.major {
                return true;
            }
            if self.minor_dirty {
                return false;
            }
            if c.minor != v.minor {
                return true;
            }
            if self.patch_dirty {
                return (!v.pre.is_empty() || !c.pre.is_empty())
                    && compare_pre(&v.pre, &c.pre) != Ordering::Equal;
            }
            if c.patch != v.patch {
                return true;
            }
        }
        v.compare(c) != Ordering::Equal
    }

    fn greater(&self, v: &Version) -> bool {
        let c = &self.con;
        if !self.dirty {
            return v.compare(c) == Ordering::Greater;
        }
        if v.major != c.major {
            return v.major > c.major;
        }
        if self.minor_dirty {
            return false;
        }
        if self.patch_dirty {
            return v.minor > c.minor;
        }
        v.compare(c) == Ordering::Greater
    }

    fn less_equal(&self, v: &Version) -> bool {
        let c = &self.con;
        if !self.dirty {
            return v.compare(c) != Ordering::Greater;
        }
        if v.major > c.major {
            return false;
        }
        !(v.major == c.major && v.minor > c.minor && !self.minor_dirty)
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        v.major == c.major && (v.minor == c.minor || self.minor_dirty)
    }

    fn caret(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major > 0 || self.minor_dirty {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.patch_dirty {
            return v.minor == c.minor;
        }
        if v.minor > 0 {
            return false;
        }
        c.patch == v.patch
    }
}

/// Sprig's `semverCompare CONSTRAINT VERSION`.
pub fn semver_compare(constraint: &str, version: &str) -> Result<bool, String> {
    let c = Constraint::parse(constraint)?;
    let v = Version::parse(version)?;
    Ok(c.check(&v))
}

/// `*semver.Version` as a template object: methods `Major Minor Patch Prerelease Metadata
/// Original String` and `Compare LessThan GreaterThan Equal` (taking another version).
#[derive(Debug)]
struct VersionObject(Version);

fn other_version(v: &Value) -> Result<Version, String> {
    match v {
        Value::Object(o) if o.type_name() == "*semver.Version" => Version::parse(&o.format()),
        other => Err(format!(
            "wrong type for value; expected *semver.Version; got {}",
            other.go_type()
        )),
    }
}

impl Object for VersionObject {
    fn type_name(&self) -> String {
        "*semver.Version".into()
    }

    fn field(&self, _name: &str) -> Option<Value> {
        None
    }

    fn method(&self, name: &str) -> Option<Function> {
        let v = self.0.clone();
        let value = match name {
            "Major" => Value::Int(v.major as i64),
            "Minor" => Value::Int(v.minor as i64),
            "Patch" => Value::Int(v.patch as i64),
            "Prerelease" => v.pre.clone().into(),
            "Metadata" => v.metadata.clone().into(),
            "Original" => v.original.clone().into(),
            "String" => v.to_string().into(),
            "Compare" | "LessThan" | "GreaterThan" | "Equal" => {
                let op = name.to_string();
                return Some(Function::new(&[Param::Any], None, move |_, a| {
                    let o = other_version(super::arg(a, 0))?;
                    let ord = v.compare(&o);
                    Ok(match op.as_str() {
                        "Compare" => Value::Int(ord as i64),
                        "LessThan" => Value::Bool(ord == Ordering::Less),
                        "GreaterThan" => Value::Bool(ord == Ordering::Greater),
                        _ => Value::Bool(ord == Ordering::Equal),
                    })
                }));
            }
            _ => return None,
        };
        Some(Function::new(&[], None, move |_, _| Ok(value.clone())))
    }

    fn format(&self) -> String {
        self.0.to_string()
    }
}

pub(super) fn register(m: &mut FuncMap) {
    m.insert(
        "semverCompare",
        f(&[S, S], |a| {
            semver_compare(sarg(a, 0), sarg(a, 1)).map(Value::Bool)
        }),
    );
    m.insert(
        "semver",
        f(&[S], |a| {
            let v = Version::parse(sarg(a, 0))?;
            Ok(Value::Object(Arc::new(VersionObject(v))))
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{err, r};
    use super::*;

    fn check(c: &str, v: &str) -> bool {
        match semver_compare(c, v) {
            Ok(b) => b,
            Err(e) => panic!("{c} {v}: {e}"),
        }
    }

    #[test]
    fn kube_version_gates() {
        // The idiom of most charts: `semverCompare ">=1.21-0" .Capabilities.KubeVersion.GitVersion`.
        assert!(check(">=1.21-0", "v1.29.0"));
        assert!(check(">=1.21-0", "v1.29.3-gke.100"));
        assert!(!check(">=1.21-0", "v1.20.15"));
        assert!(!check(">=1.21", "v1.29.3-gke.100"));
        assert!(check("<1.22-0", "v1.21.14-eks-1"));
        assert!(check(">=1.16-0, <1.22-0", "1.19.0"));
        assert!(!check(">=1.16-0 <1.22-0", "1.22.0"));
    }

    #[test]
    fn masterminds_readme_ranges() {
        // Masterminds/semver README: tilde, caret, wildcard and hyphen ranges.
        assert!(check("~1.2.3", "1.2.9") && !check("~1.2.3", "1.3.0"));
        assert!(check("~1", "1.9.0") && !check("~1", "2.0.0"));
        assert!(check("^1.2.3", "1.9.9") && !check("^1.2.3", "2.0.0"));
        assert!(check("^0.2.3", "0.2.9") && !check("^0.2.3", "0.3.0"));
        assert!(check("^0.0.3", "0.0.3") && !check("^0.0.3", "0.0.4"));
        assert!(check("1.2.x", "1.2.7") && !check("1.2.x", "1.3.0"));
        assert!(check("*", "4.5.6") && check(">= 1.2.x", "1.2.0"));
        assert!(check("1.2 - 1.4.5", "1.4.5") && !check("1.2 - 1.4.5", "1.4.6"));
        assert!(check(">2 || <1", "0.5.0") && !check(">2 || <1", "1.5.0"));
        assert!(!check(">1.x", "1.9.0") && check(">1.x", "2.0.0"));
        assert!(check("<=1.2.x", "1.2.9") && !check("<=1.2.x", "1.3.0"));
        assert!(check("!=4.1", "4.2.0") && !check("!=4.1.0", "4.1.0"));
        assert!(check("=1.2.3", "v1.2.3+build"));
    }

    #[test]
    fn precedence() {
        let v = |s: &str| Version::parse(s).unwrap();
        // semver.org §11 ordering example.
        let order = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for w in order.windows(2) {
            assert_eq!(
                v(w[0]).compare(&v(w[1])),
                Ordering::Less,
                "{} < {}",
                w[0],
                w[1]
            );
        }
        assert!(Version::parse("1.2.3.4").is_err());
        assert!(Constraint::parse(">= foo").is_err());
    }

    #[test]
    fn template_functions() {
        assert_eq!(r(r#"{{ semverCompare "^1.2.0" "1.2.3" }}"#), "true");
        assert_eq!(
            r(
                r#"{{ $v := semver "v1.2.3-beta.1+b5" }}{{ $v.Major }}.{{ $v.Minor }} {{ $v.Prerelease }} {{ $v.Metadata }} {{ $v }}"#
            ),
            "1.2 beta.1 b5 1.2.3-beta.1+b5"
        );
        assert_eq!(
            r(r#"{{ (semver "1.2.3").Compare (semver "1.3.0") }}"#),
            "-1"
        );
        assert!(
            err(r#"{{ semverCompare ">=1.0" "garbage" }}"#).contains("Invalid Semantic Version")
        );
        assert!(err(r#"{{ semverCompare "??" "1.0.0" }}"#).contains("improper constraint"));
    }
}
