//! Where unpack reads a ModelKit's blobs: the store, or (through the CLI, which glues in the
//! registry client) a registry, streamed. The engine verifies every blob it reads from a source
//! (size and digest, and the diffId of a compressed layer), so a source only moves bytes.

use std::io::{Read, Take};

use mkbuild_extract::VerifyingReader;
use mkbuild_store::{Descriptor, Store};

use crate::EngineError;

/// A place blobs are read from, by descriptor.
pub trait BlobSource {
    /// The blob's bytes, unverified: the engine checks them against `descriptor` as it reads.
    /// Reads must fail (not hang) when the bytes stop coming.
    fn open_blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, EngineError>;

    /// The store, when the blobs are files in one: unpack may then clone a raw layer's blob
    /// instead of copying it.
    fn store(&self) -> Option<&Store> {
        None
    }

    /// Where the blobs come from, for messages: "the registry `host/repository`".
    fn describe(&self) -> String {
        "the blob source".to_owned()
    }
}

impl BlobSource for Store {
    fn open_blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, EngineError> {
        Ok(Box::new(Store::open_blob(self, &descriptor.digest)?))
    }

    fn store(&self) -> Option<&Store> {
        Some(self)
    }

    fn describe(&self) -> String {
        format!("the store `{}`", self.root().display())
    }
}

/// A small blob (a Kitfile layer) read whole from `source`, refused unread when its descriptor
/// says it is larger than `max`, and checked against its size and digest.
pub(crate) fn read_small(
    source: &dyn BlobSource,
    descriptor: &Descriptor,
    max: u64,
    label: &str,
) -> Result<Vec<u8>, EngineError> {
    if descriptor.size > max {
        return Err(EngineError::Mismatch(format!(
            "{label} (`{}`) is {} bytes, more than the {max} bytes it may have",
            descriptor.digest, descriptor.size
        )));
    }
    let blob: Take<Box<dyn Read + '_>> = source.open_blob(descriptor)?.take(max + 1);
    let mut reader = VerifyingReader::new(blob, descriptor.digest.as_str(), label)?
        .with_expected_size(descriptor.size);
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| mkbuild_extract::ExtractError::Read {
            label: label.to_owned(),
            cause: e,
        })?;
    reader.finish()?;
    Ok(bytes)
}
