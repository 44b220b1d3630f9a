use mkbuild_format::{layer_infos, ConfigEnricher, Kitfile, PackedLayer, PluginError, Settings};

/// The config object kit writes: the Kitfile as Go's encoding/json writes it. With
/// `layer-info = true` every Kitfile entry also carries its layer's `digest` and `diffId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KitfileConfig {
    /// Whether entries carry their layer's digests (`layer-info`, default false).
    pub layer_info: bool,
}

impl KitfileConfig {
    /// Builds the enricher from its setting `layer-info`.
    pub fn from_settings(mut settings: Settings) -> Result<Box<dyn ConfigEnricher>, PluginError> {
        let layer_info = settings.take_bool("layer-info")?.unwrap_or(false);
        settings.finish(&["layer-info"])?;
        Ok(Box::new(KitfileConfig { layer_info }))
    }
}

impl ConfigEnricher for KitfileConfig {
    fn config(&self, kitfile: &Kitfile, layers: &[PackedLayer]) -> Result<Vec<u8>, PluginError> {
        let mut kitfile = kitfile.clone();
        if self.layer_info {
            let infos = layer_infos(&kitfile, layers).map_err(|e| {
                PluginError::Failed(format!(
                    "{e}: this config records one layer per Kitfile entry, so with raw layers every entry must name a single file (as kit requires); pack folders as tars (`--layer-format tar`) or use a format that splits them (`--format modelpack`)"
                ))
            })?;
            kitfile
                .set_layer_infos(infos)
                .map_err(|e| PluginError::Failed(e.to_string()))?;
        } else {
            kitfile.clear_layer_infos();
        }
        Ok(kitfile.to_config_json())
    }
}
