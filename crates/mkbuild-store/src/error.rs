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
        /// The path it was done on.
        path: PathBuf,
        /// The error the operation returned.
        cause: std::io::Error,
    },

    /// The store folder holds files but no `oci-layout`.
    #[error(
        "`{}` is not an OCI image layout (it has no `oci-layout` file) and is not empty; \
         choose an empty or new folder for the store",
        path.display()
    )]
    NotALayout {
        /// The store folder.
        path: PathBuf,
    },

    /// The `oci-layout` file declares a version this store does not write.
    #[error(
        "`{}` declares OCI image layout version `{version}`, but only `1.0.0` is supported; \
         use another folder for the store",
        path.display()
    )]
    UnsupportedLayoutVersion {
        /// The `oci-layout` file.
        path: PathBuf,
        /// The version it declares.
        version: String,
    },

    /// `oci-layout` or `index.json` is not what the OCI image layout specification says.
    #[error("`{}` is not valid: {reason}; repair it or restore it from a backup", path.display())]
    InvalidLayoutFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A referrer (a signature) names a manifest that no entry of `index.json` lists.
    #[error(
        "the manifest `{digest}` is not a ModelKit of the store `{}` (no tag or entry of its \
         `index.json` lists it); tag it (`mkbuild tag`) before storing what refers to it",
        root.display()
    )]
    SubjectNotListed {
        /// The subject's digest.
        digest: Digest,
        /// The store folder.
        root: PathBuf,
    },

    /// A string that should be a digest is not one.
    #[error(transparent)]
    InvalidDigest(#[from] mkbuild_hash::InvalidDigest),

    /// A string that should be a reference is not one.
    #[error(
        "invalid reference `{input}`: {reason}; a valid reference looks like `name:tag`, \
         `team/model:v1` or `registry.example.com:5000/team/model:v1`"
    )]
    InvalidReference {
        /// The reference as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The blob is not in the store.
    #[error(
        "blob `{digest}` is not in the store (no file `{}`); pack or pull the ModelKit again",
        path.display()
    )]
    BlobNotFound {
        /// The blob's digest.
        digest: Digest,
        /// The file the blob would be in.
        path: PathBuf,
    },

    /// The blob's path is a symlink or not a regular file: the store was damaged or tampered with,
    /// and following it could read (and send) any file of the machine.
    #[error(
        "blob `{digest}` at `{}` is not a regular file (a symlink, or something else); the store is \
         damaged or tampered with; run `mkbuild verify --repair`, or pack or pull the ModelKit again",
        path.display()
    )]
    BlobNotRegular {
        /// The blob's digest.
        digest: Digest,
        /// The blob's path in the store.
        path: PathBuf,
    },

    /// Another process holds the store for writing (garbage collection needs it alone).
    #[error(
        "another mkbuild process is writing to the store `{}`; run this again when it has finished",
        path.display()
    )]
    Busy {
        /// The store folder.
        path: PathBuf,
    },

    /// The bytes of a stored blob do not hash to its name.
    #[error(
        "blob `{}` does not match its digest `{expected}` (its content hashes to `{actual}`); \
         the store is damaged: delete the file and pack or pull the ModelKit again",
        path.display()
    )]
    DigestMismatch {
        /// The blob's file.
        path: PathBuf,
        /// The digest the blob is stored under.
        expected: Digest,
        /// The digest of its content.
        actual: Digest,
    },

    /// A blob read into memory is larger than the caller allows.
    #[error(
        "blob `{digest}` is {size} bytes, more than the {max} bytes allowed here; \
         it is probably not the JSON document it is referenced as"
    )]
    BlobTooLarge {
        /// The blob's digest.
        digest: Digest,
        /// The blob's size, in bytes.
        size: u64,
        /// The most the caller allows, in bytes.
        max: u64,
    },

    /// Bytes that should be an OCI image manifest are not one.
    #[error("manifest `{digest}` is not a valid OCI image manifest: {reason}")]
    InvalidManifest {
        /// The manifest's digest.
        digest: Digest,
        /// What is wrong with it.
        reason: String,
    },

    /// Nothing in the store answers to the reference.
    #[error(
        "no ModelKit in the store `{}` is tagged or named `{reference}`; \
         tag it first, or use a name or digest that the store lists",
        root.display()
    )]
    NotFound {
        /// The reference as given.
        reference: String,
        /// The store folder.
        root: PathBuf,
    },

    /// A short digest matches more than one manifest.
    #[error(
        "digest prefix `{prefix}` matches {count} manifests in the store; give more hex digits"
    )]
    AmbiguousDigest {
        /// The digest prefix given.
        prefix: String,
        /// How many manifests it matches.
        count: usize,
    },
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
