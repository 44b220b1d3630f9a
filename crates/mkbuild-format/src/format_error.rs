use std::path::{Path, PathBuf};

/// What adding, building or detecting a format can fail on; each variant names the file or
/// format at fault and what to do.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// A spec file or folder that cannot be read.
    #[error("`{}`: {cause}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        cause: std::io::Error,
    },
    /// A spec that is not valid: `file` is the spec file (or `spec/<name>/format.toml
    /// (built-in)`), `message` names the key.
    #[error("`{file}`: {message}")]
    Spec {
        /// The spec file.
        file: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// A format name no spec defines.
    #[error("unknown format `{name}` (known: {}); `mkbuild formats` lists them, `--spec-dir` adds more", known.join(", "))]
    UnknownFormat {
        /// The name asked for.
        name: String,
        /// The names known, in order.
        known: Vec<String>,
    },
    /// A ModelKit that records no format and that no format's `[detect]` table matches.
    #[error("the ModelKit records no format and none matches it by its spec's `[detect]` table (tried, in order: {}); add a format whose `[detect]` matches it with `--spec-dir`", tried.join(", "))]
    Undetected {
        /// The formats tried, in detection order.
        tried: Vec<String>,
    },
}

impl FormatError {
    pub(crate) fn io(path: &Path, cause: std::io::Error) -> Self {
        FormatError::Io {
            path: path.to_path_buf(),
            cause,
        }
    }
}
