//! Tagging manifests, resolving and listing them.

use std::collections::BTreeMap;
use std::fs;

use mkbuild_store::media_type::{ANNOTATION_REF_NAME, OCI_MANIFEST};
use mkbuild_store::{Descriptor, Manifest, Reference, Store, StoreError};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn store() -> Result<(tempfile::TempDir, Store), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?.with_fsync(false);
    Ok((dir, store))
}

/// A small ModelKit-shaped manifest whose config is `config`.
fn put_kit(store: &Store, config: &str) -> Result<Descriptor, StoreError> {
    let (config_digest, config_size) = store.put_blob(config.as_bytes())?;
    let (layer_digest, layer_size) = store.put_blob(&[0u8; 1024])?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_owned()),
        artifact_type: Some("application/vnd.kitops.modelkit.manifest.v1+json".to_owned()),
        config: Descriptor::new(
            "application/vnd.kitops.modelkit.config.v1+json",
            config_digest,
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
    store.put_manifest(&manifest)
}

fn reference(s: &str) -> Result<Reference, StoreError> {
    s.parse()
}

fn tagged(store: &Store) -> Result<Vec<(String, String)>, StoreError> {
    Ok(store
        .list()?
        .into_iter()
        .map(|(r, d)| {
            (
                r.map(|r| r.to_string()).unwrap_or_default(),
                d.digest.to_string(),
            )
        })
        .collect())
}

#[test]
fn put_manifest_returns_its_descriptor() -> TestResult {
    let (_dir, store) = store()?;
    let kit = put_kit(&store, r#"{"manifestVersion":"1.0.0","package":{}}"#)?;
    assert_eq!(kit.media_type, OCI_MANIFEST);
    assert!(kit.annotations.is_empty());
    let bytes = fs::read(store.blob_path(&kit.digest))?;
    assert_eq!(bytes.len() as u64, kit.size);
    let manifest = store.read_manifest(&kit.digest)?;
    assert_eq!(manifest.to_json(), bytes);
    Ok(())
}

#[test]
fn tags_retags_resolves_and_lists() -> TestResult {
    let (_dir, store) = store()?;
    let one = put_kit(&store, "one")?;
    let two = put_kit(&store, "two")?;

    store.tag(&reference("team/model:v1")?, &one)?;
    store.tag(&reference("model")?, &one)?;
    store.tag(&reference("registry.example.com:5000/team/model:v2")?, &two)?;

    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(store.root().join("index.json"))?)?;
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(
        index["manifests"][0]["annotations"][ANNOTATION_REF_NAME],
        "team/model:v1"
    );
    assert_eq!(index["manifests"][0]["mediaType"], OCI_MANIFEST);
    assert_eq!(index["manifests"][0]["size"], one.size);
    assert_eq!(
        index["manifests"][1]["annotations"][ANNOTATION_REF_NAME],
        "model:latest"
    );

    assert_eq!(
        tagged(&store)?,
        [
            ("team/model:v1".to_owned(), one.digest.to_string()),
            ("model:latest".to_owned(), one.digest.to_string()),
            (
                "registry.example.com:5000/team/model:v2".to_owned(),
                two.digest.to_string()
            ),
        ]
    );

    assert_eq!(store.resolve("team/model:v1")?.digest, one.digest);
    assert_eq!(store.resolve("model")?.digest, one.digest);
    assert_eq!(store.resolve("model:latest")?.digest, one.digest);
    let resolved = store.resolve("registry.example.com:5000/team/model:v2")?;
    assert_eq!(
        (resolved.digest.clone(), resolved.size),
        (two.digest.clone(), two.size)
    );
    assert_eq!(
        resolved.annotations[ANNOTATION_REF_NAME],
        "registry.example.com:5000/team/model:v2"
    );

    // Re-tagging moves the name: one entry per name, the moved one last.
    store.tag(&reference("team/model:v1")?, &two)?;
    assert_eq!(
        tagged(&store)?,
        [
            ("model:latest".to_owned(), one.digest.to_string()),
            (
                "registry.example.com:5000/team/model:v2".to_owned(),
                two.digest.to_string()
            ),
            ("team/model:v1".to_owned(), two.digest.to_string()),
        ]
    );
    assert_eq!(store.resolve("team/model:v1")?.digest, two.digest);

    // Tagging again with the same manifest writes nothing.
    let before = fs::read(store.root().join("index.json"))?;
    store.tag(&reference("team/model:v1")?, &two)?;
    assert_eq!(fs::read(store.root().join("index.json"))?, before);

    // Untagging removes the name only.
    assert_eq!(
        store.untag(&reference("model")?)?.map(|d| d.digest),
        Some(one.digest.clone())
    );
    assert_eq!(store.untag(&reference("model")?)?, None);
    assert!(store.has_blob(&one.digest));
    assert_eq!(tagged(&store)?.len(), 2);
    Ok(())
}

#[test]
fn resolves_digests_and_prefixes() -> TestResult {
    let (_dir, store) = store()?;
    let one = put_kit(&store, "one")?;
    let two = put_kit(&store, "two")?;
    store.tag(&reference("a:1")?, &one)?;
    store.tag(&reference("b:1")?, &one)?;

    let full = one.digest.to_string();
    assert_eq!(store.resolve(&full)?.digest, one.digest);
    assert_eq!(store.resolve(&full[..7 + 12])?.digest, one.digest);
    assert_eq!(store.resolve(&one.digest.hex()[..12])?.digest, one.digest);
    assert_eq!(store.resolve(one.digest.hex())?.digest, one.digest);

    // Stored but untagged: found by full digest only, described from the blob.
    let untagged = store.resolve(two.digest.as_str())?;
    assert_eq!(
        untagged,
        Descriptor::new(OCI_MANIFEST, two.digest.clone(), two.size)
    );
    let message = store
        .resolve(&two.digest.hex()[..12])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(message.contains("no ModelKit in the store"), "{message}");

    let message = store
        .resolve("sha256:abc")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(message.contains("at least 12"), "{message}");
    let absent = format!("sha256:{}", "0".repeat(64));
    let message = store
        .resolve(&absent)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        message,
        format!(
            "no ModelKit in the store `{}` is tagged or named `{absent}`; tag it first, or use a name or digest that the store lists",
            store.root().display()
        )
    );
    Ok(())
}

