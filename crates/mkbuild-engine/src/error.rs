use std::path::{Path, PathBuf};

/// Everything pack and unpack can fail on; each variant names the file, entry or key at fault.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("`{}`: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// A file or folder of the context that cannot be opened or listed.
    #[error(
        "cannot read `{}`: {cause}; make it readable or list it in `.kitignore`",
        path.display()
    )]
    Unreadable {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// A file whose name no unpack could write back (a control character, a backslash...).
    #[error(
        "`{path}`: the name {problem}, which unpack refuses; rename it or list it in `.kitignore`"
    )]
    UnpackableName { path: String, problem: &'static str },
    /// A file or folder of the context replaced (by a link, or another file) while packing.
    #[error("`{}` changed while it was being packed (replaced by a link or another file); pack again when nothing writes to the folder", path.display())]
    Changed { path: PathBuf },
    /// A Kitfile or `.kitignore` that is not a small regular file.
    #[error("the {what} `{}` {problem}", path.display())]
    NotReadable {
        path: PathBuf,
        what: String,
        problem: String,
    },
    #[error("`{}`: file name is not UTF-8; rename it or list it in `.kitignore`", .0.display())]
    NonUtf8Name(PathBuf),
    #[error("`{}`:{line}: {message}", path.display())]
    Kitignore {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{entry}: path `{path}` does not exist in `{}`", context.display())]
    MissingLayerPath {
        entry: String,
        path: String,
        context: PathBuf,
    },
    #[error("{entry}: `{path}` is a symbolic link or a special file; layer paths must be regular files or folders inside the context")]
    UnsupportedLayerPath { entry: String, path: String },
    #[error("no Kitfile in `{}` (looked for `Kitfile`, `kitfile`, `.kitfile`); write one or pass `-f FILE`", context.display())]
    NoKitfile { context: PathBuf },
    /// `SOURCE_DATE_EPOCH` that is not a usable time.
    #[error("`SOURCE_DATE_EPOCH`: `{value}` is not a usable time: {message}")]
    SourceDateEpoch { value: i64, message: String },
    #[error(transparent)]
    Format(#[from] mkbuild_format::FormatError),
    #[error(transparent)]
    Kitfile(#[from] mkbuild_kitfile::KitfileError),
    #[error(transparent)]
    Store(#[from] mkbuild_store::StoreError),
    #[error("layer `{layer}`")]
    Tar {
        layer: String,
        #[source]
        source: mkbuild_tar::TarError,
    },
    /// A ModelKit whose manifest, config and layers do not agree.
    #[error("{0}")]
    Mismatch(String),
    /// A request the chosen format cannot carry out; the message says what to do instead.
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Extract(#[from] mkbuild_extract::ExtractError),
    /// A plugin failed; `plugin` is its name in the spec, `message` its own words.
    #[error("{role} plugin `{plugin}`: {message}")]
    Plugin {
        role: &'static str,
        plugin: String,
        message: String,
    },
}

impl EngineError {
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
