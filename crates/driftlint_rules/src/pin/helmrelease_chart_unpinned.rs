//! PIN005 helmrelease-chart-unpinned.
//!
//! ## What it does
//! Flags a Flux HelmRelease (`helm.toolkit.fluxcd.io`) whose `spec.chart.spec.version` is
//! missing or a range, and a HelmChart (`source.toolkit.fluxcd.io`) whose `spec.version` is.
//! A version is pinned only when it is one exact semantic version (`1.2.3`, `v1.2.3`,
//! `=1.2.3`, with optional pre-release/build). Everything Masterminds/semver reads as a
//! constraint is a range: `*`, `x`/`X` components, `^`, `~`, `>`, `<`, `||`, ` - `, comma or
//! space separated lists, and partial versions (`1.2` means `1.2.x`).
//!
//! Passes: a HelmRelease using `spec.chartRef` (pinned by its OCIRepository/HelmChart), and
//! charts whose `sourceRef` is a GitRepository or Bucket (Flux ignores `version` there: the
//! source revision pins the chart).
//!
//! Also flags a Flux OCIRepository (`source.toolkit.fluxcd.io`) whose `spec.ref.semver` is a
//! range (`1.x`, `>= 1.8.0-rc.0`) and that has no `spec.ref.digest`: same family, the chart or
//! manifests artifact upgrades itself. A version holding a Flux placeholder (`${VERSION}`) is
//! unknown until substitution and passes.
//!
//! ## Why
//! Flux reconciles ranges to the newest matching chart: production upgrades itself.
//!
//! ## Example
//! `version: ">=6.0.0"` — use instead `version: 6.7.1`.

use std::sync::LazyLock;

use regex::Regex;

use crate::k8s::{kind_and_group, Located};
use crate::{Hit, Scope};
use driftlint_yaml::Node;

pub(crate) const CODE: &str = "PIN005";
pub(crate) const META: &str = include_str!("../../../../rules/PIN005.yaml");

static EXACT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$",
    )
    .expect("static regex")
});

pub(crate) fn check(obj: &Node, _scope: &Scope<'_>, out: &mut Vec<Hit>) {
    let root = Located::root(obj);
    let chart_spec = match kind_and_group(obj) {
        ("HelmRelease", "helm.toolkit.fluxcd.io") => {
            if root.path(&["spec", "chartRef"]).is_some() {
                return;
            }
            root.path(&["spec", "chart", "spec"])
        }
        ("HelmChart", "source.toolkit.fluxcd.io") => root.key("spec"),
        ("OCIRepository", "source.toolkit.fluxcd.io") => return check_oci_semver(&root, out),
        _ => None,
    };
    let Some(spec) = chart_spec.filter(|s| s.node.as_map().is_some()) else {
        return;
    };
    if matches!(
        spec.node.str_at(&["sourceRef", "kind"]),
        Some("GitRepository" | "Bucket")
    ) {
        return;
    }
    let chart = spec.node.str_at(&["chart"]).unwrap_or("?");
    match spec.key("version") {
        Some(v) => {
            let text = v.node.as_scalar().map(|s| s.text.as_str()).unwrap_or("");
            if !is_pinned_or_unknown(text) {
                let msg = format!(
                    "chart {chart} version \"{text}\" is a range: Flux upgrades to the newest match"
                );
                out.push(Hit::new(CODE, v.node, v.pointer, msg));
            }
        }
        None => {
            let msg = format!("chart {chart} has no version: Flux installs the newest chart");
            out.push(Hit::new(
                CODE,
                spec.node,
                format!("{}/version", spec.pointer),
                msg,
            ));
        }
    }
}

/// An OCIRepository whose `spec.ref.semver` is a range (and no `spec.ref.digest`, which takes
/// precedence in Flux): the artifact follows the newest matching tag.
fn check_oci_semver(root: &Located<'_>, out: &mut Vec<Hit>) {
    let Some(reference) = root.path(&["spec", "ref"]) else {
        return;
    };
    let digest = reference.node.str_at(&["digest"]);
    if digest.is_some_and(|d| !d.trim().is_empty()) {
        return;
    }
    let Some(semver) = reference.key("semver") else {
        return;
    };
    let text = semver.node.scalar_text().unwrap_or("");
    if is_pinned_or_unknown(text) {
        return;
    }
    let url = root.node.str_at(&["spec", "url"]).unwrap_or("?");
    let msg = format!(
        "OCIRepository {url} ref.semver \"{text}\" is a range: Flux follows the newest matching tag"
    );
    out.push(Hit::new(CODE, semver.node, semver.pointer, msg));
}

