//! Concurrent writers of one store lose no tag: threads, and separate processes.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{Descriptor, Manifest, Reference, Store, StoreError};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const WORKERS: usize = 6;
const TAGS_PER_WORKER: usize = 25;
/// Set in the child processes that `concurrent_processes_lose_no_tag` starts.
const WORKER_ENV: &str = "MKBUILD_STORE_TEST_WORKER_ROOT";
const WORKER_ID_ENV: &str = "MKBUILD_STORE_TEST_WORKER_ID";

/// Opens the store (possibly creating it at the same time as others), stores a manifest of its own
/// and tags it under `TAGS_PER_WORKER` names, plus a shared name all workers fight over.
fn work(root: &std::path::Path, worker: usize) -> Result<(), StoreError> {
    let store = Store::open(root)?.with_fsync(false);
    let (config, size) = store.put_blob(format!("config of worker {worker}").as_bytes())?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_owned()),
        artifact_type: None,
        config: Descriptor::new(
            "application/vnd.kitops.modelkit.config.v1+json",
            config,
            size,
        ),
        layers: vec![],
        annotations: Default::default(),
    };
    let descriptor = store.put_manifest(&manifest)?;
    for i in 0..TAGS_PER_WORKER {
        store.tag(&format!("worker{worker}/model:v{i}").parse()?, &descriptor)?;
        store.tag(&"shared:latest".parse()?, &descriptor)?;
    }
    Ok(())
}

fn check_all_tags(root: &std::path::Path) -> TestResult {
    let store = Store::open(root)?;
    let listed = store.list()?;
    let names: BTreeSet<String> = listed
        .iter()
        .filter_map(|(reference, _)| reference.as_ref().map(Reference::to_string))
        .collect();
    assert_eq!(listed.len(), names.len(), "one entry per name");
    let mut expected: BTreeSet<String> = (0..WORKERS)
        .flat_map(|w| (0..TAGS_PER_WORKER).map(move |i| format!("worker{w}/model:v{i}")))
        .collect();
    expected.insert("shared:latest".to_owned());
    assert_eq!(names, expected);
    for (_, descriptor) in listed {
        store.read_manifest(&descriptor.digest)?;
    }
    let leftovers = std::fs::read_dir(root.join("ingest"))?.count();
    assert_eq!(leftovers, 0, "no temporary files left");
    Ok(())
}

#[test]
fn concurrent_threads_lose_no_tag() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("store");
    let results: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|w| {
                scope.spawn({
                    let root = &root;
                    move || work(root, w)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| panic!("worker thread panicked"))
            })
            .collect()
    });
    for result in results {
        result?;
    }
    check_all_tags(&root)
}

#[test]
fn concurrent_processes_lose_no_tag() -> TestResult {
    let _serial = crate::common::serial();
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("store");
    let exe = std::env::current_exe()?;
    let children = (0..WORKERS)
        .map(|w| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "concurrency::process_worker",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env(WORKER_ENV, &root)
                .env(WORKER_ID_ENV, w.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
        })
        .collect::<Result<Vec<_>, _>>()?;
    for child in children {
        let output = child.wait_with_output()?;
        assert!(
            output.status.success(),
            "worker failed ({:?}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    check_all_tags(&root)
}

/// The body of a child process of `concurrent_processes_lose_no_tag`; does nothing when run directly.
#[test]
fn process_worker() -> TestResult {
    let (Some(root), Some(id)) = (
        std::env::var_os(WORKER_ENV),
        std::env::var_os(WORKER_ID_ENV),
    ) else {
        return Ok(());
    };
    let worker: usize = id.to_string_lossy().parse()?;
    work(std::path::Path::new(&root), worker)?;
    Ok(())
}
