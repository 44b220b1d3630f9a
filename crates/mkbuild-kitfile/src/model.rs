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
    pub package: Package,
    /// `None` when the Kitfile has no `model` key (or `model: null`); `Some` of an empty model
    /// for `model: {}` (Go writes `"model":{}` then).
    pub model: Option<Model>,
    pub code: Vec<Code>,
    pub datasets: Vec<Dataset>,
    pub docs: Vec<Docs>,
    /// Prompt files or folders; each becomes a code-typed layer marked as a prompt.
    pub prompts: Vec<Prompt>,
    /// MCP servers, each one `.mcpb` bundle stored as its own raw layer (Kitfile key
    /// `mcpServers`).
    pub mcp_servers: Vec<McpServer>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub description: String,
    pub license: String,
    pub authors: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    pub name: String,
    /// May be empty: a model described only by its parts has no layer of its own.
    pub path: String,
    pub license: String,
    pub framework: String,
    pub format: String,
    pub version: String,
    pub description: String,
    pub parts: Vec<ModelPart>,
    /// Free-form; `None` is Go's nil (left out of the JSON), anything else is written,
    /// even `{}` or `0`. `Some(Value::Null)` is treated like `None`.
    pub parameters: Option<serde_json::Value>,
    pub layer: Option<LayerInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelPart {
    pub name: String,
    pub path: String,
    pub license: String,
    /// The Kitfile key `type`.
    pub part_type: String,
    pub layer: Option<LayerInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Code {
    pub path: String,
    pub description: String,
    pub license: String,
    pub layer: Option<LayerInfo>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
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
    pub description: String,
    pub license: String,
    /// Same rules as [`Model::parameters`].
    pub parameters: Option<serde_json::Value>,
    pub layer: Option<LayerInfo>,
}

impl Dataset {
    /// Whether the data lives outside the ModelKit (`remotePath` set): no layer is packed for it.
    pub fn is_remote(&self) -> bool {
        !self.remote_path.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Docs {
    /// Always written to the config JSON, even when empty (Go has no `omitempty` on it).
    pub path: String,
    pub description: String,
    pub layer: Option<LayerInfo>,
}

/// A prompt file or folder. Kit packs it as a `code` layer annotated
/// `ml.kitops.modelkit.layer-subtype: prompt`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prompt {
    pub name: String,
    pub path: String,
    pub description: String,
    pub layer: Option<LayerInfo>,
}

/// An MCP server packaged as one MCP Bundle (`.mcpb`) file, stored verbatim as its own layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpServer {
    /// Required and unique among the Kitfile's MCP servers.
    pub name: String,
    /// Must end in `.mcpb`.
    pub path: String,
    pub description: String,
    pub layer: Option<LayerInfo>,
}
