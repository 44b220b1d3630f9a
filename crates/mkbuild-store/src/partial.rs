//! Partial blobs: a download that can be taken up again by a later process.
//!
//! A resumable download writes `ingest/partial-<hex>` (named by the digest it is for) and, now
//! and then, `ingest/partial-<hex>.state`: how many bytes of the file are hashed and the SHA-256
//! state after them ([`Checkpoint`]). The next download of that digest truncates the file to the
//! bytes hashed, continues the hash from the state without reading them again, and asks the
//! registry for the rest. The final digest still decides: bytes that are not the blob's (a crash
//! that lost data the state claimed) fail the check, and the file is discarded.
//!
//! Partial files are not a dead writer's leftovers: opening the store keeps them. `gc` removes
//! them, and so does an idle open once they are older than the store's partial age.
//!
//! Two downloads of the same digest at once must not share the file: the first takes an exclusive
//! `flock` on it, the second gets an ordinary temporary file. Everything is done through a handle
//! of `ingest/` opened without following links, and the locked file is checked to still be the one
//! the name holds (a download that committed meanwhile has moved it into `blobs/`).

use std::fs::{File, TryLockError};
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mkbuild_hash::{Checkpoint, CheckpointSink};
use rustix::fs::{fstat, openat, renameat, statat, unlinkat, AtFlags, Mode, OFlags, CWD};
use rustix::io::Errno;

use crate::{Digest, StoreError};

/// The name prefix of partial blobs in `ingest/`.
pub(crate) const PARTIAL_PREFIX: &str = "partial-";
const STATE_SUFFIX: &str = ".state";
/// The first line of a state file; another first line is not ours (or a future version's).
const STATE_HEADER: &str = "mkbuild-partial 1";
/// A state file is two short lines; anything longer is not one.
const MAX_STATE_SIZE: u64 = 4096;

/// An open, locked partial blob.
#[derive(Debug)]
pub(crate) struct PartialFile {
    pub(crate) file: File,
    pub(crate) path: PathBuf,
    dir: Arc<OwnedFd>,
    name: String,
}

/// What [`open`] found.
pub(crate) enum Opened {
    /// The partial file, locked, positioned at its end, with the checkpoint its bytes continue
    /// from (`None`: start from zero).
    Partial(PartialFile, Option<Checkpoint>),
    /// Another download holds it: use an ordinary temporary file.
    Busy,
}

/// Opens (creating) and locks `ingest/partial-<hex>` for `digest`, truncated to what its state
/// file says is hashed.
pub(crate) fn open(ingest_dir: &Path, digest: &Digest) -> Result<Opened, StoreError> {
    let dir = Arc::new(
        openat(
            CWD,
            ingest_dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| StoreError::io("open", ingest_dir)(e.into()))?,
    );
    let name = format!("{PARTIAL_PREFIX}{}", digest.hex());
    let path = ingest_dir.join(&name);
    // A download that commits between our open and our lock moves the file away: try again.
    for _ in 0..3 {
        let fd = openat(
            &*dir,
            &name,
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .map_err(|e| StoreError::io("open the partial blob", &path)(e.into()))?;
        let file = File::from(fd);
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(Opened::Busy),
            Err(TryLockError::Error(e)) => return Err(StoreError::io("lock", &path)(e)),
        }
        let held = fstat(&file).map_err(|e| StoreError::io("inspect", &path)(e.into()))?;
        match statat(&*dir, &name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(named) if named.st_ino == held.st_ino && named.st_dev == held.st_dev => {}
            Ok(_) | Err(Errno::NOENT) => continue,
            Err(e) => return Err(StoreError::io("inspect", &path)(e.into())),
        }
        if rustix::fs::FileType::from_raw_mode(held.st_mode) != rustix::fs::FileType::RegularFile {
            return Err(StoreError::io("open the partial blob", &path)(
                io::Error::other("it is not a regular file; remove it"),
            ));
        }
        let mut partial = PartialFile {
            file,
            path,
            dir,
            name,
        };
        let checkpoint = partial.read_state(digest, held.st_size as u64);
        let keep = checkpoint.map_or(0, |c| c.hashed);
        partial
            .file
            .set_len(keep)
            .and_then(|()| partial.file.seek(SeekFrom::Start(keep)))
            .map_err(StoreError::io("truncate the partial blob", &partial.path))?;
        return Ok(Opened::Partial(partial, checkpoint));
    }
    // Others keep committing this digest: it is in the store now, any temporary file will do.
    Ok(Opened::Busy)
}

