//! The safe extractor of `mkbuild unpack`: ModelKits from strangers are hostile territory.
//!
//! Policy:
//! - **Verify while reading.** [`VerifyingReader`] hashes a blob (and, nested inside a decoder,
//!   the uncompressed layer) as it streams and compares with the digest at the end.
//! - **Nothing lands outside the target.** Every entry name, and every destination the format's
//!   codec derives from it, must be a plain relative path: no `/` start, no `..`, no control
//!   characters, no backslashes or drive letters, not empty. `.` components and trailing `/` are
//!   cleaned away. Names are read with the `tar` crate (PAX and GNU long names applied); a PAX
//!   header or GNU long name over [`MAX_METADATA_SIZE`] is refused before it is read into memory.
//! - **Regular files and folders only.** Links (symbolic and hard), devices, fifos and unknown
//!   types are refused: mkbuild never creates links and kit never archives them. GNU sparse files
//!   (old GNU `S` entries, PAX formats 0.0, 0.1, 1.0) are restored, holes as holes, once their map
//!   is checked (holes up to [`MAX_SPARSE_HOLES`]).
//! - **No ambiguity.** A path written twice (also across layers), a file over a folder or a folder
//!   over a file is an error; a folder entry over a folder is fine.
//! - **Modes, not owners.** Permission bits are set with an explicit chmod (the umask does not
//!   matter): `mode & 0o777`, plus the sticky and setgid bits on folders; setuid/setgid of files
//!   are dropped with a warning unless [`Extractor::set_same_permissions`] asks for every bit.
//!   Owners and mtimes are not restored.
//! - **All or nothing.** Entries are written into a private staging folder inside the target
//!   (`<target>/.mkbuild-unpack-<random>`, files created with `O_EXCL`, data streamed through a
//!   1 MiB buffer); [`Extractor::commit`] checks the whole target first and then moves by rename.
//!   A failed or abandoned unpack removes its staging folder and leaves the target as it was.
//! - **The target's links are not ours to follow.** A destination that is (or lies under) a
//!   symbolic link in the target is an error; files are never written through links, not even
//!   when someone swaps a folder for a link while unpack runs: every file and folder is reached
//!   from the target's handle, one folder handle at a time, none opened through a link.
//!
//! ```text
//! blob file -> VerifyingReader(digest) -> gzip/zstd decoder -> VerifyingReader(diffId)
//!           -> Extractor::extract_tar(.., place) ... -> Extractor::commit(overwrite)
//! ```
//!
//! The move of [`commit`] is described in that module.

mod beneath;
pub mod commit;
mod entry_name;
mod entry_type;
mod eof_tracker;
mod error;
mod extractor;
mod header_guard;
mod mode;
mod sparse;
mod staging;
mod verifying_reader;

pub use commit::{CommitSummary, Existing};
pub use entry_name::{normalize_entry_name, printable};
pub use error::{ExtractError, NameProblem};
pub use extractor::{ExtractStats, Extractor};
pub use header_guard::{HeaderGuard, MAX_METADATA_SIZE};
pub use sparse::MAX_SPARSE_HOLES;
pub use verifying_reader::VerifyingReader;
