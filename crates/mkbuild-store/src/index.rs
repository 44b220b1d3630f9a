//! `index.json`: the OCI image index at the root of the layout, where tags live.

use std::collections::BTreeMap;
use std::path::Path;

use crate::media_type::{
    ANNOTATION_PARTIAL, ANNOTATION_REFERRER_OF, ANNOTATION_REF_NAME, OCI_INDEX,
};
use crate::{Descriptor, Digest, StoreError};

/// `index.json` as read from disk. Reading tolerates what other tools write (a missing `mediaType`,
/// fields this crate does not know); writing is deterministic and keeps those unknown fields, after
/// the known ones, in sorted order.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImageIndex {
    #[serde(default = "schema_version_2")]
    schema_version: u32,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    pub(crate) manifests: Vec<IndexEntry>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
    #[serde(flatten)]
    unknown: BTreeMap<String, serde_json::Value>,
}

/// One entry of `manifests[]`: a descriptor, plus whatever else another tool put there (`platform`,
/// `artifactType`, ...), kept so that re-tagging never loses it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IndexEntry {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    media_type: String,
    digest: Digest,
    size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
    #[serde(flatten)]
    unknown: BTreeMap<String, serde_json::Value>,
}

/// Other tools always write `schemaVersion`; a hand-written index may not.
fn schema_version_2() -> u32 {
    2
}

impl IndexEntry {
    pub(crate) fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.size,
            annotations: self.annotations.clone(),
        }
    }

    pub(crate) fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The value of the annotation `key`.
    pub(crate) fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }

    /// Whether the entry lists a ModelKit (not a referrer of one).
    pub(crate) fn is_modelkit(&self) -> bool {
        !self.annotations.contains_key(ANNOTATION_REFERRER_OF)
    }

    /// The `org.opencontainers.image.ref.name` annotation.
    pub(crate) fn ref_name(&self) -> Option<&str> {
        self.annotations
            .get(ANNOTATION_REF_NAME)
            .map(String::as_str)
    }
}

impl ImageIndex {
    pub(crate) fn empty() -> ImageIndex {
        ImageIndex {
            schema_version: 2,
            media_type: Some(OCI_INDEX.to_owned()),
            manifests: Vec::new(),
            annotations: BTreeMap::new(),
            unknown: BTreeMap::new(),
        }
    }

    /// Parses `index.json`; `path` is only for the error message.
    pub(crate) fn from_json(bytes: &[u8], path: &Path) -> Result<ImageIndex, StoreError> {
        let invalid = |reason: String| StoreError::InvalidLayoutFile {
            path: path.to_owned(),
            reason,
        };
        let index: ImageIndex =
            serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        if index.schema_version != 2 {
            return Err(invalid(format!(
                "`schemaVersion` is {}, not 2",
                index.schema_version
            )));
        }
        Ok(index)
    }

