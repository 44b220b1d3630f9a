//! The ModelKit config object: the Kitfile as kit's Go structs marshal it, and back.

use serde::Deserialize;
use serde_json::Value;

use crate::go_json::{write_str, write_value, ObjectWriter};
use crate::{
    Code, Dataset, Docs, Kitfile, KitfileError, LayerInfo, McpServer, Model, ModelPart, Package,
    Prompt,
};

/// Go's `any` with `omitempty`: left out only when nil.
fn write_parameters(o: &mut ObjectWriter<'_>, parameters: &Option<Value>) {
    match parameters {
        None | Some(Value::Null) => {}
        Some(v) => write_value(o.key("parameters"), v),
    }
}

/// The inlined `*LayerInfo`: nothing when nil, else each field with `omitempty`.
fn write_layer(o: &mut ObjectWriter<'_>, layer: &Option<LayerInfo>) {
    if let Some(l) = layer {
        o.str_omitempty("digest", &l.digest);
        o.str_omitempty("diffId", &l.diff_id);
    }
}

fn write_list<T>(
    o: &mut ObjectWriter<'_>,
    key: &str,
    items: &[T],
    write: impl Fn(&mut Vec<u8>, &T),
) {
    if items.is_empty() {
        return;
    }
    let out = o.key(key);
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

fn write_package(out: &mut Vec<u8>, p: &Package) {
    let mut o = ObjectWriter::begin(out);
    o.str_omitempty("name", &p.name);
    o.str_omitempty("version", &p.version);
    o.str_omitempty("description", &p.description);
    o.str_omitempty("license", &p.license);
    write_list(&mut o, "authors", &p.authors, |out, s| write_str(out, s));
    o.end();
}

fn write_part(out: &mut Vec<u8>, p: &ModelPart) {
    let mut o = ObjectWriter::begin(out);
    o.str_omitempty("name", &p.name);
    o.str_omitempty("path", &p.path);
    o.str_omitempty("license", &p.license);
    o.str_omitempty("type", &p.part_type);
    write_layer(&mut o, &p.layer);
    o.end();
}

fn write_model(out: &mut Vec<u8>, m: &Model) {
    let mut o = ObjectWriter::begin(out);
    o.str_omitempty("name", &m.name);
    o.str_omitempty("path", &m.path);
    o.str_omitempty("license", &m.license);
    o.str_omitempty("framework", &m.framework);
    o.str_omitempty("format", &m.format);
    o.str_omitempty("version", &m.version);
    o.str_omitempty("description", &m.description);
    write_list(&mut o, "parts", &m.parts, write_part);
    write_parameters(&mut o, &m.parameters);
    write_layer(&mut o, &m.layer);
    o.end();
}

fn write_code(out: &mut Vec<u8>, c: &Code) {
    let mut o = ObjectWriter::begin(out);
    o.str_omitempty("path", &c.path);
    o.str_omitempty("description", &c.description);
    o.str_omitempty("license", &c.license);
    write_layer(&mut o, &c.layer);
    o.end();
}

fn write_dataset(out: &mut Vec<u8>, d: &Dataset) {
    let mut o = ObjectWriter::begin(out);
    o.str_omitempty("name", &d.name);
    o.str_omitempty("path", &d.path);
    o.str_omitempty("remotePath", &d.remote_path);
    o.str_omitempty("remoteHash", &d.remote_hash);
    o.str_omitempty("description", &d.description);
    o.str_omitempty("license", &d.license);
    write_parameters(&mut o, &d.parameters);
    write_layer(&mut o, &d.layer);
    o.end();
}

fn write_docs(out: &mut Vec<u8>, d: &Docs) {
    let mut o = ObjectWriter::begin(out);
    o.str("path", &d.path);
    o.str_omitempty("description", &d.description);
    write_layer(&mut o, &d.layer);
    o.end();
}

/// Kit's `Prompt` and `MCPServer` have the same fields.
fn write_named(
    out: &mut Vec<u8>,
    name: &str,
    path: &str,
    description: &str,
    layer: &Option<LayerInfo>,
) {
    let mut o = ObjectWriter::begin(out);
    o.str_omitempty("name", name);
    o.str_omitempty("path", path);
    o.str_omitempty("description", description);
    write_layer(&mut o, layer);
    o.end();
}

fn write_prompt(out: &mut Vec<u8>, p: &Prompt) {
    write_named(out, &p.name, &p.path, &p.description, &p.layer);
}

fn write_mcp_server(out: &mut Vec<u8>, m: &McpServer) {
    write_named(out, &m.name, &m.path, &m.description, &m.layer);
}

impl Kitfile {
    /// The config object bytes exactly as kit's `json.Marshal(kitfile)` writes them: compact,
    /// keys in Go struct order, `omitempty` rules, HTML-safe escapes, parameter maps sorted.
    /// Layer digests are included where set (format `v2`).
    pub fn to_config_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        let mut o = ObjectWriter::begin(&mut out);
        o.str("manifestVersion", &self.manifest_version);
        // A struct value is never "empty" to Go's omitempty: `package` is always written.
        write_package(o.key("package"), &self.package);
        if let Some(model) = &self.model {
            write_model(o.key("model"), model);
        }
        write_list(&mut o, "code", &self.code, write_code);
        write_list(&mut o, "datasets", &self.datasets, write_dataset);
        write_list(&mut o, "docs", &self.docs, write_docs);
        write_list(&mut o, "prompts", &self.prompts, write_prompt);
        write_list(&mut o, "mcpServers", &self.mcp_servers, write_mcp_server);
        o.end();
        out
    }

    /// Reads a config object written by kit (any version) or by [`Kitfile::to_config_json`].
    /// Unknown keys are ignored (newer kit adds sections); the result is not validated. Reading
    /// then writing gives the same bytes for every config kit writes.
    pub fn from_config_json(bytes: &[u8]) -> Result<Kitfile, KitfileError> {
        // serde would also read a struct from a JSON array (fields by position); Go would not.
        if let Some(first) = bytes.iter().position(|b| !b.is_ascii_whitespace()) {
            if bytes[first] != b'{' {
                let before = &bytes[..first];
                let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
                let column = first
                    - before
                        .iter()
                        .rposition(|&b| b == b'\n')
                        .map_or(0, |i| i + 1)
                    + 1;
                return Err(KitfileError::ConfigJson {
                    line,
                    column,
                    message: "expected a JSON object".to_string(),
                });
            }
        }
        let c: ConfigKitfile =
            serde_json::from_slice(bytes).map_err(|e| KitfileError::ConfigJson {
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            })?;
        Ok(c.into())
    }
}

