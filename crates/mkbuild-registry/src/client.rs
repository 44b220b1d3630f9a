//! The client: one oci-client `Client` (auth, HEAD, manifests, streaming PUT, ranged GET) and one
//! reqwest client for what oci-client does not expose (resumable chunked uploads, login checks),
//! driven by a private tokio runtime so that callers stay synchronous.

use std::sync::Arc;
use std::time::Duration;

use mkbuild_progress::{NoProgress, Progress};

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;

use crate::{Credentials, RegistryError};

/// How many blobs go up or come down at once by default.
pub const DEFAULT_CONCURRENCY: usize = 4;
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
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            plain_http: false,
            credentials: None,
            concurrency: DEFAULT_CONCURRENCY,
            chunk_size: None,
            retries: DEFAULT_RETRIES,
        }
    }
}

/// A client for OCI registries (the distribution protocol), for pushing and pulling ModelKits.
pub struct RegistryClient {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) oci: oci_client::Client,
    pub(crate) http: reqwest::Client,
    pub(crate) options: ClientOptions,
    /// Told the bytes of a push or pull, then each byte sent or received (or found present).
    pub(crate) progress: Arc<dyn Progress>,
}

impl RegistryClient {
    pub fn new(options: ClientOptions) -> Result<RegistryClient, RegistryError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| RegistryError::Transport {
                registry: String::new(),
                action: "start the network runtime".to_owned(),
                message: e.to_string(),
            })?;
        let concurrency = options.concurrency.max(1);
        let oci = oci_client::Client::new(ClientConfig {
            protocol: if options.plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            // One streaming PUT per blob; resumable chunking is this crate's own (see upload.rs).
            use_monolithic_push: true,
            max_concurrent_upload: concurrency,
            max_concurrent_download: concurrency,
            connect_timeout: Some(Duration::from_secs(30)),
            ..ClientConfig::default()
        });
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .user_agent(concat!("mkbuild/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RegistryError::Transport {
                registry: String::new(),
                action: "set up the HTTP client".to_owned(),
                message: e.to_string(),
            })?;
        Ok(RegistryClient {
            runtime,
            oci,
            http,
            options: ClientOptions {
                concurrency,
                ..options
            },
            progress: Arc::new(NoProgress),
        })
    }

    /// Reports the bytes of each push and pull to `progress`.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> RegistryClient {
        self.progress = progress;
        self
    }

    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    pub(crate) fn auth(&self) -> RegistryAuth {
        match &self.options.credentials {
            Some(c) => RegistryAuth::Basic(c.username.clone(), c.password.clone()),
            None => RegistryAuth::Anonymous,
        }
    }

    pub(crate) fn scheme(&self) -> &'static str {
        if self.options.plain_http {
            "http"
        } else {
            "https"
        }
    }

    /// Turns an oci-client error into one that says what to do; `action` reads after "answered".
    pub(crate) fn oci_error(
        &self,
        registry: &str,
        action: &str,
        error: OciDistributionError,
    ) -> RegistryError {
        let status = match &error {
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => Some(401),
            OciDistributionError::ServerError { code, .. } => Some(*code),
            OciDistributionError::RequestError(e) => e.status().map(|s| s.as_u16()),
            _ => None,
        };
        match status {
            Some(401) => self.unauthorized(registry),
            Some(status) => RegistryError::Status {
                registry: registry.to_owned(),
                action: action.to_owned(),
                status,
                message: error.to_string(),
            },
            None => RegistryError::Transport {
                registry: registry.to_owned(),
                action: action.to_owned(),
                message: error_chain(&error),
            },
        }
    }

    pub(crate) fn unauthorized(&self, registry: &str) -> RegistryError {
        match &self.options.credentials {
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
