//! built-in format plugins
