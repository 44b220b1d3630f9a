//! The staging tree: a private folder inside the target where entries are written first, and the
//! record of what was written there (which `commit` moves into place).

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use crate::beneath::{self, Beneath, WalkError};
use crate::mode::{STAGING_FILE_MODE, STAGING_FOLDER_MODE};
use crate::ExtractError;

/// What the staging tree holds at a relative path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Staged {
    File {
        bytes: u64,
    },
    /// `mode` is `None` for folders that no entry named (created as parents).
    Folder {
        mode: Option<u32>,
    },
}

/// Names an entry in errors: "layer `x`" plus the printable entry name.
pub(crate) struct EntryRef<'a> {
    pub origin: &'a str,
    pub entry: &'a str,
}

/// The staging folder and everything written into it, keyed by cleaned relative path.
/// Parents sort before their children in a `BTreeMap` (a parent is a prefix of its children).
///
/// Everything is created relative to the staging folder's handle (see [`crate::beneath`]): a
/// folder of staging swapped for a link by someone else makes the write fail, never go elsewhere.
#[derive(Debug)]
pub(crate) struct Staging {
    /// For messages only.
    root: PathBuf,
    dir: Beneath,
    entries: BTreeMap<String, Staged>,
}

impl Staging {
    pub fn new(root: PathBuf, dir: Beneath) -> Staging {
        Staging {
            root,
            dir,
            entries: BTreeMap::new(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A fresh handle on the staging folder.
    pub fn handle(&self) -> io::Result<Beneath> {
        self.dir.try_clone()
    }

    pub fn entries(&self) -> &BTreeMap<String, Staged> {
        &self.entries
    }

    /// Records a folder entry (creating it and its parents). A folder over a folder is fine and
    /// the later mode wins; a folder over a file is an error.
    pub fn add_folder(&mut self, rel: &str, mode: u32, at: &EntryRef) -> Result<(), ExtractError> {
        match self.entries.get(rel).copied() {
            Some(Staged::Folder { .. }) => {}
            Some(Staged::File { .. }) => {
                return Err(ExtractError::FolderOverFile {
                    origin: at.origin.to_string(),
                    entry: at.entry.to_string(),
                    destination: rel.to_string(),
                })
            }
            None => {
                self.create_parents(rel, at)?;
                self.create_folder(rel)?;
            }
        }
        self.entries
            .insert(rel.to_string(), Staged::Folder { mode: Some(mode) });
        Ok(())
    }

    /// Creates an empty file for an entry (and its parents) with `O_EXCL`: an existing path, a
    /// dangling link included, is never opened. The caller reports its size with [`Self::set_file_size`].
    pub fn create_file(&mut self, rel: &str, at: &EntryRef) -> Result<File, ExtractError> {
        match self.entries.get(rel) {
            Some(Staged::File { .. }) => {
                return Err(ExtractError::DuplicateFile {
                    origin: at.origin.to_string(),
                    entry: at.entry.to_string(),
                    destination: rel.to_string(),
                })
            }
            Some(Staged::Folder { .. }) => {
                return Err(ExtractError::FileOverFolder {
                    origin: at.origin.to_string(),
                    entry: at.entry.to_string(),
                    destination: rel.to_string(),
                })
            }
            None => {}
        }
        self.create_parents(rel, at)?;
        let file = self
            .dir
            .parent(rel)
            .map_err(|e| walk_error(&self.root, e))
            .and_then(|(parent, name)| {
                beneath::create_file(parent, name, STAGING_FILE_MODE).map_err(|source| {
                    ExtractError::Io {
                        action: "create the file",
                        path: self.root.join(rel),
                        cause: source,
                    }
                })
            })?;
        self.entries
            .insert(rel.to_string(), Staged::File { bytes: 0 });
        Ok(file)
    }

    /// Removes a file [`Self::create_file`] made, as if it had never been created.
    pub fn remove_file(&mut self, rel: &str) -> Result<(), ExtractError> {
        let (parent, name) = self
            .dir
            .parent(rel)
            .map_err(|e| walk_error(&self.root, e))?;
        rustix::fs::unlinkat(parent, name, rustix::fs::AtFlags::empty()).map_err(|e| {
            ExtractError::Io {
                action: "remove the file",
                path: self.root.join(rel),
                cause: e.into(),
            }
        })?;
        self.entries.remove(rel);
        Ok(())
    }

    pub fn set_file_size(&mut self, rel: &str, bytes: u64) {
        self.entries.insert(rel.to_string(), Staged::File { bytes });
    }

    /// Makes sure every ancestor of `rel` is a folder in staging, creating missing ones.
    fn create_parents(&mut self, rel: &str, at: &EntryRef) -> Result<(), ExtractError> {
        for (end, _) in rel.match_indices('/') {
            let parent = &rel[..end];
            match self.entries.get(parent) {
                Some(Staged::Folder { .. }) => {}
                Some(Staged::File { .. }) => {
                    return Err(ExtractError::ParentIsFile {
                        origin: at.origin.to_string(),
                        entry: at.entry.to_string(),
                        parent: parent.to_string(),
                    })
                }
                None => {
                    self.create_folder(parent)?;
                    self.entries
                        .insert(parent.to_string(), Staged::Folder { mode: None });
                }
            }
        }
        Ok(())
    }

    /// One `mkdir` (never `mkdir -p`): it fails rather than reuse anything already there.
    fn create_folder(&mut self, rel: &str) -> Result<(), ExtractError> {
        let (parent, name) = self
            .dir
            .parent(rel)
            .map_err(|e| walk_error(&self.root, e))?;
        beneath::create_folder(parent, name, STAGING_FOLDER_MODE)
            .map(drop)
            .map_err(|source| ExtractError::Io {
                action: "create the folder",
                path: self.root.join(rel),
                cause: source,
            })
    }
}

/// A folder of staging could not be opened: someone else changed it.
fn walk_error(root: &Path, e: WalkError) -> ExtractError {
    ExtractError::Io {
        action: "open the staging folder",
        path: root.join(e.at),
        cause: e.source,
    }
}
