//! The selection of what to unpack: kit's `--filter TYPE[,TYPE...][:NAME_OR_PATH[,NAME_OR_PATH...]]`
//! (kit's `pkg/lib/kitfile/filter.go`), with kit's meaning: a layer is unpacked when some filter
//! names its type and, if the filter lists names, one of them is the entry's name or path. Called a
//! selection here, because "filter" in a format means the pack-time `FileFilter` role.

use mkbuild_kitfile::{LayerEntry, LayerKind};

/// A type a filter can name (kit's filter types, plus mkbuild's `parts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectorKind {
    /// `kitfile`: the Kitfile.
    Kitfile,
    /// `model`: the model and its parts, as kit counts parts as model.
    Model,
    /// `parts`: the model's parts only (mkbuild's; kit has no such type).
    Parts,
    /// `code`: the code layers (prompts are not code here, as in kit).
    Code,
    /// `prompts`: the prompt layers.
    Prompts,
    /// `datasets`: the dataset layers.
    Datasets,
    /// `docs`: the docs layers.
    Docs,
    /// `mcpservers`: the MCP server bundles.
    McpServers,
}

/// Every type with its name in a filter, in kit's order (then mkbuild's `parts`).
const KINDS: [(&str, SelectorKind); 8] = [
    ("kitfile", SelectorKind::Kitfile),
    ("model", SelectorKind::Model),
    ("datasets", SelectorKind::Datasets),
    ("code", SelectorKind::Code),
    ("prompts", SelectorKind::Prompts),
    ("docs", SelectorKind::Docs),
    ("mcpservers", SelectorKind::McpServers),
    ("parts", SelectorKind::Parts),
];

impl SelectorKind {
    /// The type's name in a filter.
    pub fn name(self) -> &'static str {
        KINDS
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("", |(name, _)| name)
    }

    /// Whether a filter naming this type selects layers of `kind`.
    fn covers(self, kind: LayerKind) -> bool {
        matches!(
            (self, kind),
            (SelectorKind::Model, LayerKind::Model | LayerKind::ModelPart)
                | (SelectorKind::Parts, LayerKind::ModelPart)
                | (SelectorKind::Code, LayerKind::Code)
                | (SelectorKind::Prompts, LayerKind::Prompt)
                | (SelectorKind::Datasets, LayerKind::Dataset)
                | (SelectorKind::Docs, LayerKind::Docs)
                | (SelectorKind::McpServers, LayerKind::McpServer)
        )
    }
}

/// One `--filter` value: some types, optionally narrowed to entries with one of some names or paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// The types selected, from the comma-separated list before `:`.
    pub types: Vec<SelectorKind>,
    /// The names or paths after `:`; empty selects every entry of the types.
    pub names: Vec<String>,
}

impl std::str::FromStr for Selector {
    type Err = String;

