use crate::EntryHeader;

/// Decides the owner, permissions and times that every tar entry carries.
///
/// The engine fills the header from the file on disk (name from the codec, permission bits, size,
/// the file's uid/gid/mtime); the normalizer rewrites what must be reproducible.
pub trait OwnershipNormalizer: Send + Sync {
    /// Rewrites the header of one entry in place.
    fn normalize(&self, header: &mut EntryHeader);

    /// A failure that [`OwnershipNormalizer::normalize`] could not return, e.g. a loaded plugin
    /// that panicked; taken once. See [`crate::LayerCodec::take_failure`].
    fn take_failure(&self) -> Option<String> {
        None
    }
}
