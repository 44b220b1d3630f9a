//! Uploading one blob: either one streaming PUT through oci-client, or resumable PATCH chunks.
//!
//! oci-client's chunked push keeps its upload session to itself, so it cannot resume one; the
//! chunked path here speaks the distribution protocol with reqwest: `POST` opens a session, each
//! `PATCH` sends `Content-Range: start-end`, and after a broken request `GET <session>` tells how
//! many bytes the registry holds (`Range: 0-<last>`), so the upload goes on from there. A registry
//! that lost the session (or, like Distribution, drops one whose last chunk arrived in part) gets
//! the blob again from the start. Every loop is bounded by [`ClientOptions::retries`].
//!
//! [`ClientOptions::retries`]: crate::ClientOptions::retries

use std::path::Path;

use futures_util::TryStreamExt as _;
use mkbuild_store::Digest;
use oci_client::errors::OciDistributionError;
use oci_client::RegistryOperation;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{StatusCode, Url};

use crate::client::error_chain;
use crate::file_stream::file_range_stream;
use crate::{RegistryClient, RegistryError, RemoteReference};

/// A failed request, and whether asking the registry where the upload stands may help.
struct Failure {
    error: RegistryError,
    retriable: bool,
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
    /// Uploads the blob in the file at `path`, in one PUT or in resumable chunks (see the module).
    pub(crate) async fn upload_blob(
        &self,
        remote: &RemoteReference,
        path: &Path,
        digest: &Digest,
        size: u64,
    ) -> Result<(), RegistryError> {
        match self.options.chunk_size {
            None => self.upload_in_one_put(remote, path, digest, size).await,
            Some(chunk) => {
                self.upload_in_chunks(remote, path, digest, size, chunk.max(1))
                    .await
            }
        }
    }

    /// One streaming PUT; a broken one is sent again whole (a PUT cannot be resumed).
    async fn upload_in_one_put(
        &self,
        remote: &RemoteReference,
        path: &Path,
        digest: &Digest,
        size: u64,
    ) -> Result<(), RegistryError> {
        let reference = remote.to_oci();
        let action = format!("the upload of `{digest}`");
        let mut retries_left = self.options.retries;
        loop {
            let stream = file_range_stream(path, 0, size, self.progress.clone())
                .await
                .map_err(|source| RegistryError::Io {
                    path: path.to_owned(),
                    source,
                })?
                .map_err(OciDistributionError::from);
            let result = self
                .oci
                .push_blob_stream(&reference, stream, digest.as_str(), Some(size))
                .await;
            let error = match result {
                Ok(_) => return Ok(()),
                Err(e) => self.oci_error(&remote.registry, &action, e),
            };
            let retriable = match &error {
                RegistryError::Transport { .. } => true,
                RegistryError::Status { status, .. } => *status >= 500,
                _ => false,
            };
            if !retriable || retries_left == 0 {
                return Err(error);
            }
            retries_left -= 1;
            // The registry may have taken the whole blob before the answer was lost.
            if self
                .oci
                .blob_exists(&reference, digest.as_str())
                .await
                .unwrap_or(false)
            {
                return Ok(());
            }
            tracing::warn!("{error}; sending `{digest}` again");
        }
    }

    async fn upload_in_chunks(
        &self,
        remote: &RemoteReference,
        path: &Path,
        digest: &Digest,
        size: u64,
        chunk: u64,
    ) -> Result<(), RegistryError> {
        let authorization = self.authorization(remote, RegistryOperation::Push).await?;
        let session = ChunkedSession {
            client: self,
            remote,
            authorization,
        };
        let mut location = session.start().await?;
        let mut offset = 0u64;
        let mut retries_left = self.options.retries;
        while offset < size {
            let end = offset.saturating_add(chunk).min(size);
            let failure = match session.send_chunk(&location, path, offset, end).await {
                Ok(next) => {
                    location = next;
                    offset = end;
                    continue;
                }
                Err(failure) => failure,
            };
            if !failure.retriable || retries_left == 0 {
                return Err(failure.error);
            }
            retries_left -= 1;
            match session.status(&location).await {
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
                    location = session.start().await?;
                    offset = 0;
                }
            }
        }
        session.finish(&location, digest).await
    }

    /// The `Authorization` header for requests oci-client does not make: a bearer token when the
    /// registry hands them out, else basic credentials, else none.
    pub(crate) async fn authorization(
        &self,
        remote: &RemoteReference,
        operation: RegistryOperation,
    ) -> Result<Option<HeaderValue>, RegistryError> {
        let token = self
            .oci
            .auth(&remote.to_oci(), &self.auth(), operation)
            .await
            .map_err(|e| self.oci_error(&remote.registry, "the login", e))?;
        let value = match (token, &self.options.credentials) {
            (Some(token), _) => format!("Bearer {token}"),
            (None, Some(c)) => basic_authorization(&c.username, &c.password),
            (None, None) => return Ok(None),
        };
        HeaderValue::from_str(&value)
            .map(Some)
            .map_err(|_| RegistryError::WrongCredentials {
                registry: remote.registry.clone(),
                username: self
                    .options
                    .credentials
                    .as_ref()
                    .map(|c| c.username.clone())
                    .unwrap_or_default(),
            })
    }
}

pub(crate) fn basic_authorization(username: &str, password: &str) -> String {
    use base64::Engine as _;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    format!("Basic {encoded}")
}

