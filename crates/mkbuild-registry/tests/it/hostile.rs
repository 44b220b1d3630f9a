//! Push and pull against a hostile registry (`testing::HostileRegistry`, on 127.0.0.1; needs no
//! installed registry): bodies that never end are cut at their cap, stalled answers time out,
//! credentials never reach another origin, and damaged or symlinked blobs in the store are never
//! sent.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use mkbuild_registry::testing::{HostileRegistry, Hostility, TOKEN};
use mkbuild_registry::{
    ClientOptions, Credentials, RegistryClient, RegistryError, RemoteReference,
};
use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{Descriptor, Manifest, Reference, Store, StoreError};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const USER: &str = "alice";
const PASSWORD: &str = "s3cret";

/// A store, its tagged manifest's descriptor and bytes, and the bytes of its blobs.
type Sample = (Store, Descriptor, Vec<u8>, Vec<Vec<u8>>);

/// A store holding a ModelKit-shaped manifest (a config and two layers); its manifest bytes and
/// blobs, to serve them from the hostile registry too.
fn sample_store(root: &Path) -> TestResult<Sample> {
    let store = Store::open(root)?.with_fsync(false);
    let blobs = vec![
        br#"{"manifest":{"name":"sample"}}"#.to_vec(),
        (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect(),
        b"layer two".to_vec(),
    ];
    let mut descriptors = Vec::new();
    for blob in &blobs {
        let (digest, size) = store.put_blob(blob)?;
        descriptors.push(Descriptor::new(
            "application/vnd.kitops.modelkit.model.v1.tar",
            digest,
            size,
        ));
    }
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_owned()),
        artifact_type: None,
        config: descriptors[0].clone(),
        layers: descriptors[1..].to_vec(),
        annotations: BTreeMap::new(),
    };
    let descriptor = store.put_manifest(&manifest)?;
    store.tag(&Reference::parse("team/model:v1")?, &descriptor)?;
    let bytes = store.read_blob(&descriptor.digest, u64::MAX)?;
    Ok((store, descriptor, bytes, blobs))
}

fn client(credentials: bool, chunk_size: Option<u64>) -> Result<RegistryClient, RegistryError> {
    RegistryClient::new(ClientOptions {
        plain_http: true,
        credentials: credentials.then(|| Credentials {
            username: USER.to_owned(),
            password: PASSWORD.to_owned(),
        }),
        chunk_size,
        timeout: Duration::from_secs(2),
        retries: 1,
        ..ClientOptions::default()
    })
}

fn remote(server: &HostileRegistry) -> Result<RemoteReference, RegistryError> {
    RemoteReference::parse(&format!("{}/team/model:v1", server.host()))
}

/// What [`pull_from`] gives: the error, the time taken, the store pulled into and its folder
/// (kept for as long as the store is looked at).
type Pulled = (Option<RegistryError>, Duration, Store, tempfile::TempDir);

/// Pulls from a registry misbehaving as `hostility` into a new store.
fn pull_from(hostility: Hostility) -> TestResult<Pulled> {
    let dir = tempfile::tempdir()?;
    let (_, _, manifest, blobs) = sample_store(&dir.path().join("a"))?;
    let server = HostileRegistry::start(hostility, manifest, blobs, None)?;
    let other = Store::open(&dir.path().join("b"))?.with_fsync(false);
    let start = Instant::now();
    let error = client(false, None)?.pull(&other, &remote(&server)?).err();
    Ok((error, start.elapsed(), other, dir))
}

