//! Unpack: a stored ModelKit back into a folder, for every generation of ModelKit.
//!
//! The format comes from the manifest's annotation, else from the config (layer digests mean the
//! path-preserving generation `v2`, none the legacy flat `v1`). Each layer is matched to its
//! Kitfile entry, verified while it is read, and its entries are placed by the format's codec
//! through the safe extractor, which stages everything and moves it into place only at the end.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use mkbuild_extract::{CommitSummary, ExtractError, Extractor, VerifyingReader};
use mkbuild_store::{Descriptor, Store};

use crate::blob_source::BlobSource;
use crate::compression::Compression;
use crate::layer_reader::with_matched_layer_content;
use crate::matching::MatchedLayer;
use crate::modelkit::{FormatOf, ReadableModelKit, StoredModelKit};
use crate::progress::Progress;
use crate::selection::{describe_entries, Selection};
use crate::EngineError;
use mkbuild_format::{Format, FormatRegistry, Kitfile, LayerEncoding, LayerEntry, LayerKind};

/// The mode of a file unpacked from a raw layer: 0644, or 0755 when its metadata annotation says
/// someone may execute it (only that bit of the hostile annotation is taken, as tar modes are
/// reduced to what a plain file may have).
fn raw_file_mode(layer: &MatchedLayer, format: &Format) -> u32 {
    let executable = format
        .layers
        .metadata_annotation
        .as_ref()
        .and_then(|key| layer.descriptor.annotations.get(key))
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .and_then(|metadata| metadata.get("mode").and_then(serde_json::Value::as_u64))
        .is_some_and(|mode| mode & 0o111 != 0);
    if executable {
        0o755
    } else {
        0o644
    }
}

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
    /// Keep every mode bit, setuid and setgid of files included (tar's `-p`).
    pub same_permissions: bool,
    /// Keep files that already exist in the target (unless `overwrite`), leaving the ModelKit's
    /// version out, instead of refusing the unpack.
    pub ignore_existing: bool,
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
    unpack_from(store, &modelkit, store, registry, request)
}

/// [`unpack`] of a ModelKit whose manifest and config are read already and whose blobs come from
/// `source`: the store, or a registry streamed straight into the extractor's staging, so that
/// only the selected layers (and the Kitfile layer, when selected) are read. A model that names
/// another ModelKit is read from `store`, where that ModelKit must be.
pub fn unpack_from(
    source: &dyn BlobSource,
    modelkit: &StoredModelKit,
    store: &Store,
    registry: &FormatRegistry,
    request: &UnpackRequest,
) -> Result<UnpackSummary, EngineError> {
    let readable = modelkit.layers(registry)?;
    let mut selected: Vec<(&Format, MatchedLayer)> = readable
        .layers
        .iter()
        .filter(|l| request.selection.selects_entry(&l.entry))
        .map(|l| (&readable.format, l.clone()))
        .collect();
    // A model that is another ModelKit comes from that ModelKit's model layers, as kit unpacks
    // it: with each filter's model types only, and not at all when no filter names a model.
    let parent_selection = request.selection.for_model_parent();
    let parents = match &parent_selection {
        Some(_) => model_parents(store, registry, &readable.kitfile)?,
        None => Vec::new(),
    };
    let is_model =
        |l: &&MatchedLayer| matches!(l.entry.kind, LayerKind::Model | LayerKind::ModelPart);
    let mut from_parents: Vec<(&Format, MatchedLayer)> = Vec::new();
    if let Some(parent_selection) = &parent_selection {
        for parent in &parents {
            for layer in parent.layers.iter().filter(is_model) {
                if parent_selection.selects_entry(&layer.entry) {
                    from_parents.push((&parent.format, layer.clone()));
                }
            }
        }
    }
    let present: Vec<&LayerEntry> = readable
        .layers
        .iter()
        .chain(
            parents
                .iter()
                .flat_map(|p| p.layers.iter().filter(is_model)),
        )
        .map(|l| &l.entry)
        .collect();
    if let Some(filter) = request.selection.unmatched(&present) {
        return Err(EngineError::NothingSelected {
            filter: filter.to_string(),
            reference: request.reference.to_owned(),
            present: describe_entries(&present),
        });
    }
    if modelkit.is_partial() {
        check_pulled(source, modelkit, registry, request, &selected)?;
    }
    let own = selected.len();
    selected.extend(from_parents);
    let mut extractor = Extractor::new(request.target)?;
    extractor.set_same_permissions(request.same_permissions);
    request
        .progress
        .start(selected.iter().map(|(_, l)| l.descriptor.size).sum());
    let extracted = selected
        .iter()
        .enumerate()
        .try_for_each(|(i, (format, layer))| {
            let from: &dyn BlobSource = if i < own { source } else { store };
            // The extractor names the layer and entry; the message names the role and the plugin.
            let place = |name: &str| {
                format.codec.restore_path(&layer.path, name).map_err(|e| {
                    EngineError::Plugin {
                        role: "codec",
                        plugin: format.plugins.codec.clone(),
                        message: e.to_string(),
                    }
                    .to_string()
                })
            };
            if let (LayerEncoding::Raw, Some(path), Compression::None, Some(store)) = (
                layer.encoding,
                &layer.file_path,
                layer.compression,
                from.store(),
            ) {
                if clone_raw_layer(store, &mut extractor, format, layer, path)? {
                    request.progress.skipped(layer.descriptor.size);
                    return Ok(());
                }
            }
            with_matched_layer_content(from, layer, request.progress, |content, label| {
                match (layer.encoding, &layer.file_path) {
                    (LayerEncoding::Raw, Some(path)) => extractor.add_file_from(
                        path,
                        content,
                        raw_file_mode(layer, format),
                        label,
                    )?,
                    _ => {
                        extractor.extract_tar(content, label, &place)?;
                    }
                }
                Ok(())
            })
            .map_err(|e| if i < own { at_source(source, e) } else { e })
        });
    request.progress.finish();
    extracted?;
    let unpacked = selected.len();
    if request.selection.selects_kitfile() {
        let bytes = modelkit
            .kitfile_bytes(source, registry)
            .map_err(|e| at_source(source, e))?;
        extractor.add_file("Kitfile", &bytes, 0o644)?;
    }
    let written = extractor.commit_with(match (request.overwrite, request.ignore_existing) {
        (true, _) => mkbuild_extract::Existing::Replace,
        (false, true) => mkbuild_extract::Existing::Keep,
        (false, false) => mkbuild_extract::Existing::Refuse,
    })?;
    Ok(UnpackSummary {
        format: readable.format_of,
        layers: unpacked,
        written,
    })
}

