//! The hostile corpus of `tests/hostile/` (see its README) through the real CLI: every case ends
//! with exit code 1 and its clear error, under a memory cap and a time limit, and nothing is
//! written outside (or, for unpack, inside) the target.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{blob_path, ok, pack_evil_modelkit, run_bounded, sha256_hex};

fn hostile() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/hostile")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn expect_error(store: &Path, args: &[&str], what: &str, expected: &str) -> String {
    let (code, _, stderr) = run_bounded(what, store, args, None);
    assert_eq!(code, 1, "{what}: exit code; stderr: {stderr}");
    assert!(
        stderr.contains(expected),
        "{what}: expected `{expected}` in: {stderr}"
    );
    stderr
}

/// A store holding `evil:1`, a `v1` ModelKit whose one layer (the model `w.bin`) is a tar of
/// `w.bin`; what the cases then change by hand.
struct EvilStore {
    store: tempfile::TempDir,
    manifest: serde_json::Value,
}

/// The `digest` of a descriptor in a manifest.
fn digest_at(descriptor: &serde_json::Value) -> String {
    descriptor["digest"].as_str().expect("digest").to_owned()
}

impl EvilStore {
    fn new() -> EvilStore {
        let store = tempfile::tempdir().expect("store");
        let manifest = pack_evil_modelkit(store.path());
        EvilStore { store, manifest }
    }

    /// The digest of the (only) layer.
    fn layer_digest(&self) -> String {
        digest_at(&self.manifest["layers"][0])
    }

    fn config_digest(&self) -> String {
        digest_at(&self.manifest["config"])
    }

    fn path(&self) -> &Path {
        self.store.path()
    }

    /// Stores `bytes` as a blob under their true digest.
    fn put(&self, bytes: &[u8]) -> String {
        let digest = format!("sha256:{}", sha256_hex(bytes));
        std::fs::write(blob_path(self.path(), &digest), bytes).expect("blob");
        digest
    }

    /// Stores a manifest; returns its digest.
    fn put_manifest(&self, manifest: &serde_json::Value) -> String {
        self.put(&serde_json::to_vec(manifest).expect("json"))
    }

    /// A manifest whose layer is `layer` (stored as is) with `media_type`.
    fn with_layer(&self, layer: &[u8], media_type: Option<&str>) -> String {
        let mut m = self.manifest.clone();
        m["layers"][0]["digest"] = self.put(layer).into();
        m["layers"][0]["size"] = layer.len().into();
        if let Some(media_type) = media_type {
            m["layers"][0]["mediaType"] = media_type.into();
        }
        self.put_manifest(&m)
    }

    /// Unpacks `reference` into `<parent>/out`, expecting `expected`; then checks that nothing
    /// was written: `<parent>` holds at most an empty `out`.
    fn unpack_fails(&self, reference: &str, what: &str, expected: &str) {
        let parent = tempfile::tempdir().expect("parent");
        let out = parent.path().join("out");
        expect_error(
            self.path(),
            &["unpack", reference, "-d", s(&out)],
            what,
            expected,
        );
        let left: Vec<_> = std::fs::read_dir(parent.path())
            .expect("parent")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert!(left.iter().all(|n| n == "out"), "{what}: wrote {left:?}");
        if out.exists() {
            let inside: Vec<_> = std::fs::read_dir(&out)
                .expect("out")
                .map(|e| e.expect("entry").file_name())
                .collect();
            assert!(inside.is_empty(), "{what}: left {inside:?} in the target");
        }
    }
}

/// Each hand-made layer of `tests/hostile/layers/` and the error it must end with.
const LAYER_CASES: [(&str, &str); 15] = [
    (
        "absolute-name.tar",
        "entry `/tmp/mkbuild-hostile-absolute` is an absolute path",
    ),
    (
        "parent-dir.tar",
        "entry `../escaped` escapes the target folder",
    ),
    (
        "nested-parent.tar",
        "entry `w/../../escaped` escapes the target folder",
    ),
    ("symlink-out.tar", "entry `link` is a symbolic link"),
    ("symlink-then-write.tar", "entry `link` is a symbolic link"),
    ("hardlink-out.tar", "entry `h` is a hard link"),
    ("char-device.tar", "entry `null` is a character device"),
    ("block-device.tar", "entry `sda` is a block device"),
    ("fifo.tar", "entry `pipe` is a fifo"),
    (
        "duplicate-entry.tar",
        "writes `w.bin`, which an earlier entry already wrote",
    ),
    ("control-char-name.tar", "contains a control character"),
    ("nul-in-pax-path.tar", "contains a control character"),
    ("malformed-pax.tar", "malformed PAX extended header"),
    ("truncated.tar", "is truncated"),
    ("empty.tar", "is truncated"),
];