#[test]
fn endless_bodies_are_cut_at_their_cap() -> TestResult {
    let (error, took, store, _dir) = pull_from(Hostility::EndlessManifest)?;
    let message = error.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(
        matches!(error, Some(RegistryError::TooLarge { limit: 4194304, .. })),
        "{message}"
    );
    assert!(
        message.contains("sent more than 4194304 bytes for the manifest"),
        "{message}"
    );
    assert!(store.list()?.is_empty());
    assert!(took < Duration::from_secs(20), "{took:?}");

    let (error, took, _, _dir) = pull_from(Hostility::EndlessError)?;
    let Some(RegistryError::Status {
        status: 500,
        message,
        ..
    }) = &error
    else {
        panic!("expected a 500, got {error:?}");
    };
    assert!(
        message.len() <= 500,
        "the error body is cut: {}",
        message.len()
    );
    assert!(took < Duration::from_secs(20), "{took:?}");

    let (error, took, _, _dir) = pull_from(Hostility::EndlessToken)?;
    let message = error.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(
        matches!(error, Some(RegistryError::TooLarge { limit: 65536, .. })),
        "{message}"
    );
    assert!(message.contains("for a token"), "{message}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    Ok(())
}

#[test]
fn stalled_registries_time_out() -> TestResult {
    for hostility in [
        Hostility::NoAnswer,
        Hostility::HeadThenSilence,
        Hostility::OneBytePerSecond,
        Hostility::StallMidBlob,
    ] {
        let (error, took, store, _dir) = pull_from(hostility)?;
        let message = error.as_ref().map(ToString::to_string).unwrap_or_default();
        eprintln!("pull, {hostility:?}: failed after {took:?}: {message}");
        assert!(
            matches!(error, Some(RegistryError::TimedOut { seconds: 2, .. })),
            "{hostility:?}: {message}"
        );
        assert!(message.contains("made no progress for 2 s"), "{message}");
        assert!(message.contains("--timeout SECS"), "{message}");
        // Timeout 2 s, one retry for a blob: far below 20 s (a bound, not a speed claim).
        assert!(took < Duration::from_secs(20), "{hostility:?}: {took:?}");
        assert!(store.list()?.is_empty(), "{hostility:?}: nothing tagged");
    }
    Ok(())
}

#[test]
fn a_resumed_download_answered_from_byte_0_starts_over_and_succeeds() -> TestResult {
    let (error, _, store, _dir) = pull_from(Hostility::WrongRange)?;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(store.list()?.len(), 1);
    assert!(store.verify_all()?.is_ok());
    Ok(())
}

#[test]
fn a_push_to_a_silent_registry_times_out() -> TestResult {
    for chunk_size in [None, Some(64 * 1024)] {
        let dir = tempfile::tempdir()?;
        let (store, descriptor, manifest, _) = sample_store(&dir.path().join("a"))?;
        let server = HostileRegistry::start(Hostility::SilentUploads, manifest, Vec::new(), None)?;
        let start = Instant::now();
        let error = client(false, chunk_size)?
            .push(&store, &descriptor, &remote(&server)?)
            .err();
        let took = start.elapsed();
        let message = error.as_ref().map(ToString::to_string).unwrap_or_default();
        eprintln!("push, chunk size {chunk_size:?}: failed after {took:?}: {message}");
        assert!(
            matches!(error, Some(RegistryError::TimedOut { seconds: 2, .. })),
            "{chunk_size:?}: {message}"
        );
        assert!(
            message.contains("while uploading the blob `sha256:"),
            "{message}"
        );
        // Two attempts (one retry), each waiting for an answer at most 4 x 2 s once its body is
        // sent (the grace a registry gets to finish a blob): 16 s, well below 30 s.
        assert!(took < Duration::from_secs(30), "{chunk_size:?}: {took:?}");
        assert_eq!(server.pushed_manifest(), None);
    }
    Ok(())
}

/// Whether every request to the sniffer came without credentials, and there were some.
fn assert_sniffer_saw_no_credentials(server: &HostileRegistry, what: &str) {
    let sniffed = server.sniffed();
    assert!(!sniffed.is_empty(), "{what}: the sniffer got nothing");
    for request in &sniffed {
        assert_eq!(request.authorization, None, "{what}: {request:?}");
    }
    // The registry itself got the credentials, so they were there to leak.
    let expected = format!("Basic {}", base64_of(&format!("{USER}:{PASSWORD}")));
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.authorization.as_deref() == Some(expected.as_str())),
        "{what}: {:?}",
        server.requests()
    );
}

