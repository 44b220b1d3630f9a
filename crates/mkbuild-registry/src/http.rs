//! Sending one request to a registry: credentials attached by origin (see `auth.rs`), a challenge
//! answered once, progress required (see `stall.rs`), error answers read to a small cap.

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode, Url};

use mkbuild_store::Digest;

use crate::auth::{same_origin, Access, Challenge};
use crate::client::error_chain;
use crate::remote_reference::Target;
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
        let text = format!("{}://{registry}/", self.scheme(registry));
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
            self.scheme(&remote.registry),
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
                return Err(self.unauthorized(
                    &remote.registry,
                    Some(&remote.repository),
                    credentials,
                ));
            };
            answered = true;
            let Some(value) = self
                .answer_challenge(&remote.registry, &scope, &challenge, credentials)
                .await?
            else {
                return Err(self.unauthorized(
                    &remote.registry,
                    Some(&remote.repository),
                    credentials,
                ));
            };
            if sent_authorization.as_ref() == Some(&value) {
                return Err(self.unauthorized(
                    &remote.registry,
                    Some(&remote.repository),
                    credentials,
                ));
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
            return Err(self.unauthorized(
                &remote.registry,
                Some(&remote.repository),
                self.options.credentials.as_ref(),
            ));
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

    /// The error for an answer with an unexpected status, read as what `addressed` asked for;
    /// reads at most a few KiB of its body.
    pub(crate) async fn status_error(
        &self,
        registry: &str,
        action: &str,
        addressed: Option<Addressed<'_>>,
        response: reqwest::Response,
    ) -> RegistryError {
        let status = response.status();
        let from_registry = self
            .origin(registry)
            .is_ok_and(|origin| same_origin(response.url(), &origin));
        let repository = addressed.as_ref().map(|a| a.remote.repository.as_str());
        if status == StatusCode::UNAUTHORIZED && from_registry {
            return self.unauthorized(registry, repository, self.options.credentials.as_ref());
        }
        let body = Body::new(response, self.options.timeout)
            .read_prefix(ERROR_BODY_CAP)
            .await;
        let codes = ErrorCodes::parse(&body);
        if let Some(error) = addressed.and_then(|a| a.error_for(status, &codes)) {
            return error;
        }
        RegistryError::Status {
            registry: registry.to_owned(),
            action: action.to_owned(),
            status: status.as_u16(),
            message: codes.shown(&body),
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
        let message = error_chain(error);
        let (registry, action) = (registry.to_owned(), action.to_owned());
        match tls_failure(&message) {
            Some(TlsFailure::PlainHttp) => RegistryError::PlainHttpRegistry { registry, action },
            Some(TlsFailure::Untrusted(reason)) => RegistryError::UntrustedCertificate {
                registry,
                action,
                reason,
            },
            Some(TlsFailure::ClientCertificate(reason)) => {
                RegistryError::ClientCertificateRefused {
                    registry,
                    action,
                    reason,
                }
            }
            None => RegistryError::Transport {
                registry,
                action,
                message,
            },
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

/// What a request asked of a repository: how its error answer is read (a `404` for a manifest
/// is a missing tag, for a blob a missing blob).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Addressed<'a> {
    pub remote: &'a RemoteReference,
    pub access: Access,
    pub what: What<'a>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum What<'a> {
    /// The manifest `remote` names.
    Manifest,
    /// A blob of the repository.
    Blob(&'a Digest),
    /// Anything else in the repository (uploads).
    Other,
}

impl Addressed<'_> {
    /// The error that says what is missing or refused, when the status or the distribution error
    /// codes tell; `None` for the others.
    fn error_for(&self, status: StatusCode, codes: &ErrorCodes) -> Option<RegistryError> {
        let registry = self.remote.registry.clone();
        let repository = self.remote.repository.clone();
        if codes.has("NAME_UNKNOWN") {
            return Some(RegistryError::RepositoryNotFound {
                registry,
                repository,
            });
        }
        if codes.has("DENIED") || status == StatusCode::FORBIDDEN {
            return Some(RegistryError::Denied {
                registry,
                repository,
                access: match self.access {
                    Access::Pull => "pull",
                    Access::Push => "push",
                },
                status: status.as_u16(),
                detail: codes.summary(),
            });
        }
        if let Some(digest) = codes.blob_named_by_pushed_manifest() {
            return Some(RegistryError::BlobNotFound {
                registry,
                repository,
                digest,
                at_push: true,
            });
        }
        let not_found = status == StatusCode::NOT_FOUND;
        match self.what {
            What::Manifest if codes.has("MANIFEST_UNKNOWN") || not_found => {
                Some(match &self.remote.target {
                    Target::Tag(tag) => RegistryError::TagNotFound {
                        registry,
                        repository,
                        tag: tag.clone(),
                        tags: Vec::new(),
                    },
                    Target::Digest(digest) => RegistryError::ManifestNotFound {
                        registry,
                        repository,
                        digest: digest.clone(),
                    },
                })
            }
            What::Blob(digest) if codes.has("BLOB_UNKNOWN") || not_found => {
                Some(RegistryError::BlobNotFound {
                    registry,
                    repository,
                    digest: digest.clone(),
                    at_push: false,
                })
            }
            _ => None,
        }
    }
}

/// The `errors` of a distribution error body (`{"errors":[{"code":...,"message":...}]}`);
/// empty when the body is not one.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ErrorCodes {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(Debug, serde::Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    detail: serde_json::Value,
}

impl ErrorCodes {
    pub(crate) fn parse(body: &[u8]) -> ErrorCodes {
        serde_json::from_slice(body).unwrap_or_default()
    }

    pub(crate) fn has(&self, code: &str) -> bool {
        self.errors
            .iter()
            .any(|e| e.code.eq_ignore_ascii_case(code))
    }

    /// `MANIFEST_BLOB_UNKNOWN` with the digest as its detail (Distribution's answer to a manifest
    /// whose blobs the repository lacks).
    fn blob_named_by_pushed_manifest(&self) -> Option<Digest> {
        self.errors
            .iter()
            .filter(|e| e.code.eq_ignore_ascii_case("MANIFEST_BLOB_UNKNOWN"))
            .find_map(|e| e.detail.as_str()?.parse().ok())
    }

    /// `CODE: message` of each error, `; `-separated, cleaned for a terminal.
    fn summary(&self) -> String {
        let text = self
            .errors
            .iter()
            .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
                (false, false) => format!("{}: {}", e.code, e.message),
                (false, true) => e.code.clone(),
                _ => e.message.clone(),
            })
            .collect::<Vec<_>>()
            .join("; ");
        printable(&text)
    }

    /// The registry's words: the error codes when the body has them, else the body.
    fn shown(&self, body: &[u8]) -> String {
        if self.errors.is_empty() {
            printable(&String::from_utf8_lossy(body))
        } else {
            self.summary()
        }
    }
}

/// A registry's text for a terminal: trimmed, cut, control characters (terminal escapes of a
/// hostile registry) shown as spaces.
fn printable(text: &str) -> String {
    text.trim()
        .chars()
        .take(ERROR_SHOWN_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// What went wrong in a TLS handshake, read from the transport's error chain (rustls's words;
/// reqwest wraps them in `hyper` and `io` errors without a type to match).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TlsFailure {
    /// The server answered the handshake with plain HTTP.
    PlainHttp,
    /// The server's certificate did not verify; the verifier's reason.
    Untrusted(String),
    /// The server refused the handshake over the client certificate; its alert.
    ClientCertificate(String),
}

pub(crate) fn tls_failure(message: &str) -> Option<TlsFailure> {
    // An HTTP answer read as a TLS record has the content type `H` (0x48), which rustls rejects.
    if message.contains("InvalidContentType") {
        return Some(TlsFailure::PlainHttp);
    }
    if let Some(at) = message.find("invalid peer certificate") {
        let reason = message[at..]
            .split(": ")
            .take(2)
            .collect::<Vec<_>>()
            .join(": ");
        return Some(TlsFailure::Untrusted(reason));
    }
    for alert in [
        "CertificateRequired",
        "BadCertificate",
        "UnknownCA",
        "CertificateUnknown",
    ] {
        if message.contains(&format!("received fatal alert: {alert}")) {
            return Some(TlsFailure::ClientCertificate(format!(
                "received fatal alert: {alert}"
            )));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(text: &str) -> RemoteReference {
        RemoteReference::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn read(addressed: Addressed<'_>, status: u16, body: &str) -> Option<String> {
        let status = StatusCode::from_u16(status).unwrap_or_else(|e| panic!("{e}"));
        addressed
            .error_for(status, &ErrorCodes::parse(body.as_bytes()))
            .map(|e| e.to_string())
    }

    #[test]
    fn error_codes_and_statuses_say_what_is_missing_or_refused() {
        let tagged = remote("registry.example.com/org/x:v1");
        let manifest = |access| Addressed {
            remote: &tagged,
            access,
            what: What::Manifest,
        };
        assert_eq!(
            read(
                manifest(Access::Pull),
                404,
                r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#
            )
            .as_deref(),
            Some("repository `org/x` not found at `registry.example.com`; check its name (a push creates it)")
        );
        // A 404 without a body is still a missing tag.
        let message = read(manifest(Access::Pull), 404, "").unwrap_or_default();
        assert!(
            message.starts_with("tag `v1` not found in `registry.example.com/org/x`"),
            "{message}"
        );
        // Harbor and others answer DENIED, with 403 or 401-less statuses.
        assert_eq!(
            read(
                manifest(Access::Push),
                403,
                r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#
            )
            .as_deref(),
            Some(
                "the registry `registry.example.com` denied push access to `org/x` (403: DENIED: \
                 requested access to the resource is denied); log in as a user allowed to push it \
                 with `mkbuild login registry.example.com`, or check the repository's name"
            )
        );
        let digest = Digest::of(b"layer");
        let blob = Addressed {
            remote: &tagged,
            access: Access::Pull,
            what: What::Blob(&digest),
        };
        let message =
            read(blob, 404, r#"{"errors":[{"code":"BLOB_UNKNOWN"}]}"#).unwrap_or_default();
        assert!(
            message.starts_with(&format!(
                "blob `{digest}` not found in `registry.example.com/org/x`"
            )),
            "{message}"
        );
        // A manifest pushed before its blobs names the missing one.
        let pushed = Addressed {
            remote: &tagged,
            access: Access::Push,
            what: What::Other,
        };
        let body = format!(
            r#"{{"errors":[{{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry","detail":"{digest}"}}]}}"#
        );
        let message = read(pushed, 400, &body).unwrap_or_default();
        assert!(
            message.contains("the pushed manifest names it"),
            "{message}"
        );
        // Anything else stays a status error, with the registry's words cleaned for a terminal.
        assert_eq!(read(pushed, 500, "oops"), None);
        assert_eq!(
            ErrorCodes::parse(b"x").shown(b"  bad\x1b[31m gateway \n"),
            "bad [31m gateway"
        );
    }

    #[test]
    fn tls_failures_are_read_from_the_error_chain() {
        // reqwest 0.13 over rustls 0.23, as a TLS handshake with an HTTP server fails.
        let plain = "error sending request for url (https://registry.example.com:5000/v2/): client error (Connect): received corrupt message of type InvalidContentType";
        assert_eq!(tls_failure(plain), Some(TlsFailure::PlainHttp));
        let error = RegistryError::PlainHttpRegistry {
            registry: "registry.example.com:5000".to_owned(),
            action: "pulling the manifest `registry.example.com:5000/org/x:1`".to_owned(),
        }
        .to_string();
        assert!(
            error.starts_with(
                "the registry `registry.example.com:5000` answers plain HTTP, not HTTPS"
            ),
            "{error}"
        );
        assert!(error.contains("use `--plain-http`"), "{error}");
        let untrusted = "error sending request for url (https://r/v2/): client error (Connect): invalid peer certificate: UnknownIssuer";
        assert_eq!(
            tls_failure(untrusted),
            Some(TlsFailure::Untrusted(
                "invalid peer certificate: UnknownIssuer".to_owned()
            ))
        );
        assert_eq!(
            tls_failure("client error (Connect): received fatal alert: CertificateRequired"),
            Some(TlsFailure::ClientCertificate(
                "received fatal alert: CertificateRequired".to_owned()
            ))
        );
        assert_eq!(
            tls_failure("tcp connect error: Connection refused (os error 111)"),
            None
        );
    }
}
