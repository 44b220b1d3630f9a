//! `mkbuild unpack` and `mkbuild convert`: every generation unpacks, unpack then repack gives the
//! same digests, conversions round-trip, and bad blobs stop everything before a file is written.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::common::{blob_path, context_from_script, fails, fixtures, manifest, mkbuild, ok};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// Every file and folder under `root` (Kitfile and `.kitignore` aside): path -> (mode, content).
fn tree(root: &Path) -> Tree {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (u32, Option<Vec<u8>>)>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .into_owned();
            let meta = std::fs::symlink_metadata(&path).expect("lstat");
            let mode = meta.permissions().mode() & 0o7777;
            if meta.is_dir() {
                out.insert(rel, (mode, None));
                walk(root, &path, out);
            } else {
                out.insert(rel, (mode, Some(std::fs::read(&path).expect("read"))));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out.remove("Kitfile");
    out.remove(".kitignore");
    out
}

type Tree = BTreeMap<String, (u32, Option<Vec<u8>>)>;

/// Compares two trees and names only what differs (paths, modes, sizes), not whole contents.
fn assert_same_tree(got: &Tree, want: &Tree, what: &str) {
    let mut problems = Vec::new();
    for (path, (mode, content)) in want {
        match got.get(path) {
            None => problems.push(format!("missing `{path}`")),
            Some((m, c)) if m != mode => {
                problems.push(format!("`{path}`: mode {m:o}, want {mode:o}"))
            }
            Some((_, c)) if c != content => problems.push(format!("`{path}`: content differs")),
            Some(_) => {}
        }
    }
    for path in got.keys().filter(|p| !want.contains_key(*p)) {
        problems.push(format!("unexpected `{path}`"));
    }
    assert!(problems.is_empty(), "{what}: {}", problems.join("; "));
}

fn case_dirs(folder: &str) -> Vec<PathBuf> {
    let mut cases: Vec<_> = std::fs::read_dir(fixtures().join(folder))
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("mk.sh").is_file())
        .collect();
    cases.sort();
    cases
}

/// Cases whose files all survive unpack unchanged: unpack drops the setuid/setgid bits of files
/// on purpose (folders keep setgid).
fn has_setuid(case: &Path) -> bool {
    std::fs::read_to_string(case.join("mk.sh"))
        .expect("mk.sh")
        .lines()
        .filter_map(|l| l.strip_prefix("chmod ")?.split(' ').next())
        .any(|mode| mode.len() == 4 && matches!(mode.as_bytes()[0], b'2' | b'4' | b'6'))
}

