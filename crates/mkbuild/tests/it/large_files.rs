//! Files of 8 GiB and more need a PAX `size` record. This packs a sparse 8 GiB + 1 byte file and
//! compares with the digest that kit's rules give (reference packer, Go's archive/tar). It writes
//! an 8 GiB blob, so it is ignored by default; run it with
//! `cargo test --release -p mkbuild --test it large_files -- --ignored` (about 45 s, 8 GiB of disk).

use crate::common::{manifest, ok};

#[test]
#[ignore = "writes 8 GiB; run with --ignored"]
fn sparse_file_of_8_gib_and_one_byte_matches_kit() {
    let ctx = tempfile::tempdir().expect("context");
    let file = std::fs::File::create(ctx.path().join("big.safetensors")).expect("create");
    file.set_len((8 << 30) + 1).expect("sparse length");
    std::fs::write(
        ctx.path().join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: big\nmodel:\n  name: big\n  path: big.safetensors\n",
    )
    .expect("Kitfile");
    let store = tempfile::tempdir().expect("store");
    let context = ctx.path().to_str().expect("utf-8");
    ok(store.path(), &["pack", context, "-t", "big:v2"]);
    let m = manifest(store.path(), "big:v2");
    assert_eq!(
        m["layers"][0]["digest"],
        "sha256:b0fcdb980ec0c1db2e157f28d516e2b680a178ca43e088643361122503fc9fea"
    );
    assert_eq!(m["layers"][0]["size"], 8_589_937_664u64);
    assert_eq!(
        m["config"]["digest"],
        "sha256:48cecefacd2138d1cb3eacd32d505e3a103104b73c9e256ee47b7ee80c362729"
    );
}
