//! The pack pipeline: plan -> per layer (codec, normalizer, tar, compression, blob) -> config ->
//! manifest. The engine only calls the format's traits; it knows no concrete format.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use mkbuild_kitfile::Kitfile;
use mkbuild_sdk::{EntryHeader, EntryKind, PackedLayer};
use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{Descriptor, Manifest, Store};

use crate::compression::Compression;
use crate::kitignore::KitIgnore;
use crate::layer_writer::LayerWriter;
use crate::plan::{plan, PlannedLayer};
use crate::registry::Format;
use crate::walk::FileKind;
use crate::EngineError;

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
    pub compression: Compression,
    /// Seconds since the epoch for `org.opencontainers.image.created` (from `SOURCE_DATE_EPOCH`).
    pub created: Option<i64>,
}

/// What pack stored.
#[derive(Debug, Clone)]
pub struct PackOutcome {
    pub manifest: Descriptor,
    pub config: Descriptor,
    pub layers: Vec<PackedLayer>,
}

/// Packs a context into `store` in `format`; returns the stored manifest's descriptor. Blobs are
/// written to temporary files and renamed, so a failure leaves no partial blob behind.
pub fn pack(
    store: &Store,
    format: &Format,
    request: &PackRequest,
) -> Result<PackOutcome, EngineError> {
    let ignore = KitIgnore::load(request.context)?;
    let plan = plan(
        request.context,
        request.kitfile,
        (&ignore, format.file_filter.as_deref()),
    )?;
    let mut layers = Vec::with_capacity(plan.layers.len());
    for layer in &plan.layers {
        layers.push(write_layer(store, format, request, layer)?);
    }

    store_modelkit(
        store,
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
    store: &Store,
    format: &Format,
    kitfile: &Kitfile,
    kitfile_bytes: &[u8],
    layers: Vec<PackedLayer>,
    created: Option<i64>,
) -> Result<PackOutcome, EngineError> {
    let config_bytes =
        format
            .enricher
            .config(kitfile, &layers)
            .map_err(|e| EngineError::Plugin {
                role: "enricher",
                message: e.to_string(),
            })?;
    let (digest, size) = store.put_blob(&config_bytes)?;
    let config = Descriptor {
        media_type: format.media_types.config.clone(),
        digest,
        size,
        annotations: BTreeMap::new(),
    };

    let mut descriptors: Vec<Descriptor> = layers
        .iter()
        .map(|l| -> Result<Descriptor, EngineError> {
            Ok(Descriptor {
                media_type: l.media_type.clone(),
                digest: l.digest.parse()?,
                size: l.size,
                annotations: BTreeMap::new(),
            })
        })
        .collect::<Result<_, _>>()?;
    if format.kitfile_layer {
        if let Some(media_type) = &format.media_types.kitfile {
            let (digest, size) = store.put_blob(kitfile_bytes)?;
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
    if let Some(seconds) = created {
        annotations.insert(CREATED_ANNOTATION.to_owned(), rfc3339(seconds)?);
    }
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_owned()),
        artifact_type: format.artifact_type.clone(),
        config: config.clone(),
        layers: descriptors,
        annotations,
    };
    let manifest = store.put_manifest(&manifest)?;
    Ok(PackOutcome {
        manifest,
        config,
        layers,
    })
}

/// Writes one planned layer through the format's codec and normalizer.
fn write_layer(
    store: &Store,
    format: &Format,
    request: &PackRequest,
    layer: &PlannedLayer,
) -> Result<PackedLayer, EngineError> {
    let mut writer = LayerWriter::new(store, request.compression, &layer.path)?;
    for member in &layer.members {
        if member.ancestor && !format.codec.archives_ancestors() {
            continue;
        }
        let Some(name) = format.codec.entry_name(&layer.path, &member.path) else {
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
        format.normalizer.normalize(&mut header);
        match kind {
            EntryKind::Dir => writer.add_dir(&header)?,
            EntryKind::File => {
                let path = request.context.join(&member.path);
                let mut file = File::open(&path).map_err(|e| EngineError::io(&path, e))?;
                writer.add_file(&header, &mut file)?;
            }
        }
    }
    let written = writer.finish()?;
    Ok(PackedLayer {
        entry: layer.entry.clone(),
        media_type: format.media_types.layer_for(
            layer.entry.kind.media_kind(),
            request.compression.media_type_suffix(),
        ),
        digest: written.digest.to_string(),
        diff_id: written.diff_id,
        size: written.size,
    })
}

/// `SOURCE_DATE_EPOCH` seconds as RFC 3339 in UTC, as Go's `time.RFC3339` prints them.
fn rfc3339(seconds: i64) -> Result<String, EngineError> {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.to_string())
        .map_err(|e| EngineError::Spec {
            file: "SOURCE_DATE_EPOCH".into(),
            message: format!("`{seconds}` is not a usable time: {e}"),
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
