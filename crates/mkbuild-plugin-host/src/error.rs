use std::path::PathBuf;

use mkbuild_plugin_protocol::{ABI_MAJOR, ABI_MINOR};

/// Why a plugin library was refused; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// A library named without a folder is in none of the folders searched.
    #[error("plugin library `{name}` (file `{file}`) is in none of the folders searched: {}; put it in one of them or add its folder to `MKBUILD_PLUGIN_PATH` (folders separated by `:`)", searched.iter().map(|f| format!("`{}`", f.display())).collect::<Vec<_>>().join(", "))]
    NotFound {
        /// The library as the spec names it.
        name: String,
        /// The file name looked for (the platform's naming of `name`).
        file: String,
        /// Every folder searched, in order.
        searched: Vec<PathBuf>,
    },
    /// The library file could not be read.
    #[error("plugin library `{}`: {cause}", path.display())]
    Io {
        /// The plugin library's path.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The library is for another object format or architecture than this mkbuild.
    #[error("plugin library `{}` is built for another platform: {detail}", path.display())]
    OtherPlatform {
        /// The plugin library's path.
        path: PathBuf,
        /// How the library differs from this mkbuild's platform.
        detail: String,
    },
    /// The file is not a shared library, or the dynamic loader refused it.
    #[error("plugin library `{}` cannot be loaded: {message}", path.display())]
    Load {
        /// The plugin library's path.
        path: PathBuf,
        /// Why it cannot be loaded.
        message: String,
    },
    /// The library exports no `mkbuild_plugin_declaration`.
    #[error("plugin library `{}` has no `mkbuild_plugin_declaration` symbol; a plugin exports one with `mkbuild_plugin::export_plugin!`", path.display())]
    MissingDeclaration {
        /// The plugin library's path.
        path: PathBuf,
    },
    /// The library is built for another major version of the plugin ABI.
    #[error("plugin library `{}` is built for plugin ABI {major}.{minor}, this mkbuild loads ABI {ABI_MAJOR}.x; rebuild the plugin against an mkbuild-plugin of ABI {ABI_MAJOR}", path.display())]
    AbiMajor {
        /// The plugin library's path.
        path: PathBuf,
        /// The library's ABI major version.
        major: u32,
        /// The library's ABI minor version.
        minor: u32,
    },
    /// The library is built for a newer minor version of the plugin ABI than this mkbuild's.
    #[error("plugin library `{}` is built for plugin ABI {ABI_MAJOR}.{minor}, newer than the {ABI_MAJOR}.{ABI_MINOR} of this mkbuild; update mkbuild or rebuild the plugin against an mkbuild-plugin of ABI {ABI_MAJOR}.{ABI_MINOR}", path.display())]
    AbiMinor {
        /// The plugin library's path.
        path: PathBuf,
        /// The library's ABI minor version.
        minor: u32,
    },
    /// The library's declaration is smaller than the ABI's first version allows.
    #[error("plugin library `{}`: its declaration is {size} bytes, shorter than the {minimum} bytes of ABI {ABI_MAJOR}.0", path.display())]
    ShortDeclaration {
        /// The plugin library's path.
        path: PathBuf,
        /// The size the declaration gives itself, in bytes.
        size: usize,
        /// The size of an ABI `1.0` declaration, in bytes.
        minimum: usize,
    },
    /// The library's declaration is malformed: an empty or non-UTF-8 name, or no known role.
    #[error("plugin library `{}`: {message}", path.display())]
    BadDeclaration {
        /// The plugin library's path.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}
