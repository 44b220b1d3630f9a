//! The client: one reqwest client for every request (the distribution protocol is this crate's
//! own, see `http.rs` and `distribution.rs`), driven by a private tokio runtime so that callers stay
//! synchronous.

use std::sync::Arc;
use std::time::Duration;

use mkbuild_progress::{NoProgress, Progress};

use crate::auth::AuthCache;
use crate::{Credentials, RegistryError};

/// How many blobs go up or come down at once by default.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// How long a request may make no progress before it fails, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a broken transfer is resumed (or restarted) before giving up, by default.
pub const DEFAULT_RETRIES: u32 = 3;

/// How to talk to a registry.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Plain HTTP instead of TLS (for a registry on the local machine or a trusted network).
    pub plain_http: bool,
    /// Credentials for the registry; `None` for anonymous access.
    pub credentials: Option<Credentials>,
    /// Blobs transferred at once.
    pub concurrency: usize,
    /// `None`: each blob goes up in one streaming PUT. `Some(n)`: in PATCH chunks of `n` bytes,
    /// which resume from the last chunk the registry acknowledged after an interruption.
    pub chunk_size: Option<u64>,
    /// Resumptions (or restarts) of one broken transfer before giving up.
    pub retries: u32,
    /// How long any request may make no progress (no answer, or a body slower than 1 KiB per
    /// timeout) before it fails; also the connect timeout.
    pub timeout: Duration,
    /// Pull: hash each blob the store has already (its size is always checked) and download again
    /// one that does not match.
    pub verify_existing: bool,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            plain_http: false,
            credentials: None,
            concurrency: DEFAULT_CONCURRENCY,
            chunk_size: None,
            retries: DEFAULT_RETRIES,
            timeout: DEFAULT_TIMEOUT,
            verify_existing: false,
        }
    }
}

/// A client for OCI registries (the distribution protocol), for pushing and pulling ModelKits.
pub struct RegistryClient {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) http: reqwest::Client,
    pub(crate) options: ClientOptions,
    pub(crate) auth_cache: AuthCache,
    /// Told the bytes of a push or pull, then each byte sent or received (or found present).
    pub(crate) progress: Arc<dyn Progress>,
}

impl RegistryClient {
    /// A client with `options`, and its own network runtime; fails when the runtime or the HTTP
    /// client cannot be set up.
    pub fn new(options: ClientOptions) -> Result<RegistryClient, RegistryError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| RegistryError::Transport {
                registry: String::new(),
                action: "starting the network runtime".to_owned(),
                message: e.to_string(),
            })?;
        let concurrency = options.concurrency.max(1);
        let timeout = if options.timeout.is_zero() {
            DEFAULT_TIMEOUT
        } else {
            options.timeout
        };
        // Redirects: reqwest's default policy (at most 10) strips `Authorization` on a change of
        // host, port or scheme; see `auth.rs`. No `read_timeout`: see `stall.rs`.
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .user_agent(concat!("mkbuild/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RegistryError::Transport {
                registry: String::new(),
                action: "setting up the HTTP client".to_owned(),
                message: e.to_string(),
            })?;
        Ok(RegistryClient {
            runtime,
            http,
            options: ClientOptions {
                concurrency,
                timeout,
                ..options
            },
            auth_cache: AuthCache::default(),
            progress: Arc::new(NoProgress),
        })
    }

    /// Reports the bytes of each push and pull to `progress`.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> RegistryClient {
        self.progress = progress;
        self
    }

    /// The options the client was made with.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    pub(crate) fn scheme(&self) -> &'static str {
        if self.options.plain_http {
            "http"
        } else {
            "https"
        }
    }

    /// A `401`: the credentials are wrong, or there are none.
    pub(crate) fn unauthorized(
        &self,
        registry: &str,
        credentials: Option<&Credentials>,
    ) -> RegistryError {
        match credentials {
            Some(c) => RegistryError::WrongCredentials {
                registry: registry.to_owned(),
                username: c.username.clone(),
            },
            None => RegistryError::LoginRequired {
                registry: registry.to_owned(),
            },
        }
    }
}

/// An error and its causes on one line (reqwest hides the useful part in `source()`).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
