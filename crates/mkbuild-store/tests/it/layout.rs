//! Opening and creating the OCI image layout.

use std::fs;
use std::path::Path;

use mkbuild_store::{Store, StoreError};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn read_json(path: &Path) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    Ok(serde_json::from_slice(&fs::read(path)?)?)
}

#[test]
fn creates_a_valid_layout() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("new/store");
    let store = Store::open(&root)?;
    assert_eq!(store.root(), root);
    assert_eq!(
        fs::read_to_string(root.join("oci-layout"))?,
        r#"{"imageLayoutVersion":"1.0.0"}"#
    );
    assert_eq!(
        fs::read_to_string(root.join("index.json"))?,
        r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#
    );
    assert_eq!(
        read_json(&root.join("oci-layout"))?["imageLayoutVersion"],
        "1.0.0"
    );
    assert_eq!(
        read_json(&root.join("index.json"))?["manifests"],
        serde_json::json!([])
    );
    assert!(root.join("blobs/sha256").is_dir());
    // Opening again changes nothing.
    let before = fs::read(root.join("index.json"))?;
    Store::open(&root)?;
    assert_eq!(fs::read(root.join("index.json"))?, before);
    Ok(())
}

#[test]
fn opens_an_empty_folder() -> TestResult {
    let dir = tempfile::tempdir()?;
    Store::open(dir.path())?;
    assert!(dir.path().join("oci-layout").is_file());
    Ok(())
}

#[test]
fn refuses_a_non_empty_folder_that_is_no_layout() -> TestResult {
    let dir = tempfile::tempdir()?;
    fs::write(dir.path().join("notes.txt"), "mine")?;
    let err = Store::open(dir.path())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        err,
        format!(
            "`{}` is not an OCI image layout (it has no `oci-layout` file) and is not empty; \
             choose an empty or new folder for the store",
            dir.path().display()
        )
    );
    assert!(!dir.path().join("index.json").exists(), "nothing written");
    Ok(())
}

#[test]
fn refuses_another_layout_version() -> TestResult {
    let dir = tempfile::tempdir()?;
    let layout = dir.path().join("oci-layout");
    fs::write(&layout, r#"{"imageLayoutVersion":"2.0.0"}"#)?;
    let err = Store::open(dir.path()).err();
    assert!(
        matches!(&err, Some(StoreError::UnsupportedLayoutVersion { path, version }) if *path == layout && version == "2.0.0"),
        "{err:?}"
    );
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("version `2.0.0`, but only `1.0.0` is supported"),
        "{message}"
    );

    fs::write(&layout, "not json")?;
    let message = Store::open(dir.path())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.starts_with(&format!("`{}` is not valid: ", layout.display())),
        "{message}"
    );
    Ok(())
}

#[test]
fn refuses_a_file_as_root() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("file");
    fs::write(&file, "x")?;
    let message = Store::open(&file)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "cannot create the store folder `{}`: ",
            file.display()
        )),
        "{message}"
    );
    Ok(())
}

#[test]
fn opens_a_layout_written_by_another_tool() -> TestResult {
    // The shape kit (through oras) and make_kit_layout.py write: no mediaType on the index, no ingest/.
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    fs::create_dir_all(root.join("blobs/sha256"))?;
    fs::write(
        root.join("oci-layout"),
        r#"{"imageLayoutVersion": "1.0.0"}"#,
    )?;
    let manifest = br#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.kitops.modelkit.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[],"annotations":{"ml.kitops.modelkit.cli-version":"0.4.0"}}"#;
    let digest = mkbuild_store::Digest::of(manifest);
    fs::write(root.join("blobs/sha256").join(digest.hex()), manifest)?;
    fs::write(
        root.join("index.json"),
        format!(
            r#"{{"schemaVersion": 2, "manifests": [{{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "{digest}", "size": {}, "annotations": {{"org.opencontainers.image.ref.name": "old/kit:v1"}}}}]}}"#,
            manifest.len()
        ),
    )?;
    let store = Store::open(root)?;
    let found = store.resolve("old/kit:v1")?;
    assert_eq!(found.digest, digest);
    let read = store.read_manifest(&found.digest)?;
    assert_eq!(read.media_type, None);
    assert_eq!(read.annotations["ml.kitops.modelkit.cli-version"], "0.4.0");
    Ok(())
}

#[test]
fn default_root_is_in_the_data_dir() {
    if let Some(root) = Store::default_root() {
        assert!(root.ends_with("mkbuild/store"), "{}", root.display());
    }
}
