//! `--progress plain` of pack, unpack, convert, push and pull: lines on stderr (never stdout) that
//! count the bytes up to the whole. `MKBUILD_PROGRESS_INTERVAL_MS=0` prints every step instead of one line
//! every 5 s, so that a test of a few MB sees them.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use mkbuild_registry::testing::TestRegistry;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn run(store: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_mkbuild"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env("MKBUILD_PROGRESS_INTERVAL_MS", "0")
        .env("DOCKER_CONFIG", store.join("no-docker-config"))
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("MKBUILD_STORE")
        .env_remove("MKBUILD_FORMAT")
        .stdin(Stdio::null())
        .output()
        .expect("run mkbuild");
    assert!(
        out.status.success(),
        "mkbuild {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The progress lines of `verb` on stderr, and the total they count to (the `of N MiB` part).
fn progress_lines(out: &Output, verb: &str) -> (Vec<String>, String) {
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("MiB"),
        "progress never goes to stdout"
    );
    let lines: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with(&format!("{verb}: ")))
        .map(str::to_owned)
        .collect();
    let last = lines.last().cloned().unwrap_or_default();
    let total = last
        .split(" of ")
        .nth(1)
        .and_then(|rest| rest.split(" (").next())
        .unwrap_or_default()
        .to_owned();
    (lines, total)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[test]
fn pack_unpack_and_convert_report_progress_up_to_the_whole() {
    let context = tempfile::tempdir().expect("context");
    let root = context.path();
    std::fs::create_dir_all(root.join("model")).expect("mkdir");
    std::fs::create_dir_all(root.join("data")).expect("mkdir");
    let weights: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(root.join("model/w.bin"), &weights).expect("write");
    std::fs::write(root.join("data/d.bin"), &weights[..1_000_000]).expect("write");
    std::fs::write(
        root.join("Kitfile"),
        "manifestVersion: 1.0.0\nmodel:\n  path: model\ndatasets:\n  - path: data\n",
    )
    .expect("Kitfile");
    let store = tempfile::tempdir().expect("store");

    // Pack counts file data: 4,000,000 bytes.
    let out = run(
        store.path(),
        &["pack", s(root), "-t", "p:1", "--progress", "plain"],
    );
    let (lines, total) = progress_lines(&out, "pack");
    assert!(lines.len() >= 2, "{lines:?}");
    assert_eq!(total, mib(4_000_000), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("(100%)")),
        "reaches the whole: {lines:?}"
    );

    // Unpack and convert count the layer blobs they read.
    let manifest = crate::common::manifest(store.path(), "p:1");
    let layers: u64 = manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter(|l| {
            !l["mediaType"]
                .as_str()
                .unwrap_or_default()
                .contains("kitfile")
        })
        .map(|l| l["size"].as_u64().expect("size"))
        .sum();
    let target = tempfile::tempdir().expect("target");
    let out_dir = target.path().join("out");
    let out = run(
        store.path(),
        &["unpack", "p:1", "-d", s(&out_dir), "--progress", "plain"],
    );
    let (lines, total) = progress_lines(&out, "unpack");
    assert_eq!(total, mib(layers), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("(100%)")),
        "reaches the whole: {lines:?}"
    );
    assert_eq!(
        std::fs::read(out_dir.join("model/w.bin")).expect("unpacked"),
        weights
    );

    let out = run(
        store.path(),
        &["convert", "p:1", "--to", "v1", "--progress", "plain"],
    );
    let (lines, total) = progress_lines(&out, "convert");
    assert_eq!(total, mib(layers), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("(100%)")),
        "reaches the whole: {lines:?}"
    );

    // `--progress none` prints none of it.
    let out = run(
        store.path(),
        &[
            "unpack",
            "p:1",
            "-d",
            s(&target.path().join("again")),
            "--progress",
            "none",
        ],
    );
    assert_eq!(progress_lines(&out, "unpack").0, Vec::<String>::new());
}

#[test]
fn push_and_pull_report_progress_up_to_the_whole() {
    let Some(registry) =
        TestRegistry::start_or_skip("push_and_pull_report_progress_up_to_the_whole", false)
    else {
        return;
    };
    let context = tempfile::tempdir().expect("context");
    std::fs::create_dir_all(context.path().join("model")).expect("mkdir");
    let weights: Vec<u8> = (0..5_000_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(context.path().join("model/w.bin"), &weights).expect("write");
    std::fs::write(
        context.path().join("Kitfile"),
        "manifestVersion: 1.0.0\nmodel:\n  path: model\n",
    )
    .expect("Kitfile");
    let store = tempfile::tempdir().expect("store");
    run(
        store.path(),
        &["pack", s(context.path()), "-t", "p:1", "--progress", "none"],
    );
    let manifest = crate::common::manifest(store.path(), "p:1");
    let blobs: u64 = manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .chain([&manifest["config"]])
        .map(|b| b["size"].as_u64().expect("size"))
        .sum();
    let remote = format!("{}/progress/p:1", registry.host());

    let out = run(
        store.path(),
        &[
            "push",
            "p:1",
            &remote,
            "--plain-http",
            "--progress",
            "plain",
        ],
    );
    let (lines, total) = progress_lines(&out, "push");
    assert_eq!(total, mib(blobs), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("(100%)")),
        "reaches the whole: {lines:?}"
    );

    let other = tempfile::tempdir().expect("other store");
    let out = run(
        other.path(),
        &["pull", &remote, "--plain-http", "--progress", "plain"],
    );
    let (lines, total) = progress_lines(&out, "pull");
    assert_eq!(total, mib(blobs), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("(100%)")),
        "reaches the whole: {lines:?}"
    );
}
