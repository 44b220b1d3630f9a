//! Reading a stored ModelKit: its manifest, config, format and Kitfile.

use mkbuild_kitfile::Kitfile;
use mkbuild_store::{Descriptor, Manifest, Store};

use crate::matching::{match_layers, MatchedLayer};
use crate::pack::FORMAT_ANNOTATION;
use crate::EngineError;
use mkbuild_format::KitFacts;
use mkbuild_format::{Format, FormatError, FormatRegistry};

/// Manifests and configs are small JSON documents; anything bigger is refused unread.
const MAX_JSON_BLOB: u64 = 16 << 20;

/// A ModelKit in the store, with its manifest and config read and verified.
#[derive(Debug, Clone)]
pub struct StoredModelKit {
    /// The manifest's descriptor.
    pub descriptor: Descriptor,
    /// The manifest as stored.
    pub manifest_bytes: Vec<u8>,
    /// The manifest, parsed.
    pub manifest: Manifest,
    /// The config blob as stored.
    pub config_bytes: Vec<u8>,
}

/// How the format of a ModelKit is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatOf {
    /// Recorded by mkbuild in the manifest.
    Recorded(String),
    /// Not recorded (made by kit or another tool): the first format whose spec's `[detect]`
    /// rules match.
    Detected(String),
}

impl std::fmt::Display for FormatOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormatOf::Recorded(name) => f.write_str(name),
            FormatOf::Detected(name) => write!(f, "{name} (detected)"),
        }
    }
}

/// What reading a ModelKit's layers needs: how to read them and which entry each holds.
pub struct ReadableModelKit {
    pub format: Format,
    pub format_of: FormatOf,
    pub kitfile: Kitfile,
    pub layers: Vec<MatchedLayer>,
}

impl StoredModelKit {
    /// Loads the ModelKit `reference` (`name[:tag]` or a manifest digest).
    pub fn load(store: &Store, reference: &str) -> Result<StoredModelKit, EngineError> {
        let descriptor = store.resolve(reference)?;
        let manifest_bytes = store.read_blob(&descriptor.digest, MAX_JSON_BLOB)?;
        let manifest = Manifest::from_json(&manifest_bytes)?;
        let config_bytes = store.read_blob(&manifest.config.digest, MAX_JSON_BLOB)?;
        Ok(StoredModelKit {
            descriptor,
            manifest_bytes,
            manifest,
            config_bytes,
        })
    }

    /// The format recorded in the manifest, or else the first whose spec's `[detect]` rules
    /// match the manifest and config (`FormatRegistry::detect`).
    pub fn format(&self, formats: &FormatRegistry) -> Result<FormatOf, EngineError> {
        if let Some(name) = self.manifest.annotations.get(FORMAT_ANNOTATION) {
            return Ok(FormatOf::Recorded(name.clone()));
        }
        let kitfile = Kitfile::from_config_json(&self.config_bytes)?;
        let facts = KitFacts {
            layer_media_types: self
                .manifest
                .layers
                .iter()
                .map(|l| l.media_type.as_str())
                .collect(),
            config_layer_info: kitfile.layer_entries().iter().any(|e| e.info.is_some()),
        };
        match formats.detect(&facts) {
            Some(name) => Ok(FormatOf::Detected(name.to_owned())),
            None => Err(FormatError::Undetected {
                tried: formats.detection_order(),
            }
            .into()),
        }
    }

    /// The format to read this ModelKit with: the recorded one, or the detected generation.
    pub fn resolve_format(
        &self,
        formats: &FormatRegistry,
    ) -> Result<(Format, FormatOf), EngineError> {
        let format_of = self.format(formats)?;
        let format = match &format_of {
            FormatOf::Recorded(name) | FormatOf::Detected(name) => formats.format(name)?,
        };
        Ok((format, format_of))
    }

    /// The format, the config's Kitfile (with its layer facts) and each entry's stored layer.
    pub fn layers(&self, formats: &FormatRegistry) -> Result<ReadableModelKit, EngineError> {
        let (format, format_of) = self.resolve_format(formats)?;
        let kitfile = Kitfile::from_config_json(&self.config_bytes)?;
        let layers = match_layers(
            &self.manifest,
            &kitfile,
            &format.media_types,
            &formats.kitfile_media_types(),
        )?;
        Ok(ReadableModelKit {
            format,
            format_of,
            kitfile,
            layers,
        })
    }

    /// The Kitfile: the stored Kitfile layer's bytes when there is one, else rebuilt from the
    /// config without layer facts.
    pub fn kitfile_bytes(
        &self,
        store: &Store,
        formats: &FormatRegistry,
    ) -> Result<Vec<u8>, EngineError> {
        let kitfile_types = formats.kitfile_media_types();
        if let Some(layer) = self
            .manifest
            .layers
            .iter()
            .find(|l| kitfile_types.contains(&l.media_type))
        {
            return Ok(store.read_blob(&layer.digest, MAX_JSON_BLOB)?);
        }
        let mut kitfile = Kitfile::from_config_json(&self.config_bytes)?;
        kitfile.clear_layer_infos();
        Ok(kitfile.to_yaml()?.into_bytes())
    }

    /// Bytes of all blobs: config, layers and the manifest itself.
    pub fn total_size(&self) -> u64 {
        // Saturating: the sizes come from a manifest that may lie.
        self.manifest.layers.iter().map(|l| l.size).fold(
            self.descriptor
                .size
                .saturating_add(self.manifest.config.size),
            u64::saturating_add,
        )
    }
}
