//! Uploading a blob while it is being made (`pack --push` without a local copy): the bytes are
//! hashed as they are written and streamed up in one `PATCH` whose body is fed as pack makes it;
//! the digest, known only at the end, closes the session (`PUT ?digest=`), and the registry checks
//! it. One request for the whole blob, because a registry spends a lot on each request of an
//! upload (Distribution saves its hash state every time), far more than on the bytes themselves.
//!
//! The writer hands pieces to the request through a small queue (two pieces wait at most), so
//! packing the next piece overlaps sending this one and memory stays flat. The last
//! [`RESEND_WINDOW`] bytes sent are kept: after a broken request, `GET <session>` says how much the
//! registry holds, and when that is within the window the upload goes on from there in a new
//! `PATCH`. A registry that lost more (or the whole session) cannot be helped from here: the upload
//! fails, and pack makes the layer again from its files into a new upload.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use futures_util::StreamExt as _;

use bytes::Bytes;
use mkbuild_hash::PipelinedSha256;
use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{Descriptor, Digest, Manifest, Store};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};

use crate::auth::Access;
use crate::stall::Activity;
use crate::upload::{Endpoint, Failure};
use crate::{RegistryClient, RegistryError, RemoteReference};

/// The size of the pieces handed to the request when `--chunk-size` sets none: a few alive at once
/// (filling, queued, on the wire, and the resend window) keep pack's memory flat.
pub const DEFAULT_STREAM_CHUNK: u64 = 1 << 20;

/// Bytes already sent that are kept for sending again after a broken request.
pub const RESEND_WINDOW: usize = 16 << 20;

/// A blob being uploaded as it is written; [`StreamingUpload::finish`] closes it.
pub struct StreamingUpload {
    piece: Vec<u8>,
    piece_size: usize,
    hasher: PipelinedSha256,
    size: u64,
    /// The body's pieces; closed when every byte is written.
    pieces: Option<tokio::sync::mpsc::Sender<Bytes>>,
    /// The digest, once every byte is written.
    digest: Option<std::sync::mpsc::Sender<Digest>>,
    sender: Option<JoinHandle<Result<(), RegistryError>>>,
}

