//! Plugins run in-process through the export glue and the host: the example `acme` plugin gives
//! through the ABI exactly what its Rust types give directly, and a plugin whose every role method
//! fails or panics reaches the caller in its own words.

mod acme;
mod failures;
