//! Shared by the integration tests: reading the Go reference fixtures.

use std::path::PathBuf;

/// A file under `tests/fixtures/go/`, written by `tests/fixtures/gen/main.go`.
pub fn go_fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/go")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The deterministic content of an archive entry of `n` bytes, as the Go generator makes it.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}
