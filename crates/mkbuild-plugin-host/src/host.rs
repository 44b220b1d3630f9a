use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mkbuild_format::Registrar;

use crate::{HostError, PluginLibrary};

/// The plugin libraries of one run, each loaded once; they are never unloaded while the host or
/// anything built from them lives.
#[derive(Debug, Default)]
pub struct PluginHost {
    loaded: BTreeMap<PathBuf, Arc<PluginLibrary>>,
}

impl PluginHost {
    /// A host with no library loaded.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads `path` (see [`library_path`] for names without an extension) unless it is loaded
    /// already, and registers its plugin into `registrar`. Returns the plugin's name.
    pub fn load(
        &mut self,
        path: &Path,
        registrar: &mut dyn Registrar,
    ) -> Result<String, HostError> {
        let path = library_path(path);
        let key = path.canonicalize().map_err(|source| HostError::Io {
            path: path.clone(),
            cause: source,
        })?;
        if let Some(library) = self.loaded.get(&key) {
            return Ok(library.name().to_owned());
        }
        let library = PluginLibrary::open(&path)?;
        library.register(registrar);
        let name = library.name().to_owned();
        self.loaded.insert(key, library);
        Ok(name)
    }
}

/// A library path as a spec may write it: a file name without an extension is a crate name and
/// gets this platform's naming (`lib<name>.so`, `lib<name>.dylib`, `<name>.dll`, with `-` as `_`
/// as cargo writes it), so one spec works on every platform.
pub fn library_path(path: &Path) -> PathBuf {
    match path.file_name().and_then(|n| n.to_str()) {
        Some(name) if path.extension().is_none() => {
            let prefix = std::env::consts::DLL_PREFIX;
            let stem = name.replace('-', "_");
            let stem = stem.strip_prefix(prefix).unwrap_or(&stem);
            path.with_file_name(format!("{prefix}{stem}{}", std::env::consts::DLL_SUFFIX))
        }
        _ => path.to_path_buf(),
    }
}

/// Whether a spec's `library` is a bare name (one component, no folder), which is searched for,
/// rather than a path.
pub fn is_bare_name(library: &Path) -> bool {
    let mut components = library.components();
    matches!(
        (components.next(), components.next()),
        (Some(std::path::Component::Normal(_)), None)
    )
}

/// The file of the library `name` (a bare name, see [`library_path`] for its naming) in the first
/// of `folders` that has it; the error lists every folder searched.
pub fn find_library(name: &Path, folders: &[PathBuf]) -> Result<PathBuf, HostError> {
    let file = library_path(name);
    folders
        .iter()
        .map(|folder| folder.join(&file))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| HostError::NotFound {
            name: name.display().to_string(),
            file: file.display().to_string(),
            searched: folders.to_vec(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_names_get_platform_naming() {
        let p = library_path(Path::new("target/debug/mkbuild-plugin-acme"));
        let expected = format!(
            "{}mkbuild_plugin_acme{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        );
        assert_eq!(p, Path::new("target/debug").join(expected));
        assert_eq!(
            library_path(Path::new("x/libacme.so")),
            Path::new("x/libacme.so")
        );
    }

    #[test]
    fn bare_names_are_found_in_the_first_folder_that_has_them() {
        assert!(is_bare_name(Path::new("mkbuild_plugin_acme")));
        assert!(is_bare_name(Path::new("libacme.so")));
        assert!(!is_bare_name(Path::new("./libacme.so")));
        assert!(!is_bare_name(Path::new("lib/libacme.so")));
        assert!(!is_bare_name(Path::new("/usr/lib/libacme.so")));
        assert!(!is_bare_name(Path::new("..")));

        let (a, b, c) = (
            tempfile::tempdir().expect("a"),
            tempfile::tempdir().expect("b"),
            tempfile::tempdir().expect("c"),
        );
        let file = library_path(Path::new("acme-thing"));
        std::fs::write(b.path().join(&file), b"").expect("write");
        std::fs::write(c.path().join(&file), b"").expect("write");
        let folders = [a.path(), b.path(), c.path()].map(Path::to_path_buf);
        assert_eq!(
            find_library(Path::new("acme-thing"), &folders).expect("found"),
            b.path().join(&file)
        );
        let err = find_library(Path::new("ghost"), &folders).expect_err("missing");
        let message = err.to_string();
        for folder in &folders {
            assert!(message.contains(&folder.display().to_string()), "{message}");
        }
    }
}