#[test]
fn pack_unpack_repack_gives_identical_digests() {
    let mut checked = 0;
    for case in case_dirs("golden").into_iter().chain(case_dirs("cases")) {
        if has_setuid(&case) {
            continue;
        }
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let context = context_from_script(&case.join("mk.sh"));
        let store = tempfile::tempdir().expect("store");
        for format in ["v1", "v2"] {
            let first = ok(
                store.path(),
                &["pack", s(context.path()), "--format", format],
            );
            let out = tempfile::tempdir().expect("out");
            ok(store.path(), &["unpack", first.trim(), "-d", s(out.path())]);
            if case.parent() == Some(fixtures().join("golden").as_path()) {
                // Golden contexts are wholly covered by their layers; generated ones need not be.
                assert_same_tree(
                    &tree(out.path()),
                    &tree(context.path()),
                    &format!("{name} {format}"),
                );
            }
            let second = ok(store.path(), &["pack", s(out.path()), "--format", format]);
            assert_eq!(first, second, "{name} {format}: repack digest");
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} cases checked");
}

#[test]
fn repack_is_stable_across_umask_and_mtimes() {
    for case in case_dirs("golden") {
        let context = context_from_script(&case.join("mk.sh"));
        let store = tempfile::tempdir().expect("store");
        for format in ["v1", "v2"] {
            let first = ok(
                store.path(),
                &["pack", s(context.path()), "--format", format],
            );
            let out = tempfile::tempdir().expect("out");
            let status = std::process::Command::new("sh")
                .args(["-c", "umask 077 && exec \"$0\" \"$@\""])
                .arg(env!("CARGO_BIN_EXE_mkbuild"))
                .args([
                    "--store",
                    s(store.path()),
                    "unpack",
                    first.trim(),
                    "-d",
                    s(out.path()),
                ])
                .status()
                .expect("run under umask 077");
            assert!(status.success());
            // Touch every file: mtimes must not matter.
            let when = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
            for (rel, (_, content)) in tree(out.path()) {
                if content.is_some() {
                    let f = std::fs::File::options()
                        .write(true)
                        .open(out.path().join(rel))
                        .expect("open");
                    f.set_modified(when).expect("touch");
                }
            }
            let second = ok(store.path(), &["pack", s(out.path()), "--format", format]);
            assert_eq!(first, second, "{} {format}", case.display());
        }
    }
}

/// A copy of a kit-made store fixture (tests never write into the repository).
fn kit_store(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("store copy");
    let status = std::process::Command::new("cp")
        .arg("-R")
        .arg(format!(
            "{}/.",
            fixtures().join("kit-made").join(name).display()
        ))
        .arg(dir.path())
        .status()
        .expect("cp");
    assert!(status.success());
    dir
}

#[test]
fn modelkits_made_by_kit_unpack_in_both_generations() {
    for (case, folder) in [
        ("basic", "golden"),
        ("modes", "golden"),
        ("nested", "golden"),
        ("non-ascii-names", "cases"),
        ("long-names", "cases"),
    ] {
        let context = context_from_script(&fixtures().join(folder).join(case).join("mk.sh"));
        for generation in ["v1", "v2"] {
            let store = kit_store(&format!("{case}-{generation}"));
            let reference = format!("{case}:{generation}");
            let listed = ok(store.path(), &["list"]);
            assert!(
                listed.contains(&format!("{generation} (detected)")),
                "{listed}"
            );
            let out = tempfile::tempdir().expect("out");
            ok(store.path(), &["unpack", &reference, "-d", s(out.path())]);
            let mut want = tree(context.path());
            let got = tree(out.path());
            if generation == "v1" {
                // v1 tars do not carry the folders above a layer path: those come back with
                // default modes; compare only what the layers carry.
                want.retain(|k, (_, content)| {
                    content.is_some() || got.get(k).is_some_and(|g| g.1.is_none())
                });
                for (k, v) in &mut want {
                    if v.1.is_none() {
                        v.0 = got[k].0;
                    }
                }
            }
            assert_same_tree(&got, &want, &format!("{case} {generation}"));
            // The Kitfile is rebuilt from the config and reads back as the same Kitfile.
            let kitfile = std::fs::read_to_string(out.path().join("Kitfile")).expect("Kitfile");
            let repack = ok(
                store.path(),
                &[
                    "pack",
                    s(out.path()),
                    "--format",
                    generation,
                    "-t",
                    "again:1",
                ],
            );
            let again = manifest(store.path(), repack.trim());
            let original = manifest(store.path(), &reference);
            assert_eq!(
                again["config"]["digest"], original["config"]["digest"],
                "{case} {generation}: {kitfile}"
            );
            for (i, layer) in original["layers"]
                .as_array()
                .expect("layers")
                .iter()
                .enumerate()
            {
                assert_eq!(
                    again["layers"][i]["digest"], layer["digest"],
                    "{case} {generation} layer {i}"
                );
            }
        }
    }
}

#[test]
fn convert_round_trips_and_matches_a_direct_pack() {
    for case in case_dirs("golden") {
        let context = context_from_script(&case.join("mk.sh"));
        let store = tempfile::tempdir().expect("store");
        let v1 = ok(
            store.path(),
            &["pack", s(context.path()), "--format", "v1", "-t", "c:v1"],
        );
        let v2_direct_digest = ok(store.path(), &["pack", s(context.path()), "--format", "v2"]);
        let v2_direct = manifest(store.path(), v2_direct_digest.trim());
        let v2 = ok(
            store.path(),
            &["convert", "c:v1", "--to", "v2", "-t", "c:v2"],
        );
        let back = ok(store.path(), &["convert", "c:v2", "--to", "v1"]);
        assert_eq!(back, v1, "{}: v1 -> v2 -> v1", case.display());
        // Every folder of the golden cases is 0755, the mode convert gives folders v1 lacks, so
        // the converted v2 layers and config equal a direct v2 pack.
        let converted = manifest(store.path(), v2.trim());
        assert_eq!(
            converted["config"],
            v2_direct["config"],
            "{}",
            case.display()
        );
        let n = v2_direct["layers"].as_array().expect("layers").len() - 1;
        for i in 0..n {
            assert_eq!(
                converted["layers"][i],
                v2_direct["layers"][i],
                "{} layer {i}",
                case.display()
            );
        }
        assert_eq!(converted["annotations"]["ml.mkbuild.format"], "v2");
        // v2 -> v1 of a direct v2 pack equals the direct v1 pack.
        let from_v2 = ok(
            store.path(),
            &["convert", v2_direct_digest.trim(), "--to", "v1"],
        );
        assert_eq!(from_v2, v1);
    }
}

/// The compression of a stored blob, told by its first bytes (not by its media type): gzip
/// `1f 8b`, zstd `28 b5 2f fd`, or `none` for a plain tar (`ustar` at offset 257).
fn compression_of(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        "gzip"
    } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        "zstd"
    } else {
        assert_eq!(
            bytes.get(257..262),
            Some(&b"ustar"[..]),
            "neither compressed nor a tar"
        );
        "none"
    }
}

