//! Which layer of a stored ModelKit holds which Kitfile entry.
//!
//! A config that records layer digests (`v2`) finds each entry's layer by digest. Without digests
//! (`v1`, and kit before v0.5) layers are matched to entries by order, checking that each layer's
//! media type names the entry's kind. Layers of media types the format does not know are skipped
//! with a warning, as current kit does.

use mkbuild_kitfile::{Kitfile, LayerEntry};
use mkbuild_store::{Descriptor, Manifest};

use crate::compression::Compression;
use crate::EngineError;
use mkbuild_format::MediaTypes;

/// A Kitfile entry with the stored layer that holds it.
#[derive(Debug, Clone)]
pub struct MatchedLayer {
    pub entry: LayerEntry,
    /// The entry's path, cleaned.
    pub path: String,
    pub descriptor: Descriptor,
    pub compression: Compression,
}

impl MatchedLayer {
    /// Names the layer in messages: the Kitfile entry, its path and the blob.
    pub fn label(&self) -> String {
        format!(
            "{} (`{}`, blob `{}`)",
            self.entry.label, self.path, self.descriptor.digest
        )
    }

    /// The digest of the uncompressed tar, when the config records it.
    pub fn diff_id(&self) -> Option<&str> {
        self.entry.info.as_ref().map(|i| i.diff_id.as_str())
    }
}

const KINDS: [&str; 5] = ["model", "modelpart", "code", "dataset", "docs"];

/// The kind and compression that a layer media type of this format names, if it is one.
pub fn parse_layer_media_type(
    media: &MediaTypes,
    media_type: &str,
) -> Option<(String, Compression)> {
    let (base, compression) = if let Some(base) = media_type.strip_suffix("+gzip") {
        (base, Compression::Gzip)
    } else if let Some(base) = media_type.strip_suffix("+zstd") {
        (base, Compression::Zstd)
    } else {
        (media_type, Compression::None)
    };
    let (before, after) = media.layer.split_once("{kind}")?;
    let kind = base.strip_prefix(before)?.strip_suffix(after)?;
    KINDS
        .contains(&kind)
        .then(|| (kind.to_owned(), compression))
}

/// Matches every layer entry of `kitfile` to a layer of `manifest`.
pub fn match_layers(
    manifest: &Manifest,
    kitfile: &Kitfile,
    media: &MediaTypes,
    kitfile_media_types: &[String],
) -> Result<Vec<MatchedLayer>, EngineError> {
    let mut tar_layers = Vec::new();
    for descriptor in &manifest.layers {
        if kitfile_media_types.contains(&descriptor.media_type) {
            continue;
        }
        match parse_layer_media_type(media, &descriptor.media_type) {
            Some((kind, compression)) => tar_layers.push((descriptor, kind, compression)),
            None => tracing::warn!(
                "skipping layer `{}`: unknown media type `{}`",
                descriptor.digest,
                descriptor.media_type
            ),
        }
    }
    let entries = kitfile.layer_entries();
    let by_digest = entries.iter().any(|e| e.info.is_some());
    if !by_digest && entries.len() != tar_layers.len() {
        return Err(EngineError::Mismatch(format!(
            "the config names {} layer entries but the manifest has {} layers of known media types",
            entries.len(),
            tar_layers.len()
        )));
    }
    let mut matched = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let (descriptor, kind, compression) = if by_digest {
            let info = entry.info.as_ref().ok_or_else(|| {
                EngineError::Mismatch(format!(
                    "{}: the config records no digest for this entry but does for others",
                    entry.label
                ))
            })?;
            tar_layers
                .iter()
                .find(|(d, _, _)| d.digest.as_str() == info.digest)
                .ok_or_else(|| {
                    EngineError::Mismatch(format!(
                        "{}: the config names layer `{}`, which the manifest does not list",
                        entry.label, info.digest
                    ))
                })?
        } else {
            &tar_layers[i]
        };
        if kind != entry.kind.media_kind() {
            return Err(EngineError::Mismatch(format!(
                "{}: layer `{}` has media type `{}`, which is not a {} layer",
                entry.label,
                descriptor.digest,
                descriptor.media_type,
                entry.kind.media_kind()
            )));
        }
        matched.push(MatchedLayer {
            path: mkbuild_path::clean(&entry.path),
            entry,
            descriptor: (*descriptor).clone(),
            compression: *compression,
        });
    }
    Ok(matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_media_types_parse() {
        let media = MediaTypes {
            layer: "application/vnd.kitops.modelkit.{kind}.v1.tar".into(),
            config: "c".into(),
            kitfile: None,
        };
        assert_eq!(
            parse_layer_media_type(
                &media,
                "application/vnd.kitops.modelkit.dataset.v1.tar+zstd"
            ),
            Some(("dataset".into(), Compression::Zstd))
        );
        assert_eq!(
            parse_layer_media_type(&media, "application/vnd.kitops.modelkit.code.v1.tar"),
            Some(("code".into(), Compression::None))
        );
        assert_eq!(
            parse_layer_media_type(&media, "application/vnd.kitops.modelkit.weights.v1.tar"),
            None
        );
        assert_eq!(
            parse_layer_media_type(&media, "application/octet-stream"),
            None
        );
    }
}
