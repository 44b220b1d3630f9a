//! Writing a format plugin library that mkbuild loads at run time.
//!
//! A plugin crate (`crate-type = ["cdylib"]`) implements the role traits of `mkbuild-format`
//! (re-exported here), names its constructors in a [`DynamicPlugin`] and calls
//! [`export_plugin!`]. The macro puts the plugin behind the C ABI of `mkbuild-plugin-protocol`:
//! every call catches panics and turns errors into a status and a message, so a plugin's failure
//! reaches the user in its own words. `docs/PLUGINS.md` walks through an example;
//! `mkbuild-plugin-test-support` runs a plugin through this glue in-process, for its tests.

mod dynamic;
pub mod export;

pub use dynamic::{
    CodecConstructor, DynamicPlugin, EnricherConstructor, FilterConstructor, NormalizerConstructor,
};
pub use mkbuild_format::*;
/// The protocol types, for the expansion of [`export_plugin!`] and for tests.
pub use mkbuild_plugin_protocol as protocol;