/// Checks that every tar layer of `reference` is stored with `compression` (the media type's
/// suffix and the blob's bytes agree) and returns the uncompressed tars, in order. The Kitfile
/// layer of formats that have one is never compressed and is left out.
fn tar_layers(store: &Path, reference: &str, compression: &str, what: &str) -> Vec<Vec<u8>> {
    let m = manifest(store, reference);
    let mut tars = Vec::new();
    for layer in m["layers"].as_array().expect("layers") {
        let media_type = layer["mediaType"].as_str().expect("mediaType");
        if media_type.ends_with(".kitfile.v1+yaml") {
            continue;
        }
        let digest = layer["digest"].as_str().expect("digest");
        let blob = std::fs::read(blob_path(store, digest)).expect("layer blob");
        let suffix = match compression {
            "none" => ".tar",
            "gzip" => ".tar+gzip",
            "zstd" => ".tar+zstd",
            other => panic!("no such compression {other}"),
        };
        assert!(
            media_type.ends_with(suffix),
            "{what}: {media_type}, want *{suffix}"
        );
        assert_eq!(
            compression_of(&blob),
            compression,
            "{what}: the bytes of {digest}"
        );
        tars.push(match compression {
            "gzip" => {
                let mut tar = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&blob[..]), &mut tar)
                    .expect("gunzip");
                tar
            }
            "zstd" => zstd::decode_all(&blob[..]).expect("unzstd"),
            _ => blob,
        });
    }
    assert!(!tars.is_empty(), "{what}: no tar layers");
    tars
}

