use crate::{Digest, Kitfile, LayerEntry, LayerInfo, PluginError};

/// A layer as it was stored: the Kitfile entry it came from and its descriptor facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedLayer {
    /// The Kitfile entry the layer was made from.
    pub entry: LayerEntry,
    /// The layer's media type, as stored in the manifest.
    pub media_type: String,
    /// Digest of the stored (possibly compressed) blob.
    pub digest: Digest,
    /// Digest of the uncompressed layer; equal to `digest` when uncompressed.
    pub diff_id: Digest,
    /// Size of the stored blob in bytes.
    pub size: u64,
    /// The layer descriptor's annotations (the path it holds, a raw file's metadata, a prompt's
    /// subtype), as the format's `[layers]` table asks; empty for most formats.
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// Each Kitfile entry's layer facts, in [`Kitfile::layer_entries`] order: the digests of the one
/// layer made from it. Layers are told to their entry by kind and path, never by position, so an
/// entry with no layer (an empty folder packed raw) cannot shift the others; the error names an
/// entry with no layer or several (raw layers of a folder).
pub fn layer_infos(kitfile: &Kitfile, layers: &[PackedLayer]) -> Result<Vec<LayerInfo>, String> {
    kitfile
        .layer_entries()
        .iter()
        .map(|entry| {
            let mut made = layers
                .iter()
                .filter(|l| l.entry.kind == entry.kind && l.entry.path == entry.path);
            match (made.next(), made.count()) {
                (Some(layer), 0) => Ok(LayerInfo {
                    digest: layer.digest.to_string(),
                    diff_id: layer.diff_id.to_string(),
                }),
                (None, _) => Err(format!("{} has no layer (no files)", entry.label)),
                (Some(_), more) => Err(format!("{} has {} layers", entry.label, more + 1)),
            }
        })
        .collect()
}

/// Writes the config blob of a ModelKit.
pub trait ConfigEnricher: Send + Sync {
    /// The config bytes for `kitfile`, given its layers in manifest order.
    fn config(&self, kitfile: &Kitfile, layers: &[PackedLayer]) -> Result<Vec<u8>, PluginError>;

    /// The config bytes for a pack that has a creation time (`created`, RFC 3339 in UTC, from
    /// `SOURCE_DATE_EPOCH`), for formats whose config records one; others keep the default,
    /// [`ConfigEnricher::config`]. Pack calls this one.
    fn config_at(
        &self,
        kitfile: &Kitfile,
        layers: &[PackedLayer],
        created: Option<&str>,
    ) -> Result<Vec<u8>, PluginError> {
        let _ = created;
        self.config(kitfile, layers)
    }

    /// The Kitfile that a config written by [`ConfigEnricher::config`] describes, without layer
    /// facts; used to restore a Kitfile from a ModelKit that does not carry one.
    fn kitfile(&self, config: &[u8]) -> Result<Kitfile, PluginError> {
        let mut kitfile =
            Kitfile::from_config_json(config).map_err(|e| PluginError::Failed(e.to_string()))?;
        kitfile.clear_layer_infos();
        Ok(kitfile)
    }
}
