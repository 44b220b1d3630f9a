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
        "the registry `{registry}` refused the credentials of user `{username}` (401 Unauthorized); \
         check the user name and password, then run `mkbuild login {registry}` again"
    )]
    WrongCredentials {
        /// The registry, `host[:port]`.
        registry: String,
        /// The user whose credentials were refused.
        username: String,
    },

    /// The registry wants credentials and none were found.
    #[error(
        "the registry `{registry}` requires a login (401 Unauthorized); run `mkbuild login {registry}`"
    )]
    LoginRequired {
        /// The registry, `host[:port]`.
        registry: String,
    },

    /// The registry answered a request with an error status.
    #[error("the registry `{registry}` answered {action} with {status}: {message}")]
    Status {
        /// The registry, `host[:port]`.
        registry: String,
        /// What mkbuild was doing, e.g. "the manifest request".
        action: String,
        /// The HTTP status code.
        status: u16,
        /// The body of the answer, trimmed.
        message: String,
    },

    /// The registry could not be reached or the connection broke (after the retries allowed).
    /// `action` is a noun phrase, as in the other variants ("the manifest request").
    #[error("{action} at the registry `{registry}` failed: {message}")]
    Transport {
        /// The registry, `host[:port]`.
        registry: String,
        /// What mkbuild was doing, e.g. "the manifest request".
        action: String,
        /// The transport's error.
        message: String,
    },

    /// The registry made no progress for the timeout (nothing, or a trickle, arrived or was taken).
    #[error(
        "the registry `{registry}` made no progress for {seconds} s during {action}, so mkbuild gave \
         up; try again later, or allow more time with `--timeout SECS` (`MKBUILD_REGISTRY_TIMEOUT`)"
    )]
    TimedOut {
        /// The registry, `host[:port]`.
        registry: String,
        /// What mkbuild was doing, e.g. "the manifest request".
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
