//! `mkbuild diff REF1 REF2`: how two ModelKits differ, after kit's `diff` (config, annotations,
//! shared and unique layers) with more to read: each layer's kind and path, and each config key
//! that differs. Either ModelKit may be in the store or in a registry (`local://`, `remote://`,
//! `--remote`; by default the store, then the registry a reference names). The exit status is
//! kit's: 0 whether or not they differ, 1 when one cannot be read.

use std::collections::BTreeMap;

use anyhow::Context as _;
use mkbuild_engine::StoredModelKit;
use mkbuild_extract::printable;
use mkbuild_format::FormatRegistry;
use mkbuild_registry::RemoteReference;
use mkbuild_store::{Descriptor, StoreError};

use super::remote::Located;
use crate::cli::{ConnectionArgs, DiffArgs, GlobalArgs};
use crate::output::outln;

const REMOTE_PREFIX: &str = "remote://";
const LOCAL_PREFIX: &str = "local://";

pub fn run(global: &GlobalArgs, args: DiffArgs) -> anyhow::Result<()> {
    let formats = crate::known_formats::load(&global.spec_dirs)?;
    let first = locate(global, &args.first, args.remote, &args.registry)
        .with_context(|| format!("cannot read the first ModelKit `{}`", args.first))?;
    let second = locate(global, &args.second, args.remote, &args.registry)
        .with_context(|| format!("cannot read the second ModelKit `{}`", args.second))?;
    let (a, b) = (&first.modelkit, &second.modelkit);
    if a.descriptor.digest == b.descriptor.digest {
        outln!(
            "the ModelKits are identical ({})",
            printable(a.descriptor.digest.as_str())
        )?;
        return Ok(());
    }
    outln!(
        "1: {} ({})",
        printable(&args.first),
        a.descriptor.digest.as_str()
    )?;
    outln!(
        "2: {} ({})",
        printable(&args.second),
        b.descriptor.digest.as_str()
    )?;

    outln!()?;
    if a.manifest.config.digest == b.manifest.config.digest {
        outln!("config: identical ({})", a.manifest.config.digest.as_str())?;
    } else {
        outln!(
            "config: differs (1: {}, 2: {})",
            a.manifest.config.digest.as_str(),
            b.manifest.config.digest.as_str()
        )?;
        for line in changed_keys(&flat_json(&a.config_bytes), &flat_json(&b.config_bytes)) {
            outln!("  {line}")?;
        }
    }

    outln!()?;
    let (annotations_a, annotations_b) = (
        flat_strings(&a.manifest.annotations),
        flat_strings(&b.manifest.annotations),
    );
    if annotations_a == annotations_b {
        outln!("annotations: identical")?;
    } else {
        outln!("annotations: differ")?;
        for line in changed_keys(&annotations_a, &annotations_b) {
            outln!("  {line}")?;
        }
    }

    let (layers_a, layers_b) = (described_layers(a, &formats), described_layers(b, &formats));
    let in_b = |layer: &Layer| layers_b.iter().any(|l| l.digest == layer.digest);
    let in_a = |layer: &Layer| layers_a.iter().any(|l| l.digest == layer.digest);
    let shared: Vec<&Layer> = layers_a.iter().filter(|l| in_b(l)).collect();
    let only_a: Vec<&Layer> = layers_a.iter().filter(|l| !in_b(l)).collect();
    let only_b: Vec<&Layer> = layers_b.iter().filter(|l| !in_a(l)).collect();
    print_layers("shared layers", &shared)?;
    print_layers("layers only in 1", &only_a)?;
    print_layers("layers only in 2", &only_b)?;
    Ok(())
}

/// Reads `reference` where its prefix, `--remote` or its form say: `remote://` or `--remote` from
/// its registry; `local://` from the store; else the store, and the registry when the store lacks
/// it and it names one (as kit does).
fn locate(
    global: &GlobalArgs,
    reference: &str,
    remote: bool,
    registry: &ConnectionArgs,
) -> anyhow::Result<Located> {
    if let Some(rest) = reference.strip_prefix(REMOTE_PREFIX) {
        return super::remote::from_registry(rest, registry);
    }
    if let Some(rest) = reference.strip_prefix(LOCAL_PREFIX) {
        return super::remote::from_store(global, rest);
    }
    if remote {
        return super::remote::from_registry(reference, registry);
    }
    match super::remote::from_store(global, reference) {
        Err(e) if RemoteReference::looks_remote(reference) && not_in_store(&e) => {
            super::remote::from_registry(reference, registry)
        }
        result => result,
    }
}

