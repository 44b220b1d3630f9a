//! The readers of stored JSON: a manifest and a ModelKit config; any bytes parse or fail, never
//! panic. A manifest that parses writes bytes that parse to an equal manifest; a config that
//! parses writes config JSON that reads back to an equal Kitfile (parameter numbers compared as
//! Go reads them) and writes the same bytes again.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use mkbuild_kitfile::Kitfile;
use mkbuild_store::Manifest;

fuzz_target!(|data: &[u8]| {
    if let Ok(manifest) = Manifest::from_json(data) {
        let back = Manifest::from_json(&manifest.to_json()).expect("written manifest reads back");
        assert_eq!(back, manifest);
    }
    if let Ok(kitfile) = Kitfile::from_config_json(data) {
        common::check_config_round_trip(&kitfile);
        let _ = kitfile.layer_entries();
    }
});
