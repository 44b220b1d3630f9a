//! The plugins the engine knows by name, and the formats made of them.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{
    CodecFactory, ConfigEnricher, EnricherFactory, FileFilter, FilterFactory, LayerCodec,
    NormalizerFactory, OwnershipNormalizer, PluginError, Registrar, Settings,
};

use crate::detect::KitFacts;
use crate::spec::{
    extend, FormatSpec, LayerEncoding, LayerPolicy, MediaTypes, PluginRef, SpecOrigin, SPEC_FILE,
};
use crate::FormatError;

/// Every codec, normalizer, enricher and file filter that spec files may name.
#[derive(Default)]
pub struct PluginRegistry {
    codecs: BTreeMap<String, CodecFactory>,
    normalizers: BTreeMap<String, NormalizerFactory>,
    enrichers: BTreeMap<String, EnricherFactory>,
    filters: BTreeMap<String, FilterFactory>,
}

/// Loads plugin libraries that spec files name under `[plugin] library`. The engine knows no
/// library format; the CLI gives it a loader (the plugin host).
pub trait LibraryLoader {
    /// Loads the library at `path` (once per file) and registers its plugins into `registrar`;
    /// the error names the file and what is wrong with it.
    fn load(&mut self, path: &Path, registrar: &mut dyn Registrar) -> Result<(), String>;

    /// Loads the library a spec names: `library` as written, and the folder of the spec file
    /// (none for a built-in spec). By default a relative `library` is relative to that folder;
    /// a loader may also search for a bare name (a file name without a folder) elsewhere.
    fn load_named(
        &mut self,
        library: &Path,
        spec_folder: Option<&Path>,
        registrar: &mut dyn Registrar,
    ) -> Result<(), String> {
        let path = spec_folder.map_or_else(|| library.to_path_buf(), |dir| dir.join(library));
        self.load(&path, registrar)
    }
}

impl Registrar for PluginRegistry {
    fn codec(&mut self, name: &str, factory: CodecFactory) {
        self.codecs.insert(name.to_owned(), factory);
    }
    fn normalizer(&mut self, name: &str, factory: NormalizerFactory) {
        self.normalizers.insert(name.to_owned(), factory);
    }
    fn enricher(&mut self, name: &str, factory: EnricherFactory) {
        self.enrichers.insert(name.to_owned(), factory);
    }
    fn filter(&mut self, name: &str, factory: FilterFactory) {
        self.filters.insert(name.to_owned(), factory);
    }
}

/// A plugin constructor, as every role's factory type is.
type Factory<T> = Box<dyn Fn(Settings) -> Result<Box<T>, PluginError> + Send + Sync>;

/// Finds `plugin.plugin` among `factories` and builds it; errors say which spec key was wrong.
fn build<T: ?Sized>(
    role: &str,
    plugin: &PluginRef,
    factories: &BTreeMap<String, Factory<T>>,
) -> Result<Box<T>, String> {
    let factory = factories.get(&plugin.plugin).ok_or_else(|| {
        let known: Vec<String> = factories.keys().map(|k| format!("`{k}`")).collect();
        format!(
            "key `{role}.plugin`: unknown {role} plugin `{}` (known: {})",
            plugin.plugin,
            known.join(", ")
        )
    })?;
    factory(Settings::new(plugin.settings.clone())).map_err(|e| match e {
        PluginError::UnknownSetting { .. }
        | PluginError::BadSetting { .. }
        | PluginError::MissingSetting { .. }
        | PluginError::SettingsRefused(_) => format!("table `[{role}]`: {e}"),
        PluginError::Failed(message) => format!("{role} plugin `{}`: {message}", plugin.plugin),
    })
}

/// A format ready to pack: its plugins built with their settings.
pub struct Format {
    /// The format's name, as `--format` takes it.
    pub name: String,
    /// One line for `mkbuild formats`.
    pub description: String,
    /// Where the format's spec came from.
    pub origin: SpecOrigin,
    /// Maps the files of a layer to tar entry names, and entry names back on unpack.
    pub codec: Box<dyn LayerCodec>,
    /// Decides the owner, permissions and times of every entry.
    pub normalizer: Box<dyn OwnershipNormalizer>,
    /// Writes the config blob.
    pub enricher: Box<dyn ConfigEnricher>,
    /// Files and folders that never ship (spec table `[filter]`), with its plugin's name.
    pub file_filter: Option<(String, Box<dyn FileFilter>)>,
    /// The names of the codec, normalizer and enricher plugins, for errors.
    pub plugins: RolePlugins,
    /// The media types the format writes.
    pub media_types: MediaTypes,
    /// The manifest's `artifactType`; `None` leaves the field out.
    pub artifact_type: Option<String>,
    /// Whether the Kitfile's bytes are stored as the last layer.
    pub kitfile_layer: bool,
    /// The manifest annotation that carries the Kitfile (as JSON), if the format has one.
    pub kitfile_annotation: Option<String>,
    /// How files become layers.
    pub layers: LayerPolicy,
}

