//! Uploading a blob while it is being made (`pack --push` without a local copy): the bytes are
//! hashed as they are written and go up in `PATCH` chunks of the chunked-upload protocol; the
//! digest, known only at the end, closes the session (`PUT ?digest=`), and the registry checks it.
//!
//! A thread of its own sends the chunks, so packing the next chunk overlaps sending this one; at
//! most two chunks wait, which bounds memory. Each chunk is kept until the registry acknowledges
//! it: after a broken request, `GET <session>` says how much the registry holds, and the rest of
//! the chunk is sent again. A registry that lost more than the current chunk (the session is
//! gone) cannot be helped from here: the upload fails, and packing again starts it anew.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use bytes::Bytes;
use mkbuild_hash::PipelinedSha256;
use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{Descriptor, Digest, Manifest, Store};
use reqwest::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};

use crate::auth::Access;
use crate::http::Request;
use crate::upload::Endpoint;
use crate::{RegistryClient, RegistryError, RemoteReference};

/// The chunk size when none is set ([`crate::ClientOptions::chunk_size`]): large enough that a
/// request's overhead does not matter, small enough that the three alive at once (one filling,
/// one queued, one on the wire) keep pack's memory flat.
pub const DEFAULT_STREAM_CHUNK: u64 = 8 << 20;

/// What the writer tells the sending thread.
enum Message {
    Chunk(Bytes),
    /// Every byte was sent; close the session with this digest.
    Finish(Digest),
}

/// A blob being uploaded as it is written; [`StreamingUpload::finish`] closes it.
pub struct StreamingUpload {
    chunk: Vec<u8>,
    chunk_size: usize,
    hasher: PipelinedSha256,
    size: u64,
    to_sender: Option<SyncSender<Message>>,
    sender: Option<JoinHandle<Result<(), RegistryError>>>,
}

impl RegistryClient {
    /// Opens an upload session in `to`'s repository for a blob whose bytes are then written to
    /// the returned [`StreamingUpload`].
    pub fn start_upload(
        self: &Arc<Self>,
        to: &RemoteReference,
    ) -> Result<StreamingUpload, RegistryError> {
        let chunk_size = self
            .options
            .chunk_size
            .unwrap_or(DEFAULT_STREAM_CHUNK)
            .clamp(1, 1 << 30) as usize;
        let (to_sender, queue) = mpsc::sync_channel(1);
        let client = Arc::clone(self);
        let remote = to.clone();
        let sender = std::thread::Builder::new()
            .name("blob-upload".into())
            .spawn(move || {
                let handle = client.runtime.handle().clone();
                handle.block_on(send_all(&client, &remote, &queue))
            })
            .map_err(|e| RegistryError::Setup {
                what: "the upload thread",
                message: e.to_string(),
            })?;
        Ok(StreamingUpload {
            chunk: Vec::with_capacity(chunk_size),
            chunk_size,
            hasher: PipelinedSha256::new(),
            size: 0,
            to_sender: Some(to_sender),
            sender: Some(sender),
        })
    }
}

impl RegistryClient {
    /// Pushes `manifest` to `to` (its tag, or its digest) once every blob it names is there, and
    /// checks that the registry names it by the digest of the bytes sent.
    pub fn push_manifest(
        &self,
        to: &RemoteReference,
        manifest: &Manifest,
    ) -> Result<Descriptor, RegistryError> {
        let bytes = manifest.to_json();
        let descriptor = Descriptor::new(OCI_MANIFEST, Digest::of(&bytes), bytes.len() as u64);
        self.runtime.block_on(async {
            self.put_manifest(to, bytes, HeaderValue::from_static(OCI_MANIFEST))
                .await?;
            let remote = self.manifest_digest(to).await?;
            if remote != descriptor.digest.as_str() {
                return Err(RegistryError::ManifestRewritten {
                    registry: to.registry.clone(),
                    local: descriptor.digest.clone(),
                    remote,
                });
            }
            Ok(descriptor)
        })
    }

    /// Makes sure `to`'s repository has the stored `blob`: nothing if it has it (`HEAD`), else
    /// an upload from the store. Returns whether it was uploaded.
    pub fn ensure_blob(
        &self,
        store: &Store,
        to: &RemoteReference,
        blob: &Descriptor,
    ) -> Result<bool, RegistryError> {
        self.runtime.block_on(async {
            if self.blob_exists(to, &blob.digest).await? {
                return Ok(false);
            }
            self.upload_blob(store, to, blob).await?;
            Ok(true)
        })
    }
}

impl StreamingUpload {
    /// Sends the last bytes and closes the session; returns the blob's digest and size.
    pub fn finish(mut self) -> Result<(Digest, u64), RegistryError> {
        let sent = self.send_chunk();
        let hasher = std::mem::take(&mut self.hasher);
        let digest =
            hasher
                .finalize()
                .map(Digest::from_sha256)
                .map_err(|died| RegistryError::Setup {
                    what: "the hashing thread",
                    message: died.to_string(),
                });
        let told = match (&sent, &digest, &self.to_sender) {
            (Ok(()), Ok(digest), Some(queue)) => {
                queue.send(Message::Finish(digest.clone())).is_ok()
            }
            _ => false,
        };
        // Dropping the queue ends the thread if it was not told to finish.
        self.to_sender = None;
        let outcome = self.join();
        match (outcome, told) {
            (Err(e), _) => Err(e),
            (Ok(()), true) => Ok((digest?, self.size)),
            (Ok(()), false) => {
                digest?;
                Err(RegistryError::Setup {
                    what: "the upload",
                    message: "it ended before the last chunk was sent".to_owned(),
                })
            }
        }
    }

