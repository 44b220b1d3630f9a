use mkbuild_format::{
    ConfigEnricher, FileFilter, LayerCodec, OwnershipNormalizer, PluginError, Settings,
};

/// Builds a codec from its settings; built-in and loaded plugins use the same signature.
pub type CodecConstructor = fn(Settings) -> Result<Box<dyn LayerCodec>, PluginError>;
/// Builds an ownership normalizer from its settings.
pub type NormalizerConstructor = fn(Settings) -> Result<Box<dyn OwnershipNormalizer>, PluginError>;
/// Builds a config enricher from its settings.
pub type EnricherConstructor = fn(Settings) -> Result<Box<dyn ConfigEnricher>, PluginError>;
/// Builds a file filter from its settings.
pub type FilterConstructor = fn(Settings) -> Result<Box<dyn FileFilter>, PluginError>;

/// A plugin library: a name and a constructor for each role it fills. Export it with
/// [`crate::export_plugin!`]; spec files then name it as `plugin = "<NAME>"` in the tables of
/// the roles it fills.
///
/// ```ignore
/// struct Acme;
/// impl mkbuild_plugin::DynamicPlugin for Acme {
///     const NAME: &'static str = "acme";
///     const NORMALIZER: Option<mkbuild_plugin::NormalizerConstructor> = Some(AcmeOwner::from_settings);
/// }
/// mkbuild_plugin::export_plugin!(Acme);
/// ```
pub trait DynamicPlugin: 'static {
    /// The plugin's name, as spec files name it.
    const NAME: &'static str;
    /// Builds the plugin's layer codec; `None` when it fills no codec role.
    const CODEC: Option<CodecConstructor> = None;
    /// Builds the plugin's ownership normalizer; `None` when it fills no normalizer role.
    const NORMALIZER: Option<NormalizerConstructor> = None;
    /// Builds the plugin's config enricher; `None` when it fills no enricher role.
    const ENRICHER: Option<EnricherConstructor> = None;
    /// Builds the plugin's file filter; `None` when it fills no filter role.
    const FILTER: Option<FilterConstructor> = None;
}
