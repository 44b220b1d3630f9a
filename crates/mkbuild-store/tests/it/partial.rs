//! Partial downloads: a resumable writer dropped halfway leaves `ingest/partial-<hex>` and its
//! state; the next writer for that digest continues from what was hashed, without the earlier
//! bytes given again; opening the store keeps partial files, `gc` and the age limit remove them.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use mkbuild_store::{Digest, Store};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn data(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn ingest_names(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("ingest"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Writes `bytes` into a resumable writer for `digest`, pauses until the hashing thread has
/// recorded all of it, then drops the writer unfinished (as a killed pull would stop).
fn write_and_abandon(store: &Store, digest: &Digest, bytes: &[u8]) -> TestResult {
    let mut writer = store.resumable_blob_writer(digest)?;
    writer.write_all(bytes)?;
    writer.flush()?;
    let state = store
        .root()
        .join("ingest")
        .join(format!("partial-{}.state", digest.hex()));
    let deadline = Instant::now() + Duration::from_secs(20);
    let want = format!("\n{} ", bytes.len());
    while !std::fs::read_to_string(&state)
        .unwrap_or_default()
        .contains(&want)
    {
        assert!(
            Instant::now() < deadline,
            "no state for {} bytes",
            bytes.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(writer);
    Ok(())
}

#[test]
fn a_resumed_writer_continues_where_the_last_one_stopped() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("store");
    let blob = data(24 << 20);
    let digest = Digest::of(&blob);
    let half = 12 << 20;
    {
        let store = Store::open(&root)?.with_fsync(false);
        write_and_abandon(&store, &digest, &blob[..half])?;
    }
    let hex = digest.hex().to_owned();
    assert_eq!(
        ingest_names(&root),
        [format!("partial-{hex}"), format!("partial-{hex}.state")]
    );

    // A new process: opening the store keeps the partial download.
    let store = Store::open(&root)?.with_fsync(false);
    assert_eq!(ingest_names(&root).len(), 2, "kept by open");
    let mut writer = store.resumable_blob_writer(&digest)?;
    assert_eq!(writer.bytes_written(), half as u64, "resumes at the half");
    writer.write_all(&blob[half..])?;
    let (stored, size) = writer.commit()?;
    assert_eq!((stored, size), (digest.clone(), blob.len() as u64));
    assert!(
        std::fs::read(store.blob_path(&digest))? == blob,
        "blob bytes"
    );
    assert_eq!(ingest_names(&root), Vec::<String>::new(), "nothing left");
    Ok(())
}

/// Bytes that are not the blob's (a registry that sent the wrong rest) give a wrong digest; the
/// finished blob is dropped, and the partial file and its state go with it, so the next download
/// starts afresh.
#[test]
fn a_wrong_digest_discards_the_partial_download() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("store");
    let store = Store::open(&root)?.with_fsync(false);
    let blob = data(8 << 20);
    let digest = Digest::of(&blob);
    write_and_abandon(&store, &digest, &blob[..4 << 20])?;

    let mut writer = store.resumable_blob_writer(&digest)?;
    assert_eq!(writer.bytes_written(), 4 << 20);
    let mut rest = blob[4 << 20..].to_vec();
    rest[1000] ^= 1;
    writer.write_all(&rest)?;
    let finished = writer.finish()?;
    assert_ne!(finished.digest(), &digest);
    drop(finished);
    assert_eq!(ingest_names(&root), Vec::<String>::new());
    assert!(!store.has_blob(&digest));
    Ok(())
}

