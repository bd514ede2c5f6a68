//! `driftlint completions`, `driftlint man` and `driftlint config-schema` through the real
//! binary.

use std::path::PathBuf;
use std::process::Stdio;

use assert_cmd::Command;

fn driftlint() -> Command {
    Command::cargo_bin("driftlint").expect("binary built")
}

fn stdout_of(args: &[&str]) -> String {
    let out = driftlint().args(args).output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "{args:?}: {:?}", out.stderr);
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn completions_cover_every_documented_shell_and_subcommand() {
    for (shell, marker) in [
        ("bash", "_driftlint()"),
        ("zsh", "#compdef driftlint"),
        ("fish", "complete -c driftlint"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for sub in ["check", "kustomize", "init", "completions", "config-schema"] {
            assert!(script.contains(sub), "{shell}: no {sub}");
        }
        assert!(script.contains("fail-on"), "{shell}: no check flags");
    }
}

#[test]
fn an_unknown_or_missing_shell_is_a_usage_error() {
    for args in [&["completions", "tcsh"][..], &["completions"][..]] {
        let out = driftlint().args(args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("error:"), "{args:?}: {stderr}");
    }
    let out = driftlint()
        .args(["completions", "tcsh"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid value 'tcsh'") && stderr.contains("bash"),
        "{stderr}"
    );
}

#[test]
fn man_prints_a_roff_page_of_the_top_level_command() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH driftlint 1"), "{page}");
    assert!(page.contains(".SH NAME"), "{page}");
    assert!(page.contains(".SH SUBCOMMANDS"), "{page}");
    for sub in ["check", "init", "completions", "man", "config\\-schema"] {
        assert!(page.contains(&format!("driftlint\\-{sub}")), "no {sub}");
    }
}

#[test]
fn man_prints_the_pages_the_top_level_page_refers_to() {
    let page = stdout_of(&["man", "check"]);
    let title = format!(
        ".TH driftlint-check 1  \"driftlint {}\"",
        env!("CARGO_PKG_VERSION")
    );
    assert!(page.contains(&title), "{page}");
    assert!(page.contains("\\-\\-fail\\-on"), "{page}");
    let page = stdout_of(&["man", "kustomize", "build"]);
    assert!(page.contains(".TH driftlint-kustomize-build 1"), "{page}");
    let out = driftlint().args(["man", "nope"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no command \"nope\""));
}

#[test]
fn config_schema_prints_the_committed_schema() {
    let printed = stdout_of(&["config-schema"]);
    let committed = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas/driftlint-config.schema.json"),
    )
    .expect("committed schema");
    assert!(
        printed == committed,
        "regenerate: cargo run -- config-schema > schemas/driftlint-config.schema.json"
    );
}

#[test]
fn help_lists_the_new_commands() {
    let help = stdout_of(&["--help"]);
    for sub in ["completions", "man", "config-schema"] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{sub} "))),
            "{help}"
        );
    }
}

/// A reader that goes away ends the command quietly with exit 0.
#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    for args in [
        &["completions", "zsh"][..],
        &["man"][..],
        &["config-schema"][..],
    ] {
        let bin = assert_cmd::cargo::cargo_bin("driftlint");
        let mut child = std::process::Command::new(bin)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("waits");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
