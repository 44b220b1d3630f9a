//! The selection of what to unpack: kit's `--filter TYPE[,TYPE...][:NAME_OR_PATH]`. Called a
//! selection here, because "filter" in a format means the pack-time `FileFilter` role.

use mkbuild_kitfile::{LayerEntry, LayerKind};

/// A kind of part a selector can select (kit's filter types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectorKind {
    /// `kitfile`: the Kitfile.
    Kitfile,
    /// `model`: the model layer.
    Model,
    /// `parts`: the model's parts.
    Parts,
    /// `code`: the code layers.
    Code,
    /// `datasets`: the dataset layers.
    Datasets,
    /// `docs`: the docs layers.
    Docs,
}

/// One `--filter` value: some kinds, optionally narrowed to one name or path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// The kinds selected, from the comma-separated list before `:`.
    pub types: Vec<SelectorKind>,
    /// The name or path after `:`, which narrows the selection to entries with that name or path.
    pub name_or_path: Option<String>,
}

impl std::str::FromStr for Selector {
    type Err = String;

    fn from_str(s: &str) -> Result<Selector, String> {
        let (types, name) = match s.split_once(':') {
            Some((types, name)) if !name.is_empty() => (types, Some(name.to_owned())),
            Some((_, _)) => return Err(format!("filter `{s}` has an empty name after `:`")),
            None => (s, None),
        };
        let types = types
            .split(',')
            .map(|t| match t.trim() {
                "kitfile" => Ok(SelectorKind::Kitfile),
                "model" => Ok(SelectorKind::Model),
                "parts" => Ok(SelectorKind::Parts),
                "code" => Ok(SelectorKind::Code),
                "datasets" => Ok(SelectorKind::Datasets),
                "docs" => Ok(SelectorKind::Docs),
                other => Err(format!(
                    "unknown filter type `{other}` (expected kitfile, model, parts, code, datasets or docs)"
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Selector {
            types,
            name_or_path: name,
        })
    }
}

impl Selector {
    fn selects(&self, entry: &LayerEntry) -> bool {
        let wanted = match entry.kind {
            LayerKind::Model => SelectorKind::Model,
            LayerKind::ModelPart => SelectorKind::Parts,
            // Prompts and MCP servers are code-like layers; kit's filter has no kind of its own
            // for them yet in mkbuild (the `--filter` rework follows kit's filter.go).
            LayerKind::Code | LayerKind::Prompt | LayerKind::McpServer => SelectorKind::Code,
            LayerKind::Dataset => SelectorKind::Datasets,
            LayerKind::Docs => SelectorKind::Docs,
        };
        self.types.contains(&wanted)
            && self.name_or_path.as_ref().is_none_or(|n| {
                *n == entry.name || mkbuild_path::clean(n) == mkbuild_path::clean(&entry.path)
            })
    }
}

/// All `--filter` values of a command; none selects everything.
#[derive(Debug, Clone, Default)]
pub struct Selection(pub Vec<Selector>);

impl Selection {
    /// Whether the layer of `entry` is unpacked.
    pub fn selects_entry(&self, entry: &LayerEntry) -> bool {
        self.0.is_empty() || self.0.iter().any(|f| f.selects(entry))
    }

    /// Whether the Kitfile is unpacked.
    pub fn selects_kitfile(&self) -> bool {
        self.0.is_empty()
            || self
                .0
                .iter()
                .any(|f| f.types.contains(&SelectorKind::Kitfile))
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
    fn selectors_select_by_type_name_and_path() {
        let f: Selector = "model,datasets:train".parse().expect("valid");
        assert!(f.selects(&entry(LayerKind::Dataset, "train", "data/train")));
        assert!(!f.selects(&entry(LayerKind::Dataset, "test", "data/test")));
        let f: Selector = "code:./src/".parse().expect("valid");
        assert!(f.selects(&entry(LayerKind::Code, "", "src")));
        assert!(!Selection(vec![f]).selects_kitfile());
        assert!(Selection::default().selects_kitfile());
        assert!("weights".parse::<Selector>().is_err());
        assert!("model:".parse::<Selector>().is_err());
    }
}
