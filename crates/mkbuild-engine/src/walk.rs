//! A folder walk in the order of Go's `filepath.Walk`, which kit uses: depth first, a folder
//! before its contents, the names inside each folder sorted by their bytes. Links are not followed.
//!
//! The walk goes by directory handles (`openat` with `O_NOFOLLOW` from the root's handle), never
//! by path strings, so a folder swapped for a symbolic link while the walk runs is not followed;
//! [`open_beneath`] opens a walked file the same way and checks it is the very file (device and
//! inode) the walk saw, so a file swapped between planning and reading is refused, not read.

use std::fs::{self, File};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::fs::{openat, statat, AtFlags, Dir, FileType, Mode, OFlags, Stat, CWD};
use rustix::io::Errno;

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
    /// Which file this is (device, inode): what is read later must be this very file.
    pub identity: (u64, u64),
    /// For [`FileKind::Other`]: whether it is a symbolic link (left out, but worth a word).
    pub symlink: bool,
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
            identity: (md.dev(), md.ino()),
            symlink: ft.is_symlink(),
        })
    }

    fn from_stat(stat: &Stat) -> FileMeta {
        let ft = FileType::from_raw_mode(stat.st_mode);
        let kind = match ft {
            FileType::RegularFile => FileKind::File,
            FileType::Directory => FileKind::Dir,
            _ => FileKind::Other,
        };
        FileMeta {
            kind,
            mode: stat.st_mode & 0o7777,
            size: if kind == FileKind::File {
                u64::try_from(stat.st_size).unwrap_or(0)
            } else {
                0
            },
            uid: u64::from(stat.st_uid),
            gid: u64::from(stat.st_gid),
            mtime: stat.st_mtime,
            identity: identity(stat),
            symlink: ft == FileType::Symlink,
        }
    }
}

// `st_dev`/`st_ino` are u64 on Linux's 64-bit targets but differ in width elsewhere.
#[allow(clippy::useless_conversion)]
fn identity(stat: &Stat) -> (u64, u64) {
    (u64::from(stat.st_dev), u64::from(stat.st_ino))
}

/// What the visitor wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    Continue,
    /// Do not descend into this folder.
    SkipDir,
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// Walks everything under `root` (not `root` itself), calling `visit` with each path relative to
/// `root` (`/`-separated) and its facts.
pub fn walk(
    root: &Path,
    visit: &mut dyn FnMut(&str, &FileMeta) -> Result<Walk, EngineError>,
) -> Result<(), EngineError> {
    walk_dir(&open_root(root)?, root, "", visit)
}

/// Opens the context folder. The root itself is the user's to name, so a link to it is followed.
fn open_root(root: &Path) -> Result<OwnedFd, EngineError> {
    openat(
        CWD,
        root,
        DIR_FLAGS.difference(OFlags::NOFOLLOW),
        Mode::empty(),
    )
    .map_err(|e| EngineError::Unreadable {
        path: root.to_path_buf(),
        cause: e.into(),
    })
}

fn walk_dir(
    dir: &OwnedFd,
    root: &Path,
    rel: &str,
    visit: &mut dyn FnMut(&str, &FileMeta) -> Result<Walk, EngineError>,
) -> Result<(), EngineError> {
    let unreadable = |e: Errno| EngineError::Unreadable {
        path: join(root, rel),
        cause: e.into(),
    };
    let mut names = Vec::new();
    for entry in Dir::read_from(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    }
    names.sort();
    for name in names {
        let Ok(name) = String::from_utf8(name.clone()) else {
            return Err(EngineError::NonUtf8Name(
                join(root, rel).join(std::ffi::OsStr::from_bytes(&name)),
            ));
        };
        let child = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let stat = statat(dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| EngineError::io(&join(root, &child), e.into()))?;
        let meta = FileMeta::from_stat(&stat);
        let next = visit(&child, &meta)?;
        if meta.kind == FileKind::Dir && next == Walk::Continue {
            let sub = open_dir_at(dir, &name, meta.identity, root, &child)?;
            walk_dir(&sub, root, &child, visit)?;
        }
    }
    Ok(())
}

/// Opens the folder `name` of `dir` without following a link, and checks it is the one seen.
fn open_dir_at(
    dir: &OwnedFd,
    name: &str,
    seen: (u64, u64),
    root: &Path,
    rel: &str,
) -> Result<OwnedFd, EngineError> {
    let path = || join(root, rel);
    let sub = openat(dir, name, DIR_FLAGS, Mode::empty()).map_err(|e| match e {
        Errno::LOOP | Errno::NOTDIR => EngineError::Changed { path: path() },
        e => EngineError::Unreadable {
            path: path(),
            cause: e.into(),
        },
    })?;
    let stat = rustix::fs::fstat(&sub).map_err(|e| EngineError::io(&path(), e.into()))?;
    if identity(&stat) != seen {
        return Err(EngineError::Changed { path: path() });
    }
    Ok(sub)
}

/// Opens the file `rel` (`/`-separated, as the walk named it) under `root` for reading, one
/// component at a time without following links, and checks it is the file the walk saw
/// (`identity`): a file or folder swapped for a link or another file since is refused.
pub fn open_beneath(
    root: &Path,
    rel: &str,
    identity_seen: (u64, u64),
) -> Result<File, EngineError> {
    let path = || join(root, rel);
    let changed = |e: Errno| match e {
        Errno::LOOP | Errno::NOTDIR | Errno::NOENT => EngineError::Changed { path: path() },
        e => EngineError::Unreadable {
            path: path(),
            cause: e.into(),
        },
    };
    let mut dir = open_root(root)?;
    let mut parts = rel.split('/').peekable();
    while let Some(part) = parts.next() {
        if part.is_empty() || part == "." || part == ".." {
            return Err(EngineError::Changed { path: path() });
        }
        if parts.peek().is_some() {
            dir = openat(&dir, part, DIR_FLAGS, Mode::empty()).map_err(changed)?;
            continue;
        }
        // NONBLOCK: a file swapped for a FIFO must not hang the pack before the check below.
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let file = File::from(openat(&dir, part, flags, Mode::empty()).map_err(changed)?);
        let stat = rustix::fs::fstat(&file).map_err(|e| EngineError::io(&path(), e.into()))?;
        if identity(&stat) != identity_seen
            || FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile
        {
            return Err(EngineError::Changed { path: path() });
        }
        return Ok(file);
    }
    Err(EngineError::Changed { path: path() })
}

fn join(root: &Path, rel: &str) -> PathBuf {
    if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    }
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
