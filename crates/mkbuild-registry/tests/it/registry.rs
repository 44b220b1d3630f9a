//! Push and pull against a real registry (Debian's `docker-registry`, started per test on
//! 127.0.0.1; each test skips when it is not installed, fails under `MKBUILD_REQUIRE_TOOLS`), through a fault proxy where
//! a test needs a broken network or a lying registry.

use std::collections::BTreeMap;
use std::path::Path;

use mkbuild_registry::testing::{FaultProxy, Faults, TestRegistry, TEST_PASSWORD, TEST_USER};
use mkbuild_registry::{
    ClientOptions, Credentials, RegistryClient, RegistryError, RemoteReference,
};
use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{Descriptor, Digest, Manifest, Reference, Store};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Deterministic bytes that do not compress (a xorshift stream).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// A store holding one ModelKit-shaped manifest: a config and three layers (1.5 MiB, 1 byte, 0).
fn sample_store(root: &Path) -> TestResult<(Store, Descriptor, Vec<Vec<u8>>)> {
    let store = Store::open(root)?.with_fsync(false);
    let blobs = vec![
        br#"{"manifest":{"name":"sample"}}"#.to_vec(),
        noise(1536 * 1024 + 7, 1),
        b"x".to_vec(),
        Vec::new(),
    ];
    let mut descriptors = Vec::new();
    for (i, blob) in blobs.iter().enumerate() {
        let (digest, size) = store.put_blob(blob)?;
        let media_type = if i == 0 {
            "application/vnd.kitops.modelkit.config.v1+json"
        } else {
            "application/vnd.kitops.modelkit.model.v1.tar"
        };
        descriptors.push(Descriptor::new(media_type, digest, size));
    }
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_owned()),
        artifact_type: Some("application/vnd.kitops.modelkit.manifest.v1+json".to_owned()),
        config: descriptors[0].clone(),
        layers: descriptors[1..].to_vec(),
        annotations: BTreeMap::from([("ml.mkbuild.format".to_owned(), "v2".to_owned())]),
    };
    let descriptor = store.put_manifest(&manifest)?;
    store.tag(&Reference::parse("team/model:v1")?, &descriptor)?;
    Ok((store, descriptor, blobs))
}

fn client(
    credentials: Option<Credentials>,
    chunk_size: Option<u64>,
) -> Result<RegistryClient, RegistryError> {
    RegistryClient::new(ClientOptions {
        plain_http: true,
        credentials,
        chunk_size,
        ..ClientOptions::default()
    })
}

/// A client that sends one blob at a time (so the proxy's faults hit a known blob), in chunks of
/// `chunk_size` bytes when given.
fn serial_client(chunk_size: Option<u64>) -> Result<RegistryClient, RegistryError> {
    RegistryClient::new(ClientOptions {
        plain_http: true,
        chunk_size,
        concurrency: 1,
        ..ClientOptions::default()
    })
}

/// Pulls `manifest` from `registry` straight (no proxy) into the new store `root` and checks that
/// every blob arrived with the bytes of `blobs`.
fn pull_back(
    client: &RegistryClient,
    registry: &TestRegistry,
    root: &Path,
    manifest: &Descriptor,
    blobs: &[Vec<u8>],
) -> TestResult {
    let other = Store::open(root)?.with_fsync(false);
    let direct = RemoteReference::parse(&format!("{}/team/model:v1", registry.host()))?;
    client.pull(&other, &direct)?;
    assert_same_blobs(&other, &manifest.digest, blobs)
}

fn test_credentials(password: &str) -> Option<Credentials> {
    Some(Credentials {
        username: TEST_USER.to_owned(),
        password: password.to_owned(),
    })
}

/// Every blob of the pulled manifest is in `store` with the bytes of `expected`.
fn assert_same_blobs(store: &Store, manifest: &Digest, expected: &[Vec<u8>]) -> TestResult {
    let parsed = store.read_manifest(manifest)?;
    let digests: Vec<&Digest> = std::iter::once(&parsed.config.digest)
        .chain(parsed.layers.iter().map(|l| &l.digest))
        .collect();
    assert_eq!(digests.len(), expected.len());
    for (digest, bytes) in digests.into_iter().zip(expected) {
        assert_eq!(&store.read_blob(digest, u64::MAX)?, bytes, "{digest}");
    }
    Ok(())
}

/// Whether `ingest/` holds no temporary file; partial downloads (`partial-*`), which an
/// interrupted pull keeps on purpose for the next one, do not count.
fn ingest_is_empty(store: &Store) -> bool {
    std::fs::read_dir(store.root().join("ingest"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .all(|e| e.file_name().to_string_lossy().starts_with("partial-"))
        })
        .unwrap_or(true)
}