#[test]
fn compressed_modelkits_unpack_and_convert_keeps_their_compression() {
    let case = fixtures().join("golden/basic");
    let context = context_from_script(&case.join("mk.sh"));
    let store = tempfile::tempdir().expect("store");
    let store = store.path();
    // What every compressed layer must hold once uncompressed: the tars of a plain pack. (Every
    // folder of `basic` is 0755, so a conversion gives the same tars as a direct pack.)
    let plain = |format: &str| {
        let digest = ok(store, &["pack", s(context.path()), "--format", format]);
        tar_layers(store, digest.trim(), "none", &format!("plain {format}"))
    };
    let plain: BTreeMap<&str, Vec<Vec<u8>>> = [("v1", plain("v1")), ("v2", plain("v2"))].into();
    let mut zstd_v2 = String::new();
    for compression in ["gzip", "gzip-fastest", "zstd"] {
        let stored = if compression == "zstd" {
            "zstd"
        } else {
            "gzip"
        };
        for (format, other) in [("v1", "v2"), ("v2", "v1")] {
            let what = format!("{compression} {format}");
            let digest = ok(
                store,
                &[
                    "pack",
                    s(context.path()),
                    "--format",
                    format,
                    "--compression",
                    compression,
                ],
            );
            let digest = digest.trim();
            assert_eq!(
                tar_layers(store, digest, stored, &what),
                plain[format],
                "{what}"
            );
            let out = tempfile::tempdir().expect("out");
            ok(store, &["unpack", digest, "-d", s(out.path())]);
            assert_same_tree(&tree(out.path()), &tree(context.path()), &what);

            // Convert keeps each layer's compression and rewrites what is inside.
            let what = format!("{compression} {format} -> {other}");
            let converted = ok(store, &["convert", digest, "--to", other]);
            let converted = converted.trim();
            assert_eq!(
                tar_layers(store, converted, stored, &what),
                plain[other],
                "{what}"
            );
            let out = tempfile::tempdir().expect("out");
            ok(store, &["unpack", converted, "-d", s(out.path())]);
            assert_same_tree(&tree(out.path()), &tree(context.path()), &what);
            // And back, to the same layer blobs. gzip-fastest is not recorded (its media type
            // is gzip's), so it comes back at gzip's default level: other bytes, same tars.
            // (A v2 ModelKit's manifest does not come back: its Kitfile layer, once v1 has no
            // Kitfile layer, is rebuilt from the config.)
            let back = ok(store, &["convert", converted, "--to", format]);
            let what = format!("{what} -> {format}");
            let layers = |reference: &str| -> Vec<serde_json::Value> {
                let m = manifest(store, reference);
                let layers = m["layers"].as_array().expect("layers").iter();
                layers
                    .filter(|l| {
                        !l["mediaType"]
                            .as_str()
                            .is_some_and(|t| t.ends_with("+yaml"))
                    })
                    .map(|l| l["digest"].clone())
                    .collect()
            };
            if compression == "gzip-fastest" {
                assert_ne!(layers(back.trim()), layers(digest), "{what}");
                assert_eq!(tar_layers(store, back.trim(), "gzip", &what), plain[format]);
            } else {
                assert_eq!(layers(back.trim()), layers(digest), "{what}");
            }
            if format == "v1" && compression != "gzip-fastest" {
                assert_eq!(back.trim(), digest, "{what}");
            }
            if compression == "zstd" && format == "v2" {
                zstd_v2 = digest.to_owned();
            }
        }
    }

    // `--compression` chooses, whatever the source has; the tars inside stay the same.
    for (compression, stored) in [
        ("none", "none"),
        ("gzip", "gzip"),
        ("gzip-fastest", "gzip"),
        ("zstd", "zstd"),
    ] {
        for to in ["v1", "v2"] {
            let what = format!("zstd v2 -> {to} --compression {compression}");
            let converted = ok(
                store,
                &[
                    "convert",
                    &zstd_v2,
                    "--to",
                    to,
                    "--compression",
                    compression,
                ],
            );
            assert_eq!(
                tar_layers(store, converted.trim(), stored, &what),
                plain[to],
                "{what}"
            );
        }
    }
    ok(store, &["verify"]);
}

#[test]
fn a_corrupted_blob_stops_unpack_before_anything_is_written() {
    let context = context_from_script(&fixtures().join("golden/basic/mk.sh"));
    let store = tempfile::tempdir().expect("store");
    ok(store.path(), &["pack", s(context.path()), "-t", "b:1"]);
    let m = manifest(store.path(), "b:1");
    let digest = m["layers"][2]["digest"]
        .as_str()
        .expect("digest")
        .to_owned();
    let path = blob_path(store.path(), &digest);
    let mut bytes = std::fs::read(&path).expect("blob");
    let i = bytes.len() / 3;
    bytes[i] ^= 1;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::write(&path, bytes).expect("corrupt");
    let out = tempfile::tempdir().expect("out");
    let stderr = fails(store.path(), &["unpack", "b:1", "-d", s(out.path())]);
    assert!(
        stderr.contains(&digest),
        "the error names the blob: {stderr}"
    );
    assert_eq!(
        std::fs::read_dir(out.path()).expect("out").count(),
        0,
        "nothing written"
    );
}

