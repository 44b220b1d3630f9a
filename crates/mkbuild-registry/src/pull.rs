//! Pull: the manifest (read to 4 MiB at most, checked against its digest), then the blobs the store
//! lacks or holds damaged, concurrently and verified; the manifest is stored and tagged last, after
//! every blob was found whole, so the store never names a ModelKit whose blobs are not all intact.
//! A filtered pull takes the config and some layers only, and tags the ModelKit marked partial.

use futures_util::{StreamExt as _, TryStreamExt as _};
use mkbuild_store::media_type::{OCI_INDEX, OCI_MANIFEST};
use mkbuild_store::{Descriptor, Digest, Manifest, Reference, Store, MAX_MANIFEST_SIZE};

use crate::existing::{check_present, Presence};
use crate::push::blobs_of;
use crate::remote_reference::Target;
use crate::{RegistryClient, RegistryError, RemoteReference};

pub(crate) const DOCKER_MANIFEST_LIST: &str =
    "application/vnd.docker.distribution.manifest.list.v2+json";

/// What a pull did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSummary {
    /// The manifest, stored with the bytes the registry sent.
    pub manifest: Descriptor,
    /// The local name it was tagged with (`None` when pulled by digest).
    pub tagged: Option<Reference>,
    /// Blobs downloaded.
    pub downloaded: Vec<Digest>,
    /// Blobs the store had already.
    pub present: Vec<Digest>,
    /// Bytes received for blobs (more than their sizes when a download had to start over).
    pub bytes_downloaded: u64,
    /// Some layers are not in the store (pulled with a filter): the ModelKit is marked partial.
    pub partial: bool,
}

/// What a filtered pull takes: the manifest seen when the layers were chosen, and those layers.
#[derive(Debug, Clone, Copy)]
pub struct PullFilter<'a> {
    /// The manifest the layers were chosen from; a tag that names another one meanwhile fails
    /// the pull.
    pub manifest: &'a Digest,
    /// The layers to pull (the config always comes).
    pub layers: &'a [Digest],
    /// The config's bytes, read already to choose the layers: stored as they are (once checked
    /// against the manifest) instead of downloaded again.
    pub config: &'a [u8],
}

impl RegistryClient {
    /// Pulls `from` into `store` and tags it there as `host/repository:tag` (unless by digest).
    pub fn pull(
        &self,
        store: &Store,
        from: &RemoteReference,
    ) -> Result<PullSummary, RegistryError> {
        let pulled = self.runtime.block_on(self.pull_async(store, from, None));
        self.progress.finish();
        pulled
    }

    /// Pulls the manifest, the config and only the layers `filter` names into `store`, and tags
    /// the ModelKit there marked partial when some of its layers are then not in the store
    /// (nothing else lands in the store). A later whole pull completes it and clears the mark.
    pub fn pull_filtered(
        &self,
        store: &Store,
        from: &RemoteReference,
        filter: PullFilter<'_>,
    ) -> Result<PullSummary, RegistryError> {
        let pulled = self
            .runtime
            .block_on(self.pull_async(store, from, Some(filter)));
        self.progress.finish();
        pulled
    }