impl RegistryClient {
    /// Opens an upload session in `to`'s repository for a blob whose bytes are then written to
    /// the returned [`StreamingUpload`].
    pub fn start_upload(
        self: &Arc<Self>,
        to: &RemoteReference,
    ) -> Result<StreamingUpload, RegistryError> {
        let piece_size = self
            .options
            .chunk_size
            .unwrap_or(DEFAULT_STREAM_CHUNK)
            .clamp(1, RESEND_WINDOW as u64) as usize;
        let (pieces, queue) = tokio::sync::mpsc::channel(2);
        let (digest, digest_queue) = std::sync::mpsc::channel();
        let client = Arc::clone(self);
        let remote = to.clone();
        let sender = std::thread::Builder::new()
            .name("blob-upload".into())
            .spawn(move || {
                let handle = client.runtime.handle().clone();
                handle.block_on(send_all(&client, &remote, queue, &digest_queue))
            })
            .map_err(|e| RegistryError::Setup {
                what: "the upload thread",
                message: e.to_string(),
            })?;
        Ok(StreamingUpload {
            piece: Vec::with_capacity(piece_size),
            piece_size,
            hasher: PipelinedSha256::new(),
            size: 0,
            pieces: Some(pieces),
            digest: Some(digest),
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
        let sent = self.send_piece();
        // The body ends here; the sending thread then waits for the digest.
        self.pieces = None;
        let hasher = std::mem::take(&mut self.hasher);
        let digest =
            hasher
                .finalize()
                .map(Digest::from_sha256)
                .map_err(|died| RegistryError::Setup {
                    what: "the hashing thread",
                    message: died.to_string(),
                });
        if let (Ok(()), Ok(digest), Some(queue)) = (&sent, &digest, &self.digest) {
            let _ = queue.send(digest.clone());
        }
        self.digest = None;
        self.join()?;
        sent?;
        Ok((digest?, self.size))
    }

    /// Hands the gathered piece to the request (waits while two are queued).
    fn send_piece(&mut self) -> Result<(), RegistryError> {
        if self.piece.is_empty() {
            return Ok(());
        }
        let piece = std::mem::replace(&mut self.piece, Vec::with_capacity(self.piece_size));
        let queued = self
            .pieces
            .as_ref()
            .is_some_and(|queue| queue.blocking_send(Bytes::from(piece)).is_ok());
        if queued {
            return Ok(());
        }
        // The thread ended: its error says why.
        self.pieces = None;
        self.digest = None;
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
        let n = buf.len().min(self.piece_size - self.piece.len());
        self.piece.extend_from_slice(&buf[..n]);
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        if self.piece.len() == self.piece_size {
            self.send_piece().map_err(io::Error::other)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for StreamingUpload {
    fn drop(&mut self) {
        // Unfinished: the body ends without a digest, so the thread cancels the session; nothing
        // is committed without its digest.
        self.pieces = None;
        self.digest = None;
        let _ = self.join();
    }
}

/// The bytes sent lately, for sending again from where the registry stopped.
#[derive(Default)]
struct Window {
    pieces: VecDeque<Bytes>,
    /// The blob's offset of the first byte kept.
    start: u64,
    /// The blob's offset after the last byte sent.
    end: u64,
}

impl Window {
    fn keep(&mut self, piece: &Bytes) {
        self.end += piece.len() as u64;
        self.pieces.push_back(piece.clone());
        while self.end - self.start > RESEND_WINDOW as u64 && self.pieces.len() > 1 {
            if let Some(old) = self.pieces.pop_front() {
                self.start += old.len() as u64;
            }
        }
    }

    /// The bytes from `offset` on, if they are still kept.
    fn from(&self, offset: u64) -> Option<Vec<Bytes>> {
        if offset < self.start || offset > self.end {
            return None;
        }
        let mut skip = offset - self.start;
        let mut rest = Vec::new();
        for piece in &self.pieces {
            let len = piece.len() as u64;
            if skip >= len {
                skip -= len;
                continue;
            }
            rest.push(piece.slice(skip as usize..));
            skip = 0;
        }
        Some(rest)
    }
}

/// The sending thread: opens the session, streams the body as pack makes it (in more than one
/// `PATCH` only after a broken one), closes the session with the digest.
async fn send_all(
    client: &RegistryClient,
    remote: &RemoteReference,
    queue: tokio::sync::mpsc::Receiver<Bytes>,
    digest: &std::sync::mpsc::Receiver<Digest>,
) -> Result<(), RegistryError> {
    let endpoint = Endpoint {
        client,
        remote,
        blob: "being packed".to_owned(),
    };
    let mut location = endpoint.start().await?;
    let queue = Arc::new(tokio::sync::Mutex::new(queue));
    let window = Arc::new(Mutex::new(Window::default()));
    let mut resend = Vec::new();
    let mut retries_left = client.options.retries;
    loop {
        let failure = match patch(
            &endpoint,
            &location,
            std::mem::take(&mut resend),
            &queue,
            &window,
        )
        .await
        {
            Ok(next) => {
                location = next;
                break;
            }
            Err(failure) => failure,
        };
        if !failure.retriable || retries_left == 0 {
            return Err(failure.error);
        }
        retries_left -= 1;
        let (next, held) = endpoint.status(&location).await?;
        let rest = window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .from(held);
        let Some(rest) = rest else {
            // What the registry lost is no longer here: only packing again can send it.
            return Err(failure.error);
        };
        tracing::warn!(
            "{}; the registry holds {held} bytes of the blob being packed, sending the rest",
            failure.error
        );
        location = next;
        resend = rest;
    }
    // The body ended: with a digest the blob is whole, without one pack gave up on it.
    match digest.recv() {
        Ok(digest) => endpoint.finish(&location, &digest).await,
        Err(_) => {
            endpoint.cancel(&location).await;
            Ok(())
        }
    }
}

/// One streamed `PATCH`: `resend` first, then the pieces as they come, until the writer closes
/// the queue.
async fn patch(
    endpoint: &Endpoint<'_>,
    location: &Url,
    resend: Vec<Bytes>,
    queue: &Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Bytes>>>,
    window: &Arc<Mutex<Window>>,
) -> Result<Url, Failure> {
    let activity = Activity::new();
    let body = {
        let queue = Arc::clone(queue);
        let window = Arc::clone(window);
        let activity = activity.clone();
        let progress = endpoint.client.progress.clone();
        futures_util::stream::iter(resend.into_iter().map(Ok::<Bytes, io::Error>)).chain(
            futures_util::stream::unfold((), move |()| {
                let queue = Arc::clone(&queue);
                let window = Arc::clone(&window);
                let activity = activity.clone();
                let progress = progress.clone();
                async move {
                    let piece = queue.lock().await.recv().await;
                    match piece {
                        Some(piece) => {
                            window
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .keep(&piece);
                            progress.advance(piece.len() as u64);
                            activity.touch();
                            Some((Ok(piece), ()))
                        }
                        None => {
                            activity.body_sent();
                            None
                        }
                    }
                }
            }),
        )
    };
    let action = endpoint.doing("sending");
    let build = |http: &reqwest::Client| {
        http.request(Method::PATCH, location.clone())
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(reqwest::Body::wrap_stream(body))
    };
    let response = endpoint
        .client
        .send_streamed(
            endpoint.remote,
            Access::Push,
            build,
            location,
            &action,
            &activity,
        )
        .await
        .map_err(|error| Failure {
            retriable: matches!(
                error,
                RegistryError::Transport { .. } | RegistryError::TimedOut { .. }
            ),
            error,
        })?;
    let response = endpoint
        .expect(response, StatusCode::ACCEPTED, &action)
        .await?;
    Ok(endpoint.location(location, &response)?)
}