#[test]
fn hostile_layers_are_refused_and_nothing_is_written() {
    let evil = EvilStore::new();
    for (file, expected) in LAYER_CASES {
        let layer = std::fs::read(hostile().join("layers").join(file)).expect("case file");
        let reference = evil.with_layer(&layer, None);
        evil.unpack_fails(&reference, file, expected);
    }
    assert!(!Path::new("/tmp/mkbuild-hostile-absolute").exists());
}

/// A zstd layer whose PAX header claims 4 GiB, backed by a gigabyte and a half of zeros (a few
/// hundred KiB compressed): read whole, it would exhaust the memory cap.
#[test]
fn a_huge_pax_header_is_refused_before_it_is_read() {
    let mut header = [0u8; 512];
    header[..3].copy_from_slice(b"pax");
    header[100..108].copy_from_slice(b"0000644\0");
    header[124..136].copy_from_slice(format!("{:011o}\0", 4u64 << 30).as_bytes());
    header[156] = b'x';
    header[257..265].copy_from_slice(b"ustar\x0000");
    header[148..156].fill(b' ');
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut encoder = zstd::Encoder::new(Vec::new(), 1).expect("zstd");
    encoder.write_all(&header).expect("header");
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1536 {
        encoder.write_all(&zeros).expect("zeros");
    }
    let layer = encoder.finish().expect("zstd");
    assert!(layer.len() < 1 << 20, "{} bytes", layer.len());
    let evil = EvilStore::new();
    let media_type = "application/vnd.kitops.modelkit.model.v1.tar+zstd";
    let reference = evil.with_layer(&layer, Some(media_type));
    let expected = "a PAX extended header claims 4294967296 bytes, more than the 1048576 allowed";
    evil.unpack_fails(&reference, "huge PAX header", expected);
    // Convert reads layers with the same bound.
    expect_error(
        evil.path(),
        &["convert", &reference, "--to", "v2", "-t", "bomb:converted"],
        "convert of a huge PAX header",
        expected,
    );
}

#[test]
fn damaged_missing_and_lying_blobs_are_refused() {
    let evil = EvilStore::new();
    let layer = evil.layer_digest();
    let config = evil.config_digest();

    // A blob whose bytes do not match its digest.
    let mut damaged = evil.manifest.clone();
    let wrong = format!("sha256:{}", "1".repeat(64));
    std::fs::write(blob_path(evil.path(), &wrong), b"not what the digest says").expect("blob");
    damaged["layers"][0]["digest"] = wrong.clone().into();
    damaged["layers"][0]["size"] = 24.into();
    let reference = evil.put_manifest(&damaged);
    evil.unpack_fails(&reference, "digest mismatch", "is damaged: expected digest");

    // A manifest pointing at blobs that are not there.
    for (field, missing) in [("layers", "2"), ("config", "3")] {
        let mut m = evil.manifest.clone();
        let absent = format!("sha256:{}", missing.repeat(64));
        if field == "layers" {
            m["layers"][0]["digest"] = absent.clone().into();
        } else {
            m["config"]["digest"] = absent.clone().into();
        }
        let reference = evil.put_manifest(&m);
        evil.unpack_fails(
            &reference,
            &format!("missing {field} blob"),
            &format!("blob `{absent}` is not in the store"),
        );
    }

    // A config that is not JSON, and one that is JSON but no Kitfile.
    for (bytes, expected) in [
        (&b"this is not JSON {"[..], "config JSON:1:1: "),
        (&b"[1, 2, 3]"[..], "config JSON:1:1: "),
    ] {
        let mut m = evil.manifest.clone();
        m["config"]["digest"] = evil.put(bytes).into();
        m["config"]["size"] = bytes.len().into();
        let reference = evil.put_manifest(&m);
        evil.unpack_fails(&reference, "config not JSON", expected);
    }

    // A manifest that is not JSON, and one of the wrong schema.
    for (bytes, expected) in [
        (
            &b"\x00\x01 not json"[..],
            "is not a valid OCI image manifest",
        ),
        (
            &br#"{"schemaVersion":1,"config":{"digest":"sha256:00","size":1}}"#[..],
            "is not a valid OCI image manifest",
        ),
    ] {
        let reference = evil.put(bytes);
        evil.unpack_fails(&reference, "manifest not JSON", expected);
    }

    // Media types that lie: a plain tar said to be gzip, or zstd; the config said to be a layer.
    let tar = std::fs::read(blob_path(evil.path(), &layer)).expect("layer");
    for (media_type, expected) in [
        (
            "application/vnd.kitops.modelkit.model.v1.tar+gzip",
            "invalid gzip header",
        ),
        (
            "application/vnd.kitops.modelkit.model.v1.tar+zstd",
            "Unknown frame descriptor",
        ),
    ] {
        let reference = evil.with_layer(&tar, Some(media_type));
        evil.unpack_fails(&reference, media_type, expected);
    }
    let config_bytes = std::fs::read(blob_path(evil.path(), &config)).expect("config");
    let reference = evil.with_layer(&config_bytes, None);
    evil.unpack_fails(
        &reference,
        "config as a layer",
        "is truncated before its first entry",
    );
}

