//! Uploading one blob: `POST` opens a session, then either one streaming `PUT` or resumable
//! `PATCH` chunks go to the session's `Location`.
//!
//! Chunks: each `PATCH` sends `Content-Range: start-end`, and after a broken request
//! `GET <session>` tells how many bytes the registry holds (`Range: 0-<last>`), so the upload goes
//! on from there. A registry that lost the session (or, like Distribution, drops one whose last
//! chunk arrived in part) gets the blob again from the start. Every loop is bounded by
//! [`ClientOptions::retries`].
//!
//! The blob is read from the store without following a symlink and hashed as it goes up
//! (`file_stream.rs`): a corrupt blob aborts its request and the push fails naming it. A `Location`
//! on another origin than the registry's gets the upload without credentials (see `auth.rs`).
//!
//! [`ClientOptions::retries`]: crate::ClientOptions::retries

use std::sync::Arc;

use mkbuild_store::{Descriptor, Digest, Store};
use reqwest::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode, Url};

use crate::auth::{same_origin, Access};
use crate::file_stream::{file_range_stream, UploadCheck};
use crate::http::{Addressed, Request, What};
use crate::stall::Activity;
use crate::{RegistryClient, RegistryError, RemoteReference};

/// A failed request, and whether asking the registry where the upload stands may help.
pub(crate) struct Failure {
    pub(crate) error: RegistryError,
    pub(crate) retriable: bool,
}

impl From<RegistryError> for Failure {
    fn from(error: RegistryError) -> Failure {
        Failure {
            error,
            retriable: false,
        }
    }
}

impl RegistryClient {
    /// Uploads the stored `blob`, in one PUT or in resumable chunks (see the module).
    pub(crate) async fn upload_blob(
        &self,
        store: &Store,
        remote: &RemoteReference,
        blob: &Descriptor,
    ) -> Result<(), RegistryError> {
        let session = Session {
            endpoint: Endpoint {
                client: self,
                remote,
                blob: format!("`{}`", blob.digest),
            },
            store,
            blob,
            check: UploadCheck::new(blob.digest.clone(), blob.size),
        };
        let result = match self.options.chunk_size {
            None => session.upload_in_one_put().await,
            Some(chunk) => session.upload_in_chunks(chunk.max(1)).await,
        };
        // A corrupt local blob explains whatever the aborted request then looked like.
        match session.check.mismatch() {
            Some(actual) => Err(RegistryError::CorruptLocalBlob {
                digest: blob.digest.clone(),
                path: store.blob_path(&blob.digest),
                actual,
            }),
            None => result,
        }
    }
}

/// The requests of one blob's upload.
struct Session<'a> {
    endpoint: Endpoint<'a>,
    store: &'a Store,
    blob: &'a Descriptor,
    check: Arc<UploadCheck>,
}

/// The registry side of an upload: the session requests, for a stored blob or one being made.
pub(crate) struct Endpoint<'a> {
    pub(crate) client: &'a RegistryClient,
    pub(crate) remote: &'a RemoteReference,
    /// The blob in messages: its digest, or what it is while its digest is not known yet.
    pub(crate) blob: String,
}

impl<'a> std::ops::Deref for Session<'a> {
    type Target = Endpoint<'a>;

    fn deref(&self) -> &Endpoint<'a> {
        &self.endpoint
    }
}

