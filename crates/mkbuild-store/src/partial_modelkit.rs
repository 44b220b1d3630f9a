//! Partial ModelKits: pulled with `--filter`, so the store holds the manifest, the config and
//! only the layers asked for. The mark is an annotation on the ModelKit's `index.json` entries
//! (ours to write), so that `verify` expects the missing layers, `push` refuses, and a later full
//! pull clears it.

use crate::media_type::ANNOTATION_PARTIAL;
use crate::{Descriptor, Digest, Store, StoreError};

impl Descriptor {
    /// Whether this `index.json` entry marks its ModelKit partial.
    pub fn is_marked_partial(&self) -> bool {
        self.annotations
            .get(ANNOTATION_PARTIAL)
            .is_some_and(|v| v == "true")
    }

    /// This descriptor with the partial mark set (or removed).
    pub fn with_partial_mark(mut self, partial: bool) -> Descriptor {
        if partial {
            self.annotations
                .insert(ANNOTATION_PARTIAL.to_owned(), "true".to_owned());
        } else {
            self.annotations.remove(ANNOTATION_PARTIAL);
        }
        self
    }
}

impl Store {
    /// Marks every `index.json` entry of the ModelKit `digest` partial, or clears the mark.
    pub fn set_partial(&self, digest: &Digest, partial: bool) -> Result<(), StoreError> {
        let lock = self.lock_index()?;
        let mut index = self.read_index()?;
        if index.set_partial(digest, partial) {
            self.write_index(&lock, &index)?;
        }
        Ok(())
    }

    /// Whether an `index.json` entry of the ModelKit `digest` marks it partial.
    pub fn is_partial(&self, digest: &Digest) -> Result<bool, StoreError> {
        Ok(self
            .read_index()?
            .manifests
            .iter()
            .any(|entry| entry.digest() == digest && entry.descriptor().is_marked_partial()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Reference;

    #[test]
    fn the_mark_follows_every_entry_and_a_full_tag_clears_it() -> Result<(), StoreError> {
        let dir =
            tempfile::tempdir().map_err(StoreError::io("tempdir", std::path::Path::new("")))?;
        let store = Store::open(dir.path())?;
        let (digest, size) = store.put_blob(br#"{"schemaVersion":2,"layers":[]}"#)?;
        let manifest = Descriptor::new(crate::media_type::OCI_MANIFEST, digest.clone(), size);
        let a = Reference::parse("r/a:1")?;
        store.tag(&a, &manifest.clone().with_partial_mark(true))?;
        store.keep_untagged(&manifest)?;
        assert!(store.is_partial(&digest)?);
        assert!(store.resolve("r/a:1")?.is_marked_partial());
        // Tagged again whole: the same digest, without the mark, replaces the entry.
        store.tag(&a, &manifest)?;
        assert!(!store.resolve("r/a:1")?.is_marked_partial());
        store.set_partial(&digest, true)?;
        assert!(store.resolve("r/a:1")?.is_marked_partial());
        store.set_partial(&digest, false)?;
        assert!(!store.is_partial(&digest)?);
        Ok(())
    }
}
