//! A full disk: `pack` fails with a clear error naming the file, and the store is as it was. The
//! store lives on a 1 MiB tmpfs, which needs root (as CI runs); elsewhere the test skips (a
//! failure under `MKBUILD_REQUIRE_TOOLS`, as in CI).

use std::path::Path;
use std::process::Command;

use crate::common::{fails, ok};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// Unmounts the tmpfs when the test ends, passed or not.
struct Tmpfs<'a>(&'a Path);

impl Drop for Tmpfs<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

#[test]
fn a_full_disk_fails_pack_cleanly_and_leaves_the_store_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mount = dir.path().join("small");
    std::fs::create_dir(&mount).expect("mkdir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&mount)
        .output();
    match mounted {
        Ok(out) if out.status.success() => {}
        other => {
            mkbuild_test_support::skip(&format!(
                "cannot mount a 1 MiB tmpfs (needs root, as CI runs): {other:?}"
            ));
            return;
        }
    }
    let _unmount = Tmpfs(&mount);
    let store = mount.join("store");
    ok(&store, &["list"]);
    let index = std::fs::read(store.join("index.json")).expect("index.json");

    let context = tempfile::tempdir().expect("context");
    std::fs::create_dir(context.path().join("model")).expect("mkdir");
    let bytes: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(7919) >> 5) as u8)
        .collect();
    std::fs::write(context.path().join("model/w.bin"), bytes).expect("write");
    std::fs::write(
        context.path().join("Kitfile"),
        "manifestVersion: 1.0.0\nmodel:\n  path: model\n",
    )
    .expect("Kitfile");

    let stderr = fails(&store, &["pack", s(context.path()), "-t", "full:1"]);
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(
        stderr.contains(s(&store.join("ingest"))),
        "the error names the file: {stderr}"
    );
    assert_eq!(
        std::fs::read(store.join("index.json")).expect("index.json"),
        index,
        "index.json unchanged"
    );
    assert_eq!(
        std::fs::read_dir(store.join("blobs/sha256"))
            .expect("blobs")
            .count(),
        0,
        "no blob stored"
    );
    assert_eq!(
        std::fs::read_dir(store.join("ingest"))
            .expect("ingest")
            .count(),
        0,
        "the partial blob is removed"
    );
    ok(&store, &["verify"]);
}
