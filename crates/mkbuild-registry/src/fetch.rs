//! Reading a ModelKit's manifest and config (or another small blob) from a registry without
//! storing anything: what `inspect --remote`, `info --remote` and `diff` show.
//!
//! The same checks as a pull: the manifest is read to [`MAX_MANIFEST_SIZE`] at most and checked
//! against the digest asked for; a blob is read to its descriptor's size (refused unread beyond
//! [`MAX_FETCHED_BLOB`]) and checked against its digest and size.

use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{Descriptor, Digest, Manifest};

use crate::blob_reader::BlobReader;
use crate::pull::{media_type_of, DOCKER_MANIFEST_LIST};
use crate::remote_reference::Target;
use crate::{RegistryClient, RegistryError, RemoteReference};

/// The largest blob [`RegistryClient::fetch_blob`] reads into memory (configs and Kitfiles are
/// small JSON or YAML; the engine reads stored ones to the same bound).
pub const MAX_FETCHED_BLOB: u64 = 16 << 20;

/// A ModelKit's manifest and config as a registry serves them, each checked against its digest.
#[derive(Debug, Clone)]
pub struct RemoteModelKit {
    /// The manifest's digest and size, with its media type (OCI's when it names none).
    pub descriptor: Descriptor,
    /// The manifest's bytes, as the registry sent them.
    pub manifest_bytes: Vec<u8>,
    /// The manifest, parsed.
    pub manifest: Manifest,
    /// The config blob's bytes.
    pub config_bytes: Vec<u8>,
}

impl RegistryClient {
    /// The manifest `from` names and its config, read into memory and verified; nothing is
    /// stored. An index (a multi-platform image) is refused: a ModelKit is one manifest.
    pub fn fetch_modelkit(&self, from: &RemoteReference) -> Result<RemoteModelKit, RegistryError> {
        self.runtime.block_on(async {
            self.settle_scheme(&from.registry).await;
            let manifest_bytes = self.get_manifest(from).await?;
            let digest = Digest::of(&manifest_bytes);
            if let Target::Digest(expected) = &from.target {
                if expected != &digest {
                    return Err(RegistryError::DigestMismatch {
                        registry: from.registry.clone(),
                        expected: expected.clone(),
                        actual: digest,
                    });
                }
            }
            let media_type = media_type_of(&manifest_bytes);
            if matches!(
                media_type.as_deref(),
                Some(mkbuild_store::media_type::OCI_INDEX | DOCKER_MANIFEST_LIST)
            ) {
                return Err(RegistryError::NotAManifest {
                    reference: from.to_string(),
                    media_type: media_type.unwrap_or_default(),
                });
            }
            let manifest = Manifest::from_json(&manifest_bytes)?;
            // By digest from here on: a tag moved meanwhile cannot pair this manifest with
            // another's config.
            let by_digest = from.with_digest(digest.clone());
            let config_bytes = self.fetch_blob_async(&by_digest, &manifest.config).await?;
            let size = manifest_bytes.len() as u64;
            Ok(RemoteModelKit {
                descriptor: Descriptor::new(
                    media_type.unwrap_or_else(|| OCI_MANIFEST.to_owned()),
                    digest,
                    size,
                ),
                manifest_bytes,
                manifest,
                config_bytes,
            })
        })
    }

    /// The blob `descriptor` names in the repository of `from`, read into memory and checked
    /// against its size and digest; one larger than [`MAX_FETCHED_BLOB`] is refused unread.
    pub fn fetch_blob(
        &self,
        from: &RemoteReference,
        descriptor: &Descriptor,
    ) -> Result<Vec<u8>, RegistryError> {
        self.runtime
            .block_on(self.fetch_blob_async(from, descriptor))
    }

    pub(crate) async fn fetch_blob_async(
        &self,
        from: &RemoteReference,
        descriptor: &Descriptor,
    ) -> Result<Vec<u8>, RegistryError> {
        let digest = &descriptor.digest;
        let what = format!("the blob `{digest}`");
        if descriptor.size > MAX_FETCHED_BLOB {
            return Err(RegistryError::TooLarge {
                registry: from.registry.clone(),
                what,
                limit: MAX_FETCHED_BLOB,
            });
        }
        let action = format!(
            "the request for `{digest}` in `{}/{}`",
            from.registry, from.repository
        );
        // Read as an unpack streams a layer: a broken body resumes by range, and no more than
        // the descriptor's size (at most `MAX_FETCHED_BLOB`) is ever accepted.
        let mut reader = BlobReader::unopened(self, from, descriptor, action);
        let mut bytes = Vec::new();
        loop {
            match reader.next_chunk().await {
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                Ok(None) => break,
                // More than its descriptor says: refused as a body over its cap.
                Err(RegistryError::SizeMismatch {
                    expected, actual, ..
                }) if actual > expected => {
                    return Err(RegistryError::TooLarge {
                        registry: from.registry.clone(),
                        what,
                        limit: descriptor.size,
                    })
                }
                Err(e) => return Err(e),
            }
        }
        let actual = Digest::of(&bytes);
        if &actual != digest {
            return Err(RegistryError::DigestMismatch {
                registry: from.registry.clone(),
                expected: digest.clone(),
                actual,
            });
        }
        Ok(bytes)
    }
}
