//! Streams a blob into a temporary file inside the store, hashing and counting on the way, and moves
//! it under its digest only once it is complete.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use tempfile::NamedTempFile;

use crate::{Digest, StoreError};

/// Large enough that the tar encoder's 512-byte headers do not each cost a system call.
const BUFFER_SIZE: usize = 256 * 1024;

/// A blob being written. [`BlobWriter::commit`] moves it to `blobs/sha256/<hex>`; dropping the
/// writer without committing removes the temporary file.
#[derive(Debug)]
pub struct BlobWriter {
    file: BufWriter<NamedTempFile>,
    hasher: Sha256,
    written: u64,
    blobs_dir: PathBuf,
    fsync: bool,
}

impl BlobWriter {
    pub(crate) fn new(file: NamedTempFile, blobs_dir: PathBuf, fsync: bool) -> BlobWriter {
        BlobWriter {
            file: BufWriter::with_capacity(BUFFER_SIZE, file),
            hasher: Sha256::new(),
            written: 0,
            blobs_dir,
            fsync,
        }
    }

    /// The number of bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// The temporary file the bytes go to until the commit.
    pub fn temp_path(&self) -> &Path {
        self.file.get_ref().path()
    }

    /// Finishes the blob: flushes it (and syncs it to disk unless the store was opened without
    /// fsync), then renames it to its digest. If a blob with that digest exists already, the old file
    /// is kept untouched and the new one removed.
    pub fn commit(self) -> Result<(Digest, u64), StoreError> {
        let temp_path = self.temp_path().to_owned();
        let temp = self
            .file
            .into_inner()
            .map_err(|e| StoreError::io("write the blob", &temp_path)(e.into_error()))?;
        if self.fsync {
            temp.as_file()
                .sync_all()
                .map_err(StoreError::io("sync the blob to disk", &temp_path))?;
        }
        let digest = Digest::from_hasher(self.hasher);
        let target = self.blobs_dir.join(digest.hex());
        if target.exists() {
            return Ok((digest, self.written));
        }
        // No-clobber: a concurrent writer of the same bytes may have won the race; its file is as good.
        match temp.persist_noclobber(&target) {
            Ok(_) => {}
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(StoreError::io("move the blob into place at", &target)(
                    e.error,
                ))
            }
        }
        if self.fsync {
            sync_dir(&self.blobs_dir)?;
        }
        Ok((digest, self.written))
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        let accepted = buf.get(..n).unwrap_or(buf);
        self.hasher.update(accepted);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Makes a rename in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io("sync the folder", dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