/// The plugin names a format's spec gives its roles; errors name the plugin that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolePlugins {
    /// The codec plugin's name.
    pub codec: String,
    /// The ownership normalizer plugin's name.
    pub normalizer: String,
    /// The config enricher plugin's name.
    pub enricher: String,
}

/// What `mkbuild formats` shows of a format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatInfo {
    /// The format's name.
    pub name: String,
    /// The spec's one-line description.
    pub description: String,
    /// Where the spec came from.
    pub origin: SpecOrigin,
}

struct KnownFormat {
    spec: FormatSpec,
    origin: SpecOrigin,
    /// The spec's keys after extension, for formats that extend this one.
    table: toml::Table,
}

/// The formats known to this run: the built-in specs plus those of `--spec-dir` folders.
pub struct FormatRegistry {
    plugins: PluginRegistry,
    formats: BTreeMap<String, KnownFormat>,
    /// Names in the order they were added: the order detection tries them in.
    added: Vec<String>,
    loader: Option<Box<dyn LibraryLoader>>,
}

impl Format {
    /// How layers of `kind` are encoded: an MCP server's bundle always raw (as kit packs it), else
    /// `requested` (`--layer-format`) or the spec's `[layers] raw`.
    pub fn layer_encoding(&self, kind: &str, requested: Option<LayerEncoding>) -> LayerEncoding {
        match kind {
            "mcpb" => LayerEncoding::Raw,
            _ => requested.unwrap_or_else(|| self.layers.encoding(kind)),
        }
    }

    /// Whether the format can hold raw layers: its layer media type says `{encoding}` and its
    /// layers name their paths (unpack places raw files by them).
    pub fn has_raw_layers(&self) -> bool {
        self.media_types.has_encoding() && self.layers.path_annotation.is_some()
    }
}

impl FormatRegistry {
    /// A registry with no formats yet, whose specs may name the plugins of `plugins`.
    pub fn new(plugins: PluginRegistry) -> Self {
        FormatRegistry {
            plugins,
            formats: BTreeMap::new(),
            added: Vec::new(),
            loader: None,
        }
    }

    /// Lets spec files load plugin libraries (`[plugin] library`); without a loader they cannot.
    pub fn set_loader(&mut self, loader: Box<dyn LibraryLoader>) {
        self.loader = Some(loader);
    }

