//! What one archive entry is: the fields of a tar header that kit sets.

use std::fmt;

/// The kind of an archive entry; kit writes only regular files and folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A regular file (typeflag `0`).
    File,
    /// A folder (typeflag `5`).
    Dir,
}

impl EntryKind {
    /// The typeflag byte Go writes for this kind.
    pub(crate) fn typeflag(self) -> u8 {
        match self {
            EntryKind::File => b'0',
            EntryKind::Dir => b'5',
        }
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryKind::File => "file",
            EntryKind::Dir => "folder",
        })
    }
}

/// The header of one archive entry, as kit fills Go's `tar.Header`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryHeader {
    /// Path inside the archive, `/`-separated; folders without a trailing slash.
    pub name: String,
    /// File or folder.
    pub kind: EntryKind,
    /// Permission bits including setuid/setgid/sticky (`0o4000`/`0o2000`/`0o1000`).
    pub mode: u32,
    /// Owner user id.
    pub uid: u64,
    /// Owner group id.
    pub gid: u64,
    /// Data length in bytes; 0 for folders.
    pub size: u64,
    /// Modification time in seconds since the Unix epoch; 0 means unset, as kit writes it.
    pub mtime: i64,
    /// Owner user name (kit: empty).
    pub uname: String,
    /// Owner group name (kit: empty).
    pub gname: String,
}

impl EntryHeader {
    /// A regular file header with uid, gid and mtime 0 and no user or group names.
    pub fn file(name: impl Into<String>, mode: u32, size: u64) -> Self {
        Self::new(name.into(), EntryKind::File, mode, size)
    }

    /// A folder header with uid, gid and mtime 0 and no user or group names.
    pub fn dir(name: impl Into<String>, mode: u32) -> Self {
        Self::new(name.into(), EntryKind::Dir, mode, 0)
    }

    fn new(name: String, kind: EntryKind, mode: u32, size: u64) -> Self {
        Self {
            name,
            kind,
            mode,
            uid: 0,
            gid: 0,
            size,
            mtime: 0,
            uname: String::new(),
            gname: String::new(),
        }
    }
}
