//! `pack --push` without `-t`: the blobs go straight to the registry as they are made, and none
//! to the store (a 100 GB model is not stored twice before it leaves).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use mkbuild_engine::{BlobOut, BlobSink, EngineError, SinkFailure};
use mkbuild_registry::{RegistryClient, RegistryError, RemoteReference, StreamingUpload};
use mkbuild_store::{Descriptor, Digest, Manifest, Store};

/// The registry repository `remote` names, as a [`BlobSink`]; the manifest goes to its tag.
pub struct RegistrySink {
    pub client: Arc<RegistryClient>,
    pub remote: RemoteReference,
}

fn sink_error(error: RegistryError) -> EngineError {
    EngineError::Sink(Box::new(error))
}

impl BlobSink for RegistrySink {
    fn create(&self) -> Result<Box<dyn BlobOut>, EngineError> {
        let upload = self.client.start_upload(&self.remote).map_err(sink_error)?;
        Ok(Box::new(Upload(upload)))
    }

    fn put_manifest(&self, manifest: &Manifest) -> Result<Descriptor, EngineError> {
        self.client
            .push_manifest(&self.remote, manifest)
            .map_err(sink_error)
    }

    fn reuse(&self, store: &Store, digest: &Digest, size: u64) -> Result<(), EngineError> {
        // The media type plays no part in an upload.
        let blob = Descriptor::new("application/octet-stream", digest.clone(), size);
        self.client
            .ensure_blob(store, &self.remote, &blob)
            .map_err(sink_error)?;
        Ok(())
    }

    fn is_local(&self) -> bool {
        false
    }

    fn location(&self) -> PathBuf {
        PathBuf::from(self.remote.to_string())
    }
}

/// A blob on its way up.
struct Upload(StreamingUpload);

impl Write for Upload {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Marked as the sink's, so that pack tells it from a file it cannot read.
        self.0
            .write(buf)
            .map_err(|e| std::io::Error::other(SinkFailure(Box::new(e))))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl BlobOut for Upload {
    fn commit(self: Box<Self>) -> Result<(Digest, u64), EngineError> {
        self.0.finish().map_err(sink_error)
    }
}
