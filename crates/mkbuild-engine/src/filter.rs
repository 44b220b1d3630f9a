//! `--filter TYPE[,TYPE...][:NAME_OR_PATH]`: which parts of a ModelKit to unpack, as kit spells it.

use mkbuild_kitfile::{clean_path, LayerEntry, LayerKind};

/// What a filter can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterType {
    Kitfile,
    Model,
    Parts,
    Code,
    Datasets,
    Docs,
}

/// One `--filter` value: some types, optionally narrowed to one name or path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub types: Vec<FilterType>,
    pub name_or_path: Option<String>,
}

impl std::str::FromStr for Filter {
    type Err = String;

    fn from_str(s: &str) -> Result<Filter, String> {
        let (types, name) = match s.split_once(':') {
            Some((types, name)) if !name.is_empty() => (types, Some(name.to_owned())),
            Some((_, _)) => return Err(format!("filter `{s}` has an empty name after `:`")),
            None => (s, None),
        };
        let types = types
            .split(',')
            .map(|t| match t.trim() {
                "kitfile" => Ok(FilterType::Kitfile),
                "model" => Ok(FilterType::Model),
                "parts" => Ok(FilterType::Parts),
                "code" => Ok(FilterType::Code),
                "datasets" => Ok(FilterType::Datasets),
                "docs" => Ok(FilterType::Docs),
                other => Err(format!(
                    "unknown filter type `{other}` (expected kitfile, model, parts, code, datasets or docs)"
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Filter {
            types,
            name_or_path: name,
        })
    }
}

impl Filter {
    fn selects(&self, entry: &LayerEntry) -> bool {
        let wanted = match entry.kind {
            LayerKind::Model => FilterType::Model,
            LayerKind::ModelPart => FilterType::Parts,
            LayerKind::Code => FilterType::Code,
            LayerKind::Dataset => FilterType::Datasets,
            LayerKind::Docs => FilterType::Docs,
        };
        self.types.contains(&wanted)
            && self
                .name_or_path
                .as_ref()
                .is_none_or(|n| *n == entry.name || clean_path(n) == clean_path(&entry.path))
    }
}

/// All `--filter` values of a command; none selects everything.
#[derive(Debug, Clone, Default)]
pub struct Filters(pub Vec<Filter>);

impl Filters {
    pub fn selects_entry(&self, entry: &LayerEntry) -> bool {
        self.0.is_empty() || self.0.iter().any(|f| f.selects(entry))
    }

    pub fn selects_kitfile(&self) -> bool {
        self.0.is_empty()
            || self
                .0
                .iter()
                .any(|f| f.types.contains(&FilterType::Kitfile))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: LayerKind, name: &str, path: &str) -> LayerEntry {
        LayerEntry {
            kind,
            path: path.into(),
            name: name.into(),
            label: String::new(),
            info: None,
        }
    }

    #[test]
    fn filters_select_by_type_name_and_path() {
        let f: Filter = "model,datasets:train".parse().expect("valid");
        assert!(f.selects(&entry(LayerKind::Dataset, "train", "data/train")));
        assert!(!f.selects(&entry(LayerKind::Dataset, "test", "data/test")));
        let f: Filter = "code:./src/".parse().expect("valid");
        assert!(f.selects(&entry(LayerKind::Code, "", "src")));
        assert!(!Filters(vec![f]).selects_kitfile());
        assert!(Filters::default().selects_kitfile());
        assert!("weights".parse::<Filter>().is_err());
        assert!("model:".parse::<Filter>().is_err());
    }
}
