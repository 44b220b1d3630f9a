//! The Kitfile entries that become layers, in kit's order, and their layer digests.

use std::fmt;

use crate::{Kitfile, KitfileError, LayerInfo};

/// What a layer holds; decides its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayerKind {
    /// The model's own path (`model.path`).
    Model,
    /// A part of the model (`model.parts`).
    ModelPart,
    /// A `code` entry.
    Code,
    /// A `datasets` entry.
    Dataset,
    /// A `docs` entry.
    Docs,
    /// A `prompts` entry: a `code` layer with the subtype annotation `prompt`.
    Prompt,
    /// An `mcpServers` entry: one `.mcpb` file, always a raw, uncompressed layer in kit.
    McpServer,
}

impl LayerKind {
    /// Every kind, in kit's layer order.
    pub const ALL: [LayerKind; 7] = [
        LayerKind::Model,
        LayerKind::ModelPart,
        LayerKind::Code,
        LayerKind::Dataset,
        LayerKind::Docs,
        LayerKind::Prompt,
        LayerKind::McpServer,
    ];

    /// The `<kind>` of `application/vnd.kitops.modelkit.<kind>.v1.tar`. Not unique: a prompt is
    /// a `code` layer (told apart by [`LayerKind::subtype`]).
    pub fn media_kind(&self) -> &'static str {
        match self {
            LayerKind::Model => "model",
            LayerKind::ModelPart => "modelpart",
            LayerKind::Code | LayerKind::Prompt => "code",
            LayerKind::Dataset => "dataset",
            LayerKind::Docs => "docs",
            LayerKind::McpServer => "mcpb",
        }
    }

    /// The value of the layer annotation `ml.kitops.modelkit.layer-subtype`, when kit writes one.
    pub fn subtype(&self) -> Option<&'static str> {
        match self {
            LayerKind::Prompt => Some("prompt"),
            LayerKind::Model
            | LayerKind::ModelPart
            | LayerKind::Code
            | LayerKind::Dataset
            | LayerKind::Docs
            | LayerKind::McpServer => None,
        }
    }

    /// A name unique to each kind, e.g. for a wire format: the media kind, except `prompt` and
    /// `mcpserver`. [`LayerKind::from_name`] reads it back.
    pub fn name(&self) -> &'static str {
        match self {
            LayerKind::Prompt => "prompt",
            LayerKind::McpServer => "mcpserver",
            LayerKind::Model
            | LayerKind::ModelPart
            | LayerKind::Code
            | LayerKind::Dataset
            | LayerKind::Docs => self.media_kind(),
        }
    }

    /// The kind whose [`LayerKind::name`] is `name`.
    pub fn from_name(name: &str) -> Option<LayerKind> {
        LayerKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for LayerKind {
    /// [`LayerKind::name`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One Kitfile entry that becomes one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerEntry {
    /// What the layer holds.
    pub kind: LayerKind,
    /// The path as written in the Kitfile (not cleaned).
    pub path: String,
    /// The entry's `name` (model, part, dataset, prompt, MCP server); empty for code and docs,
    /// which have none.
    pub name: String,
    /// A human name for messages, e.g. ``model `llama` `` or ``datasets[1] (`train`)``.
    pub label: String,
    /// The layer's digests when the Kitfile came from a config that records them (`v2`).
    pub info: Option<LayerInfo>,
}

/// ``model `name` `` or `model`.
pub(crate) fn model_label(name: &str) -> String {
    if name.is_empty() {
        "model".to_string()
    } else {
        format!("model `{name}`")
    }
}

/// ``section[i] (`name`)`` or `section[i]`.
pub(crate) fn item_label(section: &str, index: usize, name: &str) -> String {
    if name.is_empty() {
        format!("{section}[{index}]")
    } else {
        format!("{section}[{index}] (`{name}`)")
    }
}

impl Kitfile {
    /// The ModelKit the model's `path` names, when it names one (`registry/org/base:1`, kit's
    /// `IsModelKitReference`): that ModelKit's model is this one's, and no model layer is packed.
    pub fn model_reference(&self) -> Option<&str> {
        self.model
            .as_ref()
            .map(|m| m.path.as_str())
            .filter(|p| crate::reference::is_modelkit_reference(p))
    }

    /// The entries that become layers, in kit's order: the model (when it has a path that is not
    /// another ModelKit), its parts, code, datasets (local ones: a dataset with a `remotePath`
    /// makes no layer), docs, prompts, MCP servers, each in Kitfile order.
    pub fn layer_entries(&self) -> Vec<LayerEntry> {
        let mut out = Vec::new();
        let mut push = |kind, path: &str, name: &str, label, info: &Option<LayerInfo>| {
            out.push(LayerEntry {
                kind,
                path: path.to_string(),
                name: name.to_string(),
                label,
                info: info.clone(),
            })
        };
        let model_reference = self.model_reference().is_some();
        if let Some(model) = &self.model {
            if !model.path.is_empty() && !model_reference {
                push(
                    LayerKind::Model,
                    &model.path,
                    &model.name,
                    model_label(&model.name),
                    &model.layer,
                );
            }
            for (i, part) in model.parts.iter().enumerate() {
                push(
                    LayerKind::ModelPart,
                    &part.path,
                    &part.name,
                    item_label("model.parts", i, &part.name),
                    &part.layer,
                );
            }
        }
        for (i, code) in self.code.iter().enumerate() {
            push(
                LayerKind::Code,
                &code.path,
                "",
                item_label("code", i, ""),
                &code.layer,
            );
        }
        for (i, ds) in self.datasets.iter().enumerate() {
            if ds.is_remote() {
                continue;
            }
            push(
                LayerKind::Dataset,
                &ds.path,
                &ds.name,
                item_label("datasets", i, &ds.name),
                &ds.layer,
            );
        }
        for (i, docs) in self.docs.iter().enumerate() {
            push(
                LayerKind::Docs,
                &docs.path,
                "",
                item_label("docs", i, ""),
                &docs.layer,
            );
        }
        for (i, prompt) in self.prompts.iter().enumerate() {
            push(
                LayerKind::Prompt,
                &prompt.path,
                &prompt.name,
                item_label("prompts", i, &prompt.name),
                &prompt.layer,
            );
        }
        for (i, server) in self.mcp_servers.iter().enumerate() {
            push(
                LayerKind::McpServer,
                &server.path,
                &server.name,
                item_label("mcpServers", i, &server.name),
                &server.layer,
            );
        }
        out
    }

    /// The layer info slots, in [`Kitfile::layer_entries`] order.
    fn layer_slots(&mut self) -> Vec<&mut Option<LayerInfo>> {
        let mut slots = Vec::new();
        let model_reference = self.model_reference().is_some();
        if let Some(model) = &mut self.model {
            if !model.path.is_empty() && !model_reference {
                slots.push(&mut model.layer);
            }
            slots.extend(model.parts.iter_mut().map(|p| &mut p.layer));
        }
        slots.extend(self.code.iter_mut().map(|c| &mut c.layer));
        slots.extend(
            self.datasets
                .iter_mut()
                .filter(|d| !d.is_remote())
                .map(|d| &mut d.layer),
        );
        slots.extend(self.docs.iter_mut().map(|d| &mut d.layer));
        slots.extend(self.prompts.iter_mut().map(|p| &mut p.layer));
        slots.extend(self.mcp_servers.iter_mut().map(|s| &mut s.layer));
        slots
    }

    /// Records each layer's digests (format `v2` configs), one per entry of
    /// [`Kitfile::layer_entries`], in that order. Nothing changes when the count is wrong.
    pub fn set_layer_infos(&mut self, infos: Vec<LayerInfo>) -> Result<(), KitfileError> {
        let slots = self.layer_slots();
        if slots.len() != infos.len() {
            return Err(KitfileError::LayerCount {
                expected: slots.len(),
                got: infos.len(),
            });
        }
        for (slot, info) in slots.into_iter().zip(infos) {
            *slot = Some(info);
        }
        Ok(())
    }

    /// Removes every layer digest (as in a format `v1` config).
    pub fn clear_layer_infos(&mut self) {
        // Also clears a model without a path and remote datasets, which have no slot but may
        // carry stray digests.
        if let Some(model) = &mut self.model {
            model.layer = None;
        }
        for ds in &mut self.datasets {
            ds.layer = None;
        }
        for slot in self.layer_slots() {
            *slot = None;
        }
    }
}
