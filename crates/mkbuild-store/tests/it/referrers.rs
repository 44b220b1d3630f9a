//! Referrers (signatures) stored with a ModelKit: found by subject, not listed as ModelKits, kept by
//! gc while their subject is kept and removed with it; and read by skopeo as a plain manifest.

use std::collections::BTreeMap;

use mkbuild_store::media_type::{ANNOTATION_REFERRER_OF, OCI_EMPTY, OCI_MANIFEST};
use mkbuild_store::{Descriptor, Digest, Manifest, Store, StoreError};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

fn put_kit(store: &Store, config: &str) -> Result<Descriptor, StoreError> {
    let (config_digest, config_size) = store.put_blob(config.as_bytes())?;
    let (layer_digest, layer_size) = store.put_blob(config.repeat(100).as_bytes())?;
    store.put_manifest(&Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_owned()),
        artifact_type: None,
        config: Descriptor::new("c", config_digest, config_size),
        layers: vec![Descriptor::new("l", layer_digest, layer_size)],
        annotations: BTreeMap::new(),
    })
}

#[test]
fn a_referrer_is_stored_found_by_subject_and_not_listed() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?.with_fsync(false);
    let kit = put_kit(&store, "a")?;
    store.tag(&"m:1".parse()?, &kit)?;
    let index_before = std::fs::read(dir.path().join("index.json"))?;
    let manifest_before = std::fs::read(store.blob_path(&kit.digest))?;

    let referrer = store.add_referrer(&kit, BUNDLE, b"{\"bundle\":1}")?;
    // Stored again: listed once.
    assert_eq!(
        store.add_referrer(&kit, BUNDLE, b"{\"bundle\":1}")?,
        referrer
    );
    let second = store.add_referrer(&kit, BUNDLE, b"{\"bundle\":2}")?;

    // The manifest bytes: OCI 1.1 referrer shape, exact.
    let bytes = std::fs::read(store.blob_path(&referrer.digest))?;
    let expected = format!(
        concat!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
            r#""artifactType":"{t}","#,
            r#""config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{empty}","size":2}},"#,
            r#""layers":[{{"mediaType":"{t}","digest":"{b}","size":12}}],"#,
            r#""subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{s}","size":{n}}}}}"#
        ),
        t = BUNDLE,
        empty = Digest::of(b"{}"),
        b = Digest::of(b"{\"bundle\":1}"),
        s = kit.digest,
        n = kit.size
    );
    assert_eq!(String::from_utf8_lossy(&bytes), expected);
    assert_eq!(std::fs::read(store.blob_path(&Digest::of(b"{}")))?, b"{}");
    assert_eq!(OCI_EMPTY, "application/vnd.oci.empty.v1+json");

    let found = store.referrers(&kit.digest, Some(BUNDLE))?;
    assert_eq!(
        found
            .iter()
            .map(|r| r.descriptor.digest.clone())
            .collect::<Vec<_>>(),
        vec![referrer.digest.clone(), second.digest.clone()]
    );
    assert_eq!(found[0].manifest.subject.digest, kit.digest);
    assert!(store.referrers(&kit.digest, Some("other/type"))?.is_empty());

    // Not a ModelKit: not listed, not untagged, not found by a digest prefix; the ModelKit's own
    // manifest and entry unchanged.
    let listed: Vec<Digest> = store.list()?.into_iter().map(|(_, d)| d.digest).collect();
    assert_eq!(listed, vec![kit.digest.clone()]);
    assert!(store.untagged()?.is_empty());
    assert!(store
        .find_listed_digest(&referrer.digest.hex()[..16])?
        .is_none());
    assert_eq!(
        std::fs::read(store.blob_path(&kit.digest))?,
        manifest_before
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("index.json"))?)?;
    let old: serde_json::Value = serde_json::from_slice(&index_before)?;
    assert_eq!(index["manifests"][0], old["manifests"][0]);
    assert_eq!(
        index["manifests"][1]["annotations"][ANNOTATION_REFERRER_OF],
        kit.digest.as_str()
    );
    assert_eq!(index["manifests"][1]["artifactType"], BUNDLE);
    // The store still verifies whole.
    assert!(store.verify_all()?.problems.is_empty());
    Ok(())
}

#[test]
fn a_referrer_needs_its_subject_stored() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?.with_fsync(false);
    let missing = Descriptor::new(OCI_MANIFEST, Digest::of(b"nothing"), 7);
    let error = store.add_referrer(&missing, BUNDLE, b"{}").err();
    assert!(
        matches!(error, Some(StoreError::BlobNotFound { .. })),
        "{error:?}"
    );
    // Stored but not listed (no tag, no entry): refused, with what to do.
    let unlisted = put_kit(&store, "u")?;
    let message = store
        .add_referrer(&unlisted, BUNDLE, b"{}")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(message.contains("tag it (`mkbuild tag`)"), "{message}");
    assert!(store.list()?.is_empty());
    // A tag moved to another manifest takes the old one's referrers away.
    store.tag(&"u:1".parse()?, &unlisted)?;
    store.add_referrer(&unlisted, BUNDLE, b"{}")?;
    let moved = put_kit(&store, "v")?;
    store.tag(&"u:1".parse()?, &moved)?;
    assert!(store.referrers(&unlisted.digest, None)?.is_empty());
    Ok(())
}

#[test]
fn gc_keeps_a_referrer_with_its_subject_and_removes_it_with_it() -> TestResult {
    let _serial = crate::common::serial();
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?.with_fsync(false);
    let kit = put_kit(&store, "a")?;
    let other = put_kit(&store, "b")?;
    store.tag(&"m:1".parse()?, &kit)?;
    store.tag(&"o:1".parse()?, &other)?;
    let referrer = store.add_referrer(&kit, BUNDLE, b"{\"sig\":\"a\"}")?;
    let other_referrer = store.add_referrer(&other, BUNDLE, b"{\"sig\":\"b\"}")?;
    // gc runs only in a store no writer holds: a fresh one.
    drop(store);
    let store = Store::open(dir.path())?.with_fsync(false);

    let report = store
        .collect_garbage(false)
        .map_err(|e| format!("first: {e}"))?;
    assert!(report.removed.is_empty(), "{report:?}");
    assert!(store.has_blob(&referrer.digest));
    assert!(store.has_blob(&Digest::of(b"{\"sig\":\"a\"}")));

    // Its subject's last tag goes: the referrer's entry goes with it, its blobs at the next gc.
    store.untag(&"m:1".parse()?)?;
    assert!(store.referrers(&kit.digest, None)?.is_empty());
    drop(store);
    let store = Store::open(dir.path())?.with_fsync(false);
    let dry = store.collect_garbage(true)?;
    assert!(dry.removed.contains(&referrer.digest), "{dry:?}");
    assert!(store.has_blob(&referrer.digest));

    let report = store.collect_garbage(false)?;
    for gone in [
        &kit.digest,
        &referrer.digest,
        &Digest::of(b"{\"sig\":\"a\"}"),
    ] {
        assert!(report.removed.contains(gone), "{gone}: {report:?}");
        assert!(!store.has_blob(gone));
    }
    assert!(store.referrers(&kit.digest, None)?.is_empty());
    // The other ModelKit's referrer, and the empty config they share, stay.
    assert!(store.has_blob(&other_referrer.digest));
    assert!(store.has_blob(&Digest::of(b"{}")));
    assert_eq!(store.referrers(&other.digest, None)?.len(), 1);
    assert!(store.verify_all()?.problems.is_empty());
    Ok(())
}
