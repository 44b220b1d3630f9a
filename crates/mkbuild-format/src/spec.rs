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
    /// A manifest annotation that carries the Kitfile's bytes (as text), as kit does for
    /// ModelPack artifacts; read back on unpack before any Kitfile layer or config.
    #[serde(default)]
    pub kitfile_annotation: Option<String>,
    /// How files become layers (`[layers]`); absent: one tar layer per Kitfile entry.
    #[serde(default)]
    pub layers: LayerPolicy,
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
    /// A path relative to the folder of the spec file, or a bare name (no folder), which the CLI
    /// searches along `MKBUILD_PLUGIN_PATH`, then in the spec's folder, then beside the mkbuild
    /// binary. A file name without an extension is a crate name and gets the platform's naming
    /// (`lib<name>.so`, `lib<name>.dylib`, `<name>.dll`).
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

/// The kinds of Kitfile entry, as layer media types name them by default (`mcpb`: an MCP server's
/// bundle, always a raw layer).
pub const LAYER_KINDS: [&str; 6] = ["model", "modelpart", "code", "dataset", "docs", "mcpb"];

/// How a layer holds its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayerEncoding {
    /// A tar of the entry's files (compressed or not).
    Tar,
    /// One file's bytes, nothing else: the blob's digest is the file's SHA-256.
    Raw,
}

impl LayerEncoding {
    /// The word `{encoding}` becomes in a layer media type.
    pub fn word(self) -> &'static str {
        match self {
            LayerEncoding::Tar => "tar",
            LayerEncoding::Raw => "raw",
        }
    }
}

/// What a layer media type of a format says about the layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerType {
    /// The Kitfile kind (`model`, `modelpart`, `code`, `dataset`, `docs`).
    pub kind: &'static str,
    /// Tar or raw.
    pub encoding: LayerEncoding,
    /// `""`, `+gzip` or `+zstd`.
    pub compression: &'static str,
}

/// The media types a format writes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MediaTypes {
    /// Layer media type with `{kind}` for the Kitfile entry's kind (`model`, `modelpart`, `code`,
    /// `dataset`, `docs`, or the word `kinds` gives it) and, in formats that have raw layers,
    /// `{encoding}` for `tar` or `raw`; `+gzip` or `+zstd` is appended for compressed tar layers.
    pub layer: String,
    /// The config blob's media type.
    pub config: String,
    /// Media type of the Kitfile layer; required when `kitfile-layer = true`.
    #[serde(default)]
    pub kitfile: Option<String>,
    /// The word `{kind}` becomes for a Kitfile kind, where it is not the kind's own name (the
    /// ModelPack names `model` `weight`, `docs` `doc`).
    #[serde(default)]
    pub kinds: std::collections::BTreeMap<String, String>,
    /// Other media types read as one of this format's (old names of the same layers), by
    /// pattern: the pattern's `{kind}`, `{encoding}` as in `layer`.
    #[serde(default)]
    pub also_read: Vec<String>,
}

impl MediaTypes {
    /// The layer media type for a kind and a compression suffix (`""`, `+gzip`, `+zstd`) of a tar
    /// layer.
    pub fn layer_for(&self, kind: &str, suffix: &str) -> String {
        self.layer_of(&self.layer, kind, LayerEncoding::Tar, suffix)
    }

    /// The layer media type for a kind, an encoding and (for tar) a compression suffix.
    pub fn layer_type(&self, kind: &str, encoding: LayerEncoding, suffix: &str) -> String {
        self.layer_of(&self.layer, kind, encoding, suffix)
    }

    fn layer_of(
        &self,
        template: &str,
        kind: &str,
        encoding: LayerEncoding,
        suffix: &str,
    ) -> String {
        let word = self.kinds.get(kind).map_or(kind, String::as_str);
        format!(
            "{}{suffix}",
            template
                .replace("{kind}", word)
                .replace("{encoding}", encoding.word())
        )
    }

    /// Whether the format can write raw layers (its layer media type has `{encoding}`).
    pub fn has_encoding(&self) -> bool {
        self.layer.contains("{encoding}")
    }

