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

use mkbuild_hash::{Checkpoint, PipelinedSha256, CHUNK_SIZE};
use tempfile::NamedTempFile;

use crate::partial::PartialFile;

use crate::writers::WriterLock;
use crate::{Digest, StoreError};

/// A blob being written. [`BlobWriter::commit`] moves it to `blobs/sha256/<hex>`; dropping the
/// writer without committing removes the temporary file.
pub struct BlobWriter {
    file: BlobFile,
    /// Bytes not yet written to `file`; always less than a chunk between calls.
    chunk: Vec<u8>,
    hasher: PipelinedSha256,
    written: u64,
    /// Set by [`BlobWriter::clone_from`]: the file holds a clone of this many bytes, hashed by
    /// `finish`.
    cloned: Option<u64>,
    blobs_dir: PathBuf,
    fsync: bool,
    /// Keeps the store's writer lock while the temporary file exists, even if the store is dropped.
    _writers: Arc<WriterLock>,
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWriter")
            .field("temp_path", &self.file.path())
            .field("resumable", &matches!(self.file, BlobFile::Partial(_)))
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
            file: BlobFile::Temp(file),
            chunk: Vec::with_capacity(CHUNK_SIZE),
            hasher: PipelinedSha256::new(),
            written: 0,
            cloned: None,
            blobs_dir,
            fsync,
        }
    }

    /// A writer continuing `partial` (the download of `expected`) from `checkpoint`, recording
    /// its progress in the partial file's state as it goes.
    pub(crate) fn resumed(
        partial: PartialFile,
        expected: &Digest,
        checkpoint: Option<Checkpoint>,
        blobs_dir: PathBuf,
        fsync: bool,
        writers: Arc<WriterLock>,
    ) -> BlobWriter {
        let hasher = checkpoint
            .map_or_else(PipelinedSha256::new, PipelinedSha256::resume)
            .with_checkpoints(partial.checkpoint_sink(expected, fsync));
        BlobWriter {
            _writers: writers,
            written: checkpoint.map_or(0, |c| c.hashed),
            file: BlobFile::Partial(partial),
            chunk: Vec::with_capacity(CHUNK_SIZE),
            hasher,
            cloned: None,
            blobs_dir,
            fsync,
        }
    }

    /// The number of bytes written so far (for a resumed writer, counting those an earlier
    /// process wrote).
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// The temporary file the bytes go to until the commit.
    pub fn temp_path(&self) -> &Path {
        self.file.path()
    }

    /// Starts the blob over from its first byte: what an earlier process wrote is not wanted (a
    /// registry that ignored the range asked for sends the whole blob).
    pub fn restart(&mut self) -> Result<(), StoreError> {
        use std::io::Seek as _;
        let path = self.file.path().to_owned();
        self.file
            .file()
            .set_len(0)
            .and_then(|()| self.file.file().seek(io::SeekFrom::Start(0)))
            .map_err(StoreError::io("empty the blob", &path))?;
        self.chunk.clear();
        self.written = 0;
        self.cloned = None;
        // A new hash; the old one's checkpoints are of a prefix of the same blob, still true.
        self.hasher = PipelinedSha256::new();
        Ok(())
    }

    /// Makes the blob a clone of `source`, sharing its extents (`FICLONE`: XFS with reflinks,
    /// btrfs), so that storing it costs no disk space and no copy. Returns the clone's size, or
    /// `None` when the filesystem cannot clone (another filesystem, no reflink support) or
    /// something was written already: the caller then streams the bytes as usual.
    ///
    /// The clone is taken atomically, so a writer changing `source` meanwhile cannot tear it; the
    /// digest is computed by [`BlobWriter::finish`] from the clone itself, the one read of the
    /// data. The caller checks the size against what it expected before finishing.
    pub fn clone_from(&mut self, source: &std::fs::File) -> Result<Option<u64>, StoreError> {
        if self.written != 0 || !self.chunk.is_empty() || self.cloned.is_some() {
            return Ok(None);
        }
        let file = self.file.file();
        if rustix::fs::ioctl_ficlone(file, source).is_err() {
            // Every failure means "not here" (EXDEV, EOPNOTSUPP, EINVAL, ...): the bytes are
            // streamed instead. A failed clone leaves the file empty, but make sure.
            file.set_len(0)
                .map_err(StoreError::io("empty the blob", self.file.path()))?;
            return Ok(None);
        }
        let size = file
            .metadata()
            .map_err(StoreError::io(
                "read the size of the blob",
                self.file.path(),
            ))?
            .len();
        self.cloned = Some(size);
        Ok(Some(size))
    }

    /// Finishes the blob: flushes it (and syncs it to disk unless the store was opened without
    /// fsync), then renames it to its digest, replacing a blob of that digest already there.
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
        if let Some(size) = self.cloned {
            self.hash_clone(size)
                .map_err(StoreError::io("read the cloned blob", &temp_path))?;
        }
        let sha256 = self
            .hasher
            .finalize()
            .map_err(|died| StoreError::io("hash the blob", &temp_path)(io::Error::other(died)))?;
        if self.fsync {
            self.file
                .file()
                .sync_all()
                .map_err(StoreError::io("sync the blob to disk", &temp_path))?;
        }
        Ok(FinishedBlob {
            digest: Digest::from_sha256(sha256),
            size: self.written,
            file: Some(self.file),
            blobs_dir: self.blobs_dir,
            fsync: self.fsync,
            _writers: self._writers,
        })
    }
}

