//! Convert: rewrite a stored ModelKit into another format without its original folder. Each
//! layer's content (a tar, or a raw layer's file) is streamed from the store, verified as it is
//! read, through the target format's codec and normalizer into new layer blobs, shaped by the
//! target's `[layers]` policy.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;

use mkbuild_format::{EntryHeader, EntryKind, Kitfile, LayerEntry, PackedLayer};
use mkbuild_store::Store;

use crate::compression::Compression;
use crate::layer_reader::with_matched_layer_content;
use crate::layer_writer::LayerWriter;
use crate::matching::MatchedLayer;
use crate::modelkit::StoredModelKit;
use crate::pack::{raw_layer, store_modelkit, PackOutcome};
use crate::plan::within;
use crate::progress::Progress;
use crate::EngineError;
use mkbuild_format::{Format, FormatRegistry, LayerEncoding};

/// Mode of a folder above a layer path that the source format did not archive (`v1`).
const SYNTHETIC_FOLDER_MODE: u32 = 0o755;

/// What to convert.
pub struct ConvertRequest<'a> {
    /// The stored ModelKit to convert (`name[:tag]` or a manifest digest).
    pub reference: &'a str,
    /// Compression of the new layers; `None` keeps each layer's own.
    pub compression: Option<Compression>,
    /// Seconds since the epoch for `org.opencontainers.image.created` (from `SOURCE_DATE_EPOCH`).
    pub created: Option<i64>,
    /// Told the bytes of the layers to read, then each byte read.
    pub progress: &'a dyn Progress,
}

/// Rewrites a stored ModelKit into the `target` format and stores the result; the source's
/// blobs are left in place. Returns what was stored.
pub fn convert(
    store: &Store,
    registry: &FormatRegistry,
    target: &Format,
    request: &ConvertRequest,
) -> Result<PackOutcome, EngineError> {
    // The source's blobs are read and reused: `gc` waits until this convert is done.
    store.hold_writer_lock()?;
    let modelkit = StoredModelKit::load(store, request.reference)?;
    let readable = modelkit.layers(registry)?;
    let source = readable.format;
    let mut kitfile = readable.kitfile;
    let kitfile_bytes = modelkit.kitfile_bytes(store, registry)?;
    kitfile.clear_layer_infos();
    for loss in losses(&modelkit, registry, &kitfile, target) {
        tracing::warn!("converting to `{}`: {loss}", target.name);
    }

    request
        .progress
        .start(readable.layers.iter().map(|l| l.descriptor.size).sum());
    let packed = convert_layers(store, &kitfile, readable.layers, &source, target, request);
    request.progress.finish();
    store_modelkit(
        store,
        target,
        &kitfile,
        &kitfile_bytes,
        packed?,
        request.created,
    )
}

/// What the target cannot carry of the source, in words for the user: a convert back then gives
/// other digests for these.
fn losses(
    modelkit: &StoredModelKit,
    registry: &FormatRegistry,
    kitfile: &Kitfile,
    target: &Format,
) -> Vec<String> {
    let mut lost = Vec::new();
    let kitfile_layer = registry.kitfile_media_types();
    let had_kitfile_text = modelkit
        .manifest
        .layers
        .iter()
        .any(|l| kitfile_layer.contains(&l.media_type));
    if had_kitfile_text && !target.kitfile_layer {
        lost.push(
            "the Kitfile's own text (comments, order, layout) is not kept; the target holds the Kitfile as JSON".to_owned(),
        );
    }
    if !kitfile.prompts.is_empty() && target.layers.subtype_annotation.is_none() {
        lost.push(format!(
            "{} prompt(s) become plain code layers: the format does not mark prompts",
            kitfile.prompts.len()
        ));
    }
    lost
}

