//! The format registry: built-in specs, `extends` across spec folders, their errors, detection.

mod format_registry;
