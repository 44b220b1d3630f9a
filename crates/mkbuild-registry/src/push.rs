//! Push: the blobs a manifest names (those the registry lacks, concurrently, streamed from the
//! store's files and hashed on the way), then the manifest's bytes exactly as stored, so both sides
//! name it by one digest.

use futures_util::{StreamExt as _, TryStreamExt as _};
use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{Descriptor, Digest, Manifest, Store, MAX_MANIFEST_SIZE};
use reqwest::header::HeaderValue;

use crate::remote_reference::Target;
use crate::{RegistryClient, RegistryError, RemoteReference};

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSummary {
    /// The manifest pushed, as stored locally (and now remotely: the registry reported this digest).
    pub manifest: Descriptor,
    /// Blobs sent.
    pub uploaded: Vec<Digest>,
    /// Blobs the registry already had (found by `HEAD`), not sent again.
    pub skipped: Vec<Digest>,
    /// The bytes of the blobs sent.
    pub bytes_uploaded: u64,
}

impl RegistryClient {
    /// Pushes the stored manifest `manifest` and its blobs to `to` (a tag, or the manifest's own
    /// digest).
    pub fn push(
        &self,
        store: &Store,
        manifest: &Descriptor,
        to: &RemoteReference,
    ) -> Result<PushSummary, RegistryError> {
        let pushed = self.runtime.block_on(self.push_async(store, manifest, to));
        self.progress.finish();
        pushed
    }

    async fn push_async(
        &self,
        store: &Store,
        manifest: &Descriptor,
        to: &RemoteReference,
    ) -> Result<PushSummary, RegistryError> {
        if let Target::Digest(digest) = &to.target {
            if digest != &manifest.digest {
                return Err(RegistryError::InvalidReference {
                    input: to.to_string(),
                    reason: format!(
                        "it names `{digest}`, but the manifest pushed is `{}`",
                        manifest.digest
                    ),
                });
            }
        }
        self.settle_scheme(&to.registry).await;
        // Like every blob pushed, the manifest must be the store's own file, not a link.
        store.open_blob(&manifest.digest)?;
        let bytes = store.read_blob(&manifest.digest, MAX_MANIFEST_SIZE)?;
        let parsed = Manifest::from_json(&bytes)?;
        let media_type = parsed
            .media_type
            .clone()
            .or_else(|| Some(manifest.media_type.clone()).filter(|m| !m.is_empty()))
            .unwrap_or_else(|| OCI_MANIFEST.to_owned());
        let blobs = blobs_of(&parsed);
        // Every blob must be here, a regular file of its size, before anything is sent; each one's
        // hash is checked while it goes up.
        for blob in &blobs {
            let path = store.blob_path(&blob.digest);
            let size = store
                .open_blob(&blob.digest)?
                .metadata()
                .map_err(|source| RegistryError::Io {
                    path: path.clone(),
                    cause: source,
                })?
                .len();
            if size != blob.size {
                return Err(RegistryError::SizeMismatch {
                    registry: "the local store".to_owned(),
                    digest: blob.digest.clone(),
                    expected: blob.size,
                    actual: size,
                });
            }
        }

        self.progress.start(blobs.iter().map(|b| b.size).sum());
        let outcomes: Vec<(Digest, bool, u64)> = futures_util::stream::iter(blobs)
            .map(|blob| async move {
                if self.blob_exists(to, &blob.digest).await? {
                    self.progress.skipped(blob.size);
                    tracing::info!("{} is in `{}` already", blob.digest, to.registry);
                    return Ok((blob.digest, false, 0));
                }
                self.upload_blob(store, to, &blob).await?;
                tracing::info!("uploaded {} ({} bytes)", blob.digest, blob.size);
                Ok::<_, RegistryError>((blob.digest, true, blob.size))
            })
            .buffer_unordered(self.options.concurrency)
            .try_collect()
            .await?;

        let content_type =
            HeaderValue::from_str(&media_type).map_err(|_| RegistryError::NotAManifest {
                reference: manifest.digest.to_string(),
                media_type: media_type.clone(),
            })?;
        let size = bytes.len() as u64;
        self.put_manifest(to, bytes, content_type).await?;
        let remote = self.manifest_digest(to).await?;
        if remote != manifest.digest.as_str() {
            return Err(RegistryError::ManifestRewritten {
                registry: to.registry.clone(),
                local: manifest.digest.clone(),
                remote,
            });
        }

        let mut summary = PushSummary {
            manifest: Descriptor::new(media_type, manifest.digest.clone(), size),
            uploaded: Vec::new(),
            skipped: Vec::new(),
            bytes_uploaded: 0,
        };
        for (digest, uploaded, size) in outcomes {
            if uploaded {
                summary.uploaded.push(digest);
                summary.bytes_uploaded += size;
            } else {
                summary.skipped.push(digest);
            }
        }
        summary.uploaded.sort();
        summary.skipped.sort();
        Ok(summary)
    }
}

/// The config and the layers, each digest once.
pub(crate) fn blobs_of(manifest: &Manifest) -> Vec<Descriptor> {
    let mut blobs: Vec<Descriptor> = Vec::with_capacity(manifest.layers.len() + 1);
    for blob in std::iter::once(&manifest.config).chain(&manifest.layers) {
        if !blobs.iter().any(|b| b.digest == blob.digest) {
            blobs.push(blob.clone());
        }
    }
    blobs
}
