//! The client: one reqwest client for every request (the distribution protocol is this crate's
//! own, see `http.rs` and `distribution.rs`), driven by a private tokio runtime so that callers stay
//! synchronous.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mkbuild_progress::{NoProgress, Progress};

use crate::auth::AuthCache;
use crate::http::{tls_failure, TlsFailure};
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
    /// Verify the registry's TLS certificate (and name); `false` accepts any certificate.
    pub tls_verify: bool,
    /// PEM files of CA certificates trusted besides the system's.
    pub ca_certs: Vec<PathBuf>,
    /// A client certificate (PEM) and its private key (PEM), for registries that ask for one.
    pub client_identity: Option<(PathBuf, PathBuf)>,
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
            tls_verify: true,
            ca_certs: Vec::new(),
            client_identity: None,
        }
    }
}

/// A client for OCI registries (the distribution protocol), for pushing and pulling ModelKits.
pub struct RegistryClient {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) http: reqwest::Client,
    pub(crate) options: ClientOptions,
    pub(crate) auth_cache: AuthCache,
    /// Loopback registries found to answer plain HTTP (see [`RegistryClient::settle_scheme`]).
    pub(crate) plain_http_found: Mutex<HashSet<String>>,
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
            .map_err(|e| RegistryError::Setup {
                what: "the network runtime",
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
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeout)
            .user_agent(concat!("mkbuild/", env!("CARGO_PKG_VERSION")))
            .tls_danger_accept_invalid_certs(!options.tls_verify);
        for path in &options.ca_certs {
            builder = builder.tls_certs_merge(ca_certificates(path)?);
        }
        if let Some((cert, key)) = &options.client_identity {
            builder = builder.identity(client_identity(cert, key)?);
        }
        let http = builder.build().map_err(|e| RegistryError::Setup {
            what: "the HTTP client",
            message: error_chain(&e),
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
            plain_http_found: Mutex::new(HashSet::new()),
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

    /// `http` with `--plain-http` or for a loopback registry found to answer plain HTTP, else
    /// `https`.
    pub(crate) fn scheme(&self, registry: &str) -> &'static str {
        if self.options.plain_http || self.found_plain_http(registry) {
            "http"
        } else {
            "https"
        }
    }

    fn found_plain_http(&self, registry: &str) -> bool {
        self.plain_http_found
            .lock()
            .is_ok_and(|found| found.contains(registry))
    }

    /// As docker does, a registry on this machine (`localhost`, `127.0.0.0/8`, `::1`) that fails
    /// the TLS handshake but answers plain HTTP is spoken to in plain HTTP, so that a local test
    /// registry needs no `--plain-http`; credentials still go only to that `host:port`. Other registries are always
    /// reached by TLS unless `--plain-http` says otherwise: their traffic crosses a network.
    pub(crate) async fn settle_scheme(&self, registry: &str) {
        if self.options.plain_http || !is_loopback(registry) || self.found_plain_http(registry) {
            return;
        }
        // A certificate the registry or mkbuild refused is a TLS registry that must say so, not
        // one to speak to in clear; any other failure of TLS is tried again in plain HTTP.
        let timeout = self.options.timeout;
        let https = self.http.get(format!("https://{registry}/v2/")).send();
        let failure = match tokio::time::timeout(timeout, https).await {
            Ok(Err(e)) => tls_failure(&error_chain(&e)),
            _ => return,
        };
        let answers_http = match failure {
            Some(TlsFailure::PlainHttp) => true,
            Some(TlsFailure::Untrusted(_) | TlsFailure::ClientCertificate(_)) => false,
            None => {
                let http = self.http.get(format!("http://{registry}/v2/")).send();
                matches!(tokio::time::timeout(timeout, http).await, Ok(Ok(_)))
            }
        };
        if !answers_http {
            return;
        }
        tracing::info!("the registry `{registry}` on this machine answers plain HTTP; using it");
        if let Ok(mut found) = self.plain_http_found.lock() {
            found.insert(registry.to_owned());
        }
    }

    /// A `401`: the credentials are wrong, or there are none.
    pub(crate) fn unauthorized(
        &self,
        registry: &str,
        repository: Option<&str>,
        credentials: Option<&Credentials>,
    ) -> RegistryError {
        let repository = repository.map(str::to_owned);
        match credentials {
            Some(c) => RegistryError::WrongCredentials {
                registry: registry.to_owned(),
                repository,
                username: c.username.clone(),
            },
            None => RegistryError::LoginRequired {
                registry: registry.to_owned(),
                repository,
            },
        }
    }
}

/// Whether `registry` (`host[:port]`) is this machine: `localhost`, an address of `127.0.0.0/8`,
/// or `[::1]`.
pub(crate) fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or(rest, |(host, _)| host),
        None => registry.split_once(':').map_or(registry, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Certificate files are small; more is not a certificate (and is not read into memory).
const MAX_PEM_FILE: u64 = 1 << 20;

/// The bytes of a PEM file given for TLS, read to [`MAX_PEM_FILE`] at most.
fn read_pem(path: &Path, what: &'static str) -> Result<Vec<u8>, RegistryError> {
    use std::io::Read as _;
    let fail = |reason: String| RegistryError::TlsFile {
        path: path.to_owned(),
        what,
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MAX_PEM_FILE {
        return Err(fail(format!(
            "it is larger than {MAX_PEM_FILE} bytes, which no PEM certificate file is"
        )));
    }
    Ok(bytes)
}

fn ca_certificates(path: &Path) -> Result<Vec<reqwest::Certificate>, RegistryError> {
    const WHAT: &str = "a CA certificate (`--tls-cert`)";
    let bytes = read_pem(path, WHAT)?;
    let not_pem = |reason: String| RegistryError::TlsFile {
        path: path.to_owned(),
        what: WHAT,
        reason: format!("{reason}; give a PEM file (`-----BEGIN CERTIFICATE-----`)"),
    };
    let certificates =
        reqwest::Certificate::from_pem_bundle(&bytes).map_err(|e| not_pem(error_chain(&e)))?;
    if certificates.is_empty() {
        return Err(not_pem("it holds no certificate".to_owned()));
    }
    Ok(certificates)
}

fn client_identity(cert: &Path, key: &Path) -> Result<reqwest::Identity, RegistryError> {
    let mut pem = read_pem(cert, "a client certificate (`--cert`)")?;
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
        return Err(RegistryError::TlsFile {
            path: cert.to_owned(),
            what: "a client certificate (`--cert`)",
            reason: "it holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)".to_owned(),
        });
    }
    let key_pem = read_pem(key, "a client key (`--key`)")?;
    if !String::from_utf8_lossy(&key_pem).contains("PRIVATE KEY-----") {
        return Err(RegistryError::TlsFile {
            path: key.to_owned(),
            what: "a client key (`--key`)",
            reason: "it holds no PEM private key (`-----BEGIN PRIVATE KEY-----`)".to_owned(),
        });
    }
    pem.push(b'\n');
    pem.extend_from_slice(&key_pem);
    reqwest::Identity::from_pem(&pem).map_err(|e| RegistryError::TlsFile {
        path: key.to_owned(),
        what: "a client key (`--key`)",
        reason: format!(
            "{} (with the certificate `{}`); give the PEM private key of that certificate",
            error_chain(&e),
            cert.display()
        ),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_falls_back_to_plain_http() {
        for registry in [
            "localhost",
            "localhost:5000",
            "LOCALHOST:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "[::1]",
        ] {
            assert!(is_loopback(registry), "{registry}");
        }
        for registry in [
            "registry.example.com",
            "localhost.example.com:5000",
            "10.0.0.1:5000",
            "[::2]:5000",
            "128.0.0.1",
        ] {
            assert!(!is_loopback(registry), "{registry}");
        }
    }
}
