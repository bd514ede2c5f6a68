//! `helm template [NAME] CHART [flags]` argument parsing (Helm v4.1.4's flag names and
//! spellings: `--flag value`, `--flag=value`, short `-n`/`-f`/`-a`/`-s`, comma-separated
//! `--values`/`--api-versions`).

use std::path::PathBuf;

use super::values::SetKind;
use super::TemplateOptions;

/// A parsed `helm template` command line.
#[derive(Clone, Debug)]
pub struct TemplateArgs {
    /// The chart directory as given.
    pub chart: PathBuf,
    /// Everything else.
    pub opts: TemplateOptions,
}

const BOOL_FLAGS: &[&str] = &[
    "--include-crds",
    "--skip-tests",
    "--no-hooks",
    "--is-upgrade",
    "--skip-schema-validation",
    "--release-name",
    "--skip-crds",
    "--debug",
    "--dependency-update",
    "--dry-run",
    "--atomic",
    "--devel",
    "--validate",
];

/// Parses the words after `helm` (starting with `template`). Errors: unknown flags, missing
/// values, a missing chart, as Helm's cobra messages.
pub fn parse_template_args(args: &[String]) -> Result<TemplateArgs, String> {
    let mut it = args.iter().peekable();
    match it.next().map(String::as_str) {
        Some("template") => {}
        Some(other) => {
            return Err(format!(
                "unknown command {other:?} for \"helm\" (only `template` is supported)"
            ))
        }
        None => return Err("missing command: only `helm template` is supported".into()),
    }
    let mut opts = TemplateOptions::default();
    let mut positional = Vec::new();
    let mut name_template = None;
    while let Some(arg) = it.next() {
        if !arg.starts_with('-') || arg == "-" {
            positional.push(arg.clone());
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if BOOL_FLAGS.contains(&flag.as_str()) {
            let on = inline.as_deref().is_none_or(|v| v == "true");
            match flag.as_str() {
                "--include-crds" => opts.include_crds = on,
                "--skip-tests" => opts.skip_tests = on,
                "--no-hooks" => opts.no_hooks = on,
                "--is-upgrade" => opts.is_upgrade = on,
                "--skip-schema-validation" => opts.skip_schema_validation = on,
                _ => {}
            }
            continue;
        }
        let mut value = || -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("flag needs an argument: {flag}")),
            }
        };
        match flag.as_str() {
            "-n" | "--namespace" => opts.namespace = value()?,
            "-f" | "--values" => opts
                .value_files
                .extend(value()?.split(',').map(PathBuf::from)),
            "--set" => opts.sets.push((SetKind::Typed, value()?)),
            "--set-string" => opts.sets.push((SetKind::String, value()?)),
            "--set-json" => opts.sets.push((SetKind::Json, value()?)),
            "--set-file" => opts.set_files.push(value()?),
            "--set-literal" => opts.set_literals.push(value()?),
            "--kube-version" => opts.kube_version = Some(value()?),
            "-a" | "--api-versions" => opts
                .api_versions
                .extend(value()?.split(',').map(str::to_string)),
            "-s" | "--show-only" => opts.show_only.push(value()?),
            "--name-template" => name_template = Some(value()?),
            _ => return Err(format!("unknown flag: {flag}")),
        }
    }
    let (name, chart) = match positional.as_slice() {
        [chart] => (None, chart.clone()),
        [name, chart] => (Some(name.clone()), chart.clone()),
        [] => return Err("\"helm template\" requires at least 1 argument".into()),
        [_, _, extra @ ..] => {
            return Err(format!(
                "expected at most two arguments, unexpected arguments: {}",
                extra.join(", ")
            ))
        }
    };
    match (name, name_template) {
        (Some(n), _) => opts.release_name = n,
        (None, Some(t)) => opts.release_name = render_name(&t)?,
        (None, None) => {}
    }
    Ok(TemplateArgs {
        chart: PathBuf::from(chart),
        opts,
    })
}

/// Renders `--name-template` with the template engine and Helm's functions (no data), as
/// Helm's `template.New("name-template").Funcs(sprig).Parse`.
fn render_name(t: &str) -> Result<String, String> {
    let mut set = gotmpl::Templates::new("name-template", super::render::engine_funcs());
    set.parse("name-template", t).map_err(|e| e.to_string())?;
    set.execute("name-template", &gotmpl::Value::Nil)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_flags() {
        let a = parse_template_args(&words(
            "template rel input/c -n ns -f a.yaml,b.yaml --set x=1 --set-string y=2 --include-crds --kube-version=1.30.0 -a monitoring.coreos.com/v1",
        ))
        .unwrap();
        assert_eq!(a.chart, PathBuf::from("input/c"));
        assert_eq!(a.opts.release_name, "rel");
        assert_eq!(a.opts.namespace, "ns");
        assert_eq!(a.opts.value_files.len(), 2);
        assert_eq!(a.opts.sets.len(), 2);
        assert!(a.opts.include_crds);
        assert_eq!(a.opts.kube_version.as_deref(), Some("1.30.0"));
        assert_eq!(a.opts.api_versions, ["monitoring.coreos.com/v1"]);
        assert!(parse_template_args(&words("template c --bogus")).is_err());
    }
}
