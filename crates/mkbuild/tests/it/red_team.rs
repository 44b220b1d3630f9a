//! What a red-team pass found in pack, the store and the CLI's output (issue 11), through the real
//! CLI: local files that read forever or point outside the context, races against a concurrent
//! writer in the context, a store with a symlinked `ingest/` or damaged blobs, names unpack would
//! refuse, terminal escapes, and panics. Every case must end with a clear error (or success), never
//! a panic, a hang or a read outside the context.

use std::io::Write as _;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{blob_path, fails, manifest, ok, pack_evil_modelkit, run_bounded, sha256_hex};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A context with a Kitfile whose model is `w.bin`.
fn context() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("context");
    std::fs::write(dir.path().join("w.bin"), "weights").expect("write");
    std::fs::write(
        dir.path().join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: red\nmodel:\n  path: w.bin\n",
    )
    .expect("Kitfile");
    dir
}

fn expect_error(store: &Path, args: &[&str], expected: &[&str]) -> String {
    let (code, _, stderr) = run_bounded("red team", store, args, None);
    assert_eq!(code, 1, "mkbuild {args:?}: exit code; stderr: {stderr}");
    for e in expected {
        assert!(
            stderr.contains(e),
            "mkbuild {args:?}: expected `{e}` in: {stderr}"
        );
    }
    stderr
}

/// Every file of the store with its SHA-256, to prove a failed command changed nothing.
fn snapshot(store: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let mut stack = vec![store.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.is_file() {
                let bytes = std::fs::read(&path).expect("read store file");
                files.push((path, sha256_hex(&bytes)));
            }
        }
    }
    files.sort();
    files
}

// 7. Panics.

