/// Maps the files of a layer to tar entry names, and entry names back to places on unpack.
///
/// Paths are relative to the context folder, `/`-separated and cleaned; the context itself is `.`.
/// `layer` is the cleaned path of the Kitfile entry the layer was made from.
pub trait LayerCodec: Send + Sync {
    /// The tar entry name of `member`, a file or folder at or under `layer` (or an ancestor of it,
    /// when [`LayerCodec::archives_ancestors`] is true). `None` leaves the member out of the layer.
    fn entry_name(&self, layer: &str, member: &str) -> Option<String>;

    /// Where an entry called `name` of the layer made from `layer` is restored, relative to the
    /// unpack folder: the inverse of [`LayerCodec::entry_name`]. `None` refuses the entry.
    fn restore_path(&self, layer: &str, name: &str) -> Option<String>;

    /// Whether the folders above the layer path are archived as folder entries, so that the tar
    /// alone recreates the layer's place in the context.
    fn archives_ancestors(&self) -> bool {
        false
    }

    /// A failure that a method above could not return (they have no error path), e.g. a loaded
    /// plugin that panicked; taken once. The engine checks it before it stores the config, so a
    /// ModelKit is never finished from a layer the codec failed on.
    fn take_failure(&self) -> Option<String> {
        None
    }
}
