//! Everything that touches the YAML library (`yaml_serde`): reading a Kitfile with positioned,
//! friendly errors, and writing one back. Swapping the YAML library means rewriting this file only.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use crate::suggest::closest;
use crate::{
    Code, Dataset, Docs, Kitfile, KitfileError, McpServer, Model, ModelPart, Package, Prompt,
};

/// Parses Kitfile YAML; `file` names the input in messages.
pub(crate) fn parse(bytes: &[u8], file: &str) -> Result<Kitfile, KitfileError> {
    if let Some((line, column)) = flow_nesting_over(bytes, MAX_FLOW_DEPTH) {
        return Err(KitfileError::Yaml {
            file: file.to_string(),
            line,
            column,
            message: format!("`[` and `{{` are nested more than {MAX_FLOW_DEPTH} deep"),
        });
    }
    let doc: YamlKitfile = yaml_serde::from_slice(bytes).map_err(|e| convert_error(&e, file))?;
    Ok(doc.into())
}

/// Writes the Kitfile as YAML (without layer digests, which a Kitfile never holds).
pub(crate) fn write(kf: &Kitfile) -> Result<String, KitfileError> {
    yaml_serde::to_string(&OutKitfile::from(kf)).map_err(|e| KitfileError::YamlWrite(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Deep flow nesting

/// Well above yaml_serde's own recursion limit (128), which still applies; this one exists because
/// the YAML scanner spends time proportional to the flow depth on every token, so a document of
/// `[[[[...` takes seconds to minutes before that limit is reached.
const MAX_FLOW_DEPTH: usize = 256;

/// Where (1-based line, column) an over-estimate of the flow nesting depth first exceeds `limit`.
/// Every `[`/`{` counts; a `]`/`}` counts only outside quotes and comments, so quoted or commented
/// brackets can only make the estimate larger, never smaller.
fn flow_nesting_over(bytes: &[u8], limit: usize) -> Option<(usize, usize)> {
    #[derive(PartialEq)]
    enum Mode {
        Plain,
        Single,
        Double,
        Comment,
    }
    let mut mode = Mode::Plain;
    let mut depth = 0usize;
    let (mut line, mut line_start) = (1usize, 0usize);
    let mut prev = b'\n';
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'[' || b == b'{' {
            depth += 1;
            if depth > limit {
                let column = String::from_utf8_lossy(&bytes[line_start..i])
                    .chars()
                    .count()
                    + 1;
                return Some((line, column));
            }
        }
        match mode {
            Mode::Comment if b == b'\n' => mode = Mode::Plain,
            Mode::Single if b == b'\'' => {
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 1;
                } else {
                    mode = Mode::Plain;
                }
            }
            Mode::Double if b == b'\\' && bytes.get(i + 1) != Some(&b'\n') => i += 1,
            Mode::Double if b == b'"' => mode = Mode::Plain,
            Mode::Plain => {
                let token_start = matches!(
                    prev,
                    b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',' | b':'
                );
                match b {
                    b'#' if matches!(prev, b' ' | b'\t' | b'\n' | b'\r') => mode = Mode::Comment,
                    b'\'' if token_start => mode = Mode::Single,
                    b'"' if token_start => mode = Mode::Double,
                    b']' | b'}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            _ => {}
        }
        if b == b'\n' {
            line += 1;
            line_start = i + 1;
        }
        prev = b;
        i += 1;
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Errors

fn convert_error(e: &yaml_serde::Error, file: &str) -> KitfileError {
    let raw = e.to_string();
    match e.location() {
        Some(loc) => {
            let suffix = format!(" at line {} column {}", loc.line(), loc.column());
            let without = raw.replacen(&suffix, "", 1);
            KitfileError::Yaml {
                file: file.to_string(),
                line: loc.line(),
                column: loc.column(),
                message: friendly(&strip_position(&without)),
            }
        }
        None => KitfileError::YamlNoLocation {
            file: file.to_string(),
            message: friendly(&strip_position(&raw)),
        },
    }
}

/// Removes a trailing ` at position N` (how yaml_serde places errors at the very start).
fn strip_position(msg: &str) -> String {
    if let Some(i) = msg.rfind(" at position ") {
        let tail = &msg[i + " at position ".len()..];
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
            return msg[..i].to_string();
        }
    }
    msg.to_string()
}

/// Rewrites serde's wording into the Kitfile's terms: keys, not fields, with a suggestion.
fn friendly(msg: &str) -> String {
    if let Some(start) = msg.find("unknown field `") {
        let prefix = &msg[..start];
        let rest = &msg[start + "unknown field `".len()..];
        let (name, expected) = match rest.find("`, expected ") {
            Some(end) => (&rest[..end], &rest[end + "`, expected ".len()..]),
            None => match rest.find("`, there are no fields") {
                Some(end) => (&rest[..end], ""),
                None => (rest.trim_end_matches('`'), ""),
            },
        };
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let hint = match closest(name, &known) {
            Some(best) => format!(" (did you mean `{best}`?)"),
            None if known.is_empty() => String::new(),
            None => format!(
                "; valid keys here: {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        return format!("{prefix}unknown key `{name}`{hint}");
    }
    if let Some(start) = msg.find("duplicate field `") {
        return format!(
            "{}duplicate key `{}",
            &msg[..start],
            &msg[start + "duplicate field `".len()..]
        );
    }
    if msg.contains("EOF while parsing a value") {
        return format!(
            "the document is empty; a Kitfile starts with `manifestVersion: {}`",
            crate::MANIFEST_VERSION
        );
    }
    msg.to_string()
}

// ---------------------------------------------------------------------------------------------
// Reading

/// `null` (or `~`, or nothing) reads as the type's default, as Go's yaml leaves the zero value.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A list whose items may be `null` (read as empty strings).
fn text_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let items: Option<Vec<Option<String>>> = Deserialize::deserialize(d)?;
    Ok(items
        .unwrap_or_default()
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect())
}

/// Free-form `parameters`: read straight from the YAML events so that errors point at the
/// offending scalar. `null` is Go's nil (`None`).
fn parameters<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    let v = ParamSeed.deserialize(d)?;
    Ok((!v.is_null()).then_some(v))
}

/// Builds a JSON value from YAML, refusing what Go's `json.Marshal` refuses (NaN, infinities,
/// mappings with non-string keys) and duplicate keys.
#[derive(Clone, Copy)]
struct ParamSeed;

impl<'de> DeserializeSeed<'de> for ParamSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ParamVisitor)
    }
}

struct ParamVisitor;

impl<'de> Visitor<'de> for ParamVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a parameter value (null, boolean, number, string, list or mapping)")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    // Integers beyond 64 bits: Go's yaml falls back to float64, the nearest double.
    #[allow(clippy::cast_precision_loss)]
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        self.visit_f64(v as f64)
    }
    #[allow(clippy::cast_precision_loss)]
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        self.visit_f64(v as f64)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v).map(Value::Number).ok_or_else(|| {
            E::custom(format!(
                "parameters cannot hold `{v}`: JSON has no NaN or infinity"
            ))
        })
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ParamSeed)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate key `{key}` in parameters"
                )));
            }
            let value = map.next_value_seed(ParamSeed)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// A mapping key inside parameters: Go can only write string keys.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl KeyVisitor {
    fn refuse<E: de::Error>(what: impl fmt::Display) -> Result<String, E> {
        Err(E::custom(format!(
            "parameters keys must be strings, found {what}; quote the key to make it one"
        )))
    }
}

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_string<E>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Self::refuse(format_args!("the boolean `{v}`"))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Self::refuse(format_args!("the number `{v}`"))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Self::refuse(format_args!("the number `{v}`"))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Self::refuse(format_args!("the number `{v}`"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Self::refuse("a null key")
    }
    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        Self::refuse("a null key")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Self::refuse("a list")
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Self::refuse("a mapping")
    }
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "a Kitfile (a mapping with `manifestVersion`, `package`, `model`, ...)"
)]
struct YamlKitfile {
    #[serde(default, deserialize_with = "null_default")]
    manifest_version: String,
    #[serde(default, deserialize_with = "null_default")]
    package: YamlPackage,
    #[serde(default)]
    model: Option<YamlModel>,
    #[serde(default, deserialize_with = "null_default")]
    code: Vec<YamlCode>,
    #[serde(default, deserialize_with = "null_default")]
    datasets: Vec<YamlDataset>,
    #[serde(default, deserialize_with = "null_default")]
    docs: Vec<YamlDocs>,
    #[serde(default, deserialize_with = "null_default")]
    prompts: Vec<YamlPrompt>,
    #[serde(default, deserialize_with = "null_default")]
    mcp_servers: Vec<YamlMcpServer>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, expecting = "a `package` mapping")]