#[test]
fn a_layer_whose_descriptor_size_lies_is_refused_by_unpack_and_convert() {
    let evil = EvilStore::new();
    let layer = evil.layer_digest();
    let size = evil.manifest["layers"][0]["size"].as_u64().expect("size");
    for (lie, read) in [
        (size + 1, format!("{size} were read")),
        (size - 1, format!("{size} or more were read")),
    ] {
        let mut m = evil.manifest.clone();
        m["layers"][0]["size"] = lie.into();
        let reference = evil.put_manifest(&m);
        let expected = format!("its descriptor says {lie} bytes, but {read}");
        let unpacked = expect_error(
            evil.path(),
            &["unpack", &reference, "-d", s(&evil.path().join("out"))],
            "unpack of a lying size",
            &expected,
        );
        let converted = expect_error(
            evil.path(),
            &["convert", &reference, "--to", "v2", "-t", "lie:converted"],
            "convert of a lying size",
            &expected,
        );
        for stderr in [unpacked, converted] {
            assert!(
                stderr.contains(&format!("blob `{layer}`")) && stderr.contains("`mkbuild verify`"),
                "{stderr}"
            );
        }
        assert!(!evil.path().join("out").exists());
        let list = ok(evil.path(), &["list"]);
        assert!(!list.contains("converted"), "{list}");
    }
}

/// GNU tar, unless missing: then the test is skipped, or fails with `MKBUILD_REQUIRE_TOOLS=1`.
fn gnu_tar_found() -> bool {
    let found = Command::new("tar")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success() && out.stdout.starts_with(b"tar (GNU tar)"));
    assert!(
        found || std::env::var("MKBUILD_REQUIRE_TOOLS").as_deref() != Ok("1"),
        "GNU tar is required (MKBUILD_REQUIRE_TOOLS=1) but not found"
    );
    found
}

