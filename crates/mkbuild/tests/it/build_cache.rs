//! The build cache: an unchanged layer is reused without reading its files, and any change to a
//! file of a layer (new mtime, or new bytes behind an old mtime) repacks that layer.

use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, SystemTime};

use crate::common::mkbuild;

/// Packs `context` at debug level; returns the digest and the layers reused from the cache.
fn pack(store: &Path, context: &Path, extra: &[&str]) -> (String, Vec<String>) {
    let context = context.to_str().expect("UTF-8 path");
    let mut args = vec!["-vv", "pack", context, "--progress", "none"];
    args.extend_from_slice(extra);
    let out: Output = mkbuild(store, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "pack failed: {stderr}");
    // Layers pack in parallel: their lines come in any order.
    let mut reused: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.split("layer `").nth(1))
        .filter_map(|l| l.strip_suffix("`: unchanged, reused from the build cache"))
        .map(str::to_owned)
        .collect();
    reused.sort();
    let digest = String::from_utf8(out.stdout).expect("UTF-8");
    (digest.trim().to_owned(), reused)
}

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

fn context() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs::write(
        root.join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: cache\nmodel:\n  name: m\n  path: model.bin\ncode:\n  - path: src\n",
    )
    .expect("Kitfile");
    fs::write(root.join("model.bin"), vec![7u8; 100_000]).expect("model");
    fs::create_dir(root.join("src")).expect("src");
    fs::write(root.join("src/train.py"), "print('train')\n").expect("code");
    // Files changed less than the racy margin before a pack are never recorded.
    std::thread::sleep(Duration::from_millis(1100));
    dir
}

fn set_mtime(path: &Path, time: SystemTime) {
    fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(time))
        .expect("set mtime");
}

#[test]
fn unchanged_layers_are_reused_and_every_change_is_seen() {
    let store = tempfile::tempdir().expect("store");
    let ctx = context();
    let model = ctx.path().join("model.bin");

    let (cold, reused) = pack(store.path(), ctx.path(), &[]);
    assert!(reused.is_empty(), "a cold pack reused {reused:?}");
    let (warm, reused) = pack(store.path(), ctx.path(), &[]);
    assert_eq!(warm, cold);
    assert_eq!(reused, ["model.bin", "src"]);
    // The summary says how much was not read again (the model's and the script's bytes).
    let out = mkbuild(store.path(), &["pack", s(ctx.path())]);
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(
        summary.contains(", 100015 bytes reused or cloned)"),
        "{summary}"
    );
    let (no_cache, reused) = pack(store.path(), ctx.path(), &["--no-cache"]);
    assert_eq!(no_cache, cold);
    assert!(reused.is_empty(), "--no-cache reused {reused:?}");

    // Touched: same bytes, new mtime (and ctime): the layer is repacked, the other one reused.
    let old_mtime = fs::metadata(&model)
        .and_then(|m| m.modified())
        .expect("mtime");
    set_mtime(&model, old_mtime + Duration::from_secs(10));
    let (_, reused) = pack(store.path(), ctx.path(), &[]);
    assert_eq!(reused, ["src"]);

    // Rewritten behind its back: same size, the old mtime put back; only the ctime tells.
    let mut bytes = fs::read(&model).expect("read");
    bytes[50_000] = 8;
    fs::write(&model, &bytes).expect("rewrite");
    set_mtime(&model, old_mtime);
    let (rewritten, reused) = pack(store.path(), ctx.path(), &[]);
    assert_eq!(reused, ["src"]);
    assert_ne!(rewritten, cold, "the new bytes must give a new digest");
}

#[test]
fn a_record_whose_blob_is_gone_is_not_trusted() {
    let store = tempfile::tempdir().expect("store");
    let ctx = context();
    let (cold, _) = pack(store.path(), ctx.path(), &[]);
    let (_, reused) = pack(store.path(), ctx.path(), &[]);
    assert_eq!(reused.len(), 2);

    let manifest = crate::common::manifest(store.path(), &cold);
    let model_layer = manifest["layers"][0]["digest"]
        .as_str()
        .expect("layer digest");
    fs::remove_file(crate::common::blob_path(store.path(), model_layer)).expect("remove the blob");
    let (again, reused) = pack(store.path(), ctx.path(), &[]);
    assert_eq!(reused, ["src"]);
    assert_eq!(again, cold);
    assert!(crate::common::blob_path(store.path(), model_layer).is_file());
}

#[test]
fn records_live_in_the_store_cache_folder_per_context() {
    let store = tempfile::tempdir().expect("store");
    let (one, two) = (context(), context());
    pack(store.path(), one.path(), &[]);
    pack(store.path(), two.path(), &[]);
    let records = fs::read_dir(store.path().join("cache/layers"))
        .expect("cache folder")
        .count();
    assert_eq!(records, 4, "two contexts of two layers each");
    let (_, reused) = pack(store.path(), two.path(), &["--compression", "zstd"]);
    assert!(reused.is_empty(), "another compression must not reuse");
}