    /// What a layer media type of this format (or one it also reads) says, if it is one.
    pub fn parse_layer(&self, media_type: &str) -> Option<LayerType> {
        let templates = std::iter::once(&self.layer).chain(&self.also_read);
        for template in templates {
            for kind in LAYER_KINDS {
                // An empty word: the format has no layers of this kind, and reads none.
                if self.kinds.get(kind).is_some_and(String::is_empty) {
                    continue;
                }
                for encoding in [LayerEncoding::Tar, LayerEncoding::Raw] {
                    if encoding == LayerEncoding::Raw && !template.contains("{encoding}") {
                        continue;
                    }
                    let base = self.layer_of(template, kind, encoding, "");
                    let Some(rest) = media_type.strip_prefix(base.as_str()) else {
                        continue;
                    };
                    // kit reads (and writes) compressed raw layers too; mkbuild writes raw
                    // layers uncompressed, as the ModelPack specification requires.
                    let compression = match rest {
                        "" => "",
                        "+gzip" => "+gzip",
                        "+zstd" => "+zstd",
                        _ => continue,
                    };
                    return Some(LayerType {
                        kind,
                        encoding,
                        compression,
                    });
                }
            }
        }
        None
    }
}

/// `[layers]`: how the files of a Kitfile entry become layers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LayerPolicy {
    /// Kinds (`model`, `modelpart`, `code`, `dataset`, `docs`) whose files each get a raw layer of
    /// their own (the file's bytes); every other kind gets one tar layer per Kitfile entry.
    #[serde(default)]
    pub raw: Vec<String>,
    /// A layer annotation naming what the layer holds: the file's path for a raw layer, the
    /// entry's path for a tar layer (relative to the context, `/`-separated). Unpack places raw
    /// layers by it, and matches layers to Kitfile entries by it.
    #[serde(default)]
    pub path_annotation: Option<String>,
    /// Older names of the path annotation, read (never written) when a ModelKit's layers carry
    /// one of them instead (ModelPack's `org.cnai.model.filepath` before model-spec v0.0.7).
    #[serde(default)]
    pub also_read_path_annotations: Vec<String>,
    /// A layer annotation on raw layers with the file's metadata as JSON (name, mode, uid, gid,
    /// size, mtime, typeflag), the way the ModelPack specification writes it.
    #[serde(default)]
    pub metadata_annotation: Option<String>,
    /// A layer annotation telling layers of one media kind apart (kit's
    /// `ml.kitops.modelkit.layer-subtype: prompt` on prompt layers, which are code layers).
    #[serde(default)]
    pub subtype_annotation: Option<String>,
}

impl LayerPolicy {
    /// The path annotation and its older names, in the order they are tried.
    pub fn path_annotations(&self) -> impl Iterator<Item = &str> {
        self.path_annotation
            .iter()
            .chain(&self.also_read_path_annotations)
            .map(String::as_str)
    }

    /// How layers of `kind` are encoded.
    pub fn encoding(&self, kind: &str) -> LayerEncoding {
        if self.raw.iter().any(|k| k == kind) {
            LayerEncoding::Raw
        } else {
            LayerEncoding::Tar
        }
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
        if let Some(kind) = spec
            .layers
            .raw
            .iter()
            .find(|k| !LAYER_KINDS.contains(&k.as_str()))
        {
            return Err(bad(
                "layers.raw",
                &format!("unknown kind `{kind}` (kinds: {})", LAYER_KINDS.join(", ")),
            ));
        }
        if !spec.layers.raw.is_empty() && !spec.media_types.has_encoding() {
            return Err(bad(
                "layers.raw",
                "raw layers need `{encoding}` in `media-types.layer`, so that their media type says they are not tars",
            ));
        }
        if !spec.layers.raw.is_empty() && spec.layers.path_annotation.is_none() {
            return Err(bad(
                "layers.path-annotation",
                "is required with raw layers: unpack places each raw layer's file by it",
            ));
        }
        if let Some(kind) = spec
            .media_types
            .kinds
            .keys()
            .find(|k| !LAYER_KINDS.contains(&k.as_str()))
        {
            return Err(bad(
                "media-types.kinds",
                &format!("unknown kind `{kind}` (kinds: {})", LAYER_KINDS.join(", ")),
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
