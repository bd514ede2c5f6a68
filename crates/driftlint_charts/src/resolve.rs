//! Picking a chart version from a range, as Flux's source-controller does.

use driftlint_helm::semver::{satisfies, Version};

/// The version of `offered` that `wanted` selects, as source-controller's `GetChartVersion`
/// (HTTP index) and its OCI tag resolution do: an empty `wanted` means `*`; a version string
/// offered verbatim is taken as is; otherwise the highest semver version satisfying the
/// Masterminds constraint, pre-releases only when the constraint names one. OCI tags use `_`
/// for `+` (Helm's OCI convention), so both spellings compare equal.
///
/// Returns None when nothing matches or the constraint does not parse.
pub fn resolve_version(wanted: &str, offered: &[String]) -> Option<String> {
    let wanted = wanted.trim();
    if !wanted.is_empty() && offered.iter().any(|v| v == wanted) {
        return Some(wanted.to_string());
    }
    let constraint = if wanted.is_empty() { "*" } else { wanted };
    let allow_pre = constraint.contains('-');
    let mut best: Option<(Version, &String)> = None;
    for text in offered {
        let Some(v) = Version::parse(&text.replace('_', "+")) else {
            continue;
        };
        if (!v.pre.is_empty() && !allow_pre) || !satisfies(constraint, &v).ok()? {
            continue;
        }
        let better = best.as_ref().is_none_or(|(b, _)| v.precedence(b).is_gt());
        if better {
            best = Some((v, text));
        }
    }
    best.map(|(_, t)| t.clone())
}

#[cfg(test)]
mod tests {
    use super::resolve_version;

    fn offered() -> Vec<String> {
        ["6.5.0", "6.5.4", "6.6.0-rc.1", "6.4.1", "7.0.0", "latest"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn ranges_take_the_highest_stable_match() {
        assert_eq!(
            resolve_version("6.5.x", &offered()).as_deref(),
            Some("6.5.4")
        );
        assert_eq!(
            resolve_version(">=6.0.0 <7.0.0", &offered()).as_deref(),
            Some("6.5.4")
        );
        assert_eq!(resolve_version("", &offered()).as_deref(), Some("7.0.0"));
        assert_eq!(resolve_version("*", &offered()).as_deref(), Some("7.0.0"));
        assert_eq!(
            resolve_version(">=6.6.0-0 <7.0.0-0", &offered()).as_deref(),
            Some("6.6.0-rc.1")
        );
    }

    #[test]
    fn exact_and_missing() {
        assert_eq!(
            resolve_version("6.4.1", &offered()).as_deref(),
            Some("6.4.1")
        );
        assert_eq!(
            resolve_version("latest", &offered()).as_deref(),
            Some("latest")
        );
        assert_eq!(resolve_version("8.x", &offered()), None);
        assert_eq!(resolve_version("not a range", &offered()), None);
    }
}
