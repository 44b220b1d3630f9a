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

/// Whether `error` (or one of its causes) is a write to a closed pipe: the reader has all it
/// wanted, so this is not a failure to report.
pub(crate) fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
