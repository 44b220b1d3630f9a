//! The format spec reader (`format.toml`): any text parses to a spec or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mkbuild_engine::spec::FormatSpec;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = FormatSpec::parse(text, "format.toml");
    }
});
