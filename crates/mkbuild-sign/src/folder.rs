//! A model folder hashed as the reference's `files` serialization hashes it: every regular file
//! beneath it, whole, SHA-256; folders are not resources; a symbolic link or a special file is
//! refused (the reference's default, `allow_symlinks` false); the paths given are left out.

use std::io::Read as _;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{openat, statat, AtFlags, Dir, FileType, Mode, OFlags, CWD};
use rustix::io::Errno;

use sha2::Digest as _;

use crate::{Resource, SignError};

/// What the reference leaves out by default (`ignore_git_paths`), at the top of the folder only.
pub const DEFAULT_IGNORED: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// Whether the relative path `name` is one of `ignored` or beneath one (compared by components,
/// as the reference's `is_relative_to`).
pub fn is_ignored<S: AsRef<str>>(name: &str, ignored: &[S]) -> bool {
    ignored.iter().any(|p| {
        let p = p.as_ref().trim_start_matches("./").trim_end_matches('/');
        !p.is_empty()
            && (name == p
                || name
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with('/')))
    })
}

/// Hashes every regular file beneath `root` whose relative path is not ignored; returns them
/// with their names (`/`-separated), in no particular order. The walk goes by directory handles
/// (`openat` with `O_NOFOLLOW` from the root's handle), so a link swapped in for a folder or a
/// file while it runs is refused, never followed out of the folder.
pub fn hash_folder<S: AsRef<str>>(root: &Path, ignored: &[S]) -> Result<Vec<Resource>, SignError> {
    // The root is the caller's to name: a link to it is followed.
    let handle = openat(
        CWD,
        root,
        DIR_FLAGS.difference(OFlags::NOFOLLOW),
        Mode::empty(),
    )
    .map_err(|e| fail(root, e))?;
    let mut out = Vec::new();
    walk(&handle, root, "", ignored, 0, &mut out)?;
    Ok(out)
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);
const FILE_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::NONBLOCK)
    .union(OFlags::CLOEXEC);
/// Folders nested deeper than this are refused (each level holds a handle open).
const MAX_DEPTH: usize = 512;

fn fail(path: &Path, e: Errno) -> SignError {
    SignError::Folder {
        path: path.to_owned(),
        why: std::io::Error::from(e).to_string(),
    }
}

fn refuse(path: PathBuf, why: &str) -> SignError {
    SignError::Folder {
        path,
        why: why.to_owned(),
    }
}

fn walk<S: AsRef<str>>(
    dir: &OwnedFd,
    root: &Path,
    rel: &str,
    ignored: &[S],
    depth: usize,
    out: &mut Vec<Resource>,
) -> Result<(), SignError> {
    let here = root.join(rel);
    if depth > MAX_DEPTH {
        return Err(refuse(here, "folders are nested too deep"));
    }
    let mut names = Vec::new();
    for entry in Dir::read_from(dir).map_err(|e| fail(&here, e))? {
        let entry = entry.map_err(|e| fail(&here, e))?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    }
    for name in names {
        let Ok(name) = String::from_utf8(name) else {
            return Err(refuse(
                here,
                "a name in it is not UTF-8, which a signature cannot name",
            ));
        };
        let child = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if is_ignored(&child, ignored) {
            continue;
        }
        let path = root.join(&child);
        let stat =
            statat(dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW).map_err(|e| fail(&path, e))?;
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Directory => {
                let sub = openat(dir, name.as_str(), DIR_FLAGS, Mode::empty())
                    .map_err(|e| fail(&path, e))?;
                walk(&sub, root, &child, ignored, depth + 1, out)?;
            }
            FileType::RegularFile => {
                let file = openat(dir, name.as_str(), FILE_FLAGS, Mode::empty())
                    .map_err(|e| fail(&path, e))?;
                out.push(Resource {
                    sha256: hash_file(std::fs::File::from(file), &path)?,
                    name: child,
                });
            }
            FileType::Symlink => {
                return Err(refuse(
                    path,
                    "it is a symbolic link, which a model signature does not follow",
                ))
            }
            _ => return Err(refuse(path, "it is not a regular file or a folder")),
        }
    }
    Ok(())
}

/// The SHA-256 of the open `file`, refused if it is not a regular file (it changed since the
/// walk saw it).
fn hash_file(mut file: std::fs::File, path: &Path) -> Result<[u8; 32], SignError> {
    let io = |e: std::io::Error| SignError::Folder {
        path: path.to_owned(),
        why: e.to_string(),
    };
    if !file.metadata().map_err(io)?.is_file() {
        return Err(refuse(path.to_owned(), "it is no longer a regular file"));
    }
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buffer) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().into())
}
