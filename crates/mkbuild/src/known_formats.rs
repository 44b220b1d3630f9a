//! The formats known to this run: the built-in formats (`mkbuild-builtin`) plus `--spec-dir` folders, whose
//! specs may load plugin libraries through the plugin host.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use mkbuild_format::{FormatRegistry, LibraryLoader, Registrar};
use mkbuild_plugin_host::PluginHost;

pub fn load(spec_dirs: &[PathBuf]) -> anyhow::Result<FormatRegistry> {
    let mut formats = mkbuild_builtin::formats().context("a built-in format spec is broken")?;
    formats.set_loader(Box::new(HostLoader(PluginHost::new())));
    for dir in spec_dirs {
        formats.add_spec_dir(dir)?;
    }
    Ok(formats)
}

/// Loads `[plugin] library` files with the plugin host.
struct HostLoader(PluginHost);

impl LibraryLoader for HostLoader {
    fn load(&mut self, path: &Path, registrar: &mut dyn Registrar) -> Result<(), String> {
        let name = self.0.load(path, registrar).map_err(|e| e.to_string())?;
        tracing::debug!("loaded plugin `{name}` from `{}`", path.display());
        Ok(())
    }
}
