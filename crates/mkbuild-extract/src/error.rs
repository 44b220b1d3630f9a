//! The one error type of the extractor: every variant names the blob, layer, entry or path at fault
//! and, where there is one, what to do about it.
//!
//! Entry names come from archives written by strangers, so they are shown through
//! [`crate::printable`]: control characters are escaped and cannot reach a terminal raw.

use std::path::PathBuf;

/// Why an entry name (or a destination chosen by the format's codec) is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    /// Empty, or nothing left after removing `.` components and slashes.
    Empty,
    /// Starts with `/`.
    Absolute,
    /// Has a `..` component.
    ParentComponent,
    /// Holds NUL or another control character.
    ControlCharacter,
    /// Holds `\`, a path separator on Windows.
    Backslash,
    /// Has a component like `C:`, a drive on Windows.
    DriveLetter,
    /// Starts with `.mkbuild-unpack-`, the prefix of the extractor's own staging folders.
    Reserved,
}

impl NameProblem {
    /// What is wrong, as the end of a sentence whose subject is the name ("is empty").
    pub fn describe(self) -> &'static str {
        match self {
            NameProblem::Empty => "is empty",
            NameProblem::Absolute => "is an absolute path",
            NameProblem::ParentComponent => "escapes the target folder",
            NameProblem::ControlCharacter => "contains a control character",
            NameProblem::Backslash => "contains a backslash (a Windows path separator)",
            NameProblem::DriveLetter => "names a Windows drive",
            NameProblem::Reserved => "uses the reserved prefix `.mkbuild-unpack-`",
        }
    }
}

