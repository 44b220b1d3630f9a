//! Writing, reading and verifying blobs.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use mkbuild_store::{Digest, Store, StoreError};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const HELLO: &str = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

fn store() -> Result<(tempfile::TempDir, Store), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?.with_fsync(false);
    Ok((dir, store))
}

fn ingest_entries(store: &Store) -> Result<Vec<String>, std::io::Error> {
    let dir = store.root().join("ingest");
    if !dir.exists() {
        return Ok(vec![]);
    }
    fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect()
}

#[test]
fn puts_and_reads_blobs() -> TestResult {
    let (_dir, store) = store()?;
    let (digest, size) = store.put_blob(b"hello")?;
    assert_eq!((digest.as_str(), size), (HELLO, 5));
    assert!(store.has_blob(&digest));
    assert_eq!(
        store.blob_path(&digest),
        store.root().join("blobs/sha256").join(digest.hex())
    );
    assert_eq!(fs::read(store.blob_path(&digest))?, b"hello");
    assert_eq!(store.read_blob(&digest, 5)?, b"hello");
    assert_eq!(store.verify_blob(&digest)?, 5);
    // Shared content: readable by others (less the umask, which never removes the owner's read bit).
    let plain = store.root().join("plain");
    fs::write(&plain, b"")?;
    let umasked = fs::metadata(&plain)?.permissions().mode() & 0o777;
    fs::remove_file(plain)?;
    let mode = fs::metadata(store.blob_path(&digest))?.permissions().mode() & 0o777;
    assert_eq!(mode, umasked & 0o644, "{mode:o}");
    assert!(ingest_entries(&store)?.is_empty());
    Ok(())
}

#[test]
fn streams_through_a_writer() -> TestResult {
    let (_dir, store) = store()?;
    let mut writer = store.blob_writer()?;
    let chunk = vec![7u8; 300_000];
    let mut expected = Vec::new();
    for i in 0..10u8 {
        writer.write_all(&[i])?; // small writes, like tar headers
        writer.write_all(&chunk)?;
        expected.push(i);
        expected.extend_from_slice(&chunk);
    }
    assert_eq!(writer.bytes_written(), expected.len() as u64);
    let (digest, size) = writer.commit()?;
    assert_eq!(digest, Digest::of(&expected));
    assert_eq!(size, expected.len() as u64);
    assert_eq!(fs::read(store.blob_path(&digest))?, expected);
    assert!(ingest_entries(&store)?.is_empty());
    Ok(())
}

#[test]
fn empty_blob() -> TestResult {
    let (_dir, store) = store()?;
    let (digest, size) = store.blob_writer()?.commit()?;
    assert_eq!(digest, Digest::of(b""));
    assert_eq!(size, 0);
    assert_eq!(store.read_blob(&digest, 0)?, b"");
    Ok(())
}

#[test]
fn an_intact_small_blob_is_kept_and_a_written_one_replaces_a_damaged_copy() -> TestResult {
    let (_dir, store) = store()?;
    let (digest, _) = store.put_blob(b"hello")?;
    let path = store.blob_path(&digest);
    let before = fs::metadata(&path)?;
    std::thread::sleep(std::time::Duration::from_millis(20));
    store.put_blob(b"hello")?;
    let after = fs::metadata(&path)?;
    assert_eq!(after.ino(), before.ino(), "an intact blob is not rewritten");
    assert_eq!(after.modified()?, before.modified()?);

    // Damaged since it was written: the next writer of the same digest replaces it.
    fs::write(&path, b"jello")?;
    store.put_blob(b"hello")?;
    assert_eq!(fs::read(&path)?, b"hello");
    fs::write(&path, b"jello")?;
    let mut writer = store.blob_writer()?;
    writer.write_all(b"hello")?;
    assert_eq!(writer.commit()?, (digest.clone(), 5));
    assert_eq!(fs::read(&path)?, b"hello");
    assert!(ingest_entries(&store)?.is_empty());
    Ok(())
}

#[test]
fn dropped_writer_leaves_no_temp_file() -> TestResult {
    let (_dir, store) = store()?;
    let mut writer = store.blob_writer()?;
    writer.write_all(&vec![1u8; 1 << 20])?;
    let temp = writer.temp_path().to_owned();
    assert!(
        temp.starts_with(store.root().join("ingest")),
        "{}",
        temp.display()
    );
    assert!(temp.exists());
    drop(writer);
    assert!(!temp.exists());
    assert!(ingest_entries(&store)?.is_empty());
    assert_eq!(fs::read_dir(store.root().join("blobs/sha256"))?.count(), 0);
    Ok(())
}

#[test]
fn catches_a_corrupted_blob() -> TestResult {
    let (_dir, store) = store()?;
    let (digest, _) = store.put_blob(b"hello")?;
    let path = store.blob_path(&digest);
    fs::write(&path, b"hellO")?;
    for err in [
        store.read_blob(&digest, 100).err(),
        store.verify_blob(&digest).err(),
    ] {
        match err {
            Some(StoreError::DigestMismatch {
                path: p,
                expected,
                actual,
            }) => {
                assert_eq!(p, path);
                assert_eq!(expected, digest);
                assert_eq!(actual, Digest::of(b"hellO"));
            }
            other => panic!("expected a digest mismatch, got {other:?}"),
        }
    }
    let message = store
        .read_blob(&digest, 100)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "blob `{}` does not match its digest `{HELLO}`",
            path.display()
        )),
        "{message}"
    );
    assert!(message.contains("delete the file"), "{message}");
    Ok(())
}

#[test]
fn refuses_blobs_over_the_limit() -> TestResult {
    let (_dir, store) = store()?;
    let (digest, _) = store.put_blob(b"hello")?;
    let message = store
        .read_blob(&digest, 4)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "blob `{HELLO}` is 5 bytes, more than the 4 bytes allowed"
        )),
        "{message}"
    );
    Ok(())
}

#[test]
fn names_a_missing_blob() -> TestResult {
    let (_dir, store) = store()?;
    let digest: Digest = HELLO.parse()?;
    assert!(!store.has_blob(&digest));
    for err in [
        store.open_blob(&digest).err(),
        store.read_blob(&digest, 10).err(),
        store.read_manifest(&digest).err(),
    ] {
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.starts_with(&format!("blob `{HELLO}` is not in the store")),
            "{message}"
        );
        assert!(
            message.contains(&store.blob_path(&digest).display().to_string()),
            "{message}"
        );
    }
    Ok(())
}

#[test]
fn concurrent_writers_of_the_same_bytes() -> TestResult {
    let (_dir, store) = store()?;
    let results: Vec<Result<(Digest, u64), StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    let mut writer = store.blob_writer()?;
                    writer
                        .write_all(&vec![42u8; 100_000])
                        .map_err(|e| StoreError::Io {
                            action: "write",
                            path: "test".into(),
                            cause: e,
                        })?;
                    writer.commit()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| panic!("writer thread panicked"))
            })
            .collect()
    });
    for result in results {
        assert_eq!(result?.1, 100_000);
    }
    assert_eq!(fs::read_dir(store.root().join("blobs/sha256"))?.count(), 1);
    assert!(ingest_entries(&store)?.is_empty());
    Ok(())
}

#[test]
fn fsync_on_by_default_works() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?;
    let (digest, _) = store.put_blob(b"durable")?;
    assert_eq!(store.read_blob(&digest, 100)?, b"durable");
    Ok(())
}
