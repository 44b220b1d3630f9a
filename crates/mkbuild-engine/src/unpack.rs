//! Unpack: a stored ModelKit back into a folder, for every generation of ModelKit.
//!
//! The format comes from the manifest's annotation, else from the config (layer digests mean the
//! path-preserving generation `v2`, none the legacy flat `v1`). Each layer is matched to its
//! Kitfile entry, verified while it is read, and its entries are placed by the format's codec
//! through the safe extractor, which stages everything and moves it into place only at the end.

use std::path::Path;

use mkbuild_extract::{CommitSummary, Extractor};
use mkbuild_store::Store;

use crate::layer_reader::with_matched_layer_content;
use crate::modelkit::{FormatOf, StoredModelKit};
use crate::progress::Progress;
use crate::selection::Selection;
use crate::EngineError;
use mkbuild_format::{FormatRegistry, LayerEncoding};

/// The mode of a file unpacked from a raw layer (its metadata annotation is not trusted for it).
const RAW_FILE_MODE: u32 = 0o644;

/// What to unpack, and where.
pub struct UnpackRequest<'a> {
    /// The stored ModelKit to unpack (`name[:tag]` or a manifest digest).
    pub reference: &'a str,
    /// The folder to unpack into.
    pub target: &'a Path,
    /// What to unpack; an empty selection unpacks everything.
    pub selection: &'a Selection,
    /// Replace files that already exist in the target.
    pub overwrite: bool,
    /// Told the bytes of the layers to read, then each byte read.
    pub progress: &'a dyn Progress,
}

/// What unpack wrote.
#[derive(Debug, Clone)]
pub struct UnpackSummary {
    /// The ModelKit's format, and how it was known.
    pub format: FormatOf,
    /// How many layers were unpacked.
    pub layers: usize,
    /// What the extractor wrote into the target.
    pub written: CommitSummary,
}

/// Unpacks a stored ModelKit into a folder: the selected layers, and the Kitfile when selected.
/// Nothing is moved into the target unless every selected layer extracts.
pub fn unpack(
    store: &Store,
    registry: &FormatRegistry,
    request: &UnpackRequest,
) -> Result<UnpackSummary, EngineError> {
    let modelkit = StoredModelKit::load(store, request.reference)?;
    let readable = modelkit.layers(registry)?;
    let codec = &readable.format.codec;
    let codec_plugin = &readable.format.plugins.codec;

    let mut extractor = Extractor::new(request.target)?;
    let selected: Vec<_> = readable
        .layers
        .iter()
        .filter(|l| request.selection.selects_entry(&l.entry))
        .collect();
    request
        .progress
        .start(selected.iter().map(|l| l.descriptor.size).sum());
    let extracted = selected.iter().try_for_each(|layer| {
        // The extractor names the layer and entry; the message names the role and the plugin.
        let place = |name: &str| {
            codec.restore_path(&layer.path, name).map_err(|e| {
                EngineError::Plugin {
                    role: "codec",
                    plugin: codec_plugin.clone(),
                    message: e.to_string(),
                }
                .to_string()
            })
        };
        with_matched_layer_content(store, layer, request.progress, |content, label| {
            match (layer.encoding, &layer.file_path) {
                (LayerEncoding::Raw, Some(path)) => {
                    extractor.add_file_from(path, content, RAW_FILE_MODE, label)?
                }
                _ => {
                    extractor.extract_tar(content, label, &place)?;
                }
            }
            Ok(())
        })
    });
    request.progress.finish();
    extracted?;
    let unpacked = selected.len();
    if request.selection.selects_kitfile() {
        let bytes = modelkit.kitfile_bytes(store, registry)?;
        extractor.add_file("Kitfile", &bytes, 0o644)?;
    }
    let written = extractor.commit(request.overwrite)?;
    Ok(UnpackSummary {
        format: readable.format_of,
        layers: unpacked,
        written,
    })
}