    /// Compact JSON: `schemaVersion`, `mediaType`, `manifests`, `annotations`, then unknown fields.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let mut index = self.clone();
        index.media_type = Some(OCI_INDEX.to_owned());
        // Serialising strings, numbers, string maps and JSON values into a Vec cannot fail.
        serde_json::to_vec(&index).unwrap_or_default()
    }

    /// The entry that `ref_name` names; the last one if another tool wrote several.
    pub(crate) fn find(&self, ref_name: &str) -> Option<&IndexEntry> {
        self.manifests
            .iter()
            .rev()
            .find(|entry| entry.ref_name() == Some(ref_name))
    }

    /// Points `ref_name` at `manifest`: entries that had the name are removed and a new entry goes
    /// last. Returns false when the name already pointed there alone (nothing to write).
    /// A manifest stored without a name (`pack` without `-t`) is listed by an entry without one,
    /// which a name given later replaces: the ModelKit is then listed once, under its name.
    pub(crate) fn set_tag(&mut self, ref_name: &str, manifest: &Descriptor) -> bool {
        let unnamed_before = self.manifests.len();
        self.manifests
            .retain(|entry| !(entry.ref_name().is_none() && entry.digest == manifest.digest));
        let dropped_unnamed = self.manifests.len() != unnamed_before;
        let named = |entry: &IndexEntry| entry.ref_name() == Some(ref_name);
        let mut existing = self.manifests.iter().filter(|entry| named(entry));
        if let (Some(only), None) = (existing.next(), existing.next()) {
            // A ModelKit tagged again whole (or partial) updates the mark of a partial pull.
            if only.digest == manifest.digest
                && only.size == manifest.size
                && only.media_type == manifest.media_type
                && only.annotations.get(ANNOTATION_PARTIAL)
                    == manifest.annotations.get(ANNOTATION_PARTIAL)
            {
                return dropped_unnamed;
            }
        }
        self.manifests.retain(|entry| !named(entry));
        let mut annotations = manifest.annotations.clone();
        annotations.insert(ANNOTATION_REF_NAME.to_owned(), ref_name.to_owned());
        self.manifests.push(IndexEntry {
            media_type: manifest.media_type.clone(),
            digest: manifest.digest.clone(),
            size: manifest.size,
            annotations,
            unknown: BTreeMap::new(),
        });
        true
    }

    /// Lists `manifest` without a name, unless an entry (named or not) lists it already. Returns
    /// whether the index changed.
    pub(crate) fn add_unnamed(&mut self, manifest: &Descriptor) -> bool {
        if self
            .manifests
            .iter()
            .any(|entry| entry.digest == manifest.digest)
        {
            return false;
        }
        let mut annotations = manifest.annotations.clone();
        annotations.remove(ANNOTATION_REF_NAME);
        self.manifests.push(IndexEntry {
            media_type: manifest.media_type.clone(),
            digest: manifest.digest.clone(),
            size: manifest.size,
            annotations,
            unknown: BTreeMap::new(),
        });
        true
    }

    /// Sets or clears the partial mark on every entry that lists `digest`; returns whether
    /// anything changed.
    pub(crate) fn set_partial(&mut self, digest: &Digest, partial: bool) -> bool {
        let mut changed = false;
        for entry in self.manifests.iter_mut().filter(|e| &e.digest == digest) {
            let had = entry.annotations.contains_key(ANNOTATION_PARTIAL);
            if partial && !had {
                entry
                    .annotations
                    .insert(ANNOTATION_PARTIAL.to_owned(), "true".to_owned());
                changed = true;
            } else if !partial && had {
                entry.annotations.remove(ANNOTATION_PARTIAL);
                changed = true;
            }
        }
        changed
    }

    /// Lists the referrer `manifest` (of `artifact_type`) of `subject`, unless an entry lists it
    /// already. Returns whether the index changed.
    pub(crate) fn add_referrer(
        &mut self,
        manifest: &Descriptor,
        artifact_type: &str,
        subject: &Digest,
    ) -> bool {
        if self
            .manifests
            .iter()
            .any(|entry| entry.digest == manifest.digest)
        {
            return false;
        }
        let annotations =
            BTreeMap::from([(ANNOTATION_REFERRER_OF.to_owned(), subject.to_string())]);
        let unknown = BTreeMap::from([(
            "artifactType".to_owned(),
            serde_json::Value::String(artifact_type.to_owned()),
        )]);
        self.manifests.push(IndexEntry {
            media_type: manifest.media_type.clone(),
            digest: manifest.digest.clone(),
            size: manifest.size,
            annotations,
            unknown,
        });
        true
    }

    /// Removes the referrer entries whose subject no ModelKit entry lists: a referrer goes with
    /// its subject. Returns whether any went.
    pub(crate) fn drop_orphan_referrers(&mut self) -> bool {
        let listed: std::collections::HashSet<String> = self
            .manifests
            .iter()
            .filter(|entry| entry.is_modelkit())
            .map(|entry| entry.digest.to_string())
            .collect();
        let before = self.manifests.len();
        self.manifests.retain(|entry| {
            entry
                .referrer_of()
                .is_none_or(|subject| listed.contains(subject))
        });
        self.manifests.len() != before
    }

    /// Whether an entry lists the ModelKit `digest`.
    pub(crate) fn lists_modelkit(&self, digest: &Digest) -> bool {
        self.manifests
            .iter()
            .any(|entry| entry.is_modelkit() && &entry.digest == digest)
    }

    /// Removes every entry that lists `digest`, named or not; returns them.
    pub(crate) fn remove_digest(&mut self, digest: &Digest) -> Vec<IndexEntry> {
        let (removed, kept) = std::mem::take(&mut self.manifests)
            .into_iter()
            .partition(|entry| &entry.digest == digest);
        self.manifests = kept;
        removed
    }

    /// Removes the entries that `ref_name` names; returns the last of them.
    pub(crate) fn remove_tag(&mut self, ref_name: &str) -> Option<IndexEntry> {
        let removed = self.find(ref_name).cloned();
        self.manifests
            .retain(|entry| entry.ref_name() != Some(ref_name));
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media_type::OCI_MANIFEST;

    fn hex(c: char) -> String {
        c.to_string().repeat(64)
    }

    #[test]
    fn empty_index_bytes() {
        assert_eq!(
            String::from_utf8_lossy(&ImageIndex::empty().to_json()),
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#
        );
    }

    #[test]
    fn keeps_foreign_fields_and_writes_deterministically() -> Result<(), StoreError> {
        let foreign = format!(
            r#"{{"manifests":[{{"digest":"sha256:{a}","size":3,"platform":{{"architecture":"amd64","os":"linux"}},
                "annotations":{{"org.opencontainers.image.ref.name":"v1"}}}}],
               "zeta":1,"schemaVersion":2,"alpha":"x"}}"#,
            a = hex('a')
        );
        let mut index = ImageIndex::from_json(foreign.as_bytes(), Path::new("index.json"))?;
        assert_eq!(index.find("v1").map(|e| e.descriptor().size), Some(3));
        let manifest = Descriptor::new(OCI_MANIFEST, format!("sha256:{}", hex('b')).parse()?, 9);
        assert!(index.set_tag("m:v2", &manifest));
        assert!(!index.set_tag("m:v2", &manifest));
        let expected = format!(
            concat!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":["#,
                r#"{{"digest":"sha256:{a}","size":3,"annotations":{{"org.opencontainers.image.ref.name":"v1"}},"#,
                r#""platform":{{"architecture":"amd64","os":"linux"}}}},"#,
                r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{b}","size":9,"#,
                r#""annotations":{{"org.opencontainers.image.ref.name":"m:v2"}}}}],"alpha":"x","zeta":1}}"#
            ),
            a = hex('a'),
            b = hex('b')
        );
        assert_eq!(String::from_utf8_lossy(&index.to_json()), expected);
        Ok(())
    }

    #[test]
    fn rejects_broken_index() {
        for (text, reason) in [
            ("{", "EOF"),
            (
                r#"{"schemaVersion":1,"manifests":[]}"#,
                "`schemaVersion` is 1, not 2",
            ),
            (
                r#"{"schemaVersion":2,"manifests":[{"digest":"x","size":1}]}"#,
                "invalid digest `x`",
            ),
        ] {
            let message = ImageIndex::from_json(text.as_bytes(), Path::new("/s/index.json"))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                message.starts_with("`/s/index.json` is not valid: "),
                "{message}"
            );
            assert!(message.contains(reason), "{message}");
        }
    }
}
