//! Streaming entries into an archive.

use std::io::{ErrorKind, Read, Write};

use crate::{encode_header, EntryHeader, EntryKind, TarError, BLOCK_SIZE};

/// Size of the buffer file data is copied through: large, so that hashing and compressing
/// writers downstream see big writes.
const COPY_BUFFER_SIZE: usize = 1 << 20;

const ZERO_BLOCK: [u8; BLOCK_SIZE] = [0; BLOCK_SIZE];

/// Writes a tar archive entry by entry, with the bytes Go's `archive/tar` `Writer` writes.
pub struct TarWriter<W: Write> {
    inner: W,
    bytes_written: u64,
    /// Allocated on the first file with data, then reused.
    buffer: Vec<u8>,
    /// Set when an entry failed part-way: the archive cannot be continued.
    broken: bool,
}

impl<W: Write> TarWriter<W> {
    /// A writer that writes the archive into `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            bytes_written: 0,
            buffer: Vec::new(),
            broken: false,
        }
    }

    /// Writes a folder entry: its header only.
    pub fn append_dir(&mut self, h: &EntryHeader) -> Result<(), TarError> {
        self.check_usable(h, EntryKind::Dir)?;
        let header = encode_header(h)?;
        self.run(|w| w.write(&h.name, &header))
    }

    /// Writes the header, then exactly `h.size` bytes copied from `data` in large buffers
    /// (1 MiB, reused), then padding to 512. A source that yields fewer or more bytes than
    /// `h.size` is an error naming the entry (file changed while packing).
    ///
    /// After an I/O or length error the archive is incomplete and further calls fail.
    pub fn append_file(&mut self, h: &EntryHeader, data: &mut impl Read) -> Result<(), TarError> {
        self.check_usable(h, EntryKind::File)?;
        let header = encode_header(h)?;
        self.run(|w| {
            w.write(&h.name, &header)?;
            w.copy_data(h, data)?;
            w.pad(h)
        })
    }

    /// Bytes written to the inner writer so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// Writes the two zero blocks that end an archive (no further padding), flushes and returns
    /// the inner writer.
    pub fn finish(mut self) -> Result<W, TarError> {
        if self.broken {
            return Err(TarError::Broken);
        }
        let end = [0u8; 2 * BLOCK_SIZE];
        self.inner
            .write_all(&end)
            .and_then(|()| self.inner.flush())
            .map_err(|source| TarError::Finish { source })?;
        self.bytes_written += end.len() as u64;
        Ok(self.inner)
    }

    fn check_usable(&self, h: &EntryHeader, expected: EntryKind) -> Result<(), TarError> {
        if self.broken {
            return Err(TarError::Broken);
        }
        if h.kind != expected {
            return Err(TarError::WrongKind {
                name: h.name.clone(),
                expected,
                actual: h.kind,
            });
        }
        Ok(())
    }

    /// Runs a step that writes bytes; if it fails the archive is left broken.
    fn run(
        &mut self,
        step: impl FnOnce(&mut Self) -> Result<(), TarError>,
    ) -> Result<(), TarError> {
        let result = step(self);
        self.broken = result.is_err();
        result
    }

    fn write(&mut self, name: &str, bytes: &[u8]) -> Result<(), TarError> {
        self.inner
            .write_all(bytes)
            .map_err(|source| TarError::Write {
                name: name.to_owned(),
                source,
            })?;
        self.bytes_written += bytes.len() as u64;
        Ok(())
    }

    fn copy_data(&mut self, h: &EntryHeader, data: &mut impl Read) -> Result<(), TarError> {
        if h.size > 0 && self.buffer.is_empty() {
            self.buffer = vec![0; COPY_BUFFER_SIZE];
        }
        // Taken out for the copy so that `self.write` can borrow `self`; put back either way.
        let mut buffer = std::mem::take(&mut self.buffer);
        let result = self.copy_through(&mut buffer, h, data);
        self.buffer = buffer;
        result
    }

    fn copy_through(
        &mut self,
        buffer: &mut [u8],
        h: &EntryHeader,
        data: &mut impl Read,
    ) -> Result<(), TarError> {
        let mut remaining = h.size;
        while remaining > 0 {
            let want = usize::try_from(remaining).map_or(buffer.len(), |r| r.min(buffer.len()));
            let got = fill(data, &mut buffer[..want], &h.name)?;
            self.write(&h.name, &buffer[..got])?;
            remaining -= got as u64;
            if got < want {
                return Err(TarError::DataTooShort {
                    name: h.name.clone(),
                    expected: h.size,
                    actual: h.size - remaining,
                });
            }
        }
        // The source must end here; one more byte means it grew.
        if fill(data, &mut [0u8; 1], &h.name)? > 0 {
            return Err(TarError::DataTooLong {
                name: h.name.clone(),
                expected: h.size,
            });
        }
        Ok(())
    }

    fn pad(&mut self, h: &EntryHeader) -> Result<(), TarError> {
        let tail = (h.size % BLOCK_SIZE as u64) as usize;
        if tail == 0 {
            return Ok(());
        }
        self.write(&h.name, &ZERO_BLOCK[tail..])
    }
}

/// Reads until `buf` is full or the source ends; returns the bytes read.
fn fill(data: &mut impl Read, buf: &mut [u8], name: &str) -> Result<usize, TarError> {
    let mut filled = 0;
    while filled < buf.len() {
        match data.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(TarError::Read {
                    name: name.to_owned(),
                    source,
                })
            }
        }
    }
    Ok(filled)
}
