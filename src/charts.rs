//! `driftlint charts pull` and `check --pull-charts`: the charts a repository asks for
//! (its targets rendered as [`crate::check`] renders them, so `HelmRelease`s and sources inside
//! Flux Kustomization units count, the helm sources of Argo CD Applications, including those
//! ApplicationSets generate, plus kustomize `helmCharts` entries with a `repo`), pulled
//! into the chart cache under the policy of `driftlint_charts::pull::policy`.

use std::path::Path;

use driftlint_charts::{collect, ChartCache, Collected};
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{parse_documents, Node};

use crate::check::{render_repo, CheckError, CheckOptions};
use crate::config::Config;
use crate::discover;

/// What the repository asks for, with the configuration it was read with.
pub struct RepoCharts {
    /// Requests, unresolved references and the hosts the sources name.
    pub collected: Collected,
    /// The repository's configuration (`charts:` is read from it).
    pub config: Config,
}

/// Renders the repository under `opts.paths` (no validation, no rules) and collects its chart
/// requests. Errors: as [`render_repo`].
pub fn collect_repo(opts: &CheckOptions) -> Result<RepoCharts, CheckError> {
    let repo = render_repo(opts)?;
    let fs = RepoFs::new(&repo.root)?;
    let kustomizations = kustomization_files(&fs, &repo.config);
    let objects = repo
        .targets
        .iter()
        .flat_map(|(_, objs)| objs.iter())
        .chain(repo.applications.iter());
    let mut collected = collect(objects, kustomizations.iter());
    helmfile_requests(&fs, opts, &repo.config, &mut collected);
    Ok(RepoCharts {
        collected,
        config: repo.config,
    })
}

/// Adds the charts of helmfile releases (`repo/chart`, `oci://`) and their repositories' hosts.
fn helmfile_requests(fs: &RepoFs, opts: &CheckOptions, config: &Config, out: &mut Collected) {
    let inv = discover::walk(fs, fs.root(), config);
    let files: Vec<_> = inv.helmfiles.into_iter().collect();
    let hopts = crate::check::helmfile_options(config, opts, "");
    let (requests, hosts) = crate::helmfile::chart_requests(fs, &files, &hopts);
    for r in requests {
        if !out
            .requests
            .iter()
            .any(|q| q.locator == r.locator && q.wanted == r.wanted)
        {
            out.requests.push(r);
        }
    }
    out.source_hosts.extend(hosts);
}

/// Every kustomization file of the repository, parsed (unreadable or malformed ones are the
/// render's business and skipped here).
fn kustomization_files(fs: &RepoFs, config: &Config) -> Vec<Node> {
    let inv = discover::walk(fs, fs.root(), config);
    let mut out = Vec::new();
    for dir in &inv.kustomizations {
        let found = discover::KUSTOMIZATION_FILES
            .iter()
            .map(|name| fs.root().join(dir).join(name))
            .find(|p| p.is_file());
        let Some(path) = found else { continue };
        let Ok(text) = fs.read_text(&path) else {
            continue;
        };
        let name = fs.display(&path);
        if let Ok(docs) = parse_documents(name.into(), &text) {
            out.extend(docs.into_iter().take(1));
        }
    }
    out
}

/// The chart cache at `dir`, else the default root.
/// Errors: neither `--cache-dir` nor `$XDG_CACHE_HOME`/`$HOME` is set.
pub fn cache_at(dir: Option<&Path>) -> Result<ChartCache, String> {
    match dir {
        Some(d) => Ok(ChartCache::new(d)),
        None => ChartCache::default_root()
            .map(ChartCache::new)
            .ok_or_else(|| {
                "no chart cache directory: set --cache-dir, XDG_CACHE_HOME or HOME".into()
            }),
    }
}

#[cfg(feature = "pull")]
pub use pulling::*;

#[cfg(feature = "pull")]
mod pulling {
    use std::path::PathBuf;

    use super::*;
    use driftlint_charts::pull::{self, Credentials, Outcome, PullOptions, PullPolicy, Pulled};

    /// The largest `--registry-config` read: 1 MiB.
    const MAX_REGISTRY_CONFIG_BYTES: u64 = 1 << 20;

    /// How to pull.
    #[derive(Clone, Debug, Default)]
    pub struct PullSettings {
        /// The cache directory (`--cache-dir`; default `$XDG_CACHE_HOME/driftlint/charts`).
        pub cache_dir: Option<PathBuf>,
        /// A Docker `config.json` with registry credentials (`--registry-config`).
        pub registry_config: Option<PathBuf>,
        /// Loopback/private/link-local registries allowed (`--allow-private-registries`).
        pub allow_private_registries: bool,
        /// List what would be pulled and contact nothing (`--dry-run`).
        pub dry_run: bool,
    }