struct YamlPackage {
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    version: String,
    #[serde(default, deserialize_with = "null_default")]
    description: String,
    #[serde(default, deserialize_with = "null_default")]
    license: String,
    #[serde(default, deserialize_with = "text_list")]
    authors: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a `model` mapping")]
struct YamlModel {
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    path: String,
    #[serde(default, deserialize_with = "null_default")]
    license: String,
    #[serde(default, deserialize_with = "null_default")]
    framework: String,
    #[serde(default, deserialize_with = "null_default")]
    format: String,
    #[serde(default, deserialize_with = "null_default")]
    version: String,
    #[serde(default, deserialize_with = "null_default")]
    description: String,
    #[serde(default, deserialize_with = "null_default")]
    parts: Vec<YamlPart>,
    #[serde(default, deserialize_with = "parameters")]
    parameters: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a model part mapping")]
struct YamlPart {
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    path: String,
    #[serde(default, deserialize_with = "null_default")]
    license: String,
    #[serde(default, rename = "type", deserialize_with = "null_default")]
    part_type: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a `code` entry mapping")]
struct YamlCode {
    #[serde(default, deserialize_with = "null_default")]
    path: String,
    #[serde(default, deserialize_with = "null_default")]
    description: String,
    #[serde(default, deserialize_with = "null_default")]
    license: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a `datasets` entry mapping")]
struct YamlDataset {
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    path: String,
    #[serde(default, rename = "remotePath", deserialize_with = "null_default")]
    remote_path: String,
    #[serde(default, rename = "remoteHash", deserialize_with = "null_default")]
    remote_hash: String,
    #[serde(default, deserialize_with = "null_default")]
    description: String,
    #[serde(default, deserialize_with = "null_default")]
    license: String,
    #[serde(default, deserialize_with = "parameters")]
    parameters: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a `docs` entry mapping")]
struct YamlDocs {
    #[serde(default, deserialize_with = "null_default")]
    path: String,
    #[serde(default, deserialize_with = "null_default")]
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a `prompts` entry mapping")]
struct YamlPrompt {
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    path: String,
    #[serde(default, deserialize_with = "null_default")]
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "an `mcpServers` entry mapping")]
struct YamlMcpServer {
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    path: String,
    #[serde(default, deserialize_with = "null_default")]
    description: String,
}

impl From<YamlKitfile> for Kitfile {
    fn from(y: YamlKitfile) -> Self {
        Kitfile {
            manifest_version: y.manifest_version,
            package: Package {
                name: y.package.name,
                version: y.package.version,
                description: y.package.description,
                license: y.package.license,
                authors: y.package.authors,
            },
            model: y.model.map(|m| Model {
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
                        layer: None,
                    })
                    .collect(),
                parameters: m.parameters,
                layer: None,
            }),
            code: y
                .code
                .into_iter()
                .map(|c| Code {
                    path: c.path,
                    description: c.description,
                    license: c.license,
                    layer: None,
                })
                .collect(),
            datasets: y
                .datasets
                .into_iter()
                .map(|d| Dataset {
                    name: d.name,
                    path: d.path,
                    remote_path: d.remote_path,
                    remote_hash: d.remote_hash,
                    description: d.description,
                    license: d.license,
                    parameters: d.parameters,
                    layer: None,
                })
                .collect(),
            docs: y
                .docs
                .into_iter()
                .map(|d| Docs {
                    path: d.path,
                    description: d.description,
                    layer: None,
                })
                .collect(),
            prompts: y
                .prompts
                .into_iter()
                .map(|p| Prompt {
                    name: p.name,
                    path: p.path,
                    description: p.description,
                    layer: None,
                })
                .collect(),
            mcp_servers: y
                .mcp_servers
                .into_iter()
                .map(|m| McpServer {
                    name: m.name,
                    path: m.path,
                    description: m.description,
                    layer: None,
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing: borrowed views in Kitfile key order, empty values left out.

fn is_nil(v: &&Option<Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutKitfile<'a> {
    manifest_version: &'a str,
    #[serde(skip_serializing_if = "OutPackage::is_empty")]
    package: OutPackage<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<OutModel<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    code: Vec<OutCode<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    datasets: Vec<OutDataset<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    docs: Vec<OutDocs<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    prompts: Vec<OutNamed<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    mcp_servers: Vec<OutNamed<'a>>,
}

#[derive(Serialize)]
struct OutPackage<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    version: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    license: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    authors: &'a [String],
}

impl OutPackage<'_> {
    fn is_empty(&self) -> bool {
        [self.name, self.version, self.description, self.license]
            .iter()
            .all(|s| s.is_empty())
            && self.authors.is_empty()
    }
}

#[derive(Serialize)]
struct OutModel<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    path: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    license: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    framework: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    format: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    version: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    parts: Vec<OutPart<'a>>,
    #[serde(skip_serializing_if = "is_nil")]
    parameters: &'a Option<Value>,
}

#[derive(Serialize)]
struct OutPart<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    path: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    license: &'a str,
    #[serde(rename = "type", skip_serializing_if = "str::is_empty")]
    part_type: &'a str,
}

#[derive(Serialize)]
struct OutCode<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    path: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    license: &'a str,
}

#[derive(Serialize)]
struct OutDataset<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    path: &'a str,
    #[serde(rename = "remotePath", skip_serializing_if = "str::is_empty")]
    remote_path: &'a str,
    #[serde(rename = "remoteHash", skip_serializing_if = "str::is_empty")]
    remote_hash: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    license: &'a str,
    #[serde(skip_serializing_if = "is_nil")]
    parameters: &'a Option<Value>,
}

#[derive(Serialize)]
struct OutDocs<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
}

/// A `prompts` or `mcpServers` entry.
#[derive(Serialize)]
struct OutNamed<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    path: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
}

