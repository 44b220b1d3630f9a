//! Moving the staged tree into the target.
//!
//! 1. **Check everything first.** Each staged path is compared with what the target holds there
//!    (never following links): a symbolic link anywhere on the way, a file where the ModelKit has a
//!    folder (or the reverse) is an error; an existing file is an error (all of them are listed)
//!    unless [`Existing`] says to replace or keep it. A refusal changes nothing.
//! 2. **Move by rename.** Staging is inside the target, so every move is a `rename` on one file
//!    system: a staged folder whose destination is missing moves whole; one whose destination is a
//!    folder is merged into, entry by entry; a file replaces an existing file atomically. Both
//!    sides are reached through folder handles opened without following links
//!    (`beneath.rs`), so a folder of the target swapped for a link meanwhile makes the move
//!    fail instead of sending it elsewhere.
//! 3. **Folder modes last, deepest first**, so a read-only folder never blocks its own contents.
//!    Only folders this commit created get a mode; existing folders keep theirs.
//!
//! An I/O failure in step 2 or 3 (a full disk, a folder of the target that is not writable) can
//! leave part of the ModelKit in place; the error names the path.

use std::collections::HashSet;
use std::path::Path;

use crate::beneath::{self, Beneath, Found, WalkError};
use crate::mode::IMPLICIT_FOLDER_MODE;
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

/// What the commit does with a file the target has already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse the whole commit, naming the files (the default).
    Refuse,
    /// Replace them.
    Replace,
    /// Keep them, and leave the ModelKit's version out.
    Keep,
}

enum Move<'a> {
    /// The destination does not exist: rename (a folder moves with everything in it).
    New(&'a str),
    /// The destination is a file: rename over it.
    Replace(&'a str),
}

/// The target as seen through its handle: `path` names it in messages only.
struct Target<'a> {
    path: &'a Path,
    dir: Beneath,
}

impl Target<'_> {
    /// What the target holds at `rel`, links not followed, every folder on the way opened
    /// beneath the target's handle.
    fn found_at(&mut self, rel: &str) -> Result<Found, ExtractError> {
        let (parent, name) = self.dir.parent(rel).map_err(|e| changed(self.path, e))?;
        beneath::found_at(parent, name).map_err(|source| ExtractError::Io {
            action: "inspect",
            path: self.path.join(rel),
            cause: source,
        })
    }
}

/// A folder of the target on the way to an entry cannot be opened as the folder it was.
fn changed(target: &Path, e: WalkError) -> ExtractError {
    let path = target.join(&e.at);
    match rustix::io::Errno::from_io_error(&e.source) {
        Some(rustix::io::Errno::LOOP) => ExtractError::SymlinkInTarget { path },
        Some(rustix::io::Errno::NOTDIR | rustix::io::Errno::NOENT) => {
            ExtractError::TargetChanged { path }
        }
        _ => ExtractError::Io {
            action: "open the folder",
            path,
            cause: e.source,
        },
    }
}

pub(crate) fn commit_staging(
    target_path: &Path,
    target_dir: &Beneath,
    staging: &Staging,
    existing: Existing,
) -> Result<CommitSummary, ExtractError> {
    let handle_error = |source| ExtractError::Io {
        action: "open again",
        path: target_path.to_path_buf(),
        cause: source,
    };
    let mut target = Target {
        path: target_path,
        dir: target_dir.try_clone().map_err(handle_error)?,
    };
    let mut staged_dir = staging.handle().map_err(handle_error)?;
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
        let destination = target_path.join(rel);
        match (*staged, target.found_at(rel)?) {
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
            (Staged::File { bytes }, Found::File) => match existing {
                Existing::Replace => {
                    moves.push(Move::Replace(rel));
                    summary.files += 1;
                    summary.bytes += bytes;
                    summary.replaced += 1;
                }
                // Left in staging, which is removed with everything in it.
                Existing::Keep => {}
                Existing::Refuse => existing_files.push(destination),
            },
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
        move_into_place(&mut target, &mut staged_dir, staging.root(), planned)?;
    }

    // Deepest first: a folder's mode is set after everything inside it is final.
    folder_modes.sort_by_key(|(rel, _)| std::cmp::Reverse(rel.matches('/').count()));
    for (rel, mode) in folder_modes {
        let path = target_path.join(rel);
        let (parent, name) = target
            .dir
            .parent(rel)
            .map_err(|e| changed(target_path, e))?;
        // Opened without following a link: a folder swapped for one meanwhile is never chmod-ed
        // through it.
        let folder = beneath::open_folder(parent, name).map_err(|source| {
            match rustix::io::Errno::from_io_error(&source) {
                Some(
                    rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR | rustix::io::Errno::NOENT,
                ) => ExtractError::TargetChanged { path: path.clone() },
                _ => ExtractError::Io {
                    action: "open the folder",
                    path: path.clone(),
                    cause: source,
                },
            }
        })?;
        beneath::set_mode(&folder, mode).map_err(|source| ExtractError::Io {
            action: "set the mode of",
            path,
            cause: source,
        })?;
    }
    Ok(summary)
}

/// One rename, after checking again that the destination is what the plan saw (the target is
/// the user's folder; it may change while we work). Both sides are reached through folder handles,
/// so a folder swapped for a link after the check makes the rename fail, never go elsewhere.
fn move_into_place(
    target: &mut Target,
    staged_dir: &mut Beneath,
    staging_root: &Path,
    planned: &Move,
) -> Result<(), ExtractError> {
    let (rel, expected_file) = match planned {
        Move::New(rel) => (*rel, false),
        Move::Replace(rel) => (*rel, true),
    };
    let to = target.path.join(rel);
    let unchanged = match target.found_at(rel)? {
        Found::Nothing => !expected_file,
        Found::File => expected_file,
        _ => false,
    };
    if !unchanged {
        return Err(ExtractError::TargetChanged { path: to });
    }
    let (from_dir, name) = staged_dir.parent(rel).map_err(|e| ExtractError::Io {
        action: "open the staging folder",
        path: staging_root.join(&e.at),
        cause: e.source,
    })?;
    let (to_dir, _) = target
        .dir
        .parent(rel)
        .map_err(|e| changed(target.path, e))?;
    beneath::rename(from_dir, to_dir, name, !expected_file).map_err(|source| {
        if rustix::io::Errno::from_io_error(&source) == Some(rustix::io::Errno::EXIST) {
            ExtractError::TargetChanged { path: to.clone() }
        } else {
            ExtractError::Io {
                action: "move into place",
                path: to.clone(),
                cause: source,
            }
        }
    })
}

/// Is `rel` inside one of `folders`?
fn inside_any(rel: &str, folders: &HashSet<&str>) -> bool {
    rel.match_indices('/')
        .any(|(end, _)| folders.contains(&rel[..end]))
}
