//! The pack pipeline: plan -> per layer (codec, normalizer, tar, compression, blob) -> config ->
//! manifest. The engine only calls the format's traits; it knows no concrete format.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

use mkbuild_format::{layer_infos, EntryHeader, EntryKind, PackedLayer};
use mkbuild_kitfile::Kitfile;
use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{Descriptor, Manifest, Store};

use crate::build_cache::{record_key, BuildCache};
use crate::compression::Compression;
use crate::kitignore::KitIgnore;
use crate::layer_writer::{LayerWriter, WrittenLayer};
use crate::plan::{plan, Exclusions, Member, PlannedLayer};
use crate::progress::{CountingReader, Progress};
use crate::sink::{is_sink_failure, BlobSink};
use crate::walk::{open_beneath, FileKind};
use crate::EngineError;
use mkbuild_format::{Format, LayerEncoding};

/// The manifest annotation that records the format a ModelKit was built with.
pub const FORMAT_ANNOTATION: &str = "ml.mkbuild.format";
/// The OCI annotation for the creation time; written only from `SOURCE_DATE_EPOCH`.
pub const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// What to pack.
pub struct PackRequest<'a> {
    /// The context folder the Kitfile's paths are relative to.
    pub context: &'a Path,
    /// The Kitfile, parsed and validated.
    pub kitfile: &'a Kitfile,
    /// The Kitfile's bytes as written, for formats that store them as a layer.
    pub kitfile_bytes: &'a [u8],
    /// How the layer tars are compressed.
    pub compression: Compression,
    /// Seconds since the epoch for `org.opencontainers.image.created` (from `SOURCE_DATE_EPOCH`).
    pub created: Option<i64>,
    /// Reuse the layers of the build cache whose files are unchanged, and record new ones.
    pub cache: bool,
    /// Layers packed at the same time; 0 means one per core.
    pub jobs: usize,
    /// The layer paths of the ModelKit the model names (`model: path: base:1`), which kit leaves
    /// out of every layer of this one; empty when the model is local.
    pub parent_paths: &'a [String],
    /// Overrides the format's `[layers] raw` for every kind: `Raw` packs each file as a raw layer,
    /// `Tar` packs each entry as a tar (kit's `--layer-format`).
    pub layer_format: Option<LayerEncoding>,
    /// Told about every byte of file data read (or found unchanged in the cache).
    pub progress: &'a dyn Progress,
}

/// What pack stored.
#[derive(Debug, Clone)]
pub struct PackOutcome {
    /// The stored manifest.
    pub manifest: Descriptor,
    /// The stored config.
    pub config: Descriptor,
    /// The layers made from the Kitfile's entries, in order (not the Kitfile layer).
    pub layers: Vec<PackedLayer>,
}

/// Packs a context into `store` in `format`; returns the stored manifest's descriptor. Blobs are
/// written to temporary files and renamed, so a failure leaves no partial blob behind.
pub fn pack(
    store: &Store,
    format: &Format,
    request: &PackRequest,
) -> Result<PackOutcome, EngineError> {
    pack_to(store, store, format, request)
}

/// [`pack`], with every blob (and the manifest) going to `sink` as it is made: the store, or a
/// registry for `pack --push` without a local copy. `store` still holds the build cache, whose
/// unchanged layers `sink` is given with [`BlobSink::reuse`].
pub fn pack_to(
    store: &Store,
    sink: &dyn BlobSink,
    format: &Format,
    request: &PackRequest,
) -> Result<PackOutcome, EngineError> {
    let started = SystemTime::now();
    // Before the build cache is asked which blobs are stored: `gc` then waits for this pack.
    store.hold_writer_lock()?;
    let ignore = KitIgnore::load(request.context)?;
    let parent: Vec<String> = request
        .parent_paths
        .iter()
        .map(|p| mkbuild_path::clean(p))
        .collect();
    let plan = plan(
        request.context,
        request.kitfile,
        Exclusions {
            ignore: &ignore,
            filter: format
                .file_filter
                .as_ref()
                .map(|(name, filter)| (name.as_str(), filter.as_ref())),
            parent: &parent,
        },
    )?;
    let cache = request.cache.then(|| BuildCache::new(store, started));
    let units = units(format, request.layer_format, &plan.layers)?;
    request
        .progress
        .start(units.iter().map(Unit::data_bytes).sum());
    let to = Destination { store, sink };
    let layers = pack_layers(&to, format, request, cache.as_ref(), &units);
    request.progress.finish();
    let layers = layers?;

    store_modelkit(
        sink,
        format,
        request.kitfile,
        request.kitfile_bytes,
        layers,
        request.created,
    )
}

