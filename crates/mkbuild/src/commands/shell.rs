//! `completions` and `man`: what a shell and `man` read, generated from the clap definition so that
//! they never fall behind the commands.

use std::io::Write as _;
use std::path::Path;

use crate::cli::{CompletionsArgs, GlobalArgs, ManArgs};
use anyhow::Context as _;

pub fn completions(args: CompletionsArgs) -> anyhow::Result<()> {
    let mut cmd = crate::cli::command();
    // Into memory first: clap_complete panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "mkbuild", &mut script);
    write_stdout(&script)
}

pub fn man(global: &GlobalArgs, args: ManArgs) -> anyhow::Result<()> {
    // `help` is clap's own command; `--help` says the same on every page.
    let mut cmd = crate::cli::command().disable_help_subcommand(true);
    cmd.build();
    let Some(dir) = args.dir else {
        return write_stdout(&render(&cmd)?);
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the folder `{}`", dir.display()))?;
    write_page(global, &dir, &cmd)?;
    for sub in cmd.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        write_page(global, &dir, sub)?;
    }
    Ok(())
}

/// The roff page of `cmd`.
fn render(cmd: &clap::Command) -> anyhow::Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut page)
        .context("cannot render the manual page")?;
    Ok(page)
}

/// Writes `cmd`'s page as `DIR/<name>.1` (`mkbuild-pack.1`), and says so on stderr.
fn write_page(global: &GlobalArgs, dir: &Path, cmd: &clap::Command) -> anyhow::Result<()> {
    let path = dir.join(clap_mangen::Man::new(cmd.clone()).get_filename());
    std::fs::write(&path, render(cmd)?)
        .with_context(|| format!("cannot write the manual page `{}`", path.display()))?;
    crate::output::summary(global, format_args!("wrote {}", path.display()));
    Ok(())
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()?;
    Ok(())
}
