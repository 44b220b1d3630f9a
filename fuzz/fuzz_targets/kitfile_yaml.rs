//! The Kitfile parser: any bytes give a Kitfile or an error, never a panic; a Kitfile that parses
//! writes config JSON that reads back, and YAML that parses again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mkbuild_kitfile::Kitfile;

fuzz_target!(|data: &[u8]| {
    let Ok(kitfile) = Kitfile::from_yaml(data, "Kitfile") else {
        return;
    };
    let json = kitfile.to_config_json();
    let _ = Kitfile::from_config_json(&json);
    if let Ok(yaml) = kitfile.to_yaml() {
        let _ = Kitfile::from_yaml(yaml.as_bytes(), "Kitfile (written)");
    }
});