impl Session<'_> {
    fn digest(&self) -> &Digest {
        &self.blob.digest
    }

    /// One streaming PUT; a broken one is sent again whole (a PUT cannot be resumed).
    async fn upload_in_one_put(&self) -> Result<(), RegistryError> {
        let size = self.blob.size;
        let mut retries_left = self.client.options.retries;
        loop {
            let location = self.start().await?;
            let mut url = location.clone();
            url.query_pairs_mut()
                .append_pair("digest", self.digest().as_str());
            let error = match self.send_range(&url, Method::PUT, 0, size).await {
                Ok(response) if response.status() == StatusCode::CREATED => return Ok(()),
                Ok(response) => {
                    self.client
                        .status_error(
                            &self.remote.registry,
                            &self.action(),
                            Some(self.addressed()),
                            response,
                        )
                        .await
                }
                Err(failure) => failure.error,
            };
            if self.check.mismatch().is_some() {
                self.cancel(&location).await;
                return Err(error);
            }
            let retriable = match &error {
                RegistryError::Transport { .. } | RegistryError::TimedOut { .. } => true,
                RegistryError::Status { status, .. } => *status >= 500,
                _ => false,
            };
            if !retriable || retries_left == 0 {
                return Err(error);
            }
            retries_left -= 1;
            // The registry may have taken the whole blob before the answer was lost.
            if self
                .client
                .blob_exists(self.remote, self.digest())
                .await
                .unwrap_or(false)
            {
                return Ok(());
            }
            tracing::warn!("{error}; sending `{}` again", self.digest());
        }
    }

    async fn upload_in_chunks(&self, chunk: u64) -> Result<(), RegistryError> {
        let size = self.blob.size;
        let digest = self.digest();
        let mut location = self.start().await?;
        let mut offset = 0u64;
        let mut retries_left = self.client.options.retries;
        while offset < size {
            let end = offset.saturating_add(chunk).min(size);
            let failure = match self.send_chunk(&location, offset, end).await {
                Ok(next) => {
                    location = next;
                    offset = end;
                    continue;
                }
                Err(failure) => failure,
            };
            if self.check.mismatch().is_some() {
                self.cancel(&location).await;
                return Err(failure.error);
            }
            if !failure.retriable || retries_left == 0 {
                return Err(failure.error);
            }
            retries_left -= 1;
            match self.status(&location).await {
                Ok((next, held)) if held <= size => {
                    tracing::warn!(
                        "{}; the registry holds {held} of {size} bytes of `{digest}`, resuming there",
                        failure.error
                    );
                    location = next;
                    offset = held;
                }
                _ => {
                    tracing::warn!(
                        "{}; the registry dropped the upload of `{digest}`, starting it again",
                        failure.error
                    );
                    location = self.start().await?;
                    offset = 0;
                }
            }
        }
        if size == 0 {
            // No chunk was read: the empty blob is checked here (its size was, before the push).
            let _ = self.check.feed(0, &[]);
        }
        if !self.check.verified() {
            self.cancel(&location).await;
            return Err(RegistryError::Status {
                registry: self.remote.registry.clone(),
                action: self.action(),
                status: 0,
                message: "the blob was not read to its end; nothing was committed".to_owned(),
            });
        }
        self.finish(&location, self.digest()).await
    }

    fn open(&self) -> Result<std::fs::File, RegistryError> {
        Ok(self.store.open_blob(self.digest())?)
    }
    /// Bytes `start..end` of the blob to `url` with `method`, streamed and hashed.
    async fn send_range(
        &self,
        url: &Url,
        method: Method,
        start: u64,
        end: u64,
    ) -> Result<reqwest::Response, Failure> {
        let activity = Activity::new();
        let stream = file_range_stream(
            self.open()?,
            start,
            end - start,
            self.client.progress.clone(),
            self.check.clone(),
            activity.clone(),
        )
        .map_err(|source| RegistryError::Io {
            path: self.store.blob_path(self.digest()),
            cause: source,
        })?;
        let action = self.action();
        let build = |http: &reqwest::Client| {
            let mut builder = http
                .request(method, url.clone())
                .header(CONTENT_TYPE, "application/octet-stream")
                .header(CONTENT_LENGTH, end - start);
            if self.client.options.chunk_size.is_some() {
                builder = builder.header("Content-Range", format!("{start}-{}", end.max(1) - 1));
            }
            builder.body(reqwest::Body::wrap_stream(stream))
        };
        self.client
            .send_streamed(self.remote, Access::Push, build, url, &action, &activity)
            .await
            .map_err(|error| Failure {
                retriable: matches!(
                    error,
                    RegistryError::Transport { .. } | RegistryError::TimedOut { .. }
                ),
                error,
            })
    }

    /// `PATCH` bytes `start..end`; the session's next URL.
    async fn send_chunk(&self, location: &Url, start: u64, end: u64) -> Result<Url, Failure> {
        let response = self.send_range(location, Method::PATCH, start, end).await?;
        let action = self.doing("sending a chunk of");
        let response = self.expect(response, StatusCode::ACCEPTED, &action).await?;
        Ok(self.location(location, &response)?)
    }
}

