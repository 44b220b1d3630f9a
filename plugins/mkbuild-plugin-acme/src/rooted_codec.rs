use mkbuild_plugin::{LayerCodec, PluginError, Settings};

/// Entry names are context paths under one root folder (`models/data/a.csv`), so that a layer
/// unpacked at a container's `/` lands where the container expects its models. Folders above the
/// layer path are archived too, as kit's path-preserving layout does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootedCodec {
    /// The root folder, without leading or trailing `/` (setting `root`, default `models`).
    pub root: String,
}

impl RootedCodec {
    /// Builds the codec from its setting `root`; refuses a root that is not a relative folder path.
    pub fn from_settings(mut settings: Settings) -> Result<Box<dyn LayerCodec>, PluginError> {
        let root = settings
            .take_string("root")?
            .unwrap_or_else(|| "models".to_owned());
        let clean = root.trim_matches('/');
        if clean.is_empty()
            || clean
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
        {
            return Err(PluginError::BadSetting {
                key: "root".into(),
                message: format!("`{root}` is not a relative folder path like `models`"),
            });
        }
        settings.finish(&["root"])?;
        Ok(Box::new(RootedCodec {
            root: clean.to_owned(),
        }))
    }
}

impl LayerCodec for RootedCodec {
    fn entry_name(&self, _layer: &str, member: &str) -> Result<Option<String>, PluginError> {
        Ok((member != ".").then(|| format!("{}/{member}", self.root)))
    }

    fn restore_path(&self, _layer: &str, name: &str) -> Result<Option<String>, PluginError> {
        // A name outside the root does not fit this layout: refused, not a failure.
        Ok(name
            .strip_prefix(&self.root)
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|rest| !rest.is_empty())
            .map(str::to_owned))
    }

    fn archives_ancestors(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_names_and_strips_the_root_back() {
        let c = RootedCodec {
            root: "models".into(),
        };
        assert_eq!(
            c.entry_name("data", "data/a.csv").unwrap().as_deref(),
            Some("models/data/a.csv")
        );
        assert_eq!(c.entry_name(".", ".").unwrap(), None);
        assert_eq!(
            c.restore_path("data", "models/data/a.csv")
                .unwrap()
                .as_deref(),
            Some("data/a.csv")
        );
        assert_eq!(c.restore_path("data", "modelsx/a").unwrap(), None);
        assert_eq!(c.restore_path("data", "other/a").unwrap(), None);
    }

    #[test]
    fn refuses_a_root_that_climbs() {
        let s = Settings::new(r#"root = "../etc""#.parse().expect("TOML"));
        let err = RootedCodec::from_settings(s).err().expect("refused");
        assert!(err.to_string().starts_with("setting `root`"), "{err}");
    }
}
