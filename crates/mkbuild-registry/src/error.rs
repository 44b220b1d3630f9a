//! The one error type of registry work: every variant names the registry, reference or digest at
//! fault and, where there is one, the fix.

use std::path::PathBuf;

use mkbuild_store::{Digest, StoreError};

/// Everything that can go wrong between the local store and a registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A remote reference cannot be parsed.
    #[error(
        "invalid remote reference `{input}`: {reason}; a remote reference looks like \
         `registry.example.com:5000/team/model:v1` or `registry.example.com/team/model@sha256:...`"
    )]
    InvalidReference {
        /// The reference as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The registry refused the credentials given (or found in the credentials file).
    #[error(
        "the registry `{registry}` refused the credentials of user `{username}` (401 Unauthorized){}; \
         check the user name and password, then run `mkbuild login {registry}` again",
        for_repository(repository.as_deref())
    )]
    WrongCredentials {
        /// The registry, `host[:port]`.
        registry: String,
        /// The repository asked for, if the request was in one.
        repository: Option<String>,
        /// The user whose credentials were refused.
        username: String,
    },

    /// The registry wants credentials and none were found.
    #[error(
        "the registry `{registry}` requires a login (401 Unauthorized){}; run `mkbuild login {registry}`",
        for_repository(repository.as_deref())
    )]
    LoginRequired {
        /// The registry, `host[:port]`.
        registry: String,
        /// The repository asked for, if the request was in one.
        repository: Option<String>,
    },

    /// The registry knows the credentials (or anonymous access) but does not allow the access.
    #[error(
        "the registry `{registry}` denied {access} access to `{repository}` ({status}{}); log in as \
         a user allowed to {access} it with `mkbuild login {registry}`, or check the repository's name",
        shown_detail(detail)
    )]
    Denied {
        /// The registry, `host[:port]`.
        registry: String,
        /// The repository.
        repository: String,
        /// "pull" or "push".
        access: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The registry's own words (its error codes and messages), trimmed.
        detail: String,
    },

    /// No manifest has that tag in the repository.
    #[error(
        "tag `{tag}` not found in `{registry}/{repository}`; check the tag ({})",
        known_tags(registry, repository, tags)
    )]
    TagNotFound {
        /// The registry, `host[:port]`.
        registry: String,
        /// The repository.
        repository: String,
        /// The tag asked for.
        tag: String,
        /// The first tags the repository has, when the registry listed them.
        tags: Vec<String>,
    },

    /// No manifest has that digest in the repository.
    #[error(
        "manifest `{digest}` not found in `{registry}/{repository}`; check the digest and the \
         repository (a digest names one manifest, in the repositories it was pushed to)"
    )]
    ManifestNotFound {
        /// The registry, `host[:port]`.
        registry: String,
        /// The repository.
        repository: String,
        /// The digest asked for.
        digest: Digest,
    },

    /// The registry has no repository of that name.
    #[error(
        "repository `{repository}` not found at `{registry}`; check its name (a push creates it)"
    )]
    RepositoryNotFound {
        /// The registry, `host[:port]`.
        registry: String,
        /// The repository asked for.
        repository: String,
    },

    /// A blob the manifest names is not in the repository.
    #[error(
        "blob `{digest}` not found in `{registry}/{repository}`, though {}; push the ModelKit \
         again to complete the registry's copy",
        if *at_push { "the pushed manifest names it" } else { "its manifest names it" }
    )]
    BlobNotFound {
        /// The registry, `host[:port]`.
        registry: String,
        /// The repository.
        repository: String,
        /// The blob's digest.
        digest: Digest,
        /// Found missing when the manifest was pushed (rather than when the blob was pulled).
        at_push: bool,
    },

    /// The registry answered a request with an error status.
    #[error(
        "{action} failed: the registry `{registry}` answered {status}{}{}",
        shown_detail(message),
        status_hint(*status)
    )]
    Status {
        /// The registry, `host[:port]`.
        registry: String,
        /// What mkbuild was doing, a verb phrase naming what, e.g. "pulling the manifest
        /// `registry/team/model:v1`".
        action: String,
        /// The HTTP status code (0 when the answer was not what the protocol says).
        status: u16,
        /// The registry's own words (its error codes and messages, else the body), trimmed.
        message: String,
    },

    /// The registry could not be reached or the connection broke (after the retries allowed).
    #[error(
        "{action} at the registry `{registry}` failed: {message}; check the registry's address, \
         that it is running, and the network, then try again"
    )]
    Transport {
        /// The registry, `host[:port]`.
        registry: String,
        /// What mkbuild was doing, a verb phrase (see [`RegistryError::Status`]).
        action: String,
        /// The transport's error.
        message: String,
    },

    /// A TLS handshake found plain HTTP at the registry's address.
    #[error(
        "the registry `{registry}` answers plain HTTP, not HTTPS ({action}): use `--plain-http` \
         (`MKBUILD_PLAIN_HTTP=1`) if that registry is on a network you trust"
    )]
    PlainHttpRegistry {
        /// The registry, `host[:port]`.
        registry: String,
        /// What mkbuild was doing.
        action: String,
    },

    /// The registry's TLS certificate did not verify.
    #[error(
        "the TLS certificate of the registry `{registry}` is not trusted ({reason}) while {action}; \
         give the CA certificate that signed it with `--tls-cert FILE` (PEM), or skip the check \
         with `--tls-verify=false` on a network you trust"
    )]
    UntrustedCertificate {
        /// The registry, `host[:port]`.
        registry: String,
        /// What mkbuild was doing.
        action: String,
        /// What the verifier said.
        reason: String,
    },

    /// The registry refused the TLS handshake for want of a (valid) client certificate.
    #[error(
        "the registry `{registry}` refused the TLS handshake ({reason}) while {action}: it wants a \
         client certificate it accepts; give it with `--cert FILE --key FILE` (PEM)"
    )]
    ClientCertificateRefused {
        /// The registry, `host[:port]`.
        registry: String,
        /// What mkbuild was doing.
        action: String,
        /// The alert the registry sent.
        reason: String,
    },

    /// A certificate or key file given for TLS cannot be used.
    #[error("cannot use `{}` as {what}: {reason}", path.display())]
    TlsFile {
        /// The file.
        path: std::path::PathBuf,
        /// What it was given as, e.g. "a CA certificate (`--tls-cert`)".
        what: &'static str,
        /// Why it cannot be used, and what to give instead.
        reason: String,
    },

    /// The network runtime or the HTTP client could not be set up.
    #[error("cannot set up {what}: {message}")]
    Setup {
        /// What could not be set up.
        what: &'static str,
        /// Why.
        message: String,
    },

    /// The registry made no progress for the timeout (nothing, or a trickle, arrived or was taken).
    #[error(
        "the registry `{registry}` made no progress for {seconds} s while {action}, so mkbuild gave \
         up; try again later, or allow more time with `--timeout SECS` (`MKBUILD_REGISTRY_TIMEOUT`)"
    )]
    TimedOut {
        /// The registry, `host[:port]`.
        registry: String,
        /// What mkbuild was doing, a verb phrase.
        action: String,
        /// The timeout, in seconds.
        seconds: u64,
    },

    /// The registry sent a body larger than mkbuild reads into memory for that kind of answer.
    #[error(
        "the registry `{registry}` sent more than {limit} bytes for {what}, more than such an answer \
         can be; mkbuild stopped reading (the registry is broken or hostile)"
    )]
    TooLarge {
        /// The registry, `host[:port]`.
        registry: String,
        /// What the body is.
        what: String,
        /// The most mkbuild reads for it, in bytes.
        limit: u64,
    },

    /// The registry asked for something mkbuild refuses to do with the credentials.
    #[error("the registry `{registry}` {reason}; refused, to keep the credentials safe")]
    UnsafeAuth {
        /// The registry, `host[:port]`.
        registry: String,
        /// What the registry asked for.
        reason: String,
    },

    /// A blob in the local store does not hash to its digest: it was not (completely) sent.
    #[error(
        "the stored blob `{digest}` (`{}`) is corrupt: its content hashes to `{actual}`; its upload \
         was aborted; run `mkbuild verify --repair` (or pack or pull the ModelKit again)",
        path.display()
    )]
    CorruptLocalBlob {
        /// The blob's digest.
        digest: Digest,
        /// The blob's file in the store.
        path: PathBuf,
        /// The digest of the blob's content.
        actual: Digest,
    },

    /// The bytes a registry sent do not hash to the digest they were asked for.
    #[error(
        "the registry `{registry}` sent a blob for `{expected}` whose content hashes to `{actual}`; \
         it was not stored (the registry's copy may be corrupted)"
    )]
    DigestMismatch {
        /// The registry, `host[:port]`.
        registry: String,
        /// The digest asked for.
        expected: Digest,
        /// The digest of the bytes sent.
        actual: Digest,
    },

    /// The registry sent more or fewer bytes than the descriptor says.
    #[error(
        "the registry `{registry}` sent {actual} bytes for `{digest}`, which the manifest says has {expected}"
    )]
    SizeMismatch {
        /// The registry, `host[:port]`.
        registry: String,
        /// The blob's digest.
        digest: Digest,
        /// The size in the manifest, in bytes.
        expected: u64,
        /// How many bytes the registry sent.
        actual: u64,
    },

    /// After a pull, a blob of the ModelKit is not whole in the store, so nothing was tagged.
    #[error(
        "`{reference}` was not tagged: its blob `{digest}` is not intact in the store ({reason}); \
         pull it again, or run `mkbuild verify --repair`"
    )]
    NotIntact {
        /// The reference that was not tagged.
        reference: String,
        /// The blob that is not intact.
        digest: Digest,
        /// What is wrong with it.
        reason: String,
    },

    /// The registry stored a manifest under another digest than the local one.
    #[error(
        "the registry `{registry}` stored the manifest as `{remote}`, not `{local}`; the registry \
         rewrote it, so digests would differ between the store and the registry"
    )]
    ManifestRewritten {
        /// The registry, `host[:port]`.
        registry: String,
        /// The manifest's digest in the local store.
        local: Digest,
        /// The digest the registry reports.
        remote: String,
    },

    /// A list of referrers (the referrers API's answer, or the fallback index) is not an image
    /// index.
    #[error(
        "the referrers list `{reference}` is not an OCI image index: {reason}; remove or repair \
         it in the registry (the tag `sha256-<hex>` is the fallback list of the signatures)"
    )]
    InvalidReferrers {
        /// Where the list was read.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },

    /// What the reference names is not a single-image manifest.
    #[error(
        "`{reference}` is a `{media_type}`, not an OCI image manifest; a ModelKit is one manifest"
    )]
    NotAManifest {
        /// The reference.
        reference: String,
        /// The media type of what it names.
        media_type: String,
    },

    /// The credentials file cannot be read or written.
    #[error("cannot {action} the credentials file `{}`: {reason}", path.display())]
    CredentialsFile {
        /// "read", "write" or "update".
        action: &'static str,
        /// The credentials file.
        path: PathBuf,
        /// Why it failed.
        reason: String,
    },

    /// A local file cannot be read.
    #[error("cannot read `{}`: {cause}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error reading returned.
        cause: std::io::Error,
    },

    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// " for `REPOSITORY`", or nothing.
fn for_repository(repository: Option<&str>) -> String {
    repository.map_or_else(String::new, |r| format!(" for `{r}`"))
}

/// ": DETAIL", or nothing for an empty detail.
fn shown_detail(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

/// What to do about an unexpected status, when the status alone says it.
fn status_hint(status: u16) -> &'static str {
    match status {
        429 => "; the registry limits requests: try again later",
        413 => "; the registry refuses a body this large (ask its operator for a larger limit)",
        405 => "; the registry does not take this request here (is it read-only, or a mirror?)",
        500..=599 => "; the registry failed: try again later, or ask its operator",
        _ => "",
    }
}

/// The tags a repository has, or where the registry lists them.
fn known_tags(registry: &str, repository: &str, tags: &[String]) -> String {
    if tags.is_empty() {
        return format!(
            "the registry lists the repository's tags at `{registry}/v2/{repository}/tags/list`"
        );
    }
    let shown: Vec<String> = tags.iter().map(|t| format!("`{t}`")).collect();
    format!("the repository has {}", shown.join(", "))
}
