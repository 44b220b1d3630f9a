//! Raw layers stored and unpacked without a copy: on XFS with reflinks the store's blob shares
//! the file's extents, and the unpacked file the blob's (no disk space used, `filefrag` says
//! `shared`); on ext4, which cannot clone, pack and unpack stream the bytes as before. Each filesystem is an image file mounted as a loop device, which
//! needs root (as CI runs); elsewhere the tests skip (a failure under `MKBUILD_REQUIRE_TOOLS`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{blob_path, manifest, mkbuild, ok, sha256_hex};

/// A filesystem made in an image file and mounted at `mount`; unmounted when dropped.
struct LoopFs {
    mount: PathBuf,
    _dir: tempfile::TempDir,
}

impl LoopFs {
    /// Makes a 320 MiB filesystem with `mkfs` (plus `args`) and mounts it, or says why it cannot.
    fn new(mkfs: &str, args: &[&str]) -> Option<LoopFs> {
        if !mkbuild_test_support::require_tool(mkfs) {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let image = dir.path().join("fs.img");
        // XFS wants at least 300 MiB; the file is sparse, so this costs little.
        std::fs::File::create(&image)
            .and_then(|f| f.set_len(320 << 20))
            .expect("image file");
        let made = Command::new(mkfs)
            .args(args)
            .arg(&image)
            .output()
            .expect("run mkfs");
        assert!(made.status.success(), "{mkfs}: {made:?}");
        let mount = dir.path().join("mnt");
        std::fs::create_dir(&mount).expect("mkdir");
        match Command::new("mount")
            .args(["-o", "loop"])
            .arg(&image)
            .arg(&mount)
            .output()
        {
            Ok(out) if out.status.success() => Some(LoopFs { mount, _dir: dir }),
            other => {
                mkbuild_test_support::skip(&format!(
                    "cannot mount a loop device (needs root, as CI runs): {other:?}"
                ));
                None
            }
        }
    }

    /// KiB in use, after writing everything out (XFS allocates late).
    fn used_kib(&self) -> u64 {
        let synced = Command::new("sync")
            .arg("-f")
            .arg(&self.mount)
            .status()
            .expect("sync");
        assert!(synced.success());
        let out = Command::new("df")
            .args(["-k", "--output=used"])
            .arg(&self.mount)
            .output()
            .expect("df");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or_else(|| panic!("df output: {out:?}"))
    }
}

impl Drop for LoopFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.mount).status();
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A context with a Kitfile and one 48 MiB weight file of varied bytes; returns the file's bytes.
fn model_context(context: &Path) -> Vec<u8> {
    std::fs::create_dir_all(context).expect("mkdir");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let bytes: Vec<u8> = (0..48 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(context.join("model.safetensors"), &bytes).expect("weights");
    std::fs::write(
        context.join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: clone\nmodel:\n  path: model.safetensors\n",
    )
    .expect("Kitfile");
    bytes
}

/// Packs the weights as a raw layer and returns the stored blob's path and pack's summary, after
/// checking the blob holds exactly the file's bytes.
fn pack_raw(fs: &LoopFs, bytes: &[u8]) -> (PathBuf, String) {
    let context = fs.mount.join("context");
    let store = fs.mount.join("store");
    let args = [
        "pack",
        s(&context),
        "--format",
        "modelpack",
        "-t",
        "clone:1",
    ];
    let out = mkbuild(&store, &args);
    assert!(out.status.success(), "{out:?}");
    let summary = String::from_utf8_lossy(&out.stderr).into_owned();
    let manifest = manifest(&store, "clone:1");
    let layer = &manifest["layers"][0];
    let digest = layer["digest"].as_str().expect("layer digest");
    assert_eq!(digest, format!("sha256:{}", sha256_hex(bytes)));
    let blob = blob_path(&store, digest);
    assert!(std::fs::read(&blob).expect("blob") == bytes, "blob bytes");
    ok(&store, &["verify", "clone:1"]);
    (blob, summary)
}

/// Whether `filefrag -v` lists every extent of `file` as shared with another file.
fn all_extents_shared(file: &Path) -> bool {
    let out = Command::new("filefrag")
        .arg("-v")
        .arg(file)
        .output()
        .expect("filefrag");
    let text = String::from_utf8_lossy(&out.stdout);
    // Extent lines start with their number and a colon: "   0:        0..   25408: ...".
    let extents: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.trim_start()
                .split(':')
                .next()
                .is_some_and(|n| n.trim().parse::<u32>().is_ok())
        })
        .collect();
    assert!(!extents.is_empty(), "no extents listed: {text}");
    extents.iter().all(|l| l.contains("shared"))
}

