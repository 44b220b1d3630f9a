use mkbuild_format::{LayerCodec, PluginError, Settings};

/// kit's layout since v0.5.0: entry names are the paths relative to the context, and the folders
/// above the layer path are archived too, so every layer unpacks at the root.
#[derive(Debug, Default, Clone, Copy)]
pub struct PathPreservingCodec;

impl PathPreservingCodec {
    /// Builds the codec; it takes no settings.
    pub fn from_settings(settings: Settings) -> Result<Box<dyn LayerCodec>, PluginError> {
        settings.finish(&[])?;
        Ok(Box::new(PathPreservingCodec))
    }
}

impl LayerCodec for PathPreservingCodec {
    fn entry_name(&self, _layer: &str, member: &str) -> Result<Option<String>, PluginError> {
        Ok((member != ".").then(|| member.to_owned()))
    }

    fn restore_path(&self, _layer: &str, name: &str) -> Result<Option<String>, PluginError> {
        Ok(Some(name.to_owned()))
    }

    fn archives_ancestors(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_context_paths() {
        let c = PathPreservingCodec;
        assert_eq!(
            c.entry_name("data/x/m", "data").unwrap().as_deref(),
            Some("data")
        );
        assert_eq!(
            c.entry_name("data/x/m", "data/x/m").unwrap().as_deref(),
            Some("data/x/m")
        );
        assert_eq!(c.entry_name(".", ".").unwrap(), None);
        assert_eq!(
            c.restore_path("data", "data/a").unwrap().as_deref(),
            Some("data/a")
        );
        assert!(c.archives_ancestors());
    }
}