fn base64_of(text: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn an_upload_location_on_another_port_gets_no_credentials() -> TestResult {
    for chunk_size in [None, Some(64 * 1024)] {
        let dir = tempfile::tempdir()?;
        let (store, descriptor, manifest, _) = sample_store(&dir.path().join("a"))?;
        // The registry has no blob, so every one goes up, to the sniffer.
        let server = HostileRegistry::start(
            Hostility::UploadElsewhere,
            manifest.clone(),
            Vec::new(),
            Some((USER, PASSWORD)),
        )?;
        let pushed = client(true, chunk_size)?.push(&store, &descriptor, &remote(&server)?)?;
        assert_eq!(pushed.uploaded.len(), 3, "{chunk_size:?}");
        let what = format!("push with chunk size {chunk_size:?}");
        assert_sniffer_saw_no_credentials(&server, &what);
        let method = if chunk_size.is_some() { "PATCH" } else { "PUT" };
        assert!(
            server.sniffed().iter().any(|r| r.method == method),
            "{what}: {:?}",
            server.sniffed()
        );
        assert_eq!(server.pushed_manifest(), Some(manifest));
    }
    Ok(())
}

#[test]
fn a_redirected_blob_download_gets_no_credentials() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (_, descriptor, manifest, blobs) = sample_store(&dir.path().join("a"))?;
    let server = HostileRegistry::start(
        Hostility::RedirectBlobs,
        manifest,
        blobs.clone(),
        Some((USER, PASSWORD)),
    )?;
    let other = Store::open(&dir.path().join("b"))?.with_fsync(false);
    let pulled = client(true, None)?.pull(&other, &remote(&server)?)?;
    assert_eq!(pulled.manifest.digest, descriptor.digest);
    assert_eq!(pulled.downloaded.len(), 3);
    assert_sniffer_saw_no_credentials(&server, "redirected pull");
    let gets = server
        .sniffed()
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert_eq!(gets, 3, "{:?}", server.sniffed());
    for blob in &blobs {
        assert_eq!(
            &other.read_blob(&mkbuild_store::Digest::of(blob), u64::MAX)?,
            blob
        );
    }
    Ok(())
}

/// The bearer flow: the credentials go to the token service the challenge names (docker's rule,
/// see `auth.rs`), even on another port; the registry gets only the token.
#[test]
fn a_bearer_token_comes_from_the_realm_and_goes_to_the_registry_only() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (store, descriptor, manifest, blobs) = sample_store(&dir.path().join("a"))?;
    let server = HostileRegistry::start(
        Hostility::TokenElsewhere,
        manifest,
        blobs,
        Some((USER, PASSWORD)),
    )?;
    let other = Store::open(&dir.path().join("b"))?.with_fsync(false);
    let pulled = client(true, None)?.pull(&other, &remote(&server)?)?;
    assert_eq!(pulled.manifest.digest, descriptor.digest);
    let basic = format!("Basic {}", base64_of(&format!("{USER}:{PASSWORD}")));
    let token_requests = server.sniffed();
    assert!(!token_requests.is_empty());
    for request in &token_requests {
        assert!(request.path.starts_with("/token?"), "{request:?}");
        assert!(
            request
                .path
                .contains("scope=repository%3Ateam%2Fmodel%3Apull"),
            "{request:?}"
        );
        assert_eq!(request.authorization.as_deref(), Some(basic.as_str()));
    }
    let bearer = format!("Bearer {TOKEN}");
    for request in server.requests() {
        assert_ne!(
            request.authorization.as_deref(),
            Some(basic.as_str()),
            "{request:?}"
        );
        if request.authorization.is_some() {
            assert_eq!(request.authorization.as_deref(), Some(bearer.as_str()));
        }
    }
    // And push with the same flow (a push scope).
    let pushed = client(true, Some(100_000))?.push(&store, &descriptor, &remote(&server)?)?;
    assert_eq!(pushed.manifest.digest, descriptor.digest);
    assert!(server
        .sniffed()
        .iter()
        .any(|r| r.path.contains("pull%2Cpush")));
    Ok(())
}

