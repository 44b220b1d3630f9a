//! Which layer of a stored ModelKit holds which Kitfile entry.
//!
//! Layers whose descriptors name their path (the format's `[layers] path-annotation`, as ModelPack
//! and today's kit write) are matched by it: a tar layer to the entry of that path, a raw layer to
//! the entry whose path is the file or a folder above it. Otherwise a config that records layer
//! digests (`v2`) finds each entry's layer by digest, and without digests (`v1`, kit before v0.5)
//! layers are matched to entries by order. Either way each layer's media type must name the
//! entry's kind. Layers of media types the format does not know are skipped with a warning, as
//! current kit does.

use std::collections::HashMap;

use mkbuild_format::{LayerEncoding, LayerType, MediaTypes};
use mkbuild_kitfile::{Kitfile, LayerEntry};
use mkbuild_store::{Descriptor, Manifest};

use crate::compression::Compression;
use crate::EngineError;

/// A Kitfile entry with a stored layer that holds it (or, for raw layers, one of its files).
#[derive(Debug, Clone)]
pub struct MatchedLayer {
    pub entry: LayerEntry,
    /// The entry's path, cleaned.
    pub path: String,
    pub descriptor: Descriptor,
    pub compression: Compression,
    pub encoding: LayerEncoding,
    /// For a raw layer: the file's path relative to the context, from the path annotation.
    pub file_path: Option<String>,
}

impl MatchedLayer {
    /// Names the layer in messages: the Kitfile entry, its path and the blob.
    pub fn label(&self) -> String {
        format!(
            "{} (`{}`, blob `{}`)",
            self.entry.label,
            self.file_path.as_deref().unwrap_or(&self.path),
            self.descriptor.digest
        )
    }

    /// The digest of the uncompressed layer, when the config records it.
    pub fn diff_id(&self) -> Option<&str> {
        self.entry.info.as_ref().map(|i| i.diff_id.as_str())
    }
}

/// A content layer of the manifest with what its media type says.
struct ContentLayer<'a> {
    descriptor: &'a Descriptor,
    layer_type: LayerType,
    compression: Compression,
}

/// The content layers of `manifest` that `media` knows, in manifest order; Kitfile layers are
/// left out, unknown media types skipped with a warning.
fn content_layers<'a>(
    manifest: &'a Manifest,
    media: &MediaTypes,
    kitfile_media_types: &[String],
) -> Vec<ContentLayer<'a>> {
    let mut layers = Vec::new();
    for descriptor in &manifest.layers {
        if kitfile_media_types.contains(&descriptor.media_type) {
            continue;
        }
        let parsed = media
            .parse_layer(&descriptor.media_type)
            .and_then(|t| Compression::from_suffix(t.compression).map(|c| (t, c)));
        match parsed {
            Some((layer_type, compression)) => layers.push(ContentLayer {
                descriptor,
                layer_type,
                compression,
            }),
            None => tracing::warn!(
                "skipping layer `{}`: unknown media type `{}`",
                descriptor.digest,
                descriptor.media_type
            ),
        }
    }
    layers
}

/// Matches the layers of `manifest` to the layer entries of `kitfile`; `path_annotations` are the
/// format's `[layers] path-annotation` and its older names, the first that every layer carries
/// being used.
pub fn match_layers(
    manifest: &Manifest,
    kitfile: &Kitfile,
    media: &MediaTypes,
    kitfile_media_types: &[String],
    path_annotations: &[&str],
) -> Result<Vec<MatchedLayer>, EngineError> {
    let layers = content_layers(manifest, media, kitfile_media_types);
    let path_annotation = path_annotations.first().copied();
    let annotated = path_annotations.iter().copied().find(|key| {
        !layers.is_empty()
            && layers
                .iter()
                .all(|l| l.descriptor.annotations.contains_key(*key))
    });
    if let Some(key) = annotated {
        return match_by_path(&layers, kitfile, key);
    }
    if let Some(raw) = layers
        .iter()
        .find(|l| l.layer_type.encoding == LayerEncoding::Raw)
    {
        return Err(EngineError::Mismatch(format!(
            "raw layer `{}` does not name its file{}; without it, unpack cannot place it",
            raw.descriptor.digest,
            path_annotation.map_or_else(String::new, |k| format!(" (annotation `{k}`)"))
        )));
    }
    match_by_config(&layers, kitfile)
}

