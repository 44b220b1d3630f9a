//! OCI 1.1 referrers: manifests whose `subject` names another manifest (a signature of a ModelKit,
//! say). A referrer is stored as a blob like any manifest and listed in `index.json` in an entry
//! annotated [`ANNOTATION_REFERRER_OF`] with its subject's digest, so that it is found by subject,
//! kept by gc while its subject is kept, and never listed as a ModelKit.

use std::collections::BTreeMap;

use crate::index::IndexEntry;
use crate::media_type::{ANNOTATION_REFERRER_OF, OCI_EMPTY, OCI_EMPTY_BYTES, OCI_MANIFEST};
use crate::store::MAX_MANIFEST_SIZE;
use crate::{Descriptor, Digest, Store, StoreError};

/// An OCI image manifest with a `subject`: the shape of an artifact that refers to another
/// manifest. Written as compact JSON in the order declared here.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferrerManifest {
    /// `schemaVersion`: 2.
    pub schema_version: u32,
    /// `mediaType`: the OCI image manifest's.
    pub media_type: String,
    /// `artifactType`: what the referrer is (e.g. a Sigstore bundle).
    pub artifact_type: String,
    /// The config: the OCI empty descriptor.
    pub config: Descriptor,
    /// The referrer's content.
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to.
    pub subject: Descriptor,
    /// Annotations on the manifest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A referrer found in the store: its manifest's descriptor and the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredReferrer {
    /// The referrer manifest's descriptor (with its `artifactType` not included).
    pub descriptor: Descriptor,
    /// The manifest.
    pub manifest: ReferrerManifest,
}

impl ReferrerManifest {
    /// A referrer of `subject` of type `artifact_type` whose one layer is `content` (media type
    /// `artifact_type` too), with the empty config.
    pub fn new(subject: Descriptor, artifact_type: &str, content: Descriptor) -> ReferrerManifest {
        let mut subject = subject;
        // The subject descriptor names the manifest, not the store's entry for it.
        subject.annotations.clear();
        // An entry another tool wrote may leave the media type out; a descriptor requires it.
        if subject.media_type.is_empty() {
            subject.media_type = OCI_MANIFEST.to_owned();
        }
        ReferrerManifest {
            schema_version: crate::SCHEMA_VERSION,
            media_type: OCI_MANIFEST.to_owned(),
            artifact_type: artifact_type.to_owned(),
            config: empty_descriptor(),
            layers: vec![content],
            subject,
            annotations: BTreeMap::new(),
        }
    }

    /// Compact JSON; the same referrer always gives the same bytes.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain structs, strings and string maps into a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a referrer manifest (one with a `subject`); other fields are ignored.
    pub fn from_json(bytes: &[u8]) -> Result<ReferrerManifest, StoreError> {
        let manifest: ReferrerManifest =
            serde_json::from_slice(bytes).map_err(|e| StoreError::InvalidManifest {
                digest: Digest::of(bytes),
                reason: e.to_string(),
            })?;
        if manifest.schema_version != crate::SCHEMA_VERSION {
            return Err(StoreError::InvalidManifest {
                digest: Digest::of(bytes),
                reason: format!("`schemaVersion` is {}, not 2", manifest.schema_version),
            });
        }
        Ok(manifest)
    }
}

/// The OCI empty descriptor: `{}`, media type `application/vnd.oci.empty.v1+json`, size 2.
pub fn empty_descriptor() -> Descriptor {
    Descriptor::new(OCI_EMPTY, Digest::of(OCI_EMPTY_BYTES), 2)
}

impl Store {
    /// Stores `content` as a blob of media type `artifact_type` and a referrer manifest of
    /// `subject` (a ModelKit of the store) whose one layer it is, with the empty config; lists it in
    /// `index.json` as a referrer of `subject`. A referrer stored again (same bytes) is listed once;
    /// different content adds a referrer beside the others. Returns the referrer's descriptor.
    pub fn add_referrer(
        &self,
        subject: &Descriptor,
        artifact_type: &str,
        content: &[u8],
    ) -> Result<Descriptor, StoreError> {
        self.add_annotated_referrer(subject, artifact_type, content, BTreeMap::new())
    }

