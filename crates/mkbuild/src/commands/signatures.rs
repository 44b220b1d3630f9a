//! The model signatures stored with a ModelKit: its OCI referrers holding a Sigstore bundle whose
//! predicate is a model signature. Attestations (`attest --attach`) are bundles too; the
//! predicate type annotation tells them apart. A bundle stored before that annotation existed
//! has none and is a signature.

use mkbuild_sign::{BUNDLE_MEDIA_TYPE, PREDICATE_TYPE_ANNOTATION, SIGNATURE_PREDICATE_TYPE};
use mkbuild_store::{Digest, Store, StoreError, StoredReferrer};

/// The signature referrers of the manifest `subject`, in the order they were stored.
pub fn stored(store: &Store, subject: &Digest) -> Result<Vec<StoredReferrer>, StoreError> {
    let mut referrers = store.referrers(subject, Some(BUNDLE_MEDIA_TYPE))?;
    referrers.retain(|r| {
        r.manifest
            .annotations
            .get(PREDICATE_TYPE_ANNOTATION)
            .is_none_or(|t| t == SIGNATURE_PREDICATE_TYPE)
    });
    Ok(referrers)
}

/// The annotations of a stored bundle whose statement has the predicate type `predicate_type`.
pub fn annotations(predicate_type: &str) -> std::collections::BTreeMap<String, String> {
    [(
        PREDICATE_TYPE_ANNOTATION.to_owned(),
        predicate_type.to_owned(),
    )]
    .into()
}
