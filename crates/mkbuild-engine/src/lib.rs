//! The mkbuild engine: plans layers from a Kitfile, runs them through a format's plugins and
//! stores the ModelKit. It defines no format in code: formats are spec files plus plugins; the
//! built-in ones are the repository's `spec/`, embedded by `builtin_formats`.

pub mod build_cache;
pub mod builtin_formats;
mod compression;
pub mod convert;
pub mod detect;
mod error;
pub mod filter;
pub mod formats;
mod hashing;
pub mod kitfile_source;
pub mod kitignore;
pub mod layer_reader;
pub mod layer_writer;
pub mod matching;
pub mod modelkit;
pub mod pack;
pub mod plan;
pub mod progress;
pub mod small_file;
pub mod spec;
pub mod unpack;
pub mod walk;

pub use compression::Compression;
pub use convert::{convert, ConvertRequest};
pub use error::EngineError;
pub use filter::{Filter, Filters};
pub use formats::{Format, FormatInfo, FormatRegistry, PluginRegistry, RolePlugins};
pub use modelkit::{FormatOf, StoredModelKit};
pub use pack::{pack, PackOutcome, PackRequest, CREATED_ANNOTATION, FORMAT_ANNOTATION};
pub use progress::{NoProgress, Progress};
pub use spec::SpecOrigin;
pub use unpack::{unpack, UnpackRequest, UnpackSummary};
