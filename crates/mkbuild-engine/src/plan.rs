//! Layer planning: which files of the context go into which layer, in kit's order.
//!
//! One layer per Kitfile entry (model, parts, code, datasets, docs). A file belongs to the most
//! specific layer: it is left out of layer L when it lies inside the path of another layer M,
//! unless M is L or an ancestor of it (paths compared by whole components). `.kitignore` and the
//! Kitfile names at the root are left out of every layer.

use std::path::{Path, PathBuf};

use mkbuild_kitfile::{clean_path, Kitfile, LayerEntry};

use crate::kitignore::KitIgnore;
use crate::walk::{walk, FileKind, FileMeta, Walk};
use crate::EngineError;

/// Names at the context root that never ship.
const ALWAYS_IGNORED: [&str; 4] = ["Kitfile", "kitfile", ".kitfile", ".kitignore"];

/// A file or folder that goes into a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Path relative to the context, `/`-separated.
    pub path: String,
    pub meta: FileMeta,
    /// A folder above the layer path (archived only by codecs that keep the context's layout).
    pub ancestor: bool,
}

/// The members of one layer, in Go's walk order.
#[derive(Debug, Clone)]
pub struct PlannedLayer {
    pub entry: LayerEntry,
    /// The entry's path, cleaned (`./model/` -> `model`; the context is `.`).
    pub path: String,
    pub members: Vec<Member>,
}

impl PlannedLayer {
    /// Bytes of file data in the layer.
    pub fn data_bytes(&self) -> u64 {
        self.members.iter().map(|m| m.meta.size).sum()
    }
}

/// All layers of a Kitfile over one context folder.
#[derive(Debug, Clone)]
pub struct LayerPlan {
    pub context: PathBuf,
    pub layers: Vec<PlannedLayer>,
}

/// Plans every layer of `kitfile` over `context`.
pub fn plan(
    context: &Path,
    kitfile: &Kitfile,
    ignore: &KitIgnore,
) -> Result<LayerPlan, EngineError> {
    let entries = kitfile.layer_entries();
    let paths: Vec<String> = entries.iter().map(|e| clean_path(&e.path)).collect();
    let mut layers = Vec::with_capacity(entries.len());
    for (entry, path) in entries.into_iter().zip(&paths) {
        check_layer_path(context, &entry, path)?;
        if ignore.matches(path) {
            tracing::warn!("{}: path `{path}` is ignored by `.kitignore`", entry.label);
        }
        let members = plan_members(context, path, &paths, ignore)?;
        if !members
            .iter()
            .any(|m| !m.ancestor && m.meta.kind == FileKind::File)
        {
            tracing::warn!("{}: no files found under `{path}`", entry.label);
        }
        layers.push(PlannedLayer {
            entry,
            path: path.clone(),
            members,
        });
    }
    Ok(LayerPlan {
        context: context.to_path_buf(),
        layers,
    })
}

/// The layer path must exist and be reached through real folders only.
fn check_layer_path(context: &Path, entry: &LayerEntry, path: &str) -> Result<(), EngineError> {
    if path == "." {
        return Ok(());
    }
    let mut so_far = String::new();
    for part in path.split('/') {
        if !so_far.is_empty() {
            so_far.push('/');
        }
        so_far.push_str(part);
        let full = context.join(&so_far);
        let meta = match FileMeta::of(&full) {
            Ok(meta) => meta,
            Err(EngineError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                return Err(EngineError::MissingLayerPath {
                    entry: entry.label.clone(),
                    path: path.to_owned(),
                    context: context.to_path_buf(),
                })
            }
            Err(e) => return Err(e),
        };
        let last = so_far.len() == path.len();
        let fits = match meta.kind {
            FileKind::Dir => true,
            FileKind::File => last,
            FileKind::Other => false,
        };
        if !fits {
            return Err(EngineError::UnsupportedLayerPath {
                entry: entry.label.clone(),
                path: so_far,
            });
        }
    }
    Ok(())
}

fn plan_members(
    context: &Path,
    layer: &str,
    all_layers: &[String],
    ignore: &KitIgnore,
) -> Result<Vec<Member>, EngineError> {
    let mut members = Vec::new();
    walk(context, &mut |path, meta| {
        let is_dir = meta.kind == FileKind::Dir;
        let skip = if is_dir {
            Walk::SkipDir
        } else {
            Walk::Continue
        };
        if meta.kind == FileKind::Other {
            tracing::debug!("skipping `{path}`: not a regular file or folder");
            return Ok(Walk::Continue);
        }
        let ancestor = !within(path, layer);
        if ancestor && !within(layer, path) {
            return Ok(skip);
        }
        if in_other_layer(path, layer, all_layers) {
            return Ok(skip);
        }
        if ALWAYS_IGNORED.contains(&path) || ignore.matches(path) {
            // With `!` exceptions a file below an ignored folder may still be wanted.
            return Ok(if ignore.has_exclusions() {
                Walk::Continue
            } else {
                skip
            });
        }
        members.push(Member {
            path: path.to_owned(),
            meta: meta.clone(),
            ancestor,
        });
        Ok(Walk::Continue)
    })?;
    Ok(members)
}

/// Whether `path` is `base` or lies under it, by whole components.
pub fn within(path: &str, base: &str) -> bool {
    base == "."
        || path == base
        || (path.len() > base.len()
            && path.starts_with(base)
            && path.as_bytes()[base.len()] == b'/')
}

/// Whether `path` lies inside another layer that is neither `layer` nor one of its ancestors.
fn in_other_layer(path: &str, layer: &str, all_layers: &[String]) -> bool {
    all_layers
        .iter()
        .any(|other| !within(layer, other) && within(path, other))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_compares_components() {
        assert!(within("data/a", "data"));
        assert!(within("data", "data"));
        assert!(!within("database.txt", "data"));
        assert!(within("x", "."));
        assert!(!within(".", "x"));
    }

    #[test]
    fn most_specific_layer_wins() {
        let layers = vec![
            ".".to_owned(),
            "data".to_owned(),
            "data/raw/m.bin".to_owned(),
        ];
        assert!(in_other_layer("data/a", ".", &layers));
        assert!(!in_other_layer("database.txt", ".", &layers));
        assert!(!in_other_layer("data/a", "data", &layers));
        assert!(in_other_layer("data/raw/m.bin", "data", &layers));
        assert!(!in_other_layer("data/raw/m.bin", "data/raw/m.bin", &layers));
    }
}
