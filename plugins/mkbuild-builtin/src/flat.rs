use crate::paths::{join, parent, strip_base};
use mkbuild_format::{LayerCodec, PluginError, Settings};

/// kit's legacy layout (before v0.5.0): entry names are relative to the parent of the layer path,
/// so `data/train` holds `train`, `train/a.csv` and a single-file layer holds just its base name.
/// Unpacking puts the entries back under that parent.
#[derive(Debug, Default, Clone, Copy)]
pub struct FlatCodec;

impl FlatCodec {
    /// Builds the codec; it takes no settings.
    pub fn from_settings(settings: Settings) -> Result<Box<dyn LayerCodec>, PluginError> {
        settings.finish(&[])?;
        Ok(Box::new(FlatCodec))
    }
}

impl LayerCodec for FlatCodec {
    fn entry_name(&self, layer: &str, member: &str) -> Result<Option<String>, PluginError> {
        // Members always lie at or under the layer; the parent of `.` is `.` itself.
        Ok(strip_base(member, parent(layer))
            .filter(|name| *name != ".")
            .map(str::to_owned))
    }

    fn restore_path(&self, layer: &str, name: &str) -> Result<Option<String>, PluginError> {
        Ok(Some(join(parent(layer), name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_relative_to_the_parent_of_the_layer() {
        let c = FlatCodec;
        assert_eq!(
            c.entry_name("data/train", "data/train").unwrap().as_deref(),
            Some("train")
        );
        assert_eq!(
            c.entry_name("data/train", "data/train/a.csv")
                .unwrap()
                .as_deref(),
            Some("train/a.csv")
        );
        assert_eq!(
            c.entry_name("m.bin", "m.bin").unwrap().as_deref(),
            Some("m.bin")
        );
        assert_eq!(c.entry_name(".", "x/y").unwrap().as_deref(), Some("x/y"));
        assert_eq!(
            c.restore_path("data/train", "train/a.csv")
                .unwrap()
                .as_deref(),
            Some("data/train/a.csv")
        );
        assert_eq!(c.restore_path(".", "x").unwrap().as_deref(), Some("x"));
        assert!(!c.archives_ancestors());
    }
}
