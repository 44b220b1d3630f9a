//! How long work reports how far it got. The engine counts bytes; the caller draws (a bar, plain
//! lines, nothing). Layers pack in parallel, so a sink is called from several threads.

/// Receives progress in bytes of file data.
pub trait Progress: Sync {
    /// The work begins; `total` bytes of file data are to be processed.
    fn start(&self, total: u64) {
        let _ = total;
    }
    /// `bytes` more were processed (read, or found unchanged in the build cache).
    fn advance(&self, bytes: u64) {
        let _ = bytes;
    }
    /// The work ended (successfully or not).
    fn finish(&self) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// A reader that reports every byte read to a [`Progress`].
pub(crate) struct CountingReader<'a, R> {
    pub(crate) inner: R,
    pub(crate) progress: &'a dyn Progress,
}

impl<R: std::io::Read> std::io::Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}