    async fn pull_async(
        &self,
        store: &Store,
        from: &RemoteReference,
        filter: Option<PullFilter<'_>>,
    ) -> Result<PullSummary, RegistryError> {
        self.settle_scheme(&from.registry).await;
        let bytes = self.get_manifest(from).await?;
        let digest = Digest::of(&bytes);
        if let Target::Digest(expected) = &from.target {
            if expected != &digest {
                return Err(RegistryError::DigestMismatch {
                    registry: from.registry.clone(),
                    expected: expected.clone(),
                    actual: digest,
                });
            }
        }
        if let Some(filter) = filter.filter(|f| f.manifest != &digest) {
            return Err(RegistryError::DigestMismatch {
                registry: from.registry.clone(),
                expected: filter.manifest.clone(),
                actual: digest,
            });
        }
        let media_type = media_type_of(&bytes);
        if matches!(
            media_type.as_deref(),
            Some(OCI_INDEX | DOCKER_MANIFEST_LIST)
        ) {
            return Err(RegistryError::NotAManifest {
                reference: from.to_string(),
                media_type: media_type.unwrap_or_default(),
            });
        }
        let manifest = Manifest::from_json(&bytes)?;
        // From here on the manifest is addressed by digest, so a tag moved meanwhile cannot mix
        // blobs of two manifests.
        let by_digest = from.with_digest(digest.clone());

        // Before asking which blobs are present: `gc` then waits until this pull has tagged.
        store.hold_writer_lock()?;
        if let Some(filter) = filter {
            let config = &manifest.config;
            if Digest::of(filter.config) == config.digest
                && filter.config.len() as u64 == config.size
                && !store.has_blob(&config.digest)
            {
                store.put_blob(filter.config)?;
            }
        }
        let verify = self.options.verify_existing;
        let all_blobs = blobs_of(&manifest);
        let blobs: Vec<Descriptor> = match filter {
            None => all_blobs.clone(),
            Some(filter) => all_blobs
                .iter()
                .filter(|b| b.digest == manifest.config.digest || filter.layers.contains(&b.digest))
                .cloned()
                .collect(),
        };
        let mut present = Vec::new();
        let mut missing = Vec::new();
        for blob in &blobs {
            match tokio::task::block_in_place(|| check_present(store, blob, verify)) {
                Presence::Intact => present.push(blob.clone()),
                Presence::Absent => missing.push(blob.clone()),
                Presence::Damaged(why) => {
                    tracing::warn!(
                        "the stored blob `{}` is damaged ({why}); downloading it again",
                        blob.digest
                    );
                    missing.push(blob.clone());
                }
            }
        }
        // Sizes come from the registry: a lying manifest must not overflow the sums.
        let total = |sizes: &mut dyn Iterator<Item = u64>| sizes.fold(0u64, u64::saturating_add);
        self.progress
            .start(total(&mut blobs.iter().map(|b| b.size)));
        self.progress
            .skipped(total(&mut present.iter().map(|b| b.size)));
        let by_digest = &by_digest;
        let received: Vec<(Digest, u64)> = futures_util::stream::iter(missing)
            .map(|blob| async move {
                let bytes = self.download_blob(store, by_digest, &blob).await?;
                tracing::info!("downloaded {} ({} bytes)", blob.digest, blob.size);
                Ok::<_, RegistryError>((blob.digest, bytes))
            })
            .buffer_unordered(self.options.concurrency)
            .try_collect()
            .await?;
        // The last word before the tag: every blob is there, a regular file of its size.
        for blob in &blobs {
            let reason = match tokio::task::block_in_place(|| check_present(store, blob, false)) {
                Presence::Intact => continue,
                Presence::Absent => "it is missing".to_owned(),
                Presence::Damaged(why) => why,
            };
            return Err(RegistryError::NotIntact {
                reference: from.to_string(),
                digest: blob.digest.clone(),
                reason,
            });
        }

        let (stored, size) = store_manifest(store, &bytes)?;
        // Partial when a layer left out is not in the store from before either.
        let partial = all_blobs.iter().any(|b| !store.has_blob(&b.digest));
        let descriptor = Descriptor::new(
            media_type.unwrap_or_else(|| OCI_MANIFEST.to_owned()),
            stored,
            size,
        )
        .with_partial_mark(partial);
        let tagged = from.local_reference();
        if let Some(local) = &tagged {
            store.tag(local, &descriptor)?;
        }
        // Every other entry of this ModelKit (another tag, or none) says the same.
        store.set_partial(&descriptor.digest, partial)?;
        let mut downloaded: Vec<Digest> = received.iter().map(|(d, _)| d.clone()).collect();
        downloaded.sort();
        let mut present: Vec<Digest> = present.into_iter().map(|b| b.digest).collect();
        present.sort();
        Ok(PullSummary {
            manifest: descriptor,
            tagged,
            downloaded,
            present,
            bytes_downloaded: received.iter().map(|(_, n)| n).sum(),
            partial,
        })
    }
}

/// Stores the manifest bytes; a damaged file of that digest, or a symlink at its name, is
/// replaced.
fn store_manifest(store: &Store, bytes: &[u8]) -> Result<(Digest, u64), RegistryError> {
    let (digest, size) = store.put_blob(bytes)?;
    let intact =
        store.open_blob(&digest).is_ok() && store.read_blob(&digest, MAX_MANIFEST_SIZE).is_ok();
    if intact {
        return Ok((digest, size));
    }
    tracing::warn!("the stored manifest `{digest}` is damaged; writing it again");
    let mut writer = store.blob_writer()?;
    let temp_path = writer.temp_path().to_owned();
    std::io::Write::write_all(&mut writer, bytes).map_err(|source| RegistryError::Io {
        path: temp_path,
        cause: source,
    })?;
    Ok(writer.finish()?.commit()?)
}

/// The top-level `mediaType` of a JSON document, if it has one.
pub(crate) fn media_type_of(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct MediaTypeOnly {
        media_type: Option<String>,
    }
    serde_json::from_slice::<MediaTypeOnly>(bytes)
        .ok()
        .and_then(|m| m.media_type)
}
