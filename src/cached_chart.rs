//! Charts read from the chart cache, the same way for every kind of unit that names a chart
//! of a Helm repository or OCI registry: Flux `HelmRelease`s, helmfile releases, Argo CD helm
//! sources and kustomize `helmCharts` entries with a `repo`. `check` stays offline: a chart
//! the cache lacks is CHART001 "chart not available" (a warning), never a download.

use driftlint_charts::{resolve_version, ChartCache, ChartLocator};
use driftlint_yaml::Origin;

/// The name cached charts' files carry in origins: `chart-cache:<locator> <version>/...`.
pub(crate) const CACHE_PREFIX: &str = "chart-cache:";

/// A packaged chart from the cache: its `.tgz` bytes (digest verified by the cache) and a
/// label naming it (`oci://ghcr.io/org/charts/podinfo 6.5.4`, `https://repo podinfo 6.5.4`).
#[derive(Debug, Clone)]
pub(crate) struct CachedChart {
    pub(crate) archive: Vec<u8>,
    pub(crate) label: String,
}

/// What the cache holds for a request.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// The chart.
    Found(CachedChart),
    /// Not cached: CHART001's message (chart, version, source, `driftlint charts pull`).
    Missing(String),
}

/// The cached chart of `loc` whose version the semver range `wanted` selects (Flux's and
/// Helm's rules: [`resolve_version`]; an exact version is a range of one).
///
/// Errors: the cache cannot be read (corrupt index, digest mismatch): the message.
pub(crate) fn by_range(
    cache: Option<&ChartCache>,
    loc: &ChartLocator,
    wanted: &str,
) -> Result<Lookup, String> {
    let versions = match cache {
        Some(c) => c
            .index(loc)
            .map_err(|e| format!("chart cache: {e}"))?
            .map(|i| i.versions)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    match resolve_version(wanted, &versions) {
        Some(v) => exact(cache, loc, &v),
        None => Ok(Lookup::Missing(not_available(loc, wanted))),
    }
}

/// The cached chart of `loc` at exactly `version` (a tag, or `sha256:<hex>` for a digest
/// reference as `driftlint charts pull` stores it).
///
/// Errors: as [`by_range`].
pub(crate) fn exact(
    cache: Option<&ChartCache>,
    loc: &ChartLocator,
    version: &str,
) -> Result<Lookup, String> {
    let archive = match cache {
        Some(c) => c
            .archive(loc, version)
            .map_err(|e| format!("chart cache: {e}"))?,
        None => None,
    };
    Ok(match archive {
        Some(archive) => Lookup::Found(CachedChart {
            archive,
            label: format!("{loc} {version}"),
        }),
        None => Lookup::Missing(not_available(loc, version)),
    })
}

impl CachedChart {
    /// The name the chart's files carry in origins ([`CACHE_PREFIX`] + label).
    pub(crate) fn origin_name(&self) -> String {
        format!("{CACHE_PREFIX}{}", self.label)
    }

    /// The chart, unpacked in memory within the archive budgets of `driftlint_helm`.
    ///
    /// Errors: as [`driftlint_helm::load::load_archive`].
    pub(crate) fn load(&self) -> Result<driftlint_helm::Chart, driftlint_helm::HelmError> {
        driftlint_helm::load::load_archive(&self.origin_name(), &self.archive)
    }
}

/// Points every node of `n` that comes from the cached chart named `chart` (its
/// [`CachedChart::origin_name`]) at `at` (the line that asks for the chart), naming the chart's
/// file and line in `via`: the user cannot edit a cached chart. `owner` names what asked for
/// it (`HelmRelease flux-system/podinfo`, `helmCharts entry podinfo`).
pub(crate) fn remap(n: &mut driftlint_yaml::Node, chart: &str, at: &Origin, owner: &str) {
    if n.origin.file.starts_with(chart) {
        let inner = n.origin.file.trim_start_matches(CACHE_PREFIX);
        let via = format!(
            "the chart's {inner}:{} ({owner}; not editable here)",
            n.origin.line
        );
        n.origin = at.clone().with_via(via);
    }
    match &mut n.value {
        driftlint_yaml::Value::Scalar(_) => {}
        driftlint_yaml::Value::Seq(items) => {
            items.iter_mut().for_each(|i| remap(i, chart, at, owner))
        }
        driftlint_yaml::Value::Map(m) => {
            for (k, v) in m.entries_mut().iter_mut() {
                remap(k, chart, at, owner);
                remap(v, chart, at, owner);
            }
        }
    }
}

/// CHART001's message: chart, version, source, and the command that fetches it.
pub(crate) fn not_available(loc: &ChartLocator, version: &str) -> String {
    format!(
        "chart not available: {} version {version:?} from {} is not in the chart cache; `driftlint charts pull` fetches it",
        loc.chart, loc.source
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc() -> ChartLocator {
        ChartLocator::http("https://charts.example.org/stable/", "podinfo").unwrap()
    }

    #[test]
    fn without_a_cache_every_chart_is_missing_with_its_fetch_command() {
        let Lookup::Missing(msg) = by_range(None, &loc(), "6.x").unwrap() else {
            panic!("found a chart without a cache")
        };
        assert!(msg.contains("podinfo version \"6.x\""), "{msg}");
        assert!(msg.contains("`driftlint charts pull`"), "{msg}");
    }

    #[test]
    fn a_cached_archive_is_found_by_range_and_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ChartCache::new(dir.path().to_path_buf());
        let bytes = b"not really a chart".to_vec();
        cache
            .record_versions(&loc(), &["6.5.3".into(), "6.5.4".into()])
            .unwrap();
        cache.store_archive(&loc(), "6.5.4", &bytes, None).unwrap();
        let Lookup::Found(c) = by_range(Some(&cache), &loc(), "~6.5.0").unwrap() else {
            panic!("range not resolved")
        };
        assert!(c.label.ends_with(" 6.5.4"), "{}", c.label);
        assert_eq!(c.archive, bytes);
        assert!(matches!(
            exact(Some(&cache), &loc(), "6.5.3").unwrap(),
            Lookup::Missing(_)
        ));
    }
}