/// Each layer to the entry its path annotation names (a raw layer: the entry at or above its
/// file, the nearest one). Entries without a layer are left out (a folder with no files has no raw
/// layer). A second tar layer for one entry, or a second raw layer for one file, is refused.
fn match_by_path(
    layers: &[ContentLayer],
    kitfile: &Kitfile,
    key: &str,
) -> Result<Vec<MatchedLayer>, EngineError> {
    let entries = kitfile.layer_entries();
    let paths: Vec<String> = entries
        .iter()
        .map(|e| mkbuild_path::clean(&e.path))
        .collect();
    // (media kind, cleaned path) -> the first entry with them: each layer looks up its path and,
    // for a raw layer, the folders above it, so matching stays linear in the layers.
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, (entry, path)) in entries.iter().zip(&paths).enumerate() {
        index
            .entry((entry.kind.media_kind(), path.as_str()))
            .or_insert(i);
    }
    let mut tar_holders: HashMap<usize, &str> = HashMap::new();
    let mut raw_files: HashMap<String, &str> = HashMap::new();
    let mut matched = Vec::with_capacity(layers.len());
    for layer in layers {
        let digest = layer.descriptor.digest.as_str();
        let raw_path = layer
            .descriptor
            .annotations
            .get(key)
            .map_or("", String::as_str);
        let path = checked_layer_path(raw_path).map_err(|problem| {
            EngineError::Mismatch(format!(
                "layer `{digest}`: annotation `{key}` `{}` {problem}",
                shortened(raw_path)
            ))
        })?;
        let kind = layer.layer_type.kind;
        let raw = layer.layer_type.encoding == LayerEncoding::Raw;
        let holder = if raw {
            holder_of_file(&index, kind, &path)
        } else {
            lookup(&index, kind, &path)
        };
        let Some(i) = holder else {
            return Err(EngineError::Mismatch(format!(
                "layer `{digest}` ({}) holds `{path}`, which no {kind} entry of the Kitfile names",
                layer.descriptor.media_type
            )));
        };
        let earlier = if raw {
            raw_files.insert(path.clone(), digest)
        } else {
            tar_holders.insert(i, digest)
        };
        if let Some(earlier) = earlier {
            return Err(EngineError::Mismatch(format!(
                "layers `{earlier}` and `{digest}` both hold `{path}`; a ModelKit holds each path once"
            )));
        }
        matched.push(MatchedLayer {
            entry: entries[i].clone(),
            path: paths[i].clone(),
            descriptor: layer.descriptor.clone(),
            compression: layer.compression,
            encoding: layer.layer_type.encoding,
            file_path: raw.then(|| path.clone()),
        });
    }
    Ok(matched)
}

/// The entry of `kind` at `path`. Weights are one family: a ModelPack's `weight` layers hold the
/// model and, after the first, parts (as kit derives a Kitfile), so each kind also finds the other.
fn lookup(index: &HashMap<(&str, &str), usize>, kind: &str, path: &str) -> Option<usize> {
    let sibling = match kind {
        "model" => Some("modelpart"),
        "modelpart" => Some("model"),
        _ => None,
    };
    index
        .get(&(kind, path))
        .or_else(|| sibling.and_then(|s| index.get(&(s, path))))
        .copied()
}

/// The nearest entry of `kind` at or above the file `path`.
fn holder_of_file(index: &HashMap<(&str, &str), usize>, kind: &str, path: &str) -> Option<usize> {
    let mut at = path;
    loop {
        if let Some(i) = lookup(index, kind, at) {
            return Some(i);
        }
        if at == "." {
            return None;
        }
        at = at.rsplit_once('/').map_or(".", |(parent, _)| parent);
    }
}

/// A hostile value, printable and at most about 200 characters long.
fn shortened(value: &str) -> String {
    const SHOWN: usize = 200;
    let shown = mkbuild_extract::printable(value);
    match shown.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}... ({} bytes)", &shown[..cut], value.len()),
        None => shown,
    }
}

