//! The Kitfile parser: any bytes give a Kitfile or an error, never a panic. A Kitfile that parses
//! round-trips: its YAML parses to an equal Kitfile; its config JSON reads back to an equal one
//! (parameter numbers compared as Go reads them) and writes the same bytes again.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use mkbuild_kitfile::Kitfile;

fuzz_target!(|data: &[u8]| {
    let Ok(kitfile) = Kitfile::from_yaml(data, "Kitfile") else {
        return;
    };
    let yaml = kitfile
        .to_yaml()
        .unwrap_or_else(|e| panic!("a parsed Kitfile writes YAML: {e}\n{kitfile:?}"));
    let again = Kitfile::from_yaml(yaml.as_bytes(), "Kitfile (written)")
        .unwrap_or_else(|e| panic!("written YAML parses: {e}\n{yaml}"));
    assert_eq!(again, kitfile, "YAML round trip\n{yaml}");
    common::check_config_round_trip(&kitfile);
});
