//! The traits a ModelKit format is made of.
//!
//! A format is three small policies that the engine composes:
//! - [`LayerCodec`]: which tar entry name a file of a layer gets (and back, on unpack);
//! - [`OwnershipNormalizer`]: uid, gid, mode and mtime of every entry;
//! - [`ConfigEnricher`]: the config blob, from the Kitfile and the packed layers.
//!
//! Built-in formats and dynamically loaded plugins implement the same traits; each trait has few
//! required methods and defaults for the rest, so a plugin overrides only what it changes.

mod codec;
mod enricher;
mod error;
mod normalizer;
mod registrar;
mod settings;

pub use codec::LayerCodec;
pub use enricher::{ConfigEnricher, PackedLayer};
pub use error::PluginError;
pub use mkbuild_kitfile::{Kitfile, LayerEntry, LayerInfo, LayerKind};
pub use mkbuild_tar::{EntryHeader, EntryKind};
pub use normalizer::OwnershipNormalizer;
pub use registrar::{CodecFactory, EnricherFactory, NormalizerFactory, Registrar};
pub use settings::Settings;