/// Flips one byte in the middle of the stored file of `digest`, keeping its size.
fn flip_a_byte(store: &Store, digest: &mkbuild_store::Digest) -> TestResult {
    let path = store.blob_path(digest);
    let mut bytes = std::fs::read(&path)?;
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&path, bytes)?;
    Ok(())
}

#[test]
fn a_damaged_stored_manifest_is_written_again_by_pull() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (_, descriptor, manifest, blobs) = sample_store(&dir.path().join("a"))?;
    let server = HostileRegistry::start(Hostility::None, manifest.clone(), blobs, None)?;
    let other = Store::open(&dir.path().join("b"))?.with_fsync(false);
    let client = client(false, None)?;
    client.pull(&other, &remote(&server)?)?;
    flip_a_byte(&other, &descriptor.digest)?;
    assert!(other.read_blob(&descriptor.digest, u64::MAX).is_err());
    let pulled = client.pull(&other, &remote(&server)?)?;
    assert_eq!(pulled.downloaded.len(), 0, "the blobs were intact");
    assert_eq!(other.read_blob(&descriptor.digest, u64::MAX)?, manifest);
    Ok(())
}

#[test]
fn a_corrupt_stored_blob_is_not_pushed() -> TestResult {
    for chunk_size in [None, Some(64 * 1024)] {
        let dir = tempfile::tempdir()?;
        let (store, descriptor, manifest, blobs) = sample_store(&dir.path().join("a"))?;
        let layer = mkbuild_store::Digest::of(&blobs[1]);
        flip_a_byte(&store, &layer)?;
        let server = HostileRegistry::start(Hostility::None, manifest, Vec::new(), None)?;
        let error = client(false, chunk_size)?
            .push(&store, &descriptor, &remote(&server)?)
            .err();
        let message = error.as_ref().map(ToString::to_string).unwrap_or_default();
        assert!(
            matches!(&error, Some(RegistryError::CorruptLocalBlob { digest, .. }) if digest == &layer),
            "{chunk_size:?}: {message}"
        );
        assert!(
            message.contains(&format!("the stored blob `{layer}`")),
            "{message}"
        );
        assert!(message.contains("mkbuild verify --repair"), "{message}");
        // The upload of the bad blob never completed (its last bytes never left), and no manifest
        // names it.
        assert_eq!(server.pushed_manifest(), None, "{chunk_size:?}");
        let sent: u64 = server
            .requests()
            .iter()
            .filter(|r| r.method == "PATCH" || r.path.contains(layer.hex()))
            .map(|r| r.body_bytes)
            .sum();
        assert!(
            sent < blobs[1].len() as u64,
            "{chunk_size:?}: {sent} bytes sent: {:?}",
            server.requests()
        );
        if chunk_size.is_some() {
            let closed = server
                .requests()
                .iter()
                .any(|r| r.method == "PUT" && r.path.contains(layer.hex()));
            assert!(
                !closed,
                "the chunked upload was closed: {:?}",
                server.requests()
            );
        }
    }
    Ok(())
}

#[cfg(unix)]
#[test]
fn a_symlinked_stored_blob_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (store, descriptor, manifest, blobs) = sample_store(&dir.path().join("a"))?;
    // The link points at a file with the right bytes: following it would even pass the hash.
    let layer = mkbuild_store::Digest::of(&blobs[1]);
    let elsewhere = dir.path().join("elsewhere");
    std::fs::write(&elsewhere, &blobs[1])?;
    std::fs::remove_file(store.blob_path(&layer))?;
    std::os::unix::fs::symlink(&elsewhere, store.blob_path(&layer))?;
    let server = HostileRegistry::start(Hostility::None, manifest, Vec::new(), None)?;
    let error = client(false, None)?
        .push(&store, &descriptor, &remote(&server)?)
        .err();
    let message = error.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(
        matches!(&error, Some(RegistryError::Store(StoreError::BlobNotRegular { digest, .. })) if digest == &layer),
        "{message}"
    );
    assert!(message.contains("is not a regular file"), "{message}");
    // Refused before anything was sent.
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    Ok(())
}
