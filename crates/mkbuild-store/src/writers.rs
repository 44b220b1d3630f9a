//! Who may have files in `ingest/`, and when the leftovers of dead writers are removed.
//!
//! The rule: a store that writes holds a *shared* lock on `<root>/ingest.lock` from before its
//! first temporary file until it is dropped (every clone shares it). Opening a store tries to take
//! the lock *exclusively* without waiting; it succeeds only when no live process (or other store
//! value) holds a shared lock, so nobody can be writing into `ingest/`, and then everything in
//! `ingest/` is a leftover of a writer that died (killed, crashed, power lost) and is removed. A
//! lock dies with its process, so no age or process id is guessed at, and a live writer's file is
//! never touched. While any writer runs, cleaning waits for the next idle open.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::StoreError;

/// The lazily taken shared lock of one store value and its clones.
#[derive(Debug, Default)]
pub(crate) struct WriterLock {
    held: Mutex<Option<Arc<File>>>,
}

impl WriterLock {
    /// Takes the shared lock on `path` unless this store already holds it; waits while another
    /// process cleans.
    pub(crate) fn ensure_held(&self, path: &Path) -> Result<(), StoreError> {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if held.is_none() {
            let file = open_lock_file(path).map_err(StoreError::io("open the lock file", path))?;
            file.lock_shared().map_err(StoreError::io("lock", path))?;
            *held = Some(Arc::new(file));
        }
        Ok(())
    }
}

/// What [`clean_dead_writers`] removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IngestCleanup {
    /// The leftover files and folders removed from `ingest/`.
    pub removed: Vec<PathBuf>,
    /// False when live writers hold the lock (or the store is read-only): nothing was looked at.
    pub cleaned: bool,
}

/// Removes everything in `ingest_dir` if no writer holds the lock at `lock_path`. A store that
/// cannot be written (no lock file can be created) is left alone.
pub(crate) fn clean_dead_writers(
    lock_path: &Path,
    ingest_dir: &Path,
) -> Result<IngestCleanup, StoreError> {
    if !ingest_dir.is_dir() {
        return Ok(IngestCleanup::default());
    }
    let Ok(file) = open_lock_file(lock_path) else {
        return Ok(IngestCleanup::default());
    };
    if !lock_if_no_writer(&file, lock_path)? {
        return Ok(IngestCleanup::default());
    }
    let mut removed = Vec::new();
    let entries = fs::read_dir(ingest_dir).map_err(StoreError::io("list", ingest_dir))?;
    for entry in entries {
        let path = entry.map_err(StoreError::io("list", ingest_dir))?.path();
        let result = match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => fs::remove_dir_all(&path),
            Ok(_) => fs::remove_file(&path),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => removed.push(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io("remove the leftover", &path)(e)),
        }
    }
    // The exclusive lock is released when `file` closes, here.
    Ok(IngestCleanup {
        removed,
        cleaned: true,
    })
}

/// Takes the lock of `file` (opened at `path`) exclusively if no writer holds it; false if one does.
pub(crate) fn lock_if_no_writer(file: &File, path: &Path) -> Result<bool, StoreError> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => Ok(false),
        Err(TryLockError::Error(e)) => Err(StoreError::io("lock", path)(e)),
    }
}

pub(crate) fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}
