//! Test support, shared by this crate's tests and the CLI's: a real registry on 127.0.0.1, a
//! proxy that breaks transfers on purpose, and a hostile registry. Not part of the stable API.

mod fault_proxy;
mod hostile_registry;
mod test_registry;

pub use fault_proxy::{FaultProxy, Faults, ProxyStats};
pub use hostile_registry::{HostileRegistry, Hostility, SeenRequest, MAX_CONNECTION_TIME, TOKEN};
pub use test_registry::{
    http_status, RegistryConfig, TestRegistry, TlsConfig, TEST_PASSWORD, TEST_USER,
};