    /// Adds the format `name` from the text of its spec; the spec is checked at once, plugins and
    /// settings included, so a broken spec is reported before anything is packed.
    pub fn add_spec(
        &mut self,
        name: &str,
        text: &str,
        origin: SpecOrigin,
    ) -> Result<(), FormatError> {
        let file = match &origin {
            SpecOrigin::BuiltIn => format!("spec/{name}/{SPEC_FILE} (built-in)"),
            SpecOrigin::File(path) => path.display().to_string(),
        };
        if let Some(existing) = self.formats.get(name) {
            return Err(FormatError::Spec {
                file,
                message: format!("format `{name}` is already defined by {}", existing.origin),
            });
        }
        let bad = |message: String| FormatError::Spec {
            file: file.clone(),
            message,
        };
        let own: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| bad(e.to_string().trim_end().to_owned()))?;
        let (spec, table) = match own.get("extends") {
            None => (FormatSpec::parse(text, &file)?, own),
            Some(toml::Value::String(base)) if base == name => {
                return Err(bad(format!(
                    "key `extends`: format `{name}` extends itself; name another format"
                )))
            }
            Some(toml::Value::String(base)) => {
                let base = self.formats.get(base).ok_or_else(|| {
                    let known: Vec<String> =
                        self.formats.keys().map(|k| format!("`{k}`")).collect();
                    bad(format!(
                        "key `extends`: unknown format `{base}` (known: {})",
                        known.join(", ")
                    ))
                })?;
                let table = extend(&base.table, own);
                (FormatSpec::from_table(table.clone(), &file)?, table)
            }
            Some(other) => {
                return Err(bad(format!(
                    "key `extends`: expected the name of a format, found `{other}`"
                )))
            }
        };
        if let Some(plugin) = &spec.plugin {
            self.load_library(&plugin.library, &origin).map_err(bad)?;
        }
        self.instantiate(name, &spec, &origin).map_err(bad)?;
        self.added.push(name.to_owned());
        self.formats.insert(
            name.to_owned(),
            KnownFormat {
                spec,
                origin,
                table,
            },
        );
        Ok(())
    }

    /// Loads a `[plugin] library`: the loader resolves it against the spec file's folder.
    fn load_library(&mut self, library: &Path, origin: &SpecOrigin) -> Result<(), String> {
        let spec_folder = match origin {
            SpecOrigin::File(spec_file) => spec_file.parent(),
            SpecOrigin::BuiltIn => None,
        };
        let loader = self.loader.as_mut().ok_or_else(|| {
            "key `plugin.library`: this build of mkbuild cannot load plugin libraries".to_owned()
        })?;
        loader
            .load_named(library, spec_folder, &mut self.plugins)
            .map_err(|e| format!("key `plugin.library`: {e}"))
    }

    /// Adds the formats of a folder: either one format folder (with `format.toml`, named after the
    /// folder) or a folder of such folders, like the repository's `spec/`.
    pub fn add_spec_dir(&mut self, dir: &Path) -> Result<(), FormatError> {
        if dir.join(SPEC_FILE).is_file() {
            return self.add_format_folder(dir);
        }
        let entries = std::fs::read_dir(dir).map_err(|e| FormatError::io(dir, e))?;
        let mut folders = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| FormatError::io(dir, e))?.path();
            if path.join(SPEC_FILE).is_file() {
                folders.push(path);
            }
        }
        if folders.is_empty() {
            return Err(FormatError::Spec {
                file: dir.display().to_string(),
                message: format!(
                    "no `{SPEC_FILE}` here nor in any folder inside; a spec folder holds `<name>/{SPEC_FILE}`"
                ),
            });
        }
        folders.sort();
        let mut pending = Vec::with_capacity(folders.len());
        for folder in &folders {
            pending.push(read_format_folder(folder)?);
        }
        // A format that extends another of the same folder waits until that one is added.
        while !pending.is_empty() {
            let waiting: Vec<String> = pending.iter().map(|p| p.0.clone()).collect();
            let ready = pending
                .iter()
                .position(|(name, text, _)| match extends_of(text) {
                    // Extending itself waits for nothing: `add_spec` reports it.
                    Some(base) => base == *name || !waiting.contains(&base),
                    None => true,
                })
                .ok_or_else(|| extends_cycle(&pending))?;
            let (name, text, origin) = pending.remove(ready);
            self.add_spec(&name, &text, origin)?;
        }
        Ok(())
    }

    fn add_format_folder(&mut self, folder: &Path) -> Result<(), FormatError> {
        let (name, text, origin) = read_format_folder(folder)?;
        self.add_spec(&name, &text, origin)
    }
}

/// A format folder's name (the format's name), spec text and origin.
fn read_format_folder(folder: &Path) -> Result<(String, String, SpecOrigin), FormatError> {
    let file = folder.join(SPEC_FILE);
    let name = folder
        .canonicalize()
        .map_err(|e| FormatError::io(folder, e))?
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| FormatError::Spec {
            file: file.display().to_string(),
            message: "the folder name (the format's name) is not UTF-8".into(),
        })?;
    let text = std::fs::read_to_string(&file).map_err(|e| FormatError::io(&file, e))?;
    Ok((name, text, SpecOrigin::File(file)))
}

