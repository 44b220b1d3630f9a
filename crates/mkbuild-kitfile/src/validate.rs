//! Kit's rules for a Kitfile beyond its shape.

use std::collections::HashMap;

use crate::layers::{item_label, LayerKind};
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

impl Kitfile {
    /// Checks kit's rules: the manifest version, relative paths that stay inside the context,
    /// no two layers with the same cleaned path, well-formed model part types. Returns the first
    /// problem found, naming the entry at fault.
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

        // Cleaned path -> label of the first entry using it.
        let mut seen: HashMap<String, String> = HashMap::new();
        for entry in self.layer_entries() {
            let path = &entry.path;
            if path.is_empty() {
                // A model without a path is not a layer entry; every other entry needs one.
                debug_assert_ne!(entry.kind, LayerKind::Model);
                return Err(invalid(&entry.label, "`path` is missing or empty"));
            }
            // Shown escaped: a raw control character must not reach the terminal. Unpack refuses
            // such names too, so a ModelKit holding one could never be unpacked.
            if path.chars().any(char::is_control) {
                return Err(invalid(
                    &entry.label,
                    format!(
                        "path `{}` contains a control character; rename the file",
                        path.escape_debug()
                    ),
                ));
            }
            if is_absolute(path) {
                return Err(invalid(
                    &entry.label,
                    format!("path `{path}` is absolute; paths are relative to the context folder"),
                ));
            }
            if escapes(path) {
                return Err(invalid(
                    &entry.label,
                    format!("path `{path}` points outside the context folder"),
                ));
            }
            let cleaned = mkbuild_path::clean(path);
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
