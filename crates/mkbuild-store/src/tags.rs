//! Tags: naming manifests in `index.json`, and finding them again by name or digest.

use crate::index::IndexEntry;
use crate::media_type::OCI_MANIFEST;
use crate::store::MAX_MANIFEST_SIZE;
use crate::{Descriptor, Digest, Manifest, Reference, Store, StoreError};

/// The shortest digest prefix [`Store::resolve`] accepts, as in `docker image inspect`.
pub const MIN_DIGEST_PREFIX: usize = 12;

impl Store {
    /// Names `manifest` `reference` in `index.json` (annotation `org.opencontainers.image.ref.name`
    /// = `name:tag`). A name already in use moves to the new manifest; its entry goes last.
    pub fn tag(&self, reference: &Reference, manifest: &Descriptor) -> Result<(), StoreError> {
        if !self.has_blob(&manifest.digest) {
            return Err(StoreError::BlobNotFound {
                digest: manifest.digest.clone(),
                path: self.blob_path(&manifest.digest),
            });
        }
        let lock = self.lock_index()?;
        let mut index = self.read_index()?;
        if index.set_tag(&reference.to_string(), manifest) {
            self.write_index(&lock, &index)?;
        }
        Ok(())
    }

    /// Removes the name `reference` from `index.json` and returns what it pointed to (`None` if it
    /// named nothing). The manifest and its blobs stay.
    pub fn untag(&self, reference: &Reference) -> Result<Option<Descriptor>, StoreError> {
        let lock = self.lock_index()?;
        let mut index = self.read_index()?;
        let removed = index.remove_tag(&reference.to_string());
        if removed.is_some() {
            self.write_index(&lock, &index)?;
        }
        Ok(removed.as_ref().map(IndexEntry::descriptor))
    }

    /// Lists `manifest` in `index.json` without a name, so that it stays a ModelKit of the store
    /// (listed, found by digest prefix, kept by `gc`) until it is removed or named: what a pack
    /// without a tag stores. Does nothing when an entry lists it already.
    pub fn keep_untagged(&self, manifest: &Descriptor) -> Result<(), StoreError> {
        if !self.has_blob(&manifest.digest) {
            return Err(StoreError::BlobNotFound {
                digest: manifest.digest.clone(),
                path: self.blob_path(&manifest.digest),
            });
        }
        let lock = self.lock_index()?;
        let mut index = self.read_index()?;
        if index.add_unnamed(manifest) {
            self.write_index(&lock, &index)?;
        }
        Ok(())
    }

    /// Removes the ModelKit `digest` from `index.json`: every name pointing at it and its entry
    /// without a name. Returns the names removed (`None` for an entry without one); empty when
    /// nothing listed it. Its blobs stay until `gc`.
    pub fn remove_manifest(&self, digest: &Digest) -> Result<Vec<Option<String>>, StoreError> {
        let lock = self.lock_index()?;
        let mut index = self.read_index()?;
        let removed = index.remove_digest(digest);
        if !removed.is_empty() {
            self.write_index(&lock, &index)?;
        }
        Ok(removed
            .iter()
            .map(|entry| entry.ref_name().map(str::to_owned))
            .collect())
    }

    /// The manifests `index.json` lists without any name (stored untagged), once each.
    pub fn untagged(&self) -> Result<Vec<Descriptor>, StoreError> {
        let index = self.read_index()?;
        let mut found: Vec<Descriptor> = Vec::new();
        for entry in index
            .manifests
            .iter()
            .filter(|e| e.ref_name().is_none() && e.is_modelkit())
        {
            if !found.iter().any(|d| &d.digest == entry.digest()) {
                found.push(entry.descriptor());
            }
        }
        Ok(found)
    }

    /// The listed manifest that `input` names as a digest: `sha256:<64 hex>`, or a unique prefix
    /// of at least 12 hex digits with or without `sha256:`. `None` when `input` is no digest or
    /// prefix (a name, say) or no listed manifest matches; an error for a malformed `sha256:` or
    /// an ambiguous prefix.
    pub fn find_listed_digest(&self, input: &str) -> Result<Option<Descriptor>, StoreError> {
        let hex = match input.strip_prefix("sha256:") {
            Some(hex) if hex.len() >= MIN_DIGEST_PREFIX && hex.len() <= 64 && is_lower_hex(hex) => {
                hex
            }
            Some(_) => {
                return Err(StoreError::InvalidDigest(mkbuild_hash::InvalidDigest {
                    input: input.to_owned(),
                    reason: format!(
                        "give all 64 hex digits, or at least {MIN_DIGEST_PREFIX} of them"
                    ),
                }))
            }
            None if (MIN_DIGEST_PREFIX..=64).contains(&input.len()) && is_lower_hex(input) => input,
            None => return Ok(None),
        };
        find_by_prefix(hex, &self.read_index()?.manifests)
    }

