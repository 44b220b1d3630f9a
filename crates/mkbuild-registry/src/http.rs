//! Sending one request to a registry: credentials attached by origin (see `auth.rs`), a challenge
//! answered once, progress required (see `stall.rs`), error answers read to a small cap.

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode, Url};

use crate::auth::{same_origin, Access, Challenge};
use crate::client::error_chain;
use crate::stall::{unless_stalled, Activity, Body, BodyError};
use crate::{RegistryClient, RegistryError, RemoteReference};

/// Of an error answer, the bytes read (the rest is never read) and the characters shown.
const ERROR_BODY_CAP: usize = 16 * 1024;
const ERROR_SHOWN_CHARS: usize = 500;

/// A request that can be sent again after a challenge (no streamed body).
pub(crate) struct Request {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
}

impl Request {
    pub(crate) fn new(method: Method, url: Url) -> Request {
        Request {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
        }
    }

    pub(crate) fn header(mut self, name: reqwest::header::HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }
}

impl RegistryClient {
    /// `scheme://registry/`, the origin the registry's credentials belong to.
    pub(crate) fn origin(&self, registry: &str) -> Result<Url, RegistryError> {
        let text = format!("{}://{registry}/", self.scheme());
        Url::parse(&text).map_err(|e| RegistryError::InvalidReference {
            input: registry.to_owned(),
            reason: format!("`{text}` is not a URL: {e}"),
        })
    }

    /// `scheme://registry/v2/<repository>/<path>`.
    pub(crate) fn repository_url(
        &self,
        remote: &RemoteReference,
        path: &str,
    ) -> Result<Url, RegistryError> {
        let text = format!(
            "{}://{}/v2/{}/{path}",
            self.scheme(),
            remote.registry,
            remote.repository
        );
        Url::parse(&text).map_err(|e| RegistryError::InvalidReference {
            input: remote.to_string(),
            reason: format!("`{text}` is not a URL: {e}"),
        })
    }

    /// The learned `Authorization` for `url`, if `url` has the registry's origin.
    fn authorization_for(
        &self,
        remote: &RemoteReference,
        access: Access,
        url: &Url,
    ) -> Result<Option<HeaderValue>, RegistryError> {
        if !same_origin(url, &self.origin(&remote.registry)?) {
            return Ok(None);
        }
        Ok(self
            .auth_cache
            .get(&remote.registry, &access.scope(&remote.repository)))
    }

    /// Sends `request`; on a `401` from the registry's origin, answers its challenge and sends it
    /// once more. The answer is returned whatever its status, except a final `401`.
    pub(crate) async fn send(
        &self,
        remote: &RemoteReference,
        access: Access,
        request: Request,
        action: &str,
    ) -> Result<reqwest::Response, RegistryError> {
        let scope = access.scope(&remote.repository);
        let mut answered = false;
        loop {
            let sent_authorization = self.authorization_for(remote, access, &request.url)?;
            let mut builder = self
                .http
                .request(request.method.clone(), request.url.clone())
                .headers(request.headers.clone());
            if let Some(value) = &sent_authorization {
                builder = builder.header(AUTHORIZATION, value.clone());
            }
            if let Some(body) = &request.body {
                builder = builder.body(body.clone());
            }
            let response = self
                .send_built(&remote.registry, action, builder, &Activity::new())
                .await?;
            let from_registry = same_origin(response.url(), &self.origin(&remote.registry)?);
            if response.status() != StatusCode::UNAUTHORIZED || !from_registry {
                return Ok(response);
            }
            let credentials = self.options.credentials.as_ref();
            let Some(challenge) = Challenge::of(&response).filter(|_| !answered) else {
                return Err(self.unauthorized(&remote.registry, credentials));
            };
            answered = true;
            let Some(value) = self
                .answer_challenge(&remote.registry, &scope, &challenge, credentials)
                .await?
            else {
                return Err(self.unauthorized(&remote.registry, credentials));
            };
            if sent_authorization.as_ref() == Some(&value) {
                return Err(self.unauthorized(&remote.registry, credentials));
            }
            self.auth_cache.set(&remote.registry, &scope, value);
        }
    }

