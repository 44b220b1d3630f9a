use std::path::{Path, PathBuf};

/// Everything pack and unpack can fail on; each variant names the file, entry or key at fault.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A file system call failed on a path.
    #[error("`{}`: {cause}", path.display())]
    Io {
        /// The path the call was made on.
        path: PathBuf,
        /// The error the call returned.
        cause: std::io::Error,
    },
    /// A file or folder of the context that cannot be opened or listed.
    #[error(
        "cannot read `{}`: {cause}; make it readable or list it in `.kitignore`",
        path.display()
    )]
    Unreadable {
        /// The file or folder that could not be opened or listed.
        path: PathBuf,
        /// The error opening or listing it returned.
        cause: std::io::Error,
    },
    /// A file whose name no unpack could write back (a control character, a backslash...).
    #[error(
        "`{path}`: the name {problem}, which unpack refuses; rename it or list it in `.kitignore`"
    )]
    UnpackableName {
        /// The file's path in the context, printable.
        path: String,
        /// What is wrong with the name.
        problem: &'static str,
    },
    /// A file or folder of the context replaced (by a link, or another file) while packing.
    #[error("`{}` changed while it was being packed (replaced by a link or another file); pack again when nothing writes to the folder", path.display())]
    Changed {
        /// The file or folder that changed.
        path: PathBuf,
    },
    /// A file of the context whose size changed while it was packed as a raw layer.
    #[error("`{}` changed size while it was being packed; pack again when nothing writes to the folder", path.display())]
    Resized {
        /// The file.
        path: PathBuf,
    },
    /// A Kitfile or `.kitignore` that is not a small regular file.
    #[error("the {what} `{}` {problem}", path.display())]
    NotReadable {
        /// The file's path.
        path: PathBuf,
        /// Which file it is ("Kitfile", "`.kitignore`").
        what: String,
        /// Why it is refused (a link, a device, too large...).
        problem: String,
    },
    /// A file name in the context that is not UTF-8.
    #[error("`{}`: file name is not UTF-8; rename it or list it in `.kitignore`", .0.display())]
    NonUtf8Name(PathBuf),
    /// A `.kitignore` that is not UTF-8 or has a pattern that does not parse.
    #[error("`{}`:{line}: {message}", path.display())]
    Kitignore {
        /// The `.kitignore` file.
        path: PathBuf,
        /// The line of the bad pattern, counted from 1; 0 when the whole file is at fault.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A Kitfile layer path that does not exist in the context.
    #[error("{entry}: path `{path}` does not exist in `{}`", context.display())]
    MissingLayerPath {
        /// The Kitfile entry that names the path.
        entry: String,
        /// The path, as the Kitfile gives it.
        path: String,
        /// The context folder.
        context: PathBuf,
    },
    /// A Kitfile layer path that is, or goes through, a symbolic link or a special file.
    #[error("{entry}: `{path}` is a symbolic link or a special file; layer paths must be regular files or folders inside the context")]
    UnsupportedLayerPath {
        /// The Kitfile entry that names the path.
        entry: String,
        /// The part of the path, from its start, that is not a regular file or folder.
        path: String,
    },
    /// No Kitfile found in the context, and none given with `-f`.
    #[error("no Kitfile in `{}` (looked for `Kitfile`, `kitfile`, `.kitfile`); write one or pass `-f FILE`", context.display())]
    NoKitfile {
        /// The context folder searched.
        context: PathBuf,
    },
    /// `SOURCE_DATE_EPOCH` that is not a usable time.
    #[error("`SOURCE_DATE_EPOCH`: `{value}` is not a usable time: {message}")]
    SourceDateEpoch {
        /// The value of `SOURCE_DATE_EPOCH`, in seconds.
        value: i64,
        /// Why it is not usable.
        message: String,
    },
    /// The format registry or a format spec failed.
    #[error(transparent)]
    Format(#[from] mkbuild_format::FormatError),
    /// The Kitfile failed to parse or validate.
    #[error(transparent)]
    Kitfile(#[from] mkbuild_kitfile::KitfileError),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] mkbuild_store::StoreError),
    /// A [`crate::BlobSink`] other than the store failed (a registry, for `pack --push`).
    #[error(transparent)]
    Sink(Box<dyn std::error::Error + Send + Sync>),
    /// Writing a layer's tar stream failed.
    #[error("layer `{layer}`")]
    Tar {
        /// The layer's path in the Kitfile.
        layer: String,
        /// The tar writer's error.
        #[source]
        source: mkbuild_tar::TarError,
    },
    /// A ModelKit whose manifest, config and layers do not agree.
    #[error("{0}")]
    Mismatch(String),
    /// A request the chosen format cannot carry out; the message says what to do instead.
    #[error("{0}")]
    Unsupported(String),
    /// An unpack `--filter` that selects nothing in the ModelKit.
    #[error("--filter `{filter}` selects nothing in `{reference}`, which holds: {present}; name one of these (TYPE[,TYPE...][:NAME_OR_PATH[,NAME_OR_PATH...]])")]
    NothingSelected {
        /// The filter, as parsed.
        filter: String,
        /// The ModelKit unpacked.
        reference: String,
        /// What the ModelKit holds, by filter type, with names and paths.
        present: String,
    },
    /// A partial ModelKit (pulled with `--filter`) lacks layers an unpack needs.
    #[error("`{reference}` was pulled with `--filter` and these layers were not pulled: {missing}; pull it whole with `mkbuild pull {pull}`, or unpack only what was pulled")]
    NotPulled {
        /// The ModelKit unpacked.
        reference: String,
        /// The layers missing, each with its blob.
        missing: String,
        /// The reference to pull it by.
        pull: String,
    },
    /// Reading a blob from where it lives (a registry) failed; the source's own error.
    #[error(transparent)]
    Source(Box<dyn std::error::Error + Send + Sync>),
    /// Extracting a layer failed.
    #[error(transparent)]
    Extract(#[from] mkbuild_extract::ExtractError),
    /// A plugin failed; `plugin` is its name in the spec, `message` its own words.
    #[error("{role} plugin `{plugin}`: {message}")]
    Plugin {
        /// The plugin's role: "codec", "enricher" or "filter".
        role: &'static str,
        /// The plugin's name in the spec.
        plugin: String,
        /// The plugin's error, after the layer or path it failed on where known.
        message: String,
    },
}

impl EngineError {
    /// An [`EngineError::Io`] of `source` on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        EngineError::Io {
            path: path.to_path_buf(),
            cause: source,
        }
    }

    /// The failure of `role` plugin `plugin` on `path` (a context path or an entry name) of the
    /// layer made from `layer`, in the plugin's own words.
    pub(crate) fn plugin_on(
        role: &'static str,
        plugin: &str,
        layer: &str,
        path: &str,
        e: mkbuild_format::PluginError,
    ) -> Self {
        EngineError::Plugin {
            role,
            plugin: plugin.to_owned(),
            message: format!("layer `{layer}`, `{path}`: {e}"),
        }
    }
}
