//! What crosses the boundary between mkbuild (the host) and a plugin library, and nothing else:
//! - [`abi`]: the `#[repr(C)]` declaration, function table, status codes and buffers, with the
//!   rules for growing them by minor versions;
//! - [`wire`]: the JSON that structured values (tar headers, Kitfiles, packed layers) cross as.
//!
//! The plugin side (`mkbuild-plugin`) and the host (`mkbuild-plugin-host`) both build on this
//! crate, so they agree byte for byte. `docs/PLUGINS.md` describes the protocol in words.

pub mod abi;
pub mod wire;

pub use abi::*;
