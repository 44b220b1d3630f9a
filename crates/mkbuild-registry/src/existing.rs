//! Whether a blob the store has already may be reused by a pull: a file of the right name is not
//! enough (a damaged store keeps its names), so its size is always checked and, when asked, its
//! hash. A symlink or other non-regular file at a blob's path counts as damaged.

use std::io::Read as _;

use mkbuild_store::{Descriptor, Digest, Store, StoreError};

/// What the store holds for a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Presence {
    Absent,
    Intact,
    /// A file is there, but not the blob; why, for the log.
    Damaged(String),
}

/// Checks the stored file of `blob`: its size, and its digest when `hash` is set.
pub(crate) fn check_present(store: &Store, blob: &Descriptor, hash: bool) -> Presence {
    let path = store.blob_path(&blob.digest);
    if std::fs::symlink_metadata(&path).is_err() {
        return Presence::Absent;
    }
    let mut file = match store.open_blob(&blob.digest) {
        Ok(file) => file,
        Err(StoreError::BlobNotFound { .. }) => return Presence::Absent,
        Err(e) => return Presence::Damaged(e.to_string()),
    };
    let size = match file.metadata() {
        Ok(metadata) => metadata.len(),
        Err(e) => return Presence::Damaged(format!("its size cannot be read: {e}")),
    };
    if size != blob.size {
        return Presence::Damaged(format!(
            "it has {size} bytes, the manifest says {}",
            blob.size
        ));
    }
    if !hash {
        return Presence::Intact;
    }
    let mut hasher = sha2::Sha256::default();
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => sha2::Digest::update(&mut hasher, &buffer[..n]),
            Err(e) => return Presence::Damaged(format!("it cannot be read: {e}")),
        }
    }
    let actual = Digest::from_hasher(hasher);
    if actual == blob.digest {
        Presence::Intact
    } else {
        Presence::Damaged(format!("its content hashes to `{actual}`"))
    }
}
