//! Reading the small files that steer a pack (the Kitfile, `.kitignore`): bounded, and never from
//! a device or a FIFO that would read forever (`/dev/zero`) or hang. When mkbuild finds them in
//! the context itself they are read only as regular files, never through a symbolic link, which
//! could point anywhere on the machine (a `Kitfile -> /etc/passwd` would be echoed in errors).

use std::fs::OpenOptions;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use crate::EngineError;

/// The most a Kitfile may hold; real ones are a few kilobytes.
pub const MAX_KITFILE_BYTES: u64 = 4 << 20;
/// The most a `.kitignore` may hold.
pub const MAX_KITIGNORE_BYTES: u64 = 4 << 20;

/// Whether a symbolic link at the path is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// The user named the file (`-f FILE`): links are followed, and a FIFO (`-f <(...)`) is read.
    Follow,
    /// mkbuild found the file in the context: only a regular file is read.
    Refuse,
}

/// Reads the whole file at `path` (at most `limit` bytes); `what` names it in errors ("Kitfile").
/// A missing file is an [`EngineError::Io`] whose source is `NotFound`.
pub fn read_small_file(
    path: &Path,
    what: &str,
    limit: u64,
    links: Links,
) -> Result<Vec<u8>, EngineError> {
    let refused = |problem: String| EngineError::NotReadable {
        path: path.to_path_buf(),
        what: what.to_owned(),
        problem,
    };
    let meta = match links {
        Links::Follow => std::fs::metadata(path),
        Links::Refuse => std::fs::symlink_metadata(path),
    }
    .map_err(|e| EngineError::io(path, e))?;
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Err(refused(format!(
            "is a symbolic link; mkbuild reads the {what} of a context only as a regular file (replace the link with the file{})",
            if what == "Kitfile" { ", or pass it with `-f`" } else { "" }
        )));
    }
    let fifo_allowed = links == Links::Follow && kind.is_fifo();
    if !kind.is_file() && !fifo_allowed {
        return Err(refused(format!(
            "is {}, not a regular file",
            describe(&kind)
        )));
    }
    let mut options = OpenOptions::new();
    options.read(true);
    if links == Links::Refuse {
        // Swapped for a link or a FIFO since the look above: fail instead of following or hanging.
        options.custom_flags(
            rustix::fs::OFlags::NOFOLLOW.bits() as i32 | rustix::fs::OFlags::NONBLOCK.bits() as i32,
        );
    }
    let file = options.open(path).map_err(|e| {
        if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
            refused("is a symbolic link; mkbuild reads it only as a regular file".to_owned())
        } else {
            EngineError::io(path, e)
        }
    })?;
    let opened = file.metadata().map_err(|e| EngineError::io(path, e))?;
    if !(opened.is_file() || fifo_allowed && opened.file_type().is_fifo()) {
        return Err(refused(format!(
            "is {}, not a regular file",
            describe(&opened.file_type())
        )));
    }
    read_bounded(file, limit).map_err(|e| match e {
        BoundedReadError::TooLarge => refused(format!(
            "is larger than {limit} bytes; a {what} is a small text file"
        )),
        BoundedReadError::Io(e) => EngineError::io(path, e),
    })
}

/// Why [`read_bounded`] failed.
#[derive(Debug)]
pub enum BoundedReadError {
    /// More than the limit was offered.
    TooLarge,
    /// Reading failed.
    Io(io::Error),
}

/// Reads everything from `reader` if it ends within `limit` bytes; stops reading at `limit + 1`.
pub fn read_bounded(reader: impl Read, limit: u64) -> Result<Vec<u8>, BoundedReadError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(BoundedReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(BoundedReadError::TooLarge);
    }
    Ok(bytes)
}

fn describe(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}