impl Endpoint<'_> {
    pub(crate) fn action(&self) -> String {
        self.doing("uploading")
    }

    /// "`verb` the blob `sha256:...` to `registry/repository`".
    pub(crate) fn doing(&self, verb: &str) -> String {
        format!(
            "{verb} the blob {} to `{}/{}`",
            self.blob, self.remote.registry, self.remote.repository
        )
    }

    pub(crate) fn addressed(&self) -> Addressed<'_> {
        Addressed {
            remote: self.remote,
            access: Access::Push,
            what: What::Other,
        }
    }

    /// `POST /v2/<name>/blobs/uploads/`: a new session's URL.
    pub(crate) async fn start(&self) -> Result<Url, RegistryError> {
        let action = &self.doing("opening an upload of");
        let url = self.client.repository_url(self.remote, "blobs/uploads/")?;
        let request = Request::new(Method::POST, url.clone())
            .header(CONTENT_LENGTH, HeaderValue::from_static("0"));
        let response = self
            .client
            .send(self.remote, Access::Push, request, action)
            .await?;
        let response = self
            .expect(response, StatusCode::ACCEPTED, action)
            .await
            .map_err(|f| f.error)?;
        let location = self.location(&url, &response)?;
        if !same_origin(&location, &self.client.origin(&self.remote.registry)?) {
            tracing::info!(
                "the registry `{}` takes the upload of {} at `{}`; it goes there without credentials",
                self.remote.registry,
                self.blob,
                location.origin().ascii_serialization()
            );
        }
        Ok(location)
    }

    /// `GET <session>`: the session's next URL and how many bytes the registry holds.
    pub(crate) async fn status(&self, location: &Url) -> Result<(Url, u64), RegistryError> {
        let action = &self.doing("asking how much the registry holds of the upload of");
        let response = self
            .client
            .send(
                self.remote,
                Access::Push,
                Request::new(Method::GET, location.clone()),
                action,
            )
            .await?;
        let response = self
            .expect(response, StatusCode::NO_CONTENT, action)
            .await
            .map_err(|f| f.error)?;
        // `Range: 0-<last byte>`; Distribution writes `0-0` for an empty upload too, so a session
        // holding a single byte resumes from 0 and is then refused and restarted.
        let held = response
            .headers()
            .get("Range")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim_start_matches("bytes=").split_once('-'))
            .and_then(|(_, last)| last.trim().parse::<u64>().ok())
            .map_or(0, |last| if last == 0 { 0 } else { last.saturating_add(1) });
        let next = match response.headers().get(LOCATION) {
            Some(_) => self.location(location, &response)?,
            None => location.clone(),
        };
        Ok((next, held))
    }

    /// `PUT <session>?digest=...`: closes the session; the registry checks the digest.
    pub(crate) async fn finish(
        &self,
        location: &Url,
        digest: &Digest,
    ) -> Result<(), RegistryError> {
        let action = &self.doing("closing the upload of");
        let mut url = location.clone();
        url.query_pairs_mut().append_pair("digest", digest.as_str());
        let request =
            Request::new(Method::PUT, url).header(CONTENT_LENGTH, HeaderValue::from_static("0"));
        let response = self
            .client
            .send(self.remote, Access::Push, request, action)
            .await?;
        self.expect(response, StatusCode::CREATED, action)
            .await
            .map_err(|f| f.error)?;
        Ok(())
    }

    /// `DELETE <session>`, best effort: the registry may drop a session it would keep otherwise.
    pub(crate) async fn cancel(&self, location: &Url) {
        let request = Request::new(Method::DELETE, location.clone());
        let _ = self
            .client
            .send(
                self.remote,
                Access::Push,
                request,
                &self.doing("cancelling the upload of"),
            )
            .await;
    }

    pub(crate) async fn expect(
        &self,
        response: reqwest::Response,
        expected: StatusCode,
        action: &str,
    ) -> Result<reqwest::Response, Failure> {
        let status = response.status();
        if status == expected {
            return Ok(response);
        }
        let error = self
            .client
            .status_error(
                &self.remote.registry,
                action,
                Some(self.addressed()),
                response,
            )
            .await;
        Err(Failure {
            error,
            // 404 and 416: the session is gone or out of step (Distribution drops one whose last
            // chunk arrived in part); asking for its status tells which, and what to do.
            retriable: status.is_server_error()
                || status == StatusCode::NOT_FOUND
                || status == StatusCode::RANGE_NOT_SATISFIABLE
                || status == StatusCode::REQUEST_TIMEOUT
                || status == StatusCode::TOO_MANY_REQUESTS,
        })
    }

    /// The `Location` of a response, resolved against the request's URL (it may be relative).
    pub(crate) fn location(
        &self,
        base: &Url,
        response: &reqwest::Response,
    ) -> Result<Url, RegistryError> {
        let invalid = |message: String| RegistryError::Status {
            registry: self.remote.registry.clone(),
            action: self.action(),
            status: response.status().as_u16(),
            message,
        };
        let text = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| invalid("the answer has no `Location` header".to_owned()))?;
        let url = base
            .join(text)
            .map_err(|e| invalid(format!("the `Location` `{text}` is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "the `Location` `{text}` is not an HTTP URL"
            )));
        }
        Ok(url)
    }
}
