//! `driftlint diff`, `driftlint baseline write` and `check --new-only` / `--baseline`:
//! argument parsing and dispatch to [`driftlint::diff`] and [`driftlint::baseline`].

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use driftlint::baseline::{Baseline, BASELINE_FILE};
use driftlint::check::{check, CheckOptions, CheckReport};
use driftlint::diff::{self, DiffOptions, DiffReport};
use driftlint::output;
use driftlint::report;

use super::{check_crd_dirs, findings_exit, print_stdout, write_output, CheckArgs, FailOn};

#[derive(clap::Args)]
pub(crate) struct DiffArgs {
    /// Paths inside one Git work tree (default: the current directory).
    paths: Vec<PathBuf>,
    /// The base revision (a branch, tag or commit; default: the merge base of HEAD with
    /// origin/HEAD, else main, else master). Read from Git objects: the work tree is not touched.
    #[arg(long)]
    base: Option<String>,
    /// Report format; `markdown` is a pull request comment (within GitHub's 65,536 characters).
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    format: DiffFormat,
    /// Write the report to FILE instead of stdout. A symbolic link at FILE is refused.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Exit 1 when a new finding has at least this severity (default: config, else error).
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Kubernetes version to validate for (default: config, else newest).
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
}

#[derive(Clone, Copy, ValueEnum)]
enum DiffFormat {
    Human,
    Json,
    Markdown,
}

#[derive(Subcommand)]
pub(crate) enum BaselineCommand {
    /// Write every current finding's fingerprint (with code, file and message for humans) to
    /// a baseline file; commit it and run `check --baseline FILE`.
    Write {
        /// Paths inside one repository (default: the current directory).
        paths: Vec<PathBuf>,
        /// The file to write (default: .driftlint-baseline.json). A symbolic link is refused.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Kubernetes version to validate for (default: config, else newest).
        #[arg(long)]
        kubernetes_version: Option<String>,
    },
}

/// `driftlint check` with `--new-only` and `--baseline` applied; a note on stderr says how
/// many findings are left out. Err: the exit code after a printed error.
pub(crate) fn checked(opts: &CheckOptions, args: &CheckArgs) -> Result<CheckReport, u8> {
    let mut report = if args.new_only {
        let (report, delta, base) =
            diff::check_new_only(opts, args.base.as_deref()).map_err(|e| fail(&e.to_string()))?;
        eprintln!(
            "note: {} finding(s) already at {base} not reported ({} fixed)",
            delta.existing, delta.fixed
        );
        report
    } else {
        check(opts).map_err(|e| fail(&e.to_string()))?
    };
    if let Some(path) = &args.baseline {
        let baseline = Baseline::read(path).map_err(|e| fail(&e.to_string()))?;
        let accepted = baseline.filter(&mut report.findings);
        eprintln!(
            "note: {accepted} finding(s) accepted by {} not reported",
            path.display()
        );
    }
    Ok(report)
}

fn fail(message: &str) -> u8 {
    eprintln!("error: {message}");
    2
}

/// `driftlint diff`: 2 when the base cannot be read or a new finding is a render error, 1
/// when a new finding reaches `--fail-on`, else 0 (changes alone never fail).
pub(crate) fn run_diff(args: DiffArgs) -> u8 {
    if let Err(code) = check_crd_dirs(&args.crd_dir) {
        return code;
    }
    let opts = DiffOptions {
        check: CheckOptions {
            paths: match args.paths.is_empty() {
                true => vec![PathBuf::from(".")],
                false => args.paths.clone(),
            },
            kubernetes_version: args.kubernetes_version.clone(),
            crd_dirs: args.crd_dir.clone(),
            allow_remote: args.allow_remote,
            helmfile_environment: args.helmfile_environment.clone(),
            cache_dir: args.cache_dir.clone(),
            ..CheckOptions::default()
        },
        base: args.base.clone(),
    };
    let report = match diff::diff(&opts) {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string()),
    };
    let text = format_diff(&report, args.format, args.output.is_none());
    if write_output(args.output.as_ref(), &text).is_err() {
        return 2;
    }
    if report.has_input_errors() {
        return 2;
    }
    findings_exit(
        &report.findings.new,
        args.fail_on,
        report.check.config_fail_on.as_deref(),
    )
}

fn format_diff(report: &DiffReport, format: DiffFormat, to_stdout: bool) -> String {
    match format {
        DiffFormat::Human => {
            let color = to_stdout
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none();
            let sources = |file: &str| report.check.sources.get(file);
            let mut text = report::diff_human(report, color);
            if !report.findings.new.is_empty() {
                text.push_str(&report::human(&report.findings.new, &sources, color));
            }
            text
        }
        DiffFormat::Json => report::diff_json(report),
        DiffFormat::Markdown => report::diff_markdown(report),
    }
}

/// `driftlint baseline write`: 0 written, 2 on a check or write error.
pub(crate) fn run_baseline(command: BaselineCommand) -> u8 {
    let BaselineCommand::Write {
        paths,
        output: file,
        kubernetes_version,
    } = command;
    let opts = CheckOptions {
        paths: match paths.is_empty() {
            true => vec![PathBuf::from(".")],
            false => paths,
        },
        kubernetes_version,
        ..CheckOptions::default()
    };
    let report = match check(&opts) {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string()),
    };
    let baseline = Baseline::of(&report.findings);
    let path = file.unwrap_or_else(|| report.root.join(BASELINE_FILE));
    match output::write_file(&path, baseline.to_json().as_bytes(), output::Mode::Replace) {
        Ok(()) => print_stdout(
            format!(
                "wrote {} ({} finding(s))\n",
                path.display(),
                baseline.findings.len()
            )
            .as_bytes(),
            0,
        ),
        Err(e) => fail(&e.to_string()),
    }
}