impl PartialFile {
    /// The checkpoint of the state file, if it is ours, for `digest`, and covers no more than
    /// the `len` bytes the file holds.
    fn read_state(&self, digest: &Digest, len: u64) -> Option<Checkpoint> {
        let fd = openat(
            &*self.dir,
            self.state_name(),
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        let mut text = String::new();
        File::from(fd)
            .take(MAX_STATE_SIZE)
            .read_to_string(&mut text)
            .ok()?;
        let mut lines = text.lines();
        if lines.next()? != format!("{STATE_HEADER} {digest}") {
            return None;
        }
        Checkpoint::parse_line(lines.next()?).filter(|c| c.hashed <= len)
    }

    fn state_name(&self) -> String {
        format!("{}{STATE_SUFFIX}", self.name)
    }

    /// Where the hashing thread records its checkpoints for `digest`: the state file, replaced
    /// whole by rename. With `fsync`, the bytes a checkpoint covers and the new state reach the
    /// disk before the state takes its name, so that after a power loss the state never claims
    /// bytes the file lost. A failure to record only costs a later resume some bytes.
    pub(crate) fn checkpoint_sink(&self, digest: &Digest, fsync: bool) -> CheckpointSink {
        let dir = Arc::clone(&self.dir);
        let name = self.name.clone();
        let state = self.state_name();
        let temp = format!("{state}.tmp");
        let header = format!("{STATE_HEADER} {digest}");
        Box::new(move |checkpoint: Checkpoint| {
            let text = format!("{header}\n{}\n", checkpoint.to_line());
            // Opened anew, not a duplicate of the writer's handle: that would keep the writer's
            // lock alive while this thread lives on after the writer is dropped.
            let synced = if fsync {
                openat(
                    &*dir,
                    &name,
                    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(io::Error::from)
                .and_then(|fd| File::from(fd).sync_data())
            } else {
                Ok(())
            };
            let written = synced
                .and_then(|()| {
                    openat(
                        &*dir,
                        &temp,
                        OFlags::WRONLY
                            | OFlags::CREATE
                            | OFlags::TRUNC
                            | OFlags::NOFOLLOW
                            | OFlags::CLOEXEC,
                        Mode::from_raw_mode(0o644),
                    )
                    .map_err(io::Error::from)
                })
                .map(File::from)
                .and_then(|mut file| {
                    io::Write::write_all(&mut file, text.as_bytes())?;
                    if fsync {
                        file.sync_data()?;
                    }
                    Ok(())
                })
                .and_then(|()| renameat(&*dir, &temp, &*dir, &state).map_err(io::Error::from));
            if let Err(e) = written {
                tracing::debug!("cannot record the progress of a download in `{state}`: {e}");
            }
        })
    }

    /// Moves the finished blob to `target` and forgets its state.
    pub(crate) fn persist(&self, target: &Path) -> Result<(), StoreError> {
        renameat(&*self.dir, &self.name, CWD, target)
            .map_err(|e| StoreError::io("move the blob into place at", target)(e.into()))?;
        let _ = unlinkat(&*self.dir, self.state_name(), AtFlags::empty());
        Ok(())
    }

    /// Removes the file and its state: its bytes are not the blob's.
    pub(crate) fn discard(&self) {
        let _ = unlinkat(&*self.dir, self.state_name(), AtFlags::empty());
        let _ = unlinkat(&*self.dir, &self.name, AtFlags::empty());
    }
}

/// Whether an entry of `ingest/` named `name`, last changed at `modified`, is a partial blob (or
/// its state) to remove: every one with `max_age` `None`, else those older than it.
pub(crate) fn is_stale(
    name: &[u8],
    modified: Option<SystemTime>,
    max_age: Option<Duration>,
) -> bool {
    if !name.starts_with(PARTIAL_PREFIX.as_bytes()) {
        return false;
    }
    match (max_age, modified) {
        (None, _) => true,
        (Some(age), Some(modified)) => {
            SystemTime::now()
                .duration_since(modified)
                .unwrap_or_default()
                > age
        }
        (Some(_), None) => false,
    }
}
