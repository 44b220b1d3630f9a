//! The one error type of this crate.

/// What went wrong with a Kitfile or a config object.
#[derive(Debug, thiserror::Error)]
pub enum KitfileError {
    /// The YAML could not be read as a Kitfile: syntax, unknown key, wrong type, ...
    #[error("{file}:{line}:{column}: {message}")]
    Yaml {
        /// The name the caller gave the input, e.g. `Kitfile` or `<stdin>`.
        file: String,
        /// 1-based.
        line: usize,
        /// 1-based.
        column: usize,
        /// The YAML parser's error.
        message: String,
    },

    /// A YAML error without a position (rare: e.g. too many alias expansions).
    #[error("{file}: {message}")]
    YamlNoLocation {
        /// The name the caller gave the input, e.g. `Kitfile` or `<stdin>`.
        file: String,
        /// The YAML parser's error.
        message: String,
    },

    /// The Kitfile parsed but breaks a rule; `entry` names the entry at fault,
    /// e.g. ``datasets[1] (`train`)``.
    #[error("{}{entry}: {problem}", file_prefix(.file))]
    Invalid {
        /// Set when the Kitfile came from a named file (by [`crate::Kitfile::from_yaml`]).
        file: Option<String>,
        /// The entry at fault, e.g. ``datasets[1] (`train`)``.
        entry: String,
        /// The rule broken.
        problem: String,
    },

    /// [`crate::Kitfile::set_layer_infos`] got a list that does not match the layers.
    #[error("the Kitfile has {expected} layers but {got} layer digests were given")]
    LayerCount {
        /// How many layers the Kitfile has.
        expected: usize,
        /// How many layer digests were given.
        got: usize,
    },

    /// A config object that is not valid JSON or not shaped like a Kitfile.
    #[error("config JSON:{line}:{column}: {message}")]
    ConfigJson {
        /// 1-based.
        line: usize,
        /// 1-based.
        column: usize,
        /// The JSON parser's error.
        message: String,
    },

    /// The Kitfile could not be written as YAML.
    #[error("cannot write the Kitfile as YAML: {0}")]
    YamlWrite(String),
}

fn file_prefix(file: &Option<String>) -> String {
    match file {
        Some(f) => format!("{f}: "),
        None => String::new(),
    }
}