/// Stores the config, the Kitfile layer (when the format has one) and the manifest of a ModelKit
/// whose layers are already stored.
pub(crate) fn store_modelkit(
    sink: &dyn BlobSink,
    format: &Format,
    kitfile: &Kitfile,
    kitfile_bytes: &[u8],
    layers: Vec<PackedLayer>,
    created: Option<i64>,
) -> Result<PackOutcome, EngineError> {
    let created = created.map(rfc3339).transpose()?;
    let config_bytes = format
        .enricher
        .config_at(kitfile, &layers, created.as_deref())
        .map_err(|e| EngineError::Plugin {
            role: "enricher",
            plugin: format.plugins.enricher.clone(),
            message: e.to_string(),
        })?;
    let (digest, size) = sink.put(&config_bytes)?;
    let config = Descriptor {
        media_type: format.media_types.config.clone(),
        digest,
        size,
        annotations: BTreeMap::new(),
    };

    let mut descriptors: Vec<Descriptor> = layers
        .iter()
        .map(|l| Descriptor {
            media_type: l.media_type.clone(),
            digest: l.digest.clone(),
            size: l.size,
            annotations: l.annotations.clone(),
        })
        .collect();
    if format.kitfile_layer {
        if let Some(media_type) = &format.media_types.kitfile {
            let (digest, size) = sink.put(kitfile_bytes)?;
            descriptors.push(Descriptor {
                media_type: media_type.clone(),
                digest,
                size,
                annotations: BTreeMap::new(),
            });
        }
    }

    let mut annotations = BTreeMap::new();
    annotations.insert(FORMAT_ANNOTATION.to_owned(), format.name.clone());
    if let Some(created) = created {
        annotations.insert(CREATED_ANNOTATION.to_owned(), created);
    }
    if let Some(key) = &format.kitfile_annotation {
        annotations.insert(key.clone(), kitfile_json(kitfile, &layers));
    }
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_owned()),
        artifact_type: format.artifact_type.clone(),
        config: config.clone(),
        layers: descriptors,
        annotations,
    };
    let manifest = sink.put_manifest(&manifest)?;
    Ok(PackOutcome {
        manifest,
        config,
        layers,
    })
}

/// Where a pack's layers go, and the store whose build cache it uses.
struct Destination<'a> {
    store: &'a Store,
    sink: &'a dyn BlobSink,
}

/// Packs independent layers on up to `request.jobs` threads (biggest first, so that the longest
/// does not start last); the result keeps the plan's order. After a failure no new layer starts,
/// and the error of the first failed layer in plan order is returned.
fn pack_layers(
    to: &Destination<'_>,
    format: &Format,
    request: &PackRequest,
    cache: Option<&BuildCache>,
    layers: &[Unit],
) -> Result<Vec<PackedLayer>, EngineError> {
    let jobs = match request.jobs {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    }
    .min(layers.len());
    if jobs <= 1 {
        return layers
            .iter()
            .map(|unit| write_unit(to, format, request, cache, unit))
            .collect();
    }
    let mut order: Vec<usize> = (0..layers.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(layers[i].data_bytes()));
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<PackedLayer, EngineError>>>> =
        Mutex::new(layers.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let Some(&index) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let result = write_unit(to, format, request, cache, &layers[index]);
                    failed.fetch_or(result.is_err(), Ordering::Relaxed);
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)[index] = Some(result);
                }
            });
        }
    });
    let results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut packed = Vec::with_capacity(layers.len());
    let mut first_error = None;
    for result in results {
        match result {
            Some(Ok(layer)) => packed.push(layer),
            Some(Err(e)) => {
                first_error.get_or_insert(e);
            }
            None => {}
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(packed),
    }
}

/// One tar entry of a layer: its normalized header and, for a file, where its data is.
struct TarEntry {
    header: EntryHeader,
    source: Option<Source>,
}

/// Where a file entry's data is: the path for messages and the build cache, the path relative to
/// the context and the identity the walk saw, for [`open_beneath`].
struct Source {
    path: std::path::PathBuf,
    relative: String,
    identity: (u64, u64),
}

