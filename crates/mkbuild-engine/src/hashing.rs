use std::io::{self, Write};

use sha2::{Digest as _, Sha256};

/// Passes bytes through to `inner`, hashing them on the way when asked to (the diffId of a
/// compressed layer is the digest of the tar before compression).
pub struct HashingWriter<W> {
    inner: W,
    hasher: Option<Sha256>,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W, hash: bool) -> Self {
        HashingWriter {
            inner,
            hasher: hash.then(Sha256::new),
        }
    }

    /// The inner writer and, when hashing, `sha256:<hex>` of what went through.
    pub fn finish(self) -> (W, Option<String>) {
        let digest = self
            .hasher
            .map(|h| format!("sha256:{}", hex::encode(h.finalize())));
        (self.inner, digest)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
