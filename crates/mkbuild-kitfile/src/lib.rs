//! The Kitfile of KitOps: YAML in (with `file:line:column` errors), kit's validation rules, and
//! the ModelKit config object out, byte for byte as kit's Go `encoding/json` writes it.
//!
//! ```
//! use mkbuild_kitfile::Kitfile;
//! let kf = Kitfile::from_yaml(b"manifestVersion: 1.0.0\nmodel:\n  path: m.gguf\n", "Kitfile")?;
//! assert_eq!(
//!     kf.to_config_json(),
//!     br#"{"manifestVersion":"1.0.0","package":{},"model":{"path":"m.gguf"}}"#
//! );
//! # Ok::<(), mkbuild_kitfile::KitfileError>(())
//! ```

mod config_json;
mod error;
pub mod go_json;
mod layers;
mod model;
mod reference;
mod suggest;
mod validate;
mod yaml;

pub use error::KitfileError;
pub use layers::{LayerEntry, LayerKind};
pub use model::{
    Code, Dataset, Docs, Kitfile, LayerInfo, McpServer, Model, ModelPart, Package, Prompt,
};
pub use validate::MANIFEST_VERSION;

impl Kitfile {
    /// Parses and validates Kitfile YAML. `file` names the input in messages
    /// (e.g. `Kitfile` or `<stdin>`): ``Kitfile:3:1: unknown key `modle` (did you mean `model`?)``.
    pub fn from_yaml(bytes: &[u8], file: &str) -> Result<Kitfile, KitfileError> {
        let kf = yaml::parse(bytes, file)?;
        kf.validate().map_err(|e| match e {
            KitfileError::Invalid { entry, problem, .. } => KitfileError::Invalid {
                file: Some(file.to_string()),
                entry,
                problem,
            },
            other => other,
        })?;
        Ok(kf)
    }

    /// The Kitfile as YAML, to rebuild a Kitfile from a config on unpack. Layer digests are not
    /// written (a Kitfile never holds them); [`Kitfile::from_yaml`] reads the result back equal.
    pub fn to_yaml(&self) -> Result<String, KitfileError> {
        yaml::write(self)
    }
}