/// Whether the store simply lacks the ModelKit (rather than failing to read it).
fn not_in_store(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<mkbuild_engine::EngineError>(),
        Some(mkbuild_engine::EngineError::Store(
            StoreError::NotFound { .. } | StoreError::InvalidReference { .. }
        ))
    ) || matches!(
        error.downcast_ref::<StoreError>(),
        Some(StoreError::NotFound { .. } | StoreError::InvalidReference { .. })
    )
}

/// A layer as the diff shows it.
struct Layer {
    kind: String,
    path: String,
    digest: String,
    size: u64,
}

/// Each layer with its kind and path, from the Kitfile entry it holds; a layer the ModelKit's
/// format cannot place (an unknown format, a damaged config) shows its media type instead.
fn described_layers(modelkit: &StoredModelKit, formats: &FormatRegistry) -> Vec<Layer> {
    let matched: Vec<(String, String, &Descriptor)> = match modelkit.layers(formats) {
        Ok(readable) => readable
            .layers
            .iter()
            .filter_map(|l| {
                let layer = modelkit
                    .manifest
                    .layers
                    .iter()
                    .find(|d| d.digest == l.descriptor.digest)?;
                Some((
                    l.entry.kind.to_string(),
                    l.file_path.clone().unwrap_or_else(|| l.path.clone()),
                    layer,
                ))
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let kitfile_types = formats.kitfile_media_types();
    modelkit
        .manifest
        .layers
        .iter()
        .map(|descriptor| {
            let (kind, path) = matched
                .iter()
                .find(|(_, _, d)| d.digest == descriptor.digest)
                .map(|(kind, path, _)| (kind.clone(), path.clone()))
                .unwrap_or_else(|| {
                    if kitfile_types.contains(&descriptor.media_type) {
                        ("kitfile".to_owned(), "Kitfile".to_owned())
                    } else {
                        (descriptor.media_type.clone(), "-".to_owned())
                    }
                });
            Layer {
                kind,
                path,
                digest: descriptor.digest.to_string(),
                size: descriptor.size,
            }
        })
        .collect()
}

fn print_layers(title: &str, layers: &[&Layer]) -> anyhow::Result<()> {
    outln!()?;
    if layers.is_empty() {
        outln!("{title}: none")?;
        return Ok(());
    }
    outln!("{title}:")?;
    // What a ModelKit holds is not trusted to be free of terminal escapes.
    let kind_width = layers
        .iter()
        .map(|l| printable(&l.kind).chars().count())
        .max()
        .unwrap_or(0);
    let path_width = layers
        .iter()
        .map(|l| printable(&l.path).chars().count())
        .max()
        .unwrap_or(0);
    for layer in layers {
        outln!(
            "  {:kind_width$}   {:path_width$}   {}   {} bytes",
            printable(&layer.kind),
            printable(&layer.path),
            layer.digest,
            layer.size
        )?;
    }
    Ok(())
}

/// A JSON document as `key.path[index] -> value` (scalars as JSON text); not JSON: one entry,
/// the whole text, under `(not JSON)`.
fn flat_json(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut flat = BTreeMap::new();
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(value) => flatten("", &value, &mut flat),
        Err(_) => {
            flat.insert(
                "(not JSON)".to_owned(),
                String::from_utf8_lossy(bytes).into_owned(),
            );
        }
    }
    flat
}

fn flatten(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, value, out);
            }
        }
        serde_json::Value::Array(items) if !items.is_empty() => {
            for (i, value) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), value, out);
            }
        }
        scalar => {
            out.insert(prefix.to_owned(), scalar.to_string());
        }
    }
}

fn flat_strings(map: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    map.iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str()).to_string()))
        .collect()
}

/// One line per key whose value differs: `key: A -> B`, `key: only in 1: A`, `key: only in 2: B`.
fn changed_keys(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let line = match (a.get(key), b.get(key)) {
                (Some(x), Some(y)) if x == y => return None,
                (Some(x), Some(y)) => format!("{key}: {} -> {}", shorten(x), shorten(y)),
                (Some(x), None) => format!("{key}: only in 1: {}", shorten(x)),
                (None, Some(y)) => format!("{key}: only in 2: {}", shorten(y)),
                (None, None) => return None,
            };
            Some(printable(&line))
        })
        .collect()
}

/// A long value (an annotation holding a whole Kitfile, say) cut to a readable length.
fn shorten(value: &str) -> String {
    const SHOWN: usize = 120;
    if value.chars().count() <= SHOWN {
        return value.to_owned();
    }
    let cut: String = value.chars().take(SHOWN).collect();
    format!("{cut}... ({} characters)", value.chars().count())
}
