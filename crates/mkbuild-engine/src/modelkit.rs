//! Reading a stored ModelKit: its manifest, config, format and Kitfile.

use mkbuild_kitfile::Kitfile;
use mkbuild_store::{Descriptor, Manifest, Store};

use crate::blob_source::{read_small, BlobSource};
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
    /// Recorded, but no format of that name is known here (its spec folder was not given): read
    /// with the first known format whose `[detect]` rules match, so a ModelKit travels without
    /// its spec.
    Substituted {
        /// The format the manifest records.
        recorded: String,
        /// The format it is read with.
        used: String,
    },
}

impl FormatOf {
    /// The name of the format the ModelKit is read with.
    pub fn used(&self) -> &str {
        match self {
            FormatOf::Recorded(name) | FormatOf::Detected(name) => name,
            FormatOf::Substituted { used, .. } => used,
        }
    }
}

impl std::fmt::Display for FormatOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormatOf::Recorded(name) => f.write_str(name),
            FormatOf::Detected(name) => write!(f, "{name} (detected)"),
            FormatOf::Substituted { recorded, used } => {
                write!(
                    f,
                    "{used} (detected; recorded `{recorded}` is not known here)"
                )
            }
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
        match self.detect(formats) {
            Some(name) => Ok(FormatOf::Detected(name)),
            None => Err(FormatError::Undetected {
                tried: formats.detection_order(),
            }
            .into()),
        }
    }

    /// The first format whose spec's `[detect]` rules match the manifest and config.
    fn detect(&self, formats: &FormatRegistry) -> Option<String> {
        // A config that is not a Kitfile (a ModelPack's) records no layer facts.
        let config_layer_info = Kitfile::from_config_json(&self.config_bytes)
            .is_ok_and(|k| k.layer_entries().iter().any(|e| e.info.is_some()));
        let facts = KitFacts {
            layer_media_types: self
                .manifest
                .layers
                .iter()
                .map(|l| l.media_type.as_str())
                .collect(),
            artifact_type: self.manifest.artifact_type.as_deref(),
            config_media_type: &self.manifest.config.media_type,
            layer_annotations: self
                .manifest
                .layers
                .iter()
                .map(|l| l.annotations.keys().map(String::as_str).collect())
                .collect(),
            config_layer_info,
        };
        formats.detect(&facts).map(str::to_owned)
    }

    /// The format to read this ModelKit with: the recorded one, or the detected generation. A
    /// recorded format not known here (its `--spec-dir` not given) gives way to the format its
    /// layers and config match ([`FormatOf::Substituted`]).
    pub fn resolve_format(
        &self,
        formats: &FormatRegistry,
    ) -> Result<(Format, FormatOf), EngineError> {
        let format_of = match self.format(formats)? {
            FormatOf::Recorded(recorded) if !formats.knows(&recorded) => {
                match self.detect(formats) {
                    Some(used) => FormatOf::Substituted { recorded, used },
                    // Nothing matches: the unknown recorded name is the error to show.
                    None => FormatOf::Recorded(recorded),
                }
            }
            known => known,
        };
        let format = formats.format(format_of.used())?;
        Ok((format, format_of))
    }

    /// The Kitfile with its layer facts, where `format` keeps it: the manifest annotation of
    /// formats that carry it there (ModelPack), else the config (kit's formats). A ModelKit of
    /// the first kind without the annotation (made by modctl, say) gets a Kitfile derived from
    /// its layers, as kit derives one.
    pub fn kitfile(&self, format: &Format) -> Result<Kitfile, EngineError> {
        let Some(key) = &format.kitfile_annotation else {
            return Ok(Kitfile::from_config_json(&self.config_bytes)?);
        };
        match self.manifest.annotations.get(key) {
            Some(json) if !json.is_empty() => Ok(Kitfile::from_config_json(json.as_bytes())
                .map_err(|e| {
                    EngineError::Mismatch(format!("the manifest annotation `{key}`: {e}"))
                })?),
            _ => derive_kitfile(&self.manifest, format),
        }
    }

    /// The format, the Kitfile (with its layer facts) and each entry's stored layers.
    pub fn layers(&self, formats: &FormatRegistry) -> Result<ReadableModelKit, EngineError> {
        let (format, format_of) = self.resolve_format(formats)?;
        if let FormatOf::Substituted { recorded, used } = &format_of {
            tracing::warn!(
                "`{}` was written in format `{recorded}`, which is not known here; reading it as `{used}`, the format its layers and config match (give the spec folder of `{recorded}` with `--spec-dir` to read it as written)",
                self.descriptor.digest
            );
        }
        let kitfile = self.kitfile(&format)?;
        let layers = match_layers(
            &self.manifest,
            &kitfile,
            &format.media_types,
            &formats.kitfile_media_types(),
            &format.layers.path_annotations().collect::<Vec<_>>(),
        )?;
        Ok(ReadableModelKit {
            format,
            format_of,
            kitfile,
            layers,
        })
    }

    /// The Kitfile: the stored Kitfile layer's bytes when there is one, else the Kitfile the
    /// format keeps (annotation or config) as YAML, without layer facts.
    pub fn kitfile_bytes(
        &self,
        source: &dyn BlobSource,
        formats: &FormatRegistry,
    ) -> Result<Vec<u8>, EngineError> {
        // A partial ModelKit pulled without its Kitfile layer still has the config's Kitfile.
        let not_pulled = |layer: &Descriptor| {
            self.is_partial() && source.store().is_some_and(|s| !s.has_blob(&layer.digest))
        };
        if let Some(layer) = self.kitfile_layer(formats).filter(|l| !not_pulled(l)) {
            return read_small(source, layer, MAX_JSON_BLOB, "the Kitfile layer");
        }
        let (format, _) = self.resolve_format(formats)?;
        let mut kitfile = self.kitfile(&format)?;
        kitfile.clear_layer_infos();
        Ok(kitfile.to_yaml()?.into_bytes())
    }

    /// The layer that holds the Kitfile, in formats that store it as a layer (`v2`).
    pub fn kitfile_layer(&self, formats: &FormatRegistry) -> Option<&Descriptor> {
        let kitfile_types = formats.kitfile_media_types();
        self.manifest
            .layers
            .iter()
            .find(|l| kitfile_types.contains(&l.media_type))
    }

    /// Whether the store's entry of this ModelKit marks it partial (pulled with `--filter`).
    pub fn is_partial(&self) -> bool {
        self.descriptor.is_marked_partial()
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

/// A Kitfile for a ModelKit that carries none, from its layers as kit derives one
/// (`GenerateKitfileForModelPack`): the first model layer is the model, later model layers and
/// model-part layers are parts, then code, datasets and docs, each at the path its layer's path
/// annotation names. A layer without that annotation, or of a media type the format does not
/// know, is an error naming it.
fn derive_kitfile(manifest: &Manifest, format: &Format) -> Result<Kitfile, EngineError> {
    let key = format.layers.path_annotation.as_deref().ok_or_else(|| {
        EngineError::Mismatch(format!(
            "the ModelKit has no Kitfile (no manifest annotation `{}`) and format `{}` names no path annotation to derive one from",
            format.kitfile_annotation.as_deref().unwrap_or_default(),
            format.name
        ))
    })?;
    let mut model: Option<String> = None;
    let mut sections: std::collections::BTreeMap<&str, Vec<serde_json::Value>> =
        std::collections::BTreeMap::new();
    for layer in &manifest.layers {
        let kind = format
            .media_types
            .parse_layer(&layer.media_type)
            .map(|t| t.kind)
            .ok_or_else(|| {
                EngineError::Mismatch(format!(
                    "layer `{}` has media type `{}`, which format `{}` does not know, and the ModelKit has no Kitfile to say what it is",
                    layer.digest, layer.media_type, format.name
                ))
            })?;
        let path = format
            .layers
            .path_annotations()
            .find_map(|k| layer.annotations.get(k))
            .ok_or_else(|| {
            EngineError::Mismatch(format!(
                "layer `{}` has no annotation `{key}` naming its path, and the ModelKit has no Kitfile (annotation `{}`); unpack cannot place it",
                layer.digest,
                format.kitfile_annotation.as_deref().unwrap_or_default()
            ))
        })?;
        let section = match kind {
            "model" if model.is_none() => {
                model = Some(path.clone());
                continue;
            }
            "model" | "modelpart" => "parts",
            "code" => "code",
            "dataset" => "datasets",
            _ => "docs",
        };
        sections
            .entry(section)
            .or_default()
            .push(serde_json::json!({ "path": path }));
    }
    let mut kitfile = serde_json::Map::new();
    kitfile.insert("manifestVersion".into(), "1.0.0".into());
    let parts = sections.remove("parts");
    if model.is_some() || parts.is_some() {
        let mut m = serde_json::Map::new();
        if let Some(path) = model {
            m.insert("path".into(), path.into());
        }
        if let Some(parts) = parts {
            m.insert("parts".into(), parts.into());
        }
        kitfile.insert("model".into(), m.into());
    }
    for (section, entries) in sections {
        kitfile.insert(section.into(), entries.into());
    }
    let json = serde_json::Value::Object(kitfile).to_string();
    Kitfile::from_config_json(json.as_bytes()).map_err(|e| {
        EngineError::Mismatch(format!(
            "the Kitfile derived from the ModelKit's layers is not valid: {e}"
        ))
    })
}