/// A blob whose bytes are all written and hashed, not yet visible under its digest. Dropping it
/// removes the temporary file (a partial download too: its bytes are complete but unwanted).
#[derive(Debug)]
pub struct FinishedBlob {
    digest: Digest,
    size: u64,
    /// Taken by the commit.
    file: Option<BlobFile>,
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

    /// Renames the blob to its digest. A file already there is replaced: these bytes were just
    /// hashed, while the old file may have been damaged since it was written (keeping it would
    /// keep the damage forever). A concurrent writer of the same digest writes the same bytes, so
    /// whichever rename lands last is as good; readers of the old file keep reading it whole.
    pub fn commit(mut self) -> Result<(Digest, u64), StoreError> {
        let target = self.blobs_dir.join(self.digest.hex());
        match self.file.take() {
            Some(BlobFile::Temp(file)) => {
                file.persist(&target)
                    .map_err(|e| StoreError::io("move the blob into place at", &target)(e.error))?;
            }
            Some(BlobFile::Partial(partial)) => partial.persist(&target)?,
            None => {}
        }
        if self.fsync {
            sync_dir(&self.blobs_dir)?;
        }
        Ok((self.digest.clone(), self.size))
    }
}

impl Drop for FinishedBlob {
    fn drop(&mut self) {
        if let Some(BlobFile::Partial(partial)) = &self.file {
            partial.discard();
        }
    }
}

impl BlobWriter {
    /// Writes the gathered bytes to the file and hands them to the hasher.
    fn write_chunk(&mut self) -> io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        self.file
            .file()
            .write_all(&self.chunk)
            .map_err(|source| WriteError::at(self.file.path(), source))?;
        let written = std::mem::take(&mut self.chunk);
        self.chunk = self.hasher.hash_chunk(written);
        Ok(())
    }
}

impl BlobWriter {
    /// Hashes the first `size` bytes of the file (a clone), chunk by chunk on the hashing thread.
    fn hash_clone(&mut self, size: u64) -> io::Result<()> {
        use std::os::unix::fs::FileExt as _;
        let file = self.file.file();
        let mut buffer = std::mem::take(&mut self.chunk);
        while self.written < size {
            let want = (size - self.written).min(CHUNK_SIZE as u64) as usize;
            buffer.resize(want, 0);
            let n = file.read_at(&mut buffer, self.written)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the clone is shorter than it was",
                ));
            }
            buffer.truncate(n);
            self.written += n as u64;
            buffer = self.hasher.hash_chunk(buffer);
        }
        Ok(())
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.cloned.is_some() {
            // The file is a finished clone: nothing may be appended to its digest.
            return Err(io::Error::other(
                "the blob is a clone; nothing can be added to it",
            ));
        }
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
        self.file.file().flush()
    }
}

/// A failed write, naming the blob's file: callers see only an `io::Error` (the blob writer is a
/// `Write`), and "No space left on device" alone does not say where.
#[derive(Debug)]
struct WriteError {
    path: PathBuf,
    source: io::Error,
}

impl WriteError {
    fn at(path: &Path, source: io::Error) -> io::Error {
        io::Error::new(
            source.kind(),
            WriteError {
                path: path.to_owned(),
                source,
            },
        )
    }
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write `{}`", self.path.display())
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Where a blob's bytes go.
#[derive(Debug)]
enum BlobFile {
    /// A new temporary file, removed when dropped unless persisted.
    Temp(NamedTempFile),
    /// A partial download (`ingest/partial-<hex>`), kept when the writer is dropped unfinished so
    /// that a later download resumes it.
    Partial(PartialFile),
}

impl BlobFile {
    fn file(&self) -> &std::fs::File {
        match self {
            BlobFile::Temp(file) => file.as_file(),
            BlobFile::Partial(partial) => &partial.file,
        }
    }

    fn path(&self) -> &Path {
        match self {
            BlobFile::Temp(file) => file.path(),
            BlobFile::Partial(partial) => &partial.path,
        }
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
