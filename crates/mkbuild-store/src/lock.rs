//! The exclusive lock that serialises changes to `index.json` across threads and processes.

use std::fs::{File, OpenOptions};
use std::path::Path;

use crate::StoreError;

/// Held while `index.json` is read, changed and replaced; released when dropped (the file closes).
///
/// The lock lives on a file of its own because `index.json` is replaced by rename, and a lock on the
/// replaced file would guard nothing.
#[derive(Debug)]
pub(crate) struct IndexLock {
    _file: File,
}

impl IndexLock {
    /// Blocks until this process holds the lock on `path`, creating the file if needed.
    pub(crate) fn acquire(path: &Path) -> Result<IndexLock, StoreError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(StoreError::io("open the lock file", path))?;
        lock_exclusive(&file).map_err(StoreError::io("lock", path))?;
        Ok(IndexLock { _file: file })
    }
}

/// `File::lock`: flock on Unix, LockFileEx on Windows (std since Rust 1.89, hence this crate's
/// rust-version).
fn lock_exclusive(file: &File) -> std::io::Result<()> {
    file.lock()
}
