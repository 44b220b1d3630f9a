//! ACME's layer policies as a plugin library (see `examples/acme/format.toml` and
//! `docs/PLUGINS.md`): build it with `cargo build -p mkbuild-plugin-acme` and pack with
//! `mkbuild --spec-dir examples/acme pack --format acme`.
//!
//! | role       | what it does                                                        | settings |
//! |------------|---------------------------------------------------------------------|----------|
//! | codec      | every entry under one root folder, `models/` by default             | `root` |
//! | normalizer | one owner (2000:2000 by default), modes 0644 or 0755, mtime 0       | `uid`, `gid` |
//! | enricher   | kit's config with layer digests, plus a `provenance` object         | `organisation`, `layer-info` |
//! | filter     | never ships `*.tmp` files nor `__pycache__` folders                 | `skip-suffixes`, `skip-folders` |

mod normalized_owner;
mod provenance_config;
mod rooted_codec;
mod skip_filter;

pub use normalized_owner::NormalizedOwner;
pub use provenance_config::ProvenanceConfig;
pub use rooted_codec::RootedCodec;
pub use skip_filter::SkipFilter;

use mkbuild_plugin::{
    CodecConstructor, DynamicPlugin, EnricherConstructor, FilterConstructor, NormalizerConstructor,
};

/// The plugin as mkbuild loads it: spec files name it `acme` in every role table.
pub struct Acme;

impl DynamicPlugin for Acme {
    const NAME: &'static str = "acme";
    const CODEC: Option<CodecConstructor> = Some(RootedCodec::from_settings);
    const NORMALIZER: Option<NormalizerConstructor> = Some(NormalizedOwner::from_settings);
    const ENRICHER: Option<EnricherConstructor> = Some(ProvenanceConfig::from_settings);
    const FILTER: Option<FilterConstructor> = Some(SkipFilter::from_settings);
}

mkbuild_plugin::export_plugin!(Acme);