/// The blobs of `modelkit` that an unpack with `selection` reads: the layers of the entries it
/// selects and, when it selects the Kitfile, the Kitfile layer of formats that keep one; what
/// `pull --filter` downloads. A filter that selects nothing is an error, as at unpack. A model
/// that names another ModelKit is not followed (unpack pulls that one whole).
pub fn selected_blobs(
    modelkit: &StoredModelKit,
    registry: &FormatRegistry,
    selection: &Selection,
    reference: &str,
) -> Result<Vec<Descriptor>, EngineError> {
    let readable = modelkit.layers(registry)?;
    let present: Vec<&LayerEntry> = readable.layers.iter().map(|l| &l.entry).collect();
    // With the model in another ModelKit, a model filter selects there, not here.
    if readable.kitfile.model_reference().is_none() {
        if let Some(filter) = selection.unmatched(&present) {
            return Err(EngineError::NothingSelected {
                filter: filter.to_string(),
                reference: reference.to_owned(),
                present: describe_entries(&present),
            });
        }
    }
    let mut blobs: Vec<Descriptor> = Vec::new();
    let layers = readable
        .layers
        .iter()
        .filter(|l| selection.selects_entry(&l.entry))
        .map(|l| &l.descriptor);
    let kitfile = modelkit
        .kitfile_layer(registry)
        .filter(|_| selection.selects_kitfile());
    for descriptor in layers.chain(kitfile) {
        if !blobs.iter().any(|b| b.digest == descriptor.digest) {
            blobs.push(descriptor.clone());
        }
    }
    Ok(blobs)
}

