use std::path::PathBuf;

use mkbuild_plugin_protocol::{ABI_MAJOR, ABI_MINOR};

/// Why a plugin library was refused; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("plugin library `{}`: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("plugin library `{}` is built for another platform: {detail}", path.display())]
    OtherPlatform { path: PathBuf, detail: String },
    #[error("plugin library `{}` cannot be loaded: {message}", path.display())]
    Load { path: PathBuf, message: String },
    #[error("plugin library `{}` has no `mkbuild_plugin_declaration` symbol; a plugin exports one with `mkbuild_plugin::export_plugin!`", path.display())]
    MissingDeclaration { path: PathBuf },
    #[error("plugin library `{}` is built for plugin ABI {major}.{minor}, this mkbuild loads ABI {ABI_MAJOR}.x; rebuild the plugin against an mkbuild-plugin of ABI {ABI_MAJOR}", path.display())]
    AbiMajor {
        path: PathBuf,
        major: u32,
        minor: u32,
    },
    #[error("plugin library `{}` is built for plugin ABI {ABI_MAJOR}.{minor}, newer than the {ABI_MAJOR}.{ABI_MINOR} of this mkbuild; update mkbuild or rebuild the plugin against an mkbuild-plugin of ABI {ABI_MAJOR}.{ABI_MINOR}", path.display())]
    AbiMinor { path: PathBuf, minor: u32 },
    #[error("plugin library `{}`: its declaration is {size} bytes, shorter than the {minimum} bytes of ABI {ABI_MAJOR}.0", path.display())]
    ShortDeclaration {
        path: PathBuf,
        size: usize,
        minimum: usize,
    },
    #[error("plugin library `{}`: {message}", path.display())]
    BadDeclaration { path: PathBuf, message: String },
}