#[test]
fn filters_select_parts_of_a_modelkit() {
    let context = context_from_script(&fixtures().join("golden/basic/mk.sh"));
    let store = tempfile::tempdir().expect("store");
    ok(store.path(), &["pack", s(context.path()), "-t", "b:1"]);
    let cases: [(&[&str], &[&str]); 3] = [
        (
            &["--filter", "model"],
            &["models/llama/config.json", "models/llama/model.safetensors"],
        ),
        (
            &["--filter", "datasets:train"],
            &["data/train/part-0.csv", "data/train/part-1.csv"],
        ),
        (
            &["--filter", "docs:docs/usage.md", "--filter", "kitfile"],
            &["Kitfile", "docs/usage.md"],
        ),
    ];
    for (args, want) in cases {
        let out = tempfile::tempdir().expect("out");
        let mut full = vec!["unpack", "b:1", "-d", s(out.path())];
        full.extend_from_slice(args);
        ok(store.path(), &full);
        let mut files: Vec<String> = Vec::new();
        for (k, (_, content)) in tree(out.path()) {
            if content.is_some() {
                files.push(k);
            }
        }
        if out.path().join("Kitfile").exists() {
            files.push("Kitfile".into());
            files.sort();
        }
        assert_eq!(files, want, "{args:?}");
    }
    let stderr = fails(store.path(), &["unpack", "b:1", "--filter", "weights"]);
    assert!(stderr.contains("unknown filter type `weights`"), "{stderr}");
}

#[test]
fn existing_files_are_kept_unless_overwrite() {
    let context = context_from_script(&fixtures().join("golden/basic/mk.sh"));
    let store = tempfile::tempdir().expect("store");
    ok(store.path(), &["pack", s(context.path()), "-t", "b:1"]);
    let out = tempfile::tempdir().expect("out");
    std::fs::write(out.path().join("train.py"), "mine").expect("write");
    let stderr = fails(store.path(), &["unpack", "b:1", "-d", s(out.path())]);
    assert!(stderr.contains("train.py"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out.path().join("train.py")).expect("read"),
        "mine"
    );
    assert!(
        !out.path().join("models").exists(),
        "a refused unpack writes nothing"
    );
    ok(
        store.path(),
        &["unpack", "b:1", "-d", s(out.path()), "--overwrite"],
    );
    assert_same_tree(
        &tree(out.path()),
        &tree(context.path()),
        "after --overwrite",
    );
}

