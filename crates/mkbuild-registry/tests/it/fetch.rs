//! Reading a manifest and its config without storing them (`fetch_modelkit`, `fetch_blob`),
//! against the hostile registry: what it sends is checked against the manifest's sizes and
//! digests, and a config too large is refused unread.

use std::collections::BTreeMap;
use std::time::Duration;

use mkbuild_registry::testing::{HostileRegistry, Hostility};
use mkbuild_registry::{ClientOptions, RegistryClient, RegistryError, RemoteReference};
use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{Descriptor, Digest, Manifest};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CONFIG: &[u8] = br#"{"manifestVersion":"1.0.0","package":{"name":"fetched"}}"#;

/// A manifest naming the config with `size` (its true size, or a lie) and one layer.
fn manifest(config_size: u64) -> Vec<u8> {
    let layer = b"layer".to_vec();
    Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_owned()),
        artifact_type: None,
        config: Descriptor::new(
            "application/vnd.kitops.modelkit.config.v1+json",
            Digest::of(CONFIG),
            config_size,
        ),
        layers: vec![Descriptor::new(
            "application/vnd.kitops.modelkit.model.v1.tar",
            Digest::of(&layer),
            layer.len() as u64,
        )],
        annotations: BTreeMap::new(),
    }
    .to_json()
}

fn fetch(hostility: Hostility, manifest: Vec<u8>) -> Result<(Vec<u8>, Vec<u8>), RegistryError> {
    let server = HostileRegistry::start(hostility, manifest, vec![CONFIG.to_vec()], None)
        .expect("start the hostile registry");
    let client = RegistryClient::new(ClientOptions {
        plain_http: true,
        timeout: Duration::from_secs(2),
        retries: 1,
        ..ClientOptions::default()
    })?;
    let remote = RemoteReference::parse(&format!("{}/team/model:v1", server.host()))?;
    let fetched = client.fetch_modelkit(&remote)?;
    Ok((fetched.manifest_bytes, fetched.config_bytes))
}

#[test]
fn a_manifest_and_its_config_are_read_and_checked() -> TestResult {
    let bytes = manifest(CONFIG.len() as u64);
    let (manifest_bytes, config) = fetch(Hostility::None, bytes.clone())?;
    assert_eq!((manifest_bytes, config), (bytes, CONFIG.to_vec()));
    Ok(())
}

#[test]
fn a_config_that_is_not_what_the_manifest_says_is_refused() {
    let true_size = CONFIG.len() as u64;
    // The registry sends more than the manifest says: reading stops at the size.
    let error = fetch(Hostility::None, manifest(true_size - 1)).err();
    assert!(
        matches!(error, Some(RegistryError::TooLarge { .. })),
        "{error:?}"
    );
    // Fewer bytes than the manifest says.
    let error = fetch(Hostility::None, manifest(true_size + 1)).err();
    assert!(
        matches!(error, Some(RegistryError::SizeMismatch { .. })),
        "{error:?}"
    );
    // A config larger than any config is refused before it is asked for.
    let error = fetch(Hostility::None, manifest(1 << 40)).err();
    assert!(
        matches!(error, Some(RegistryError::TooLarge { limit, .. }) if limit == mkbuild_registry::MAX_FETCHED_BLOB),
        "{error:?}"
    );
    // A config that stops half way times out.
    let error = fetch(Hostility::StallMidBlob, manifest(true_size)).err();
    assert!(
        matches!(error, Some(RegistryError::TimedOut { .. })),
        "{error:?}"
    );
}
