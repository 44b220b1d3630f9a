//! The home of a ModelKit format. A format is a spec file (`spec/<name>/format.toml`) naming small
//! policies, each a trait here:
//! - [`LayerCodec`]: which tar entry name a file of a layer gets (and back, on unpack);
//! - [`OwnershipNormalizer`]: uid, gid, mode and mtime of every entry;
//! - [`ConfigEnricher`]: the config blob, from the Kitfile and the packed layers;
//! - [`FileFilter`] (optional): files and folders that never ship.
//!
//! Every method returns `Result<_, PluginError>`, so a plugin's failure reaches the user in its
//! own words. Each trait has few required methods and defaults for the rest. Built-in plugins
//! (`mkbuild-builtin`) and dynamically loaded ones (`mkbuild-plugin`, `mkbuild-plugin-host`)
//! implement the same traits; they announce themselves to a [`Registrar`].
//!
//! [`FormatRegistry`] holds the formats of a run: specs checked when added, plugins built with
//! their settings, and the detection of a stored ModelKit's format from the specs' `[detect]`
//! tables. This crate has no `unsafe` and loads no library itself (see [`LibraryLoader`]).

mod codec;
mod detect;
mod enricher;
mod filter;
mod format_error;
mod formats;
mod normalizer;
mod plugin_error;
mod registrar;
mod settings;
mod spec;

pub use codec::LayerCodec;
pub use detect::DetectRules;
pub use detect::KitFacts;
pub use enricher::{layer_infos, ConfigEnricher, PackedLayer};
pub use filter::FileFilter;
pub use format_error::FormatError;
pub use formats::{Format, FormatInfo, FormatRegistry, LibraryLoader, PluginRegistry, RolePlugins};
pub use mkbuild_hash::Digest;
pub use mkbuild_kitfile::{Kitfile, LayerEntry, LayerInfo, LayerKind};
pub use mkbuild_tar::{EntryHeader, EntryKind};
pub use normalizer::OwnershipNormalizer;
pub use plugin_error::PluginError;
pub use registrar::{CodecFactory, EnricherFactory, FilterFactory, NormalizerFactory, Registrar};
pub use settings::Settings;
pub use spec::{
    extend, FormatSpec, LayerEncoding, LayerPolicy, LayerType, MediaTypes, PluginLibrary,
    PluginRef, SpecOrigin, LAYER_KINDS, SPEC_FILE,
};