#[test]
fn push_then_pull_round_trips_bytes_and_digests() -> TestResult {
    let Some(registry) = TestRegistry::start_or_skip("push_then_pull_round_trips", false) else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let (store, manifest, blobs) = sample_store(&dir.path().join("a"))?;
    let remote = RemoteReference::parse(&format!("{}/team/model:v1", registry.host()))?;
    let client = client(None, None)?;

    let pushed = client.push(&store, &manifest, &remote)?;
    assert_eq!(pushed.manifest.digest, manifest.digest);
    assert_eq!(pushed.uploaded.len(), 4, "{pushed:?}");
    assert_eq!(
        pushed.bytes_uploaded,
        blobs.iter().map(|b| b.len() as u64).sum::<u64>()
    );
    // Again: the registry has every blob, so nothing is sent but the manifest.
    let again = client.push(&store, &manifest, &remote)?;
    assert_eq!((again.uploaded.len(), again.skipped.len()), (0, 4));

    let other = Store::open(&dir.path().join("b"))?.with_fsync(false);
    let pulled = client.pull(&other, &remote)?;
    assert_eq!(pulled.manifest.digest, manifest.digest);
    assert_eq!(
        other.read_blob(&manifest.digest, u64::MAX)?,
        store.read_blob(&manifest.digest, u64::MAX)?
    );
    assert_same_blobs(&other, &manifest.digest, &blobs)?;
    let local = format!("{}/team/model:v1", registry.host());
    assert_eq!(other.resolve(&local)?.digest, manifest.digest);
    assert_eq!(pulled.downloaded.len(), 4);
    assert!(ingest_is_empty(&other));

    // By digest: nothing to download, nothing tagged.
    let by_digest = remote.with_digest(manifest.digest.clone());
    let again = client.pull(&other, &by_digest)?;
    assert_eq!((again.downloaded.len(), again.present.len()), (0, 4));
    assert_eq!(again.tagged, None);
    Ok(())
}

#[test]
fn a_second_client_reads_what_was_pushed() -> TestResult {
    let Some(registry) =
        TestRegistry::start_or_skip("a_second_client_reads_what_was_pushed", false)
    else {
        return Ok(());
    };
    if !mkbuild_test_support::require_tool("skopeo") {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let (store, manifest, _) = sample_store(dir.path())?;
    let remote = RemoteReference::parse(&format!("{}/team/model:v1", registry.host()))?;
    client(None, None)?.push(&store, &manifest, &remote)?;
    let output = std::process::Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--raw"])
        .arg(format!("docker://{remote}"))
        .output()?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.stdout, store.read_blob(&manifest.digest, u64::MAX)?);
    assert_eq!(Digest::of(&output.stdout), manifest.digest);
    Ok(())
}

#[test]
fn basic_auth_accepts_the_right_password_only() -> TestResult {
    let Some(registry) = TestRegistry::start_or_skip("basic_auth", true) else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let (store, manifest, blobs) = sample_store(&dir.path().join("a"))?;
    let remote = RemoteReference::parse(&format!("{}/team/model:v1", registry.host()))?;

    let wrong = client(test_credentials("wrong"), None)?;
    let message = wrong
        .push(&store, &manifest, &remote)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        message,
        format!(
            "the registry `{0}` refused the credentials of user `mkbuild` (401 Unauthorized) for \
             `team/model`; check the user name and password, then run `mkbuild login {0}` again",
            registry.host()
        )
    );
    let message = wrong
        .check_login(
            &registry.host(),
            &Credentials {
                username: TEST_USER.into(),
                password: "wrong".into(),
            },
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.contains("refused the credentials of user `mkbuild`"),
        "{message}"
    );

    let anonymous = client(None, None)?;
    let message = anonymous
        .pull(&store, &remote)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(message.contains("requires a login"), "{message}");
    assert!(
        message.contains(&format!("mkbuild login {}", registry.host())),
        "{message}"
    );

    let right = client(test_credentials(TEST_PASSWORD), Some(512 * 1024))?;
    right.check_login(
        &registry.host(),
        &Credentials {
            username: TEST_USER.into(),
            password: TEST_PASSWORD.into(),
        },
    )?;
    right.push(&store, &manifest, &remote)?;
    pull_back(&right, &registry, &dir.path().join("b"), &manifest, &blobs)
}

#[test]
fn a_chunked_upload_resumes_after_a_dropped_chunk() -> TestResult {
    let Some(registry) = TestRegistry::start_or_skip("a_chunked_upload_resumes", false) else {
        return Ok(());
    };
    let proxy = FaultProxy::start(
        registry.addr(),
        Faults {
            drop_patch: Some(3),
            ..Faults::default()
        },
    )?;
    let dir = tempfile::tempdir()?;
    let (store, manifest, blobs) = sample_store(&dir.path().join("a"))?;
    let remote = RemoteReference::parse(&format!("{}/team/model:v1", proxy.host()))?;
    let client = serial_client(Some(256 * 1024))?;
    let pushed = client.push(&store, &manifest, &remote)?;
    assert_eq!(pushed.uploaded.len(), 4);
    let stats = proxy.stats();
    assert_eq!(stats.dropped_patches, 1, "{stats:?}");
    // Resumed, not restarted: every byte crossed exactly once.
    let total: u64 = blobs.iter().map(|b| b.len() as u64).sum();
    assert_eq!(stats.patch_body_bytes, total, "{stats:?}");

    pull_back(&client, &registry, &dir.path().join("b"), &manifest, &blobs)
}

