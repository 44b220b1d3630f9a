//! The formats known to this run: the built-in formats (`mkbuild-builtin`) plus `--spec-dir` folders, whose
//! specs may load plugin libraries through the plugin host.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use mkbuild_format::{FormatRegistry, LibraryLoader, Registrar};
use mkbuild_plugin_host::{find_library, is_bare_name, PluginHost};

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

    /// A bare name is searched for, so that a spec works wherever its plugin is installed; a
    /// path is relative to the spec's folder.
    fn load_named(
        &mut self,
        library: &Path,
        spec_folder: Option<&Path>,
        registrar: &mut dyn Registrar,
    ) -> Result<(), String> {
        let path = if is_bare_name(library) {
            find_library(library, &search_folders(spec_folder)).map_err(|e| e.to_string())?
        } else {
            spec_folder.map_or_else(|| library.to_path_buf(), |dir| dir.join(library))
        };
        self.load(&path, registrar)
    }
}

/// Where a plugin library named without a folder is looked for, in order: the folders of
/// `MKBUILD_PLUGIN_PATH` (separated by `:`), the spec's folder, the folder of this mkbuild
/// binary (where a release ships its plugins).
fn search_folders(spec_folder: Option<&Path>) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::env::var_os("MKBUILD_PLUGIN_PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    folders.extend(spec_folder.map(Path::to_path_buf));
    if let Some(binary_folder) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        folders.push(binary_folder);
    }
    folders
}
