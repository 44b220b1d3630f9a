//! The format registry of this run: built-in plugins and specs, plus `--spec-dir` folders, whose
//! specs may load plugin libraries through the plugin host.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use mkbuild_engine::registry::LibraryLoader;
use mkbuild_engine::{FormatRegistry, PluginRegistry, SpecOrigin};
use mkbuild_plugin_host::PluginHost;
use mkbuild_sdk::Registrar;

include!(concat!(env!("OUT_DIR"), "/built_in_specs.rs"));

pub fn registry(spec_dirs: &[PathBuf]) -> anyhow::Result<FormatRegistry> {
    let mut plugins = PluginRegistry::default();
    mkbuild_builtin::register(&mut plugins);
    let mut registry = FormatRegistry::new(plugins);
    registry.set_loader(Box::new(HostLoader(PluginHost::new())));
    for (name, text) in BUILT_IN_SPECS {
        registry
            .add_spec(name, text, SpecOrigin::BuiltIn)
            .context("a built-in format spec is broken")?;
    }
    for dir in spec_dirs {
        registry.add_spec_dir(dir)?;
    }
    Ok(registry)
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