/// The error for formats of one folder that all wait on each other: it names one cycle of
/// `extends`, e.g. `a -> b -> a`, and the file of its first format.
fn extends_cycle(pending: &[(String, String, SpecOrigin)]) -> FormatError {
    let base_of = |name: &str| {
        pending
            .iter()
            .find(|(n, _, _)| n == name)
            .and_then(|(_, text, _)| extends_of(text))
    };
    // Every pending format extends a pending one, so following `extends` from any of them
    // reaches a name seen before; the cycle starts there.
    let mut path: Vec<String> = pending.iter().take(1).map(|p| p.0.clone()).collect();
    while let Some(base) = path.last().and_then(|n| base_of(n)) {
        if let Some(start) = path.iter().position(|n| *n == base) {
            path.drain(..start);
            path.push(base);
            break;
        }
        path.push(base);
    }
    let file = pending
        .iter()
        .find(|(n, _, _)| Some(n) == path.first())
        .map_or_else(String::new, |(_, _, origin)| origin.to_string());
    FormatError::Spec {
        file,
        message: format!(
            "key `extends`: the formats extend each other in a cycle ({}); one of them must extend a format outside the cycle or none",
            path.join(" -> ")
        ),
    }
}

/// The `extends` of a spec text, if it parses and has one (errors are reported when it is added).
fn extends_of(text: &str) -> Option<String> {
    let table: toml::Table = text.parse().ok()?;
    match table.get("extends")? {
        toml::Value::String(base) => Some(base.clone()),
        _ => None,
    }
}

impl FormatRegistry {
    /// Every known format, by name.
    pub fn list(&self) -> Vec<FormatInfo> {
        self.formats
            .iter()
            .map(|(name, known)| FormatInfo {
                name: name.clone(),
                description: known.spec.description.clone(),
                origin: known.origin.clone(),
            })
            .collect()
    }

    /// The first format, in the order they were added (built-ins in name order, then spec
    /// folders in the order given), whose `[detect]` rules match `facts`.
    pub fn detect(&self, facts: &KitFacts<'_>) -> Option<&str> {
        self.added
            .iter()
            .find(|name| {
                self.formats
                    .get(name.as_str())
                    .and_then(|f| f.spec.detect.as_ref())
                    .is_some_and(|rules| rules.matches(facts))
            })
            .map(String::as_str)
    }

    /// The formats that have `[detect]` rules, in the order `detect` tries them.
    pub fn detection_order(&self) -> Vec<String> {
        self.added
            .iter()
            .filter(|name| {
                self.formats
                    .get(name.as_str())
                    .is_some_and(|f| f.spec.detect.is_some())
            })
            .cloned()
            .collect()
    }

    /// The Kitfile layer media types of all known formats.
    pub fn kitfile_media_types(&self) -> Vec<String> {
        self.formats
            .values()
            .filter_map(|f| f.spec.media_types.kitfile.clone())
            .collect()
    }

    /// Whether a format `name` is known to this run.
    pub fn knows(&self, name: &str) -> bool {
        self.formats.contains_key(name)
    }

    /// Builds the format `name`.
    pub fn format(&self, name: &str) -> Result<Format, FormatError> {
        let known = self
            .formats
            .get(name)
            .ok_or_else(|| FormatError::UnknownFormat {
                name: name.to_owned(),
                known: self.formats.keys().cloned().collect(),
            })?;
        self.instantiate(name, &known.spec, &known.origin)
            .map_err(|message| FormatError::Spec {
                file: known.origin.to_string(),
                message,
            })
    }

    fn instantiate(
        &self,
        name: &str,
        spec: &FormatSpec,
        origin: &SpecOrigin,
    ) -> Result<Format, String> {
        let codec = build("codec", &spec.codec, &self.plugins.codecs)?;
        let normalizer = build("normalizer", &spec.normalizer, &self.plugins.normalizers)?;
        let enricher = build("enricher", &spec.enricher, &self.plugins.enrichers)?;
        let file_filter = match &spec.filter {
            Some(filter) => Some((
                filter.plugin.clone(),
                build("filter", filter, &self.plugins.filters)?,
            )),
            None => None,
        };
        Ok(Format {
            name: name.to_owned(),
            description: spec.description.clone(),
            origin: origin.clone(),
            codec,
            normalizer,
            enricher,
            file_filter,
            plugins: RolePlugins {
                codec: spec.codec.plugin.clone(),
                normalizer: spec.normalizer.plugin.clone(),
                enricher: spec.enricher.plugin.clone(),
            },
            media_types: spec.media_types.clone(),
            artifact_type: spec.artifact_type.clone(),
            kitfile_layer: spec.kitfile_layer,
            kitfile_annotation: spec.kitfile_annotation.clone(),
            layers: spec.layers.clone(),
        })
    }
}