    /// Hands the gathered chunk to the sending thread (waits while two are queued).
    fn send_chunk(&mut self) -> Result<(), RegistryError> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(self.chunk_size));
        let queued = self
            .to_sender
            .as_ref()
            .is_some_and(|queue| queue.send(Message::Chunk(Bytes::from(chunk))).is_ok());
        if queued {
            return Ok(());
        }
        // The thread ended: its error says why.
        self.to_sender = None;
        self.join()?;
        Err(RegistryError::Setup {
            what: "the upload",
            message: "the sending thread ended early".to_owned(),
        })
    }

    fn join(&mut self) -> Result<(), RegistryError> {
        match self.sender.take() {
            Some(thread) => thread.join().unwrap_or_else(|_| {
                Err(RegistryError::Setup {
                    what: "the upload thread",
                    message: "it panicked".to_owned(),
                })
            }),
            None => Ok(()),
        }
    }
}

impl Write for StreamingUpload {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(self.chunk_size - self.chunk.len());
        self.chunk.extend_from_slice(&buf[..n]);
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        if self.chunk.len() == self.chunk_size {
            self.send_chunk().map_err(io::Error::other)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for StreamingUpload {
    fn drop(&mut self) {
        // Unfinished: the thread sees the queue close and leaves the session unclosed (the
        // registry drops it after a while); nothing is committed without its digest.
        self.to_sender = None;
        let _ = self.join();
    }
}

/// The sending thread: opens the session, sends each chunk as it comes, closes it with the digest.
async fn send_all(
    client: &RegistryClient,
    remote: &RemoteReference,
    queue: &Receiver<Message>,
) -> Result<(), RegistryError> {
    let endpoint = Endpoint {
        client,
        remote,
        blob: "being packed".to_owned(),
    };
    let mut location = endpoint.start().await?;
    let mut offset = 0u64;
    loop {
        // Blocking here blocks only this thread, which exists for it.
        match queue.recv() {
            Ok(Message::Chunk(bytes)) => {
                let len = bytes.len() as u64;
                location = send_acknowledged(&endpoint, location, offset, bytes).await?;
                offset += len;
            }
            Ok(Message::Finish(digest)) => return endpoint.finish(&location, &digest).await,
            Err(_) => {
                endpoint.cancel(&location).await;
                return Ok(());
            }
        }
    }
}

/// Sends `bytes` (the blob's bytes from `offset`) until the registry holds them all; returns the
/// session's next URL.
async fn send_acknowledged(
    endpoint: &Endpoint<'_>,
    mut location: Url,
    offset: u64,
    bytes: Bytes,
) -> Result<Url, RegistryError> {
    let end = offset + bytes.len() as u64;
    let mut from = offset;
    let mut retries_left = endpoint.client.options.retries;
    loop {
        let part = bytes.slice((from - offset) as usize..);
        let failure = match patch(endpoint, &location, from, part).await {
            Ok(next) => return Ok(next),
            Err(failure) => failure,
        };
        if !failure.retriable || retries_left == 0 {
            return Err(failure.error);
        }
        retries_left -= 1;
        let (next, held) = endpoint.status(&location).await?;
        if held < offset || held > end {
            // What was sent before this chunk is gone: only packing again can send it.
            return Err(failure.error);
        }
        tracing::warn!(
            "{}; the registry holds {held} bytes of the blob being packed, sending the rest",
            failure.error
        );
        location = next;
        from = held;
        if from == end {
            return Ok(location);
        }
    }
}

/// One `PATCH` of `bytes` at `start`.
async fn patch(
    endpoint: &Endpoint<'_>,
    location: &Url,
    start: u64,
    bytes: Bytes,
) -> Result<Url, crate::upload::Failure> {
    let end = start + bytes.len() as u64;
    let action = endpoint.doing("sending a chunk of");
    let mut request = Request::new(Method::PATCH, location.clone())
        .header(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        )
        .header(CONTENT_LENGTH, HeaderValue::from(bytes.len() as u64))
        .header(
            reqwest::header::HeaderName::from_static("content-range"),
            HeaderValue::from_str(&format!("{start}-{}", end.max(1) - 1))
                .unwrap_or_else(|_| HeaderValue::from_static("0-0")),
        );
    request.body = Some(bytes.clone());
    let sent = bytes.len() as u64;
    let response = endpoint
        .client
        .send(endpoint.remote, Access::Push, request, &action)
        .await
        .map_err(|error| crate::upload::Failure {
            retriable: matches!(
                error,
                RegistryError::Transport { .. } | RegistryError::TimedOut { .. }
            ),
            error,
        })?;
    let response = endpoint
        .expect(response, StatusCode::ACCEPTED, &action)
        .await?;
    endpoint.client.progress.advance(sent);
    Ok(endpoint.location(location, &response)?)
}
