//! Runs a format plugin in-process through exactly the glue a loaded library goes through: the
//! declaration `mkbuild_plugin::export_plugin!` would export, checked by the plugin host, every
//! call crossing the C ABI and its JSON wire format, panics caught on the plugin's side. Only
//! `dlopen` is left out, so a plugin's tests need no `cdylib` build and no library path.
//!
//! ```ignore
//! let acme = InProcess::load::<Acme>()?;
//! let codec = acme.codec("root = \"models\"")?;
//! assert_eq!(codec.entry_name("weights", "weights/a.bin")?, Some("models/weights/a.bin".into()));
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use mkbuild_format::{
    ConfigEnricher, FileFilter, LayerCodec, OwnershipNormalizer, PluginError, Registrar, Settings,
};
use mkbuild_plugin::protocol::PluginDeclaration;
use mkbuild_plugin::DynamicPlugin;
use mkbuild_plugin_host::{
    DynCodec, DynEnricher, DynFilter, DynNormalizer, HostError, PluginLibrary,
};

/// A plugin opened in-process, as the host opens a library.
#[derive(Debug, Clone)]
pub struct InProcess {
    library: Arc<PluginLibrary>,
}

impl InProcess {
    /// Declares `P` as `export_plugin!` does and opens the declaration as the host opens a
    /// library's: a declaration the host refuses is refused here too, with the same error.
    pub fn load<P: DynamicPlugin>() -> Result<InProcess, HostError> {
        // One small declaration per call, kept for the life of the test process (the host holds
        // function pointers into it for as long as any instance lives).
        let declaration: &'static PluginDeclaration =
            Box::leak(Box::new(mkbuild_plugin::export::declaration::<P>()));
        InProcess::from_declaration(declaration, P::NAME)
    }

    /// Opens a declaration built by hand (e.g. one altered to test the host's checks).
    pub fn from_declaration(
        declaration: &'static PluginDeclaration,
        name: &str,
    ) -> Result<InProcess, HostError> {
        let label = PathBuf::from(format!("in-process:{name}"));
        Ok(InProcess {
            library: PluginLibrary::from_declaration(declaration, &label)?,
        })
    }

    /// The name the plugin declares.
    pub fn name(&self) -> &str {
        self.library.name()
    }

    /// Registers the plugin's roles, as loading a library from a spec does; with a
    /// `mkbuild_format::PluginRegistry`, formats whose specs name the plugin can be built.
    pub fn register(&self, registrar: &mut dyn Registrar) {
        self.library.register(registrar);
    }

    /// The plugin's codec, built through the ABI from `settings` (the TOML of the spec's
    /// `[codec]` table without `plugin`).
    pub fn codec(&self, settings: &str) -> Result<Box<dyn LayerCodec>, PluginError> {
        DynCodec::create(&self.library, parse(settings)?)
    }

    /// The plugin's ownership normalizer, built through the ABI from `settings`.
    pub fn normalizer(&self, settings: &str) -> Result<Box<dyn OwnershipNormalizer>, PluginError> {
        DynNormalizer::create(&self.library, parse(settings)?)
    }

    /// The plugin's config enricher, built through the ABI from `settings`.
    pub fn enricher(&self, settings: &str) -> Result<Box<dyn ConfigEnricher>, PluginError> {
        DynEnricher::create(&self.library, parse(settings)?)
    }

    /// The plugin's file filter, built through the ABI from `settings`.
    pub fn filter(&self, settings: &str) -> Result<Box<dyn FileFilter>, PluginError> {
        DynFilter::create(&self.library, parse(settings)?)
    }
}

fn parse(settings: &str) -> Result<Settings, PluginError> {
    let table: toml::Table = settings
        .parse()
        .map_err(|e| PluginError::Failed(format!("test settings are not TOML: {e}")))?;
    Ok(Settings::new(table))
}