#[test]
fn a_chunk_cut_in_the_middle_restarts_the_blob() -> TestResult {
    let Some(registry) = TestRegistry::start_or_skip("a_chunk_cut_in_the_middle", false) else {
        return Ok(());
    };
    // Distribution drops an upload whose last chunk arrived in part (its offset no longer matches
    // the session's), so the client must notice and send that blob again from the start.
    let proxy = FaultProxy::start(
        registry.addr(),
        Faults {
            cut_patch: Some((3, 1000)),
            ..Faults::default()
        },
    )?;
    let dir = tempfile::tempdir()?;
    let (store, manifest, blobs) = sample_store(&dir.path().join("a"))?;
    let remote = RemoteReference::parse(&format!("{}/team/model:v1", proxy.host()))?;
    let client = serial_client(Some(256 * 1024))?;
    client.push(&store, &manifest, &remote)?;
    let stats = proxy.stats();
    assert_eq!(stats.cut_patches, 1, "{stats:?}");
    let total: u64 = blobs.iter().map(|b| b.len() as u64).sum();
    assert!(stats.patch_body_bytes > total, "{stats:?}");

    pull_back(&client, &registry, &dir.path().join("b"), &manifest, &blobs)
}

#[test]
fn a_broken_download_resumes_by_range() -> TestResult {
    let Some(registry) = TestRegistry::start_or_skip("a_broken_download_resumes", false) else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let (store, manifest, blobs) = sample_store(&dir.path().join("a"))?;
    let direct = RemoteReference::parse(&format!("{}/team/model:v1", registry.host()))?;
    let client = serial_client(None)?;
    client.push(&store, &manifest, &direct)?;

    // The first two blob downloads break after 100 000 bytes.
    let proxy = FaultProxy::start(
        registry.addr(),
        Faults {
            cut_blob_downloads: Some((2, 100_000)),
            ..Faults::default()
        },
    )?;
    let remote = RemoteReference::parse(&format!("{}/team/model:v1", proxy.host()))?;
    let other = Store::open(&dir.path().join("b"))?.with_fsync(false);
    let pulled = client.pull(&other, &remote)?;
    assert_same_blobs(&other, &manifest.digest, &blobs)?;
    let stats = proxy.stats();
    assert_eq!(stats.cut_blob_downloads, 2, "{stats:?}");
    // The large layer broke after 100 000 bytes and went on from there.
    assert!(stats.resumed_blob_downloads >= 1, "{stats:?}");
    let total: u64 = blobs.iter().map(|b| b.len() as u64).sum();
    assert_eq!(pulled.bytes_downloaded, total, "no byte was fetched twice");
    assert!(ingest_is_empty(&other));
    Ok(())
}

#[test]
fn a_corrupted_blob_is_refused() -> TestResult {
    let Some(registry) = TestRegistry::start_or_skip("a_corrupted_blob_is_refused", false) else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let (store, manifest, _) = sample_store(&dir.path().join("a"))?;
    let direct = RemoteReference::parse(&format!("{}/team/model:v1", registry.host()))?;
    let client = client(None, None)?;
    client.push(&store, &manifest, &direct)?;

    let proxy = FaultProxy::start(
        registry.addr(),
        Faults {
            corrupt_blobs: true,
            ..Faults::default()
        },
    )?;
    let remote = RemoteReference::parse(&format!("{}/team/model:v1", proxy.host()))?;
    let other = Store::open(&dir.path().join("b"))?.with_fsync(false);
    let error = client.pull(&other, &remote).err();
    let Some(RegistryError::DigestMismatch {
        expected, actual, ..
    }) = &error
    else {
        panic!("expected a digest mismatch, got {error:?}");
    };
    assert_ne!(expected, actual);
    let message = error.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("whose content hashes to"), "{message}");
    assert!(message.contains("it was not stored"), "{message}");
    // Nothing of the bad blob, and no tag, reached the store.
    assert!(!other.has_blob(actual));
    assert!(other.list()?.is_empty());
    assert!(!other.has_blob(&manifest.digest));
    assert!(ingest_is_empty(&other));
    // The bad bytes are not kept for a later pull to resume from.
    let kept = other
        .root()
        .join("ingest")
        .join(format!("partial-{}", expected.hex()));
    assert!(!kept.exists(), "{}", kept.display());
    Ok(())
}