impl<'a> From<&'a Kitfile> for OutKitfile<'a> {
    fn from(kf: &'a Kitfile) -> Self {
        let p = &kf.package;
        OutKitfile {
            manifest_version: &kf.manifest_version,
            package: OutPackage {
                name: &p.name,
                version: &p.version,
                description: &p.description,
                license: &p.license,
                authors: &p.authors,
            },
            model: kf.model.as_ref().map(|m| OutModel {
                name: &m.name,
                path: &m.path,
                license: &m.license,
                framework: &m.framework,
                format: &m.format,
                version: &m.version,
                description: &m.description,
                parts: m
                    .parts
                    .iter()
                    .map(|x| OutPart {
                        name: &x.name,
                        path: &x.path,
                        license: &x.license,
                        part_type: &x.part_type,
                    })
                    .collect(),
                parameters: &m.parameters,
            }),
            code: kf
                .code
                .iter()
                .map(|x| OutCode {
                    path: &x.path,
                    description: &x.description,
                    license: &x.license,
                })
                .collect(),
            datasets: kf
                .datasets
                .iter()
                .map(|x| OutDataset {
                    name: &x.name,
                    path: &x.path,
                    remote_path: &x.remote_path,
                    remote_hash: &x.remote_hash,
                    description: &x.description,
                    license: &x.license,
                    parameters: &x.parameters,
                })
                .collect(),
            docs: kf
                .docs
                .iter()
                .map(|x| OutDocs {
                    path: &x.path,
                    description: &x.description,
                })
                .collect(),
            prompts: kf
                .prompts
                .iter()
                .map(|x| OutNamed {
                    name: &x.name,
                    path: &x.path,
                    description: &x.description,
                })
                .collect(),
            mcp_servers: kf
                .mcp_servers
                .iter()
                .map(|x| OutNamed {
                    name: &x.name,
                    path: &x.path,
                    description: &x.description,
                })
                .collect(),
        }
    }
}