#[test]
fn on_xfs_with_reflinks_a_raw_layer_shares_the_files_extents_and_takes_no_space() {
    let Some(fs) = LoopFs::new("mkfs.xfs", &["-q", "-m", "reflink=1"]) else {
        return;
    };
    if !mkbuild_test_support::require_tool("filefrag") {
        return;
    }
    let bytes = model_context(&fs.mount.join("context"));
    let before = fs.used_kib();
    let (blob, summary) = pack_raw(&fs, &bytes);
    let grown = fs.used_kib().saturating_sub(before);
    assert!(
        summary.contains(&format!(", {} bytes reused or cloned)", bytes.len())),
        "the summary counts the cloned bytes: {summary}"
    );
    assert!(
        grown < 1024,
        "the store grew by {grown} KiB for a {} KiB layer",
        bytes.len() >> 10
    );
    assert!(
        all_extents_shared(&blob),
        "the blob's extents are not shared"
    );
    // The clone is the store's own: changing the source afterwards leaves the blob intact.
    std::fs::write(fs.mount.join("context/model.safetensors"), b"changed").expect("write");
    assert!(std::fs::read(&blob).expect("blob") == bytes, "blob changed");

    // Unpack clones the blob back: no space either, and the file shares the blob's extents.
    let store = fs.mount.join("store");
    let out = fs.mount.join("out");
    let before = fs.used_kib();
    ok(&store, &["unpack", "clone:1", "-d", s(&out)]);
    let grown = fs.used_kib().saturating_sub(before);
    let unpacked = out.join("model.safetensors");
    assert!(
        std::fs::read(&unpacked).expect("unpacked") == bytes,
        "bytes"
    );
    assert!(grown < 1024, "unpack used {grown} KiB");
    assert!(all_extents_shared(&unpacked), "the unpacked file is a copy");

    // A blob damaged in the store is caught in the clone, and nothing is written.
    let mut damaged = std::fs::read(&blob).expect("blob");
    damaged[4096] ^= 1;
    std::fs::write(&blob, damaged).expect("damage the blob");
    let again = fs.mount.join("again");
    let out = mkbuild(&store, &["unpack", "clone:1", "-d", s(&again)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("sha256:"), "names the digest: {stderr}");
    assert!(!again.join("model.safetensors").exists(), "nothing written");
}

#[test]
fn on_ext4_a_raw_layer_is_streamed_into_the_store() {
    let Some(fs) = LoopFs::new("mkfs.ext4", &["-q", "-F"]) else {
        return;
    };
    if !mkbuild_test_support::require_tool("filefrag") {
        return;
    }
    let bytes = model_context(&fs.mount.join("context"));
    let before = fs.used_kib();
    let (blob, summary) = pack_raw(&fs, &bytes);
    let grown = fs.used_kib().saturating_sub(before);
    assert!(!summary.contains("cloned"), "{summary}");
    assert!(
        grown >= (bytes.len() as u64 >> 10),
        "a copy takes the layer's size, yet the store grew by {grown} KiB"
    );
    assert!(!all_extents_shared(&blob), "ext4 cannot share extents");

    let store = fs.mount.join("store");
    let out = fs.mount.join("out");
    ok(&store, &["unpack", "clone:1", "-d", s(&out)]);
    let unpacked = out.join("model.safetensors");
    assert!(
        std::fs::read(&unpacked).expect("unpacked") == bytes,
        "bytes"
    );
}
