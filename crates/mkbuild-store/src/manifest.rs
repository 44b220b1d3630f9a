//! The OCI image manifest, written as deterministic compact JSON.

use std::collections::BTreeMap;

use crate::{Descriptor, Digest, StoreError};

/// The only manifest schema version the OCI image specification defines.
pub const SCHEMA_VERSION: u32 = 2;

/// An OCI image manifest. [`Manifest::to_json`] writes its fields in the order declared here:
/// `schemaVersion`, `mediaType`, `artifactType`, `config`, `layers`, `annotations` (keys sorted);
/// absent options and empty annotations are left out.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// `schemaVersion`; [`SCHEMA_VERSION`] in a valid manifest.
    pub schema_version: u32,
    /// `mediaType`: the manifest's own media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// `artifactType`: what kind of artifact the manifest describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// Always written, `[]` when empty, as the specification requires the field.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// Annotations on the manifest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    /// The manifest as compact JSON: the same manifest always gives the same bytes, so the same digest.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain structs, strings and string maps into a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a manifest written by mkbuild, kit or any other tool; fields it does not know are ignored.
    pub fn from_json(bytes: &[u8]) -> Result<Manifest, StoreError> {
        let invalid = |reason: String| StoreError::InvalidManifest {
            digest: Digest::of(bytes),
            reason,
        };
        let manifest: Manifest =
            serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        if manifest.schema_version != SCHEMA_VERSION {
            return Err(invalid(format!(
                "`schemaVersion` is {}, not {SCHEMA_VERSION}",
                manifest.schema_version
            )));
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media_type::OCI_MANIFEST;

    fn digest(byte: char) -> Result<Digest, StoreError> {
        Ok(format!("sha256:{}", byte.to_string().repeat(64)).parse()?)
    }

    fn sample() -> Result<Manifest, StoreError> {
        let mut layer = Descriptor::new(
            "application/vnd.kitops.modelkit.model.v1.tar",
            digest('b')?,
            1024,
        );
        layer
            .annotations
            .insert("org.cncf.model.filepath".into(), "m.bin".into());
        Ok(Manifest {
            schema_version: 2,
            media_type: Some(OCI_MANIFEST.into()),
            artifact_type: Some("application/vnd.kitops.modelkit.manifest.v1+json".into()),
            config: Descriptor::new(
                "application/vnd.kitops.modelkit.config.v1+json",
                digest('a')?,
                42,
            ),
            layers: vec![
                layer,
                Descriptor::new(
                    "application/vnd.kitops.modelkit.docs.v1.tar",
                    digest('c')?,
                    2048,
                ),
            ],
            // Inserted out of order: the output sorts them.
            annotations: BTreeMap::from([
                ("z.last".to_owned(), "2".to_owned()),
                (
                    "ml.kitops.modelkit.cli-version".to_owned(),
                    "1.7.0".to_owned(),
                ),
                ("a.first".to_owned(), "<&>".to_owned()),
            ]),
        })
    }

    #[test]
    fn writes_exact_bytes() -> Result<(), StoreError> {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let c = "c".repeat(64);
        let expected = format!(
            concat!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
                r#""artifactType":"application/vnd.kitops.modelkit.manifest.v1+json","#,
                r#""config":{{"mediaType":"application/vnd.kitops.modelkit.config.v1+json","digest":"sha256:{a}","size":42}},"#,
                r#""layers":[{{"mediaType":"application/vnd.kitops.modelkit.model.v1.tar","digest":"sha256:{b}","size":1024,"#,
                r#""annotations":{{"org.cncf.model.filepath":"m.bin"}}}},"#,
                r#"{{"mediaType":"application/vnd.kitops.modelkit.docs.v1.tar","digest":"sha256:{c}","size":2048}}],"#,
                r#""annotations":{{"a.first":"<&>","ml.kitops.modelkit.cli-version":"1.7.0","z.last":"2"}}}}"#
            ),
            a = a,
            b = b,
            c = c
        );
        assert_eq!(String::from_utf8_lossy(&sample()?.to_json()), expected);
        Ok(())
    }

    #[test]
    fn leaves_out_absent_fields() -> Result<(), StoreError> {
        let manifest = Manifest {
            schema_version: 2,
            media_type: None,
            artifact_type: None,
            config: Descriptor::new("c", digest('a')?, 1),
            layers: vec![],
            annotations: BTreeMap::new(),
        };
        let expected = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"c","digest":"sha256:{}","size":1}},"layers":[]}}"#,
            "a".repeat(64)
        );
        assert_eq!(String::from_utf8_lossy(&manifest.to_json()), expected);
        Ok(())
    }

    #[test]
    fn round_trips() -> Result<(), StoreError> {
        let manifest = sample()?;
        let bytes = manifest.to_json();
        let back = Manifest::from_json(&bytes)?;
        assert_eq!(back, manifest);
        assert_eq!(back.to_json(), bytes);
        Ok(())
    }

    #[test]
    fn reads_foreign_manifests() -> Result<(), StoreError> {
        // Pretty-printed, unknown fields (`subject`, `urls`, `platform`), no mediaType anywhere, no layers.
        let text = format!(
            r#"{{
              "schemaVersion": 2,
              "subject": {{"mediaType": "x", "digest": "sha256:{a}", "size": 1}},
              "config": {{"digest": "sha256:{a}", "size": 7, "urls": ["https://example.invalid"]}},
              "annotations": {{"k": "v"}}
            }}"#,
            a = "a".repeat(64)
        );
        let manifest = Manifest::from_json(text.as_bytes())?;
        assert_eq!(manifest.media_type, None);
        assert_eq!(manifest.config.media_type, "");
        assert_eq!(manifest.config.size, 7);
        assert!(manifest.layers.is_empty());
        assert_eq!(manifest.annotations.get("k").map(String::as_str), Some("v"));
        Ok(())
    }

    #[test]
    fn rejects_bad_manifests() {
        for (text, reason) in [
            (
                r#"{"schemaVersion":1,"config":{"mediaType":"c","digest":"sha256:"#,
                "EOF",
            ),
            ("[]", "expected struct Manifest"),
            (
                r#"{"schemaVersion":2,"config":{"mediaType":"c","digest":"md5:00","size":1}}"#,
                "md5",
            ),
        ] {
            let message = Manifest::from_json(text.as_bytes())
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains(reason), "{message}");
            assert!(
                message.contains(Digest::of(text.as_bytes()).as_str()),
                "{message}"
            );
        }
        let config = format!(
            r#""config":{{"mediaType":"c","digest":"sha256:{}","size":1}}"#,
            "a".repeat(64)
        );
        let v1 = format!(r#"{{"schemaVersion":1,{config}}}"#);
        let message = Manifest::from_json(v1.as_bytes())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("`schemaVersion` is 1, not 2"), "{message}");
    }
}
