//! `mkbuild pull` against a hostile registry (`testing::HostileRegistry`): the real binary's peak
//! memory (VmHWM, polled from `/proc` while it runs) stays small however long a body is, and a
//! stalled registry fails within the timeout. Then, against a real registry (Debian's
//! `docker-registry`, skipped when absent): a damaged blob in the store is downloaded again, and a
//! pull never tags a ModelKit whose blobs are not intact.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use mkbuild_registry::testing::{FaultProxy, Faults, HostileRegistry, Hostility, TestRegistry};
use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{Descriptor, Digest, Manifest};

use crate::common::{wait_polling, TIME_LIMIT};

/// The peak resident memory allowed to a pull, whatever the registry sends.
const MAX_RSS_KIB: u64 = 64 * 1024;
/// A pull past this is killed, so that a regression cannot eat the machine's memory.
const KILL_RSS_KIB: u64 = 1024 * 1024;

/// What a run of the binary did.
struct Run {
    status: ExitStatus,
    stderr: String,
    /// The peak resident set (VmHWM) seen, in KiB.
    peak_kib: u64,
    took: Duration,
    killed: bool,
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs mkbuild with `args` and `envs`, polling its peak memory until it exits (it is killed past
/// the memory or the time limit).
fn run(store: &Path, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let stderr_path = dir.path().join("stderr");
    let stderr = std::fs::File::create(&stderr_path).unwrap_or_else(|e| panic!("{e}"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_mkbuild"));
    command
        .arg("--store")
        .arg(store)
        .args(args)
        .env("DOCKER_CONFIG", dir.path())
        .env_remove("MKBUILD_STORE")
        .env_remove("MKBUILD_PLAIN_HTTP")
        .env_remove("MKBUILD_REGISTRY_TIMEOUT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    for (key, value) in envs {
        command.env(key, value);
    }
    let start = Instant::now();
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run mkbuild: {e}"));
    let mut peak_kib = 0;
    let (status, killed) = wait_polling(&mut child, Duration::from_millis(5), |pid| {
        if let Some(kib) = vm_hwm_kib(pid) {
            peak_kib = peak_kib.max(kib);
        }
        peak_kib > KILL_RSS_KIB || start.elapsed() > TIME_LIMIT
    });
    Run {
        status,
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
        peak_kib,
        took: start.elapsed(),
        killed,
    }
}

/// A ModelKit-shaped manifest and its blobs, for the hostile registry to serve.
fn modelkit() -> (Vec<u8>, Vec<Vec<u8>>) {
    let blobs = vec![
        br#"{"manifest":{"name":"hostile"}}"#.to_vec(),
        (0..200_000u32)
            .map(|i| (i * 13 % 251) as u8)
            .collect::<Vec<u8>>(),
    ];
    let descriptor = |bytes: &[u8]| {
        Descriptor::new(
            "application/vnd.kitops.modelkit.model.v1.tar",
            Digest::of(bytes),
            bytes.len() as u64,
        )
    };
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_owned()),
        artifact_type: None,
        config: descriptor(&blobs[0]),
        layers: vec![descriptor(&blobs[1])],
        annotations: BTreeMap::new(),
    };
    (manifest.to_json(), blobs)
}

fn pull_from(hostility: Hostility, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let (manifest, blobs) = modelkit();
    let server = HostileRegistry::start(hostility, manifest, blobs, None)
        .unwrap_or_else(|e| panic!("cannot start the hostile registry: {e}"));
    let store = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let reference = format!("{}/team/model:v1", server.host());
    let mut all = vec!["pull", reference.as_str(), "--plain-http"];
    all.extend_from_slice(args);
    let run = run(store.path(), &all, envs);
    eprintln!(
        "{hostility:?}: exit {:?}, peak RSS {} KiB, {:.2} s: {}",
        run.status.code(),
        run.peak_kib,
        run.took.as_secs_f64(),
        run.stderr.trim()
    );
    run
}

#[test]
fn endless_bodies_do_not_grow_memory() {
    for (hostility, expected) in [
        (
            Hostility::EndlessManifest,
            "sent more than 4194304 bytes for the manifest",
        ),
        (Hostility::EndlessError, "answered 500: {"),
        (
            Hostility::EndlessToken,
            "sent more than 65536 bytes for a token",
        ),
    ] {
        let run = pull_from(hostility, &["--timeout", "5"], &[]);
        assert!(!run.killed, "{hostility:?}: killed at {} KiB", run.peak_kib);
        assert_eq!(run.status.code(), Some(1), "{hostility:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(expected),
            "{hostility:?}: {}",
            run.stderr
        );
        assert!(run.peak_kib > 0, "{hostility:?}: no memory reading");
        assert!(
            run.peak_kib < MAX_RSS_KIB,
            "{hostility:?}: peak RSS {} KiB",
            run.peak_kib
        );
        assert!(
            run.took < Duration::from_secs(20),
            "{hostility:?}: {:?}",
            run.took
        );
    }
}

#[test]
fn stalled_registries_fail_within_the_timeout() {
    for (hostility, args, envs) in [
        (Hostility::HeadThenSilence, &["--timeout", "2"][..], &[][..]),
        // The environment variable sets it too.
        (
            Hostility::OneBytePerSecond,
            &[][..],
            &[("MKBUILD_REGISTRY_TIMEOUT", "2")][..],
        ),
        (Hostility::StallMidBlob, &["--timeout", "2"][..], &[][..]),
    ] {
        let run = pull_from(hostility, args, envs);
        assert_eq!(run.status.code(), Some(1), "{hostility:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("made no progress for 2 s"),
            "{hostility:?}: {}",
            run.stderr
        );
        // A bound, not a speed claim: without a timeout these runs never end.
        assert!(
            run.took < Duration::from_secs(20),
            "{hostility:?}: {:?}",
            run.took
        );
    }
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap_or_else(|| panic!("non-UTF-8 path"))
}

fn mkbuild(store: &Path, args: &[&str]) -> Run {
    run(store, args, &[])
}

fn ok(store: &Path, args: &[&str]) -> String {
    let run = mkbuild(store, args);
    assert!(
        run.status.success(),
        "mkbuild {args:?} failed: {}",
        run.stderr
    );
    run.stderr
}

/// The largest blob file of the store (the model layer of the sample).
fn largest_blob(store: &Path) -> PathBuf {
    let mut blobs: Vec<(u64, PathBuf)> = std::fs::read_dir(store.join("blobs/sha256"))
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
        .filter_map(|e| Some((e.metadata().ok()?.len(), e.path())))
        .collect();
    blobs.sort();
    blobs
        .pop()
        .map(|(_, path)| path)
        .unwrap_or_else(|| panic!("no blobs"))
}

fn flip_a_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{e}"));
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{e}"));
}

fn cut_last_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{e}"));
    bytes.pop();
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{e}"));
}

