use mkbuild_builtin::KitfileConfig;
use mkbuild_plugin::{ConfigEnricher, Kitfile, PackedLayer, PluginError, Settings};

/// kit's config object (with layer digests unless `layer-info = false`) plus a `provenance`
/// object last: `{"organisation": ..., "builder": "mkbuild-plugin-acme <version>", "layers": N}`.
/// The Kitfile's keys keep their bytes and order; only the object is appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenanceConfig {
    /// The `organisation` written in the `provenance` object (required setting).
    pub organisation: String,
    /// Whether entries carry their layer's digests (`layer-info`, default true).
    pub layer_info: bool,
}

impl ProvenanceConfig {
    /// Builds the enricher from its settings `organisation` and `layer-info`.
    pub fn from_settings(mut settings: Settings) -> Result<Box<dyn ConfigEnricher>, PluginError> {
        let organisation =
            settings
                .take_string("organisation")?
                .ok_or_else(|| PluginError::MissingSetting {
                    key: "organisation".into(),
                })?;
        let layer_info = settings.take_bool("layer-info")?.unwrap_or(true);
        settings.finish(&["organisation", "layer-info"])?;
        Ok(Box::new(ProvenanceConfig {
            organisation,
            layer_info,
        }))
    }
}

impl ConfigEnricher for ProvenanceConfig {
    fn config(&self, kitfile: &Kitfile, layers: &[PackedLayer]) -> Result<Vec<u8>, PluginError> {
        let mut config = KitfileConfig {
            layer_info: self.layer_info,
        }
        .config(kitfile, layers)?;
        let provenance = serde_json::json!({
            "organisation": self.organisation,
            "builder": concat!("mkbuild-plugin-acme ", env!("CARGO_PKG_VERSION")),
            "layers": layers.len(),
        });
        // The object ends with `}`; the provenance goes in just before it.
        while config.last().is_some_and(u8::is_ascii_whitespace) {
            config.pop();
        }
        if config.pop() != Some(b'}') {
            return Err(PluginError::Failed(
                "the Kitfile config is not a JSON object".into(),
            ));
        }
        if config.last() != Some(&b'{') {
            config.push(b',');
        }
        config.extend_from_slice(br#""provenance":"#);
        config.extend_from_slice(provenance.to_string().as_bytes());
        config.push(b'}');
        Ok(config)
    }

    fn kitfile(&self, config: &[u8]) -> Result<Kitfile, PluginError> {
        let mut value: serde_json::Value =
            serde_json::from_slice(config).map_err(|e| PluginError::Failed(e.to_string()))?;
        if let Some(object) = value.as_object_mut() {
            object.remove("provenance");
        }
        KitfileConfig { layer_info: false }.kitfile(value.to_string().as_bytes())
    }
}