#[test]
fn a_kitignore_pattern_too_big_to_compile_is_an_error_naming_its_line() {
    let store = tempfile::tempdir().expect("store");
    let ctx = context();
    std::fs::write(
        ctx.path().join(".kitignore"),
        format!("*.tmp\n{}\n", "?".repeat(200_000)),
    )
    .expect("kitignore");
    expect_error(
        store.path(),
        &["pack", s(ctx.path()), "-t", "red:1"],
        &[".kitignore`:2", "too complex"],
    );
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let store = tempfile::tempdir().expect("store");
    pack_evil_modelkit(store.path());
    for args in [
        &["inspect", "evil:1", "--summary"][..],
        &["inspect", "evil:1"],
        &["list"],
        &["formats"],
    ] {
        // The read end is closed before mkbuild starts: its first write fails with EPIPE.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_mkbuild"))
            .arg("--store")
            .arg(store.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("run mkbuild");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

// 10. Unbounded local reads, and links out of the context.

#[test]
fn a_kitfile_that_reads_forever_is_refused() {
    let store = tempfile::tempdir().expect("store");
    let ctx = context();
    expect_error(
        store.path(),
        &["pack", s(ctx.path()), "-f", "/dev/zero", "-t", "red:1"],
        &["/dev/zero", "a character device, not a regular file"],
    );
    // An endless standard input stops at the limit.
    let (code, _, stderr) = run_bounded(
        "red team",
        store.path(),
        &["pack", s(ctx.path()), "-f", "-", "-t", "red:1"],
        Some(|mut stdin| {
            let chunk = vec![b'#'; 1 << 16];
            while stdin.write_all(&chunk).is_ok() {}
        }),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("standard input is larger than"), "{stderr}");
    assert!(snapshot(store.path())
        .iter()
        .all(|(p, _)| !p.starts_with(store.path().join("blobs"))));
}

#[test]
fn a_kitfile_named_with_f_may_be_a_link_or_a_pipe() {
    let store = tempfile::tempdir().expect("store");
    let ctx = context();
    let elsewhere = tempfile::tempdir().expect("elsewhere");
    let kitfile = elsewhere.path().join("Kitfile.real");
    std::fs::copy(ctx.path().join("Kitfile"), &kitfile).expect("copy");
    let link = elsewhere.path().join("Kitfile.link");
    symlink(&kitfile, &link).expect("symlink");
    ok(
        store.path(),
        &["pack", s(ctx.path()), "-f", s(&link), "-t", "red:1"],
    );
    let (code, _, stderr) = run_bounded(
        "red team",
        store.path(),
        &["pack", s(ctx.path()), "-f", "-", "-t", "red:2"],
        Some(|mut stdin| {
            let _ = stdin.write_all(
                b"manifestVersion: 1.0.0\npackage:\n  name: red\nmodel:\n  path: w.bin\n",
            );
        }),
    );
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_kitfile_or_kitignore_in_the_context_is_read_only_as_a_regular_file() {
    let store = tempfile::tempdir().expect("store");
    let outside = tempfile::tempdir().expect("outside");
    let secret = outside.path().join("secret.yaml");
    std::fs::write(&secret, "secret-token: hunter2\n").expect("secret");

    // A Kitfile that links out of the context: refused, its target never read or echoed.
    let ctx = context();
    std::fs::remove_file(ctx.path().join("Kitfile")).expect("rm");
    symlink(&secret, ctx.path().join("Kitfile")).expect("symlink");
    let stderr = expect_error(
        store.path(),
        &["pack", s(ctx.path()), "-t", "red:1"],
        &["Kitfile", "is a symbolic link", "-f"],
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");

    // `.kitignore` as a link to an endless device, and as a FIFO nobody writes to.
    let ctx = context();
    symlink("/dev/zero", ctx.path().join(".kitignore")).expect("symlink");
    expect_error(
        store.path(),
        &["pack", s(ctx.path()), "-t", "red:1"],
        &[".kitignore", "is a symbolic link"],
    );
    let ctx = context();
    let status = Command::new("mkfifo")
        .arg(ctx.path().join(".kitignore"))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    expect_error(
        store.path(),
        &["pack", s(ctx.path()), "-t", "red:1"],
        &[".kitignore", "is a FIFO, not a regular file"],
    );
    // A `.kitignore` far larger than any real one.
    let ctx = context();
    std::fs::write(ctx.path().join(".kitignore"), vec![b'#'; 5 << 20]).expect("big");
    expect_error(
        store.path(),
        &["pack", s(ctx.path()), "-t", "red:1"],
        &[".kitignore", "is larger than"],
    );
    assert!(snapshot(store.path())
        .iter()
        .all(|(p, _)| !p.starts_with(store.path().join("blobs"))));
}

// 4. A file swapped for a link while pack runs.

#[test]
fn a_file_swapped_for_a_link_during_pack_is_never_read() {
    let store = tempfile::tempdir().expect("store");
    let root = tempfile::tempdir().expect("root");
    let ctx = root.path().join("ctx");
    let spare = root.path().join("spare");
    std::fs::create_dir_all(ctx.join("m/sub")).expect("mkdir");
    std::fs::create_dir_all(&spare).expect("mkdir");
    std::fs::write(ctx.join("m/w.bin"), "public").expect("write");
    std::fs::write(ctx.join("m/sub/x.bin"), "public").expect("write");
    std::fs::write(
        ctx.join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: race\nmodel:\n  path: m\n",
    )
    .expect("Kitfile");
    let outside = root.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let secret = outside.join("w.bin");
    // As long as the public file: a reader that trusts the planned size reads it whole.
    std::fs::write(&secret, "SECRET").expect("secret");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    std::fs::write(outside.join("x.bin"), "SECRET").expect("secret");

    // The attacker: swaps `m/w.bin` for a link to the secret and back, and `m/sub` for a link to
    // the outside folder and back, by rename (atomic) from a folder beside the context.
    let stop = Arc::new(AtomicBool::new(false));
    let attacker = {
        let (ctx, spare, outside, stop) =
            (ctx.clone(), spare.clone(), outside.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::remove_file(spare.join("link"));
                let _ = symlink(&secret, spare.join("link"));
                let _ = std::fs::rename(spare.join("link"), ctx.join("m/w.bin"));
                let _ = std::fs::write(spare.join("file"), "public");
                let _ = std::fs::rename(spare.join("file"), ctx.join("m/w.bin"));
                let _ = std::fs::rename(ctx.join("m/sub"), spare.join("sub"));
                let _ = std::fs::remove_file(spare.join("dirlink"));
                let _ = symlink(&outside, spare.join("dirlink"));
                let _ = std::fs::rename(spare.join("dirlink"), ctx.join("m/sub"));
                let _ = std::fs::remove_file(ctx.join("m/sub"));
                let _ = std::fs::rename(spare.join("sub"), ctx.join("m/sub"));
                swaps += 1;
            }
            swaps
        })
    };
    let (mut packed, mut refused) = (0, 0);
    let start = Instant::now();
    for attempt in 0..300 {
        if start.elapsed() > Duration::from_secs(90) {
            break;
        }
        let out = crate::common::mkbuild(
            store.path(),
            &["pack", s(&ctx), "-t", &format!("race:{attempt}")],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        if out.status.success() {
            packed += 1;
        } else {
            refused += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = attacker.join().expect("attacker");
    // No blob may hold a byte of the secret, whatever the attempts gave.
    for (path, _) in snapshot(store.path()) {
        let bytes = std::fs::read(&path).expect("read");
        assert!(
            !bytes.windows(6).any(|w| w == b"SECRET"),
            "`{}` holds the secret (after {packed} packs, {refused} refusals)",
            path.display()
        );
    }
    eprintln!("{packed} packed, {refused} refused, {swaps} swaps");
    assert!(
        packed + refused >= 100,
        "too few attempts ran: {packed} + {refused}"
    );
}

// 6. A symlinked `ingest/`, and what else is found there.

#[test]
fn store_cleanup_never_follows_a_symlinked_ingest_and_removes_only_its_own_files() {
    let store = tempfile::tempdir().expect("store");
    pack_evil_modelkit(store.path());
    let victim = tempfile::tempdir().expect("victim");
    std::fs::create_dir_all(victim.path().join("blob-dir")).expect("mkdir");
    std::fs::write(victim.path().join("blob-precious"), "x").expect("write");
    std::fs::write(victim.path().join("precious"), "x").expect("write");
    let ingest = store.path().join("ingest");
    let _ = std::fs::remove_dir_all(&ingest);
    symlink(victim.path(), &ingest).expect("symlink");
    ok(store.path(), &["list"]);
    ok(store.path(), &["verify"]);
    for name in ["blob-dir", "blob-precious", "precious"] {
        assert!(
            victim.path().join(name).exists(),
            "{name} was deleted through the link"
        );
    }
    // Packing refuses to write through it.
    let ctx = context();
    expect_error(
        store.path(),
        &["pack", s(ctx.path()), "-t", "red:1"],
        &["ingest", "symbolic link"],
    );
    assert!(victim.path().join("blob-precious").exists());

    // A real `ingest/`: only mkbuild's leftovers go, not a folder or a file of someone else's.
    std::fs::remove_file(&ingest).expect("rm link");
    std::fs::create_dir_all(ingest.join("blob-folder")).expect("mkdir");
    std::fs::write(ingest.join("blob-folder/inner"), "x").expect("write");
    std::fs::write(ingest.join("notes.txt"), "x").expect("write");
    std::fs::write(ingest.join("blob-leftover"), "half").expect("write");
    ok(store.path(), &["list"]);
    assert!(!ingest.join("blob-leftover").exists(), "a leftover stays");
    assert!(ingest.join("blob-folder/inner").exists());
    assert!(ingest.join("notes.txt").exists());
}

// 9. Corrupt blobs: healed by the next pack, removed by `verify --repair`.

fn corrupt_layer(store: &Path, reference: &str) -> PathBuf {
    let m = manifest(store, reference);
    let digest = m["layers"][0]["digest"].as_str().expect("digest");
    let path = blob_path(store, digest);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[600] ^= 0x20;
    std::fs::write(&path, bytes).expect("write");
    path
}

#[test]
fn packing_again_replaces_a_corrupt_blob() {
    let store = tempfile::tempdir().expect("store");
    let ctx = context();
    ok(store.path(), &["pack", s(ctx.path()), "-t", "red:1"]);
    let path = corrupt_layer(store.path(), "red:1");
    fails(store.path(), &["verify"]);
    ok(
        store.path(),
        &["pack", s(ctx.path()), "--no-cache", "-t", "red:1"],
    );
    ok(store.path(), &["verify"]);
    let bytes = std::fs::read(&path).expect("read");
    let name = path.file_name().and_then(|n| n.to_str()).expect("name");
    assert_eq!(sha256_hex(&bytes), name);
}

#[test]
fn verify_repair_removes_corrupt_blobs_and_names_the_modelkits_to_pack_again() {
    let store = tempfile::tempdir().expect("store");
    let ctx = context();
    ok(
        store.path(),
        &["pack", s(ctx.path()), "-t", "red:1", "-t", "red:2"],
    );
    let path = corrupt_layer(store.path(), "red:1");
    let stderr = fails(store.path(), &["verify"]);
    assert!(stderr.contains("verify --repair"), "{stderr}");
    assert!(path.exists(), "plain verify changes nothing");
    let stderr = fails(store.path(), &["verify", "--repair"]);
    assert!(!path.exists(), "the corrupt blob stays: {stderr}");
    assert!(
        stderr.contains("pack or pull again: `red:1`, `red:2`"),
        "{stderr}"
    );
    ok(store.path(), &["pack", s(ctx.path()), "-t", "red:1"]);
    ok(store.path(), &["verify"]);
}

// 11. Names unpack would refuse; control characters from the store; links left out.

#[test]
fn names_unpack_would_refuse_are_refused_at_pack_naming_the_file() {
    for (name, shown, problem) in [
        ("a\nb.bin", "a\\u{a}b.bin", "control character"),
        ("tab\there.bin", "tab\\u{9}here.bin", "control character"),
        (
            "esc\u{1b}[31m.bin",
            "esc\\u{1b}[31m.bin",
            "control character",
        ),
        ("back\\slash.bin", "back\\slash.bin", "backslash"),
    ] {
        let store = tempfile::tempdir().expect("store");
        let ctx = context();
        std::fs::create_dir(ctx.path().join("data")).expect("mkdir");
        std::fs::write(ctx.path().join("data").join(name), "x").expect("write");
        std::fs::write(
            ctx.path().join("Kitfile"),
            "manifestVersion: 1.0.0\npackage:\n  name: red\nmodel:\n  path: w.bin\ndatasets:\n  - path: data\n",
        )
        .expect("Kitfile");
        let stderr = expect_error(
            store.path(),
            &["pack", s(ctx.path()), "-t", "red:1"],
            &[shown, problem, ".kitignore"],
        );
        assert!(!stderr.contains('\u{1b}'), "raw escape in: {stderr:?}");
        assert!(snapshot(store.path())
            .iter()
            .all(|(p, _)| !p.starts_with(store.path().join("blobs"))));
    }
}

#[test]
fn links_in_a_layer_folder_are_counted_and_listed_with_v() {
    let store = tempfile::tempdir().expect("store");
    let ctx = context();
    std::fs::create_dir(ctx.path().join("data")).expect("mkdir");
    std::fs::write(ctx.path().join("data/a.csv"), "a").expect("write");
    symlink("a.csv", ctx.path().join("data/b.csv")).expect("symlink");
    symlink("/etc/hostname", ctx.path().join("data/c.csv")).expect("symlink");
    std::fs::write(
        ctx.path().join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: red\nmodel:\n  path: w.bin\ndatasets:\n  - path: data\n",
    )
    .expect("Kitfile");
    let out = crate::common::mkbuild(store.path(), &["pack", s(ctx.path()), "-t", "red:1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("layer `data`: 2 left out (2 symbolic links"),
        "{stderr}"
    );
    assert!(stderr.contains("-v lists them"), "{stderr}");
    let out = crate::common::mkbuild(store.path(), &["-v", "pack", s(ctx.path()), "-t", "red:1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("left out `data/b.csv`: a symbolic link"),
        "{stderr}"
    );
    assert!(
        stderr.contains("left out `data/c.csv`: a symbolic link"),
        "{stderr}"
    );
}

#[test]
fn control_characters_from_the_store_never_reach_the_terminal_raw() {
    let store = tempfile::tempdir().expect("store");
    let old = pack_evil_modelkit(store.path());
    // Rewrite the manifest with escapes in the format annotation and a layer's media type, and
    // point the tag at it.
    let mut m = old.clone();
    m["annotations"]["ml.mkbuild.format"] = "v1\u{1b}]0;pwned\u{7}".into();
    m["layers"][0]["mediaType"] = "application/x\u{1b}[2Jtar".into();
    let bytes = serde_json::to_vec(&m).expect("json");
    let digest = format!("sha256:{}", sha256_hex(&bytes));
    std::fs::write(blob_path(store.path(), &digest), &bytes).expect("blob");
    let index_path = store.path().join("index.json");
    let index = std::fs::read_to_string(&index_path).expect("index");
    let old_bytes = serde_json::to_vec(&old).expect("json");
    let old_digest = format!("sha256:{}", sha256_hex(&old_bytes));
    let mut index: serde_json::Value = serde_json::from_str(&index).expect("index json");
    for entry in index["manifests"].as_array_mut().expect("manifests") {
        entry["digest"] = digest.clone().into();
        entry["size"] = bytes.len().into();
    }
    let _ = old_digest;
    std::fs::write(&index_path, serde_json::to_vec(&index).expect("json")).expect("index");
    for args in [&["list"][..], &["inspect", "evil:1", "--summary"]] {
        let out = ok(store.path(), args);
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{7}'),
            "{args:?}: {out:?}"
        );
        assert!(out.contains("\\u{1b}"), "{args:?}: escape not shown: {out}");
    }
}

#[test]
fn an_endless_password_on_stdin_is_refused() {
    let store = tempfile::tempdir().expect("store");
    let (code, _, stderr) = run_bounded(
        "red team",
        store.path(),
        &["login", "127.0.0.1:9", "-u", "x", "--password-stdin"],
        Some(|mut stdin| {
            let chunk = vec![b'p'; 1 << 16];
            while stdin.write_all(&chunk).is_ok() {}
        }),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("longer than"), "{stderr}");
}

#[test]
fn a_fifo_or_link_planted_at_a_blob_path_is_refused_without_hanging_and_repaired() {
    let store = tempfile::tempdir().expect("store");
    let m = pack_evil_modelkit(store.path());
    let config = blob_path(
        store.path(),
        m["config"]["digest"].as_str().expect("digest"),
    );
    let layer = blob_path(
        store.path(),
        m["layers"][0]["digest"].as_str().expect("digest"),
    );
    std::fs::remove_file(&layer).expect("rm");
    let status = Command::new("mkfifo").arg(&layer).status().expect("mkfifo");
    assert!(status.success());
    let outside = tempfile::tempdir().expect("outside");
    let bytes = std::fs::read(&config).expect("config");
    std::fs::write(outside.path().join("config"), &bytes).expect("write");
    std::fs::remove_file(&config).expect("rm");
    symlink(outside.path().join("config"), &config).expect("symlink");

    let out = tempfile::tempdir().expect("out");
    let target = out.path().join("t");
    let (code, problems, stderr) = run_bounded("red team", store.path(), &["verify"], None);
    assert_eq!(code, 1, "{stderr}");
    assert!(problems.contains("not a regular file"), "{problems}");
    assert!(problems.contains("symbolic link"), "{problems}");
    expect_error(
        store.path(),
        &["unpack", "evil:1", "-d", s(&target)],
        &["is not a regular file", "verify --repair"],
    );
    let stderr = expect_error(
        store.path(),
        &["verify", "--repair"],
        &["2 damaged blobs removed", "pack or pull again: `evil:1`"],
    );
    assert!(
        !layer.exists() && std::fs::symlink_metadata(&config).is_err(),
        "{stderr}"
    );
    assert!(
        outside.path().join("config").exists(),
        "the link's target is not touched"
    );
    pack_evil_modelkit(store.path());
    ok(store.path(), &["verify"]);
}