    /// [`Store::add_referrer`] with `annotations` on the referrer manifest (what tells referrers
    /// of one artifact type apart, e.g. a Sigstore bundle's predicate type).
    pub fn add_annotated_referrer(
        &self,
        subject: &Descriptor,
        artifact_type: &str,
        content: &[u8],
        annotations: BTreeMap<String, String>,
    ) -> Result<Descriptor, StoreError> {
        let (digest, size) = self.put_blob(content)?;
        let mut manifest = ReferrerManifest::new(
            subject.clone(),
            artifact_type,
            Descriptor::new(artifact_type, digest, size),
        );
        manifest.annotations = annotations;
        self.put_referrer(&manifest)
    }

    /// Stores a referrer manifest whose blobs are stored (the empty config is written here) and
    /// lists it as a referrer of its subject, which must be a ModelKit of the store (listed in
    /// `index.json`, tagged or not). Returns its descriptor.
    pub fn put_referrer(&self, manifest: &ReferrerManifest) -> Result<Descriptor, StoreError> {
        for digest in [&manifest.subject.digest]
            .into_iter()
            .chain(manifest.layers.iter().map(|l| &l.digest))
        {
            if !self.has_blob(digest) {
                return Err(StoreError::BlobNotFound {
                    digest: digest.clone(),
                    path: self.blob_path(digest),
                });
            }
        }
        if manifest.config.digest == Digest::of(OCI_EMPTY_BYTES) {
            self.put_blob(OCI_EMPTY_BYTES)?;
        }
        let (digest, _) = self.put_blob(&manifest.to_json())?;
        self.put_referrer_manifest(&digest, manifest)
    }

    /// Lists the stored manifest blob `digest`, which is `manifest` (as another tool wrote it,
    /// say: a pull keeps the registry's bytes), as a referrer of its subject, which must be a
    /// ModelKit of the store; its config and layers must be stored. Returns its descriptor.
    pub fn put_referrer_manifest(
        &self,
        digest: &Digest,
        manifest: &ReferrerManifest,
    ) -> Result<Descriptor, StoreError> {
        let bytes = self.read_blob(digest, MAX_MANIFEST_SIZE)?;
        if &ReferrerManifest::from_json(&bytes)? != manifest {
            return Err(StoreError::InvalidManifest {
                digest: digest.clone(),
                reason: "it is not the referrer manifest given".to_owned(),
            });
        }
        for blob in std::iter::once(&manifest.config).chain(&manifest.layers) {
            if !self.has_blob(&blob.digest) {
                return Err(StoreError::BlobNotFound {
                    digest: blob.digest.clone(),
                    path: self.blob_path(&blob.digest),
                });
            }
        }
        let descriptor = Descriptor::new(OCI_MANIFEST, digest.clone(), bytes.len() as u64);
        let lock = self.lock_index()?;
        let mut index = self.read_index()?;
        if !index.lists_modelkit(&manifest.subject.digest) {
            return Err(StoreError::SubjectNotListed {
                digest: manifest.subject.digest.clone(),
                root: self.root().to_owned(),
            });
        }
        if index.add_referrer(
            &descriptor,
            &manifest.artifact_type,
            &manifest.subject.digest,
        ) {
            self.write_index(&lock, &index)?;
        }
        Ok(descriptor)
    }

    /// The referrers of the manifest `subject` listed in `index.json`, in the order they were
    /// stored, of `artifact_type` when given; each read and verified.
    pub fn referrers(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<StoredReferrer>, StoreError> {
        let index = self.read_index()?;
        let mut found = Vec::new();
        for entry in index.manifests.iter() {
            if entry.referrer_of() != Some(subject.as_str()) {
                continue;
            }
            let bytes = self.read_blob(entry.digest(), MAX_MANIFEST_SIZE)?;
            let manifest = ReferrerManifest::from_json(&bytes)?;
            if &manifest.subject.digest != subject
                || artifact_type.is_some_and(|t| t != manifest.artifact_type)
            {
                continue;
            }
            found.push(StoredReferrer {
                descriptor: Descriptor::new(
                    OCI_MANIFEST,
                    entry.digest().clone(),
                    bytes.len() as u64,
                ),
                manifest,
            });
        }
        Ok(found)
    }
}

impl IndexEntry {
    /// The subject digest of a referrer's entry; `None` for a ModelKit's.
    pub(crate) fn referrer_of(&self) -> Option<&str> {
        self.annotation(ANNOTATION_REFERRER_OF)
    }
}
