//! Resolving relative paths beneath a folder handle, one component at a time, never following a
//! link: what keeps every write inside the target while others write in it too.
//!
//! A path string is looked up anew by every call that takes it; a folder of the target swapped for
//! a symbolic link between a check and a write would send the write elsewhere. Instead each
//! folder on the way is opened with `O_NOFOLLOW | O_DIRECTORY` relative to the handle of its
//! parent, starting from the target's own handle, and files are created, renamed and chmod-ed
//! relative to those handles (`openat`, `mkdirat`, `renameat`, `fchmod`). A link met on the way
//! is an error (`ELOOP`/`ENOTDIR`), never a detour.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

/// Deeper paths are refused: one handle stays open per level, and a commit holds up to three such
/// chains (staging, staged folder, target), so this stays well within the usual limit of 1024
/// open files.
const MAX_DEPTH: usize = 256;

/// Flags that open a folder to resolve beneath it, never a link.
const FOLDER_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// What a folder holds at a name, links not followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    Nothing,
    Folder,
    File,
    Symlink,
    Other(&'static str),
}

/// A folder on the way could not be opened as a folder: `at` is its path relative to the root.
#[derive(Debug)]
pub(crate) struct WalkError {
    pub at: String,
    pub source: io::Error,
}

/// A root folder handle plus the chain of folders last opened beneath it (entries come sorted,
/// so neighbours share most of it; at most one handle per depth is kept open).
#[derive(Debug)]
pub(crate) struct Beneath {
    root: OwnedFd,
    /// `(path relative to root, handle)`, each the parent of the next.
    chain: Vec<(String, OwnedFd)>,
}

impl Beneath {
    pub fn new(root: OwnedFd) -> Beneath {
        Beneath {
            root,
            chain: Vec::new(),
        }
    }

    /// Opens the folder at `path` (links followed: the caller named it) as a root.
    pub fn open_root(path: &Path) -> io::Result<Beneath> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Ok(Beneath::new(rustix::fs::open(path, flags, Mode::empty())?))
    }

    pub fn root(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }

    /// Another handle on the same root folder (with an empty chain).
    pub fn try_clone(&self) -> io::Result<Beneath> {
        Ok(Beneath::new(self.root.try_clone()?))
    }

    /// The handle of the folder holding `rel` (a cleaned relative path) and `rel`'s last component.
    pub fn parent<'r>(&mut self, rel: &'r str) -> Result<(BorrowedFd<'_>, &'r str), WalkError> {
        let (parent, name) = match rel.rfind('/') {
            Some(slash) => (&rel[..slash], &rel[slash + 1..]),
            None => ("", rel),
        };
        // Keep the longest cached chain that leads to `parent`.
        let keep = self
            .chain
            .iter()
            .take_while(|(path, _)| {
                parent == path.as_str()
                    || parent
                        .strip_prefix(path.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .count();
        self.chain.truncate(keep);
        let mut done = self.chain.last().map_or(0, |(path, _)| path.len());
        if parent.matches('/').count() >= MAX_DEPTH {
            return Err(WalkError {
                at: parent.to_string(),
                source: io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("more than {MAX_DEPTH} nested folders"),
                ),
            });
        }
        while done < parent.len() {
            let start = if done == 0 { 0 } else { done + 1 };
            let end = parent[start..]
                .find('/')
                .map_or(parent.len(), |slash| start + slash);
            let from = self
                .chain
                .last()
                .map_or(self.root.as_fd(), |(_, fd)| fd.as_fd());
            let fd = rustix::fs::openat(from, &parent[start..end], FOLDER_FLAGS, Mode::empty())
                .map_err(|errno| WalkError {
                    at: parent[..end].to_string(),
                    source: errno.into(),
                })?;
            self.chain.push((parent[..end].to_string(), fd));
            done = end;
        }
        let fd = self
            .chain
            .last()
            .map_or(self.root.as_fd(), |(_, fd)| fd.as_fd());
        Ok((fd, name))
    }
}

/// What `dir` holds at `name`, links not followed.
pub(crate) fn found_at(dir: BorrowedFd<'_>, name: &str) -> io::Result<Found> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(stat) => Ok(match FileType::from_raw_mode(stat.st_mode) {
            FileType::Symlink => Found::Symlink,
            FileType::Directory => Found::Folder,
            FileType::RegularFile => Found::File,
            FileType::Fifo => Found::Other("fifo"),
            FileType::Socket => Found::Other("socket"),
            FileType::CharacterDevice => Found::Other("character device"),
            FileType::BlockDevice => Found::Other("block device"),
            FileType::Unknown => Found::Other("special file"),
        }),
        Err(rustix::io::Errno::NOENT) => Ok(Found::Nothing),
        Err(errno) => Err(errno.into()),
    }
}

/// Opens the folder `name` of `dir`, refusing a link.
pub(crate) fn open_folder(dir: BorrowedFd<'_>, name: &str) -> io::Result<OwnedFd> {
    Ok(rustix::fs::openat(dir, name, FOLDER_FLAGS, Mode::empty())?)
}

/// Creates the folder `name` in `dir` (failing if anything is there) and returns its handle, with
/// `mode` set explicitly (the umask may have taken bits away).
pub(crate) fn create_folder(dir: BorrowedFd<'_>, name: &str, mode: u32) -> io::Result<OwnedFd> {
    rustix::fs::mkdirat(dir, name, Mode::from_bits_truncate(mode as _))?;
    let fd = open_folder(dir, name)?;
    rustix::fs::fchmod(&fd, Mode::from_bits_truncate(mode as _))?;
    Ok(fd)
}

/// Creates the new file `name` in `dir` for writing (and reading back, to verify a clone):
/// `O_EXCL | O_NOFOLLOW`, so nothing already there (a dangling link included) is ever opened.
pub(crate) fn create_file(dir: BorrowedFd<'_>, name: &str, mode: u32) -> io::Result<File> {
    let flags = OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::from_bits_truncate(mode as _))?;
    Ok(File::from(fd))
}

/// Sets the mode of an open file or folder (no path, so no link can be followed).
pub(crate) fn set_mode(fd: impl AsFd, mode: u32) -> io::Result<()> {
    Ok(rustix::fs::fchmod(fd, Mode::from_bits_truncate(mode as _))?)
}

/// Moves `from_dir/name` to `to_dir/name`. `new`: fails if the destination appeared meanwhile
/// (where the platform and file system can say so atomically).
pub(crate) fn rename(
    from_dir: BorrowedFd<'_>,
    to_dir: BorrowedFd<'_>,
    name: &str,
    new: bool,
) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    if new {
        match rustix::fs::renameat_with(
            from_dir,
            name,
            to_dir,
            name,
            rustix::fs::RenameFlags::NOREPLACE,
        ) {
            // Older kernels and some file systems lack RENAME_NOREPLACE: the caller checked.
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {}
            other => return Ok(other?),
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = new;
    Ok(rustix::fs::renameat(from_dir, name, to_dir, name)?)
}
