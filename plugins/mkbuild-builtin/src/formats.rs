//! The built-in formats: the repository's `spec/` folders, embedded at compile time by `build.rs`,
//! made of this crate's plugins. The one source of them for the CLI, tests and benches.

use mkbuild_format::{FormatError, FormatRegistry, PluginRegistry, SpecOrigin};

include!(concat!(env!("OUT_DIR"), "/built_in_specs.rs"));

/// The built-in formats, in name order, with no plugin library loader (built-in specs load no
/// library; `set_loader` before adding spec folders that do). `add_spec_dir` adds more.
pub fn formats() -> Result<FormatRegistry, FormatError> {
    let mut plugins = PluginRegistry::default();
    crate::register(&mut plugins);
    let mut formats = FormatRegistry::new(plugins);
    for (name, text) in BUILT_IN_SPECS {
        formats.add_spec(name, text, SpecOrigin::BuiltIn)?;
    }
    Ok(formats)
}
