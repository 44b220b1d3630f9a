//! Kit's rules for a Kitfile beyond its shape.

use std::collections::{HashMap, HashSet};

use crate::layers::{item_label, LayerKind};
use crate::reference::{remote_kind, RemoteKind};
use crate::{Kitfile, KitfileError};
use mkbuild_path::{escapes, is_absolute};

/// The only manifest version kit knows.
pub const MANIFEST_VERSION: &str = "1.0.0";

/// Kit's limit on a model part's `type`.
const MAX_PART_TYPE_LEN: usize = 64;

/// How deep `parameters` may nest. The config JSON that carries them must read back (serde_json
/// stops at 128 levels, and the config adds its own), so a Kitfile that packs always unpacks;
/// real parameters nest a few levels.
pub const MAX_PARAMETER_DEPTH: usize = 100;

/// The nesting depth of a JSON value: 0 for a scalar, 1 for a flat object or array.
fn depth(value: &serde_json::Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((value, level)) = stack.pop() {
        let children: Vec<&serde_json::Value> = match value {
            serde_json::Value::Array(items) => items.iter().collect(),
            serde_json::Value::Object(map) => map.values().collect(),
            _ => continue,
        };
        deepest = deepest.max(level + 1);
        stack.extend(children.into_iter().map(|child| (child, level + 1)));
    }
    deepest
}

fn invalid(entry: impl Into<String>, problem: impl Into<String>) -> KitfileError {
    KitfileError::Invalid {
        file: None,
        entry: entry.into(),
        problem: problem.into(),
    }
}

/// `^[\w][\w.-]*$` with Go's ASCII `\w`.
fn is_valid_part_type(t: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut bytes = t.bytes();
    match bytes.next() {
        Some(first) if word(first) => bytes.all(|b| word(b) || b == b'.' || b == b'-'),
        _ => false,
    }
}

/// The checks every local path gets: no control character, relative, inside the context.
fn check_local_path(label: &str, path: &str) -> Result<(), KitfileError> {
    // Shown escaped: a raw control character must not reach the terminal. Unpack refuses
    // such names too, so a ModelKit holding one could never be unpacked.
    if path.chars().any(char::is_control) {
        return Err(invalid(
            label,
            format!(
                "path `{}` contains a control character; rename the file",
                path.escape_debug()
            ),
        ));
    }
    // kit refuses URLs where it packs local files (`GetPathType`); say so, with the path as
    // written, rather than look for a folder named `https:`.
    if let Some((scheme, _)) = path.split_once("://") {
        if !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        {
            return Err(invalid(
                label,
                format!(
                    "path `{path}` is a URL; Kitfile paths name files in the context folder (for data kept elsewhere, a dataset's `remotePath` takes an `s3://` URL or a ModelKit reference)"
                ),
            ));
        }
    }
    if is_absolute(path) {
        return Err(invalid(
            label,
            format!("path `{path}` is absolute; paths are relative to the context folder"),
        ));
    }
    if escapes(path) {
        return Err(invalid(
            label,
            format!("path `{path}` points outside the context folder"),
        ));
    }
    Ok(())
}

