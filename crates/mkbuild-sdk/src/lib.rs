//! The traits a ModelKit format is made of, and the macro that exports them from a plugin library.
//!
//! A format is small policies that the engine composes:
//! - [`LayerCodec`]: which tar entry name a file of a layer gets (and back, on unpack);
//! - [`OwnershipNormalizer`]: uid, gid, mode and mtime of every entry;
//! - [`ConfigEnricher`]: the config blob, from the Kitfile and the packed layers;
//! - [`FileFilter`] (optional): files and folders that never ship.
//!
//! Built-in formats and dynamically loaded plugins implement the same traits; each trait has few
//! required methods and defaults for the rest, so a plugin overrides only what it changes. A
//! plugin library implements [`DynamicPlugin`] and calls [`export_plugin!`]; see
//! `docs/PLUGINS.md`.

mod codec;
mod dynamic;
mod enricher;
mod error;
pub mod export;
mod filter;
mod normalizer;
mod registrar;
mod settings;
pub mod wire;

pub use codec::LayerCodec;
pub use dynamic::{
    CodecConstructor, DynamicPlugin, EnricherConstructor, FilterConstructor, NormalizerConstructor,
};
pub use enricher::{ConfigEnricher, PackedLayer};
pub use error::PluginError;
pub use filter::FileFilter;
pub use mkbuild_kitfile::{Kitfile, LayerEntry, LayerInfo, LayerKind};
/// The C ABI types, for the expansion of [`export_plugin!`] and for the host.
pub use mkbuild_plugin_abi as abi;
pub use mkbuild_tar::{EntryHeader, EntryKind};
pub use normalizer::OwnershipNormalizer;
pub use registrar::{CodecFactory, EnricherFactory, FilterFactory, NormalizerFactory, Registrar};
pub use settings::Settings;