/// Rewrites every layer into the target format; returns them in the Kitfile's order (a config may
/// record them by position), whatever order the source's manifest had (modctl's puts weight
/// configs first). The source layers of one Kitfile entry (one tar, or raw layers of its files,
/// taken in the walk's order) become one tar, or one raw layer per file, as the target's
/// `[layers]` policy says; an entry with no layer (an empty folder packed raw) becomes an empty tar.
fn convert_layers(
    store: &Store,
    kitfile: &Kitfile,
    mut layers: Vec<MatchedLayer>,
    source: &Format,
    target: &Format,
    request: &ConvertRequest,
) -> Result<Vec<PackedLayer>, EngineError> {
    let entries = kitfile.layer_entries();
    for (i, entry) in entries.iter().enumerate() {
        if let Some(twin) = entries[..i]
            .iter()
            .find(|e| e.kind == entry.kind && e.path == entry.path)
        {
            return Err(EngineError::Mismatch(format!(
                "{} and {} name the same path `{}`; convert cannot tell their layers apart",
                twin.label, entry.label, entry.path
            )));
        }
    }
    // The walk's order: component by component.
    layers.sort_by(|a, b| {
        let path = |l: &MatchedLayer| l.file_path.clone().unwrap_or_default();
        path(a).split('/').cmp(path(b).split('/'))
    });
    let mut packed = Vec::with_capacity(layers.len());
    for entry in &entries {
        let group: Vec<&MatchedLayer> = layers
            .iter()
            .filter(|l| l.entry.kind == entry.kind && l.entry.path == entry.path)
            .collect();
        let kind = entry.kind.media_kind();
        let mut written = match target.layer_encoding(kind, None) {
            LayerEncoding::Tar => {
                vec![convert_to_tar(
                    store, entry, &group, source, target, request,
                )?]
            }
            LayerEncoding::Raw => convert_to_raw(store, entry, &group, source, target, request)?,
        };
        if let (Some(key), Some(subtype)) =
            (&target.layers.subtype_annotation, entry.kind.subtype())
        {
            for layer in &mut written {
                layer.annotations.insert(key.clone(), subtype.to_owned());
            }
        }
        packed.extend(written);
    }
    Ok(packed)
}

/// One tar layer of the target for `entry` from its source layers (one tar, raw files, or none).
fn convert_to_tar(
    store: &Store,
    entry: &LayerEntry,
    group: &[&MatchedLayer],
    source: &Format,
    target: &Format,
    request: &ConvertRequest,
) -> Result<PackedLayer, EngineError> {
    let path = mkbuild_path::clean(&entry.path);
    let compression = request.compression.unwrap_or(match group.first() {
        Some(first) if first.encoding == LayerEncoding::Tar => first.compression,
        _ => Compression::None,
    });
    let mut writer = LayerWriter::new(store, compression, &path)?;
    let mut rewriter = Rewriter {
        source,
        target,
        layer: &path,
        label: String::new(),
        seen: HashSet::new(),
        ancestors_done: false,
    };
    for layer in group.iter().copied() {
        with_matched_layer_content(store, layer, request.progress, |content, label| {
            rewriter.label = label.to_owned();
            match (&layer.encoding, &layer.file_path) {
                (LayerEncoding::Raw, Some(path)) => {
                    if layer.compression != Compression::None {
                        return Err(EngineError::Unsupported(format!(
                            "layer {label} is a compressed raw layer, which convert does not rewrite as a tar; unpack the ModelKit and pack it again"
                        )));
                    }
                    rewriter.add_file(path, layer.descriptor.size, content, &mut writer)
                }
                _ => rewriter.run(content, &mut writer),
            }
        })?;
    }
    rewriter.write_missing_ancestors(&mut writer)?;
    let written = writer.finish()?;
    let mut annotations = BTreeMap::new();
    if let Some(key) = &target.layers.path_annotation {
        annotations.insert(key.clone(), path.clone());
    }
    Ok(PackedLayer {
        entry: entry.clone(),
        media_type: target
            .media_types
            .layer_for(entry.kind.media_kind(), compression.media_type_suffix()),
        digest: written.digest,
        diff_id: written.diff_id,
        size: written.size,
        annotations,
    })
}

