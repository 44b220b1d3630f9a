use crate::PluginError;

/// Maps the files of a layer to tar entry names, and entry names back to places on unpack.
///
/// Paths are relative to the context folder, `/`-separated and cleaned; the context itself is `.`.
/// `layer` is the cleaned path of the Kitfile entry the layer was made from.
pub trait LayerCodec: Send + Sync {
    /// The tar entry name of `member`, a file or folder at or under `layer` (or an ancestor of it,
    /// when [`LayerCodec::archives_ancestors`] is true). `None` leaves the member out of the layer;
    /// an error stops the pack (or convert) with its message.
    fn entry_name(&self, layer: &str, member: &str) -> Result<Option<String>, PluginError>;

    /// Where an entry called `name` of the layer made from `layer` is restored, relative to the
    /// unpack folder: the inverse of [`LayerCodec::entry_name`]. `None` refuses the entry (it does
    /// not fit the layout); an error means the codec itself failed, and stops the unpack (or
    /// convert) with its message.
    fn restore_path(&self, layer: &str, name: &str) -> Result<Option<String>, PluginError>;

    /// Whether the folders above the layer path are archived as folder entries, so that the tar
    /// alone recreates the layer's place in the context.
    fn archives_ancestors(&self) -> bool {
        false
    }
}
