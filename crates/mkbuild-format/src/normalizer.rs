use crate::{EntryHeader, PluginError};

/// Decides the owner, permissions and times that every tar entry carries.
///
/// The engine fills the header from the file on disk (name from the codec, permission bits, size,
/// the file's uid/gid/mtime); the normalizer rewrites what must be reproducible.
pub trait OwnershipNormalizer: Send + Sync {
    /// Rewrites the header of one entry in place; an error stops the pack (or convert) with its
    /// message.
    fn normalize(&self, header: &mut EntryHeader) -> Result<(), PluginError>;
}
