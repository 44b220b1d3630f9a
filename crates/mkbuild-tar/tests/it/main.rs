//! The tar writer integration tests, one test binary (`cargo test -p mkbuild-tar --test it`).
#![allow(clippy::unwrap_used)]

mod common;
mod go_archives;
mod go_headers;
mod roundtrip;
mod writer_behaviour;
