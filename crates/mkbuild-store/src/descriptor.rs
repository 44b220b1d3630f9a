//! OCI content descriptors: what a manifest or index says about a blob.

use std::collections::BTreeMap;

use crate::Digest;

/// An OCI descriptor. Serialised as `mediaType`, `digest`, `size`, then `annotations` (left out when
/// empty, keys sorted); other descriptor fields that other tools write are ignored when reading.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Required by the specification; tolerated missing when reading (then empty, and left out again
    /// when written).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    /// The blob's digest.
    pub digest: Digest,
    /// The blob's size in bytes.
    pub size: u64,
    /// Annotations on the blob.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// A descriptor without annotations.
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest,
            size,
            annotations: BTreeMap::new(),
        }
    }
}
