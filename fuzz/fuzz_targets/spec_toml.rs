//! The format spec reader (`format.toml`): any text parses to a spec or an error, never a panic.
//! `FormatSpec` has no writer of its own, so the round trip goes through its TOML table: the
//! table written back as TOML parses to the same spec. `parse` (a file) and `from_table` (what
//! `extends` merges) agree, and extending an empty base changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mkbuild_format::{extend, FormatSpec};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = FormatSpec::parse(text, "format.toml");
    let Ok(table) = text.parse::<toml::Table>() else {
        assert!(parsed.is_err(), "a spec from text that is not a TOML table");
        return;
    };
    // FormatSpec has no PartialEq; its Debug text shows every field (settings included).
    let show = |spec: &Result<FormatSpec, _>| match spec {
        Ok(spec) => format!("{spec:?}"),
        Err(_) => "error".to_owned(),
    };
    let want = show(&parsed);
    assert_eq!(
        show(&FormatSpec::from_table(table.clone(), "format.toml")),
        want,
        "parse vs from_table"
    );
    assert_eq!(
        show(&FormatSpec::from_table(
            extend(&toml::Table::new(), table.clone()),
            "format.toml"
        )),
        want,
        "extending nothing"
    );
    if parsed.is_err() {
        return;
    }
    let written = toml::to_string(&table).expect("a parsed table writes as TOML");
    let again = FormatSpec::parse(&written, "format.toml (written)");
    assert_eq!(show(&again), want, "TOML round trip\n{written}");
});
