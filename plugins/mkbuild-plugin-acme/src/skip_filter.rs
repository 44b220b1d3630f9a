use mkbuild_plugin::{EntryKind, FileFilter, PluginError, Settings};

/// Leaves out files whose name ends with one of `skip-suffixes` (default `.tmp`) and folders named
/// one of `skip-folders` (default `__pycache__`), wherever they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipFilter {
    /// File name endings to leave out (`skip-suffixes`).
    pub suffixes: Vec<String>,
    /// Folder names to leave out (`skip-folders`).
    pub folders: Vec<String>,
}

impl SkipFilter {
    /// Builds the filter from its settings `skip-suffixes` and `skip-folders`.
    pub fn from_settings(mut settings: Settings) -> Result<Box<dyn FileFilter>, PluginError> {
        let suffixes = settings
            .take_strings("skip-suffixes")?
            .unwrap_or_else(|| vec![".tmp".to_owned()]);
        let folders = settings
            .take_strings("skip-folders")?
            .unwrap_or_else(|| vec!["__pycache__".to_owned()]);
        settings.finish(&["skip-suffixes", "skip-folders"])?;
        Ok(Box::new(SkipFilter { suffixes, folders }))
    }
}

impl FileFilter for SkipFilter {
    fn includes(&self, path: &str, kind: EntryKind) -> Result<bool, PluginError> {
        let name = path.rsplit('/').next().unwrap_or(path);
        Ok(match kind {
            EntryKind::Dir => !self.folders.iter().any(|f| f == name),
            EntryKind::File => !self.suffixes.iter().any(|s| name.ends_with(s.as_str())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_tmp_files_and_pycache_folders() {
        let f = SkipFilter::from_settings(Settings::default()).expect("defaults");
        assert!(!f.includes("a/b.tmp", EntryKind::File).expect("answer"));
        assert!(f.includes("a/b.tmpl", EntryKind::File).expect("answer"));
        assert!(!f
            .includes("src/__pycache__", EntryKind::Dir)
            .expect("answer"));
        assert!(f.includes("__pycache__", EntryKind::File).expect("answer"));
    }
}