/// What was hashed is not read again, so bytes changed in the partial file between two runs are
/// not seen by the resumed hash: the store trusts `ingest/` as it trusts `blobs/`, and `verify`
/// is what finds damage in either. This pins down that safety net.
#[test]
fn bytes_changed_behind_a_checkpoint_are_found_by_verify() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("store");
    let store = Store::open(&root)?.with_fsync(false);
    let blob = data(8 << 20);
    let digest = Digest::of(&blob);
    write_and_abandon(&store, &digest, &blob[..4 << 20])?;
    let partial = root
        .join("ingest")
        .join(format!("partial-{}", digest.hex()));
    let mut bytes = std::fs::read(&partial)?;
    bytes[1000] ^= 1;
    std::fs::write(&partial, bytes)?;

    let mut writer = store.resumable_blob_writer(&digest)?;
    writer.write_all(&blob[4 << 20..])?;
    writer.commit()?;
    let report = store.verify_all()?;
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.to_string().contains(digest.hex())),
        "{report:?}"
    );
    Ok(())
}

/// A state file of another digest, a torn one, or one that claims more bytes than the file has
/// is not resumed from: the writer starts at zero.
#[test]
fn a_state_that_does_not_fit_starts_from_zero() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("store");
    let store = Store::open(&root)?.with_fsync(false);
    let blob = data(4 << 20);
    let digest = Digest::of(&blob);
    write_and_abandon(&store, &digest, &blob[..2 << 20])?;
    let state_path = root
        .join("ingest")
        .join(format!("partial-{}.state", digest.hex()));
    let good = std::fs::read_to_string(&state_path)?;
    let other = Digest::of(b"another blob");
    let bigger = good.replace(&format!("\n{} ", 2 << 20), &format!("\n{} ", 3 << 20));
    for state in [
        good.replace(&digest.to_string(), &other.to_string()),
        good[..good.len() / 2].to_owned(),
        bigger,
    ] {
        std::fs::write(&state_path, &state)?;
        let writer = store.resumable_blob_writer(&digest)?;
        assert_eq!(writer.bytes_written(), 0, "state {state:?}");
    }
    Ok(())
}

/// While one writer has the partial download open, a second for the same digest gets an
/// ordinary temporary file; both blobs commit.
#[test]
fn a_second_writer_of_the_same_digest_does_not_share_the_file() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?.with_fsync(false);
    let blob = data(3 << 20);
    let digest = Digest::of(&blob);
    let mut first = store.resumable_blob_writer(&digest)?;
    let mut second = store.resumable_blob_writer(&digest)?;
    let name = |w: &mkbuild_store::BlobWriter| {
        w.temp_path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    assert!(name(&first).starts_with("partial-"), "{}", name(&first));
    assert!(name(&second).starts_with("blob-"), "{}", name(&second));
    first.write_all(&blob)?;
    second.write_all(&blob)?;
    assert_eq!(second.commit()?.0, digest);
    assert_eq!(first.commit()?.0, digest);
    assert!(std::fs::read(store.blob_path(&digest))? == blob);
    Ok(())
}

#[test]
fn gc_and_the_age_limit_remove_partial_downloads() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("store");
    let blob = data(2 << 20);
    let digest = Digest::of(&blob);
    {
        let store = Store::open(&root)?.with_fsync(false);
        write_and_abandon(&store, &digest, &blob[..1 << 20])?;
    }
    // Younger than the limit: kept.
    let store = Store::open(&root)?;
    assert_eq!(store.clean_ingest()?.removed.len(), 0);
    assert_eq!(ingest_names(&root).len(), 2);
    let report = store.collect_garbage(true)?;
    assert_eq!(report.partial_files, 0, "a dry run removes nothing");
    assert_eq!(ingest_names(&root).len(), 2);
    let report = store.collect_garbage(false)?;
    assert_eq!(report.partial_files, 2);
    assert_eq!(ingest_names(&root), Vec::<String>::new());

    {
        let store = Store::open(&root)?.with_fsync(false);
        write_and_abandon(&store, &digest, &blob[..1 << 20])?;
    }
    std::thread::sleep(Duration::from_millis(1100));
    let store = Store::open(&root)?.with_partial_max_age(Duration::from_secs(1));
    assert_eq!(
        store.clean_ingest()?.removed.len(),
        2,
        "older than a second"
    );
    assert_eq!(ingest_names(&root), Vec::<String>::new());
    Ok(())
}