    /// Sends a request whose body streams from a file (it cannot be sent twice): with the
    /// `Authorization` learned before, if `url` has the registry's origin. `activity` is touched
    /// by the body stream.
    pub(crate) async fn send_streamed(
        &self,
        remote: &RemoteReference,
        access: Access,
        builder: impl FnOnce(&reqwest::Client) -> reqwest::RequestBuilder,
        url: &Url,
        action: &str,
        activity: &Activity,
    ) -> Result<reqwest::Response, RegistryError> {
        let mut builder = builder(&self.http);
        if let Some(value) = self.authorization_for(remote, access, url)? {
            builder = builder.header(AUTHORIZATION, value);
        }
        let response = self
            .send_built(&remote.registry, action, builder, activity)
            .await?;
        // A 401 elsewhere (an upload location on storage) is that server's, not a login problem.
        let from_registry = same_origin(response.url(), &self.origin(&remote.registry)?);
        if response.status() == StatusCode::UNAUTHORIZED && from_registry {
            return Err(self.unauthorized(&remote.registry, self.options.credentials.as_ref()));
        }
        Ok(response)
    }

    /// Sends a built request until its answer's head arrives, failing when `activity` shows no
    /// progress for the timeout.
    pub(crate) async fn send_built(
        &self,
        registry: &str,
        action: &str,
        builder: reqwest::RequestBuilder,
        activity: &Activity,
    ) -> Result<reqwest::Response, RegistryError> {
        activity.touch();
        match unless_stalled(builder.send(), activity, self.options.timeout).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(self.transport_error(registry, action, &e)),
            Err(_) => Err(self.timed_out(registry, action)),
        }
    }

    /// A body of at most `cap` bytes (`what` names it in the error).
    pub(crate) async fn read_capped(
        &self,
        registry: &str,
        action: &str,
        response: reqwest::Response,
        cap: u64,
        what: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        match Body::new(response, self.options.timeout)
            .read_capped(cap)
            .await
        {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(RegistryError::TooLarge {
                registry: registry.to_owned(),
                what: what.to_owned(),
                limit: cap,
            }),
            Err(e) => Err(self.body_error(registry, action, e)),
        }
    }

    /// The error for an answer with an unexpected status; reads at most a few KiB of its body.
    pub(crate) async fn status_error(
        &self,
        registry: &str,
        action: &str,
        response: reqwest::Response,
    ) -> RegistryError {
        let status = response.status();
        let from_registry = self
            .origin(registry)
            .is_ok_and(|origin| same_origin(response.url(), &origin));
        if status == StatusCode::UNAUTHORIZED && from_registry {
            return self.unauthorized(registry, self.options.credentials.as_ref());
        }
        let body = Body::new(response, self.options.timeout)
            .read_prefix(ERROR_BODY_CAP)
            .await;
        RegistryError::Status {
            registry: registry.to_owned(),
            action: action.to_owned(),
            status: status.as_u16(),
            // Control characters (terminal escapes of a hostile registry) are shown as spaces.
            message: String::from_utf8_lossy(&body)
                .trim()
                .chars()
                .take(ERROR_SHOWN_CHARS)
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        }
    }

    pub(crate) fn body_error(
        &self,
        registry: &str,
        action: &str,
        error: BodyError,
    ) -> RegistryError {
        match error {
            BodyError::Stalled => self.timed_out(registry, action),
            BodyError::Transport(e) => self.transport_error(registry, action, &e),
        }
    }

    pub(crate) fn transport_error(
        &self,
        registry: &str,
        action: &str,
        error: &reqwest::Error,
    ) -> RegistryError {
        RegistryError::Transport {
            registry: registry.to_owned(),
            action: action.to_owned(),
            message: error_chain(error),
        }
    }

    pub(crate) fn timed_out(&self, registry: &str, action: &str) -> RegistryError {
        RegistryError::TimedOut {
            registry: registry.to_owned(),
            action: action.to_owned(),
            seconds: self.options.timeout.as_secs(),
        }
    }
}
