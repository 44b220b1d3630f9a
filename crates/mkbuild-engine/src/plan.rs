//! Layer planning: which files of the context go into which layer, in kit's order.
//!
//! One layer per Kitfile entry (model, parts, code, datasets, docs). A file belongs to the most
//! specific layer: it is left out of layer L when it lies inside the path of another layer M,
//! unless M is L or an ancestor of it (paths compared by whole components). `.kitignore` and the
//! Kitfile names at the root are left out of every layer, and so is whatever the format's
//! [`FileFilter`] refuses (a refused folder is not entered).

use std::path::Path;

use mkbuild_format::{EntryKind, FileFilter};
use mkbuild_kitfile::{Kitfile, LayerEntry};

use crate::kitignore::KitIgnore;
use crate::walk::{open_beneath, walk, FileKind, FileMeta, Walk};
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
    pub layers: Vec<PlannedLayer>,
}

/// What leaves files out of every layer: `.kitignore` and, when the format has one, its file
/// filter. A bare `&KitIgnore` converts into rules without a filter.
#[derive(Clone, Copy)]
pub struct Exclusions<'a> {
    pub ignore: &'a KitIgnore,
    /// The format's filter, with its plugin's name for errors.
    pub filter: Option<(&'a str, &'a dyn FileFilter)>,
    /// Paths the ModelKit the model names already holds (cleaned): kit leaves them out of every
    /// layer.
    pub parent: &'a [String],
}

impl<'a> From<&'a KitIgnore> for Exclusions<'a> {
    fn from(ignore: &'a KitIgnore) -> Self {
        Exclusions {
            ignore,
            filter: None,
            parent: &[],
        }
    }
}

impl<'a> From<(&'a KitIgnore, Option<(&'a str, &'a dyn FileFilter)>)> for Exclusions<'a> {
    fn from((ignore, filter): (&'a KitIgnore, Option<(&'a str, &'a dyn FileFilter)>)) -> Self {
        Exclusions {
            ignore,
            filter,
            parent: &[],
        }
    }
}

impl Exclusions<'_> {
    /// Whether the format's filter refuses `path`.
    fn filtered_out(&self, path: &str, kind: FileKind) -> Result<bool, EngineError> {
        let (Some((plugin, filter)), Some(kind)) = (self.filter, entry_kind(kind)) else {
            return Ok(false);
        };
        filter
            .includes(path, kind)
            .map(|keep| !keep)
            .map_err(|e| EngineError::Plugin {
                role: "filter",
                plugin: plugin.to_owned(),
                message: format!("`{path}`: {e}"),
            })
    }
}

fn entry_kind(kind: FileKind) -> Option<EntryKind> {
    match kind {
        FileKind::File => Some(EntryKind::File),
        FileKind::Dir => Some(EntryKind::Dir),
        FileKind::Other => None,
    }
}

