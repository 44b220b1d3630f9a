//! A plugin named `faulty` whose codec and normalizer misbehave when their settings say so, and
//! whose features break the declaration; built by `crates/mkbuild/tests/plugins.rs`.
//!
//! Codec settings (booleans): `panic-on-create`, `panic-on-entry`, and `fail-on-entry`,
//! `fail-on-restore`, which return an error from `entry_name`, `restore_path`. Otherwise the codec
//! keeps the context's paths, as `path-preserving` does. Normalizer setting: `fail` (boolean),
//! an error from `normalize`; otherwise it leaves headers as they are.

// With `no-declaration` nothing refers to the plugin.
#![cfg_attr(feature = "no-declaration", allow(dead_code))]

use mkbuild_plugin::{
    CodecConstructor, DynamicPlugin, EntryHeader, LayerCodec, NormalizerConstructor,
    OwnershipNormalizer, PluginError, Settings,
};

struct FaultyCodec {
    panic_on_entry: bool,
    fail_on_entry: bool,
    fail_on_restore: bool,
}

impl FaultyCodec {
    fn from_settings(mut settings: Settings) -> Result<Box<dyn LayerCodec>, PluginError> {
        let mut flag = |key: &str| settings.take_bool(key).map(|v| v.unwrap_or(false));
        let panic_on_create = flag("panic-on-create")?;
        let codec = FaultyCodec {
            panic_on_entry: flag("panic-on-entry")?,
            fail_on_entry: flag("fail-on-entry")?,
            fail_on_restore: flag("fail-on-restore")?,
        };
        settings.finish(&[
            "panic-on-create",
            "panic-on-entry",
            "fail-on-entry",
            "fail-on-restore",
        ])?;
        if panic_on_create {
            panic!("faulty codec refuses to be built");
        }
        Ok(Box::new(codec))
    }
}

impl LayerCodec for FaultyCodec {
    fn entry_name(&self, _layer: &str, member: &str) -> Result<Option<String>, PluginError> {
        if self.panic_on_entry {
            panic!("faulty codec cannot name `{member}`");
        }
        if self.fail_on_entry {
            return Err(PluginError::Failed(format!(
                "faulty codec fails to name `{member}` on purpose"
            )));
        }
        Ok((member != ".").then(|| member.to_owned()))
    }

    fn restore_path(&self, _layer: &str, name: &str) -> Result<Option<String>, PluginError> {
        if self.fail_on_restore {
            return Err(PluginError::Failed(format!(
                "faulty codec fails to place `{name}` on purpose"
            )));
        }
        Ok(Some(name.to_owned()))
    }

    fn archives_ancestors(&self) -> bool {
        true
    }
}

struct FaultyNormalizer {
    fail: bool,
}

impl FaultyNormalizer {
    fn from_settings(mut settings: Settings) -> Result<Box<dyn OwnershipNormalizer>, PluginError> {
        let fail = settings.take_bool("fail")?.unwrap_or(false);
        settings.finish(&["fail"])?;
        Ok(Box::new(FaultyNormalizer { fail }))
    }
}

impl OwnershipNormalizer for FaultyNormalizer {
    fn normalize(&self, header: &mut EntryHeader) -> Result<(), PluginError> {
        if self.fail {
            return Err(PluginError::Failed(format!(
                "faulty normalizer fails on `{}` on purpose",
                header.name
            )));
        }
        Ok(())
    }
}

/// The `faulty` plugin: its codec and normalizer.
pub struct Faulty;

impl DynamicPlugin for Faulty {
    const NAME: &'static str = "faulty";
    const CODEC: Option<CodecConstructor> = Some(FaultyCodec::from_settings);
    const NORMALIZER: Option<NormalizerConstructor> = Some(FaultyNormalizer::from_settings);
}

#[cfg(not(any(feature = "wrong-abi", feature = "no-declaration")))]
mkbuild_plugin::export_plugin!(Faulty);

/// The plugin's declaration with an ABI major version one past the host's, which the host refuses.
#[cfg(all(feature = "wrong-abi", not(feature = "no-declaration")))]
#[allow(unsafe_code)]
#[no_mangle]
pub static mkbuild_plugin_declaration: mkbuild_plugin::protocol::PluginDeclaration = {
    let mut declaration = mkbuild_plugin::export::declaration::<Faulty>();
    declaration.abi_major += 1;
    declaration
};
