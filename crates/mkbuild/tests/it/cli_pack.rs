//! `mkbuild pack` from the command line: inputs, errors, determinism, compression, the store.

use std::path::Path;

use crate::common::{blob_path, fails, layer_entry_names, manifest, mkbuild, ok, sha256_hex};

/// A small context with a model folder, code and a Kitfile.
fn sample_context() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    std::fs::create_dir_all(p.join("model")).expect("mkdir");
    std::fs::write(p.join("model/w.bin"), b"weights").expect("write");
    std::fs::write(p.join("train.py"), b"print(1)\n").expect("write");
    std::fs::write(p.join("Kitfile"), KITFILE).expect("write");
    dir
}

const KITFILE: &str = "manifestVersion: 1.0.0\npackage:\n  name: t\nmodel:\n  name: m\n  path: model\ncode:\n  - path: train.py\n";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// Messages mention temporary folders; snapshots show them as placeholders.
fn redact(text: &str, pairs: &[(&Path, &str)]) -> String {
    let mut text = text.to_owned();
    for (path, name) in pairs {
        text = text.replace(s(path), name);
    }
    text
}

#[test]
fn pack_prints_the_manifest_digest_and_is_reproducible() {
    let ctx = sample_context();
    let store = tempfile::tempdir().expect("store");
    let first = ok(store.path(), &["pack", s(ctx.path()), "-t", "t:1"]);
    let manifest_bytes =
        std::fs::read(blob_path(store.path(), first.trim())).expect("manifest blob");
    assert_eq!(
        first.trim(),
        format!("sha256:{}", sha256_hex(&manifest_bytes))
    );

    // Same folder, other mtimes, another store: the same digest.
    std::fs::write(ctx.path().join("train.py"), b"print(1)\n").expect("rewrite");
    let other = tempfile::tempdir().expect("store");
    let second = ok(other.path(), &["pack", s(ctx.path())]);
    assert_eq!(first, second);
    // A changed byte gives another digest.
    std::fs::write(ctx.path().join("train.py"), b"print(2)\n").expect("rewrite");
    assert_ne!(first, ok(other.path(), &["pack", s(ctx.path())]));
}

#[test]
fn source_date_epoch_sets_created_and_nothing_else_reads_the_clock() {
    let ctx = sample_context();
    let store = tempfile::tempdir().expect("store");
    let plain = manifest(
        store.path(),
        ok(store.path(), &["pack", s(ctx.path())]).trim(),
    );
    assert!(plain["annotations"]
        .get("org.opencontainers.image.created")
        .is_none());
    assert_eq!(plain["annotations"]["ml.mkbuild.format"], "v2");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mkbuild"))
        .args([
            "--store",
            s(store.path()),
            "pack",
            s(ctx.path()),
            "-t",
            "t:dated",
        ])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("run");
    assert!(out.status.success());
    let dated = manifest(store.path(), "t:dated");
    assert_eq!(
        dated["annotations"]["org.opencontainers.image.created"],
        "2023-11-14T22:13:20Z"
    );
}

