//! Everyday use: a one-line summary on stderr when a command succeeds (stdout stays what scripts
//! read), no colour codes when stderr is not a terminal, and errors that say what is wrong.

use std::path::Path;

use crate::common::{fails, mkbuild};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn sample() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample")
}

/// Runs mkbuild, expects success; returns (stdout, stderr).
fn run(store: &Path, args: &[&str]) -> (String, String) {
    let out = mkbuild(store, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

#[test]
fn successful_commands_say_what_they_did_on_stderr_only() {
    let store = tempfile::tempdir().expect("store");
    let (digest, said) = run(
        store.path(),
        &["pack", s(&sample()), "-t", "a:1", "-t", "b:1"],
    );
    assert!(
        digest.trim().starts_with("sha256:") && digest.lines().count() == 1,
        "{digest}"
    );
    assert!(
        said.contains("packed 4 layers") && said.contains("tagged a:1, b:1"),
        "{said}"
    );
    let (_, quiet) = run(
        store.path(),
        &["--quiet", "pack", s(&sample()), "-t", "c:1"],
    );
    assert_eq!(quiet, "", "--quiet says nothing");

    let out = tempfile::tempdir().expect("target");
    let (stdout, said) = run(store.path(), &["unpack", "a:1", "-d", s(out.path())]);
    assert_eq!(stdout, "");
    assert!(said.contains("unpacked 4 layers of `a:1`"), "{said}");
    let (stdout, said) = run(store.path(), &["verify"]);
    assert_eq!(stdout, "");
    assert!(said.contains("is intact"), "{said}");
    let (_, said) = run(store.path(), &["rm", "b:1"]);
    assert!(said.contains("removed b:1 (sha256:"), "{said}");
}

#[test]
fn rm_removes_what_it_can_and_names_what_it_could_not() {
    let store = tempfile::tempdir().expect("store");
    run(store.path(), &["pack", s(&sample()), "-t", "a:1"]);
    let out = mkbuild(store.path(), &["rm", "nope:1", "a:1"]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("removed a:1"), "{said}");
    assert!(said.contains("`nope:1`"), "{said}");
    let (list, _) = run(store.path(), &["list", "--json"]);
    assert!(!list.contains("a:1"), "{list}");
}

#[test]
fn no_colour_codes_when_stderr_is_not_a_terminal() {
    let store = tempfile::tempdir().expect("store");
    let (_, said) = run(store.path(), &["-vv", "pack", s(&sample()), "-t", "a:1"]);
    assert!(!said.is_empty());
    assert!(!said.contains('\u{1b}'), "{said:?}");
}

#[test]
fn errors_say_what_is_wrong_with_what_was_written() {
    let store = tempfile::tempdir().expect("store");
    let missing = store.path().join("no-such-folder");
    let err = fails(store.path(), &["pack", s(&missing)]);
    assert!(err.contains("does not exist"), "{err}");
    let context = tempfile::tempdir().expect("context");
    std::fs::write(
        context.path().join("Kitfile"),
        "manifestVersion: 1.0.0\ndatasets:\n  - path: https://x/d.csv\n",
    )
    .expect("Kitfile");
    let err = fails(store.path(), &["pack", s(context.path())]);
    assert!(err.contains("`https://x/d.csv` is a URL"), "{err}");
    assert!(err.contains("remotePath"), "{err}");
}

#[test]
fn tag_names_an_untagged_or_tagged_modelkit_again() {
    let store = tempfile::tempdir().expect("store");
    let (digest, said) = run(store.path(), &["pack", s(&sample())]);
    assert!(said.contains("untagged"), "{said}");
    let digest = digest.trim();
    // By its full digest (no tag names it yet), then by tag, then by a digest prefix.
    run(store.path(), &["tag", digest, "team/model:1"]);
    run(store.path(), &["tag", &digest[..19], "team/model:2"]);
    let (_, said) = run(store.path(), &["tag", "team/model:1", "team/model:stable"]);
    assert!(
        said.contains(&format!("tagged team/model:stable ({digest})")),
        "{said}"
    );
    let (list, _) = run(store.path(), &["list", "--json"]);
    assert!(
        list.contains("team/model:1") && list.contains("team/model:stable"),
        "{list}"
    );
    let err = fails(store.path(), &["tag", "nope:1", "x:1"]);
    assert!(err.contains("nope:1"), "{err}");
    let err = fails(store.path(), &["tag", "team/model:1", "Bad Name"]);
    assert!(err.contains("Bad Name"), "{err}");
}

#[test]
fn inspect_writes_stored_bytes_raw_or_indented_on_request() {
    let store = tempfile::tempdir().expect("store");
    run(store.path(), &["pack", s(&sample()), "-t", "a:1"]);
    let (raw, _) = run(store.path(), &["inspect", "--raw", "a:1"]);
    let (listed, _) = run(store.path(), &["list", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&listed).expect("list JSON");
    let digest = list[0]["digest"].as_str().expect("digest");
    assert_eq!(
        format!("sha256:{}", crate::common::sha256_hex(raw.as_bytes())),
        digest,
        "--raw is the stored manifest, byte for byte"
    );
    let (pretty, _) = run(store.path(), &["inspect", "--pretty", "a:1"]);
    assert!(
        pretty.ends_with("}\n") && pretty.lines().count() > 10,
        "{pretty}"
    );
    let reparsed: serde_json::Value = serde_json::from_str(&pretty).expect("JSON");
    assert_eq!(
        reparsed,
        serde_json::from_str::<serde_json::Value>(&raw).expect("JSON")
    );
}
