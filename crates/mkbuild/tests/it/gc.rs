//! `mkbuild remove` drops tags; `mkbuild gc` deletes exactly the blobs no tagged ModelKit uses, and
//! waits for nobody: while another process writes to the store it refuses and deletes nothing.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{fails, ok};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// The digests of every file in `blobs/sha256/`.
fn stored(store: &Path) -> BTreeSet<String> {
    std::fs::read_dir(store.join("blobs/sha256"))
        .expect("blobs")
        .map(|e| format!("sha256:{}", e.expect("entry").file_name().to_string_lossy()))
        .collect()
}

/// The manifest, config and layer digests of `reference`.
fn blobs_of(store: &Path, reference: &str) -> BTreeSet<String> {
    let manifest = crate::common::manifest(store, reference);
    let mut blobs: BTreeSet<String> = manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .chain([&manifest["config"]])
        .map(|b| b["digest"].as_str().expect("digest").to_owned())
        .collect();
    let listed: serde_json::Value =
        serde_json::from_str(&ok(store, &["list", "--json"])).expect("json");
    let entry = listed
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["reference"] == reference)
        .expect("listed");
    blobs.insert(entry["digest"].as_str().expect("digest").to_owned());
    blobs
}

fn context(weights: &str, docs: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("context");
    std::fs::create_dir_all(dir.path().join("model")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("docs")).expect("mkdir");
    std::fs::write(dir.path().join("model/w.bin"), weights.repeat(10_000)).expect("write");
    std::fs::write(dir.path().join("docs/README.md"), docs).expect("write");
    std::fs::write(
        dir.path().join("Kitfile"),
        "manifestVersion: 1.0.0\nmodel:\n  path: model\ndocs:\n  - path: docs\n",
    )
    .expect("Kitfile");
    dir
}

#[test]
fn gc_deletes_exactly_what_no_tag_reaches() {
    let store = tempfile::tempdir().expect("store");
    let store = store.path();
    // Two ModelKits that share their docs layer; then `model:latest` moves from the first to the
    // second, and a third is tagged twice.
    let first = context("weights one", "shared docs");
    let second = context("weights two", "shared docs");
    let third = context("weights three", "other docs");
    ok(store, &["pack", s(first.path()), "-t", "model:latest"]);
    let first_blobs = blobs_of(store, "model:latest");
    ok(store, &["pack", s(second.path()), "-t", "model:latest"]);
    let second_blobs = blobs_of(store, "model:latest");
    ok(
        store,
        &["pack", s(third.path()), "-t", "third:1", "-t", "third:2"],
    );
    let third_blobs = blobs_of(store, "third:1");
    let only_first: BTreeSet<String> = first_blobs.difference(&second_blobs).cloned().collect();
    assert!(!only_first.is_empty() && only_first.len() < first_blobs.len());

    // A dry run names them and deletes nothing.
    let before = stored(store);
    let named: BTreeSet<String> = ok(store, &["gc", "--dry-run"])
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(named, only_first);
    assert_eq!(stored(store), before);

    // gc deletes exactly those; everything tagged still verifies and unpacks.
    let removed: BTreeSet<String> = ok(store, &["gc"]).lines().map(str::to_owned).collect();
    assert_eq!(removed, only_first);
    let expected: BTreeSet<String> = second_blobs.union(&third_blobs).cloned().collect();
    assert_eq!(stored(store), expected);
    ok(store, &["verify"]);
    let out = tempfile::tempdir().expect("out");
    ok(
        store,
        &["unpack", "model:latest", "-d", s(&out.path().join("m"))],
    );
    assert_eq!(
        std::fs::read(out.path().join("m/model/w.bin")).expect("unpacked"),
        "weights two".repeat(10_000).into_bytes()
    );
    // A second gc has nothing to do.
    assert_eq!(ok(store, &["gc"]), "");

    // Removing one of two tags frees nothing; removing the other frees the third's own blobs.
    ok(store, &["rm", "third:1"]);
    assert_eq!(ok(store, &["gc"]), "");
    ok(store, &["remove", "third:2"]);
    let removed: BTreeSet<String> = ok(store, &["gc"]).lines().map(str::to_owned).collect();
    assert_eq!(
        removed,
        third_blobs.difference(&second_blobs).cloned().collect()
    );
    assert_eq!(stored(store), second_blobs);
    ok(store, &["verify"]);

    // An unknown tag is an error that says so.
    let stderr = fails(store, &["rm", "nothing:here"]);
    assert!(
        stderr.contains("no ModelKit in the store is tagged `nothing:here`"),
        "{stderr}"
    );
}

/// While another process holds the store for writing (as a pack does from its start to its exit),
/// gc refuses and deletes nothing.
#[test]
fn gc_refuses_while_another_process_writes() {
    let store = tempfile::tempdir().expect("store");
    let store = store.path();
    let first = context("weights one", "docs");
    let second = context("weights two", "docs");
    ok(store, &["pack", s(first.path()), "-t", "m:1"]);
    ok(store, &["pack", s(second.path()), "-t", "m:1"]);
    let before = stored(store);

    // `flock -s` holds the shared writer lock, as a running pack or pull does.
    // `--no-fork`: flock becomes `sleep`, so killing it releases the lock.
    if !mkbuild_test_support::require_tool("flock") {
        return;
    }
    let mut writer = Command::new("flock")
        .args(["--shared", "--no-fork"])
        .arg(store.join("ingest.lock"))
        .args(["sleep", "30"])
        .stdin(Stdio::null())
        .spawn()
        .expect("run flock");
    // Wait until the lock is taken (flock holds it before it starts sleep).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let probe = Command::new("flock")
            .args(["-n", "-x"])
            .arg(store.join("ingest.lock"))
            .arg("true")
            .status()
            .expect("flock");
        if !probe.success() || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let stderr = fails(store, &["gc"]);
    let _ = writer.kill();
    let _ = writer.wait();
    assert!(
        stderr.contains("another mkbuild process is writing to the store"),
        "{stderr}"
    );
    assert_eq!(stored(store), before, "nothing deleted");
    // Once the writer is gone, gc runs.
    assert!(!ok(store, &["gc"]).is_empty());
}