/// One upload session's requests.
struct ChunkedSession<'a> {
    client: &'a RegistryClient,
    remote: &'a RemoteReference,
    authorization: Option<HeaderValue>,
}

impl ChunkedSession<'_> {
    fn base(&self) -> String {
        format!("{}://{}", self.client.scheme(), self.remote.registry)
    }

    fn request(&self, method: reqwest::Method, url: Url) -> reqwest::RequestBuilder {
        let builder = self.client.http.request(method, url);
        match &self.authorization {
            Some(value) => builder.header(AUTHORIZATION, value.clone()),
            None => builder,
        }
    }

    /// `POST /v2/<name>/blobs/uploads/`: a new session's URL.
    async fn start(&self) -> Result<Url, RegistryError> {
        let url = self.url(&format!(
            "{}/v2/{}/blobs/uploads/",
            self.base(),
            self.remote.repository
        ))?;
        let response = self
            .request(reqwest::Method::POST, url.clone())
            .header(CONTENT_LENGTH, "0")
            .send()
            .await
            .map_err(|e| self.transport("open an upload", &e).error)?;
        let response = self
            .expect(response, StatusCode::ACCEPTED, "opening an upload")
            .await
            .map_err(|f| f.error)?;
        self.location(&url, &response)
    }

    /// `PATCH` bytes `start..end` of the file; the session's next URL.
    async fn send_chunk(
        &self,
        location: &Url,
        path: &Path,
        start: u64,
        end: u64,
    ) -> Result<Url, Failure> {
        let stream = file_range_stream(path, start, end - start, self.client.progress.clone())
            .await
            .map_err(|source| RegistryError::Io {
                path: path.to_owned(),
                source,
            })?;
        let response = self
            .request(reqwest::Method::PATCH, location.clone())
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(CONTENT_LENGTH, end - start)
            .header("Content-Range", format!("{start}-{}", end - 1))
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .map_err(|e| self.transport("send a chunk", &e))?;
        let response = self
            .expect(response, StatusCode::ACCEPTED, "a chunk")
            .await?;
        Ok(self.location(location, &response)?)
    }

    /// `GET <session>`: the session's next URL and how many bytes the registry holds.
    async fn status(&self, location: &Url) -> Result<(Url, u64), RegistryError> {
        let response = self
            .request(reqwest::Method::GET, location.clone())
            .send()
            .await
            .map_err(|e| self.transport("ask for the upload status", &e).error)?;
        let response = self
            .expect(
                response,
                StatusCode::NO_CONTENT,
                "the upload status request",
            )
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
            .map_or(0, |last| if last == 0 { 0 } else { last + 1 });
        let next = match response.headers().get(LOCATION) {
            Some(_) => self.location(location, &response)?,
            None => location.clone(),
        };
        Ok((next, held))
    }

    /// `PUT <session>?digest=...`: closes the session; the registry checks the digest.
    async fn finish(&self, location: &Url, digest: &Digest) -> Result<(), RegistryError> {
        let mut url = location.clone();
        url.query_pairs_mut().append_pair("digest", digest.as_str());
        let response = self
            .request(reqwest::Method::PUT, url)
            .header(CONTENT_LENGTH, "0")
            .send()
            .await
            .map_err(|e| self.transport("close the upload", &e).error)?;
        self.expect(response, StatusCode::CREATED, "closing the upload")
            .await
            .map_err(|f| f.error)?;
        Ok(())
    }

    async fn expect(
        &self,
        response: reqwest::Response,
        expected: StatusCode,
        action: &str,
    ) -> Result<reqwest::Response, Failure> {
        let status = response.status();
        if status == expected {
            return Ok(response);
        }
        if status == StatusCode::UNAUTHORIZED {
            return Err(self.client.unauthorized(&self.remote.registry).into());
        }
        let body = response.text().await.unwrap_or_default();
        Err(Failure {
            error: RegistryError::Status {
                registry: self.remote.registry.clone(),
                action: action.to_owned(),
                status: status.as_u16(),
                message: body.chars().take(500).collect(),
            },
            // 404 and 416: the session is gone or out of step (Distribution drops one whose last
            // chunk arrived in part); asking for its status tells which, and what to do.
            retriable: status.is_server_error()
                || status == StatusCode::NOT_FOUND
                || status == StatusCode::RANGE_NOT_SATISFIABLE
                || status == StatusCode::REQUEST_TIMEOUT
                || status == StatusCode::TOO_MANY_REQUESTS,
        })
    }

    fn transport(&self, action: &str, error: &reqwest::Error) -> Failure {
        Failure {
            error: RegistryError::Transport {
                registry: self.remote.registry.clone(),
                action: action.to_owned(),
                message: error_chain(error),
            },
            retriable: true,
        }
    }

    fn url(&self, text: &str) -> Result<Url, RegistryError> {
        Url::parse(text).map_err(|e| RegistryError::InvalidReference {
            input: self.remote.to_string(),
            reason: format!("`{text}` is not a URL: {e}"),
        })
    }

    /// The `Location` of a response, resolved against the request's URL (it may be relative).
    fn location(&self, base: &Url, response: &reqwest::Response) -> Result<Url, RegistryError> {
        let invalid = |message: String| RegistryError::Status {
            registry: self.remote.registry.clone(),
            action: "an upload request".to_owned(),
            status: response.status().as_u16(),
            message,
        };
        let text = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| invalid("the answer has no `Location` header".to_owned()))?;
        base.join(text)
            .map_err(|e| invalid(format!("the `Location` `{text}` is not a URL: {e}")))
    }
}
