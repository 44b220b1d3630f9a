//! The built-in formats: the repository's `spec/` folders, embedded at compile time by `build.rs`,
//! made of the plugins of `mkbuild-builtin`. The one source of them for the CLI, tests and benches.

use crate::formats::{FormatRegistry, PluginRegistry};
use crate::spec::SpecOrigin;
use crate::EngineError;

include!(concat!(env!("OUT_DIR"), "/built_in_specs.rs"));

impl FormatRegistry {
    /// The built-in formats, in name order, with no plugin library loader (built-in specs load no
    /// library; `set_loader` before adding spec folders that do). `add_spec_dir` adds more.
    pub fn builtin() -> Result<FormatRegistry, EngineError> {
        let mut plugins = PluginRegistry::default();
        mkbuild_builtin::register(&mut plugins);
        let mut formats = FormatRegistry::new(plugins);
        for (name, text) in BUILT_IN_SPECS {
            formats.add_spec(name, text, SpecOrigin::BuiltIn)?;
        }
        Ok(formats)
    }
}