/// Raw layers of the target, one per file of a group of source layers. A raw source layer's blob
/// is kept as it is (read once, to verify it); a tar's files are each written as a blob.
fn convert_to_raw(
    store: &Store,
    entry: &LayerEntry,
    group: &[&MatchedLayer],
    source: &Format,
    target: &Format,
    request: &ConvertRequest,
) -> Result<Vec<PackedLayer>, EngineError> {
    if !target.has_raw_layers() {
        return Err(EngineError::Unsupported(format!(
            "{}: format `{}` has no raw layers; convert to a format that has",
            entry.label, target.name
        )));
    }
    let mut packed = Vec::new();
    for layer in group.iter().copied() {
        with_matched_layer_content(store, layer, request.progress, |content, label| {
            match (&layer.encoding, &layer.file_path, layer.compression) {
                (LayerEncoding::Raw, Some(path), Compression::None) => {
                    std::io::copy(content, &mut std::io::sink())
                        .map_err(|e| EngineError::Mismatch(format!("layer {label}: {e}")))?;
                    let header = raw_header(target, layer, path, layer.descriptor.size)?;
                    packed.push(raw_layer(
                        target,
                        &layer.entry,
                        path,
                        &header,
                        (layer.descriptor.digest.clone(), layer.descriptor.size),
                    )?);
                }
                (LayerEncoding::Raw, Some(path), _) => {
                    let mut blob = store.blob_writer()?;
                    std::io::copy(content, &mut blob)
                        .map_err(|e| EngineError::Mismatch(format!("layer {label}: {e}")))?;
                    let stored = blob.commit()?;
                    let header = raw_header(target, layer, path, stored.1)?;
                    packed.push(raw_layer(target, &layer.entry, path, &header, stored)?);
                }
                _ => {
                    let mut files = TarFiles {
                        source,
                        layer: &layer.path,
                        label,
                    };
                    files.each(content, |path, size, data| {
                        let mut blob = store.blob_writer()?;
                        let copied = std::io::copy(data, &mut blob).map_err(|e| {
                            EngineError::Mismatch(format!("layer {label}: `{path}`: {e}"))
                        })?;
                        if copied != size {
                            return Err(EngineError::Mismatch(format!(
                                "layer {label}: `{path}` is shorter than its header says"
                            )));
                        }
                        let stored = blob.commit()?;
                        let header = raw_header(target, layer, path, size)?;
                        packed.push(raw_layer(target, &layer.entry, path, &header, stored)?);
                        Ok(())
                    })?;
                }
            }
            Ok(())
        })?;
    }
    Ok(packed)
}

/// The normalized header of a raw file in the target (its metadata annotation is made of it).
fn raw_header(
    target: &Format,
    layer: &MatchedLayer,
    path: &str,
    size: u64,
) -> Result<EntryHeader, EngineError> {
    let mut header = EntryHeader {
        name: path.to_owned(),
        kind: EntryKind::File,
        mode: 0o644,
        uid: 0,
        gid: 0,
        size,
        mtime: 0,
        uname: String::new(),
        gname: String::new(),
    };
    target.normalizer.normalize(&mut header).map_err(|e| {
        EngineError::plugin_on(
            "normalizer",
            &target.plugins.normalizer,
            &layer.path,
            path,
            e,
        )
    })?;
    Ok(header)
}

/// The files of a source tar layer, each with its context path, size and data.
struct TarFiles<'a> {
    source: &'a Format,
    layer: &'a str,
    label: &'a str,
}