#[test]
fn kitfile_from_stdin_and_from_another_file() {
    let ctx = sample_context();
    std::fs::rename(ctx.path().join("Kitfile"), ctx.path().join("other.yaml")).expect("rename");
    let store = tempfile::tempdir().expect("store");
    let by_file = ok(
        store.path(),
        &[
            "pack",
            s(ctx.path()),
            "-f",
            s(&ctx.path().join("other.yaml")),
        ],
    );
    let out = {
        use std::io::Write as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mkbuild"))
            .args([
                "--store",
                s(store.path()),
                "pack",
                s(ctx.path()),
                "-f",
                "-",
                "-t",
                "stdin:1",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(KITFILE.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("wait")
    };
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), by_file);
    let kitfile = ok(store.path(), &["inspect", "stdin:1", "--kitfile"]);
    assert_eq!(kitfile, KITFILE);
}

#[test]
fn the_default_kitfile_names_are_found() {
    for name in ["Kitfile", "kitfile", ".kitfile"] {
        let ctx = sample_context();
        std::fs::rename(ctx.path().join("Kitfile"), ctx.path().join(name)).expect("rename");
        let store = tempfile::tempdir().expect("store");
        ok(store.path(), &["pack", s(ctx.path()), "-t", "x:1"]);
        assert_eq!(ok(store.path(), &["inspect", "x:1", "--kitfile"]), KITFILE);
    }
}

#[test]
fn compression_keeps_diff_ids_and_marks_media_types() {
    let ctx = sample_context();
    let store = tempfile::tempdir().expect("store");
    ok(store.path(), &["pack", s(ctx.path()), "-t", "c:none"]);
    let plain = manifest(store.path(), "c:none");
    for (compression, suffix) in [
        ("gzip", "+gzip"),
        ("gzip-fastest", "+gzip"),
        ("zstd", "+zstd"),
    ] {
        let tag = format!("c:{compression}");
        ok(
            store.path(),
            &[
                "pack",
                s(ctx.path()),
                "--compression",
                compression,
                "-t",
                &tag,
            ],
        );
        let m = manifest(store.path(), &tag);
        let config: serde_json::Value =
            serde_json::from_str(&ok(store.path(), &["inspect", &tag, "--config"]))
                .expect("config");
        let layer = &m["layers"][0];
        assert_eq!(
            layer["mediaType"],
            format!("application/vnd.kitops.modelkit.model.v1.tar{suffix}")
        );
        // The diffId is the digest of the uncompressed tar, the one an uncompressed pack stores.
        assert_eq!(config["model"]["diffId"], plain["layers"][0]["digest"]);
        assert_eq!(config["model"]["digest"], layer["digest"]);
        assert_ne!(layer["digest"], plain["layers"][0]["digest"]);
        // The stored blob really is in that compression and unpacks to the plain tar.
        let blob = std::fs::read(blob_path(
            store.path(),
            layer["digest"].as_str().expect("digest"),
        ))
        .expect("blob");
        let tar = if suffix == "+gzip" {
            use std::io::Read as _;
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&blob[..])
                .read_to_end(&mut out)
                .expect("gunzip");
            out
        } else {
            zstd::decode_all(&blob[..]).expect("unzstd")
        };
        assert_eq!(
            format!("sha256:{}", sha256_hex(&tar)),
            plain["layers"][0]["digest"].as_str().expect("digest")
        );
        // The Kitfile layer stays uncompressed.
        let last = m["layers"]
            .as_array()
            .expect("layers")
            .last()
            .expect("kitfile layer")
            .clone();
        assert_eq!(
            last["mediaType"],
            "application/vnd.kitops.modelkit.kitfile.v1+yaml"
        );
    }
}

#[test]
fn kitfile_errors_name_the_file_line_and_column() {
    let ctx = sample_context();
    let store = tempfile::tempdir().expect("store");
    let cases = [
        ("unknown-key", "manifestVersion: 1.0.0\npackage:\n  name: t\nmodle:\n  path: model\n"),
        ("type-error", "manifestVersion: 1.0.0\npackage:\n  name: t\ncode: model\n"),
        ("absolute-path", "manifestVersion: 1.0.0\npackage:\n  name: t\ndatasets:\n  - name: d\n    path: /etc\n"),
        ("escaping-path", "manifestVersion: 1.0.0\npackage:\n  name: t\ncode:\n  - path: model/../../x\n"),
        ("duplicate-path", "manifestVersion: 1.0.0\npackage:\n  name: t\nmodel:\n  path: ./model/\ncode:\n  - path: model\n"),
        ("bad-part-type", "manifestVersion: 1.0.0\npackage:\n  name: t\nmodel:\n  path: model\n  parts:\n    - path: train.py\n      type: -lora\n"),
        ("missing-path", "manifestVersion: 1.0.0\npackage:\n  name: t\ndatasets:\n  - name: train\n    path: data/train\n"),
    ];
    for (name, kitfile) in cases {
        std::fs::write(ctx.path().join("Kitfile"), kitfile).expect("write");
        let stderr = fails(store.path(), &["pack", s(ctx.path())]);
        insta::assert_snapshot!(
            format!("kitfile_error_{name}"),
            redact(&stderr, &[(ctx.path(), "[CTX]")])
        );
    }
    // Nothing was stored by the failed packs.
    assert!(
        !store.path().join("index.json").exists()
            || ok(store.path(), &["list", "--json"]).trim() == "[]"
    );
}

