/// What a plugin reports to the engine.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// A setting the plugin does not know.
    #[error("unknown setting `{key}`{}", expected_list(.expected))]
    UnknownSetting {
        /// The setting's key.
        key: String,
        /// The keys the plugin takes.
        expected: Vec<&'static str>,
    },
    /// A setting with a value the plugin cannot use.
    #[error("setting `{key}`: {message}")]
    BadSetting {
        /// The setting's key.
        key: String,
        /// Why the value cannot be used.
        message: String,
    },
    /// A required setting that is absent.
    #[error("missing setting `{key}`")]
    MissingSetting {
        /// The setting's key.
        key: String,
    },
    /// Settings refused by a loaded plugin library, as it worded it.
    #[error("{0}")]
    SettingsRefused(String),
    /// Anything else the plugin could not do.
    #[error("{0}")]
    Failed(String),
}

fn expected_list(expected: &[&'static str]) -> String {
    if expected.is_empty() {
        " (this plugin takes no settings)".to_owned()
    } else {
        let names: Vec<String> = expected.iter().map(|k| format!("`{k}`")).collect();
        format!(" (expected one of {})", names.join(", "))
    }
}