/// A layer path from an annotation: relative, inside the context, naming a file or folder (no
/// trailing `/`), not one of the Kitfile's names (unpack writes the Kitfile), cleaned.
fn checked_layer_path(path: &str) -> Result<String, &'static str> {
    if path.is_empty() {
        return Err("is empty");
    }
    if mkbuild_path::is_absolute(path) {
        return Err("is absolute; layer paths are relative to the ModelKit's folder");
    }
    if mkbuild_path::escapes(path) {
        return Err("leads outside the ModelKit's folder (`..`)");
    }
    if path.chars().any(char::is_control) || path.contains('\\') {
        return Err("has a control character or a backslash");
    }
    // Characters that reorder how a name is shown (U+202A-202E, U+2066-2069) could make one path
    // pass for another in a listing.
    if path
        .chars()
        .any(|c| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
    {
        return Err("has a character that reorders text (a bidirectional control)");
    }
    if path.len() > 1 && path.ends_with('/') {
        return Err("ends with `/`; a layer names a file or a folder without it");
    }
    let clean = mkbuild_path::clean(path);
    if ["Kitfile", "kitfile", ".kitfile"].contains(&clean.as_str()) {
        return Err("is the Kitfile's name, which unpack writes itself");
    }
    Ok(clean)
}

/// One layer per entry, by the digests the config records or else by order.
fn match_by_config(
    layers: &[ContentLayer],
    kitfile: &Kitfile,
) -> Result<Vec<MatchedLayer>, EngineError> {
    let entries = kitfile.layer_entries();
    let by_digest = entries.iter().any(|e| e.info.is_some());
    if !by_digest && entries.len() != layers.len() {
        return Err(EngineError::Mismatch(format!(
            "the config names {} layer entries but the manifest has {} layers of known media types",
            entries.len(),
            layers.len()
        )));
    }
    let mut matched = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let layer = if by_digest {
            let info = entry.info.as_ref().ok_or_else(|| {
                EngineError::Mismatch(format!(
                    "{}: the config records no digest for this entry but does for others",
                    entry.label
                ))
            })?;
            layers
                .iter()
                .find(|l| l.descriptor.digest.as_str() == info.digest)
                .ok_or_else(|| {
                    EngineError::Mismatch(format!(
                        "{}: the config names layer `{}`, which the manifest does not list",
                        entry.label, info.digest
                    ))
                })?
        } else {
            &layers[i]
        };
        if layer.layer_type.kind != entry.kind.media_kind() {
            return Err(EngineError::Mismatch(format!(
                "{}: layer `{}` has media type `{}`, which is not a {} layer",
                entry.label,
                layer.descriptor.digest,
                layer.descriptor.media_type,
                entry.kind.media_kind()
            )));
        }
        matched.push(MatchedLayer {
            path: mkbuild_path::clean(&entry.path),
            entry,
            descriptor: layer.descriptor.clone(),
            compression: layer.compression,
            encoding: layer.layer_type.encoding,
            file_path: None,
        });
    }
    Ok(matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kind and compression that a layer media type of this format names, if it is one.
    fn parse_layer_media_type(
        media: &MediaTypes,
        media_type: &str,
    ) -> Option<(String, Compression)> {
        let layer_type = media.parse_layer(media_type)?;
        Some((
            layer_type.kind.to_owned(),
            Compression::from_suffix(layer_type.compression)?,
        ))
    }

    fn media(layer: &str) -> MediaTypes {
        toml::from_str(&format!("layer = {layer:?}\nconfig = \"c\"")).expect("media types")
    }

    #[test]
    fn layer_media_types_parse() {
        let media = media("application/vnd.kitops.modelkit.{kind}.v1.tar");
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

    #[test]
    fn layer_paths_from_annotations_are_checked() {
        assert_eq!(
            checked_layer_path("./models/a.bin"),
            Ok("models/a.bin".into())
        );
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "C:\\x",
            "a\nb",
            "src/",
            "Kitfile",
            "./kitfile",
            "evil\u{202e}txt.exe",
        ] {
            assert!(checked_layer_path(bad).is_err(), "{bad:?}");
        }
        let index: HashMap<(&str, &str), usize> = [
            (("model", "."), 0),
            (("model", "models"), 1),
            (("code", "models/src"), 2),
        ]
        .into();
        assert_eq!(holder_of_file(&index, "model", "a.bin"), Some(0));
        assert_eq!(holder_of_file(&index, "model", "models/a.bin"), Some(1));
        assert_eq!(holder_of_file(&index, "model", "models2/a.bin"), Some(0));
        assert_eq!(
            holder_of_file(&index, "modelpart", "models/src/a.bin"),
            Some(1),
            "weights are one family"
        );
        assert_eq!(holder_of_file(&index, "code", "models/src/x/y.py"), Some(2));
        assert_eq!(holder_of_file(&index, "docs", "models/a.md"), None);
        assert!(shortened(&"x".repeat(5000)).len() < 250);
    }
}
