//! Leftovers of killed writers in `ingest/` are removed by the next open that finds no live writer,
//! and a live writer's temporary file is never touched.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use mkbuild_store::Store;

use crate::common::serial;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Set in the child process of `a_killed_writers_leftovers_are_removed_by_the_next_open`.
const WRITER_ENV: &str = "MKBUILD_STORE_TEST_HALF_WRITER_ROOT";

fn ingest_files(root: &Path) -> Result<Vec<String>, std::io::Error> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root.join("ingest"))? {
        names.push(entry?.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

#[test]
fn a_killed_writers_leftovers_are_removed_by_the_next_open() -> TestResult {
    let _serial = serial();
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("store");
    Store::open(&root)?;
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "--exact",
            "ingest_cleanup::half_writer",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(WRITER_ENV, &root)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let ready = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.ends_with("half-written"));
    assert!(ready, "the child wrote its blob half");
    let leftover = ingest_files(&root)?;
    assert_eq!(leftover.len(), 1, "{leftover:?}");

    // The writer is alive: opening the store leaves its file alone.
    let cleanup = Store::open(&root)?.clean_ingest()?;
    assert!(!cleanup.cleaned);
    assert_eq!(ingest_files(&root)?, leftover);

    child.kill()?;
    child.wait()?;
    let store = Store::open(&root)?;
    assert!(ingest_files(&root)?.is_empty(), "removed at open");
    assert!(std::fs::read_dir(root.join("blobs/sha256"))?
        .next()
        .is_none());
    // The store that cleaned can write, and then holds the lock itself: nothing more is cleaned.
    let mut writer = store.blob_writer()?;
    writer.write_all(b"partial")?;
    let cleanup = Store::open(&root)?.clean_ingest()?;
    assert!(!cleanup.cleaned);
    assert_eq!(ingest_files(&root)?.len(), 1);
    drop(writer);
    Ok(())
}

#[test]
fn only_mkbuild_leftovers_go_when_no_writer_lives() -> TestResult {
    let _serial = serial();
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("store");
    Store::open(&root)?;
    std::fs::create_dir_all(root.join("ingest/blob-folder/inner"))?;
    std::fs::write(root.join("ingest/blob-abc"), b"half a blob")?;
    std::fs::write(root.join("ingest/meta-abc"), b"half an index")?;
    std::fs::write(root.join("ingest/blob-folder/inner/x"), b"x")?;
    std::fs::write(root.join("ingest/notes.txt"), b"someone else's")?;
    let cleanup = Store::open(&root)?.clean_ingest()?;
    // `open` itself already removed the leftovers; the explicit call finds nothing left.
    assert!(cleanup.cleaned);
    assert!(cleanup.removed.is_empty());
    // A folder, even named like a leftover, and a file mkbuild never names, stay.
    assert_eq!(ingest_files(&root)?, ["blob-folder", "notes.txt"]);
    Ok(())
}

#[test]
fn a_symlinked_ingest_is_never_followed() -> TestResult {
    let _serial = serial();
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("store");
    Store::open(&root)?;
    let victim = dir.path().join("victim");
    std::fs::create_dir_all(&victim)?;
    std::fs::write(victim.join("blob-precious"), b"x")?;
    let _ = std::fs::remove_dir_all(root.join("ingest"));
    std::os::unix::fs::symlink(&victim, root.join("ingest"))?;
    let store = Store::open(&root)?;
    assert!(!store.clean_ingest()?.cleaned);
    assert!(victim.join("blob-precious").exists());
    assert!(
        store.put_blob(b"new").is_err(),
        "a blob written through the link"
    );
    Ok(())
}

/// The body of the child of `a_killed_writers_leftovers_are_removed_by_the_next_open`: writes half
/// a blob and waits to be killed. Does nothing when run directly.
#[test]
fn half_writer() -> TestResult {
    let Some(root) = std::env::var_os(WRITER_ENV) else {
        return Ok(());
    };
    let store = Store::open(Path::new(&root))?.with_fsync(false);
    let mut writer = store.blob_writer()?;
    writer.write_all(&[7u8; 100_000])?;
    writer.flush()?;
    println!("half-written");
    std::io::stdout().flush()?;
    std::thread::sleep(std::time::Duration::from_secs(60));
    Ok(())
}
