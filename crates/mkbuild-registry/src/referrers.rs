//! OCI 1.1 referrers (signatures stored with a ModelKit): pushed after their subject, by digest,
//! and listed where pullers look: the registry's referrers API (`GET /v2/<name>/referrers/<digest>`)
//! when it has one, else the tag schema fallback, an image index tagged `sha256-<hex of the
//! subject>` that lists them (read, extended, put back). Pull reads the same two places.

use mkbuild_store::media_type::{OCI_INDEX, OCI_MANIFEST};
use mkbuild_store::{Descriptor, Digest, ReferrerManifest, Store, MAX_MANIFEST_SIZE};
use reqwest::header::{HeaderValue, ACCEPT};
use reqwest::{Method, StatusCode};

use crate::auth::Access;
use crate::http::Request;
use crate::remote_reference::Target;
use crate::{RegistryClient, RegistryError, RemoteReference};

/// The most referrers of one ModelKit a pull takes; more are left out with a warning.
pub const MAX_REFERRERS: usize = 64;

/// The most blobs (config and layers) of one referrer a pull takes; one with more is left out.
pub const MAX_REFERRER_BLOBS: usize = 8;

/// The most bytes of referrer blobs one pull takes; the referrers past it are left out.
pub const MAX_REFERRER_BYTES: u64 = 64 << 20;

/// Where a registry lists the referrers of a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrersListing {
    /// The referrers API (`GET /v2/<name>/referrers/<digest>`) answered.
    Api,
    /// The registry has no referrers API: the index tagged `sha256-<hex>` lists them.
    TagFallback,
}

/// What [`RegistryClient::push_referrers`] or [`RegistryClient::pull_referrers`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferrersSummary {
    /// The referrer manifests pushed or pulled.
    pub referrers: Vec<Digest>,
    /// Where they are listed (`None` when there were none).
    pub listing: Option<ReferrersListing>,
}

/// An entry of a referrers list (an image index's `manifests[]`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedReferrer {
    media_type: String,
    digest: Digest,
    size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
    /// The referrer manifest's annotations, which the distribution spec has a listing carry (a
    /// Sigstore bundle's predicate type, say, by which cosign tells signatures from attestations).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    annotations: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReferrersIndex {
    schema_version: u32,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Vec<ListedReferrer>,
}

/// The fallback tag of the subject `digest`: `sha256-<hex>`.
fn fallback_tag(digest: &Digest) -> String {
    format!("sha256-{}", digest.hex())
}

impl RegistryClient {
    /// Pushes the referrers the store keeps of the manifest `subject` (pushed already) to the
    /// repository of `to`: each one's blobs and manifest by digest; then, when the registry has
    /// no referrers API, adds them to the fallback index tagged `sha256-<hex>`.
    pub fn push_referrers(
        &self,
        store: &Store,
        subject: &Descriptor,
        to: &RemoteReference,
    ) -> Result<ReferrersSummary, RegistryError> {
        let stored = store.referrers(&subject.digest, None)?;
        let mut summary = ReferrersSummary {
            referrers: Vec::new(),
            listing: None,
        };
        if stored.is_empty() {
            return Ok(summary);
        }
        for referrer in &stored {
            self.push(
                store,
                &referrer.descriptor,
                &to.with_digest(referrer.descriptor.digest.clone()),
            )?;
            summary.referrers.push(referrer.descriptor.digest.clone());
        }
        let pushed = self.runtime.block_on(async {
            if self.list_by_api(to, &subject.digest).await?.is_some() {
                return Ok::<_, RegistryError>(ReferrersListing::Api);
            }
            let tag = RemoteReference {
                target: Target::Tag(fallback_tag(&subject.digest)),
                ..to.clone()
            };
            let mut index = self.get_index(&tag).await?.unwrap_or(ReferrersIndex {
                schema_version: 2,
                media_type: Some(OCI_INDEX.to_owned()),
                manifests: Vec::new(),
            });
            let before = index.manifests.len();
            for referrer in &stored {
                if !index
                    .manifests
                    .iter()
                    .any(|m| m.digest == referrer.descriptor.digest)
                {
                    index.manifests.push(ListedReferrer {
                        media_type: OCI_MANIFEST.to_owned(),
                        digest: referrer.descriptor.digest.clone(),
                        size: referrer.descriptor.size,
                        artifact_type: Some(referrer.manifest.artifact_type.clone()),
                        annotations: referrer.manifest.annotations.clone(),
                    });
                }
            }
            if index.manifests.len() != before {
                index.media_type = Some(OCI_INDEX.to_owned());
                let bytes = serde_json::to_vec(&index).unwrap_or_default();
                self.put_manifest(&tag, bytes, HeaderValue::from_static(OCI_INDEX))
                    .await?;
            }
            Ok(ReferrersListing::TagFallback)
        });
        self.progress.finish();
        summary.listing = Some(pushed?);
        Ok(summary)
    }

    /// Pulls the referrers of the manifest `subject` (stored and listed in `store`) from the
    /// repository of `from` into the store: those the referrers API lists, else those of the
    /// fallback index; each manifest checked against its digest and to name `subject`, each blob
    /// against its digest (blobs larger than [`crate::MAX_FETCHED_BLOB`] are refused).
    pub fn pull_referrers(
        &self,
        store: &Store,
        subject: &Descriptor,
        from: &RemoteReference,
    ) -> Result<ReferrersSummary, RegistryError> {
        let pulled = self
            .runtime
            .block_on(self.pull_referrers_async(store, subject, from));
        self.progress.finish();
        pulled
    }

