//! The JSON that structured values cross the plugin ABI as; host and plugin share these
//! functions, so both sides agree byte for byte. `docs/PLUGINS.md` shows each shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use mkbuild_format::{
    Digest, EntryHeader, EntryKind, LayerEntry, LayerInfo, LayerKind, PackedLayer,
};

/// A tar header: `{"name", "kind": "file"|"dir", "mode", "uid", "gid", "size", "mtime",
/// "uname", "gname"}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireHeader {
    name: String,
    kind: WireKind,
    mode: u32,
    uid: u64,
    gid: u64,
    size: u64,
    mtime: i64,
    uname: String,
    gname: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum WireKind {
    File,
    Dir,
}

/// A packed layer: the Kitfile entry it came from and its descriptor facts.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireLayer {
    /// `model`, `modelpart`, `code`, `dataset`, `docs`, `prompt` or `mcpserver`.
    kind: String,
    path: String,
    name: String,
    label: String,
    info: Option<WireInfo>,
    media_type: String,
    digest: Digest,
    diff_id: Digest,
    size: u64,
    /// Left out when empty, so that plugins built before it was added read what they always did.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireInfo {
    digest: String,
    diff_id: String,
}

fn to_json(value: &impl Serialize) -> Vec<u8> {
    // Plain structs of strings and integers always serialize.
    serde_json::to_vec(value).unwrap_or_default()
}

/// The JSON of a tar header.
pub fn header_to_json(header: &EntryHeader) -> Vec<u8> {
    to_json(&WireHeader {
        name: header.name.clone(),
        kind: match header.kind {
            EntryKind::File => WireKind::File,
            EntryKind::Dir => WireKind::Dir,
        },
        mode: header.mode,
        uid: header.uid,
        gid: header.gid,
        size: header.size,
        mtime: header.mtime,
        uname: header.uname.clone(),
        gname: header.gname.clone(),
    })
}

/// A tar header from its JSON; the error says what is wrong with it.
pub fn header_from_json(bytes: &[u8]) -> Result<EntryHeader, String> {
    let w: WireHeader = serde_json::from_slice(bytes).map_err(|e| format!("header JSON: {e}"))?;
    Ok(EntryHeader {
        name: w.name,
        kind: match w.kind {
            WireKind::File => EntryKind::File,
            WireKind::Dir => EntryKind::Dir,
        },
        mode: w.mode,
        uid: w.uid,
        gid: w.gid,
        size: w.size,
        mtime: w.mtime,
        uname: w.uname,
        gname: w.gname,
    })
}

/// The JSON of the packed layers, in manifest order.
pub fn layers_to_json(layers: &[PackedLayer]) -> Vec<u8> {
    let wire: Vec<WireLayer> = layers
        .iter()
        .map(|l| WireLayer {
            kind: l.entry.kind.name().to_owned(),
            path: l.entry.path.clone(),
            name: l.entry.name.clone(),
            label: l.entry.label.clone(),
            info: l.entry.info.as_ref().map(|i| WireInfo {
                digest: i.digest.clone(),
                diff_id: i.diff_id.clone(),
            }),
            media_type: l.media_type.clone(),
            digest: l.digest.clone(),
            diff_id: l.diff_id.clone(),
            size: l.size,
            annotations: l.annotations.clone(),
        })
        .collect();
    to_json(&wire)
}

/// Packed layers from their JSON; digests are validated.
pub fn layers_from_json(bytes: &[u8]) -> Result<Vec<PackedLayer>, String> {
    let wire: Vec<WireLayer> =
        serde_json::from_slice(bytes).map_err(|e| format!("layers JSON: {e}"))?;
    wire.into_iter()
        .map(|w| {
            Ok(PackedLayer {
                entry: LayerEntry {
                    kind: layer_kind(&w.kind)?,
                    path: w.path,
                    name: w.name,
                    label: w.label,
                    info: w.info.map(|i| LayerInfo {
                        digest: i.digest,
                        diff_id: i.diff_id,
                    }),
                },
                media_type: w.media_type,
                digest: w.digest,
                diff_id: w.diff_id,
                size: w.size,
                annotations: w.annotations,
            })
        })
        .collect()
}

fn layer_kind(kind: &str) -> Result<LayerKind, String> {
    LayerKind::from_name(kind).ok_or_else(|| format!("layers JSON: unknown layer kind `{kind}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_with_documented_json() {
        let h = EntryHeader {
            name: "models/a".into(),
            kind: EntryKind::Dir,
            mode: 0o755,
            uid: 1,
            gid: 2,
            size: 0,
            mtime: -3,
            uname: "u".into(),
            gname: String::new(),
        };
        let json = header_to_json(&h);
        assert_eq!(
            String::from_utf8(json.clone()).expect("UTF-8"),
            r#"{"name":"models/a","kind":"dir","mode":493,"uid":1,"gid":2,"size":0,"mtime":-3,"uname":"u","gname":""}"#
        );
        assert_eq!(header_from_json(&json).expect("parses"), h);
    }

    #[test]
    fn a_layer_with_a_malformed_digest_is_refused() {
        let json = br#"[{"kind":"model","path":"m","name":"","label":"model","info":null,"mediaType":"m","digest":"sha256:aa","diffId":"sha256:aa","size":1}]"#;
        let err = layers_from_json(json).err().unwrap_or_default();
        assert!(err.contains("invalid digest `sha256:aa`"), "{err}");
    }

    #[test]
    fn layers_round_trip() {
        let layers = vec![PackedLayer {
            entry: LayerEntry {
                kind: LayerKind::ModelPart,
                path: "./p".into(),
                name: "p".into(),
                label: "part".into(),
                info: None,
            },
            media_type: "m".into(),
            digest: Digest::of(b"a"),
            diff_id: Digest::of(b"b"),
            size: 9,
            annotations: BTreeMap::new(),
        }];
        let json = layers_to_json(&layers);
        assert!(String::from_utf8_lossy(&json).contains(r#""kind":"modelpart""#));
        assert_eq!(layers_from_json(&json).expect("parses"), layers);
    }
}
