use crate::{ConfigEnricher, FileFilter, LayerCodec, OwnershipNormalizer, PluginError, Settings};

/// Builds a codec from the settings a spec file gives it.
pub type CodecFactory =
    Box<dyn Fn(Settings) -> Result<Box<dyn LayerCodec>, PluginError> + Send + Sync>;
/// Builds an ownership normalizer from its settings.
pub type NormalizerFactory =
    Box<dyn Fn(Settings) -> Result<Box<dyn OwnershipNormalizer>, PluginError> + Send + Sync>;
/// Builds a config enricher from its settings.
pub type EnricherFactory =
    Box<dyn Fn(Settings) -> Result<Box<dyn ConfigEnricher>, PluginError> + Send + Sync>;
/// Builds a file filter from its settings.
pub type FilterFactory =
    Box<dyn Fn(Settings) -> Result<Box<dyn FileFilter>, PluginError> + Send + Sync>;

/// Where a plugin crate announces what it provides, by name; spec files refer to these names.
pub trait Registrar {
    /// Provides the layer codec `name`, built by `factory`.
    fn codec(&mut self, name: &str, factory: CodecFactory);
    /// Provides the ownership normalizer `name`, built by `factory`.
    fn normalizer(&mut self, name: &str, factory: NormalizerFactory);
    /// Provides the config enricher `name`, built by `factory`.
    fn enricher(&mut self, name: &str, factory: EnricherFactory);
    /// Provides the file filter `name`, built by `factory`.
    fn filter(&mut self, name: &str, factory: FilterFactory);
}
