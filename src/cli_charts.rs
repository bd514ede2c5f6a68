//! `driftlint charts pull` and `check --pull-charts`: argument parsing and dispatch to
//! [`driftlint::charts`].

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;
use driftlint::charts::{pull_repo, PullSettings};
use driftlint::check::CheckOptions;
use driftlint::report;

#[derive(Subcommand)]
pub(crate) enum ChartsCommand {
    /// Resolve every chart the repository references (Flux HelmReleases with HelmRepository
    /// or OCIRepository sources, Argo CD Application helm sources with a chart, kustomize
    /// helmCharts with a repo) and download what the chart
    /// cache lacks. Only hosts the repository's sources name (plus `charts.allowHosts`) are
    /// contacted, over https unless a source says `insecure: true` and the configuration
    /// allows it. Exit 0 when every chart is in the cache, 2 when one could not be pulled.
    Pull(ChartsPullArgs),
}

#[derive(clap::Args)]
pub(crate) struct ChartsPullArgs {
    /// A path inside the repository (default: the current directory).
    path: Option<PathBuf>,
    /// The chart cache directory (default: $XDG_CACHE_HOME/driftlint/charts, else
    /// ~/.cache/driftlint/charts).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    #[command(flatten)]
    pull: PullFlags,
    /// List the charts that would be pulled (chart, version wanted, where declared) and
    /// contact nothing.
    #[arg(long)]
    dry_run: bool,
    /// Kubernetes version to render for (default: config, else newest).
    #[arg(long)]
    kubernetes_version: Option<String>,
}

/// Pulls before a check or a drift run (`check --pull-charts`, `drift --pull-charts`); see
/// [`pull_and_print`].
pub(crate) fn pull_for_check(opts: &CheckOptions, flags: &PullFlags) -> Result<usize, u8> {
    pull_and_print(opts, &flags.settings(opts.cache_dir.clone(), false))
}

/// The flags `charts pull`, `check --pull-charts` and `drift --pull-charts` share
/// (`--cache-dir` is each command's own).
#[derive(clap::Args, Clone, Debug, Default)]
pub(crate) struct PullFlags {
    /// A Docker config.json whose `auths` hold registry credentials (as `docker login` or
    /// `helm registry login` write it). Credentials are never printed.
    #[arg(long, value_name = "FILE")]
    pub(crate) registry_config: Option<PathBuf>,
    /// Allow registries on loopback, private and link-local addresses (refused by default:
    /// a pull request must not make CI fetch from its internal network).
    #[arg(long)]
    pub(crate) allow_private_registries: bool,
}

impl PullFlags {
    fn settings(&self, cache_dir: Option<PathBuf>, dry_run: bool) -> PullSettings {
        PullSettings {
            cache_dir,
            registry_config: self.registry_config.clone(),
            allow_private_registries: self.allow_private_registries,
            dry_run,
        }
    }
}

pub(crate) fn run_charts(command: ChartsCommand) -> u8 {
    match command {
        ChartsCommand::Pull(args) => {
            let opts = CheckOptions {
                paths: vec![args.path.unwrap_or_else(|| PathBuf::from("."))],
                kubernetes_version: args.kubernetes_version,
                cache_dir: args.cache_dir.clone(),
                ..CheckOptions::default()
            };
            match pull_and_print(&opts, &args.pull.settings(args.cache_dir, args.dry_run)) {
                Ok(0) => 0,
                Ok(_) => 2,
                Err(code) => code,
            }
        }
    }
}

/// Pulls the charts of `opts.paths`, printing one line per chart to stderr; returns the
/// number of charts that failed. Errors: exit code 2 (message printed).
pub(crate) fn pull_and_print(opts: &CheckOptions, settings: &PullSettings) -> Result<usize, u8> {
    let run = pull_repo(opts, settings).map_err(|e| {
        eprintln!("error: {e}");
        2u8
    })?;
    for line in run.lines() {
        eprintln!("{line}");
    }
    Ok(run.failed())
}
