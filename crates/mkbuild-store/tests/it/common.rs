//! Shared by the store tests, which all run in this one process.

/// The lock of the tests that start a child process and of those that must see no live writer.
///
/// A child inherits, until it execs, every file the process has open, the lock files of other
/// tests' stores included: for that moment those stores seem to have a live writer, and an open
/// that should clean `ingest/` safely cleans nothing. Every test that spawns a process (a copy of
/// this binary, skopeo), and every test that counts on a cleanup, holds this lock.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
