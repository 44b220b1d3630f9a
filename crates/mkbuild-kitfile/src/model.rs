//! The Kitfile data model, independent of YAML and JSON.
//!
//! Optional text fields are `String`s where empty means absent, as in kit's Go structs (whose
//! `omitempty` drops empty strings): the config JSON cannot tell the two apart anyway.

/// The digests of the layer that holds an entry's files (config format `v2` only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerInfo {
    /// sha256 of the stored (possibly compressed) blob, `sha256:<hex>`.
    pub digest: String,
    /// sha256 of the uncompressed tar, `sha256:<hex>` (JSON key `diffId`).
    pub diff_id: String,
}

/// A parsed Kitfile (or the Kitfile recorded in a ModelKit config object).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kitfile {
    /// Always `1.0.0` for a valid Kitfile.
    pub manifest_version: String,
    /// The `package` section.
    pub package: Package,
    /// `None` when the Kitfile has no `model` key (or `model: null`); `Some` of an empty model
    /// for `model: {}` (Go writes `"model":{}` then).
    pub model: Option<Model>,
    /// The `code` entries, in Kitfile order.
    pub code: Vec<Code>,
    /// The `datasets` entries, in Kitfile order.
    pub datasets: Vec<Dataset>,
    /// The `docs` entries, in Kitfile order.
    pub docs: Vec<Docs>,
    /// Prompt files or folders; each becomes a code-typed layer marked as a prompt.
    pub prompts: Vec<Prompt>,
    /// MCP servers, each one `.mcpb` bundle stored as its own raw layer (Kitfile key
    /// `mcpServers`).
    pub mcp_servers: Vec<McpServer>,
}

/// The Kitfile's `package` section: what the ModelKit is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Package {
    /// The package name.
    pub name: String,
    /// The package version.
    pub version: String,
    /// What the package is.
    pub description: String,
    /// The package license.
    pub license: String,
    /// The package authors.
    pub authors: Vec<String>,
}

/// The Kitfile's `model` section: the model, and its parts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    /// The model name.
    pub name: String,
    /// May be empty: a model described only by its parts has no layer of its own.
    pub path: String,
    /// The model license.
    pub license: String,
    /// The framework the model is for.
    pub framework: String,
    /// The model's file format.
    pub format: String,
    /// The model version.
    pub version: String,
    /// What the model is.
    pub description: String,
    /// The model's parts, each a layer of its own.
    pub parts: Vec<ModelPart>,
    /// Free-form; `None` is Go's nil (left out of the JSON), anything else is written,
    /// even `{}` or `0`. `Some(Value::Null)` is treated like `None`.
    pub parameters: Option<serde_json::Value>,
    /// The digests of the layer that holds the entry's files, when the config records them.
    pub layer: Option<LayerInfo>,
}

/// An entry of `model.parts`: a file or folder that belongs to the model, in a layer of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelPart {
    /// The part name.
    pub name: String,
    /// The part's file or folder, relative to the context.
    pub path: String,
    /// The part license.
    pub license: String,
    /// The Kitfile key `type`.
    pub part_type: String,
    /// The digests of the layer that holds the entry's files, when the config records them.
    pub layer: Option<LayerInfo>,
}

/// An entry of `code`: source code that ships with the model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Code {
    /// The code's file or folder, relative to the context.
    pub path: String,
    /// What the code is.
    pub description: String,
    /// The code license.
    pub license: String,
    /// The digests of the layer that holds the entry's files, when the config records them.
    pub layer: Option<LayerInfo>,
}

/// An entry of `datasets`: data that ships with the model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    /// The dataset name.
    pub name: String,
    /// The local path. For a remote dataset (see [`Dataset::remote_path`]) it is where the data
    /// goes on unpack, and may be empty.
    pub path: String,
    /// Where the data lives instead of a layer (Kitfile key `remotePath`): an S3 URL
    /// (`s3://bucket/key`) or a ModelKit reference. A dataset with one makes no layer.
    pub remote_path: String,
    /// The expected hash of an S3 object (Kitfile key `remoteHash`); required with an S3
    /// `remotePath`, ignored by kit for a ModelKit reference.
    pub remote_hash: String,
    /// What the dataset is.
    pub description: String,
    /// The dataset license.
    pub license: String,
    /// Same rules as [`Model::parameters`].
    pub parameters: Option<serde_json::Value>,
    /// The digests of the layer that holds the entry's files, when the config records them.
    pub layer: Option<LayerInfo>,
}

impl Dataset {
    /// Whether the data lives outside the ModelKit (`remotePath` set): no layer is packed for it.
    pub fn is_remote(&self) -> bool {
        !self.remote_path.is_empty()
    }
}

/// An entry of `docs`: documentation that ships with the model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Docs {
    /// Always written to the config JSON, even when empty (Go has no `omitempty` on it).
    pub path: String,
    /// What the docs are.
    pub description: String,
    /// The digests of the layer that holds the entry's files, when the config records them.
    pub layer: Option<LayerInfo>,
}

/// A prompt file or folder. Kit packs it as a `code` layer annotated
/// `ml.kitops.modelkit.layer-subtype: prompt`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prompt {
    /// The prompt's name (optional).
    pub name: String,
    /// The prompt's file or folder, relative to the context.
    pub path: String,
    /// What the prompt is for.
    pub description: String,
    /// The digests of the layer that holds the entry's files, when the config records them.
    pub layer: Option<LayerInfo>,
}

/// An MCP server packaged as one MCP Bundle (`.mcpb`) file, stored verbatim as its own layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpServer {
    /// Required and unique among the Kitfile's MCP servers.
    pub name: String,
    /// Must end in `.mcpb`.
    pub path: String,
    /// What the server does.
    pub description: String,
    /// The digests of the layer that holds the bundle, when the config records them.
    pub layer: Option<LayerInfo>,
}
