//! The `driftlint` command line: parse flags, call the library, map results to exit codes
//! (0 clean, 1 findings at or above `--fail-on`, 2 usage, configuration or render errors).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use driftlint::check::{CheckOptions, CheckReport};
use driftlint::output::{self, OutputError};
use driftlint::report::{self, Severity};

mod cli_diff;
mod cli_extras;

/// `eprintln!` that never panics (a closed or full stderr is ignored) and never lets text from
/// the repository reach a CI log as a control character or a workflow command
/// ([`report::escape::log_lines`]).
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        let text = format!($($arg)*);
        let _ = writeln!(std::io::stderr(), "{}", report::escape::log_lines(&text));
    }};
}

/// mimalloc instead of the system allocator: rendering allocates many small strings and maps,
/// and glibc's malloc/free were about a quarter of `helm template`'s time (bench/RESULTS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "pull")]
mod cli_charts;

#[derive(Parser)]
#[command(
    name = "driftlint",
    version,
    about = "Render, validate and lint Kubernetes GitOps repositories"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Discover, render, validate and lint every target under PATH (default: .).
    Check(CheckArgs),
    /// Compare the rendered repository with a live cluster and report drift.
    #[cfg(feature = "cluster")]
    Drift(DriftArgs),
    /// Render the repository at a base revision and in the work tree and report, per apply
    /// unit, the objects added, removed and changed (unified diffs, with the source lines that
    /// caused them) and the findings the change introduces.
    Diff(cli_diff::DiffArgs),
    /// Manage the baseline of accepted findings (`check --baseline FILE`).
    Baseline {
        #[command(subcommand)]
        command: cli_diff::BaselineCommand,
    },
    /// Remote Helm charts: `charts pull` fills the chart cache `check` reads.
    #[cfg(feature = "pull")]
    Charts {
        #[command(subcommand)]
        command: cli_charts::ChartsCommand,
    },
    /// Print what each apply unit would apply (Flux Kustomizations, folders no Flux
    /// Kustomization reaches, charts) as one YAML stream with a comment header per unit.
    Build(BuildArgs),
    /// Print the apply graph: units, the source lines declaring them, `dependsOn` and
    /// "applies" edges, the CRDs each installs, and the ordering findings highlighted.
    Graph(GraphArgs),
    /// Render one kustomization directory natively and print the YAML.
    Render {
        /// The kustomization directory.
        dir: PathBuf,
        /// Print each value's origin (file:line:column and the transformation that set it)
        /// as a trailing comment.
        #[arg(long)]
        origins: bool,
        /// Clone remote bases (git URLs) with the system `git` into the cache directory.
        #[arg(long)]
        allow_remote: bool,
    },
    /// Drop-in for `kustomize build DIR`.
    Kustomize {
        #[command(subcommand)]
        command: KustomizeCommand,
    },
    /// Drop-in for `helm template [NAME] CHART [flags]` (Helm v4.1.4), rendered natively;
    /// files are read confined to the current directory.
    Helm {
        /// The arguments `helm` would take.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Write a commented default `.driftlint.yaml` in the current directory.
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// List every rule and finding code.
    Rules,
    /// Explain one rule or finding code.
    Explain {
        /// A code such as PIN001.
        code: String,
    },
    /// Print a shell completion script to stdout (e.g. `driftlint completions bash >
    /// ~/.local/share/bash-completion/completions/driftlint`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout: `driftlint man > driftlint.1`.
    Man {
        /// A command whose own page to print instead (`check` gives driftlint-check(1)).
        command: Vec<String>,
    },
    /// Print the JSON Schema of `.driftlint.yaml` to stdout.
    ConfigSchema,
}

