use crate::{EntryKind, PluginError};

/// Decides which files and folders of the context may ship at all.
///
/// The engine asks before it plans a file into any layer: a file or folder the filter refuses is
/// left out as if `.kitignore` named it (a refused folder is not entered). Layer paths themselves
/// are subject to the filter too.
pub trait FileFilter: Send + Sync {
    /// Whether `path` (relative to the context, `/`-separated, cleaned) may go into a layer.
    fn includes(&self, path: &str, kind: EntryKind) -> Result<bool, PluginError>;
}