    /// What a pull did.
    #[derive(Debug)]
    pub struct PullRun {
        /// One entry per chart request, in request order.
        pub pulled: Vec<Pulled>,
        /// References naming no usable source: `file:line: reason`.
        pub unresolved: Vec<String>,
        /// With `--dry-run`: what would be pulled, nothing contacted.
        pub planned: Option<Vec<driftlint_charts::ChartRequest>>,
    }

    impl PullRun {
        /// Requests that failed.
        pub fn failed(&self) -> usize {
            let failed = |p: &&Pulled| matches!(p.outcome, Outcome::Failed(_));
            self.pulled.iter().filter(failed).count()
        }

        /// One line per request (`pulled|cached|failed CHART VERSION ...`), the unresolved
        /// references, and a summary line.
        pub fn lines(&self) -> Vec<String> {
            let mut out: Vec<String> = self
                .planned
                .iter()
                .flatten()
                .map(|r| format!("would pull {} {} for {}", r.locator, r.wanted, r.declared))
                .collect();
            let (mut pulled, mut cached) = (0, 0);
            for p in &self.pulled {
                let r = &p.request;
                let at = &r.declared;
                let line = match &p.outcome {
                    Outcome::Pulled { version, digest } => {
                        pulled += 1;
                        format!("pulled {} {version} ({digest}) for {at}", r.locator)
                    }
                    Outcome::Cached { version } => {
                        cached += 1;
                        format!("cached {} {version} for {at}", r.locator)
                    }
                    Outcome::Failed(e) => {
                        format!("failed {} {} for {at}: {e}", r.locator, r.wanted)
                    }
                };
                out.push(line);
            }
            for u in &self.unresolved {
                out.push(format!("skipped {u}"));
            }
            if let Some(planned) = &self.planned {
                out.push(format!(
                    "{} charts to pull (dry run: nothing contacted); {} references without a source",
                    planned.len(),
                    self.unresolved.len()
                ));
                return out;
            }
            out.push(format!(
                "{} charts: {pulled} pulled, {cached} cached, {} failed; {} references without a source",
                self.pulled.len(),
                self.failed(),
                self.unresolved.len()
            ));
            out
        }
    }

    /// Collects the repository's charts and pulls what the cache lacks.
    /// Errors: the repository cannot be rendered ([`CheckError`] text), no cache directory,
    /// an unreadable registry config or credentials variable (names only, never values).
    pub fn pull_repo(opts: &CheckOptions, settings: &PullSettings) -> Result<PullRun, String> {
        let cache = cache_at(settings.cache_dir.as_deref())?;
        let repo = collect_repo(opts).map_err(|e| e.to_string())?;
        let options = pull_options(&repo, settings)?;
        let unresolved = repo
            .collected
            .unresolved
            .iter()
            .map(|u| format!("{}: {}", u.origin, u.reason))
            .collect();
        if settings.dry_run {
            return Ok(PullRun {
                pulled: Vec::new(),
                unresolved,
                planned: Some(repo.collected.requests),
            });
        }
        let pulled = pull::pull(&repo.collected.requests, &cache, &options);
        Ok(PullRun {
            pulled,
            unresolved,
            planned: None,
        })
    }

    /// The policy and credentials of a pull: the hosts the sources name plus
    /// `charts.allowHosts`; plain http for `insecure: true` sources when
    /// `charts.allowInsecure`; credentials from `--registry-config` then `charts.credentials`.
    fn pull_options(repo: &RepoCharts, settings: &PullSettings) -> Result<PullOptions, String> {
        let charts = &repo.config.charts;
        let mut allowed = pull::hosts_for_sources(&repo.collected.source_hosts);
        allowed.extend(charts.allow_hosts.iter().cloned());
        let insecure_hosts = repo
            .collected
            .requests
            .iter()
            .filter(|r| r.insecure)
            .map(|r| r.locator.host().to_ascii_lowercase())
            .collect();
        let policy = PullPolicy {
            allowed_hosts: allowed,
            insecure_hosts,
            allow_insecure: charts.allow_insecure,
            allow_private: settings.allow_private_registries,
        };
        let mut credentials = match &settings.registry_config {
            Some(path) => read_registry_config(path)?,
            None => Credentials::default(),
        };
        for (host, user, password) in &charts.credentials {
            credentials
                .add_env(host, user, password)
                .map_err(|e| e.to_string())?;
        }
        Ok(PullOptions {
            policy,
            credentials,
            ..PullOptions::default()
        })
    }

    fn read_registry_config(path: &Path) -> Result<Credentials, String> {
        use std::io::Read;
        let shown = path.display();
        let file =
            std::fs::File::open(path).map_err(|e| format!("--registry-config {shown}: {e}"))?;
        let mut bytes = Vec::new();
        file.take(MAX_REGISTRY_CONFIG_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("--registry-config {shown}: {e}"))?;
        if bytes.len() as u64 > MAX_REGISTRY_CONFIG_BYTES {
            return Err(format!("--registry-config {shown}: larger than 1 MiB"));
        }
        Credentials::from_docker_config(&bytes)
            .map_err(|e| format!("--registry-config {shown}: {e}"))
    }
}
