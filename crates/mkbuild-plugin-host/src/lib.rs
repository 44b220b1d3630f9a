//! The host side of mkbuild's plugin ABI: loads plugin libraries with `libloading`, checks their
//! declaration before calling anything, and adapts their functions to the format traits, so that
//! the engine cannot tell a loaded plugin from a built-in one.
//!
//! A panic inside a plugin is caught by the plugin's own export glue (it must not unwind across
//! `extern "C"`) and arrives here as a status and a message, which become a [`PluginError`].
//! Libraries are held by `Arc` from every factory and instance, and never unloaded before them.
//!
//! [`PluginError`]: mkbuild_format::PluginError

// Loading libraries and calling through function pointers cannot be done without `unsafe`.
#![allow(unsafe_code)]

mod adapters;
mod call;
mod declaration;
mod error;
mod host;
mod library;
mod platform;

pub use adapters::{DynCodec, DynEnricher, DynFilter, DynNormalizer};
pub use error::HostError;
pub use host::{find_library, is_bare_name, library_path, PluginHost};
pub use library::PluginLibrary;
