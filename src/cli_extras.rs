//! What users expect of a CLI besides its work: shell completions (`driftlint completions
//! SHELL`), a man page (`driftlint man`) and the JSON Schema of `.driftlint.yaml`
//! (`driftlint config-schema`). Each returns the bytes `main` prints to stdout.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::Cli;

/// The completion script of `shell` for the whole command tree.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let name = command.get_name().to_string();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut out);
    out
}

/// The roff man page of the top-level command (`driftlint man > driftlint.1`), or of the
/// subcommand at `path` (`["kustomize", "build"]` gives `driftlint-kustomize-build(1)`, as the
/// parent's page names it).
pub fn man_page(path: &[String]) -> Result<Vec<u8>, String> {
    let mut command = Cli::command().disable_help_subcommand(true);
    // Gives each subcommand its `driftlint-NAME` display name, as the pages refer to them.
    command.build();
    let mut page = &command;
    for name in path {
        page = page
            .get_subcommands()
            .find(|c| c.get_name() == name)
            .ok_or_else(|| {
                format!(
                    "no command {:?}; `driftlint --help` lists them",
                    path.join(" ")
                )
            })?;
    }
    let mut out = Vec::new();
    clap_mangen::Man::new(page.clone())
        .source(concat!("driftlint ", env!("CARGO_PKG_VERSION")))
        .render(&mut out)
        .map_err(|e| format!("cannot render the man page: {e}"))?;
    Ok(out)
}

/// The JSON Schema of `.driftlint.yaml`, as committed in `schemas/`.
pub fn config_schema() -> Vec<u8> {
    driftlint::config_schema::schema_json().into_bytes()
}
