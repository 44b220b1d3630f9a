//! A file (or a range of it) as a stream of byte chunks, so a blob of any size goes up with one
//! chunk in memory per transfer.

use std::io;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use mkbuild_progress::Progress;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

/// The size of one read; large enough for throughput, small enough to keep memory bounded.
const READ_CHUNK: usize = 1024 * 1024;

/// `len` bytes of the file at `path` from `offset`; fails if the file is shorter. Each chunk read
/// is reported to `progress` as it is handed to the connection.
pub(crate) async fn file_range_stream(
    path: &Path,
    offset: u64,
    len: u64,
    progress: Arc<dyn Progress>,
) -> io::Result<impl Stream<Item = io::Result<Bytes>> + Send + 'static> {
    let mut file = tokio::fs::File::open(path).await?;
    if offset > 0 {
        file.seek(io::SeekFrom::Start(offset)).await?;
    }
    Ok(futures_util::stream::try_unfold(
        (file, len, progress),
        |(mut file, remaining, progress)| async move {
            if remaining == 0 {
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
            progress.advance(read as u64);
            Ok(Some((
                Bytes::from(buffer),
                (file, remaining - read as u64, progress),
            )))
        },
    ))
}