/// Plans every layer of `kitfile` over `context`, leaving out what `exclusions` exclude.
pub fn plan<'a>(
    context: &Path,
    kitfile: &Kitfile,
    exclusions: impl Into<Exclusions<'a>>,
) -> Result<LayerPlan, EngineError> {
    let exclusions = exclusions.into();
    let ignore = exclusions.ignore;
    let entries = kitfile.layer_entries();
    let paths: Vec<String> = entries
        .iter()
        .map(|e| mkbuild_path::clean(&e.path))
        .collect();
    let mut layers = Vec::with_capacity(entries.len());
    for (entry, path) in entries.into_iter().zip(&paths) {
        check_layer_path(context, &entry, path)?;
        if ignore.matches(path) {
            tracing::warn!("{}: path `{path}` is ignored by `.kitignore`", entry.label);
        }
        let members = plan_members(context, path, &paths, exclusions)?;
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
    Ok(LayerPlan { layers })
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
            Err(EngineError::Io { cause: source, .. })
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
    exclusions: Exclusions,
) -> Result<Vec<Member>, EngineError> {
    let ignore = exclusions.ignore;
    let mut members = Vec::new();
    let mut left_out = Vec::new();
    walk(context, &mut |path, meta| {
        let is_dir = meta.kind == FileKind::Dir;
        let skip = if is_dir {
            Walk::SkipDir
        } else {
            Walk::Continue
        };
        let ancestor = !within(path, layer);
        if ancestor && !within(layer, path) {
            return Ok(skip);
        }
        if in_other_layer(path, layer, all_layers) {
            return Ok(skip);
        }
        if !ancestor && exclusions.parent.iter().any(|p| within(path, p)) {
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
        if exclusions.filtered_out(path, meta.kind)? {
            return Ok(skip);
        }
        if meta.kind == FileKind::Other {
            // kit archives no links or special files; say so rather than leave them out silently.
            left_out.push((path.to_owned(), meta.symlink));
            return Ok(Walk::Continue);
        }
        if meta.kind == FileKind::File {
            // Found now, an unreadable file stops the pack before any layer is written to the
            // store, instead of leaving the layers packed before it there.
            open_beneath(context, path, meta.identity)?;
        }
        if !ancestor {
            // A name unpack would refuse is refused here, so that nothing is packed that cannot
            // come back out.
            if let Err(problem) = mkbuild_extract::normalize_entry_name(path) {
                return Err(EngineError::UnpackableName {
                    path: mkbuild_extract::printable(&context.join(path).to_string_lossy()),
                    problem: problem.describe(),
                });
            }
        }
        members.push(Member {
            path: path.to_owned(),
            meta: meta.clone(),
            ancestor,
        });
        Ok(Walk::Continue)
    })?;
    if !left_out.is_empty() {
        let links = left_out.iter().filter(|(_, link)| *link).count();
        tracing::warn!(
            "layer `{layer}`: {} left out ({links} symbolic links, {} other special files): layers hold only regular files and folders{}",
            left_out.len(),
            left_out.len() - links,
            if tracing::enabled!(tracing::Level::INFO) { "" } else { "; -v lists them" }
        );
        for (path, link) in &left_out {
            let what = if *link {
                "a symbolic link"
            } else {
                "a special file"
            };
            tracing::info!("left out `{path}`: {what}");
        }
    }
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

    /// Refuses `*.tmp` files and `cache` folders.
    struct NoTmp;
    impl FileFilter for NoTmp {
        fn includes(
            &self,
            path: &str,
            kind: EntryKind,
        ) -> Result<bool, mkbuild_format::PluginError> {
            Ok(match kind {
                EntryKind::File => !path.ends_with(".tmp"),
                EntryKind::Dir => !path.ends_with("cache"),
            })
        }
    }

    #[test]
    fn a_filter_leaves_files_and_folders_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in ["d/a.txt", "d/b.tmp", "d/cache/c.txt", "d/sub/e.txt"] {
            let path = dir.path().join(f);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, f).expect("write");
        }
        let kitfile = Kitfile::from_yaml(
            b"manifestVersion: 1.0.0\npackage:\n  name: x\ncode:\n  - path: d\n",
            "Kitfile",
        )
        .expect("Kitfile");
        let ignore = KitIgnore::load(dir.path()).expect("no .kitignore");
        let filter: &dyn FileFilter = &NoTmp;
        let plan = plan(dir.path(), &kitfile, (&ignore, Some(("no-tmp", filter)))).expect("plan");
        let paths: Vec<&str> = plan.layers[0]
            .members
            .iter()
            .map(|m| m.path.as_str())
            .collect();
        assert_eq!(paths, ["d", "d/a.txt", "d/sub", "d/sub/e.txt"]);
        let unfiltered = plan_all(dir.path(), &kitfile, &ignore);
        assert_eq!(unfiltered, 7);
    }

    fn plan_all(context: &Path, kitfile: &Kitfile, ignore: &KitIgnore) -> usize {
        plan(context, kitfile, ignore).expect("plan").layers[0]
            .members
            .len()
    }
}