impl TarFiles<'_> {
    fn each(
        &mut self,
        tar: &mut dyn Read,
        mut file: impl FnMut(&str, u64, &mut dyn Read) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        let label = self.label;
        let bad = |message: String| EngineError::Mismatch(format!("layer {label}: {message}"));
        let mut archive = tar::Archive::new(mkbuild_extract::HeaderGuard::new(tar));
        for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
            let mut entry = entry.map_err(|e| bad(e.to_string()))?;
            if gnu_sparse_name(&mut entry)
                .map_err(|e| bad(e.to_string()))?
                .is_some()
            {
                return Err(bad(
                    "a GNU sparse file, which convert does not rewrite; unpack the ModelKit and pack it again".into(),
                ));
            }
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {}
                tar::EntryType::Directory => continue,
                other => {
                    return Err(bad(format!(
                        "an entry is a {other:?}; only files and folders are converted"
                    )))
                }
            }
            let raw = entry.path_bytes();
            let name = std::str::from_utf8(&raw)
                .map_err(|_| bad("an entry name is not UTF-8".into()))?
                .to_owned();
            let path = self
                .source
                .codec
                .restore_path(self.layer, &name)
                .map_err(|e| {
                    let shown = mkbuild_extract::printable(&name);
                    EngineError::plugin_on(
                        "codec",
                        &self.source.plugins.codec,
                        self.layer,
                        &shown,
                        e,
                    )
                })?
                .filter(|p| is_safe_relative(p))
                .ok_or_else(|| bad(format!("entry `{name}` has no safe place in the context")))?;
            if !within(&path, self.layer) {
                return Err(bad(format!(
                    "entry `{name}` lies outside the layer path `{}`",
                    self.layer
                )));
            }
            let size = entry.size();
            file(&path, size, &mut entry)?;
        }
        Ok(())
    }
}

/// Moves the entries of one layer from the source format's names to the target's.
struct Rewriter<'a> {
    source: &'a Format,
    target: &'a Format,
    layer: &'a str,
    /// Names the source layer in messages.
    label: String,
    /// Context paths met so far.
    seen: HashSet<String>,
    /// Whether the folders above the layer path were written (for codecs that archive them).
    ancestors_done: bool,
}