// Lenient mirrors of kit's structs for reading: every field optional, nulls accepted.

fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn layer(digest: String, diff_id: String) -> Option<LayerInfo> {
    if digest.is_empty() && diff_id.is_empty() {
        None
    } else {
        Some(LayerInfo { digest, diff_id })
    }
}

fn parameters(v: Value) -> Option<Value> {
    (!v.is_null()).then_some(v)
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ConfigKitfile {
    #[serde(deserialize_with = "null_default")]
    manifest_version: String,
    #[serde(deserialize_with = "null_default")]
    package: ConfigPackage,
    model: Option<ConfigModel>,
    #[serde(deserialize_with = "null_default")]
    code: Vec<ConfigCode>,
    #[serde(deserialize_with = "null_default")]
    datasets: Vec<ConfigDataset>,
    #[serde(deserialize_with = "null_default")]
    docs: Vec<ConfigDocs>,
    #[serde(deserialize_with = "null_default")]
    prompts: Vec<ConfigNamed>,
    #[serde(deserialize_with = "null_default")]
    mcp_servers: Vec<ConfigNamed>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfigPackage {
    #[serde(deserialize_with = "null_default")]
    name: String,
    #[serde(deserialize_with = "null_default")]
    version: String,
    #[serde(deserialize_with = "null_default")]
    description: String,
    #[serde(deserialize_with = "null_default")]
    license: String,
    #[serde(deserialize_with = "null_default")]
    authors: Vec<Option<String>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ConfigModel {
    #[serde(deserialize_with = "null_default")]
    name: String,
    #[serde(deserialize_with = "null_default")]
    path: String,
    #[serde(deserialize_with = "null_default")]
    license: String,
    #[serde(deserialize_with = "null_default")]
    framework: String,
    #[serde(deserialize_with = "null_default")]
    format: String,
    #[serde(deserialize_with = "null_default")]
    version: String,
    #[serde(deserialize_with = "null_default")]
    description: String,
    #[serde(deserialize_with = "null_default")]
    parts: Vec<ConfigPart>,
    parameters: Value,
    #[serde(deserialize_with = "null_default")]
    digest: String,
    #[serde(deserialize_with = "null_default")]
    diff_id: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ConfigPart {
    #[serde(deserialize_with = "null_default")]
    name: String,
    #[serde(deserialize_with = "null_default")]
    path: String,
    #[serde(deserialize_with = "null_default")]
    license: String,
    #[serde(rename = "type", deserialize_with = "null_default")]
    part_type: String,
    #[serde(deserialize_with = "null_default")]
    digest: String,
    #[serde(deserialize_with = "null_default")]
    diff_id: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ConfigCode {
    #[serde(deserialize_with = "null_default")]
    path: String,
    #[serde(deserialize_with = "null_default")]
    description: String,
    #[serde(deserialize_with = "null_default")]
    license: String,
    #[serde(deserialize_with = "null_default")]
    digest: String,
    #[serde(deserialize_with = "null_default")]
    diff_id: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ConfigDataset {
    #[serde(deserialize_with = "null_default")]
    name: String,
    #[serde(deserialize_with = "null_default")]
    path: String,
    #[serde(deserialize_with = "null_default")]
    remote_path: String,
    #[serde(deserialize_with = "null_default")]
    remote_hash: String,
    #[serde(deserialize_with = "null_default")]
    description: String,
    #[serde(deserialize_with = "null_default")]
    license: String,
    parameters: Value,
    #[serde(deserialize_with = "null_default")]
    digest: String,
    #[serde(deserialize_with = "null_default")]
    diff_id: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ConfigDocs {
    #[serde(deserialize_with = "null_default")]
    path: String,
    #[serde(deserialize_with = "null_default")]
    description: String,
    #[serde(deserialize_with = "null_default")]
    digest: String,
    #[serde(deserialize_with = "null_default")]
    diff_id: String,
}

/// A `prompts` or `mcpServers` entry.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ConfigNamed {
    #[serde(deserialize_with = "null_default")]
    name: String,
    #[serde(deserialize_with = "null_default")]
    path: String,
    #[serde(deserialize_with = "null_default")]
    description: String,
    #[serde(deserialize_with = "null_default")]
    digest: String,
    #[serde(deserialize_with = "null_default")]
    diff_id: String,
}

impl From<ConfigKitfile> for Kitfile {
    fn from(c: ConfigKitfile) -> Self {
        Kitfile {
            manifest_version: c.manifest_version,
            package: Package {
                name: c.package.name,
                version: c.package.version,
                description: c.package.description,
                license: c.package.license,
                authors: c
                    .package
                    .authors
                    .into_iter()
                    .map(Option::unwrap_or_default)
                    .collect(),
            },
            model: c.model.map(|m| Model {
                name: m.name,
                path: m.path,
                license: m.license,
                framework: m.framework,
                format: m.format,
                version: m.version,
                description: m.description,
                parts: m
                    .parts
                    .into_iter()
                    .map(|p| ModelPart {
                        name: p.name,
                        path: p.path,
                        license: p.license,
                        part_type: p.part_type,
                        layer: layer(p.digest, p.diff_id),
                    })
                    .collect(),
                parameters: parameters(m.parameters),
                layer: layer(m.digest, m.diff_id),
            }),
            code: c
                .code
                .into_iter()
                .map(|x| Code {
                    path: x.path,
                    description: x.description,
                    license: x.license,
                    layer: layer(x.digest, x.diff_id),
                })
                .collect(),
            datasets: c
                .datasets
                .into_iter()
                .map(|x| Dataset {
                    name: x.name,
                    path: x.path,
                    remote_path: x.remote_path,
                    remote_hash: x.remote_hash,
                    description: x.description,
                    license: x.license,
                    parameters: parameters(x.parameters),
                    layer: layer(x.digest, x.diff_id),
                })
                .collect(),
            docs: c
                .docs
                .into_iter()
                .map(|x| Docs {
                    path: x.path,
                    description: x.description,
                    layer: layer(x.digest, x.diff_id),
                })
                .collect(),
            prompts: c
                .prompts
                .into_iter()
                .map(|x| Prompt {
                    name: x.name,
                    path: x.path,
                    description: x.description,
                    layer: layer(x.digest, x.diff_id),
                })
                .collect(),
            mcp_servers: c
                .mcp_servers
                .into_iter()
                .map(|x| McpServer {
                    name: x.name,
                    path: x.path,
                    description: x.description,
                    layer: layer(x.digest, x.diff_id),
                })
                .collect(),
        }
    }
}
