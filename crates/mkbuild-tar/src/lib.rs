//! A tar writer whose bytes match Go's `archive/tar` `Writer` byte for byte.
//!
//! KitOps' `kit` packs ModelKit layers with Go's `archive/tar`, and a layer's digest is the SHA-256
//! of those bytes, so mkbuild must reproduce them exactly to get the same digests. General-purpose
//! tar crates do not: the `tar` crate, for one, writes the checksum field as seven octal digits and
//! a space where Go writes six digits, a NUL and a space, and it chooses between USTAR, PAX and GNU
//! encodings by its own rules. A header is only 512 bytes of fixed fields, so this crate encodes
//! them itself, following the rules of Go's `writer.go`, `format.go`, `strconv.go` and
//! `common.go` (Go 1.19) for the headers kit writes: regular files and folders with a name, mode,
//! uid, gid, size and modification time.
//!
//! - A header that USTAR can hold is one block: octal numbers zero-padded to fill their field but
//!   its last byte (a NUL), names over 100 bytes split into prefix and name at a `/` as Go does.
//! - Otherwise (non-ASCII or unsplittable names, sizes of 8 GiB and more, uids beyond 7 octal
//!   digits, ...) a PAX extended header named `<dir>/PaxHeaders.0/<base>` comes first, carrying
//!   the records Go writes, sorted by key, and the main header holds Go's stand-in values.
//!
//! Headers Go would encode in the GNU format (a mode beyond 7 octal digits) are refused.

mod block;
mod encode;
mod entry;
mod error;
mod names;
mod pax;
mod writer;

pub use encode::encode_header;
pub use entry::{EntryHeader, EntryKind};
pub use error::TarError;
pub use writer::TarWriter;

/// Size of a tar block: every header is one block, and entry data is padded to a whole block.
pub const BLOCK_SIZE: usize = 512;
