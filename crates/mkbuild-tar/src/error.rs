//! Errors of encoding headers and writing archives.

use std::io;

use crate::EntryKind;

/// Why a header cannot be encoded or an entry cannot be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TarError {
    /// The entry name is the empty string.
    #[error("tar entry name is empty")]
    EmptyName,
    /// A string field holds a NUL byte, which tar cannot record.
    #[error("tar entry `{name}` has a NUL byte in its {field}")]
    NulByte {
        /// Entry name (lossy if the NUL is in the name itself).
        name: String,
        /// Which field: `name`, `user name` or `group name`.
        field: &'static str,
    },
    /// A regular file name ends with `/`, which Go refuses.
    #[error("tar file entry `{name}` ends with `/`")]
    FileNameEndsWithSlash {
        /// Entry name.
        name: String,
    },
    /// A folder header claims data.
    #[error("tar folder entry `{name}` has size {size}; folders hold no data")]
    DirWithData {
        /// Entry name.
        name: String,
        /// The size it was given.
        size: u64,
    },
    /// The mode needs more than 7 octal digits; Go would switch to the GNU format.
    #[error("tar entry `{name}` has mode {mode:#o}, beyond the 7 octal digits of the mode field")]
    ModeTooLarge {
        /// Entry name.
        name: String,
        /// The mode it was given.
        mode: u32,
    },
    /// A number beyond Go's `int64`, which no Go-written archive can hold.
    #[error("tar entry `{name}` has {field} {value}, larger than a tar archive can record")]
    NumberTooLarge {
        /// Entry name.
        name: String,
        /// Which field: `uid`, `gid` or `size`.
        field: &'static str,
        /// The value it was given.
        value: u64,
    },
    /// The PAX records exceed Go's 1 MiB limit for an extended header.
    #[error("PAX header of tar entry `{name}` would be {len} bytes, over the 1 MiB limit")]
    PaxHeaderTooLarge {
        /// Entry name.
        name: String,
        /// Length of the records.
        len: usize,
    },
    /// `append_file` was given a folder header or `append_dir` a file header.
    #[error("tar entry `{name}` is a {actual}, not a {expected}")]
    WrongKind {
        /// Entry name.
        name: String,
        /// The kind the method writes.
        expected: EntryKind,
        /// The kind of the header given.
        actual: EntryKind,
    },
    /// Writing to the underlying writer failed.
    #[error("cannot write tar entry `{name}`")]
    Write {
        /// Entry name.
        name: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// Reading the entry's data failed.
    #[error("cannot read the data of tar entry `{name}`")]
    Read {
        /// Entry name.
        name: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The data source ended before the size in the header.
    #[error(
        "tar entry `{name}` should have {expected} bytes but its data ended after {actual}; the file changed while packing"
    )]
    DataTooShort {
        /// Entry name.
        name: String,
        /// Size in the header.
        expected: u64,
        /// Bytes the source gave.
        actual: u64,
    },
    /// The data source has more bytes than the size in the header.
    #[error(
        "tar entry `{name}` should have {expected} bytes but its data goes on; the file changed while packing"
    )]
    DataTooLong {
        /// Entry name.
        name: String,
        /// Size in the header.
        expected: u64,
    },
    /// Writing the two end blocks failed.
    #[error("cannot write the end of the tar archive")]
    Finish {
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// An earlier entry failed part-way, so the archive cannot be continued.
    #[error("the tar archive is broken by an earlier error and cannot be continued")]
    Broken,
}
