//! Downloading one blob into the store: hashed (by the store's writer, once) and counted while it
//! is written to a temporary file, resumed by `Range` after a broken connection, committed under its
//! digest only when the hash matches.
//!
//! The temporary file is the store's partial download of that digest
//! ([`Store::resumable_blob_writer`]): a pull that was killed or gave up leaves it, with the hash
//! state of what it holds, and the next pull of the blob asks only for the rest. Should the whole
//! then not match its digest (the kept bytes were damaged meanwhile), the blob is downloaded once
//! more from its start.

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
    /// The store's partial download of `blob`, continued where an earlier pull left it.
    fn resume(store: &Store, blob: &Descriptor) -> Result<Partial, RegistryError> {
        let writer = store.resumable_blob_writer(&blob.digest)?;
        let mut received = writer.bytes_written();
        let mut partial = Partial { writer, received };
        if received > blob.size {
            // Not this blob's bytes, whatever they are.
            partial.restart()?;
            received = 0;
        }
        if received > 0 {
            tracing::info!(
                "resuming the download of `{}` at {received} of {} bytes (kept from an earlier pull)",
                blob.digest,
                blob.size
            );
        }
        Ok(partial)
    }

    fn restart(&mut self) -> Result<(), RegistryError> {
        self.writer.restart()?;
        self.received = 0;
        Ok(())
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
        let partial = Partial::resume(store, blob)?;
        let resumed = partial.received;
        self.progress.skipped(resumed);
        match self.download_into(partial, remote, blob).await {
            Err(RegistryError::DigestMismatch { .. }) if resumed > 0 => {
                tracing::warn!(
                    "the download of `{}` resumed from an earlier pull did not match its digest; downloading it whole",
                    blob.digest
                );
                let mut partial = Partial::resume(store, blob)?;
                partial.restart()?;
                self.download_into(partial, remote, blob).await
            }
            other => other,
        }
    }

    /// Receives the rest of `blob` into `partial`, then commits it if it matches its digest;
    /// returns the bytes received.
    async fn download_into(
        &self,
        mut partial: Partial,
        remote: &RemoteReference,
        blob: &Descriptor,
    ) -> Result<u64, RegistryError> {
        let action = format!(
            "downloading the blob `{}` from `{}/{}`",
            blob.digest, remote.registry, remote.repository
        );
        let mut transferred = 0u64;
        let mut retries_left = self.options.retries;
        while partial.received < blob.size {
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
                partial.restart()?;
            }
            if response.status() == StatusCode::PARTIAL_CONTENT && partial.received > 0 {
                let start = content_range_start(&response);
                if start != Some(partial.received) {
                    tracing::warn!(
                        "the registry answered the range request for `{}` from another offset; downloading it again",
                        blob.digest
                    );
                    partial.restart()?;
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
pub(crate) fn content_range_start(response: &reqwest::Response) -> Option<u64> {
    let value = response.headers().get(reqwest::header::CONTENT_RANGE)?;
    let range = value.to_str().ok()?.trim().strip_prefix("bytes ")?;
    range.split_once('-')?.0.trim().parse().ok()
}
