//! `Store::verify_all` and `Store::verify_modelkit`: every missing, corrupt, wrongly sized or
//! stray blob is reported with what it is to which ModelKit.

use std::path::PathBuf;

use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{BlobRole, Descriptor, Manifest, Problem, Store};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A store with one ModelKit `m:1`: config + two layers.
fn store_with_modelkit(
) -> Result<(tempfile::TempDir, Store, Manifest, Descriptor), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?.with_fsync(false);
    let (config, config_size) = store.put_blob(b"{\"config\":1}")?;
    let (a, a_size) = store.put_blob(b"layer a")?;
    let (b, b_size) = store.put_blob(b"layer b")?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_owned()),
        artifact_type: None,
        config: Descriptor::new("application/vnd.test.config", config, config_size),
        layers: vec![
            Descriptor::new("application/vnd.test.a", a, a_size),
            Descriptor::new("application/vnd.test.b", b, b_size),
        ],
        annotations: Default::default(),
    };
    let descriptor = store.put_manifest(&manifest)?;
    store.tag(&"m:1".parse()?, &descriptor)?;
    Ok((dir, store, manifest, descriptor))
}

#[test]
fn an_intact_store_verifies() -> TestResult {
    let (_dir, store, _, descriptor) = store_with_modelkit()?;
    let report = store.verify_all()?;
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!((report.modelkits, report.blobs), (1, 4));
    let one = store.verify_modelkit(&descriptor, "m:1");
    assert!(one.is_ok());
    assert_eq!(one.blobs, 4);
    Ok(())
}

#[test]
fn every_problem_is_reported() -> TestResult {
    let (dir, store, manifest, _) = store_with_modelkit()?;
    let layer_a = store.blob_path(&manifest.layers[0].digest);
    let layer_b = store.blob_path(&manifest.layers[1].digest);
    std::fs::remove_file(&layer_a)?;
    std::fs::write(&layer_b, b"layer B")?;
    let stray = dir.path().join("blobs/sha256/not-a-digest");
    std::fs::write(&stray, b"?")?;
    let unreferenced = dir.path().join("blobs/sha256").join("e".repeat(64));
    std::fs::write(&unreferenced, b"not e")?;

    let report = store.verify_all()?;
    let lines: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert_eq!(report.problems.len(), 4, "{lines:#?}");
    assert!(matches!(
        &report.problems[0],
        Problem::Missing { role: BlobRole::Layer { index: 0, .. }, path, .. } if *path == layer_a
    ));
    assert!(
        lines[0].starts_with("missing: layer 0 (`application/vnd.test.a`) of `m:1`, blob `sha256:"),
        "{}",
        lines[0]
    );
    assert!(matches!(&report.problems[1], Problem::Corrupt { path, .. } if *path == layer_b));
    assert!(lines[1].starts_with("corrupt: layer 1 (`application/vnd.test.b`) of `m:1`"));
    let tail: Vec<&Problem> = report.problems[2..].iter().collect();
    assert!(tail
        .iter()
        .any(|p| matches!(p, Problem::StrayFile { path } if *path == stray)));
    assert!(tail.iter().any(|p| matches!(
        p,
        Problem::Corrupt { role: BlobRole::Unreferenced, path, .. } if *path == unreferenced
    )));
    Ok(())
}

#[test]
fn wrong_sizes_broken_manifests_and_a_broken_index_are_reported() -> TestResult {
    let (dir, store, mut manifest, _) = store_with_modelkit()?;
    manifest.layers[0].size += 1;
    let lying = store.put_manifest(&manifest)?;
    let report = store.verify_modelkit(&lying, "lying");
    assert!(
        matches!(
            report.problems.as_slice(),
            [Problem::WrongSize {
                expected: 8,
                actual: 7,
                ..
            }]
        ),
        "{:?}",
        report.problems
    );

    let (not_json, size) = store.put_blob(b"not json")?;
    let report = store.verify_modelkit(&Descriptor::new(OCI_MANIFEST, not_json, size), "nj");
    assert!(
        matches!(
            report.problems.as_slice(),
            [Problem::InvalidManifest { .. }]
        ),
        "{:?}",
        report.problems
    );

    std::fs::write(dir.path().join("index.json"), b"{")?;
    let report = store.verify_all()?;
    assert!(matches!(&report.problems[0], Problem::InvalidIndex { .. }));
    let index: PathBuf = dir.path().join("index.json");
    assert!(report.problems[0]
        .to_string()
        .contains(&index.display().to_string()));
    Ok(())
}