/// Of a partial ModelKit (pulled with `--filter`), the blobs this unpack needs must have been
/// pulled; when some were not, says which and how to get them.
fn check_pulled(
    source: &dyn BlobSource,
    modelkit: &StoredModelKit,
    registry: &FormatRegistry,
    request: &UnpackRequest,
    selected: &[(&Format, MatchedLayer)],
) -> Result<(), EngineError> {
    let Some(store) = source.store() else {
        return Ok(());
    };
    let mut missing: Vec<String> = selected
        .iter()
        .filter(|(_, l)| !store.has_blob(&l.descriptor.digest))
        .map(|(_, l)| l.label())
        .collect();
    if request.selection.selects_kitfile() {
        if let Some(layer) = modelkit
            .kitfile_layer(registry)
            .filter(|l| !store.has_blob(&l.digest))
        {
            missing.push(format!("the Kitfile layer (blob `{}`)", layer.digest));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let name = modelkit
        .descriptor
        .annotations
        .get(mkbuild_store::media_type::ANNOTATION_REF_NAME)
        .cloned()
        .unwrap_or_else(|| request.reference.to_owned());
    Err(EngineError::NotPulled {
        reference: request.reference.to_owned(),
        missing: missing.join(", "),
        pull: name,
    })
}

/// A blob that arrived wrong from a source other than the store: the fix is at that source
/// (the store's advice, to remove the blob and pull again, does not apply).
fn at_source(source: &dyn BlobSource, error: EngineError) -> EngineError {
    if source.store().is_some() {
        return error;
    }
    let fix = "nothing was written; push the ModelKit there again (or unpack again, if the network damaged it)";
    match error {
        EngineError::Extract(ExtractError::DigestMismatch {
            label,
            expected,
            actual,
            bytes,
        }) => EngineError::Mismatch(format!(
            "{label} as {} sent it is damaged: expected digest `{expected}`, but its {bytes} bytes hash to `{actual}`; {fix}",
            source.describe()
        )),
        EngineError::Extract(ExtractError::SizeMismatch {
            label,
            expected,
            actual,
        }) => EngineError::Mismatch(format!(
            "{label} as {} sent it is damaged: its descriptor says {expected} bytes, but {actual}{} were sent; {fix}",
            source.describe(),
            if actual > expected { " or more" } else { "" }
        )),
        other => other,
    }
}

/// How many ModelKits a chain of models naming ModelKits may cross, as kit allows.
const MAX_MODEL_CHAIN: usize = 10;

/// The ModelKits whose model this one's is, nearest first: the one the model's path names, and
/// on while each one's model names another. Each must be in the store.
fn model_parents(
    store: &Store,
    registry: &FormatRegistry,
    kitfile: &Kitfile,
) -> Result<Vec<ReadableModelKit>, EngineError> {
    let mut parents: Vec<ReadableModelKit> = Vec::new();
    let mut next = kitfile.model_reference().map(str::to_owned);
    while let Some(reference) = next {
        if parents.len() == MAX_MODEL_CHAIN {
            return Err(EngineError::Unsupported(format!(
                "the model names ModelKits more than {MAX_MODEL_CHAIN} deep (the last: `{reference}`); kit allows no more"
            )));
        }
        let parent = StoredModelKit::load(store, &reference).map_err(|e| {
            EngineError::Unsupported(format!(
                "the model is the ModelKit `{reference}`, which cannot be read from the store ({e}); pull it (`mkbuild pull {reference}`) and unpack again"
            ))
        })?;
        let readable = parent.layers(registry)?;
        next = readable.kitfile.model_reference().map(str::to_owned);
        parents.push(readable);
    }
    Ok(parents)
}

/// Unpacks a raw layer as a clone of its blob where the filesystem can (no copy, no space); the
/// clone is then read once to check its digest. False when it cannot: nothing was added.
fn clone_raw_layer(
    store: &Store,
    extractor: &mut Extractor,
    format: &Format,
    layer: &MatchedLayer,
    path: &str,
) -> Result<bool, EngineError> {
    let label = layer.label();
    let blob = store.open_blob(&layer.descriptor.digest)?;
    let Some(clone) =
        extractor.add_file_cloned(path, &blob, raw_file_mode(layer, format), &label)?
    else {
        return Ok(false);
    };
    // The clone, not the blob: it is what gets committed, and the blob may change meanwhile.
    let mut check = VerifyingReader::new(
        BufReader::with_capacity(1 << 20, clone),
        layer.descriptor.digest.as_str(),
        &label,
    )?
    .with_expected_size(layer.descriptor.size);
    std::io::copy(&mut check, &mut std::io::sink())
        .map_err(|e| EngineError::io(&PathBuf::from(path), e))?;
    check.finish()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::io::Read;

    use super::*;
    use crate::pack::{pack, PackRequest};
    use crate::progress::NoProgress;
    use crate::selection::Selector;

    /// The store's blobs, each open recorded, and one blob's bytes served wrong on request.
    struct Recording<'a> {
        store: &'a Store,
        opened: RefCell<Vec<String>>,
        wrong: Option<String>,
    }

    impl BlobSource for Recording<'_> {
        fn open_blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, EngineError> {
            let digest = descriptor.digest.to_string();
            self.opened.borrow_mut().push(digest.clone());
            let mut bytes = self.store.read_blob(&descriptor.digest, 1 << 20)?;
            if self.wrong.as_deref() == Some(digest.as_str()) {
                if let Some(last) = bytes.last_mut() {
                    *last ^= 0xff;
                }
            }
            Ok(Box::new(std::io::Cursor::new(bytes)))
        }
    }

    /// A `v2` ModelKit with a model, code and a dataset, packed into a fresh store.
    fn packed() -> (tempfile::TempDir, Store, StoredModelKit, FormatRegistry) {
        let dir = tempfile::tempdir().expect("tempdir");
        let ctx = dir.path().join("ctx");
        std::fs::create_dir_all(ctx.join("src")).expect("mkdir");
        std::fs::write(ctx.join("model.bin"), vec![7u8; 4096]).expect("model");
        std::fs::write(ctx.join("src/a.py"), "a = 1\n").expect("code");
        std::fs::write(ctx.join("train.csv"), "x\n1\n").expect("data");
        let yaml = "manifestVersion: 1.0.0\npackage:\n  name: t\nmodel:\n  path: model.bin\ncode:\n  - path: src\ndatasets:\n  - name: train\n    path: train.csv\n";
        let kitfile = Kitfile::from_yaml(yaml.as_bytes(), "Kitfile").expect("Kitfile");
        let store = Store::open(&dir.path().join("store")).expect("store");
        let formats = mkbuild_builtin::formats().expect("formats");
        let format = formats.format("v2").expect("v2");
        let outcome = pack(
            &store,
            &format,
            &PackRequest {
                context: &ctx,
                kitfile: &kitfile,
                kitfile_bytes: yaml.as_bytes(),
                compression: Compression::None,
                created: Some(0),
                cache: false,
                jobs: 1,
                parent_paths: &[],
                layer_format: None,
                progress: &NoProgress,
            },
        )
        .expect("pack");
        let modelkit =
            StoredModelKit::load(&store, &outcome.manifest.digest.to_string()).expect("load");
        (dir, store, modelkit, formats)
    }

    fn request<'a>(target: &'a Path, selection: &'a Selection) -> UnpackRequest<'a> {
        UnpackRequest {
            reference: "t",
            target,
            selection,
            overwrite: false,
            same_permissions: false,
            ignore_existing: false,
            progress: &NoProgress,
        }
    }

    fn selection(filter: &str) -> Selection {
        Selection(vec![filter.parse::<Selector>().expect("filter")])
    }

    fn layer_of(modelkit: &StoredModelKit, kind: &str) -> String {
        modelkit
            .manifest
            .layers
            .iter()
            .find(|l| l.media_type.contains(kind))
            .map(|l| l.digest.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn only_the_selected_blobs_are_read_from_the_source() {
        let (dir, store, modelkit, formats) = packed();
        for (filter, kind, file) in [
            ("kitfile", "kitfile", "Kitfile"),
            ("code", "code", "src/a.py"),
            ("datasets:train", "dataset", "train.csv"),
        ] {
            let source = Recording {
                store: &store,
                opened: RefCell::new(Vec::new()),
                wrong: None,
            };
            let target = dir.path().join(kind);
            let selection = selection(filter);
            unpack_from(
                &source,
                &modelkit,
                &store,
                &formats,
                &request(&target, &selection),
            )
            .expect("unpack");
            assert_eq!(
                source.opened.into_inner(),
                [layer_of(&modelkit, kind)],
                "{filter}"
            );
            assert!(target.join(file).is_file(), "{filter}");
            let selected = selected_blobs(&modelkit, &formats, &selection, "t").expect("blobs");
            let digests: Vec<String> = selected.iter().map(|d| d.digest.to_string()).collect();
            assert_eq!(digests, [layer_of(&modelkit, kind)], "{filter}");
        }
    }

    #[test]
    fn a_wrong_blob_from_the_source_fails_naming_it_and_writes_nothing() {
        let (dir, store, modelkit, formats) = packed();
        let dataset = layer_of(&modelkit, "dataset");
        let source = Recording {
            store: &store,
            opened: RefCell::new(Vec::new()),
            wrong: Some(dataset.clone()),
        };
        let target = dir.path().join("out");
        let selection = Selection(vec![
            "code".parse().expect("code"),
            "datasets".parse().expect("datasets"),
        ]);
        let error = unpack_from(
            &source,
            &modelkit,
            &store,
            &formats,
            &request(&target, &selection),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(error.contains(&dataset), "{error}");
        let left: Vec<_> = std::fs::read_dir(&target)
            .map(|entries| entries.collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{left:?}");
    }
}