    /// Finds a manifest by
    /// - digest, `sha256:<64 hex>` (listed in `index.json` or not, as long as the blob is stored);
    /// - a unique digest prefix of at least 12 hex digits, with or without `sha256:`, among the
    ///   manifests `index.json` lists (a hex string that matches no digest is tried as a name);
    /// - the exact `org.opencontainers.image.ref.name` another tool wrote (e.g. a bare tag);
    /// - `name:tag`, or `name` meaning `name:latest`.
    pub fn resolve(&self, reference: &str) -> Result<Descriptor, StoreError> {
        let index = self.read_index()?;
        if let Some(hex) = reference.strip_prefix("sha256:") {
            if hex.len() == 64 {
                return self.resolve_digest(&reference.parse()?, &index.manifests, reference);
            }
            if hex.len() < MIN_DIGEST_PREFIX || !is_lower_hex(hex) {
                return Err(StoreError::InvalidDigest(mkbuild_hash::InvalidDigest {
                    input: reference.to_owned(),
                    reason: format!(
                        "give all 64 hex digits, or at least {MIN_DIGEST_PREFIX} of them"
                    ),
                }));
            }
            return find_by_prefix(hex, &index.manifests)?.ok_or_else(|| self.not_found(reference));
        }
        if (MIN_DIGEST_PREFIX..=64).contains(&reference.len()) && is_lower_hex(reference) {
            if let Some(found) = find_by_prefix(reference, &index.manifests)? {
                return Ok(found);
            }
        }
        if let Some(entry) = index.find(reference) {
            return Ok(entry.descriptor());
        }
        let parsed = Reference::parse(reference)?;
        index
            .find(&parsed.to_string())
            .map(IndexEntry::descriptor)
            .ok_or_else(|| self.not_found(reference))
    }

    /// The entries of `index.json` in order, each with its reference when its
    /// `org.opencontainers.image.ref.name` is a `name:tag` (entries other tools wrote may have a bare
    /// tag or none). Referrers (signatures) are not ModelKits and are left out.
    pub fn list(&self) -> Result<Vec<(Option<Reference>, Descriptor)>, StoreError> {
        let index = self.read_index()?;
        Ok(index
            .manifests
            .iter()
            .filter(|entry| entry.is_modelkit())
            .map(|entry| {
                (
                    entry.ref_name().and_then(full_reference),
                    entry.descriptor(),
                )
            })
            .collect())
    }

    fn resolve_digest(
        &self,
        digest: &Digest,
        entries: &[IndexEntry],
        input: &str,
    ) -> Result<Descriptor, StoreError> {
        if let Some(entry) = entries.iter().rev().find(|entry| entry.digest() == digest) {
            return Ok(entry.descriptor());
        }
        // Not tagged, but stored: describe the blob itself.
        let bytes = match self.read_blob(digest, MAX_MANIFEST_SIZE) {
            Err(StoreError::BlobNotFound { .. }) => return Err(self.not_found(input)),
            result => result?,
        };
        let media_type = Manifest::from_json(&bytes)?
            .media_type
            .unwrap_or_else(|| OCI_MANIFEST.to_owned());
        Ok(Descriptor::new(
            media_type,
            digest.clone(),
            bytes.len() as u64,
        ))
    }

    fn not_found(&self, reference: &str) -> StoreError {
        StoreError::NotFound {
            reference: reference.to_owned(),
            root: self.root().to_owned(),
        }
    }
}

/// A `name:tag` annotation as a [`Reference`]; `None` for a bare tag, which would otherwise read as
/// `<tag>:latest`.
fn full_reference(ref_name: &str) -> Option<Reference> {
    Reference::parse(ref_name)
        .ok()
        .filter(|reference| reference.to_string() == ref_name)
}

fn is_lower_hex(s: &str) -> bool {
    s.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

/// The manifest whose digest starts with `hex`; several entries for one digest count once.
fn find_by_prefix(hex: &str, entries: &[IndexEntry]) -> Result<Option<Descriptor>, StoreError> {
    let mut matches: Vec<&IndexEntry> = entries
        .iter()
        .filter(|e| e.is_modelkit() && e.digest().hex().starts_with(hex))
        .collect();
    matches.sort_by(|a, b| a.digest().cmp(b.digest()));
    matches.dedup_by(|a, b| a.digest() == b.digest());
    match matches.as_slice() {
        [] => Ok(None),
        [only] => Ok(Some(only.descriptor())),
        several => Err(StoreError::AmbiguousDigest {
            prefix: hex.to_owned(),
            count: several.len(),
        }),
    }
}
