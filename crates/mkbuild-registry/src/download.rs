//! Downloading one blob into the store: hashed (by the store's writer, once) and counted while it
//! is written to a temporary file, resumed by `Range` after a broken connection, committed under its
//! digest only when the hash matches.

use std::io::Write as _;

use futures_util::StreamExt as _;
use mkbuild_store::{Descriptor, Store};
use oci_client::client::BlobResponse;
use oci_client::manifest::OciDescriptor;

use crate::{RegistryClient, RegistryError, RemoteReference};

/// The blob being received and what is known of it.
struct Partial {
    writer: mkbuild_store::BlobWriter,
    received: u64,
}

impl Partial {
    fn new(store: &Store) -> Result<Partial, RegistryError> {
        Ok(Partial {
            writer: store.blob_writer()?,
            received: 0,
        })
    }
}

impl RegistryClient {
    /// Downloads `blob` from `remote`'s repository into `store`; returns the bytes received.
    pub(crate) async fn download_blob(
        &self,
        store: &Store,
        remote: &RemoteReference,
        blob: &Descriptor,
    ) -> Result<u64, RegistryError> {
        let reference = remote.to_oci();
        let descriptor = OciDescriptor {
            media_type: blob.media_type.clone(),
            digest: blob.digest.to_string(),
            size: i64::try_from(blob.size).unwrap_or(i64::MAX),
            ..OciDescriptor::default()
        };
        let action = format!("the download of `{}`", blob.digest);
        let mut partial = Partial::new(store)?;
        let mut transferred = 0u64;
        let mut retries_left = self.options.retries;
        loop {
            // No `Range` for a start from 0: registries refuse `bytes=0-` on an empty blob.
            let response = if partial.received == 0 {
                self.oci
                    .pull_blob_stream(&reference, &descriptor)
                    .await
                    .map(BlobResponse::Full)
            } else {
                self.oci
                    .pull_blob_stream_partial(&reference, &descriptor, partial.received, None)
                    .await
            };
            let mut stream = match response {
                Ok(BlobResponse::Partial(stream)) => stream.stream,
                Ok(BlobResponse::Full(stream)) => {
                    if partial.received > 0 {
                        tracing::warn!(
                            "the registry ignored the range request for `{}`; downloading it again",
                            blob.digest
                        );
                        partial = Partial::new(store)?;
                    }
                    stream.stream
                }
                Err(e) => {
                    let error = self.oci_error(&remote.registry, &action, e);
                    let retriable = matches!(
                        &error,
                        RegistryError::Transport { .. }
                            | RegistryError::Status { status: 500.., .. }
                    );
                    if !retriable || retries_left == 0 {
                        return Err(error);
                    }
                    retries_left -= 1;
                    tracing::warn!("{error}; trying again");
                    continue;
                }
            };
            let mut broken = None;
            while let Some(chunk) = stream.next().await {
                let bytes = match chunk {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        broken = Some(e);
                        break;
                    }
                };
                let received = partial.received + bytes.len() as u64;
                if received > blob.size {
                    return Err(RegistryError::SizeMismatch {
                        registry: remote.registry.clone(),
                        digest: blob.digest.clone(),
                        expected: blob.size,
                        actual: received,
                    });
                }
                let temp_path = partial.writer.temp_path().to_owned();
                tokio::task::block_in_place(|| partial.writer.write_all(&bytes)).map_err(
                    |source| RegistryError::Io {
                        path: temp_path,
                        source,
                    },
                )?;
                partial.received = received;
                self.progress.advance(bytes.len() as u64);
                transferred += bytes.len() as u64;
            }
            // oci-client's own check of a whole response also ends the stream with an error; with
            // every byte here, our hash decides below.
            match broken {
                Some(e) if partial.received < blob.size => {
                    if retries_left == 0 {
                        return Err(RegistryError::Transport {
                            registry: remote.registry.clone(),
                            action: action.clone(),
                            message: crate::client::error_chain(&e),
                        });
                    }
                    retries_left -= 1;
                    tracing::warn!(
                        "the download of `{}` broke after {} of {} bytes ({e}); resuming there",
                        blob.digest,
                        partial.received,
                        blob.size
                    );
                }
                _ => break,
            }
        }
        if partial.received != blob.size {
            return Err(RegistryError::SizeMismatch {
                registry: remote.registry.clone(),
                digest: blob.digest.clone(),
                expected: blob.size,
                actual: partial.received,
            });
        }
        let finished = tokio::task::block_in_place(|| partial.writer.finish())?;
        if finished.digest() != &blob.digest {
            // Dropping the finished blob removes the temporary file: nothing of it reaches the store.
            return Err(RegistryError::DigestMismatch {
                registry: remote.registry.clone(),
                expected: blob.digest.clone(),
                actual: finished.digest().clone(),
            });
        }
        tokio::task::block_in_place(|| finished.commit())?;
        Ok(transferred)
    }
}