impl std::fmt::Display for NameProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// Everything that can go wrong while verifying blobs and unpacking them.
///
/// `origin` fields read like "layer `data/train`" (or "added file" for [`crate::Extractor::add_file`]);
/// `entry` fields are already made printable.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The expected digest given to a [`crate::VerifyingReader`] is not a sha256 digest.
    #[error(
        "invalid digest `{digest}` for blob `{label}`: expected `sha256:` followed by 64 lowercase hex digits"
    )]
    InvalidDigest {
        /// The label that names the blob in errors.
        label: String,
        /// The digest given.
        digest: String,
    },

    /// The bytes read do not hash to the expected digest.
    #[error(
        "blob `{label}` is damaged: expected digest `{expected}`, but its {bytes} bytes hash to `{actual}`; \
         remove it from the store and pack or pull the ModelKit again"
    )]
    DigestMismatch {
        /// The label that names the blob in errors.
        label: String,
        /// The digest the blob should have.
        expected: String,
        /// The digest of the bytes read.
        actual: String,
        /// How many bytes were read.
        bytes: u64,
    },

    /// The blob is longer or shorter than its descriptor says.
    #[error(
        "blob `{label}` is damaged: its descriptor says {expected} bytes, but {actual}{more} were read; \
         `mkbuild verify` lists every damaged blob of the store; pack or pull the ModelKit again",
        more = if *.actual > *.expected { " or more" } else { "" }
    )]
    SizeMismatch {
        /// The label that names the blob in errors.
        label: String,
        /// The size in the descriptor, in bytes.
        expected: u64,
        /// How many bytes were read; a blob longer than expected may hold more.
        actual: u64,
    },

    /// Reading the blob failed.
    #[error("cannot read blob `{label}`: {cause}")]
    Read {
        /// The label that names the blob in errors.
        label: String,
        /// The error reading returned.
        cause: std::io::Error,
    },

    /// An entry name from the archive is unsafe.
    #[error("{origin}: entry `{entry}` {problem}; refusing to unpack")]
    UnsafeName {
        /// The archive, like "layer `data/train`".
        origin: String,
        /// The entry's name in the archive, printable.
        entry: String,
        /// What is wrong with the name.
        problem: NameProblem,
    },

    /// The format's codec mapped an entry to an unsafe destination.
    #[error(
        "{origin}: entry `{entry}` maps to `{destination}`, which {problem}; refusing to unpack \
         (this is a bug in the format's layer codec)"
    )]
    UnsafeDestination {
        /// The archive, like "layer `data/train`".
        origin: String,
        /// The entry's name in the archive, printable.
        entry: String,
        /// The path in the target the entry maps to.
        destination: String,
        /// What is wrong with the destination.
        problem: NameProblem,
    },

    /// The format's codec has no place for an entry.
    #[error(
        "{origin}: entry `{entry}` does not fit the layout of this layer's format; refusing to unpack \
         (the ModelKit was not written by this format, or was tampered with)"
    )]
    EntryRefused {
        /// The archive, like "layer `data/train`".
        origin: String,
        /// The entry's name in the archive, printable.
        entry: String,
    },

    /// The format's codec failed while placing an entry; `message` is its own words (role and
    /// plugin included), so the user sees what failed rather than a refusal.
    #[error("{origin}: entry `{entry}`: {message}")]
    PlaceFailed {
        /// The archive, like "layer `data/train`".
        origin: String,
        /// The entry's name in the archive, printable.
        entry: String,
        /// The codec's error, in its own words.
        message: String,
    },

    /// An entry name is not UTF-8.
    #[error("{origin}: entry `{entry}` is not valid UTF-8; refusing to unpack")]
    NonUtf8Name {
        /// The archive, like "layer `data/train`".
        origin: String,
        /// The entry's name in the archive, printable.
        entry: String,
    },

    /// An entry is a link, a device, a fifo, a sparse file or something unknown.
    #[error(
        "{origin}: entry `{entry}` is a {kind}; mkbuild unpacks only regular files and folders \
         (ModelKits never hold links or devices), refusing to unpack"
    )]
    UnsupportedType {
        /// The archive, like "layer `data/train`".
        origin: String,
        /// The entry's name in the archive, printable.
        entry: String,
        /// What the entry is ("symbolic link", "fifo"...).
        kind: String,
    },

    /// A regular-file entry whose name ends in `/`.
    #[error(
        "{origin}: entry `{entry}` is a regular file but its name ends with `/`; refusing to unpack an ambiguous archive"
    )]
    FileNamedLikeFolder {
        /// The archive, like "layer `data/train`".
        origin: String,
        /// The entry's name in the archive, printable.
        entry: String,
    },

    /// A file entry lands where an earlier entry already put a file.
    #[error(
        "{origin}: entry `{entry}` writes `{destination}`, which an earlier entry already wrote; \
         refusing to unpack an ambiguous archive"
    )]
    DuplicateFile {
        /// The archive, like "layer `data/train`".
        origin: String,
        /// The entry's name in the archive, printable.
        entry: String,
        /// The path in the target the entry maps to.
        destination: String,
    },

    /// A file entry lands where an earlier entry made a folder.
    #[error(
        "{origin}: entry `{entry}` is a file at `{destination}`, where an earlier entry made a folder; \
         refusing to unpack an ambiguous archive"
    )]
    FileOverFolder {
        /// The archive, like "layer `data/train`".
        origin: String,
        /// The entry's name in the archive, printable.
        entry: String,
        /// The path in the target the entry maps to.
        destination: String,
    },

    /// A folder entry lands where an earlier entry wrote a file.
    #[error(
        "{origin}: entry `{entry}` is a folder at `{destination}`, where an earlier entry wrote a file; \
         refusing to unpack an ambiguous archive"
    )]
    FolderOverFile {
        /// The archive, like "layer `data/train`".
        origin: String,
        /// The entry's name in the archive, printable.
        entry: String,
        /// The path in the target the entry maps to.
        destination: String,
    },

    /// An entry needs a folder where an earlier entry wrote a file.
    #[error(
        "{origin}: entry `{entry}` needs `{parent}` to be a folder, but an earlier entry wrote a file there; \
         refusing to unpack an ambiguous archive"
    )]
    ParentIsFile {
        /// The archive, like "layer `data/train`".
        origin: String,
        /// The entry's name in the archive, printable.
        entry: String,
        /// The folder the entry needs, which an earlier entry wrote as a file.
        parent: String,
    },

    /// A GNU sparse file whose map is malformed, lies, or is of an unknown format.
    #[error(
        "{origin}: entry `{entry}` is a sparse file that cannot be restored: {problem}; refusing to unpack"
    )]
    BadSparseFile {
        /// The archive, like "layer `data/train`".
        origin: String,
        /// The entry's name in the archive, printable.
        entry: String,
        /// What is wrong with the sparse map.
        problem: String,
    },

    /// The archive ends early: inside a header, inside an entry, or without its end-of-archive blocks.
    #[error("{origin} is truncated {place}; the blob is damaged, pack or pull the ModelKit again")]
    Truncated {
        /// The archive, like "layer `data/train`".
        origin: String,
        /// Where the archive ends, as the end of a sentence ("inside entry `a`...").
        place: String,
    },

    /// The tar stream cannot be parsed (bad checksum, bad number field, a decoder error...).
    #[error("{origin}: cannot read the tar stream: {cause}")]
    Tar {
        /// The archive, like "layer `data/train`".
        origin: String,
        /// The parser's or decoder's error.
        cause: std::io::Error,
    },

    /// A file-system operation failed.
    #[error("cannot {action} `{}`: {cause}", path.display())]
    Io {
        /// What the extractor was doing, e.g. "create the file".
        action: &'static str,
        /// The path it was done on.
        path: PathBuf,
        /// The error the operation returned.
        cause: std::io::Error,
    },

    /// The target exists but is not a folder.
    #[error("the target `{}` exists and is not a folder; choose a folder to unpack into", path.display())]
    TargetNotAFolder {
        /// The target.
        path: PathBuf,
    },

    /// Without `overwrite`, files of the ModelKit already exist in the target.
    #[error(
        "{} already exist{} in the target folder: {}; nothing was unpacked. \
         Use the overwrite option to replace {}, or unpack into another folder",
        if .paths.len() + .more == 1 { "a file".to_string() } else { format!("{} files", .paths.len() + .more) },
        if .paths.len() + .more == 1 { "s" } else { "" },
        list_paths(.paths, *.more),
        if .paths.len() + .more == 1 { "it" } else { "them" }
    )]
    AlreadyExists {
        /// The first files found, at most a few, for the message.
        paths: Vec<PathBuf>,
        /// How many more files exist beyond `paths`.
        more: usize,
    },

    /// A destination (or one of its folders) is a symbolic link in the target.
    #[error(
        "`{}` is a symbolic link in the target folder; mkbuild never writes through links, \
         nothing was unpacked. Remove the link or unpack into another folder",
        path.display()
    )]
    SymlinkInTarget {
        /// The link found.
        path: PathBuf,
    },

    /// The ModelKit has a folder where the target has something else.
    #[error(
        "`{}` is a {found} in the target folder, but the ModelKit has a folder there; nothing was unpacked. \
         Move it away or unpack into another folder",
        path.display()
    )]
    NotAFolderInTarget {
        /// The path in the target folder.
        path: PathBuf,
        /// What the target has there ("file", ...).
        found: &'static str,
    },

    /// The ModelKit has a file where the target has a folder (or something that is not a file).
    #[error(
        "`{}` is a {found} in the target folder, but the ModelKit has a file there; nothing was unpacked. \
         Move it away or unpack into another folder",
        path.display()
    )]
    NotAFileInTarget {
        /// The path in the target folder.
        path: PathBuf,
        /// What the target has there ("folder", ...).
        found: &'static str,
    },

    /// The target changed between the checks of `commit` and the move.
    #[error(
        "`{}` changed in the target folder while unpacking; the unpack is incomplete, run it again",
        path.display()
    )]
    TargetChanged {
        /// The path that changed.
        path: PathBuf,
    },

    /// `commit` after an earlier extraction failed.
    #[error(
        "an earlier step of this unpack failed, so nothing was moved into the target folder; \
         fix the cause and unpack again"
    )]
    EarlierFailure,
}

/// "`a`, `b`, `c` and 4 more".
fn list_paths(paths: &[PathBuf], more: usize) -> String {
    let mut listed = paths
        .iter()
        .map(|path| format!("`{}`", path.display()))
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        listed.push_str(&format!(" and {more} more"));
    }
    listed
}
