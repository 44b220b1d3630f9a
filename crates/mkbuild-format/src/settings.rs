use crate::PluginError;

/// The settings a spec file gives a plugin: its table minus the `plugin` key.
///
/// A plugin takes the keys it knows and then calls [`Settings::finish`], which rejects the rest, so
/// a typo in a spec file is an error rather than a silently ignored setting.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    table: toml::Table,
}

impl Settings {
    /// The settings of a plugin's spec table, without its `plugin` key.
    pub fn new(table: toml::Table) -> Self {
        Self { table }
    }

    /// The settings not taken yet.
    pub fn table(&self) -> &toml::Table {
        &self.table
    }

    /// Takes an integer setting in `0..=max`.
    pub fn take_u64(&mut self, key: &str, max: u64) -> Result<Option<u64>, PluginError> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(toml::Value::Integer(v)) if v >= 0 && (v as u64) <= max => Ok(Some(v as u64)),
            Some(other) => Err(PluginError::BadSetting {
                key: key.to_owned(),
                message: format!("expected an integer from 0 to {max}, found `{other}`"),
            }),
        }
    }

    /// Takes a boolean setting.
    pub fn take_bool(&mut self, key: &str) -> Result<Option<bool>, PluginError> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(v)) => Ok(Some(v)),
            Some(other) => Err(PluginError::BadSetting {
                key: key.to_owned(),
                message: format!("expected `true` or `false`, found `{other}`"),
            }),
        }
    }

    /// Takes a string setting.
    pub fn take_string(&mut self, key: &str) -> Result<Option<String>, PluginError> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(toml::Value::String(v)) => Ok(Some(v)),
            Some(other) => Err(PluginError::BadSetting {
                key: key.to_owned(),
                message: format!("expected a string, found `{other}`"),
            }),
        }
    }

    /// Takes a list of strings.
    pub fn take_strings(&mut self, key: &str) -> Result<Option<Vec<String>>, PluginError> {
        let bad = |found: &dyn std::fmt::Display| PluginError::BadSetting {
            key: key.to_owned(),
            message: format!("expected a list of strings, found `{found}`"),
        };
        match self.table.remove(key) {
            None => Ok(None),
            Some(toml::Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    toml::Value::String(s) => Ok(s),
                    other => Err(bad(&other)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(bad(&other)),
        }
    }

    /// Rejects any key that was not taken; `expected` lists the keys the plugin knows.
    pub fn finish(self, expected: &[&'static str]) -> Result<(), PluginError> {
        match self.table.keys().next() {
            None => Ok(()),
            Some(key) => Err(PluginError::UnknownSetting {
                key: key.clone(),
                expected: expected.to_vec(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Settings {
        Settings::new(text.parse::<toml::Table>().expect("test TOML parses"))
    }

    #[test]
    fn takes_known_keys_and_rejects_the_rest() {
        let mut s = settings("uid = 1000\nverbose = true\nextra = 1");
        assert_eq!(s.take_u64("uid", 0o7777777).unwrap(), Some(1000));
        assert_eq!(s.take_bool("verbose").unwrap(), Some(true));
        let err = s.finish(&["uid", "verbose"]).unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown setting `extra` (expected one of `uid`, `verbose`)"
        );
    }

    #[test]
    fn rejects_out_of_range_and_wrong_types() {
        let mut s = settings("uid = -1\ngid = \"x\"");
        assert!(s
            .take_u64("uid", 10)
            .unwrap_err()
            .to_string()
            .contains("expected an integer from 0 to 10"));
        assert!(s.take_bool("gid").is_err());
    }
}
