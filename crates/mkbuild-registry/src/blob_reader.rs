//! A blob streamed from a registry as a blocking [`Read`], for an unpack that writes straight into
//! its target and stores nothing: the caller verifies the bytes (digest and size) as it reads.
//!
//! Each wait is bounded as a pull's is (`stall.rs`): a request must be answered and a body must
//! keep coming within the client's timeout. A body that breaks is asked for again from the byte
//! it broke at (`Range`), as a pull resumes; of an answer that starts earlier (a registry that
//! ignores the range, or answers from elsewhere) the bytes already handed out are skipped. No more than the descriptor's size is
//! ever accepted.

use std::io::{self, Read};

use bytes::{Buf as _, Bytes};
use mkbuild_store::Descriptor;
use reqwest::StatusCode;

use crate::download::content_range_start;
use crate::stall::Body;
use crate::{RegistryClient, RegistryError, RemoteReference};

/// A blob of a registry being read; made by [`RegistryClient::open_blob`].
pub struct BlobReader<'c> {
    client: &'c RegistryClient,
    remote: RemoteReference,
    descriptor: Descriptor,
    action: String,
    body: Option<Body>,
    /// Received, not yet handed out.
    pending: Bytes,
    /// Bytes of the blob received so far (handed out or pending).
    received: u64,
    /// Bytes to drop from the start of an answer that ignored a range request.
    skip: u64,
    retries_left: u32,
    ended: bool,
}

impl RegistryClient {
    /// The blob `descriptor` names in the repository of `from`, streamed: the request is sent
    /// now, the body read as the reader is. The bytes are not verified here; check them against
    /// `descriptor` while reading.
    pub fn open_blob(
        &self,
        from: &RemoteReference,
        descriptor: &Descriptor,
    ) -> Result<BlobReader<'_>, RegistryError> {
        let action = format!(
            "downloading the blob `{}` from `{}/{}`",
            descriptor.digest, from.registry, from.repository
        );
        let mut reader = BlobReader::unopened(self, from, descriptor, action);
        // Sent before the first read, so that a missing blob or a refusal is told at once.
        self.runtime.block_on(reader.request())?;
        Ok(reader)
    }
}

impl<'c> BlobReader<'c> {
    /// A reader that sends its request at the first read; `action` names it in errors.
    pub(crate) fn unopened(
        client: &'c RegistryClient,
        from: &RemoteReference,
        descriptor: &Descriptor,
        action: String,
    ) -> BlobReader<'c> {
        BlobReader {
            client,
            remote: from.clone(),
            descriptor: descriptor.clone(),
            action,
            body: None,
            pending: Bytes::new(),
            received: 0,
            skip: 0,
            retries_left: client.options.retries,
            ended: false,
        }
    }

    /// Asks for the blob from the byte received last; `body` is the answer's.
    async fn request(&mut self) -> Result<(), RegistryError> {
        if self.received >= self.descriptor.size {
            return Ok(());
        }
        loop {
            let asked = self
                .client
                .get_blob(
                    &self.remote,
                    &self.descriptor.digest,
                    self.received,
                    &self.action,
                )
                .await;
            let response = match asked {
                Ok(response) => response,
                Err(error) if retriable(&error) && self.retries_left > 0 => {
                    self.retries_left -= 1;
                    tracing::warn!("{error}; trying again");
                    continue;
                }
                Err(error) => return Err(error),
            };
            if self.received > 0 {
                // What the answer repeats of the bytes handed out already is dropped; an answer
                // from further on would leave a gap.
                let start = match response.status() {
                    StatusCode::OK => Some(0),
                    _ => content_range_start(&response),
                };
                if let Some(start) = start.filter(|s| *s <= self.received) {
                    self.skip = self.received - start;
                } else {
                    return Err(RegistryError::Status {
                        registry: self.remote.registry.clone(),
                        action: self.action.clone(),
                        status: response.status().as_u16(),
                        message: format!(
                            "the answer to a range request from byte {} starts elsewhere",
                            self.received
                        ),
                    });
                }
            }
            self.body = Some(Body::new(response, self.client.options.timeout));
            return Ok(());
        }
    }

    /// The next bytes of the blob; `None` at its end.
    pub(crate) async fn next_chunk(&mut self) -> Result<Option<Bytes>, RegistryError> {
        loop {
            let Some(body) = self.body.as_mut() else {
                if self.received >= self.descriptor.size {
                    return Ok(None);
                }
                self.request().await?;
                continue;
            };
            match body.chunk().await {
                Ok(Some(mut bytes)) => {
                    if self.skip > 0 {
                        let dropped = usize::try_from(self.skip)
                            .unwrap_or(usize::MAX)
                            .min(bytes.len());
                        bytes.advance(dropped);
                        self.skip -= dropped as u64;
                        if bytes.is_empty() {
                            continue;
                        }
                    }
                    let received = self.received.saturating_add(bytes.len() as u64);
                    if received > self.descriptor.size {
                        return Err(self.size_mismatch(received));
                    }
                    self.received = received;
                    return Ok(Some(bytes));
                }
                Ok(None) => {
                    self.body = None;
                    if self.received != self.descriptor.size {
                        return Err(self.size_mismatch(self.received));
                    }
                    return Ok(None);
                }
                // With every byte here, a broken end does not matter: the caller's digest decides.
                Err(_) if self.received == self.descriptor.size => {
                    self.body = None;
                    return Ok(None);
                }
                Err(e) => {
                    self.body = None;
                    let error = self
                        .client
                        .body_error(&self.remote.registry, &self.action, e);
                    if self.retries_left == 0 {
                        return Err(error);
                    }
                    self.retries_left -= 1;
                    tracing::warn!(
                        "the download of `{}` broke after {} of {} bytes ({error}); resuming there",
                        self.descriptor.digest,
                        self.received,
                        self.descriptor.size
                    );
                }
            }
        }
    }

    fn size_mismatch(&self, actual: u64) -> RegistryError {
        RegistryError::SizeMismatch {
            registry: self.remote.registry.clone(),
            digest: self.descriptor.digest.clone(),
            expected: self.descriptor.size,
            actual,
        }
    }
}

fn retriable(error: &RegistryError) -> bool {
    matches!(
        error,
        RegistryError::Transport { .. }
            | RegistryError::TimedOut { .. }
            | RegistryError::Status { status: 500.., .. }
    )
}

impl Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pending.is_empty() {
            if self.ended || buf.is_empty() {
                return Ok(0);
            }
            let client = self.client;
            match client.runtime.block_on(self.next_chunk()) {
                Ok(Some(bytes)) => self.pending = bytes,
                Ok(None) => self.ended = true,
                Err(error) => return Err(io::Error::other(error)),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.advance(n);
        Ok(n)
    }
}
