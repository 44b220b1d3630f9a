//! Format spec files (`spec/<name>/format.toml`): which plugins a format is made of, with their
//! settings, and the media types it writes. See `spec/README.md` for the keys.

use std::path::PathBuf;

use serde::Deserialize;

use crate::detect::DetectRules;
use crate::FormatError;

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
    /// `[media-types]`: the media types the format writes.
    pub media_types: MediaTypes,
    /// `[codec]`: the layer codec.
    pub codec: PluginRef,
    /// `[normalizer]`: the ownership normalizer.
    pub normalizer: PluginRef,
    /// `[enricher]`: the config enricher.
    pub enricher: PluginRef,
    /// Files and folders that never ship; absent keeps everything `.kitignore` keeps.
    #[serde(default)]
    pub filter: Option<PluginRef>,
    /// The format this one starts from (see [`extend`]); already applied when parsed, read
    /// only so that `deny_unknown_fields` accepts the key.
    #[serde(default, rename = "extends")]
    _extends: Option<String>,
    /// A plugin library to load before the plugins are built.
    #[serde(default)]
    pub plugin: Option<PluginLibrary>,
    /// How to recognise a ModelKit of this format that does not record its format.
    #[serde(default)]
    pub detect: Option<DetectRules>,
}

/// `[plugin]`: a shared library holding plugins that this spec names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginLibrary {
    /// Relative to the folder of the spec file. A file name without an extension is a crate name
    /// and gets the platform's naming (`lib<name>.so`, `lib<name>.dylib`, `<name>.dll`).
    pub library: PathBuf,
}

/// The tables that name a plugin; extending a format merges their settings when both name the
/// same plugin and replaces them when the extension names another.
const PLUGIN_TABLES: [&str; 4] = ["codec", "normalizer", "enricher", "filter"];

/// Keys a format does not pass on to formats that extend it: `[plugin]` paths are relative to the
/// spec that wrote them, and its library is loaded by then anyway; `[detect]` describes ModelKits
/// that other tools made, which an extension (another layout) would claim wrongly.
const NOT_INHERITED: [&str; 3] = ["plugin", "extends", "detect"];

/// The keys of `base` overridden by those of `own`: tables merge key by key (plugin tables only
/// when they name the same plugin), everything else is replaced.
pub fn extend(base: &toml::Table, own: toml::Table) -> toml::Table {
    let mut merged: toml::Table = base
        .iter()
        .filter(|(k, _)| !NOT_INHERITED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (key, value) in own {
        let combined = match (merged.remove(&key), value) {
            (Some(toml::Value::Table(mut old)), toml::Value::Table(new)) => {
                let other_plugin = PLUGIN_TABLES.contains(&key.as_str())
                    && new
                        .get("plugin")
                        .is_some_and(|p| old.get("plugin") != Some(p));
                if other_plugin {
                    old = toml::Table::new();
                }
                old.extend(new);
                toml::Value::Table(old)
            }
            (_, value) => value,
        };
        merged.insert(key, combined);
    }
    merged
}

/// The media types a format writes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MediaTypes {
    /// Layer media type with `{kind}` for the Kitfile entry's kind (`model`, `modelpart`, `code`,
    /// `dataset`, `docs`); `+gzip` or `+zstd` is appended for compressed layers.
    pub layer: String,
    /// Media type of the config blob.
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
    /// The plugin's name, from the table's `plugin` key.
    pub plugin: String,
    /// The table's other keys.
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
    pub fn parse(text: &str, file: &str) -> Result<FormatSpec, FormatError> {
        let spec: FormatSpec = toml::from_str(text).map_err(|e| FormatError::Spec {
            file: file.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        spec.check(file)
    }

    /// Reads a spec from a table, e.g. one merged by [`extend`]; `file` names it in errors.
    pub fn from_table(table: toml::Table, file: &str) -> Result<FormatSpec, FormatError> {
        let spec =
            FormatSpec::deserialize(toml::Value::Table(table)).map_err(|e| FormatError::Spec {
                file: file.to_owned(),
                message: e.to_string().trim_end().to_owned(),
            })?;
        spec.check(file)
    }

    fn check(self, file: &str) -> Result<FormatSpec, FormatError> {
        let spec = self;
        let bad = |key: &str, message: &str| FormatError::Spec {
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
        if let Some(detect) = &spec.detect {
            detect.check().map_err(|message| FormatError::Spec {
                file: file.to_owned(),
                message,
            })?;
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

    #[test]
    fn extending_merges_plugin_settings_and_replaces_other_plugins() {
        let base: toml::Table = GOOD.parse().expect("TOML");
        let own: toml::Table = r#"
extends = "base"
description = "mine"
[media-types]
config = "c2"
[normalizer]
uid = 7
[codec]
plugin = "acme"
root = "models"
[plugin]
library = "libacme.so"
"#
        .parse()
        .expect("TOML");
        let spec = FormatSpec::from_table(extend(&base, own), "x.toml").expect("valid");
        assert_eq!(spec.description, "mine");
        assert_eq!(spec.media_types.layer, "x.{kind}.tar");
        assert_eq!(spec.media_types.config, "c2");
        assert_eq!(spec.normalizer.plugin, "fixed-owner");
        assert_eq!(
            spec.normalizer.settings.get("uid"),
            Some(&toml::Value::Integer(7))
        );
        assert_eq!(spec.codec.plugin, "acme");
        assert_eq!(spec.codec.settings.len(), 1);
        assert_eq!(
            spec.plugin.map(|p| p.library),
            Some(PathBuf::from("libacme.so"))
        );
        assert!(spec.filter.is_none());
    }

    #[test]
    fn unknown_key_in_an_extension_is_named_with_the_file() {
        let base: toml::Table = GOOD.parse().expect("TOML");
        let own: toml::Table = "extends = \"base\"\nkitfile-layerz = true"
            .parse()
            .expect("TOML");
        let err = FormatSpec::from_table(extend(&base, own), "spec/acme/format.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("`spec/acme/format.toml`: "), "{err}");
        assert!(err.contains("kitfile-layerz"), "{err}");
    }
}
