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
    const NAME: &'static str;
    const CODEC: Option<CodecConstructor> = None;
    const NORMALIZER: Option<NormalizerConstructor> = None;
    const ENRICHER: Option<EnricherConstructor> = None;
    const FILTER: Option<FilterConstructor> = None;
}