#[test]
fn hostile_layer_entries_never_escape_the_target() {
    // A ModelKit whose only layer holds `../escaped` and `/abs`: built by hand into a store.
    for name in ["../escaped", "/tmp/abs-escape", "model/../../escaped"] {
        let store = tempfile::tempdir().expect("store");
        let m = crate::common::pack_evil_modelkit(store.path());
        // Replace the layer blob's bytes with a hostile tar under the same digest name: unpack
        // must stop at the digest check, and a store whose digest matches must stop at the name.
        let mut tar = mkbuild_tar::TarWriter::new(Vec::new());
        tar.append_file(
            &mkbuild_tar::EntryHeader::file(name, 0o644, 4),
            &mut &b"evil"[..],
        )
        .expect("entry");
        let hostile = tar.finish().expect("tar");
        let digest = format!("sha256:{}", crate::common::sha256_hex(&hostile));
        std::fs::write(blob_path(store.path(), &digest), &hostile).expect("blob");
        let mut m2 = m.clone();
        m2["layers"][0]["digest"] = digest.clone().into();
        m2["layers"][0]["size"] = hostile.len().into();
        let mbytes = serde_json::to_vec(&m2).expect("json");
        let mdigest = format!("sha256:{}", crate::common::sha256_hex(&mbytes));
        std::fs::write(blob_path(store.path(), &mdigest), &mbytes).expect("manifest");
        let parent = tempfile::tempdir().expect("parent");
        let out = parent.path().join("out");
        let result = mkbuild(store.path(), &["unpack", &mdigest, "-d", s(&out)]);
        assert_eq!(result.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(
            stderr.contains("escaped") || stderr.contains("abs-escape"),
            "{stderr}"
        );
        assert!(!parent.path().join("escaped").exists());
        assert!(!Path::new("/tmp/abs-escape").exists());
        if out.exists() {
            assert_eq!(
                std::fs::read_dir(&out).expect("out").count(),
                0,
                "{name}: nothing written"
            );
        }
    }
}

/// Writes a JSON document into the store as a blob; returns its digest.
fn put_json(store: &Path, value: &serde_json::Value) -> String {
    let bytes = serde_json::to_vec(value).expect("json");
    let digest = format!("sha256:{}", crate::common::sha256_hex(&bytes));
    std::fs::write(blob_path(store, &digest), bytes).expect("write blob");
    digest
}

#[test]
fn layers_of_unknown_media_types_are_skipped_with_a_warning() {
    let context = context_from_script(&fixtures().join("golden/basic/mk.sh"));
    let store = tempfile::tempdir().expect("store");
    ok(store.path(), &["pack", s(context.path()), "-t", "b:1"]);
    let mut m = manifest(store.path(), "b:1");
    let extra = put_json(store.path(), &serde_json::json!({"signature": "not a tar"}));
    m["layers"].as_array_mut().expect("layers").insert(
        1,
        serde_json::json!({"mediaType": "application/vnd.example.signature.v1+json", "digest": extra, "size": 24}),
    );
    let digest = put_json(store.path(), &m);
    let out = tempfile::tempdir().expect("out");
    let result = mkbuild(store.path(), &["unpack", &digest, "-d", s(out.path())]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("application/vnd.example.signature.v1+json"),
        "{stderr}"
    );
    assert_same_tree(
        &tree(out.path()),
        &tree(context.path()),
        "with an unknown layer",
    );
}

#[test]
fn a_wrong_diff_id_of_a_compressed_layer_is_detected() {
    let context = context_from_script(&fixtures().join("golden/basic/mk.sh"));
    let store = tempfile::tempdir().expect("store");
    ok(
        store.path(),
        &[
            "pack",
            s(context.path()),
            "--compression",
            "gzip",
            "-t",
            "g:1",
        ],
    );
    let mut m = manifest(store.path(), "g:1");
    let mut config: serde_json::Value =
        serde_json::from_str(&ok(store.path(), &["inspect", "g:1", "--config"])).expect("config");
    let wrong = format!("sha256:{}", "0".repeat(64));
    config["datasets"][0]["diffId"] = wrong.clone().into();
    let config_digest = put_json(store.path(), &config);
    m["config"]["digest"] = config_digest.into();
    m["config"]["size"] = serde_json::to_vec(&config).expect("json").len().into();
    let digest = put_json(store.path(), &m);
    let out = tempfile::tempdir().expect("out");
    let stderr = fails(store.path(), &["unpack", &digest, "-d", s(out.path())]);
    assert!(
        stderr.contains(&wrong),
        "the error names the expected diffId: {stderr}"
    );
    assert_eq!(
        std::fs::read_dir(out.path()).expect("out").count(),
        0,
        "nothing written"
    );
}

#[test]
fn inspect_summary_shows_the_detected_generation() {
    let store = kit_store("nested-v1");
    insta::assert_snapshot!(ok(store.path(), &["inspect", "nested:v1", "--summary"]));
    let store = kit_store("nested-v2");
    let summary = ok(store.path(), &["inspect", "nested:v2", "--summary"]);
    assert!(summary.contains("format:  v2 (detected)"), "{summary}");
}

/// The mode of `path`, all twelve bits.
fn mode_of(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .expect("lstat")
        .permissions()
        .mode()
        & 0o7777
}

#[test]
fn shared_group_folders_keep_setgid_and_repack_identically() {
    let context = tempfile::tempdir().expect("context");
    let shared = context.path().join("data/shared");
    std::fs::create_dir_all(&shared).expect("mkdir");
    std::fs::write(shared.join("rows.csv"), "a\n1\n").expect("write");
    std::fs::set_permissions(
        shared.join("rows.csv"),
        std::fs::Permissions::from_mode(0o664),
    )
    .expect("chmod file");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o2775)).expect("chmod");
    if mode_of(&shared) != 0o2775 {
        // Not a member of the folder's group: the kernel drops setgid, nothing to test here.
        eprintln!("skipped: chmod 2775 did not hold on {}", shared.display());
        return;
    }
    std::fs::write(
        context.path().join("Kitfile"),
        "manifestVersion: 1.0.0\ndatasets:\n  - name: shared\n    path: data\n",
    )
    .expect("Kitfile");
    let store = tempfile::tempdir().expect("store");
    for format in ["v1", "v2"] {
        let first = ok(
            store.path(),
            &["pack", s(context.path()), "--format", format],
        );
        let out = tempfile::tempdir().expect("out");
        ok(store.path(), &["unpack", first.trim(), "-d", s(out.path())]);
        assert_eq!(mode_of(&out.path().join("data/shared")), 0o2775, "{format}");
        let second = ok(store.path(), &["pack", s(out.path()), "--format", format]);
        assert_eq!(first, second, "{format}: repack digest");
    }
}