#[derive(Subcommand)]
enum KustomizeCommand {
    /// Print the rendered kustomization, as `kustomize build DIR` does.
    Build {
        /// The kustomization directory (default: .).
        dir: Option<PathBuf>,
        /// Clone remote bases (git URLs) with the system `git` into the cache directory.
        #[arg(long)]
        allow_remote: bool,
    },
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Paths inside one repository (default: the current directory).
    paths: Vec<PathBuf>,
    /// Report format (default: human on a terminal, otherwise human too).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Write the report to FILE instead of stdout. A symbolic link at FILE is refused
    /// (nothing is written through it; exit 2).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Exit 1 when a finding has at least this severity.
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Kubernetes version to validate for (1.25 .. 1.37; default: config, else newest).
    #[arg(long)]
    kubernetes_version: Option<String>,
    /// Check every kustomization, not only the roots nobody references.
    #[arg(long)]
    all_kustomizations: bool,
    /// A directory of CRD manifests whose schemas validate custom resources (repeatable). It
    /// may lie outside the repository (unlike `crdDirs:` in `.driftlint.yaml`); it must exist.
    #[arg(long)]
    crd_dir: Vec<PathBuf>,
    /// A checkout of the datreeio CRDs-catalog layout (`<group>/<kind>_<version>.json`): its
    /// schemas validate custom resources after the repository's CRDs and `--crd-dir`, before
    /// the embedded catalog groups. It may lie outside the repository; it must exist.
    #[arg(long, value_name = "DIR")]
    crd_catalog: Option<PathBuf>,
    /// A custom resource of an API group known nowhere is a CRD001 error (default: one
    /// SCHEMA002 warning per group and target).
    #[arg(long)]
    strict_crds: bool,
    /// Unknown fields are not errors (kubeconform without -strict).
    #[arg(long)]
    no_strict: bool,
    /// Pre-commit mode: PATHS are changed files; check the targets that own them. Give the
    /// files after `--` (`check --pre-commit -- FILE...`) so none is taken for a flag.
    #[arg(long)]
    pre_commit: bool,
    /// Clone remote Kustomize bases (git URLs) with the system `git` into the cache.
    #[arg(long)]
    allow_remote: bool,
    /// The helmfile environment to render state files for (default: `helmfile.environment`
    /// of the configuration, else `default`).
    #[arg(long, value_name = "NAME")]
    helmfile_environment: Option<String>,
    /// The chart cache HelmReleases' charts are read from (default:
    /// `$XDG_CACHE_HOME/driftlint/charts`, else `$HOME/.cache/driftlint/charts`). Nothing is
    /// downloaded: `driftlint charts pull` fills it.
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Report (and fail on) only the findings the base revision does not have; say how many
    /// existing ones there are. The base: `--base`, else the merge base with the default branch.
    #[arg(long)]
    new_only: bool,
    /// The base revision for `--new-only` (a branch, tag or commit).
    #[arg(long, requires = "new_only")]
    base: Option<String>,
    /// Report (and fail on) only the findings a baseline file (`driftlint baseline write`)
    /// does not accept.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Pull the charts the repository references into the chart cache first (as
    /// `driftlint charts pull`), then check offline. Charts that cannot be pulled are
    /// reported on stderr; the check still runs.
    #[cfg(feature = "pull")]
    #[arg(long)]
    pull_charts: bool,
    #[cfg(feature = "pull")]
    #[command(flatten)]
    pull: cli_charts::PullFlags,
}

