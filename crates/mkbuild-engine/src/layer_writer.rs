//! Writes one layer blob: tar entries -> (diffId hash) -> compression -> store (digest). Pack and
//! convert both feed it; it knows bytes, never Kitfiles.

use std::io::Read;

use mkbuild_store::Digest;
use mkbuild_tar::{EntryHeader, TarWriter};

use crate::compression::{Compression, Compressor};
use crate::hashing::HashingWriter;
use crate::sink::{BlobOut, BlobSink};
use crate::EngineError;

/// A layer being written into a sink (the store, or a registry).
pub struct LayerWriter {
    tar: TarWriter<HashingWriter<Compressor<Box<dyn BlobOut>>>>,
    label: String,
    root: std::path::PathBuf,
}

/// A finished layer blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenLayer {
    pub digest: Digest,
    /// The digest of the uncompressed tar.
    pub diff_id: Digest,
    pub size: u64,
}

impl LayerWriter {
    /// Starts a layer; `label` names it in errors (e.g. the layer path).
    pub fn new(
        sink: &dyn BlobSink,
        compression: Compression,
        label: &str,
    ) -> Result<LayerWriter, EngineError> {
        let blob = sink.create()?;
        let compressed = compression
            .writer(blob)
            .map_err(|e| EngineError::io(&sink.location(), e))?;
        // Uncompressed, the diffId is the digest: no need to hash the bytes twice.
        let hash_tar = compression != Compression::None;
        Ok(LayerWriter {
            tar: TarWriter::new(HashingWriter::new(compressed, hash_tar)),
            label: label.to_owned(),
            root: sink.location(),
        })
    }

    fn tar_error(&self, source: mkbuild_tar::TarError) -> EngineError {
        EngineError::Tar {
            layer: self.label.clone(),
            source,
        }
    }

    pub fn add_dir(&mut self, header: &EntryHeader) -> Result<(), EngineError> {
        self.tar.append_dir(header).map_err(|e| self.tar_error(e))
    }

    /// Adds a file whose data is exactly `header.size` bytes of `data`.
    pub fn add_file(
        &mut self,
        header: &EntryHeader,
        data: &mut impl Read,
    ) -> Result<(), EngineError> {
        self.tar
            .append_file(header, data)
            .map_err(|e| self.tar_error(e))
    }

    /// Ends the tar and the compression and moves the blob under its digest.
    pub fn finish(self) -> Result<WrittenLayer, EngineError> {
        let LayerWriter { tar, label, root } = self;
        let hashing = tar.finish().map_err(|source| EngineError::Tar {
            layer: label,
            source,
        })?;
        let (compressed, tar_digest) = hashing.finish().map_err(|e| EngineError::io(&root, e))?;
        let blob = compressed.finish().map_err(|e| EngineError::io(&root, e))?;
        let (digest, size) = blob.commit()?;
        Ok(WrittenLayer {
            diff_id: tar_digest.unwrap_or_else(|| digest.clone()),
            digest,
            size,
        })
    }
}