    fn from_str(s: &str) -> Result<Selector, String> {
        const SHAPE: &str = "TYPE[,TYPE...][:NAME_OR_PATH[,NAME_OR_PATH...]]";
        let mut halves = s.split(':');
        let types = halves.next().unwrap_or_default();
        let names = halves.next();
        if halves.next().is_some() {
            return Err(format!("filter `{s}` has more than one `:`; write {SHAPE}"));
        }
        let types = types
            .split(',')
            .map(|t| {
                let t = t.trim();
                KINDS
                    .iter()
                    .find(|(name, _)| *name == t)
                    .map(|(_, kind)| *kind)
                    .ok_or_else(|| {
                        let known: Vec<&str> = KINDS.iter().map(|(name, _)| *name).collect();
                        let within = if t == s.trim() {
                            String::new()
                        } else {
                            format!(" in `{s}`")
                        };
                        format!(
                            "unknown filter type `{t}`{within} (expected {})",
                            known.join(", ")
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let names = match names {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|n| {
                    if n.is_empty() {
                        Err(format!(
                            "filter `{s}` has an empty name or path after `:`; write {SHAPE}"
                        ))
                    } else {
                        Ok(n.to_owned())
                    }
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        Ok(Selector { types, names })
    }
}

impl std::fmt::Display for Selector {
    /// The filter as written (types trimmed).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let types: Vec<&str> = self.types.iter().map(|t| t.name()).collect();
        f.write_str(&types.join(","))?;
        if !self.names.is_empty() {
            write!(f, ":{}", self.names.join(","))?;
        }
        Ok(())
    }
}

impl Selector {
    /// Whether this filter unpacks the layer of `entry`: a type covers its kind, and a name is
    /// the entry's name or (cleaned) path, as kit compares them (code and docs have no name).
    pub fn selects(&self, entry: &LayerEntry) -> bool {
        self.types.iter().any(|t| t.covers(entry.kind))
            && (self.names.is_empty()
                || self.names.iter().any(|n| {
                    (!entry.name.is_empty() && *n == entry.name)
                        || mkbuild_path::clean(n) == mkbuild_path::clean(&entry.path)
                }))
    }

    /// Whether this filter unpacks the Kitfile (kit ignores names for it).
    pub fn selects_kitfile(&self) -> bool {
        self.types.contains(&SelectorKind::Kitfile)
    }

    /// This filter for the ModelKit a model names: only its model types, as kit hands a
    /// parent only the `model` part of each filter; `None` when it selects no model.
    fn for_model_parent(&self) -> Option<Selector> {
        let types: Vec<SelectorKind> = self
            .types
            .iter()
            .copied()
            .filter(|t| matches!(t, SelectorKind::Model | SelectorKind::Parts))
            .collect();
        (!types.is_empty()).then(|| Selector {
            types,
            names: self.names.clone(),
        })
    }
}

/// All `--filter` values of a command, ORed; none selects everything.
#[derive(Debug, Clone, Default)]
pub struct Selection(pub Vec<Selector>);

impl Selection {
    /// Whether the layer of `entry` is unpacked.
    pub fn selects_entry(&self, entry: &LayerEntry) -> bool {
        self.0.is_empty() || self.0.iter().any(|f| f.selects(entry))
    }

    /// Whether the Kitfile is unpacked.
    pub fn selects_kitfile(&self) -> bool {
        self.0.is_empty() || self.0.iter().any(Selector::selects_kitfile)
    }

    /// The selection within the ModelKit a model names (kit's `unpackParent`): everything of
    /// its model when no filter is given, else each filter's model types; `None` when no filter
    /// names a model type, so nothing of that ModelKit is wanted.
    pub(crate) fn for_model_parent(&self) -> Option<Selection> {
        if self.0.is_empty() {
            return Some(Selection(vec![Selector {
                types: vec![SelectorKind::Model],
                names: Vec::new(),
            }]));
        }
        let kept: Vec<Selector> = self
            .0
            .iter()
            .filter_map(Selector::for_model_parent)
            .collect();
        (!kept.is_empty()).then_some(Selection(kept))
    }

    /// The first filter that selects nothing among `entries` (nor the Kitfile): a filter that
    /// matches nothing is a mistake to report, not an empty unpack.
    pub fn unmatched<'s>(&'s self, entries: &[&LayerEntry]) -> Option<&'s Selector> {
        self.0
            .iter()
            .find(|f| !f.selects_kitfile() && !entries.iter().any(|e| f.selects(e)))
    }
}

/// What a ModelKit holds, by filter type, for the error of a filter that selects nothing:
/// `kitfile; model: `llama` (models/llama); datasets: `train` (data/train); code: src`.
pub(crate) fn describe_entries(entries: &[&LayerEntry]) -> String {
    let mut groups: Vec<String> = vec!["kitfile".to_owned()];
    for (type_name, kinds) in [
        ("model", &[LayerKind::Model, LayerKind::ModelPart][..]),
        ("datasets", &[LayerKind::Dataset]),
        ("code", &[LayerKind::Code]),
        ("prompts", &[LayerKind::Prompt]),
        ("docs", &[LayerKind::Docs]),
        ("mcpservers", &[LayerKind::McpServer]),
    ] {
        let items: Vec<String> = entries
            .iter()
            .filter(|e| kinds.contains(&e.kind))
            .map(|e| {
                if e.name.is_empty() {
                    e.path.clone()
                } else {
                    format!("`{}` ({})", e.name, e.path)
                }
            })
            .collect();
        if !items.is_empty() {
            groups.push(format!("{type_name}: {}", items.join(", ")));
        }
    }
    groups.join("; ")
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

    fn parse(s: &str) -> Result<Selector, String> {
        s.parse()
    }

    /// kit's `TestParseFilter_EdgeCases` (pkg/lib/kitfile/filter_test.go), as data: the filter,
    /// then the types and names it parses to, or the words its error contains.
    #[test]
    fn parses_as_kit_does() {
        use SelectorKind::*;
        let good: [(&str, &[SelectorKind], &[&str]); 4] = [
            ("model", &[Model], &[]),
            ("model:llama-7b,gpt-3", &[Model], &["llama-7b", "gpt-3"]),
            ("model,datasets,code", &[Model, Datasets, Code], &[]),
            (
                "datasets:training-data,validation",
                &[Datasets],
                &["training-data", "validation"],
            ),
        ];
        for (filter, types, names) in good {
            let got = parse(filter).unwrap_or_else(|e| panic!("`{filter}`: {e}"));
            assert_eq!(got.types, types, "`{filter}`");
            assert_eq!(got.names, names, "`{filter}`");
        }
        let bad: [(&str, &str); 4] = [
            ("model:filter1:filter2:extra", "more than one `:`"),
            ("invalidtype", "unknown filter type `invalidtype`"),
            ("", "unknown filter type ``"),
            (":filter1,filter2", "unknown filter type ``"),
        ];
        for (filter, words) in bad {
            let err = parse(filter).expect_err(filter);
            assert!(err.contains(words), "`{filter}`: {err}");
        }
        // Every type kit knows parses, and mkbuild's `parts`.
        let all = parse("kitfile,model,datasets,code,prompts,docs,mcpservers,parts").expect("all");
        assert_eq!(all.types.len(), 8);
        assert!(parse("model:").is_err());
        assert!(parse("datasets:a,,b").is_err());
    }

    /// kit's `TestShouldUnpackLayer_PromptByName` and `TestShouldUnpackLayer_MCPServerByName`, as
    /// data, plus kit's rules for models, parts, code and docs (`LayerMatchesAnyFilter`).
    #[test]
    fn matches_as_kit_does() {
        use LayerKind::*;
        let cases: [(LayerEntry, &str, bool); 22] = [
            (entry(Prompt, "docx", "skills/docx"), "prompts:docx", true),
            (
                entry(Prompt, "", "skills/docx"),
                "prompts:skills/docx",
                true,
            ),
            (entry(Prompt, "docx", "skills/docx"), "prompts:xlsx", false),
            (entry(Prompt, "docx", "skills/docx"), "prompts", true),
            (entry(Prompt, "", "SKILL.md"), "prompts:SKILL.md", true),
            (
                entry(McpServer, "filesystem", "filesystem.mcpb"),
                "mcpservers:filesystem",
                true,
            ),
            (
                entry(McpServer, "filesystem", "filesystem.mcpb"),
                "mcpservers:filesystem.mcpb",
                true,
            ),
            (
                entry(McpServer, "filesystem", "filesystem.mcpb"),
                "mcpservers:postgres",
                false,
            ),
            (
                entry(McpServer, "filesystem", "filesystem.mcpb"),
                "mcpservers",
                true,
            ),
            (
                entry(McpServer, "filesystem", "filesystem.mcpb"),
                "datasets",
                false,
            ),
            // A model's parts are model to kit; `parts` is mkbuild's for parts alone.
            (entry(ModelPart, "shard-2", "w/2.bin"), "model", true),
            (
                entry(ModelPart, "shard-2", "w/2.bin"),
                "model:shard-2",
                true,
            ),
            (
                entry(ModelPart, "shard-2", "w/2.bin"),
                "model:w/2.bin",
                true,
            ),
            (entry(ModelPart, "shard-2", "w/2.bin"), "parts", true),
            (entry(Model, "llama", "w/1.bin"), "parts", false),
            (
                entry(Model, "llama", "w/1.bin"),
                "model:shard-2,llama",
                true,
            ),
            // Prompts are not code, code has only a path.
            (entry(Prompt, "p", "prompts"), "code", false),
            (entry(Code, "", "./src/"), "code:src", true),
            (entry(Docs, "", "docs/usage.md"), "docs:docs/usage.md", true),
            (
                entry(Dataset, "train", "data/train"),
                "datasets:train,validation",
                true,
            ),
            (
                entry(Dataset, "test", "data/test"),
                "datasets:train,validation",
                false,
            ),
            (entry(Dataset, "test", "data/test"), "model,datasets", true),
        ];
        for (e, filter, want) in cases {
            let f = parse(filter).expect(filter);
            assert_eq!(f.selects(&e), want, "`{filter}` on {e:?}");
        }
    }

    #[test]
    fn filters_are_ored_and_report_what_selects_nothing() {
        let train = entry(LayerKind::Dataset, "train", "data/train");
        let code = entry(LayerKind::Code, "", "src");
        let selection = Selection(vec![
            parse("code").expect("code"),
            parse("docs").expect("docs"),
        ]);
        assert!(selection.selects_entry(&code));
        assert!(!selection.selects_kitfile());
        assert_eq!(
            selection
                .unmatched(&[&train, &code])
                .map(ToString::to_string),
            Some("docs".to_owned())
        );
        let kitfile_only = Selection(vec![parse("kitfile:whatever").expect("kitfile")]);
        assert!(kitfile_only.selects_kitfile());
        assert!(kitfile_only.unmatched(&[]).is_none());
        assert!(Selection::default().selects_kitfile());
        assert_eq!(
            describe_entries(&[&train, &code]),
            "kitfile; datasets: `train` (data/train); code: src"
        );
    }
}
