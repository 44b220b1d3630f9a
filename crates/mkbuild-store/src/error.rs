//! The one error type of the store: every variant names the path, digest or reference at fault and,
//! where there is one, the fix.

use std::path::PathBuf;

use crate::Digest;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file-system operation failed.
    #[error("cannot {action} `{}`: {cause}", path.display())]
    Io {
        /// What the store was doing, e.g. "create the folder".
        action: &'static str,
        path: PathBuf,
        cause: std::io::Error,
    },

    /// The store folder holds files but no `oci-layout`.
    #[error(
        "`{}` is not an OCI image layout (it has no `oci-layout` file) and is not empty; \
         choose an empty or new folder for the store",
        path.display()
    )]
    NotALayout { path: PathBuf },

    /// The `oci-layout` file declares a version this store does not write.
    #[error(
        "`{}` declares OCI image layout version `{version}`, but only `1.0.0` is supported; \
         use another folder for the store",
        path.display()
    )]
    UnsupportedLayoutVersion { path: PathBuf, version: String },

    /// `oci-layout` or `index.json` is not what the OCI image layout specification says.
    #[error("`{}` is not valid: {reason}; repair it or restore it from a backup", path.display())]
    InvalidLayoutFile { path: PathBuf, reason: String },

    /// A string that should be a digest is not one.
    #[error(transparent)]
    InvalidDigest(#[from] mkbuild_hash::InvalidDigest),

    /// A string that should be a reference is not one.
    #[error(
        "invalid reference `{input}`: {reason}; a valid reference looks like `name:tag`, \
         `team/model:v1` or `registry.example.com:5000/team/model:v1`"
    )]
    InvalidReference { input: String, reason: String },

    /// The blob is not in the store.
    #[error(
        "blob `{digest}` is not in the store (no file `{}`); pack or pull the ModelKit again",
        path.display()
    )]
    BlobNotFound { digest: Digest, path: PathBuf },

    /// The blob's path is a symlink or not a regular file: the store was damaged or tampered with,
    /// and following it could read (and send) any file of the machine.
    #[error(
        "blob `{digest}` at `{}` is not a regular file (a symlink, or something else); the store is \
         damaged or tampered with; run `mkbuild verify --repair`, or pack or pull the ModelKit again",
        path.display()
    )]
    BlobNotRegular { digest: Digest, path: PathBuf },

    /// Another process holds the store for writing (garbage collection needs it alone).
    #[error(
        "another mkbuild process is writing to the store `{}`; run this again when it has finished",
        path.display()
    )]
    Busy { path: PathBuf },

    /// The bytes of a stored blob do not hash to its name.
    #[error(
        "blob `{}` does not match its digest `{expected}` (its content hashes to `{actual}`); \
         the store is damaged: delete the file and pack or pull the ModelKit again",
        path.display()
    )]
    DigestMismatch {
        path: PathBuf,
        expected: Digest,
        actual: Digest,
    },

    /// A blob read into memory is larger than the caller allows.
    #[error(
        "blob `{digest}` is {size} bytes, more than the {max} bytes allowed here; \
         it is probably not the JSON document it is referenced as"
    )]
    BlobTooLarge { digest: Digest, size: u64, max: u64 },

    /// Bytes that should be an OCI image manifest are not one.
    #[error("manifest `{digest}` is not a valid OCI image manifest: {reason}")]
    InvalidManifest { digest: Digest, reason: String },

    /// Nothing in the store answers to the reference.
    #[error(
        "no ModelKit in the store `{}` is tagged or named `{reference}`; \
         tag it first, or use a name or digest that the store lists",
        root.display()
    )]
    NotFound { reference: String, root: PathBuf },

    /// A short digest matches more than one manifest.
    #[error(
        "digest prefix `{prefix}` matches {count} manifests in the store; give more hex digits"
    )]
    AmbiguousDigest { prefix: String, count: usize },
}

impl StoreError {
    /// Builds the [`StoreError::Io`] variant; `action` reads after "cannot".
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.into();
        move |source| StoreError::Io {
            action,
            path,
            cause: source,
        }
    }
}