#[test]
fn sparse_layers_made_by_gnu_tar_unpack_byte_for_byte_and_convert_refuses_them() {
    if !gnu_tar_found() {
        eprintln!("GNU tar not found: skipping");
        return;
    }
    let evil = EvilStore::new();
    let source = tempfile::tempdir().expect("source");
    // 8 MiB of holes with data at 1 MiB and at the very end.
    let mut content = vec![0u8; 8 << 20];
    content[1 << 20..(1 << 20) + 5000].fill(b'm');
    let end = content.len() - 7;
    content[end..].copy_from_slice(b"the end");
    let file = std::fs::File::create(source.path().join("w.bin")).expect("create");
    file.set_len(content.len() as u64).expect("set_len");
    use std::os::unix::fs::FileExt as _;
    file.write_all_at(&content[1 << 20..(1 << 20) + 5000], 1 << 20)
        .expect("write");
    file.write_all_at(b"the end", end as u64).expect("write");
    for args in [
        &["--format=pax", "--sparse-version=0.0"][..],
        &["--format=pax", "--sparse-version=0.1"],
        &["--format=pax"],
        &["--format=gnu"],
    ] {
        let layer_file = source.path().join("layer.tar");
        let status = Command::new("tar")
            .arg("--sparse")
            .args(args)
            .arg("-cf")
            .arg(&layer_file)
            .arg("-C")
            .arg(source.path())
            .arg("w.bin")
            .status()
            .expect("tar");
        assert!(status.success());
        let layer = std::fs::read(&layer_file).expect("layer");
        assert!(layer.len() < 1 << 20, "{args:?}: not sparse");
        let reference = evil.with_layer(&layer, None);

        let parent = tempfile::tempdir().expect("parent");
        let out = parent.path().join("out");
        ok(evil.path(), &["unpack", &reference, "-d", s(&out)]);
        assert!(
            std::fs::read(out.join("w.bin")).expect("unpacked") == content,
            "{args:?}: wrong content"
        );

        let stderr = expect_error(
            evil.path(),
            &[
                "convert",
                &reference,
                "--to",
                "v2",
                "-t",
                "sparse:converted",
            ],
            "convert of a sparse layer",
            "entry `w.bin`",
        );
        assert!(stderr.to_lowercase().contains("sparse"), "{stderr}");
        assert!(!ok(evil.path(), &["list"]).contains("converted"));
    }
}

/// Each hostile Kitfile of `tests/hostile/kitfiles/` and the error `pack -f` must end with.
const KITFILE_CASES: [(&str, &str); 5] = [
    ("alias-bomb.yaml", "repetition limit exceeded"),
    (
        "deep-flow.yaml",
        "`[` and `{` are nested more than 256 deep",
    ),
    ("deep-block.yaml", "recursion limit exceeded"),
    ("nul-byte.yaml", "control characters are not allowed"),
    (
        "control-char-path.yaml",
        "model: path `w\\u{1}.bin` contains a control character",
    ),
];

#[test]
fn hostile_kitfiles_are_refused_quickly_and_the_store_is_unchanged() {
    let store = tempfile::tempdir().expect("store");
    let context = tempfile::tempdir().expect("context");
    std::fs::write(context.path().join("w.bin"), "w").expect("write");
    ok(store.path(), &["list"]);
    let before = snapshot(store.path());
    for (file, expected) in KITFILE_CASES {
        let kitfile = hostile().join("kitfiles").join(file);
        let start = Instant::now();
        expect_error(
            store.path(),
            &["pack", s(context.path()), "-f", s(&kitfile)],
            file,
            expected,
        );
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{file}: {:?}",
            start.elapsed()
        );
    }
    assert_eq!(snapshot(store.path()), before, "the store changed");
}

/// Every file of the store with its bytes (lock files aside, whose existence is incidental).
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_none_or(|e| e != "lock") {
                let bytes = std::fs::read(&path).expect("read");
                out.push((path, bytes));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn verify_reports_missing_and_corrupt_blobs_of_a_hostile_store() {
    let evil = EvilStore::new();
    ok(evil.path(), &["verify"]);
    ok(evil.path(), &["verify", "evil:1"]);
    let layer = evil.layer_digest();
    let config = evil.config_digest();
    std::fs::write(blob_path(evil.path(), &layer), b"tampered").expect("tamper");
    std::fs::remove_file(blob_path(evil.path(), &config)).expect("remove");
    let out = crate::common::mkbuild(evil.path(), &["verify", "evil:1"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("missing: the config of `evil:1`, blob `{config}`")),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with(
            "corrupt: layer 0 (`application/vnd.kitops.modelkit.model.v1.tar`) of `evil:1`"
        ),
        "{stdout}"
    );
    assert!(stderr.contains("`evil:1` has 2 problems"), "{stderr}");
    // `fsck` is the same command, over the whole store.
    let out = crate::common::mkbuild(evil.path(), &["fsck"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), stdout);
}
