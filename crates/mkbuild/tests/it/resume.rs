//! A pull killed halfway through a blob, then run again, continues where it stopped: the second
//! run downloads little more than the half it lacked (counted by a proxy in front of the test
//! registry, not by mkbuild), and the result verifies. The partial file survives the commands
//! between the two pulls; `gc` removes what a pull leaves for good.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mkbuild_registry::testing::{FaultProxy, Faults, TestRegistry};

use crate::common::{manifest, ok};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A context whose model is `len` bytes that do not compress.
fn context(dir: &Path, len: usize) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let mut state = 0x0123_4567_89ab_cdefu64;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(dir.join("model.bin"), bytes).expect("model");
    std::fs::write(
        dir.join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: resume\nmodel:\n  path: model.bin\n",
    )
    .expect("Kitfile");
}

/// The size of the partial download of `hex` in `store`, if there is one.
fn partial_size(store: &Path, hex: &str) -> Option<u64> {
    std::fs::metadata(store.join("ingest").join(format!("partial-{hex}")))
        .ok()
        .map(|m| m.len())
}

/// The bytes the state file of the partial download of `hex` says are hashed.
fn recorded(store: &Path, hex: &str) -> u64 {
    std::fs::read_to_string(store.join("ingest").join(format!("partial-{hex}.state")))
        .ok()
        .and_then(|text| {
            text.lines()
                .nth(1)
                .and_then(|l| l.split(' ').next()?.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn a_killed_pull_resumes_where_it_stopped() {
    let Some(registry) =
        TestRegistry::start_or_skip("a_killed_pull_resumes_where_it_stopped", false)
    else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("source");
    let ctx = tmp.path().join("ctx");
    context(&ctx, 64 << 20);
    let remote = format!("{}/team/resume:1", registry.host());
    ok(&source, &["pack", s(&ctx), "-t", "resume:1"]);
    ok(&source, &["push", "resume:1", &remote, "--plain-http"]);
    let layer = manifest(&source, "resume:1")["layers"][0].clone();
    let digest = layer["digest"].as_str().expect("digest").to_owned();
    let hex = digest.trim_start_matches("sha256:").to_owned();
    let size = layer["size"].as_u64().expect("size");

    // The network hangs after half of the layer; the pull is then killed, as by Ctrl-C.
    let half = (size / 2) as usize;
    let stalling = FaultProxy::start(
        registry.addr(),
        Faults {
            stall_blob_downloads: Some(half),
            ..Faults::default()
        },
    )
    .expect("proxy");
    let store = tmp.path().join("store");
    let mut pull = Command::new(env!("CARGO_BIN_EXE_mkbuild"))
        .arg("--store")
        .arg(&store)
        .args([
            "pull",
            &format!("{}/team/resume:1", stalling.host()),
            "--plain-http",
            "--progress",
            "none",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pull");
    let deadline = Instant::now() + Duration::from_secs(60);
    // The hashing thread records what it has when the bytes stop coming.
    while recorded(&store, &hex) < half as u64 - (1 << 20) {
        assert!(
            Instant::now() < deadline,
            "the pull never got half way: {:?} bytes kept, {} recorded",
            partial_size(&store, &hex),
            recorded(&store, &hex)
        );
        assert!(pull.try_wait().expect("wait").is_none(), "the pull ended");
        std::thread::sleep(Duration::from_millis(50));
    }
    let interrupted = Command::new("kill")
        .args(["-INT", &pull.id().to_string()])
        .status()
        .expect("kill");
    assert!(interrupted.success());
    let status = pull.wait().expect("wait");
    assert!(!status.success(), "the pull was interrupted: {status:?}");
    drop(stalling);
    let kept = partial_size(&store, &hex).expect("the partial download is kept");
    assert!(kept >= half as u64 - (1 << 20), "kept {kept} bytes");

    // Another command in between leaves it alone (the old store removed it as a leftover).
    ok(&store, &["list"]);
    assert!(partial_size(&store, &hex).is_some(), "removed by list");

    let counting = FaultProxy::start(registry.addr(), Faults::default()).expect("proxy");
    let again = format!("{}/team/resume:1", counting.host());
    ok(
        &store,
        &["pull", &again, "--plain-http", "--progress", "none"],
    );
    let downloaded = counting.stats().blob_body_bytes;
    eprintln!("resumed pull: {downloaded} of {size} bytes downloaded");
    assert!(
        downloaded * 100 <= size * 55,
        "the second pull downloaded {downloaded} of {size} bytes"
    );
    assert!(partial_size(&store, &hex).is_none(), "committed");
    ok(&store, &["verify"]);
    assert_eq!(
        std::fs::read(store.join("blobs/sha256").join(&hex)).expect("blob"),
        std::fs::read(source.join("blobs/sha256").join(&hex)).expect("source blob"),
    );
}

/// Runs mkbuild on `store` with `MKBUILD_PARTIAL_MAX_AGE` set to `age`.
fn with_age(store: &Path, age: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mkbuild"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env("MKBUILD_PARTIAL_MAX_AGE", age)
        .stdin(Stdio::null())
        .output()
        .expect("run mkbuild")
}

#[test]
fn partial_downloads_older_than_the_configured_age_are_removed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = tmp.path().join("store");
    ok(&store, &["list"]);
    let partial = store
        .join("ingest")
        .join(format!("partial-{}", "ab".repeat(32)));
    std::fs::create_dir_all(store.join("ingest")).expect("ingest");
    std::fs::write(&partial, b"half a blob").expect("partial");
    let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&partial)
        .and_then(|f| f.set_modified(an_hour_ago))
        .expect("mtime");

    // Younger than the default week, and than two hours: kept.
    ok(&store, &["list"]);
    assert!(with_age(&store, "2h", &["list"]).status.success());
    assert!(partial.exists(), "kept while younger than the age");
    // Older than 30 minutes: the next command removes it.
    assert!(with_age(&store, "30m", &["list"]).status.success());
    assert!(!partial.exists(), "removed once older than the age");

    // gc removes every one, whatever its age, and says so.
    std::fs::write(&partial, b"half a blob").expect("partial");
    let out = with_age(&store, "2h", &["gc"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("files of interrupted downloads removed: 1"),
        "{stderr}"
    );
    assert!(!partial.exists(), "removed by gc");

    let out = with_age(&store, "soon", &["list"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("MKBUILD_PARTIAL_MAX_AGE is `soon`"),
        "{stderr}"
    );
}