/// The entries of a planned layer, through the format's codec and normalizer.
fn layer_entries(
    format: &Format,
    context: &Path,
    layer: &PlannedLayer,
) -> Result<Vec<TarEntry>, EngineError> {
    let mut entries = Vec::with_capacity(layer.members.len());
    for member in &layer.members {
        if member.ancestor && !format.codec.archives_ancestors() {
            continue;
        }
        let plugins = &format.plugins;
        let failed = |role, plugin: &str, e| {
            EngineError::plugin_on(role, plugin, &layer.path, &member.path, e)
        };
        let Some(name) = format
            .codec
            .entry_name(&layer.path, &member.path)
            .map_err(|e| failed("codec", &plugins.codec, e))?
        else {
            continue;
        };
        let kind = match member.meta.kind {
            FileKind::File => EntryKind::File,
            FileKind::Dir => EntryKind::Dir,
            FileKind::Other => continue,
        };
        let mut header = EntryHeader {
            name,
            kind,
            mode: member.meta.mode,
            uid: member.meta.uid,
            gid: member.meta.gid,
            size: member.meta.size,
            mtime: member.meta.mtime,
            uname: String::new(),
            gname: String::new(),
        };
        format
            .normalizer
            .normalize(&mut header)
            .map_err(|e| failed("normalizer", &plugins.normalizer, e))?;
        let source = (kind == EntryKind::File).then(|| Source {
            path: context.join(&member.path),
            relative: member.path.clone(),
            identity: member.meta.identity,
        });
        entries.push(TarEntry { header, source });
    }
    Ok(entries)
}

/// What one layer of the manifest is made of: a planned layer as a tar, or one file of a planned
/// layer as a raw layer.
enum Unit<'a> {
    Tar(&'a PlannedLayer),
    Raw(&'a PlannedLayer, &'a Member),
}

impl Unit<'_> {
    fn data_bytes(&self) -> u64 {
        match self {
            Unit::Tar(layer) => layer.data_bytes(),
            Unit::Raw(_, member) => member.meta.size,
        }
    }
}

/// The layers of the manifest, in order: each planned layer as one tar, or, for the kinds the
/// format (or `--layer-format`) packs raw, each of its files as a raw layer of its own.
fn units<'a>(
    format: &Format,
    layer_format: Option<LayerEncoding>,
    layers: &'a [PlannedLayer],
) -> Result<Vec<Unit<'a>>, EngineError> {
    let mut units = Vec::with_capacity(layers.len());
    for layer in layers {
        let kind = layer.entry.kind.media_kind();
        if format
            .media_types
            .kinds
            .get(kind)
            .is_some_and(String::is_empty)
        {
            return Err(EngineError::Unsupported(format!(
                "{}: format `{}` has no {kind} layers; leave the entry out or pack with another `--format`",
                layer.entry.label, format.name
            )));
        }
        if format.layer_encoding(kind, layer_format) == LayerEncoding::Tar {
            units.push(Unit::Tar(layer));
            continue;
        }
        if !format.has_raw_layers() {
            let instead = match kind {
                "mcpb" => "MCP servers are always raw layers; pack with `--format kit`",
                _ => "pack with another `--format` or `--layer-format tar`",
            };
            return Err(EngineError::Unsupported(format!(
                "{}: format `{}` has no raw layers (its spec gives no `{{encoding}}` in `media-types.layer` or no `[layers] path-annotation`); {instead}",
                layer.entry.label, format.name
            )));
        }
        units.extend(
            layer
                .members
                .iter()
                .filter(|m| !m.ancestor && m.meta.kind == FileKind::File)
                .map(|m| Unit::Raw(layer, m)),
        );
    }
    Ok(units)
}

/// Writes one unit: a tar layer (see [`write_layer`]) or a raw layer.
fn write_unit(
    to: &Destination<'_>,
    format: &Format,
    request: &PackRequest,
    cache: Option<&BuildCache>,
    unit: &Unit,
) -> Result<PackedLayer, EngineError> {
    let mut attempts_left = SINK_ATTEMPTS;
    loop {
        attempts_left -= 1;
        match write_unit_once(to, format, request, cache, unit) {
            // A sink that lost what it had of the layer (a registry that dropped the upload) gets
            // it anew from the files: the layer is packed again, into a new upload.
            Err(e) if attempts_left > 0 && !to.sink.is_local() && is_sink_failure(&e) => {
                tracing::warn!("{e}; packing the layer again");
            }
            result => return result,
        }
    }
}