#[derive(clap::Args)]
struct BuildArgs {
    /// Paths inside one repository (default: the current directory).
    paths: Vec<PathBuf>,
    /// Only this unit: its id as `check` names it, its path, or a Flux Kustomization's or
    /// HelmRelease's `namespace/name`.
    #[arg(long)]
    unit: Option<String>,
    /// `yaml`: the objects; `json`: the units with kind, source, path and object count.
    #[arg(long, value_enum, default_value_t = BuildFormat::Yaml)]
    format: BuildFormat,
    /// Kubernetes version to render for (1.25 .. 1.37; default: config, else newest).
    #[arg(long)]
    kubernetes_version: Option<String>,
    /// Clone remote Kustomize bases (git URLs) with the system `git` into the cache.
    #[arg(long)]
    allow_remote: bool,
    /// The helmfile environment to render state files for (default: `helmfile.environment`
    /// of the configuration, else `default`).
    #[arg(long, value_name = "NAME")]
    helmfile_environment: Option<String>,
    /// The chart cache HelmReleases' charts are read from (default:
    /// `$XDG_CACHE_HOME/driftlint/charts`, else `$HOME/.cache/driftlint/charts`). Nothing is
    /// downloaded: `driftlint charts pull` fills it.
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

#[derive(clap::Args)]
struct GraphArgs {
    /// Paths inside one repository (default: the current directory).
    paths: Vec<PathBuf>,
    /// `mermaid` (GitHub markdown), `dot` (Graphviz), `json`, or `html` (one self-contained
    /// page).
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    format: GraphFormat,
    /// Write to FILE instead of stdout (a symbolic link at FILE is refused).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Kubernetes version to render for (1.25 .. 1.37; default: config, else newest).
    #[arg(long)]
    kubernetes_version: Option<String>,
    /// The chart cache HelmReleases' charts are read from (default:
    /// `$XDG_CACHE_HOME/driftlint/charts`, else `$HOME/.cache/driftlint/charts`). Nothing is
    /// downloaded: `driftlint charts pull` fills it.
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Mermaid,
    Dot,
    Json,
    Html,
}

#[derive(Clone, Copy, ValueEnum)]
enum BuildFormat {
    Yaml,
    Json,
}

#[cfg(feature = "cluster")]
#[derive(clap::Args)]
struct DriftArgs {
    /// Paths inside one repository (default: the current directory).
    paths: Vec<PathBuf>,
    /// Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, else the in-cluster account).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context); names the cluster in reports.
    #[arg(long)]
    context: Option<String>,
    /// `server`: server-side-apply dry-run, compared with the live object (needs `patch`;
    /// falls back to read-only per object when forbidden). `read-only`: only get/list.
    #[arg(long, value_enum, default_value_t = DriftMode::Server)]
    mode: DriftMode,
    /// Most API requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Time limit of one API request, in seconds.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Retries of a request after 429/502/503/504, a timeout or a transport error.
    #[arg(long, default_value_t = 4)]
    retries: u32,
    /// An extra inventory: objects matching this label selector must be declared.
    #[arg(long)]
    selector: Option<String>,
    /// Who the server-side-apply dry-runs apply as: `auto` (the manager that applied each
    /// object, from its managedFields: kustomize-controller, helm-controller, helm...; else
    /// `driftlint`), so fields the repository removed show as drift; or a manager NAME.
    #[arg(long, default_value = "auto", value_name = "auto|NAME")]
    field_manager: String,
    /// Report format.
    #[arg(long, value_enum, default_value_t = DriftFormat::Human)]
    format: DriftFormat,
    /// Write the report to FILE instead of stdout. A symbolic link at FILE is refused
    /// (nothing is written through it; exit 2).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Also append the Markdown report to FILE (e.g. "$GITHUB_STEP_SUMMARY"). A symbolic link
    /// at FILE is refused (exit 2).
    #[arg(long)]
    markdown_summary: Option<PathBuf>,
    /// Exit 1 when a finding has at least this severity.
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Kubernetes version of the schemas used for normalisation (default: config, else newest).
    #[arg(long)]
    kubernetes_version: Option<String>,
    /// A directory of CRD manifests (repeatable); it may lie outside the repository.
    #[arg(long)]
    crd_dir: Vec<PathBuf>,
    /// Clone remote Kustomize bases (git URLs) with the system `git` into the cache.
    #[arg(long)]
    allow_remote: bool,
    /// The helmfile environment to render state files for (default: `helmfile.environment`
    /// of the configuration, else `default`).
    #[arg(long, value_name = "NAME")]
    helmfile_environment: Option<String>,
    /// The chart cache HelmReleases' charts are read from (default:
    /// `$XDG_CACHE_HOME/driftlint/charts`, else `$HOME/.cache/driftlint/charts`). Nothing is
    /// downloaded: `driftlint charts pull` fills it.
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Pull the charts the repository references into the chart cache first (as
    /// `driftlint charts pull`), then compare. Charts that cannot be pulled are reported on
    /// stderr; the comparison still runs.
    #[cfg(feature = "pull")]
    #[arg(long)]
    pull_charts: bool,
    #[cfg(feature = "pull")]
    #[command(flatten)]
    pull: cli_charts::PullFlags,
}

#[cfg(feature = "cluster")]
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DriftMode {
    Server,
    ReadOnly,
}

#[cfg(feature = "cluster")]
#[derive(Clone, Copy, ValueEnum)]
enum DriftFormat {
    Human,
    Json,
    Sarif,
    Github,
    Markdown,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    Note,
    Warning,
    Error,
    Never,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check(args) => run_check(args),
        Command::Build(args) => run_build(args),
        Command::Graph(args) => run_graph(args),
        Command::Diff(args) => cli_diff::run_diff(args),
        Command::Baseline { command } => cli_diff::run_baseline(command),
        #[cfg(feature = "pull")]
        Command::Charts { command } => cli_charts::run_charts(command),
        #[cfg(feature = "cluster")]
        Command::Drift(args) => run_drift(args),
        Command::Render {
            dir,
            origins,
            allow_remote,
        } => run_render(
            &dir,
            &driftlint::RenderOptions {
                origins,
                allow_remote,
            },
        ),
        Command::Kustomize {
            command: KustomizeCommand::Build { dir, allow_remote },
        } => run_render(
            &dir.unwrap_or_else(|| PathBuf::from(".")),
            &driftlint::RenderOptions {
                allow_remote,
                ..driftlint::RenderOptions::default()
            },
        ),
        Command::Helm { args } => run_helm(&args),
        Command::Init { force } => run_init(force),
        Command::Rules => print_stdout(driftlint_rules::list().as_bytes(), 0),
        Command::Explain { code } => match driftlint_rules::explain(&code) {
            Some(text) => print_stdout(format!("{text}\n").as_bytes(), 0),
            None => {
                eprintln!("error: unknown code {code:?}; `driftlint rules` lists them");
                2
            }
        },
        Command::Completions { shell } => print_stdout(&cli_extras::completions(shell), 0),
        Command::Man { command } => match cli_extras::man_page(&command) {
            Ok(page) => print_stdout(&page, 0),
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        },
        Command::ConfigSchema => print_stdout(&cli_extras::config_schema(), 0),
    };
    ExitCode::from(code)
}

/// Writes `bytes` to stdout; `code` when written or when the reader went away (a closed pipe
/// ends quietly), 2 with a message on any other failure (a full disk).
fn print_stdout(bytes: &[u8], code: u8) -> u8 {
    match output::write_stdout(bytes) {
        Ok(()) | Err(OutputError::BrokenPipe) => code,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// A `--crd-dir` that is not a directory stops the run before anything is rendered.
fn check_crd_dirs(dirs: &[PathBuf]) -> Result<(), u8> {
    match dirs.iter().find(|d| !d.is_dir()) {
        Some(d) => {
            eprintln!("error: --crd-dir {}: no such directory", d.display());
            Err(2)
        }
        None => Ok(()),
    }
}

fn run_check(args: CheckArgs) -> u8 {
    if let Err(code) = check_crd_dirs(&args.crd_dir) {
        return code;
    }
    if let Some(dir) = args.crd_catalog.as_ref().filter(|d| !d.is_dir()) {
        eprintln!("error: --crd-catalog {}: no such directory", dir.display());
        return 2;
    }
    let (paths, changed) = if args.pre_commit {
        let dirs = vec![PathBuf::from(".")];
        (dirs, Some(args.paths.clone()))
    } else if args.paths.is_empty() {
        (vec![PathBuf::from(".")], None)
    } else {
        (args.paths.clone(), None)
    };
    let opts = CheckOptions {
        paths,
        kubernetes_version: args.kubernetes_version.clone(),
        all_kustomizations: args.all_kustomizations,
        crd_dirs: args.crd_dir.clone(),
        crd_catalog: args.crd_catalog.clone(),
        strict_crds: args.strict_crds.then_some(true),
        strict: args.no_strict.then_some(false),
        changed_files: changed,
        allow_remote: args.allow_remote,
        helmfile_environment: args.helmfile_environment.clone(),
        cache_dir: args.cache_dir.clone(),
    };
    #[cfg(feature = "pull")]
    if args.pull_charts {
        if let Err(code) = cli_charts::pull_for_check(&opts, &args.pull) {
            return code;
        }
    }
    let report = match cli_diff::checked(&opts, &args) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let text = format_report(&report, args.format, args.output.is_none());
    match write_output(args.output.as_ref(), &text) {
        Ok(()) => exit_code(&report, args.fail_on),
        Err(()) => 2,
    }
}

fn format_report(report: &CheckReport, format: Format, to_stdout: bool) -> String {
    let failed = report.targets.iter().filter(|t| t.failed).count();
    let summary = report::Summary::new(&report.findings, report.targets.len(), failed);
    match format {
        Format::Human => {
            let color = to_stdout
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none();
            let sources = |file: &str| report.sources.get(file);
            report::human(&report.findings, &sources, color)
        }
        Format::Json => {
            let targets: Vec<_> = report.targets.iter().map(|t| t.to_json()).collect();
            report::json_with_targets(&report.findings, &summary, &targets)
        }
        Format::Sarif => report::sarif(
            &report.findings,
            driftlint_rules::registry(),
            &report::SarifRun::check(),
        ),
        Format::Github => report::github(&report.findings),
    }
}

/// Writes a report to `--output` (never through a symbolic link) or stdout. A closed stdout
/// counts as written: the run keeps the exit code of its findings (a reader going away must
/// not turn failing findings into a pass). Any other failure is printed; the caller exits 2.
fn write_output(path: Option<&PathBuf>, text: &str) -> Result<(), ()> {
    let written = match path {
        Some(p) => output::write_report(p, text.as_bytes()),
        None => output::write_stdout(text.as_bytes()),
    };
    match written {
        Ok(()) | Err(OutputError::BrokenPipe) => Ok(()),
        Err(e) => {
            eprintln!("error: {e}");
            Err(())
        }
    }
}

fn exit_code(report: &CheckReport, fail_on: Option<FailOn>) -> u8 {
    if report.has_input_errors() {
        return 2;
    }
    findings_exit(&report.findings, fail_on, report.config_fail_on.as_deref())
}

/// 1 when a finding reaches `--fail-on` (else the configuration's `failOn`, else `error`).
fn findings_exit(
    findings: &[report::Finding],
    fail_on: Option<FailOn>,
    config_fail_on: Option<&str>,
) -> u8 {
    let threshold = match fail_on {
        Some(FailOn::Note) => Some(Severity::Note),
        Some(FailOn::Warning) => Some(Severity::Warning),
        Some(FailOn::Error) => Some(Severity::Error),
        Some(FailOn::Never) => None,
        None => match config_fail_on {
            Some("never") => None,
            Some(s) => Severity::parse(s),
            None => Some(Severity::Error),
        },
    };
    let failing = threshold.is_some_and(|t| findings.iter().any(|f| f.severity >= t));
    u8::from(failing)
}

#[cfg(feature = "cluster")]
fn run_drift(args: DriftArgs) -> u8 {
    use driftlint::drift_run::{drift, DriftOptions};
    use driftlint_drift::cluster::ClusterOptions;
    use driftlint_drift::Mode;
    if let Err(code) = check_crd_dirs(&args.crd_dir) {
        return code;
    }
    let paths = match args.paths.is_empty() {
        true => vec![PathBuf::from(".")],
        false => args.paths.clone(),
    };
    let field_manager = match driftlint_drift::managers::FieldManager::parse(&args.field_manager) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let opts = DriftOptions {
        check: CheckOptions {
            paths,
            kubernetes_version: args.kubernetes_version.clone(),
            crd_dirs: args.crd_dir.clone(),
            allow_remote: args.allow_remote,
            helmfile_environment: args.helmfile_environment.clone(),
            cache_dir: args.cache_dir.clone(),
            ..CheckOptions::default()
        },
        cluster: ClusterOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            concurrency: args.concurrency,
            timeout: std::time::Duration::from_secs_f64(args.timeout.clamp(0.01, 3600.0)),
            retries: args.retries,
            progress: std::io::stderr().is_terminal(),
        },
        mode: match args.mode {
            DriftMode::Server => Mode::Server,
            DriftMode::ReadOnly => Mode::ReadOnly,
        },
        selector: args.selector.clone(),
        field_manager,
    };
    #[cfg(feature = "pull")]
    if args.pull_charts {
        if let Err(code) = cli_charts::pull_for_check(&opts.check, &args.pull) {
            return code;
        }
    }
    let report = match drift(&opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    for f in report
        .findings
        .iter()
        .filter(|f| matches!(f.code.as_str(), "DRIFT006" | "DRIFT007"))
    {
        eprintln!("warning: {}", f.message);
    }
    let text = format_drift(&report, args.format, args.output.is_none());
    if write_output(args.output.as_ref(), &text).is_err() {
        return 2;
    }
    if let Some(path) = &args.markdown_summary {
        let markdown = format_drift(&report, DriftFormat::Markdown, false);
        if let Err(e) = output::append_report(path, markdown.as_bytes()) {
            eprintln!("error: {e}");
            return 2;
        }
    }
    if report.has_input_errors() {
        return 2;
    }
    findings_exit(&report.findings, args.fail_on, None)
}

#[cfg(feature = "cluster")]
fn format_drift(
    report: &driftlint::drift_run::DriftReport,
    format: DriftFormat,
    to_stdout: bool,
) -> String {
    let failed = report
        .objects
        .iter()
        .filter(|o| matches!(o.drift, driftlint_drift::DriftKind::Failed { .. }))
        .count();
    let summary = report::Summary::new(
        &report.findings,
        report.objects.len().saturating_sub(failed),
        failed,
    );
    match format {
        DriftFormat::Human => {
            let color = to_stdout
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none();
            let mut text = report::drift_human(&report.objects, &report.cluster, color);
            let others: Vec<report::Finding> = report
                .findings
                .iter()
                .filter(|f| !f.code.starts_with("DRIFT"))
                .cloned()
                .collect();
            if !others.is_empty() {
                let sources = |file: &str| report.sources.get(file);
                text.push_str(&report::human(&others, &sources, color));
            }
            text
        }
        DriftFormat::Json => report::drift_json(
            &report.objects,
            &report.findings,
            &report.cluster,
            report.mode,
        ),
        DriftFormat::Sarif => report::sarif(
            &report.findings,
            driftlint_rules::registry(),
            &report::SarifRun::drift(&report.cluster),
        ),
        DriftFormat::Github => report::github(&report.findings),
        DriftFormat::Markdown => {
            let mut text = report::drift_markdown(&report.objects, &report.cluster, report.mode);
            let others: Vec<report::Finding> = report
                .findings
                .iter()
                .filter(|f| {
                    !f.code.starts_with("DRIFT0")
                        || matches!(f.code.as_str(), "DRIFT006" | "DRIFT007")
                })
                .cloned()
                .collect();
            if !others.is_empty() {
                text.push('\n');
                text.push_str(&report::markdown_summary_counting(
                    &others,
                    &summary,
                    ("objects compared", "query failures"),
                ));
            }
            text
        }
    }
}

/// `driftlint graph`: the picture on stdout (or `--output`), render failures on stderr.
fn run_graph(args: GraphArgs) -> u8 {
    let opts = CheckOptions {
        paths: args.paths,
        kubernetes_version: args.kubernetes_version,
        cache_dir: args.cache_dir,
        ..CheckOptions::default()
    };
    let graph = match driftlint::check::apply_graph(&opts) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("Error: {e}");
            return 2;
        }
    };
    for f in &graph.failures {
        eprintln!(
            "{}: {}:{}: {}",
            f.code, f.origin.file, f.origin.line, f.message
        );
    }
    let text = match args.format {
        GraphFormat::Mermaid => graph.mermaid(),
        GraphFormat::Dot => graph.dot(),
        GraphFormat::Json => graph.json(),
        GraphFormat::Html => graph.html(),
    };
    let code = if graph.failures.is_empty() { 0 } else { 2 };
    match &args.output {
        Some(path) => match output::write_report(path, text.as_bytes()) {
            Ok(()) => code,
            Err(e) => {
                eprintln!("Error: {e}");
                2
            }
        },
        None => print_stdout(text.as_bytes(), code),
    }
}

/// `driftlint build`: the stream on stdout, render failures on stderr (exit 2).
fn run_build(args: BuildArgs) -> u8 {
    let opts = CheckOptions {
        paths: args.paths,
        kubernetes_version: args.kubernetes_version,
        allow_remote: args.allow_remote,
        helmfile_environment: args.helmfile_environment,
        cache_dir: args.cache_dir,
        ..CheckOptions::default()
    };
    let json = matches!(args.format, BuildFormat::Json);
    match driftlint::apply_units::build(&opts, args.unit.as_deref(), json) {
        Ok(built) if built.no_such_unit => {
            eprintln!("Error: no unit named {:?}", args.unit.unwrap_or_default());
            2
        }
        Ok(built) => {
            for f in &built.failures {
                eprintln!(
                    "{}: {}:{}: {}",
                    f.code, f.origin.file, f.origin.line, f.message
                );
            }
            let errors = built
                .failures
                .iter()
                .any(|f| f.severity == driftlint::report::Severity::Error);
            let code = if errors { 2 } else { 0 };
            print_stdout(built.output.as_bytes(), code)
        }
        Err(e) => {
            eprintln!("Error: {e}");
            2
        }
    }
}

fn run_render(dir: &std::path::Path, options: &driftlint::RenderOptions) -> u8 {
    match driftlint::render_dir_with(dir, options) {
        Ok(yaml) => print_stdout(yaml.as_bytes(), 0),
        Err(e) => {
            eprintln!("Error: {e}");
            2
        }
    }
}

/// `driftlint helm template ...`: Helm's stdout/stderr shapes (`Error: ...`, exit 1).
fn run_helm(args: &[String]) -> u8 {
    use driftlint_helm as chart;
    let parsed = match chart::parse_template_args(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("Error: {e}");
            return 1;
        }
    };
    let result = std::env::current_dir()
        .map_err(|e| chart::HelmError::Io(e.to_string()))
        .and_then(|cwd| Ok(driftlint_yaml::fs::RepoFs::new(&cwd)?))
        .and_then(|fs| {
            let rel = |p: &std::path::Path| {
                p.strip_prefix(fs.root())
                    .map(|r| r.to_path_buf())
                    .unwrap_or(p.to_path_buf())
            };
            let mut opts = parsed.opts.clone();
            opts.value_files = opts.value_files.iter().map(|p| rel(p)).collect();
            chart::template(&fs, &rel(&parsed.chart), &opts)
        });
    match result {
        Ok(r) => {
            for w in &r.warnings {
                eprintln!("{w}");
            }
            print_stdout(r.manifest.as_bytes(), 0)
        }
        Err(e) => {
            eprintln!("Error: {e}");
            if e.wants_debug_hint() {
                eprintln!("\nUse --debug flag to render out invalid YAML");
            }
            1
        }
    }
}

/// Writes `.driftlint.yaml` in the current directory, never through a symbolic link.
fn run_init(force: bool) -> u8 {
    let path = PathBuf::from(driftlint::config::CONFIG_FILE);
    let mode = if force {
        output::Mode::Replace
    } else {
        output::Mode::CreateNew
    };
    match output::write_file(&path, driftlint::config::DEFAULT_CONFIG.as_bytes(), mode) {
        Ok(()) => print_stdout(format!("wrote {}\n", path.display()).as_bytes(), 0),
        Err(OutputError::Exists { .. }) => {
            eprintln!(
                "error: {} already exists (use --force to overwrite)",
                path.display()
            );
            2
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
