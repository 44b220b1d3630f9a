//! The registry integration tests, one test binary (`cargo test -p mkbuild-registry --test it`).

mod fetch;
mod hostile;
mod partial;
mod registry;