/// How many times a layer is packed into a failing sink (other than the store) before its error
/// is final.
const SINK_ATTEMPTS: u32 = 3;

fn write_unit_once(
    to: &Destination<'_>,
    format: &Format,
    request: &PackRequest,
    cache: Option<&BuildCache>,
    unit: &Unit,
) -> Result<PackedLayer, EngineError> {
    let (mut packed, layer) = match unit {
        Unit::Tar(layer) => {
            let mut packed = write_layer(to, format, request, cache, layer)?;
            if let Some(key) = &format.layers.path_annotation {
                packed.annotations.insert(key.clone(), layer.path.clone());
            }
            (packed, layer)
        }
        Unit::Raw(layer, member) => (write_raw(to, format, request, layer, member)?, layer),
    };
    if let (Some(key), Some(subtype)) = (
        &format.layers.subtype_annotation,
        layer.entry.kind.subtype(),
    ) {
        packed.annotations.insert(key.clone(), subtype.to_owned());
    }
    Ok(packed)
}

/// Writes one file as a raw layer: the blob is the file's bytes, so its digest is its diffId.
fn write_raw(
    to: &Destination<'_>,
    format: &Format,
    request: &PackRequest,
    layer: &PlannedLayer,
    member: &Member,
) -> Result<PackedLayer, EngineError> {
    let failed =
        |role, plugin: &str, e| EngineError::plugin_on(role, plugin, &layer.path, &member.path, e);
    let mut header = EntryHeader {
        name: member.path.clone(),
        kind: EntryKind::File,
        mode: member.meta.mode,
        uid: member.meta.uid,
        gid: member.meta.gid,
        size: member.meta.size,
        mtime: member.meta.mtime,
        uname: String::new(),
        gname: String::new(),
    };
    format
        .normalizer
        .normalize(&mut header)
        .map_err(|e| failed("normalizer", &format.plugins.normalizer, e))?;
    let file = open_beneath(request.context, &member.path, member.meta.identity)?;
    let mut blob = to.sink.create()?;
    // Where the filesystem shares extents (XFS, btrfs), the blob is the file at no disk cost.
    if let Some(size) = blob.clone_from(&file)? {
        if size != member.meta.size {
            return Err(EngineError::Resized {
                path: request.context.join(&member.path),
            });
        }
        request.progress.skipped(size);
        let stored = blob.commit()?;
        return raw_layer(format, &layer.entry, &member.path, &header, stored);
    }
    let mut data = CountingReader {
        inner: file,
        progress: request.progress,
    };
    // One byte more than the walk saw tells a file that grew, without copying what it grew by.
    let copied = std::io::copy(
        &mut std::io::Read::take(&mut data, member.meta.size + 1),
        &mut blob,
    )
    .map_err(|e| EngineError::io(&request.context.join(&member.path), e))?;
    if copied != member.meta.size {
        return Err(EngineError::Resized {
            path: request.context.join(&member.path),
        });
    }
    let stored = blob.commit()?;
    raw_layer(format, &layer.entry, &member.path, &header, stored)
}

/// A raw layer of `format`, already stored as `(digest, size)`: the file at context path `path`
/// of `entry`, whose normalized header gives its metadata annotation. Pack and convert both
/// describe raw layers with it.
pub(crate) fn raw_layer(
    format: &Format,
    entry: &mkbuild_format::LayerEntry,
    path: &str,
    header: &EntryHeader,
    (digest, size): (mkbuild_store::Digest, u64),
) -> Result<PackedLayer, EngineError> {
    let mut annotations = BTreeMap::new();
    if let Some(key) = &format.layers.path_annotation {
        annotations.insert(key.clone(), path.to_owned());
    }
    if let Some(key) = &format.layers.metadata_annotation {
        annotations.insert(key.clone(), file_metadata(path, header)?);
    }
    Ok(PackedLayer {
        entry: entry.clone(),
        media_type: format
            .media_types
            .layer_type(entry.kind.media_kind(), LayerEncoding::Raw, ""),
        diff_id: digest.clone(),
        digest,
        size,
        annotations,
    })
}

