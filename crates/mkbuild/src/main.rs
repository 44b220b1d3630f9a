//! `mkbuild`: build, inspect and store KitOps ModelKits.

mod byte_size;
mod cli;
mod commands;
mod known_formats;
mod output;
mod progress;

use std::io::Write;
use std::process::ExitCode;

use clap::FromArgMatches as _;

fn main() -> ExitCode {
    let cli = match cli::Cli::from_arg_matches(&cli::command().get_matches()) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    init_logging(cli.global.verbose, cli.global.quiet);
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if output::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // Not `eprintln!`: it panics when stderr is a closed pipe.
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {err}");
            // Errors show their source or return it, never both: each cause is said once.
            for cause in err.chain().skip(1) {
                let _ = writeln!(stderr, "  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    // Colour only for a person at a terminal, and never when `NO_COLOR` is set (no-color.org).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .without_time()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MKBUILD_LOG")
                // The certificate verifier logs each failure that the registry error then explains.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new(format!(
                        "{level},rustls_platform_verifier=off"
                    ))
                }),
        )
        .init();
}
