//! The readers of stored JSON: a manifest and a ModelKit config; any bytes parse or fail, never
//! panic, and a manifest that parses writes bytes that parse to the same manifest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mkbuild_kitfile::Kitfile;
use mkbuild_store::Manifest;

fuzz_target!(|data: &[u8]| {
    if let Ok(manifest) = Manifest::from_json(data) {
        let back = Manifest::from_json(&manifest.to_json()).expect("written manifest reads back");
        assert_eq!(back, manifest);
    }
    if let Ok(kitfile) = Kitfile::from_config_json(data) {
        let _ = kitfile.to_config_json();
        let _ = kitfile.layer_entries();
    }
});