/// A raw layer's file metadata as the ModelPack specification's `FileMetadata` is written by Go's
/// encoding/json: `name` (the base name), `mode` (permission bits), `uid`, `gid`, `size`, `mtime`
/// (RFC 3339) and `typeflag` (0, a regular file), from the normalized header.
fn file_metadata(path: &str, header: &EntryHeader) -> Result<String, EngineError> {
    let name = path.rsplit('/').next().unwrap_or(path);
    // Written by hand: the specification's field order, which a JSON map would not keep.
    Ok(format!(
        "{{\"name\":{},\"mode\":{},\"uid\":{},\"gid\":{},\"size\":{},\"mtime\":\"{}\",\"typeflag\":0}}",
        serde_json::Value::from(name),
        header.mode & 0o777,
        header.uid,
        header.gid,
        header.size,
        rfc3339(header.mtime)?
    ))
}

/// The Kitfile as kit puts it in a manifest annotation: its config JSON, with each entry's layer
/// digests when every entry has exactly one layer (raw layers of a folder have several, an empty
/// folder packed raw none), else without any.
fn kitfile_json(kitfile: &Kitfile, layers: &[PackedLayer]) -> String {
    let mut kitfile = kitfile.clone();
    let recorded = layer_infos(&kitfile, layers)
        .ok()
        .is_some_and(|infos| kitfile.set_layer_infos(infos).is_ok());
    if !recorded {
        kitfile.clear_layer_infos();
    }
    String::from_utf8_lossy(&kitfile.to_config_json()).into_owned()
}

/// Writes one planned layer, or takes it from the build cache when none of its files changed.
fn write_layer(
    to: &Destination<'_>,
    format: &Format,
    request: &PackRequest,
    cache: Option<&BuildCache>,
    layer: &PlannedLayer,
) -> Result<PackedLayer, EngineError> {
    let entries = layer_entries(format, request.context, layer)?;
    let written = match cache {
        Some(cache) => {
            let key = record_key(
                request.context,
                &format.name,
                request.compression,
                layer.entry.kind.media_kind(),
                &layer.path,
            )?;
            let mut fingerprint = cache.fingerprint(request.compression);
            for entry in &entries {
                let header = mkbuild_tar::encode_header(&entry.header).map_err(|source| {
                    EngineError::Tar {
                        layer: layer.path.clone(),
                        source,
                    }
                })?;
                fingerprint.add(
                    cache,
                    &header,
                    entry.source.as_ref().map(|s| s.path.as_path()),
                )?;
            }
            match cache.lookup(to.store, &key, &fingerprint.hex()) {
                Some(written) => {
                    tracing::debug!(
                        "layer `{}`: unchanged, reused from the build cache",
                        layer.path
                    );
                    to.sink.reuse(to.store, &written.digest, written.size)?;
                    request.progress.skipped(layer.data_bytes());
                    written
                }
                None => {
                    let written = write_entries(to, request, layer, &entries)?;
                    // A record names a blob of the store: only one that went there.
                    if to.sink.is_local() {
                        cache.record(&key, &fingerprint, &written);
                    }
                    written
                }
            }
        }
        None => write_entries(to, request, layer, &entries)?,
    };
    Ok(PackedLayer {
        entry: layer.entry.clone(),
        media_type: format.media_types.layer_for(
            layer.entry.kind.media_kind(),
            request.compression.media_type_suffix(),
        ),
        digest: written.digest,
        diff_id: written.diff_id,
        size: written.size,
        annotations: BTreeMap::new(),
    })
}

/// Streams the entries' headers and file data into a new layer blob.
fn write_entries(
    to: &Destination<'_>,
    request: &PackRequest,
    layer: &PlannedLayer,
    entries: &[TarEntry],
) -> Result<WrittenLayer, EngineError> {
    let mut writer = LayerWriter::new(to.sink, request.compression, &layer.path)?;
    for entry in entries {
        match &entry.source {
            None => writer.add_dir(&entry.header)?,
            Some(source) => {
                let file = open_beneath(request.context, &source.relative, source.identity)?;
                let mut data = CountingReader {
                    inner: file,
                    progress: request.progress,
                };
                writer.add_file(&entry.header, &mut data)?;
            }
        }
    }
    writer.finish()
}

/// `SOURCE_DATE_EPOCH` seconds as RFC 3339 in UTC, as Go's `time.RFC3339` prints them.
fn rfc3339(seconds: i64) -> Result<String, EngineError> {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.to_string())
        .map_err(|e| EngineError::SourceDateEpoch {
            value: seconds,
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_is_rfc3339_utc() {
        assert_eq!(rfc3339(0).expect("valid"), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(1_700_000_000).expect("valid"),
            "2023-11-14T22:13:20Z"
        );
    }
}
