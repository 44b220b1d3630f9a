//! Who may have files in `ingest/`, and when the leftovers of dead writers are removed.
//!
//! The rule: a store that writes holds a *shared* lock on `<root>/ingest.lock` from before its
//! first temporary file until it is dropped (every clone shares it). Opening a store tries to take
//! the lock *exclusively* without waiting; it succeeds only when no live process (or other store
//! value) holds a shared lock, so nobody can be writing into `ingest/`, and then everything in
//! `ingest/` named as mkbuild names its temporary files is a leftover of a writer that died
//! (killed, crashed, power lost) and is removed; nothing else there is touched. A
//! lock dies with its process, so no age or process id is guessed at, and a live writer's file is
//! never touched. While any writer runs, cleaning waits for the next idle open.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rustix::fs::{openat, statat, unlinkat, AtFlags, Dir, FileType, Mode, OFlags, CWD};
use rustix::io::Errno;
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

/// What [`Store::clean_ingest`](crate::Store::clean_ingest) removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IngestCleanup {
    /// The leftover files and folders removed from `ingest/`.
    pub removed: Vec<PathBuf>,
    /// False when live writers hold the lock (or the store is read-only): nothing was looked at.
    pub cleaned: bool,
}

/// Removes the temporary files mkbuild's writers leave in `ingest_dir` (those `leftover` says
/// are, given their name and when they last changed) if no writer holds the lock at `lock_path`.
/// A store that cannot be written (no lock file can be created) is left alone.
pub(crate) fn clean_dead_writers(
    lock_path: &Path,
    ingest_dir: &Path,
    leftover: &dyn Fn(&[u8], Option<SystemTime>) -> bool,
) -> Result<IngestCleanup, StoreError> {
    let Ok(file) = open_lock_file(lock_path) else {
        return Ok(IngestCleanup::default());
    };
    if !lock_if_no_writer(&file, lock_path)? {
        return Ok(IngestCleanup::default());
    }
    // The exclusive lock is released when `file` closes, after this.
    remove_leftovers(ingest_dir, leftover)
}

/// Removes the regular files of `ingest_dir` that `leftover` names; the caller holds the lock
/// exclusively (no writer is alive).
///
/// The folder is opened once without following links and everything is done relative to that
/// handle: an `ingest` that is (or is swapped for) a symbolic link is never followed, and only
/// regular files mkbuild names are removed, never a folder or a file of someone else's.
pub(crate) fn remove_leftovers(
    ingest_dir: &Path,
    leftover: &dyn Fn(&[u8], Option<SystemTime>) -> bool,
) -> Result<IngestCleanup, StoreError> {
    let dir = match openat(
        CWD,
        ingest_dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(dir) => dir,
        Err(Errno::NOENT) => return Ok(IngestCleanup::default()),
        Err(Errno::LOOP | Errno::NOTDIR) => {
            tracing::warn!(
                "`{}` is not a folder (a symbolic link?): left alone; remove it, mkbuild keeps its temporary files in a real folder",
                ingest_dir.display()
            );
            return Ok(IngestCleanup::default());
        }
        Err(e) => return Err(StoreError::io("open", ingest_dir)(e.into())),
    };
    let list_error = |e: Errno| StoreError::io("list", ingest_dir)(e.into());
    let mut removed = Vec::new();
    for entry in Dir::read_from(&dir).map_err(list_error)? {
        let entry = entry.map_err(list_error)?;
        let name = entry.file_name().to_bytes();
        let path = ingest_dir.join(OsStr::from_bytes(name));
        let (regular, modified) = match statat(&dir, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => (
                FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile,
                u64::try_from(stat.st_mtime)
                    .ok()
                    .map(|secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs)),
            ),
            Err(Errno::NOENT) => (false, None),
            Err(e) => return Err(StoreError::io("inspect the leftover", &path)(e.into())),
        };
        if !regular || !leftover(name, modified) {
            continue;
        }
        match unlinkat(&dir, entry.file_name(), AtFlags::empty()) {
            Ok(()) => removed.push(path),
            Err(Errno::NOENT) => {}
            Err(e) => return Err(StoreError::io("remove the leftover", &path)(e.into())),
        }
    }
    Ok(IngestCleanup {
        removed,
        cleaned: true,
    })
}

/// Whether `ingest_dir` is a real folder (not a symbolic link); writers refuse anything else.
pub(crate) fn is_real_folder_or_missing(ingest_dir: &Path) -> io::Result<bool> {
    match fs::symlink_metadata(ingest_dir) {
        Ok(meta) => Ok(meta.is_dir()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e),
    }
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
