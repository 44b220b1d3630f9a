//! A folder walk in the order of Go's `filepath.Walk`, which kit uses: depth first, a folder
//! before its contents, the names inside each folder sorted by their bytes. Links are not followed.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::EngineError;

/// What the walk found at one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    /// A symlink, device, fifo or socket: kit archives none of them.
    Other,
}

/// The facts of one file that packing needs (and that a build cache would compare).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    pub kind: FileKind,
    /// Permission bits with setuid, setgid and sticky; never the file-type bits.
    pub mode: u32,
    pub size: u64,
    pub uid: u64,
    pub gid: u64,
    pub mtime: i64,
}

impl FileMeta {
    pub fn of(path: &Path) -> Result<FileMeta, EngineError> {
        let md = fs::symlink_metadata(path).map_err(|e| EngineError::io(path, e))?;
        let ft = md.file_type();
        let kind = if ft.is_file() {
            FileKind::File
        } else if ft.is_dir() {
            FileKind::Dir
        } else {
            FileKind::Other
        };
        Ok(FileMeta {
            kind,
            mode: md.mode() & 0o7777,
            size: if kind == FileKind::File { md.len() } else { 0 },
            uid: u64::from(md.uid()),
            gid: u64::from(md.gid()),
            mtime: md.mtime(),
        })
    }
}

/// What the visitor wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    Continue,
    /// Do not descend into this folder.
    SkipDir,
}

/// Walks everything under `root` (not `root` itself), calling `visit` with each path relative to
/// `root` (`/`-separated) and its facts.
pub fn walk(
    root: &Path,
    visit: &mut dyn FnMut(&str, &FileMeta) -> Result<Walk, EngineError>,
) -> Result<(), EngineError> {
    walk_dir(root, "", visit)
}

fn walk_dir(
    root: &Path,
    rel: &str,
    visit: &mut dyn FnMut(&str, &FileMeta) -> Result<Walk, EngineError>,
) -> Result<(), EngineError> {
    let dir = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let mut names = Vec::new();
    let unreadable = |source| EngineError::Unreadable {
        path: dir.clone(),
        source,
    };
    for entry in fs::read_dir(&dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        names.push(entry.file_name());
    }
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    for name in names {
        let Some(name) = name.to_str() else {
            return Err(EngineError::NonUtf8Name(dir.join(&name)));
        };
        let child = if rel.is_empty() {
            name.to_owned()
        } else {
            format!("{rel}/{name}")
        };
        let meta = FileMeta::of(&root.join(&child))?;
        let next = visit(&child, &meta)?;
        if meta.kind == FileKind::Dir && next == Walk::Continue {
            walk_dir(root, &child, visit)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_in_go_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        for d in ["a/b", "a.d", "B"] {
            fs::create_dir_all(dir.path().join(d)).expect("mkdir");
        }
        for f in ["a.txt", "a/b/x", "a/c", "a.d/y", "B/z"] {
            fs::write(dir.path().join(f), f).expect("write");
        }
        let mut seen = Vec::new();
        walk(dir.path(), &mut |p, _| {
            seen.push(p.to_owned());
            Ok(if p == "a.d" {
                Walk::SkipDir
            } else {
                Walk::Continue
            })
        })
        .expect("walk");
        assert_eq!(
            seen,
            ["B", "B/z", "a", "a/b", "a/b/x", "a/c", "a.d", "a.txt"]
        );
    }
}
