//! Where pack puts the blobs it makes: the store (the default), or a registry as they are made
//! (`pack --push` without a local copy, implemented by the CLI over `mkbuild-registry`, which this
//! crate does not know). A layer is written once, to one sink, while it is hashed.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use mkbuild_store::{BlobWriter, Descriptor, Digest, Manifest, Store};

use crate::EngineError;

/// A destination for the blobs of one ModelKit.
pub trait BlobSink: Sync {
    /// A new blob: its bytes are written, then [`BlobOut::commit`] names it by their digest.
    fn create(&self) -> Result<Box<dyn BlobOut>, EngineError>;

    /// A small blob given whole (the config, the Kitfile layer).
    fn put(&self, bytes: &[u8]) -> Result<(Digest, u64), EngineError> {
        let mut blob = self.create()?;
        blob.write_all(bytes)
            .map_err(|e| EngineError::io(&self.location(), e))?;
        blob.commit()
    }

    /// The manifest, last, once every blob it names is in.
    fn put_manifest(&self, manifest: &Manifest) -> Result<Descriptor, EngineError>;

    /// Makes sure the sink holds the stored blob `digest` (a layer the build cache found in the
    /// store unchanged); nothing to do for the store itself.
    fn reuse(&self, store: &Store, digest: &Digest, size: u64) -> Result<(), EngineError>;

    /// Whether the blobs end up in the local store (so the build cache may record them).
    fn is_local(&self) -> bool;

    /// Where the blobs go, for messages.
    fn location(&self) -> PathBuf;
}

/// A blob being written to a [`BlobSink`].
pub trait BlobOut: Write + Send {
    /// Makes the blob a clone of `source`, sharing its extents, where the sink and the filesystem
    /// can; returns its size, or `None` (the caller then writes the bytes).
    fn clone_from(&mut self, source: &File) -> Result<Option<u64>, EngineError> {
        let _ = source;
        Ok(None)
    }

    /// Ends the blob and names it by its digest; returns the digest and size.
    fn commit(self: Box<Self>) -> Result<(Digest, u64), EngineError>;
}

impl BlobSink for Store {
    fn create(&self) -> Result<Box<dyn BlobOut>, EngineError> {
        Ok(Box::new(self.blob_writer()?))
    }

    fn put(&self, bytes: &[u8]) -> Result<(Digest, u64), EngineError> {
        Ok(self.put_blob(bytes)?)
    }

    fn put_manifest(&self, manifest: &Manifest) -> Result<Descriptor, EngineError> {
        Ok(Store::put_manifest(self, manifest)?)
    }

    fn reuse(&self, _store: &Store, _digest: &Digest, _size: u64) -> Result<(), EngineError> {
        Ok(())
    }

    fn is_local(&self) -> bool {
        true
    }

    fn location(&self) -> PathBuf {
        self.root().to_path_buf()
    }
}

impl BlobOut for BlobWriter {
    fn clone_from(&mut self, source: &File) -> Result<Option<u64>, EngineError> {
        Ok(BlobWriter::clone_from(self, source)?)
    }

    fn commit(self: Box<Self>) -> Result<(Digest, u64), EngineError> {
        Ok(BlobWriter::commit(*self)?)
    }
}

/// A sink's failure carried through an I/O error (a [`BlobOut`] is a `Write`): pack recognises it
/// in any error's chain and packs the layer again into a new blob (see [`is_sink_failure`]).
#[derive(Debug)]
pub struct SinkFailure(pub Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for SinkFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SinkFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Whether `error` is, or was caused by, a sink's failure (not the files' or the store's).
pub(crate) fn is_sink_failure(error: &EngineError) -> bool {
    if matches!(error, EngineError::Sink(_)) {
        return true;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.is::<SinkFailure>() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.get_ref().is_some_and(|inner| inner.is::<SinkFailure>()) {
                return true;
            }
        }
        cause = e.source();
    }
    false
}
