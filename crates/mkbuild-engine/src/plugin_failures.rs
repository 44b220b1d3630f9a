//! Codec and normalizer methods have no error return, so a loaded plugin that fails or panics in
//! one of them records the failure instead ([`LayerCodec::take_failure`]). The enricher runs after
//! every layer is written and before anything refers to those layers, so it is where such a
//! failure stops the pack: nothing is tagged or referenced from a layer a plugin failed on.

use std::sync::Arc;

use mkbuild_sdk::{
    ConfigEnricher, EntryHeader, Kitfile, LayerCodec, OwnershipNormalizer, PackedLayer, PluginError,
};

/// The three roles of a format, wired so that the enricher reports the others' failures.
pub(crate) fn checked_roles(
    codec: Box<dyn LayerCodec>,
    normalizer: Box<dyn OwnershipNormalizer>,
    enricher: Box<dyn ConfigEnricher>,
) -> (
    Box<dyn LayerCodec>,
    Box<dyn OwnershipNormalizer>,
    Box<dyn ConfigEnricher>,
) {
    let codec: Arc<dyn LayerCodec> = Arc::from(codec);
    let normalizer: Arc<dyn OwnershipNormalizer> = Arc::from(normalizer);
    (
        Box::new(SharedCodec(Arc::clone(&codec))),
        Box::new(SharedNormalizer(Arc::clone(&normalizer))),
        Box::new(CheckingEnricher {
            inner: enricher,
            codec,
            normalizer,
        }),
    )
}

struct SharedCodec(Arc<dyn LayerCodec>);

impl LayerCodec for SharedCodec {
    fn entry_name(&self, layer: &str, member: &str) -> Option<String> {
        self.0.entry_name(layer, member)
    }
    fn restore_path(&self, layer: &str, name: &str) -> Option<String> {
        self.0.restore_path(layer, name)
    }
    fn archives_ancestors(&self) -> bool {
        self.0.archives_ancestors()
    }
    fn take_failure(&self) -> Option<String> {
        self.0.take_failure()
    }
}

struct SharedNormalizer(Arc<dyn OwnershipNormalizer>);

impl OwnershipNormalizer for SharedNormalizer {
    fn normalize(&self, header: &mut EntryHeader) {
        self.0.normalize(header);
    }
    fn take_failure(&self) -> Option<String> {
        self.0.take_failure()
    }
}

struct CheckingEnricher {
    inner: Box<dyn ConfigEnricher>,
    codec: Arc<dyn LayerCodec>,
    normalizer: Arc<dyn OwnershipNormalizer>,
}

impl ConfigEnricher for CheckingEnricher {
    fn config(&self, kitfile: &Kitfile, layers: &[PackedLayer]) -> Result<Vec<u8>, PluginError> {
        if let Some(failure) = self.codec.take_failure() {
            return Err(PluginError::Failed(format!(
                "no config written, the codec failed on a layer: {failure}"
            )));
        }
        if let Some(failure) = self.normalizer.take_failure() {
            return Err(PluginError::Failed(format!(
                "no config written, the normalizer failed on a layer: {failure}"
            )));
        }
        self.inner.config(kitfile, layers)
    }

    fn kitfile(&self, config: &[u8]) -> Result<Kitfile, PluginError> {
        self.inner.kitfile(config)
    }
}
