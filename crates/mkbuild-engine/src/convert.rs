//! Convert: rewrite a stored ModelKit into another format without its original folder. Each layer's
//! tar is streamed from the store (verified as it is read) through the target format's codec and
//! normalizer into a new layer blob.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;

use mkbuild_format::{EntryHeader, EntryKind, PackedLayer};
use mkbuild_store::Store;

use crate::compression::Compression;
use crate::layer_reader::with_matched_layer_content;
use crate::layer_writer::LayerWriter;
use crate::matching::MatchedLayer;
use crate::modelkit::StoredModelKit;
use crate::pack::{store_modelkit, PackOutcome};
use crate::plan::within;
use crate::progress::Progress;
use crate::EngineError;
use mkbuild_format::{Format, FormatRegistry};

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

    request
        .progress
        .start(readable.layers.iter().map(|l| l.descriptor.size).sum());
    let packed = convert_layers(store, &readable.layers, &source, target, request);
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

/// Rewrites every layer into the target format; returns them in order.
fn convert_layers(
    store: &Store,
    layers: &[MatchedLayer],
    source: &Format,
    target: &Format,
    request: &ConvertRequest,
) -> Result<Vec<PackedLayer>, EngineError> {
    let mut packed = Vec::with_capacity(layers.len());
    for layer in layers {
        let compression = request.compression.unwrap_or(layer.compression);
        let mut writer = LayerWriter::new(store, compression, &layer.path)?;
        with_matched_layer_content(store, layer, request.progress, |tar, label| {
            let mut rewriter = Rewriter {
                source,
                target,
                layer: &layer.path,
                label,
                seen: HashSet::new(),
                ancestors_done: false,
            };
            rewriter.run(tar, &mut writer)
        })?;
        let written = writer.finish()?;
        packed.push(PackedLayer {
            entry: layer.entry.clone(),
            media_type: target.media_types.layer_for(
                layer.entry.kind.media_kind(),
                compression.media_type_suffix(),
            ),
            digest: written.digest,
            diff_id: written.diff_id,
            size: written.size,
            annotations: BTreeMap::new(),
        });
    }
    Ok(packed)
}

/// Moves the entries of one layer from the source format's names to the target's.
struct Rewriter<'a> {
    source: &'a Format,
    target: &'a Format,
    layer: &'a str,
    label: &'a str,
    /// Context paths met so far.
    seen: HashSet<String>,
    /// Whether the folders above the layer path were written (for codecs that archive them).
    ancestors_done: bool,
}

impl Rewriter<'_> {
    fn run(&mut self, tar: &mut dyn Read, writer: &mut LayerWriter) -> Result<(), EngineError> {
        let label = self.label;
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
