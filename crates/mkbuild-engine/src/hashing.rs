use std::io::{self, Write};

use mkbuild_hash::{Digest, PipelinedSha256};

/// Passes bytes through to `inner`, hashing them on the way when asked to (the diffId of a
/// compressed layer is the digest of the tar before compression; it is hashed on a thread of its
/// own, beside the compressor).
pub struct HashingWriter<W> {
    inner: W,
    hasher: Option<PipelinedSha256>,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W, hash: bool) -> Self {
        HashingWriter {
            inner,
            hasher: hash.then(PipelinedSha256::new),
        }
    }

    /// The inner writer and, when hashing, the digest of what went through.
    pub fn finish(self) -> io::Result<(W, Option<Digest>)> {
        let digest = match self.hasher {
            Some(hasher) => Some(Digest::from_sha256(
                hasher.finalize().map_err(io::Error::other)?,
            )),
            None => None,
        };
        Ok((self.inner, digest))
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
