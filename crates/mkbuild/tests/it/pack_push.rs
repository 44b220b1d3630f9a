//! `pack --push REF` without `-t` streams every layer into the registry while it is made: nothing
//! lands in the store, and the registry ends up with the very ModelKit `pack` then `push` gives
//! (same manifest digest, checked against the real test registry and pulled back).

use std::path::Path;

use mkbuild_registry::testing::{FaultProxy, Faults, TestRegistry};

use crate::common::{mkbuild, ok};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A context with a model of `len` bytes that do not compress, and some code.
fn context(dir: &Path, len: usize) {
    std::fs::create_dir_all(dir.join("src")).expect("mkdir");
    let mut state = 0x5851_f42d_4c95_7f2du64;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(dir.join("model.bin"), bytes).expect("model");
    std::fs::write(dir.join("src/train.py"), "print('train')\n").expect("code");
    std::fs::write(
        dir.join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: stream\nmodel:\n  path: model.bin\ncode:\n  - path: src\n",
    )
    .expect("Kitfile");
}

fn blob_count(store: &Path) -> usize {
    std::fs::read_dir(store.join("blobs/sha256")).map_or(0, Iterator::count)
}

#[test]
fn pack_push_streams_to_the_registry_and_stores_nothing() {
    let Some(registry) = TestRegistry::start_or_skip(
        "pack_push_streams_to_the_registry_and_stores_nothing",
        false,
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let ctx = tmp.path().join("ctx");
    context(&ctx, 5 << 20);
    // Files changed less than the build cache's racy margin before a pack are never recorded.
    std::thread::sleep(std::time::Duration::from_millis(1100));

    // Streamed through a proxy that drops the first PATCH before it reaches the registry: the
    // upload asks where it stands and sends the rest again, from the bytes it kept.
    let proxy = FaultProxy::start(
        registry.addr(),
        Faults {
            drop_patch: Some(1),
            ..Faults::default()
        },
    )
    .expect("proxy");
    let streamed_store = tmp.path().join("streamed");
    let remote = format!("{}/team/stream:1", proxy.host());
    let out = mkbuild(
        &streamed_store,
        &[
            "pack",
            s(&ctx),
            "--push",
            &remote,
            "--plain-http",
            "--chunk-size",
            "1048576",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("nothing stored locally"), "{stderr}");
    let streamed = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(blob_count(&streamed_store), 0, "no blob in the store");
    assert!(stderr.contains("sending the rest"), "{stderr}");
    assert_eq!(proxy.stats().dropped_patches, 1, "{:?}", proxy.stats());
    // One streamed request per blob (model, code, Kitfile layer, config), and the one dropped.
    assert_eq!(proxy.stats().patch_requests, 5, "{:?}", proxy.stats());

    // A request cut in the middle makes Distribution drop the whole upload: the layer is packed
    // again from its files into a new one.
    let cutting = FaultProxy::start(
        registry.addr(),
        Faults {
            cut_patch: Some((1, 1000)),
            ..Faults::default()
        },
    )
    .expect("proxy");
    let recut = format!("{}/team/recut:1", cutting.host());
    let out = mkbuild(
        &tmp.path().join("recut"),
        &[
            "pack",
            s(&ctx),
            "--push",
            &recut,
            "--plain-http",
            "--chunk-size",
            "1MiB",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("packing the layer again"), "{stderr}");
    assert_eq!(cutting.stats().cut_patches, 1, "{:?}", cutting.stats());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), streamed);

    // The same ModelKit as pack, then push.
    let local = tmp.path().join("local");
    let packed = ok(&local, &["pack", s(&ctx), "-t", "stream:1"]);
    let pushed_to = format!("{}/team/pushed:1", registry.host());
    ok(&local, &["push", "stream:1", &pushed_to, "--plain-http"]);
    assert_eq!(
        streamed,
        packed.trim(),
        "pack --push and pack give one digest"
    );

    // Pulled back, it verifies and unpacks to the context's files.
    let pulled = tmp.path().join("pulled");
    let direct = format!("{}/team/stream:1", registry.host());
    let digest = ok(&pulled, &["pull", &direct, "--plain-http"]);
    assert_eq!(digest.trim(), streamed);
    ok(&pulled, &["verify"]);
    let out_dir = tmp.path().join("out");
    ok(&pulled, &["unpack", &direct, "-d", s(&out_dir)]);
    assert_eq!(
        std::fs::read(out_dir.join("model.bin")).expect("model"),
        std::fs::read(ctx.join("model.bin")).expect("model")
    );

    // From a store whose build cache knows the layers, they are not sent again: the registry
    // has them (HEAD), and the pack reads nothing.
    let again = format!("{}/team/again:1", registry.host());
    let out = mkbuild(
        &local,
        &["-vv", "pack", s(&ctx), "--push", &again, "--plain-http"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), streamed);
    assert_eq!(
        stderr
            .matches("unchanged, reused from the build cache")
            .count(),
        2,
        "{stderr}"
    );
}
