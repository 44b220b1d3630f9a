//! The mkbuild engine: the pipelines over a format (`mkbuild-format`). Pack walks a context,
//! plans layers from its Kitfile, runs them through the format's plugins and stores the ModelKit;
//! unpack and convert read a stored ModelKit back through the format it was written with. The
//! engine defines no format: the built-in ones are `mkbuild-builtin`'s, others come from spec
//! folders.
//!
//! Its modules are private; this list is the whole surface.

mod blob_source;
mod build_cache;
mod compression;
mod convert;
mod error;
mod hashing;
mod kitfile_source;
mod kitignore;
mod layer_reader;
mod layer_writer;
mod matching;
mod modelkit;
mod pack;
mod plan;
mod progress;
mod selection;
mod sink;
mod small_file;
mod unpack;
mod walk;

pub use blob_source::BlobSource;
pub use compression::Compression;
pub use convert::{convert, ConvertRequest};
pub use error::EngineError;
pub use kitfile_source::{find_kitfile, DEFAULT_KITFILE_NAMES};
pub use kitignore::KitIgnore;
pub use modelkit::{FormatOf, StoredModelKit};
pub use pack::{pack, pack_to, PackOutcome, PackRequest, CREATED_ANNOTATION, FORMAT_ANNOTATION};
pub use progress::{NoProgress, Progress};
pub use selection::{Selection, Selector, SelectorKind};
pub use sink::{BlobOut, BlobSink, SinkFailure};
pub use small_file::{
    read_bounded, read_small_file, BoundedReadError, Links, MAX_KITFILE_BYTES, MAX_KITIGNORE_BYTES,
};
pub use unpack::{selected_blobs, unpack, unpack_from, UnpackRequest, UnpackSummary};
