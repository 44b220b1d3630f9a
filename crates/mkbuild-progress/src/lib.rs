//! How long work reports how far it got. The libraries count bytes; the caller draws (a bar, plain
//! lines, nothing). Layers pack and blobs transfer in parallel, so a sink is called from several
//! threads at once.

/// Receives progress in bytes.
pub trait Progress: Send + Sync {
    /// The work begins; `total` bytes are to be processed.
    fn start(&self, total: u64) {
        let _ = total;
    }
    /// `bytes` more were processed (read, sent, received, or found already done).
    fn advance(&self, bytes: u64) {
        let _ = bytes;
    }
    /// `bytes` more are done without being moved: already in the registry, cloned by the
    /// filesystem, or not downloaded because nothing asked for them. They count towards the total.
    fn skipped(&self, bytes: u64) {
        self.advance(bytes);
    }
    /// The work ended (successfully or not).
    fn finish(&self) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
