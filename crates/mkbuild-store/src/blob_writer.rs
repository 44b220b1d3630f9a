//! Streams a blob into a temporary file inside the store, hashing and counting on the way, and moves
//! it under its digest only once it is complete.
//!
//! Bytes are gathered into chunks of [`CHUNK_SIZE`]; each full chunk is written to the file and
//! then hashed on a thread of its own ([`PipelinedSha256`]), so that SHA-256 (the slowest step of
//! a pack) overlaps the reading and writing of the next chunk. Blobs smaller than a chunk are
//! hashed inline.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mkbuild_hash::{PipelinedSha256, CHUNK_SIZE};
use tempfile::NamedTempFile;

use crate::writers::WriterLock;
use crate::{Digest, StoreError};

/// A blob being written. [`BlobWriter::commit`] moves it to `blobs/sha256/<hex>`; dropping the
/// writer without committing removes the temporary file.
pub struct BlobWriter {
    file: NamedTempFile,
    /// Bytes not yet written to `file`; always less than a chunk between calls.
    chunk: Vec<u8>,
    hasher: PipelinedSha256,
    written: u64,
    blobs_dir: PathBuf,
    fsync: bool,
    /// Keeps the store's writer lock while the temporary file exists, even if the store is dropped.
    _writers: Arc<WriterLock>,
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWriter")
            .field("temp_path", &self.file.path())
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl BlobWriter {
    pub(crate) fn new(
        file: NamedTempFile,
        blobs_dir: PathBuf,
        fsync: bool,
        writers: Arc<WriterLock>,
    ) -> BlobWriter {
        BlobWriter {
            _writers: writers,
            file,
            chunk: Vec::with_capacity(CHUNK_SIZE),
            hasher: PipelinedSha256::new(),
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
        self.file.path()
    }

    /// Finishes the blob: flushes it (and syncs it to disk unless the store was opened without
    /// fsync), then renames it to its digest. If a blob with that digest exists already, the old file
    /// is kept untouched and the new one removed.
    pub fn commit(self) -> Result<(Digest, u64), StoreError> {
        self.finish()?.commit()
    }

    /// Writes and syncs the last bytes and returns the finished blob with its digest, still under
    /// its temporary name: the caller checks the digest (a download against the one it expected)
    /// and then commits it, or drops it to discard the bytes.
    pub fn finish(mut self) -> Result<FinishedBlob, StoreError> {
        let temp_path = self.temp_path().to_owned();
        self.write_chunk()
            .map_err(StoreError::io("write the blob", &temp_path))?;
        let sha256 = self
            .hasher
            .finalize()
            .map_err(|died| StoreError::io("hash the blob", &temp_path)(io::Error::other(died)))?;
        if self.fsync {
            self.file
                .as_file()
                .sync_all()
                .map_err(StoreError::io("sync the blob to disk", &temp_path))?;
        }
        Ok(FinishedBlob {
            digest: Digest::from_sha256(sha256),
            size: self.written,
            file: self.file,
            blobs_dir: self.blobs_dir,
            fsync: self.fsync,
            _writers: self._writers,
        })
    }
}

/// A blob whose bytes are all written and hashed, not yet visible under its digest. Dropping it
/// removes the temporary file.
#[derive(Debug)]
pub struct FinishedBlob {
    digest: Digest,
    size: u64,
    file: NamedTempFile,
    blobs_dir: PathBuf,
    fsync: bool,
    _writers: Arc<WriterLock>,
}

impl FinishedBlob {
    /// The digest of the bytes written.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The number of bytes written.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Renames the blob to its digest (no-clobber: an existing blob of that digest is kept).
    pub fn commit(self) -> Result<(Digest, u64), StoreError> {
        let target = self.blobs_dir.join(self.digest.hex());
        if target.exists() {
            return Ok((self.digest, self.size));
        }
        // No-clobber: a concurrent writer of the same bytes may have won the race; its file is as good.
        match self.file.persist_noclobber(&target) {
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
        Ok((self.digest, self.size))
    }
}

impl FinishedBlob {
    /// Renames the blob to its digest over whatever file has that name: for a stored blob found
    /// damaged, whose replacement was just verified. The rename is atomic, so a reader sees the old
    /// file or the new one, never a mix; a symlink at that name is replaced, not followed.
    pub fn replace(self) -> Result<(Digest, u64), StoreError> {
        let target = self.blobs_dir.join(self.digest.hex());
        self.file
            .persist(&target)
            .map_err(|e| StoreError::io("move the blob into place at", &target)(e.error))?;
        if self.fsync {
            sync_dir(&self.blobs_dir)?;
        }
        Ok((self.digest, self.size))
    }
}

impl BlobWriter {
    /// Writes the gathered bytes to the file and hands them to the hasher.
    fn write_chunk(&mut self) -> io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        self.file.write_all(&self.chunk)?;
        let written = std::mem::take(&mut self.chunk);
        self.chunk = self.hasher.hash_chunk(written);
        Ok(())
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = CHUNK_SIZE - self.chunk.len();
        let n = buf.len().min(room);
        self.chunk.extend_from_slice(&buf[..n]);
        self.written += n as u64;
        if self.chunk.len() == CHUNK_SIZE {
            self.write_chunk()?;
        }
        Ok(n)
    }

    /// Writes what is gathered so far to the file (a partial chunk is hashed inline).
    fn flush(&mut self) -> io::Result<()> {
        self.write_chunk()?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest as _, Sha256};

    /// Bytes that cross chunk boundaries in odd pieces, with flushes in between, hash to the
    /// digest of the whole (the hashing thread keeps the order).
    #[test]
    fn chunked_and_threaded_hashing_gives_the_digest_of_the_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::Store::open(dir.path())
            .expect("store")
            .with_fsync(false);
        let data: Vec<u8> = (0..(3 * CHUNK_SIZE + 12_345))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut writer = store.blob_writer().expect("writer");
        for (i, piece) in data.chunks(100_003).enumerate() {
            writer.write_all(piece).expect("write");
            if i == 2 {
                writer.flush().expect("flush");
            }
        }
        assert_eq!(writer.bytes_written(), data.len() as u64);
        let (digest, size) = writer.commit().expect("commit");
        assert_eq!(size, data.len() as u64);
        assert_eq!(digest.hex(), hex::encode(Sha256::digest(&data)));
        let stored = std::fs::read(store.blob_path(&digest)).expect("read the blob");
        assert!(stored == data, "stored bytes differ");
    }
}
