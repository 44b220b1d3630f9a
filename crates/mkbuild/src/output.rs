//! Writing to stdout without panicking: `println!` panics when the reader went away
//! (`mkbuild list | head -1`); these return the error, and `main` ends quietly on a broken pipe.

/// `println!` that returns `std::io::Result<()>` instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}
pub(crate) use outln;

/// A one-line summary of what a command did, on stderr (stdout carries only what a command
/// promises to scripts), unless `--quiet`. A closed stderr is not a failure of the command.
pub(crate) fn summary(global: &crate::cli::GlobalArgs, line: std::fmt::Arguments<'_>) {
    if !global.quiet {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

/// Whether `error` is a write to a closed pipe: the reader has all it wanted, so this is not a
/// failure to report. Only an error that is itself an I/O error counts (what `outln!` gives back
/// through `?`): a broken pipe that caused some other failure (a socket, a plugin) is reported.
pub(crate) fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

/// `, N bytes WHAT` for a summary when some bytes were done without being moved, else nothing.
pub(crate) fn skipped_note(bytes: u64, what: &str) -> String {
    if bytes == 0 {
        String::new()
    } else {
        format!(", {bytes} bytes {what}")
    }
}
