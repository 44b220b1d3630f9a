//! The store integration tests, one test binary (`cargo test -p mkbuild-store --test it`).

mod blobs;
mod common;
mod concurrency;
mod ingest_cleanup;
mod layout;
mod partial;
mod referrers;
mod skopeo;
mod tags;
mod verify;
