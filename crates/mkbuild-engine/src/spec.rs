//! Format spec files (`spec/<name>/format.toml`): which plugins a format is made of, with their
//! settings, and the media types it writes. See `spec/README.md` for the keys.

use std::path::PathBuf;

use serde::Deserialize;

use crate::EngineError;

/// The file name of a format spec inside its folder.
pub const SPEC_FILE: &str = "format.toml";

/// Where a format spec came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecOrigin {
    /// Embedded in the binary from the repository's `spec/` folder.
    BuiltIn,
    /// Read from a `--spec-dir` folder.
    File(PathBuf),
}

impl std::fmt::Display for SpecOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpecOrigin::BuiltIn => f.write_str("built-in"),
            SpecOrigin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A parsed `format.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FormatSpec {
    /// One line for `mkbuild formats`.
    pub description: String,
    /// The manifest's `artifactType`; absent leaves the field out.
    #[serde(default)]
    pub artifact_type: Option<String>,
    /// Whether the Kitfile's bytes are stored as the last layer.
    #[serde(default)]
    pub kitfile_layer: bool,
    pub media_types: MediaTypes,
    pub codec: PluginRef,
    pub normalizer: PluginRef,
    pub enricher: PluginRef,
}

/// The media types a format writes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MediaTypes {
    /// Layer media type with `{kind}` for the Kitfile entry's kind (`model`, `modelpart`, `code`,
    /// `dataset`, `docs`); `+gzip` or `+zstd` is appended for compressed layers.
    pub layer: String,
    pub config: String,
    /// Media type of the Kitfile layer; required when `kitfile-layer = true`.
    #[serde(default)]
    pub kitfile: Option<String>,
}

impl MediaTypes {
    /// The layer media type for a kind and a compression suffix (`""`, `+gzip`, `+zstd`).
    pub fn layer_for(&self, kind: &str, suffix: &str) -> String {
        format!("{}{suffix}", self.layer.replace("{kind}", kind))
    }
}

/// A plugin by name, with the settings the spec passes to it (every key but `plugin`).
#[derive(Debug, Clone)]
pub struct PluginRef {
    pub plugin: String,
    pub settings: toml::Table,
}

impl<'de> Deserialize<'de> for PluginRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut settings = toml::Table::deserialize(d)?;
        match settings.remove("plugin") {
            Some(toml::Value::String(plugin)) => Ok(PluginRef { plugin, settings }),
            Some(other) => Err(serde::de::Error::custom(format!(
                "`plugin` must be a string, found `{other}`"
            ))),
            None => Err(serde::de::Error::missing_field("plugin")),
        }
    }
}

impl FormatSpec {
    /// Parses and checks a spec; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<FormatSpec, EngineError> {
        let spec: FormatSpec = toml::from_str(text).map_err(|e| EngineError::Spec {
            file: file.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let bad = |key: &str, message: &str| EngineError::Spec {
            file: file.to_owned(),
            message: format!("key `{key}`: {message}"),
        };
        if !spec.media_types.layer.contains("{kind}") {
            return Err(bad(
                "media-types.layer",
                "must contain `{kind}`, e.g. `application/vnd.kitops.modelkit.{kind}.v1.tar`",
            ));
        }
        if spec.kitfile_layer && spec.media_types.kitfile.is_none() {
            return Err(bad(
                "media-types.kitfile",
                "is required when `kitfile-layer = true`",
            ));
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
description = "test"
artifact-type = "a/b"
kitfile-layer = true
[media-types]
layer = "x.{kind}.tar"
config = "c"
kitfile = "k"
[codec]
plugin = "flat"
[normalizer]
plugin = "fixed-owner"
uid = 5
[enricher]
plugin = "kitfile-config"
"#;

    #[test]
    fn parses_plugins_and_their_settings() {
        let spec = FormatSpec::parse(GOOD, "good.toml").expect("valid spec");
        assert_eq!(spec.normalizer.plugin, "fixed-owner");
        assert_eq!(
            spec.normalizer.settings.get("uid"),
            Some(&toml::Value::Integer(5))
        );
        assert_eq!(
            spec.media_types.layer_for("model", "+gzip"),
            "x.model.tar+gzip"
        );
    }

    #[test]
    fn unknown_key_is_named_with_the_file() {
        let text = GOOD.replace("kitfile-layer", "kitfile-layers");
        let err = FormatSpec::parse(&text, "spec/x/format.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("spec/x/format.toml"), "{err}");
        assert!(err.contains("kitfile-layers"), "{err}");
    }

    #[test]
    fn layer_media_type_needs_kind() {
        let text = GOOD.replace("x.{kind}.tar", "x.tar");
        let err = FormatSpec::parse(&text, "f.toml").unwrap_err().to_string();
        assert!(err.contains("media-types.layer"), "{err}");
    }
}
