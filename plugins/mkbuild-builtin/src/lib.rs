//! The built-in formats: the plugins `spec/v1` and `spec/v2` are made of, and [`formats()`], the
//! registry of every spec in the repository's `spec/` folder (embedded at compile time).
//!
//! | kind       | name               | what it does                                                    |
//! |------------|--------------------|-----------------------------------------------------------------|
//! | codec      | `flat`             | entries relative to the parent of the layer path (kit < 0.5)    |
//! | codec      | `path-preserving`  | entries relative to the context, with ancestor folders          |
//! | normalizer | `fixed-owner`      | one uid/gid for every entry, mtime fixed, names of owners empty |
//! | enricher   | `kitfile-config`   | the Kitfile as Go-encoded JSON, optionally with layer digests   |
//! | enricher   | `modelpack-config` | the CNCF ModelPack config JSON, as kit's `--use-model-pack`     |

mod fixed_owner;
mod flat;
mod formats;
mod kitfile_config;
mod modelpack_config;
mod path_preserving;
mod paths;

pub use fixed_owner::FixedOwner;
pub use flat::FlatCodec;
pub use formats::formats;
pub use kitfile_config::KitfileConfig;
pub use modelpack_config::ModelPackConfig;
pub use path_preserving::PathPreservingCodec;

use mkbuild_format::Registrar;

/// Announces every built-in plugin.
pub fn register(registrar: &mut dyn Registrar) {
    registrar.codec("flat", Box::new(FlatCodec::from_settings));
    registrar.codec(
        "path-preserving",
        Box::new(PathPreservingCodec::from_settings),
    );
    registrar.normalizer("fixed-owner", Box::new(FixedOwner::from_settings));
    registrar.enricher("kitfile-config", Box::new(KitfileConfig::from_settings));
    registrar.enricher("modelpack-config", Box::new(ModelPackConfig::from_settings));
}
