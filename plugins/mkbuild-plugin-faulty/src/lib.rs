//! A plugin named `faulty` whose codec misbehaves when its settings say so, and whose features
//! break the declaration; built by `crates/mkbuild/tests/plugins.rs`.
//!
//! Codec settings: `panic-on-create`, `panic-on-entry` (booleans). Otherwise the codec keeps the
//! context's paths, as `path-preserving` does.

// With `no-declaration` nothing refers to the plugin.
#![cfg_attr(feature = "no-declaration", allow(dead_code))]

use mkbuild_sdk::{CodecConstructor, DynamicPlugin, LayerCodec, PluginError, Settings};

struct FaultyCodec {
    panic_on_entry: bool,
}

impl FaultyCodec {
    fn from_settings(mut settings: Settings) -> Result<Box<dyn LayerCodec>, PluginError> {
        let panic_on_create = settings.take_bool("panic-on-create")?.unwrap_or(false);
        let panic_on_entry = settings.take_bool("panic-on-entry")?.unwrap_or(false);
        settings.finish(&["panic-on-create", "panic-on-entry"])?;
        if panic_on_create {
            panic!("faulty codec refuses to be built");
        }
        Ok(Box::new(FaultyCodec { panic_on_entry }))
    }
}

impl LayerCodec for FaultyCodec {
    fn entry_name(&self, _layer: &str, member: &str) -> Option<String> {
        if self.panic_on_entry {
            panic!("faulty codec cannot name `{member}`");
        }
        (member != ".").then(|| member.to_owned())
    }

    fn restore_path(&self, _layer: &str, name: &str) -> Option<String> {
        Some(name.to_owned())
    }

    fn archives_ancestors(&self) -> bool {
        true
    }
}

pub struct Faulty;

impl DynamicPlugin for Faulty {
    const NAME: &'static str = "faulty";
    const CODEC: Option<CodecConstructor> = Some(FaultyCodec::from_settings);
}

#[cfg(not(any(feature = "wrong-abi", feature = "no-declaration")))]
mkbuild_sdk::export_plugin!(Faulty);

#[cfg(all(feature = "wrong-abi", not(feature = "no-declaration")))]
#[allow(unsafe_code)]
#[no_mangle]
pub static mkbuild_plugin_declaration: mkbuild_sdk::abi::PluginDeclaration = {
    let mut declaration = mkbuild_sdk::export::declaration::<Faulty>();
    declaration.abi_major += 1;
    declaration
};
