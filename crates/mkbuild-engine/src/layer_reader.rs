//! Reading a layer's content (a tar, or a raw layer's file) from the store or another
//! [`BlobSource`]: the blob is checked against
//! its digest and its descriptor's size as it is read, and a compressed layer's content against
//! its diffId. Nothing is trusted before the check passes; callers that write (unpack) stage their
//! output until it does.

use std::io::{self, BufReader, Read};

use flate2::read::MultiGzDecoder;
use mkbuild_extract::VerifyingReader;
use mkbuild_store::Descriptor;

use crate::blob_source::BlobSource;
use crate::compression::Compression;
use crate::matching::MatchedLayer;
use crate::progress::{CountingReader, Progress};
use crate::EngineError;

/// Calls `read` with the layer's uncompressed content (a tar, or a raw layer's file), then checks the digests of
/// everything that was (and was not yet) read. `progress` advances by the blob's bytes as they are
/// read.
pub fn with_layer_content<T>(
    source: &dyn BlobSource,
    descriptor: &Descriptor,
    compression: Compression,
    diff_id: Option<&str>,
    label: &str,
    progress: &dyn Progress,
    read: impl FnOnce(&mut dyn Read) -> Result<T, EngineError>,
) -> Result<T, EngineError> {
    let file = source.open_blob(descriptor)?;
    let mut blob = VerifyingReader::new(
        CountingReader {
            inner: BufReader::with_capacity(1 << 20, file),
            progress,
        },
        descriptor.digest.as_str(),
        label,
    )?
    // A blob longer or shorter than its descriptor says is refused, as verify and pull do.
    .with_expected_size(descriptor.size);
    let read = match compression {
        Compression::None => read(&mut blob),
        Compression::Gzip | Compression::GzipFastest => {
            let mut decoder = MultiGzDecoder::new(&mut blob);
            read_checked(&mut decoder, diff_id, label, read)
        }
        Compression::Zstd => {
            let mut decoder = zstd::Decoder::new(&mut blob)
                .map_err(|e| EngineError::Mismatch(format!("layer `{label}`: {e}")))?;
            read_checked(&mut decoder, diff_id, label, read)
        }
    };
    // A corrupted blob usually breaks the tar before its end: report the digest, the root cause.
    let verified = blob.finish();
    match (read, verified) {
        (_, Err(digest_error)) => Err(digest_error.into()),
        (Err(read_error), Ok(_)) => Err(read_error),
        (Ok(out), Ok(_)) => Ok(out),
    }
}

/// [`with_layer_content`] for a layer matched to its Kitfile entry.
pub fn with_matched_layer_content<T>(
    source: &dyn BlobSource,
    layer: &MatchedLayer,
    progress: &dyn Progress,
    read: impl FnOnce(&mut dyn Read, &str) -> Result<T, EngineError>,
) -> Result<T, EngineError> {
    let label = layer.label();
    with_layer_content(
        source,
        &layer.descriptor,
        layer.compression,
        layer.diff_id(),
        &label,
        progress,
        |content| read(content, &label),
    )
}

/// Reads the decompressed content, checking it against the diffId when one is known, and drains what
/// the tar reader left so that the blob's digest covers every byte.
fn read_checked<R: Read, T>(
    decoder: &mut R,
    diff_id: Option<&str>,
    label: &str,
    read: impl FnOnce(&mut dyn Read) -> Result<T, EngineError>,
) -> Result<T, EngineError> {
    match diff_id {
        Some(diff_id) => {
            let mut tar =
                VerifyingReader::new(decoder, diff_id, &format!("{label} (uncompressed)"))?;
            let out = read(&mut tar)?;
            tar.finish()?;
            Ok(out)
        }
        None => {
            let out = read(decoder)?;
            io::copy(decoder, &mut io::sink())
                .map_err(|e| EngineError::Mismatch(format!("layer `{label}`: {e}")))?;
            Ok(out)
        }
    }
}
