//! Downloading one blob into the store: hashed (by the store's writer, once) and counted while it
//! is written to a temporary file, resumed by `Range` after a broken connection, committed under its
//! digest only when the hash matches.

use std::io::Write as _;

use mkbuild_store::{Descriptor, Store};
use reqwest::StatusCode;

use crate::stall::Body;
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
    /// Downloads `blob` from `remote`'s repository into `store`; returns the bytes received. A
    /// damaged file of that digest in the store is replaced by the verified download.
    pub(crate) async fn download_blob(
        &self,
        store: &Store,
        remote: &RemoteReference,
        blob: &Descriptor,
    ) -> Result<u64, RegistryError> {
        let action = format!(
            "downloading the blob `{}` from `{}/{}`",
            blob.digest, remote.registry, remote.repository
        );
        let mut partial = Partial::new(store)?;
        let mut transferred = 0u64;
        let mut retries_left = self.options.retries;
        loop {
            let response = match self
                .get_blob(remote, &blob.digest, partial.received, &action)
                .await
            {
                Ok(response) => response,
                Err(error) => {
                    let retriable = matches!(
                        &error,
                        RegistryError::Transport { .. }
                            | RegistryError::TimedOut { .. }
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
            if response.status() == StatusCode::OK && partial.received > 0 {
                tracing::warn!(
                    "the registry ignored the range request for `{}`; downloading it again",
                    blob.digest
                );
                partial = Partial::new(store)?;
            }
            if response.status() == StatusCode::PARTIAL_CONTENT && partial.received > 0 {
                let start = content_range_start(&response);
                if start != Some(partial.received) {
                    tracing::warn!(
                        "the registry answered the range request for `{}` from another offset; downloading it again",
                        blob.digest
                    );
                    partial = Partial::new(store)?;
                    if start != Some(0) {
                        // Asked again without a range: the whole blob.
                        continue;
                    }
                }
            }
            let mut body = Body::new(response, self.options.timeout);
            let mut broken = None;
            loop {
                let bytes = match body.chunk().await {
                    Ok(Some(bytes)) => bytes,
                    Ok(None) => break,
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
                        cause: source,
                    },
                )?;
                partial.received = received;
                self.progress.advance(bytes.len() as u64);
                transferred += bytes.len() as u64;
            }
            // With every byte here, a broken end does not matter: the hash decides below.
            match broken {
                Some(e) if partial.received < blob.size => {
                    let error = self.body_error(&remote.registry, &action, e);
                    if retries_left == 0 {
                        return Err(error);
                    }
                    retries_left -= 1;
                    tracing::warn!(
                        "the download of `{}` broke after {} of {} bytes ({error}); resuming there",
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

/// The first byte of a `206` answer: `Content-Range: bytes START-END/TOTAL`.
fn content_range_start(response: &reqwest::Response) -> Option<u64> {
    let value = response.headers().get(reqwest::header::CONTENT_RANGE)?;
    let range = value.to_str().ok()?.trim().strip_prefix("bytes ")?;
    range.split_once('-')?.0.trim().parse().ok()
}