impl Rewriter<'_> {
    fn run(&mut self, tar: &mut dyn Read, writer: &mut LayerWriter) -> Result<(), EngineError> {
        let label = self.label.clone();
        let bad = |message: String| EngineError::Mismatch(format!("layer {label}: {message}"));
        // The `tar` crate reads PAX headers whole: bound them as unpack does.
        let mut archive = tar::Archive::new(mkbuild_extract::HeaderGuard::new(tar));
        let entries = archive.entries().map_err(|e| bad(e.to_string()))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| bad(e.to_string()))?;
            if let Some(sparse_name) =
                gnu_sparse_name(&mut entry).map_err(|e| bad(e.to_string()))?
            {
                // Its data is only the extents; rewriting it as a plain file would be wrong.
                return Err(bad(format!(
                    "entry `{sparse_name}` is a GNU sparse file, which convert does not rewrite; \
                     unpack the ModelKit and pack it again"
                )));
            }
            let raw = entry.path_bytes();
            let name = std::str::from_utf8(&raw)
                .map_err(|_| bad("an entry name is not UTF-8".into()))?
                .trim_end_matches('/')
                .to_owned();
            let path = self
                .source
                .codec
                .restore_path(self.layer, &name)
                .map_err(|e| {
                    let entry = mkbuild_extract::printable(&name);
                    let plugin = &self.source.plugins.codec;
                    EngineError::plugin_on("codec", plugin, self.layer, &entry, e)
                })?
                .filter(|p| is_safe_relative(p))
                .ok_or_else(|| bad(format!("entry `{name}` has no safe place in the context")))?;
            let kind = match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
                tar::EntryType::Directory => EntryKind::Dir,
                other => {
                    return Err(bad(format!(
                        "entry `{name}` is a {other:?}; only files and folders are converted"
                    )))
                }
            };
            let ancestor = !within(&path, self.layer);
            if ancestor && !within(self.layer, &path) {
                return Err(bad(format!(
                    "entry `{name}` lies outside the layer path `{}`",
                    self.layer
                )));
            }
            if !ancestor {
                self.write_missing_ancestors(writer)?;
            }
            self.seen.insert(path.clone());
            if ancestor && !self.target.codec.archives_ancestors() {
                continue;
            }
            let mode = entry.header().mode().map_err(|e| bad(e.to_string()))?;
            let header = self.header(&path, kind, mode, entry.size())?;
            let Some(header) = header else { continue };
            match kind {
                EntryKind::Dir => writer.add_dir(&header)?,
                EntryKind::File => writer.add_file(&header, &mut entry)?,
            }
        }
        self.write_missing_ancestors(writer)
    }

    /// Adds one file (a raw source layer's) at context path `path`, with the folders between the
    /// layer path and it that the target's codec archives.
    fn add_file(
        &mut self,
        path: &str,
        size: u64,
        data: &mut dyn Read,
        writer: &mut LayerWriter,
    ) -> Result<(), EngineError> {
        if !is_safe_relative(path) || !within(path, self.layer) {
            return Err(EngineError::Mismatch(format!(
                "layer {}: `{path}` lies outside the layer path `{}`",
                self.label, self.layer
            )));
        }
        self.write_missing_ancestors(writer)?;
        // The folders from the layer path down to the file, each once.
        let parts: Vec<&str> = path.split('/').collect();
        for i in 1..parts.len() {
            let folder = parts[..i].join("/");
            if !within(&folder, self.layer) || self.seen.contains(&folder) {
                continue;
            }
            if let Some(header) = self.header(&folder, EntryKind::Dir, SYNTHETIC_FOLDER_MODE, 0)? {
                writer.add_dir(&header)?;
            }
            self.seen.insert(folder);
        }
        self.seen.insert(path.to_owned());
        if let Some(header) = self.header(path, EntryKind::File, 0o644, size)? {
            let mut data = data;
            writer.add_file(&header, &mut data)?;
        }
        Ok(())
    }

    /// The target's header for a context path, or `None` when its codec leaves the path out.
    fn header(
        &self,
        path: &str,
        kind: EntryKind,
        mode: u32,
        size: u64,
    ) -> Result<Option<EntryHeader>, EngineError> {
        let plugins = &self.target.plugins;
        let failed =
            |role, plugin: &str, e| EngineError::plugin_on(role, plugin, self.layer, path, e);
        let Some(name) = self
            .target
            .codec
            .entry_name(self.layer, path)
            .map_err(|e| failed("codec", &plugins.codec, e))?
        else {
            return Ok(None);
        };
        let mut header = EntryHeader {
            name,
            kind,
            mode: mode & 0o7777,
            uid: 0,
            gid: 0,
            size: if kind == EntryKind::File { size } else { 0 },
            mtime: 0,
            uname: String::new(),
            gname: String::new(),
        };
        self.target
            .normalizer
            .normalize(&mut header)
            .map_err(|e| failed("normalizer", &plugins.normalizer, e))?;
        Ok(Some(header))
    }

    /// Writes the folders above the layer path that the source did not carry, once, before the
    /// layer's own entries.
    fn write_missing_ancestors(&mut self, writer: &mut LayerWriter) -> Result<(), EngineError> {
        if self.ancestors_done {
            return Ok(());
        }
        self.ancestors_done = true;
        if !self.target.codec.archives_ancestors() {
            return Ok(());
        }
        let parts: Vec<&str> = self.layer.split('/').collect();
        for i in 1..parts.len() {
            let ancestor = parts[..i].join("/");
            if self.layer == "." || self.seen.contains(&ancestor) {
                continue;
            }
            if let Some(header) =
                self.header(&ancestor, EntryKind::Dir, SYNTHETIC_FOLDER_MODE, 0)?
            {
                writer.add_dir(&header)?;
            }
            self.seen.insert(ancestor);
        }
        Ok(())
    }
}

/// For an entry with `GNU.sparse.*` PAX records (`tar --sparse --format=pax`), its name: the
/// real one (`GNU.sparse.name`) when the header's is a placeholder.
fn gnu_sparse_name<R: Read>(entry: &mut tar::Entry<R>) -> std::io::Result<Option<String>> {
    let (mut sparse, mut real_name) = (false, None);
    if let Some(records) = entry.pax_extensions()? {
        for record in records {
            let record = record?;
            let key = record.key().unwrap_or_default();
            sparse |= key.starts_with("GNU.sparse.");
            if key == "GNU.sparse.name" {
                real_name = Some(String::from_utf8_lossy(record.value_bytes()).into_owned());
            }
        }
    }
    let name =
        real_name.unwrap_or_else(|| String::from_utf8_lossy(&entry.path_bytes()).into_owned());
    Ok(sparse.then(|| mkbuild_extract::printable(&name)))
}

/// A relative, `/`-separated path without `.`/`..` components or empty parts.
fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\0'))
}