#[test]
fn setuid_files_lose_it_unless_same_permissions() {
    let context = tempfile::tempdir().expect("context");
    std::fs::create_dir(context.path().join("bin")).expect("mkdir");
    let tool = context.path().join("bin/tool");
    std::fs::write(&tool, "#!/bin/sh\n").expect("write");
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o4755)).expect("chmod");
    assert_eq!(mode_of(&tool), 0o4755, "the owner may set setuid");
    std::fs::write(
        context.path().join("Kitfile"),
        "manifestVersion: 1.0.0\ncode:\n  - path: bin\n",
    )
    .expect("Kitfile");
    let store = tempfile::tempdir().expect("store");
    ok(store.path(), &["pack", s(context.path()), "-t", "t:1"]);
    let layer = manifest(store.path(), "t:1")["layers"][0]["digest"]
        .as_str()
        .expect("digest")
        .to_owned();
    let blob = std::fs::File::open(blob_path(store.path(), &layer)).expect("blob");
    let packed_mode = tar::Archive::new(blob)
        .entries()
        .expect("entries")
        .map(|e| e.expect("entry"))
        .find(|e| e.path().expect("path").ends_with("tool"))
        .map(|e| e.header().mode().expect("mode"));
    assert_eq!(packed_mode, Some(0o4755), "the layer carries setuid");

    let out = tempfile::tempdir().expect("out");
    let said = String::from_utf8_lossy(
        &crate::common::mkbuild(store.path(), &["unpack", "t:1", "-d", s(out.path())]).stderr,
    )
    .into_owned();
    assert_eq!(mode_of(&out.path().join("bin/tool")), 0o755);
    assert!(
        said.contains("setuid/setgid bits; they are dropped"),
        "{said}"
    );

    let kept = tempfile::tempdir().expect("kept");
    ok(
        store.path(),
        &["unpack", "t:1", "-d", s(kept.path()), "--same-permissions"],
    );
    assert_eq!(mode_of(&kept.path().join("bin/tool")), 0o4755);
}

/// The `code` layer of this case is, byte for byte, what Go's `archive/tar` writes: its digest is
/// the one kit's reference packer (`../shared/tools/kitref`) recorded in `expected-v2.txt`.
#[test]
fn a_setuid_file_from_go_tar_bytes_loses_it_unless_same_permissions() {
    let case = fixtures().join("cases/empty-folders-and-modes");
    let go_digest = std::fs::read_to_string(case.join("expected-v2.txt"))
        .expect("expected digests")
        .lines()
        .find_map(|l| {
            l.strip_prefix("code ")?
                .split(' ')
                .next()
                .map(str::to_owned)
        })
        .expect("the code layer's digest");
    let context = context_from_script(&case.join("mk.sh"));
    let store = tempfile::tempdir().expect("store");
    let first = ok(
        store.path(),
        &["pack", s(context.path()), "--format", "v2", "-t", "m:1"],
    );
    let m = manifest(store.path(), "m:1");
    assert!(
        m["layers"]
            .as_array()
            .expect("layers")
            .iter()
            .any(|l| l["digest"] == go_digest.as_str()),
        "the layer is Go's bytes"
    );
    let out = tempfile::tempdir().expect("out");
    ok(store.path(), &["unpack", "m:1", "-d", s(out.path())]);
    assert_eq!(mode_of(&out.path().join("code/setuid")), 0o755);
    assert_eq!(mode_of(&out.path().join("code/sticky-dir")), 0o1777);
    let kept = tempfile::tempdir().expect("kept");
    ok(
        store.path(),
        &["unpack", "m:1", "-d", s(kept.path()), "--same-permissions"],
    );
    assert_eq!(mode_of(&kept.path().join("code/setuid")), 0o4755);
    // With every bit kept, the folder packs back to Go's bytes.
    let again = ok(store.path(), &["pack", s(kept.path()), "--format", "v2"]);
    assert_eq!(again, first);
}