#[test]
fn usage_and_input_errors() {
    let ctx = sample_context();
    let store = tempfile::tempdir().expect("store");
    let missing = ctx.path().join("nope");
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "unknown-format",
            vec!["pack", s(ctx.path()), "--format", "v9"],
        ),
        ("bad-tag", vec!["pack", s(ctx.path()), "-t", "Bad Name:1"]),
        ("no-context", vec!["pack", s(&missing)]),
        ("unknown-reference", vec!["inspect", "nothing:here"]),
    ];
    for (name, args) in cases {
        let stderr = fails(store.path(), &args);
        insta::assert_snapshot!(
            format!("error_{name}"),
            redact(&stderr, &[(ctx.path(), "[CTX]"), (store.path(), "[STORE]")])
        );
    }
    std::fs::remove_file(ctx.path().join("Kitfile")).expect("rm");
    let stderr = fails(store.path(), &["pack", s(ctx.path())]);
    insta::assert_snapshot!(
        "error_no-kitfile",
        redact(&stderr, &[(ctx.path(), "[CTX]")])
    );

    let out = mkbuild(store.path(), &["pack", "--compression", "lz4"]);
    assert_eq!(out.status.code(), Some(2), "usage errors exit with 2");
}

#[test]
fn failed_pack_leaves_no_partial_state() {
    let ctx = sample_context();
    let store = tempfile::tempdir().expect("store");
    ok(store.path(), &["pack", s(ctx.path()), "-t", "keep:1"]);
    let index_before = std::fs::read(store.path().join("index.json")).expect("index");
    // The second layer's file cannot be read: the pack fails after the first layer.
    std::fs::write(
        ctx.path().join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: t\nmodel:\n  path: model\ncode:\n  - path: gone.py\n",
    )
    .expect("write");
    fails(store.path(), &["pack", s(ctx.path()), "-t", "keep:1"]);
    assert_eq!(
        std::fs::read(store.path().join("index.json")).expect("index"),
        index_before
    );
    let ingest = store.path().join("ingest");
    if ingest.exists() {
        assert_eq!(
            std::fs::read_dir(&ingest).expect("ingest").count(),
            0,
            "no temporary files left"
        );
    }
}

#[test]
fn symlinks_and_special_files_never_ship() {
    let ctx = sample_context();
    std::os::unix::fs::symlink("/etc/passwd", ctx.path().join("model/link")).expect("symlink");
    let store = tempfile::tempdir().expect("store");
    ok(
        store.path(),
        &["pack", s(ctx.path()), "-t", "l:1", "--format", "v1"],
    );
    let names = layer_entry_names(store.path(), "l:1", 0);
    assert_eq!(names, ["model", "model/w.bin"]);

    // A layer path that is a symlink is refused, naming the entry.
    std::fs::write(
        ctx.path().join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: t\nmodel:\n  name: m\n  path: model/link\n",
    )
    .expect("write");
    let stderr = fails(store.path(), &["pack", s(ctx.path())]);
    assert!(
        stderr.contains("model `m`") && stderr.contains("model/link"),
        "{stderr}"
    );
}

#[test]
fn skopeo_reads_the_store() {
    if !mkbuild_test_support::require_tool("skopeo") {
        return;
    }
    let ctx = sample_context();
    let store = tempfile::tempdir().expect("store");
    let digest = ok(
        store.path(),
        &["pack", s(ctx.path()), "-t", "acme/model:1.0"],
    );
    let out = std::process::Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            &format!("oci:{}:acme/model:1.0", s(store.path())),
        ])
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(format!("sha256:{}\n", sha256_hex(&out.stdout)), digest);
}

#[test]
fn kitignore_exceptions_reach_into_ignored_folders() {
    let ctx = sample_context();
    let p = ctx.path();
    std::fs::create_dir_all(p.join("model/cache")).expect("mkdir");
    std::fs::write(p.join("model/cache/tmp.bin"), "x").expect("write");
    std::fs::write(p.join("model/cache/keep.bin"), "k").expect("write");
    std::fs::write(p.join("model/notes.md"), "n").expect("write");
    std::fs::write(
        p.join(".kitignore"),
        "# caches never ship\nmodel/cache\n*.md\n**/*.md\n!model/cache/keep.bin\n",
    )
    .expect("write");
    let store = tempfile::tempdir().expect("store");
    ok(store.path(), &["pack", s(p), "-t", "k:1"]);
    let names = layer_entry_names(store.path(), "k:1", 0);
    // The ignored folder's own entry is left out (as kit does), the exception inside it ships.
    assert_eq!(names, ["model", "model/cache/keep.bin", "model/w.bin"]);
}
