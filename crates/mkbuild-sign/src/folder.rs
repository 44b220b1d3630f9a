//! A model folder hashed as the reference's `files` serialization hashes it: every regular file
//! beneath it, whole, SHA-256; folders are not resources; a symbolic link or a special file is
//! refused (the reference's default, `allow_symlinks` false); the paths given are left out.

use std::io::Read as _;
use std::path::Path;

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
/// with their names (`/`-separated), in no particular order.
pub fn hash_folder<S: AsRef<str>>(root: &Path, ignored: &[S]) -> Result<Vec<Resource>, SignError> {
    let mut out = Vec::new();
    walk(root, "", ignored, &mut out)?;
    Ok(out)
}

fn walk<S: AsRef<str>>(
    dir: &Path,
    prefix: &str,
    ignored: &[S],
    out: &mut Vec<Resource>,
) -> Result<(), SignError> {
    let fail = |path: &Path, why: String| SignError::Folder {
        path: path.to_owned(),
        why,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| fail(dir, e.to_string()))?;
    for entry in entries {
        let entry = entry.map_err(|e| fail(dir, e.to_string()))?;
        let path = entry.path();
        let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
            return Err(fail(
                &path,
                "its name is not UTF-8, which a signature cannot name".into(),
            ));
        };
        let name = if prefix.is_empty() {
            file_name
        } else {
            format!("{prefix}/{file_name}")
        };
        if is_ignored(&name, ignored) {
            continue;
        }
        let kind = entry.file_type().map_err(|e| fail(&path, e.to_string()))?;
        if kind.is_dir() {
            walk(&path, &name, ignored, out)?;
        } else if kind.is_file() {
            out.push(Resource {
                sha256: hash_file(&path)?,
                name,
            });
        } else if kind.is_symlink() {
            return Err(fail(
                &path,
                "it is a symbolic link, which a model signature does not follow".into(),
            ));
        } else {
            return Err(fail(&path, "it is not a regular file or a folder".into()));
        }
    }
    Ok(())
}

/// The SHA-256 of the regular file at `path`, opened without following a link and refused if it
/// changed into anything else since it was listed.
fn hash_file(path: &Path) -> Result<[u8; 32], SignError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let fail = |e: std::io::Error| SignError::Folder {
        path: path.to_owned(),
        why: e.to_string(),
    };
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
        .map_err(fail)?;
    if !file.metadata().map_err(fail)?.is_file() {
        return Err(SignError::Folder {
            path: path.to_owned(),
            why: "it is no longer a regular file".into(),
        });
    }
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(fail)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().into())
}