/// Whether the cleaned path `inner` is `outer` or lies under it (`outer` `.` holds everything).
fn is_within(outer: &str, inner: &str) -> bool {
    outer == "."
        || inner == outer
        || inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl Kitfile {
    /// Checks kit's rules: the manifest version, relative paths that stay inside the context,
    /// no two layers with the same cleaned path (prompts excepted, as in kit), well-formed model
    /// part types, remote datasets, named `.mcpb` MCP servers. Returns the first problem found,
    /// naming the entry at fault.
    pub fn validate(&self) -> Result<(), KitfileError> {
        match self.manifest_version.as_str() {
            MANIFEST_VERSION => {}
            "" => {
                return Err(invalid(
                    "manifestVersion",
                    format!("missing; add `manifestVersion: {MANIFEST_VERSION}`"),
                ))
            }
            other => {
                return Err(invalid(
                    "manifestVersion",
                    format!("unsupported version `{other}`; expected `{MANIFEST_VERSION}`"),
                ))
            }
        }

        let parameters = self
            .model
            .iter()
            .map(|m| ("model.parameters".to_owned(), &m.parameters))
            .chain(self.datasets.iter().enumerate().map(|(i, d)| {
                (
                    format!("{}.parameters", item_label("datasets", i, &d.name)),
                    &d.parameters,
                )
            }));
        for (label, value) in parameters {
            if value
                .as_ref()
                .is_some_and(|v| depth(v) > MAX_PARAMETER_DEPTH)
            {
                return Err(invalid(
                    label,
                    format!("nests more than {MAX_PARAMETER_DEPTH} levels deep; flatten it"),
                ));
            }
        }

        if let Some(model) = &self.model {
            for (i, part) in model.parts.iter().enumerate() {
                let t = &part.part_type;
                if t.is_empty() {
                    continue;
                }
                let label = item_label("model.parts", i, &part.name);
                if t.chars().count() > MAX_PART_TYPE_LEN {
                    return Err(invalid(
                        label,
                        format!("type `{t}` is longer than {MAX_PART_TYPE_LEN} characters"),
                    ));
                }
                if !is_valid_part_type(t) {
                    return Err(invalid(
                        label,
                        format!(
                            "type `{t}` is not valid; use letters, digits and `_`, then also `.` or `-`"
                        ),
                    ));
                }
            }
        }

        // Remote datasets make no layer; their `path` (where the data goes on unpack) is
        // optional but, when given, a local path like any other.
        // Cleaned paths of datasets that come from another ModelKit, with their labels.
        let mut remote_modelkits: Vec<(String, String)> = Vec::new();
        // Cleaned path -> label of the first entry using it.
        let mut seen: HashMap<String, String> = HashMap::new();
        for (i, ds) in self.datasets.iter().enumerate() {
            let label = item_label("datasets", i, &ds.name);
            if !ds.is_remote() {
                if !ds.remote_hash.is_empty() {
                    return Err(invalid(
                        label,
                        "`remoteHash` is set but `remotePath` is not; remove `remoteHash` or add \
                         the `remotePath` it belongs to",
                    ));
                }
                continue;
            }
            let remote = &ds.remote_path;
            if remote.chars().any(char::is_control) {
                return Err(invalid(
                    label,
                    format!(
                        "remotePath `{}` contains a control character",
                        remote.escape_debug()
                    ),
                ));
            }
            let kind =
                remote_kind(remote).map_err(|why| invalid(&label, format!("remotePath {why}")))?;
            if kind == RemoteKind::S3 && ds.remote_hash.is_empty() {
                return Err(invalid(
                    label,
                    format!(
                        "remotePath `{remote}` is an S3 URL, which needs `remoteHash` (the \
                         object's expected hash); add it"
                    ),
                ));
            }
            // A ModelKit reference carries its own digest: kit ignores `remoteHash` (with a
            // warning), so it is accepted here.
            if !ds.path.is_empty() {
                check_local_path(&label, &ds.path)?;
                let cleaned = mkbuild_path::clean(&ds.path);
                if let Some(first) = seen.get(&cleaned) {
                    return Err(invalid(
                        label,
                        format!(
                            "path `{}` is also the path of {first}; each path can be used once",
                            ds.path
                        ),
                    ));
                }
                seen.insert(cleaned, label.clone());
            }
            if kind == RemoteKind::ModelKit {
                let cleaned = if ds.path.is_empty() {
                    ".".to_string()
                } else {
                    mkbuild_path::clean(&ds.path)
                };
                remote_modelkits.push((cleaned, label));
            }
        }

        let mut mcp_names: HashSet<&str> = HashSet::new();
        for (i, server) in self.mcp_servers.iter().enumerate() {
            let label = item_label("mcpServers", i, &server.name);
            if server.name.is_empty() {
                return Err(invalid(
                    label,
                    "`name` is missing; every MCP server needs a unique name",
                ));
            }
            if !mcp_names.insert(&server.name) {
                return Err(invalid(
                    label,
                    format!(
                        "name `{}` is used by an earlier MCP server; names must be unique",
                        server.name
                    ),
                ));
            }
            if !server.path.is_empty() && !server.path.ends_with(".mcpb") {
                return Err(invalid(
                    label,
                    format!(
                        "path `{}` is not an MCP Bundle; point it at a single `.mcpb` file",
                        server.path.escape_debug()
                    ),
                ));
            }
        }

        for entry in self.layer_entries() {
            let path = &entry.path;
            if path.is_empty() {
                // A model without a path is not a layer entry; every other entry needs one.
                debug_assert_ne!(entry.kind, LayerKind::Model);
                return Err(invalid(&entry.label, "`path` is missing or empty"));
            }
            check_local_path(&entry.label, path)?;
            // Kit leaves prompts out of both the duplicate and the remote dataset checks.
            if entry.kind == LayerKind::Prompt {
                continue;
            }
            let cleaned = mkbuild_path::clean(path);
            if let Some((outer, remote)) = remote_modelkits
                .iter()
                .find(|(outer, _)| is_within(outer, &cleaned))
            {
                let problem = if *outer == cleaned {
                    format!(
                        "path `{path}` is also the path of {remote}, which comes from another \
                         ModelKit; each path can be packed once"
                    )
                } else {
                    format!(
                        "path `{path}` lies inside `{outer}`, the path of {remote}, which comes \
                         from another ModelKit; move it out"
                    )
                };
                return Err(invalid(&entry.label, problem));
            }
            if let Some(first) = seen.get(&cleaned) {
                return Err(invalid(
                    &entry.label,
                    format!(
                        "path `{path}` is also the path of {first}; each path can be packed once"
                    ),
                ));
            }
            seen.insert(cleaned, entry.label);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::is_valid_part_type;

    #[test]
    fn part_types() {
        for t in ["lora", "a", "_x", "9", "weights.v2", "a-b.c_d", "A.-"] {
            assert!(is_valid_part_type(t), "{t}");
        }
        for t in ["", "-a", ".a", "a b", "a/b", "é", "a+b", "a:b"] {
            assert!(!is_valid_part_type(t), "{t}");
        }
    }
}
