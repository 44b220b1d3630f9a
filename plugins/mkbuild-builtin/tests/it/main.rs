//! The built-in plugins, through their public API.

mod modelpack_config;