#[test]
fn reports_ambiguous_prefixes() -> TestResult {
    let (_dir, store) = store()?;
    // Find two configs whose manifests share the first 12 hex digits is impractical; instead write an
    // index by hand with two digests sharing a prefix.
    let a = format!("sha256:{}{}", "ab".repeat(6), "0".repeat(52));
    let b = format!("sha256:{}{}", "ab".repeat(6), "1".repeat(52));
    fs::write(
        store.root().join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"digest":"{a}","size":1,"annotations":{{"{ANNOTATION_REF_NAME}":"x:1"}}}},{{"digest":"{b}","size":1}}]}}"#
        ),
    )?;
    let message = store
        .resolve(&"ab".repeat(6))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        message,
        format!(
            "digest prefix `{}` matches 2 manifests in the store; give more hex digits",
            "ab".repeat(6)
        )
    );
    assert_eq!(
        store
            .resolve(&format!("{}0", "ab".repeat(6)))?
            .digest
            .to_string(),
        a
    );
    // list() keeps entries without a name, and entries written by other tools without mediaType.
    let list = store.list()?;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].0, Some(reference("x:1")?));
    assert_eq!(list[1].0, None);
    assert_eq!(list[1].1.media_type, "");
    Ok(())
}

#[test]
fn resolves_bare_ref_names_of_other_tools() -> TestResult {
    let (_dir, store) = store()?;
    let one = put_kit(&store, "one")?;
    fs::write(
        store.root().join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":{},"annotations":{{"{ANNOTATION_REF_NAME}":"v1.0"}}}}]}}"#,
            one.digest, one.size
        ),
    )?;
    assert_eq!(store.resolve("v1.0")?.digest, one.digest);
    // A bare tag is not listed as the reference `v1.0:latest`.
    assert_eq!(store.list()?[0].0, None);
    Ok(())
}

#[test]
fn rejects_bad_references_and_missing_manifests() -> TestResult {
    let (_dir, store) = store()?;
    let message = store
        .resolve("Bad/Name")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.starts_with("invalid reference `Bad/Name`: "),
        "{message}"
    );
    let message = store
        .resolve("missing:v1")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.contains("is tagged or named `missing:v1`"),
        "{message}"
    );

    let ghost = Descriptor::new(
        OCI_MANIFEST,
        format!("sha256:{}", "f".repeat(64)).parse()?,
        10,
    );
    let message = store
        .tag(&reference("ghost")?, &ghost)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.starts_with(&format!("blob `{}` is not in the store", ghost.digest)),
        "{message}"
    );
    assert!(store.list()?.is_empty());
    Ok(())
}

/// A ModelKit kept without a tag is listed (without a name), found by digest prefix, kept by gc;
/// a name given later replaces its entry; removing it by digest drops every name and the entry.
#[test]
fn untagged_modelkits_are_listed_kept_and_removed_by_digest() -> TestResult {
    let (_dir, store) = store()?;
    let one = put_kit(&store, "one")?;
    let two = put_kit(&store, "two")?;
    store.keep_untagged(&one)?;
    store.keep_untagged(&one)?;
    store.keep_untagged(&two)?;
    assert_eq!(
        tagged(&store)?,
        [
            (String::new(), one.digest.to_string()),
            (String::new(), two.digest.to_string())
        ]
    );
    assert_eq!(store.untagged()?.len(), 2);
    assert_eq!(store.resolve(&one.digest.hex()[..12])?.digest, one.digest);
    assert_eq!(
        store.find_listed_digest(&one.digest.hex()[..12])?,
        Some(one.clone())
    );
    assert_eq!(store.find_listed_digest("team/model:1")?, None);
    assert!(store.find_listed_digest("sha256:abc").is_err());
    // gc keeps both (run from a store value that is no writer, as `mkbuild gc` is).
    let root = store.root().to_owned();
    drop(store);
    let store = Store::open(&root)?.with_fsync(false);
    assert!(store.collect_garbage(false)?.removed.is_empty());

    // Naming `one` replaces its unnamed entry: listed once, under its names.
    store.tag(&reference("a:1")?, &one)?;
    store.tag(&reference("b:1")?, &one)?;
    assert_eq!(
        tagged(&store)?,
        [
            (String::new(), two.digest.to_string()),
            ("a:1".to_owned(), one.digest.to_string()),
            ("b:1".to_owned(), one.digest.to_string())
        ]
    );
    assert_eq!(store.untagged()?, std::slice::from_ref(&two));

    let removed = store.remove_manifest(&one.digest)?;
    assert_eq!(removed, [Some("a:1".to_owned()), Some("b:1".to_owned())]);
    assert_eq!(store.remove_manifest(&two.digest)?, [None]);
    assert!(store.remove_manifest(&two.digest)?.is_empty());
    assert!(store.list()?.is_empty());
    // Nothing lists them now: gc takes their manifests (and their own blobs).
    drop(store);
    let report = Store::open(&root)?.collect_garbage(false)?;
    assert!(report.removed.contains(&one.digest) && report.removed.contains(&two.digest));
    Ok(())
}