/// An exact version, or one still holding a Flux placeholder (unknown until substitution).
fn is_pinned_or_unknown(text: &str) -> bool {
    is_exact_version(text) || driftlint_yaml::contains_flux_placeholder(text)
}

/// True for one exact semantic version, optionally written `v1.2.3` or `=1.2.3`.
pub(crate) fn is_exact_version(text: &str) -> bool {
    let t = text.trim();
    let t = t.strip_prefix('=').unwrap_or(t).trim_start();
    let t = t.strip_prefix('v').unwrap_or(t);
    EXACT.is_match(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    fn release(version_line: &str) -> String {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {{name: r}}\nspec:\n  chart:\n    spec:\n      chart: podinfo\n{version_line}      sourceRef: {{kind: HelmRepository, name: podinfo}}\n"
        )
    }

    /// An OCIRepository whose `spec.ref` holds `fields` (`key: value` pairs split by `; `).
    fn oci(fields: &str) -> String {
        let lines: String = fields.split("; ").map(|f| format!("    {f}\n")).collect();
        format!(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata: {{name: o}}\nspec:\n  url: oci://ghcr.io/x/app\n  ref:\n{lines}"
        )
    }

    #[test]
    fn pass_fail_table() {
        let v = |s: &str| release(&format!("      version: \"{s}\"\n"));
        let cases = [
            ("missing", release(""), 1),
            ("star", v("*"), 1),
            ("caret", v("^6.0.0"), 1),
            ("tilde", v("~6.1"), 1),
            ("gte", v(">=6.0.0"), 1),
            ("lt", v("<7"), 1),
            ("or", v("6.1.0 || 6.2.0"), 1),
            ("hyphen", v("6.0.0 - 6.2.0"), 1),
            ("x", v("6.x"), 1),
            ("partial", v("6.1"), 1),
            ("empty", v(""), 1),
            ("exact", v("6.7.1"), 0),
            ("v exact", v("v6.7.1"), 0),
            ("eq exact", v("=6.7.1"), 0),
            ("prerelease", v("6.7.1-rc.1+build.5"), 0),
            (
                "chartRef",
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: r}\nspec:\n  chartRef: {kind: OCIRepository, name: podinfo}\n".to_string(),
                0,
            ),
            (
                "git source",
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: r}\nspec:\n  chart:\n    spec:\n      chart: ./charts/app\n      sourceRef: {kind: GitRepository, name: repo}\n".to_string(),
                0,
            ),
            (
                "HelmChart range",
                "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmChart\nmetadata: {name: c}\nspec:\n  chart: podinfo\n  version: '6.x'\n  sourceRef: {kind: HelmRepository, name: p}\n".to_string(),
                1,
            ),
            (
                "HelmChart exact",
                "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmChart\nmetadata: {name: c}\nspec:\n  chart: podinfo\n  version: 6.7.1\n  sourceRef: {kind: HelmRepository, name: p}\n".to_string(),
                0,
            ),
            ("placeholder", v("${CHART_VERSION}"), 0),
            ("placeholder default", v("${CHART_VERSION:=1.x}"), 0),
            ("escaped placeholder is text", v("$${V}"), 1),
            ("oci x range", oci("semver: 1.x"), 1),
            ("oci prerelease range", oci("semver: '>= 1.8.0-rc.0'"), 1),
            ("oci exact semver", oci("semver: 1.8.0"), 0),
            ("oci digest wins", oci("semver: 1.x; digest: 'sha256:00ff'"), 0),
            ("oci tag", oci("tag: 1.8.0"), 0),
            ("oci placeholder", oci("semver: ${V}"), 0),
            (
                "other group",
                "apiVersion: example.com/v1\nkind: HelmRelease\nmetadata: {name: r}\nspec: {}\n".to_string(),
                0,
            ),
        ];
        let cases: Vec<(&str, &str, usize)> =
            cases.iter().map(|(n, s, w)| (*n, s.as_str(), *w)).collect();
        table(check, &cases);
    }

    #[test]
    fn plain_float_version_keeps_its_text() {
        let hits = run_rule(check, &release("      version: 1.20\n"));
        assert_eq!(hits.len(), 1);
        assert!(hits[0].message.contains("\"1.20\""), "{}", hits[0].message);
        assert_eq!(hits[0].field, "/spec/chart/spec/version");
        assert_eq!(hits[0].origin.line, 8);
    }

    #[test]
    fn missing_version_points_at_the_chart_spec() {
        let hits = run_rule(check, &release(""));
        assert_eq!(hits[0].field, "/spec/chart/spec/version");
        assert_eq!(hits[0].origin.line, 7);
    }
}
