//! The format registry of this run: built-in plugins and specs, plus `--spec-dir` folders.

use std::path::PathBuf;

use anyhow::Context as _;
use mkbuild_engine::{FormatRegistry, PluginRegistry, SpecOrigin};

include!(concat!(env!("OUT_DIR"), "/built_in_specs.rs"));

pub fn registry(spec_dirs: &[PathBuf]) -> anyhow::Result<FormatRegistry> {
    let mut plugins = PluginRegistry::default();
    mkbuild_builtin::register(&mut plugins);
    let mut registry = FormatRegistry::new(plugins);
    for (name, text) in BUILT_IN_SPECS {
        registry
            .add_spec(name, text, SpecOrigin::BuiltIn)
            .context("a built-in format spec is broken")?;
    }
    for dir in spec_dirs {
        registry.add_spec_dir(dir)?;
    }
    Ok(registry)
}
