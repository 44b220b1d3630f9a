//! Moving the staged tree into the target.
//!
//! 1. **Check everything first.** Each staged path is compared with what the target holds there
//!    (never following links): a symbolic link anywhere on the way, a file where the ModelKit has a
//!    folder (or the reverse) is an error; an existing file is an error unless `overwrite` (all of
//!    them are listed). A refusal changes nothing.
//! 2. **Move by rename.** Staging is inside the target, so every move is a `rename` on one file
//!    system: a staged folder whose destination is missing moves whole; one whose destination is a
//!    folder is merged into, entry by entry; a file replaces an existing file atomically.
//! 3. **Folder modes last, deepest first**, so a read-only folder never blocks its own contents.
//!    Only folders this commit created get a mode; existing folders keep theirs.
//!
//! An I/O failure in step 2 or 3 (a full disk, a folder of the target that is not writable) can
//! leave part of the ModelKit in place; the error names the path.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::Path;

use crate::mode::{set_path_mode, IMPLICIT_FOLDER_MODE};
use crate::staging::{Staged, Staging};
use crate::ExtractError;

/// How many existing files an "already exists" error lists by name.
const LISTED_CONFLICTS: usize = 10;

/// What [`Extractor::commit`](crate::Extractor::commit) put into the target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitSummary {
    /// Files placed (new and replaced).
    pub files: u64,
    /// Folders created (existing folders merged into are not counted).
    pub folders: u64,
    /// Bytes of file data placed.
    pub bytes: u64,
    /// Files that replaced an existing file (only with `overwrite`).
    pub replaced: u64,
}

/// What the target holds at a path, links not followed.
enum Found {
    Nothing,
    Folder,
    File,
    Symlink,
    Other(&'static str),
}

enum Move<'a> {
    /// The destination does not exist: rename (a folder moves with everything in it).
    New(&'a str),
    /// The destination is a file: rename over it.
    Replace(&'a str),
}

pub(crate) fn commit_staging(
    target: &Path,
    staging: &Staging,
    overwrite: bool,
) -> Result<CommitSummary, ExtractError> {
    let mut summary = CommitSummary::default();
    let mut moves = Vec::new();
    let mut moved_folders: HashSet<&str> = HashSet::new();
    let mut folder_modes: Vec<(&str, u32)> = Vec::new();
    let mut existing_files = Vec::new();

    for (rel, staged) in staging.entries() {
        let rel = rel.as_str();
        if inside_any(rel, &moved_folders) {
            // Moves with its folder.
            match *staged {
                Staged::File { bytes } => {
                    summary.files += 1;
                    summary.bytes += bytes;
                }
                Staged::Folder { mode } => {
                    summary.folders += 1;
                    folder_modes.push((rel, mode.unwrap_or(IMPLICIT_FOLDER_MODE)));
                }
            }
            continue;
        }
        let destination = target.join(rel);
        match (*staged, found_at(&destination)?) {
            (_, Found::Symlink) => return Err(ExtractError::SymlinkInTarget { path: destination }),
            (Staged::Folder { mode }, Found::Nothing) => {
                moves.push(Move::New(rel));
                moved_folders.insert(rel);
                summary.folders += 1;
                folder_modes.push((rel, mode.unwrap_or(IMPLICIT_FOLDER_MODE)));
            }
            (Staged::Folder { .. }, Found::Folder) => {}
            (Staged::Folder { .. }, Found::File) => {
                return Err(ExtractError::NotAFolderInTarget {
                    path: destination,
                    found: "file",
                })
            }
            (Staged::Folder { .. }, Found::Other(found)) => {
                return Err(ExtractError::NotAFolderInTarget {
                    path: destination,
                    found,
                })
            }
            (Staged::File { bytes }, Found::Nothing) => {
                moves.push(Move::New(rel));
                summary.files += 1;
                summary.bytes += bytes;
            }
            (Staged::File { bytes }, Found::File) => {
                if overwrite {
                    moves.push(Move::Replace(rel));
                    summary.files += 1;
                    summary.bytes += bytes;
                    summary.replaced += 1;
                } else {
                    existing_files.push(destination);
                }
            }
            (Staged::File { .. }, Found::Folder) => {
                return Err(ExtractError::NotAFileInTarget {
                    path: destination,
                    found: "folder",
                })
            }
            (Staged::File { .. }, Found::Other(found)) => {
                return Err(ExtractError::NotAFileInTarget {
                    path: destination,
                    found,
                })
            }
        }
    }
    if !existing_files.is_empty() {
        let more = existing_files.len().saturating_sub(LISTED_CONFLICTS);
        existing_files.truncate(LISTED_CONFLICTS);
        return Err(ExtractError::AlreadyExists {
            paths: existing_files,
            more,
        });
    }

    for planned in &moves {
        move_into_place(target, staging.root(), planned)?;
    }

    // Deepest first: a folder's mode is set after everything inside it is final.
    folder_modes.sort_by_key(|(rel, _)| std::cmp::Reverse(rel.matches('/').count()));
    for (rel, mode) in folder_modes {
        let path = target.join(rel);
        if !matches!(found_at(&path)?, Found::Folder) {
            return Err(ExtractError::TargetChanged { path });
        }
        set_path_mode(&path, mode).map_err(|source| ExtractError::Io {
            action: "set the mode of",
            path,
            source,
        })?;
    }
    Ok(summary)
}

/// One rename, after checking again that the destination is what the plan saw (the target is
/// the user's folder; it may change while we work).
fn move_into_place(target: &Path, staging: &Path, planned: &Move) -> Result<(), ExtractError> {
    let (rel, expected_file) = match planned {
        Move::New(rel) => (*rel, false),
        Move::Replace(rel) => (*rel, true),
    };
    let to = target.join(rel);
    let unchanged = match found_at(&to)? {
        Found::Nothing => !expected_file,
        Found::File => expected_file,
        _ => false,
    };
    if !unchanged {
        return Err(ExtractError::TargetChanged { path: to });
    }
    fs::rename(staging.join(rel), &to).map_err(|source| ExtractError::Io {
        action: "move into place",
        path: to,
        source,
    })
}

/// Is `rel` inside one of `folders`?
fn inside_any(rel: &str, folders: &HashSet<&str>) -> bool {
    rel.match_indices('/')
        .any(|(end, _)| folders.contains(&rel[..end]))
}

fn found_at(path: &Path) -> Result<Found, ExtractError> {
    match fs::symlink_metadata(path) {
        Ok(metadata) => {
            let file_type = metadata.file_type();
            Ok(if file_type.is_symlink() {
                Found::Symlink
            } else if file_type.is_dir() {
                Found::Folder
            } else if file_type.is_file() {
                Found::File
            } else {
                Found::Other(describe_special(&file_type))
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Found::Nothing),
        Err(source) => Err(ExtractError::Io {
            action: "inspect",
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(unix)]
fn describe_special(file_type: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        "fifo"
    } else if file_type.is_socket() {
        "socket"
    } else if file_type.is_char_device() {
        "character device"
    } else if file_type.is_block_device() {
        "block device"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn describe_special(_file_type: &fs::FileType) -> &'static str {
    "special file"
}