/// Packs the sample in the store `tmp/a` and pushes it as `team/sample:v1` and `:v2`, pulls `:v1`
/// into the store `tmp/b`; returns `b` and the path of its largest blob.
fn pushed_and_pulled(registry: &TestRegistry, tmp: &Path) -> (PathBuf, PathBuf) {
    let a = tmp.join("a");
    let b = tmp.join("b");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample");
    ok(&a, &["-q", "pack", s(&sample), "-t", "sample:1"]);
    for tag in ["v1", "v2"] {
        let remote = format!("{}/team/sample:{tag}", registry.host());
        ok(&a, &["push", "sample:1", &remote, "--plain-http"]);
    }
    ok(
        &b,
        &[
            "pull",
            &format!("{}/team/sample:v1", registry.host()),
            "--plain-http",
        ],
    );
    let layer = largest_blob(&b);
    (b, layer)
}

#[test]
fn pull_downloads_a_damaged_stored_blob_again() {
    let Some(registry) =
        TestRegistry::start_or_skip("pull_downloads_a_damaged_stored_blob_again", false)
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (b, layer) = pushed_and_pulled(&registry, tmp.path());
    let good = std::fs::read(&layer).unwrap_or_else(|e| panic!("{e}"));
    let remote = format!("{}/team/sample:v1", registry.host());

    // One byte changed, the size kept: found by `--verify-existing`, downloaded again.
    flip_a_byte(&layer);
    assert!(!mkbuild(&b, &["verify"]).status.success());
    let stderr = ok(&b, &["pull", &remote, "--plain-http", "--verify-existing"]);
    assert!(stderr.contains("is damaged"), "{stderr}");
    assert_eq!(std::fs::read(&layer).ok(), Some(good.clone()));
    ok(&b, &["verify"]);

    // One byte missing: the size is always checked.
    cut_last_byte(&layer);
    ok(&b, &["pull", &remote, "--plain-http"]);
    assert_eq!(std::fs::read(&layer).ok(), Some(good));
    ok(&b, &["verify"]);
}

#[test]
fn pull_never_tags_a_damaged_blob() {
    let Some(registry) = TestRegistry::start_or_skip("pull_never_tags_a_damaged_blob", false)
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (b, layer) = pushed_and_pulled(&registry, tmp.path());
    // The registry's copy cannot repair it either: the proxy damages every blob it serves.
    let proxy = FaultProxy::start(
        registry.addr(),
        Faults {
            corrupt_blobs: true,
            ..Faults::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let good = std::fs::read(&layer).unwrap_or_else(|e| panic!("{e}"));
    let remote = format!("{}/team/sample:v2", proxy.host());
    for (damage, flag) in [
        (cut_last_byte as fn(&Path), None),
        (flip_a_byte as fn(&Path), Some("--verify-existing")),
    ] {
        std::fs::write(&layer, &good).unwrap_or_else(|e| panic!("{e}"));
        damage(&layer);
        let mut args = vec!["pull", remote.as_str(), "--plain-http"];
        args.extend(flag);
        let run = mkbuild(&b, &args);
        assert_eq!(run.status.code(), Some(1), "{flag:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("whose content hashes to"),
            "{}",
            run.stderr
        );
        let listed = listed_references(&b);
        assert!(
            !listed.iter().any(|r| r.ends_with(":v2")),
            "{flag:?}: tagged: {listed:?}"
        );
        assert!(
            listed.iter().any(|r| r.ends_with("team/sample:v1")),
            "{listed:?}"
        );
    }
}

/// The references `mkbuild list` shows.
fn listed_references(store: &Path) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_mkbuild"))
        .arg("--store")
        .arg(store)
        .args(["list", "--json"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let list: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("list JSON: {e}"));
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| row["reference"].as_str().map(str::to_owned))
        .collect()
}

/// A registry that denies the access (`403 DENIED`, as Harbor answers a user without rights to
/// the repository) is named with the repository and the way to log in as another user.
#[test]
fn a_denied_pull_names_the_repository_and_the_login() {
    let (manifest, blobs) = modelkit();
    let server = HostileRegistry::start(Hostility::Denied, manifest, blobs, None)
        .unwrap_or_else(|e| panic!("cannot start the hostile registry: {e}"));
    let store = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let reference = format!("{}/team/model:v1", server.host());
    let denied = run(store.path(), &["pull", reference.as_str()], &[]);
    assert_eq!(denied.status.code(), Some(1), "{}", denied.stderr);
    insta::assert_snapshot!(
        "registry_error_denied",
        denied.stderr.replace(&server.host(), "[REG]")
    );
}
