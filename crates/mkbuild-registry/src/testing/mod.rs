//! Test support, shared by this crate's tests and the CLI's: a real registry on 127.0.0.1 and a
//! proxy that breaks transfers on purpose. Not part of the stable API.

mod fault_proxy;
mod test_registry;

pub use fault_proxy::{FaultProxy, Faults, ProxyStats};
pub use test_registry::{http_status, TestRegistry, TEST_PASSWORD, TEST_USER};
