//! A stored blob (or a range of it) as a stream of byte chunks for an upload, so a blob of any size
//! goes up with one chunk in memory per transfer, hashed as it is read: a blob whose bytes do not
//! match its digest ends its stream with an error, which aborts the request before the registry
//! has the last byte.

use std::io::{self, Seek as _};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::Stream;
use mkbuild_progress::Progress;
use mkbuild_store::Digest;
use sha2::Digest as _;
use tokio::io::AsyncReadExt as _;

use crate::stall::Activity;

/// The size of one read: large enough for throughput, small enough to keep memory bounded, and
/// small enough that a slow link (32 KB/s) takes one within the timeout, since each chunk taken
/// is the upload's sign of life.
const READ_CHUNK: usize = 64 * 1024;

/// The hash of one blob's bytes as they are read for upload, across the ranges of resumed chunks:
/// each byte is hashed once, in order.
pub(crate) struct UploadCheck {
    expected: Digest,
    size: u64,
    state: Mutex<CheckState>,
}

struct CheckState {
    hasher: sha2::Sha256,
    hashed: u64,
    /// What the whole blob hashed to, once read to its end.
    actual: Option<Digest>,
}

impl UploadCheck {
    pub(crate) fn new(expected: Digest, size: u64) -> Arc<UploadCheck> {
        Arc::new(UploadCheck {
            expected,
            size,
            state: Mutex::new(CheckState {
                hasher: sha2::Sha256::default(),
                hashed: 0,
                actual: None,
            }),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CheckState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Hashes the bytes of `bytes` (read at `offset`) not hashed yet; at the blob's end, whether it
    /// matches its digest.
    pub(crate) fn feed(&self, offset: u64, bytes: &[u8]) -> Result<(), Digest> {
        let mut state = self.state();
        let end = offset + bytes.len() as u64;
        if offset <= state.hashed && end > state.hashed {
            let skip = usize::try_from(state.hashed - offset).unwrap_or(usize::MAX);
            state.hasher.update(&bytes[skip.min(bytes.len())..]);
            state.hashed = end;
        }
        if state.hashed == self.size && state.actual.is_none() {
            let hasher = std::mem::take(&mut state.hasher);
            state.actual = Some(Digest::from_hasher(hasher));
        }
        match &state.actual {
            Some(actual) if actual != &self.expected => Err(actual.clone()),
            _ => Ok(()),
        }
    }

    /// What the blob hashed to when it does not match its digest.
    pub(crate) fn mismatch(&self) -> Option<Digest> {
        self.state()
            .actual
            .clone()
            .filter(|actual| actual != &self.expected)
    }

    /// Whether every byte was read and matched.
    pub(crate) fn verified(&self) -> bool {
        self.state().actual.as_ref() == Some(&self.expected)
    }
}

/// `len` bytes of `file` from `offset`; fails if the file is shorter, or when the blob turns out
/// not to match `check`'s digest. Each chunk read is reported to `progress` and `activity` as it is
/// handed to the connection.
pub(crate) fn file_range_stream(
    mut file: std::fs::File,
    offset: u64,
    len: u64,
    progress: Arc<dyn Progress>,
    check: Arc<UploadCheck>,
    activity: Activity,
) -> io::Result<impl Stream<Item = io::Result<Bytes>> + Send + 'static> {
    if offset > 0 {
        file.seek(io::SeekFrom::Start(offset))?;
    }
    let file = tokio::fs::File::from_std(file);
    let corrupt = |actual: Digest| io::Error::other(format!("the blob hashes to `{actual}`"));
    // An empty range still checks: an empty blob is whole at once.
    check.feed(offset, &[]).map_err(corrupt)?;
    Ok(futures_util::stream::try_unfold(
        (file, offset, len, progress, check, activity),
        move |(mut file, position, remaining, progress, check, activity)| async move {
            if remaining == 0 {
                activity.body_sent();
                return Ok(None);
            }
            let want = usize::try_from(remaining)
                .unwrap_or(READ_CHUNK)
                .min(READ_CHUNK);
            let mut buffer = vec![0u8; want];
            let read = file.read(&mut buffer).await?;
            if read == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the blob file is shorter than its descriptor says",
                ));
            }
            buffer.truncate(read);
            check.feed(position, &buffer).map_err(corrupt)?;
            progress.advance(read as u64);
            activity.touch();
            Ok(Some((
                Bytes::from(buffer),
                (
                    file,
                    position + read as u64,
                    remaining - read as u64,
                    progress,
                    check,
                    activity,
                ),
            )))
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_each_byte_once_across_resumed_ranges() {
        let bytes = b"0123456789";
        let check = UploadCheck::new(Digest::of(bytes), 10);
        assert_eq!(check.feed(0, &bytes[..6]), Ok(()));
        // A resume from byte 4 hashes only 6..8.
        assert_eq!(check.feed(4, &bytes[4..8]), Ok(()));
        assert!(!check.verified());
        assert_eq!(check.feed(8, &bytes[8..]), Ok(()));
        assert!(check.verified());

        let check = UploadCheck::new(Digest::of(bytes), 10);
        assert_eq!(check.feed(0, b"0123456788"), Err(Digest::of(b"0123456788")));
        assert_eq!(check.mismatch(), Some(Digest::of(b"0123456788")));
    }
}
