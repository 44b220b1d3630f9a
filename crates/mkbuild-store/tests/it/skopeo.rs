//! Standard OCI tools read the store: `skopeo inspect --raw oci:<root>:<name:tag>` resolves the tag
//! through `org.opencontainers.image.ref.name` and prints the manifest bytes. Skipped where skopeo
//! is not installed (a failure under `MKBUILD_REQUIRE_TOOLS`, as in CI).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{Descriptor, Manifest, Store};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// `skopeo args...` (installed, see the test's start: failing to run it is a failure).
fn skopeo(args: &[&str]) -> Output {
    Command::new("skopeo")
        .args(args)
        .output()
        .expect("run skopeo")
}

fn oci(root: &Path, reference: &str) -> String {
    format!("oci:{}:{reference}", root.display())
}

#[test]
fn skopeo_reads_tagged_manifests() -> TestResult {
    if !mkbuild_test_support::require_tool("skopeo") {
        return Ok(());
    }
    let _serial = crate::common::serial();
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("store");
    let store = Store::open(&root)?;
    let config =
        br#"{"manifestVersion":"1.0.0","package":{"name":"demo"},"model":{"path":"model.bin"}}"#;
    let (config_digest, config_size) = store.put_blob(config)?;
    let (layer_digest, layer_size) = store.put_blob(&[0u8; 1024])?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_owned()),
        artifact_type: Some("application/vnd.kitops.modelkit.manifest.v1+json".to_owned()),
        config: Descriptor::new(
            "application/vnd.kitops.modelkit.config.v1+json",
            config_digest.clone(),
            config_size,
        ),
        layers: vec![Descriptor::new(
            "application/vnd.kitops.modelkit.model.v1.tar",
            layer_digest,
            layer_size,
        )],
        annotations: BTreeMap::from([(
            "org.opencontainers.image.created".to_owned(),
            "1970-01-01T00:00:00Z".to_owned(),
        )]),
    };
    let first = store.put_manifest(&manifest)?;
    let mut changed = manifest.clone();
    changed.annotations.insert("z".to_owned(), "2".to_owned());
    let second = store.put_manifest(&changed)?;
    store.tag(&"team/model:v1".parse()?, &first)?;
    store.tag(&"registry.example.com:5000/team/model:v2".parse()?, &second)?;
    store.tag(&"model".parse()?, &first)?;

    for (reference, expected) in [
        ("team/model:v1", &manifest),
        ("registry.example.com:5000/team/model:v2", &changed),
        ("model:latest", &manifest),
    ] {
        let output = skopeo(&["inspect", "--raw", &oci(&root, reference)]);
        assert!(
            output.status.success(),
            "skopeo inspect {reference}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&expected.to_json())
        );
    }

    // skopeo also follows the manifest to the config blob and checks its digest.
    let output = skopeo(&["inspect", "--config", "--raw", &oci(&root, "team/model:v1")]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.stdout, config);

    // Copying reads and verifies every blob; the copy is a layout this store opens and resolves.
    let copy_root = dir.path().join("copy");
    let output = skopeo(&[
        "copy",
        "--insecure-policy",
        &oci(&root, "team/model:v1"),
        &oci(&copy_root, "copied/model:v1"),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let copy = Store::open(&copy_root)?;
    let found = copy.resolve("copied/model:v1")?;
    assert_eq!(found.digest, first.digest);
    assert_eq!(copy.read_manifest(&found.digest)?, manifest);
    assert_eq!(copy.read_blob(&config_digest, 1024)?, config);

    // After a re-tag skopeo sees the new manifest.
    store.tag(&"team/model:v1".parse()?, &second)?;
    let output = skopeo(&["inspect", "--raw", &oci(&root, "team/model:v1")]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.stdout, changed.to_json());
    Ok(())
}