    async fn pull_referrers_async(
        &self,
        store: &Store,
        subject: &Descriptor,
        from: &RemoteReference,
    ) -> Result<ReferrersSummary, RegistryError> {
        self.settle_scheme(&from.registry).await;
        let (listed, listing) = match self.list_by_api(from, &subject.digest).await? {
            Some(listed) => (listed, ReferrersListing::Api),
            None => {
                let tag = RemoteReference {
                    target: Target::Tag(fallback_tag(&subject.digest)),
                    ..from.clone()
                };
                let listed = self
                    .get_index(&tag)
                    .await?
                    .map(|index| index.manifests)
                    .unwrap_or_default();
                (listed, ReferrersListing::TagFallback)
            }
        };
        let mut summary = ReferrersSummary {
            referrers: Vec::new(),
            listing: None,
        };
        if listed.len() > MAX_REFERRERS {
            tracing::warn!(
                "`{from}` lists {} referrers of `{}`; only the first {MAX_REFERRERS} are pulled",
                listed.len(),
                subject.digest
            );
        }
        let mut taken = 0u64;
        for entry in listed.into_iter().take(MAX_REFERRERS) {
            if entry.media_type != OCI_MANIFEST {
                continue;
            }
            let by_digest = from.with_digest(entry.digest.clone());
            let bytes = self.get_manifest(&by_digest).await?;
            let actual = Digest::of(&bytes);
            if actual != entry.digest {
                return Err(RegistryError::DigestMismatch {
                    registry: from.registry.clone(),
                    expected: entry.digest,
                    actual,
                });
            }
            let manifest = ReferrerManifest::from_json(&bytes)?;
            if manifest.subject.digest != subject.digest {
                tracing::warn!(
                    "`{by_digest}` is listed as a referrer of `{}` but names `{}`; left out",
                    subject.digest,
                    manifest.subject.digest
                );
                continue;
            }
            let blobs: Vec<&Descriptor> = std::iter::once(&manifest.config)
                .chain(&manifest.layers)
                .collect();
            let bytes_needed = blobs
                .iter()
                .filter(|b| !store.has_blob(&b.digest))
                .try_fold(0u64, |sum, b| sum.checked_add(b.size));
            if blobs.len() > MAX_REFERRER_BLOBS {
                tracing::warn!(
                    "the referrer `{by_digest}` has {} blobs, more than a signature has ({MAX_REFERRER_BLOBS}); left out",
                    blobs.len()
                );
                continue;
            }
            match bytes_needed.and_then(|n| n.checked_add(taken)) {
                Some(total) if total <= MAX_REFERRER_BYTES => taken = total,
                _ => {
                    tracing::warn!(
                        "the referrers of `{}` in `{from}` hold more than {MAX_REFERRER_BYTES} bytes; `{by_digest}` and those after it are left out",
                        subject.digest
                    );
                    break;
                }
            }
            for blob in blobs {
                if !store.has_blob(&blob.digest) {
                    let content = self.fetch_blob_async(&by_digest, blob).await?;
                    store.put_blob(&content)?;
                }
            }
            // Stored with the registry's bytes, so both sides name it by one digest.
            let (stored, _) = store.put_blob(&bytes)?;
            store.put_referrer_manifest(&stored, &manifest)?;
            summary.referrers.push(stored);
            summary.listing = Some(listing);
        }
        Ok(summary)
    }

    /// The referrers the registry's referrers API lists for `subject`; `None` when it has no
    /// such API (any answer but `200` with an image index).
    async fn list_by_api(
        &self,
        remote: &RemoteReference,
        subject: &Digest,
    ) -> Result<Option<Vec<ListedReferrer>>, RegistryError> {
        let action = &format!(
            "listing the referrers of `{subject}` in `{}`",
            remote.registry
        );
        let url = self.repository_url(remote, &format!("referrers/{subject}"))?;
        let request =
            Request::new(Method::GET, url).header(ACCEPT, HeaderValue::from_static(OCI_INDEX));
        let response = self.send(remote, Access::Pull, request, action).await?;
        if response.status() != StatusCode::OK {
            return Ok(None);
        }
        let body = self
            .read_capped(
                &remote.registry,
                action,
                response,
                MAX_MANIFEST_SIZE,
                "a referrers list",
            )
            .await?;
        serde_json::from_slice::<ReferrersIndex>(&body)
            .map(|index| Some(index.manifests))
            .map_err(|e| RegistryError::InvalidReferrers {
                reference: format!(
                    "{}/{} referrers of {subject}",
                    remote.registry, remote.repository
                ),
                reason: e.to_string(),
            })
    }

    /// The image index tagged `tag`; `None` when the tag does not exist.
    async fn get_index(
        &self,
        tag: &RemoteReference,
    ) -> Result<Option<ReferrersIndex>, RegistryError> {
        let bytes = match self.get_manifest(tag).await {
            Ok(bytes) => bytes,
            Err(RegistryError::TagNotFound { .. } | RegistryError::RepositoryNotFound { .. }) => {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        serde_json::from_slice::<ReferrersIndex>(&bytes)
            .map(Some)
            .map_err(|e| RegistryError::InvalidReferrers {
                reference: tag.to_string(),
                reason: e.to_string(),
            })
    }
}
