//! Opening a plugin library and checking its declaration before anything in it is called.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mkbuild_format::Registrar;
use mkbuild_plugin_protocol::{
    FunctionTable, PluginDeclaration, Role, DECLARATION_SYMBOL, ROLE_CODEC, ROLE_ENRICHER,
    ROLE_FILTER, ROLE_NORMALIZER,
};

use crate::adapters::{DynCodec, DynEnricher, DynFilter, DynNormalizer};
use crate::declaration::check_declaration;
use crate::platform::check_platform;
use crate::HostError;

/// A loaded plugin library. Everything built from it holds an `Arc` to it, so the library stays
/// mapped while any of its instances or factories exists.
pub struct PluginLibrary {
    path: PathBuf,
    name: String,
    roles: Role,
    pub(crate) functions: FunctionTable,
    // Last, so that it is dropped (unloaded) after everything above. `None` for a declaration
    // linked into this program (`from_declaration`), which is never unloaded.
    _library: Option<libloading::Library>,
}

impl std::fmt::Debug for PluginLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginLibrary")
            .field("path", &self.path)
            .field("name", &self.name)
            .field("roles", &self.roles)
            .finish()
    }
}

impl PluginLibrary {
    /// Loads the library at `path` and checks its declaration.
    pub fn open(path: &Path) -> Result<Arc<PluginLibrary>, HostError> {
        check_platform(path)?;
        // SAFETY: loading runs the library's initialisers; a plugin library is code the user
        // chose to run, and Rust cdylibs have no initialisers of their own.
        let library = unsafe { libloading::Library::new(path) }.map_err(|e| HostError::Load {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        // SAFETY: the symbol, if present, is the address of the plugin's declaration static.
        let declaration: *const PluginDeclaration =
            match unsafe { library.get::<*const PluginDeclaration>(DECLARATION_SYMBOL) } {
                Ok(symbol) => *symbol,
                Err(_) => {
                    return Err(HostError::MissingDeclaration {
                        path: path.to_path_buf(),
                    })
                }
            };
        // SAFETY: the symbol points into the loaded library, which `library` keeps mapped.
        let (name, roles, functions) = unsafe { check_declaration(declaration, path)? };
        Ok(Arc::new(PluginLibrary {
            path: path.to_path_buf(),
            name,
            roles,
            functions,
            _library: Some(library),
        }))
    }

    /// A plugin whose declaration is linked into this program rather than loaded: it goes through
    /// the same checks and the same ABI calls as a loaded library, without `dlopen`. For tests of
    /// plugins (`mkbuild-plugin-test-support`); `label` stands for the library's path in messages.
    pub fn from_declaration(
        declaration: &'static PluginDeclaration,
        label: &Path,
    ) -> Result<Arc<PluginLibrary>, HostError> {
        // SAFETY: a reference to a whole declaration, alive for `'static`; the host reads at most
        // `size_of::<PluginDeclaration>()` bytes of it (its own layout), all inside the reference.
        let (name, roles, functions) = unsafe { check_declaration(declaration, label)? };
        Ok(Arc::new(PluginLibrary {
            path: label.to_path_buf(),
            name,
            roles,
            functions,
            _library: None,
        }))
    }

    /// The name spec files use for this plugin.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The path the library was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `ROLE_*` bits the plugin fills.
    pub fn roles(&self) -> Role {
        self.roles
    }

    /// Registers a factory under the plugin's name for every role it fills.
    pub fn register(self: &Arc<Self>, registrar: &mut dyn Registrar) {
        let name = self.name.clone();
        if self.roles & ROLE_CODEC != 0 {
            let lib = Arc::clone(self);
            registrar.codec(&name, Box::new(move |s| DynCodec::create(&lib, s)));
        }
        if self.roles & ROLE_NORMALIZER != 0 {
            let lib = Arc::clone(self);
            registrar.normalizer(&name, Box::new(move |s| DynNormalizer::create(&lib, s)));
        }
        if self.roles & ROLE_ENRICHER != 0 {
            let lib = Arc::clone(self);
            registrar.enricher(&name, Box::new(move |s| DynEnricher::create(&lib, s)));
        }
        if self.roles & ROLE_FILTER != 0 {
            let lib = Arc::clone(self);
            registrar.filter(&name, Box::new(move |s| DynFilter::create(&lib, s)));
        }
    }

    /// How messages name this plugin: ``plugin `acme` (`/path/libacme.so`)``.
    pub(crate) fn label(&self) -> String {
        format!("plugin `{}` (`{}`)", self.name, self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mkbuild_plugin::{DynamicPlugin, NormalizerConstructor, OwnershipNormalizer};
    use mkbuild_plugin_protocol::ABI_MAJOR;

    struct Keep;
    impl OwnershipNormalizer for Keep {
        fn normalize(
            &self,
            _: &mut mkbuild_format::EntryHeader,
        ) -> Result<(), mkbuild_format::PluginError> {
            Ok(())
        }
    }
    struct Test;
    impl DynamicPlugin for Test {
        const NAME: &'static str = "test";
        const NORMALIZER: Option<NormalizerConstructor> = Some(|_| Ok(Box::new(Keep)));
    }

    fn check(declaration: &PluginDeclaration) -> Result<(String, Role), String> {
        // SAFETY: a live declaration of full size.
        unsafe { check_declaration(declaration, Path::new("libtest.so")) }
            .map(|(name, roles, _)| (name, roles))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_a_declaration_of_this_abi() {
        let d = mkbuild_plugin::export::declaration::<Test>();
        assert_eq!(check(&d), Ok(("test".to_owned(), ROLE_NORMALIZER)));
    }

    #[test]
    fn refuses_another_major_and_a_short_declaration() {
        let mut d = mkbuild_plugin::export::declaration::<Test>();
        d.abi_major = ABI_MAJOR + 1;
        d.abi_minor = 7;
        let err = check(&d).unwrap_err();
        assert_eq!(err, format!("plugin library `libtest.so` is built for plugin ABI {}.7, this mkbuild loads ABI {ABI_MAJOR}.x; rebuild the plugin against an mkbuild-plugin of ABI {ABI_MAJOR}", ABI_MAJOR + 1));
        let mut d = mkbuild_plugin::export::declaration::<Test>();
        d.size = 16;
        let err = check(&d).unwrap_err();
        assert!(
            err.contains("its declaration is 16 bytes, shorter than"),
            "{err}"
        );
        let mut d = mkbuild_plugin::export::declaration::<Test>();
        d.roles = 0x100;
        let err = check(&d).unwrap_err();
        assert!(err.contains("fills no role this mkbuild knows"), "{err}");
    }
}
