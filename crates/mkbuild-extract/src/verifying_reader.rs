//! A reader that hashes what passes through it and, at the end, compares with the digest it was promised.

use std::io::{self, Read};

use mkbuild_hash::PipelinedSha256;

use crate::ExtractError;

const SHA256_PREFIX: &str = "sha256:";

/// Reads a blob and checks it against its digest as it goes (sha256).
///
/// Readers nest: the engine reads a compressed layer as
/// `VerifyingReader(blob file) -> decoder -> VerifyingReader(diffId) -> tar`. After the tar stream is
/// extracted, check the inner one with [`verify`](Self::verify) (it reads what the tar reader left:
/// end blocks, padding, the decoder's trailer), then unwrap the decoder and
/// [`finish`](Self::finish) the outer one:
///
/// ```
/// # use std::io::Read;
/// # use mkbuild_extract::VerifyingReader;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let blob: &[u8] = b"hello";
/// let digest = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
/// let mut reader = VerifyingReader::new(blob, digest, "greeting")?;
/// let mut first = [0u8; 2];
/// reader.read_exact(&mut first)?;
/// assert_eq!(reader.finish()?, 5); // reads the last 3 bytes, then compares
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct VerifyingReader<R: Read> {
    inner: R,
    /// Hashes on a thread of its own once a blob is past one chunk, so a large layer's SHA-256
    /// overlaps the decompression and file writes downstream.
    hasher: Hashing,
    expected_hex: String,
    label: String,
    bytes: u64,
    expected_size: Option<u64>,
}

impl<R: Read> VerifyingReader<R> {
    /// Wraps `inner`; `expected` is `sha256:<64 lowercase hex>`, `label` names the blob in errors.
    pub fn new(inner: R, expected: &str, label: &str) -> Result<Self, ExtractError> {
        let expected_hex = expected
            .strip_prefix(SHA256_PREFIX)
            .filter(|hex| {
                hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            })
            .ok_or_else(|| ExtractError::InvalidDigest {
                label: label.to_string(),
                digest: crate::printable(expected),
            })?;
        Ok(VerifyingReader {
            inner,
            hasher: Hashing::Running(PipelinedSha256::new()),
            expected_hex: expected_hex.to_string(),
            label: label.to_string(),
            bytes: 0,
            expected_size: None,
        })
    }

    /// Also checks the size (from the blob's descriptor): reading stops with an error as soon as
    /// the blob is longer, and [`verify`](Self::verify) fails if it is shorter.
    pub fn with_expected_size(mut self, size: u64) -> Self {
        self.expected_size = Some(size);
        self
    }

    /// Reads what is left, then compares size and digest. Can be called more than once; the
    /// reader stays usable (it is at its end). Returns the number of bytes read in all.
    pub fn verify(&mut self) -> Result<u64, ExtractError> {
        let mut rest = vec![0u8; 64 * 1024];
        loop {
            match self.read(&mut rest) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.read_error(e)),
            }
        }
        if let Some(expected) = self.expected_size.filter(|size| *size != self.bytes) {
            return Err(self.size_mismatch(expected));
        }
        let actual_hex = self.hasher.finish().map_err(|died| ExtractError::Read {
            label: self.label.clone(),
            cause: io::Error::other(died),
        })?;
        if actual_hex != self.expected_hex {
            return Err(ExtractError::DigestMismatch {
                label: self.label.clone(),
                expected: format!("{SHA256_PREFIX}{}", self.expected_hex),
                actual: format!("{SHA256_PREFIX}{actual_hex}"),
                bytes: self.bytes,
            });
        }
        Ok(self.bytes)
    }

    /// [`verify`](Self::verify), then drops the reader.
    pub fn finish(mut self) -> Result<u64, ExtractError> {
        self.verify()
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The label that names the blob in errors.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The wrapped reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader. Bytes read from it directly are not hashed.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The inner reader, without verifying: call [`verify`](Self::verify) first.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// A read error that is one of ours (a size overrun) stays ours; others are named by the blob.
    fn read_error(&self, error: io::Error) -> ExtractError {
        match error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<ExtractError>())
        {
            Some(ExtractError::SizeMismatch {
                label,
                expected,
                actual,
            }) => ExtractError::SizeMismatch {
                label: label.clone(),
                expected: *expected,
                actual: *actual,
            },
            _ => ExtractError::Read {
                label: self.label.clone(),
                cause: error,
            },
        }
    }

    fn size_mismatch(&self, expected: u64) -> ExtractError {
        ExtractError::SizeMismatch {
            label: self.label.clone(),
            expected,
            actual: self.bytes,
        }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        match &mut self.hasher {
            Hashing::Running(hasher) => hasher.update(&buf[..n]),
            Hashing::Done(_) if n == 0 => {}
            Hashing::Done(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} goes on after its end was verified", self.label),
                ))
            }
        }
        self.bytes += n as u64;
        if let Some(expected) = self.expected_size.filter(|size| self.bytes > *size) {
            // Fail early: a blob longer than its descriptor is damaged, no need to read on.
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                self.size_mismatch(expected),
            ));
        }
        Ok(n)
    }
}

/// The hash of a [`VerifyingReader`]: running, or finished (at the first `verify`) with its hex.
#[derive(Debug)]
enum Hashing {
    Running(PipelinedSha256),
    Done(String),
}

impl Hashing {
    /// The lowercase hex digest of every byte read; finishes the hash the first time.
    fn finish(&mut self) -> Result<String, mkbuild_hash::HashThreadDied> {
        let hex = match self {
            Hashing::Done(hex) => return Ok(hex.clone()),
            Hashing::Running(hasher) => hex::encode(std::mem::take(hasher).finalize()?),
        };
        *self = Hashing::Done(hex.clone());
        Ok(hex)
    }
}
