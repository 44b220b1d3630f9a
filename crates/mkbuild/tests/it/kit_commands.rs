//! kit's everyday commands and flags (issue 14): untagged ModelKits (listed, reachable by digest
//! prefix, kept by gc), `list` in kit's columns, `remove` by digest, `--force` and `--all`,
//! comma-separated `-t`, `unpack -o`, `info`, `diff`, `init` and `inspect --remote`.

use std::path::{Path, PathBuf};

use crate::common::{fails, mkbuild, ok};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample")
}

/// Runs mkbuild, expects success; returns (stdout, stderr).
fn run(store: &Path, args: &[&str]) -> (String, String) {
    let out = mkbuild(store, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// A context with one small model file `w.bin` holding `text`, its Kitfile naming the package
/// `name`.
fn tiny_context(name: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("context");
    std::fs::write(dir.path().join("w.bin"), text).expect("write");
    std::fs::write(
        dir.path().join("Kitfile"),
        format!("manifestVersion: 1.0.0\npackage:\n  name: {name}\nmodel:\n  path: w.bin\n"),
    )
    .expect("Kitfile");
    dir
}

/// The references `list --json` shows, in order.
fn listed(store: &Path) -> Vec<String> {
    let list: serde_json::Value =
        serde_json::from_str(&ok(store, &["list", "--format", "json"])).expect("list JSON");
    list.as_array()
        .expect("array")
        .iter()
        .map(|row| row["reference"].as_str().expect("reference").to_owned())
        .collect()
}

/// Runs mkbuild with arguments clap refuses (exit 2); returns stderr.
fn usage_error(store: &Path, args: &[&str]) -> String {
    let out = mkbuild(store, args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn pack_without_a_tag_keeps_the_modelkit_listed_reachable_and_safe_from_gc() {
    let store = tempfile::tempdir().expect("store");
    let (digest, said) = run(store.path(), &["pack", s(&sample())]);
    let digest = digest.trim().to_owned();
    insta::assert_snapshot!("untagged_pack_says_how_to_reach_it", said);
    let prefix = &digest["sha256:".len()..][..12];
    // Listed without a name, in kit's columns.
    insta::assert_snapshot!(
        "list_shows_an_untagged_modelkit",
        ok(store.path(), &["list"])
    );
    assert_eq!(listed(store.path()), ["<none>"]);
    // Reached by a digest prefix, for inspect and unpack.
    let manifest = ok(store.path(), &["inspect", "--raw", prefix]);
    assert_eq!(
        format!("sha256:{}", crate::common::sha256_hex(manifest.as_bytes())),
        digest
    );
    let out = tempfile::tempdir().expect("out");
    ok(store.path(), &["unpack", prefix, "-d", s(out.path())]);
    assert_eq!(
        std::fs::read(out.path().join("model/model.safetensors")).expect("unpacked"),
        std::fs::read(sample().join("model/model.safetensors")).expect("sample")
    );
    // gc keeps every blob of it.
    assert_eq!(ok(store.path(), &["gc"]), "");
    ok(store.path(), &["verify", prefix]);
    // Tagged later, it is listed once, under its tag.
    ok(store.path(), &["tag", prefix, "team/model:1"]);
    assert_eq!(listed(store.path()), ["team/model:1"]);
}

#[test]
fn list_shows_kits_columns_and_json_alike() {
    let store = tempfile::tempdir().expect("store");
    ok(store.path(), &["pack", s(&sample()), "-t", "team/sample:1"]);
    let tiny = tiny_context("tiny", "weights");
    ok(store.path(), &["pack", s(tiny.path()), "--format", "v1"]);
    let table = ok(store.path(), &["list"]);
    insta::assert_snapshot!("list_table", table);
    assert_eq!(
        ok(store.path(), &["list", "--json"]),
        ok(store.path(), &["list", "--format", "json"]),
        "--json is --format json"
    );
    assert_eq!(ok(store.path(), &["list", "--format", "table"]), table);
    let json: serde_json::Value =
        serde_json::from_str(&ok(store.path(), &["list", "--json"])).expect("JSON");
    assert_eq!(json[0]["repo"], "team/sample");
    assert_eq!(json[0]["tag"], "1");
    assert_eq!(json[0]["modelName"], "tiny-linear");
    assert_eq!(json[0]["author"], "mkbuild developers");
    assert_eq!(json[1]["reference"], "<none>");
    assert_eq!(json[1]["tag"], serde_json::Value::Null);
    assert_eq!(json[1]["modelName"], "tiny");
    assert_eq!(json[1]["author"], serde_json::Value::Null);
    let err = usage_error(store.path(), &["list", "--json", "--format", "table"]);
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn comma_separated_tags_for_pack_and_convert() {
    let store = tempfile::tempdir().expect("store");
    let (_, said) = run(
        store.path(),
        &["pack", s(&sample()), "-t", "a:1,2,team/b:3", "-t", "c"],
    );
    assert!(
        said.contains("tagged a:1, a:2, team/b:3, c:latest"),
        "{said}"
    );
    assert_eq!(listed(store.path()), ["a:1", "a:2", "team/b:3", "c:latest"]);
    ok(
        store.path(),
        &["convert", "a:1", "--to", "modelpack", "-t", "mp:1,mp:2"],
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(store.path(), &["list", "--json"])).expect("JSON");
    let modelpack: Vec<&str> = json
        .as_array()
        .expect("array")
        .iter()
        .filter(|row| row["format"] == "modelpack")
        .map(|row| row["reference"].as_str().expect("reference"))
        .collect();
    assert_eq!(modelpack, ["mp:1", "mp:2"]);
    // A bad item refuses the whole list, before anything is packed.
    for (name, tags) in [("empty", "a:1,,b:2"), ("bad", "a:1,B:2")] {
        let err = fails(store.path(), &["pack", s(&sample()), "-t", tags]);
        insta::assert_snapshot!(format!("tag_list_error_{name}"), err);
    }
    // convert without a tag keeps its ModelKit too, and says how to reach it.
    let (digest, said) = run(store.path(), &["convert", "a:1", "--to", "v1"]);
    assert!(said.contains("no tag names it"), "{said}");
    assert!(listed(store.path()).contains(&"<none>".to_owned()));
    assert_eq!(ok(store.path(), &["gc"]), "");
    ok(store.path(), &["inspect", digest.trim()]);
}

#[test]
fn remove_by_digest_force_and_all() {
    let store = tempfile::tempdir().expect("store");
    let (one, two, three) = (
        tiny_context("one", "1"),
        tiny_context("two", "2"),
        tiny_context("three", "3"),
    );
    let one_digest = ok(store.path(), &["pack", s(one.path()), "-t", "one:1,2,3"]);
    let two_digest = ok(store.path(), &["pack", s(two.path()), "-t", "two:1"]);
    let three_digest = ok(store.path(), &["pack", s(three.path())]);
    let (one_digest, two_digest, three_digest) =
        (one_digest.trim(), two_digest.trim(), three_digest.trim());

    // By tag: that tag only (kit removes the ModelKit with its last tag; here gc then does).
    ok(store.path(), &["rm", "one:1"]);
    assert_eq!(listed(store.path()), ["one:2", "one:3", "two:1", "<none>"]);
    // --force: the ModelKit the tag names, with all its tags.
    let (_, said) = run(store.path(), &["rm", "--force", "one:2"]);
    insta::assert_snapshot!("remove_force", said.replace(one_digest, "[ONE]"));
    assert_eq!(listed(store.path()), ["two:1", "<none>"]);
    // By digest prefix: every tag, and the untagged entry.
    ok(store.path(), &["tag", two_digest, "two:2"]);
    let (_, said) = run(store.path(), &["remove", &two_digest[..7 + 12]]);
    assert_eq!(
        said,
        format!("removed two:1 ({two_digest})\nremoved two:2 ({two_digest})\n")
    );
    // What can be removed is, and what cannot is named.
    let err = fails(store.path(), &["rm", three_digest, "nope:1"]);
    assert!(
        err.contains(&format!("removed the untagged ModelKit {three_digest}"))
            && err.contains("no ModelKit in the store is tagged `nope:1`"),
        "{err}"
    );
    assert!(listed(store.path()).is_empty());
    let missing = format!("sha256:{}", "0".repeat(64));
    let err = fails(store.path(), &["rm", &missing]);
    insta::assert_snapshot!("remove_unknown_digest", err);
    insta::assert_snapshot!("remove_nothing_named", fails(store.path(), &["rm"]));
    let err = usage_error(store.path(), &["rm", "--all", "two:1"]);
    assert!(err.contains("cannot be used with"), "{err}");

    // --all: the untagged ones; --all --force: every one. gc then frees their blobs.
    ok(store.path(), &["pack", s(one.path()), "-t", "one:1"]);
    ok(store.path(), &["pack", s(two.path())]);
    ok(store.path(), &["pack", s(three.path())]);
    let (_, said) = run(store.path(), &["rm", "--all"]);
    insta::assert_snapshot!(
        "remove_all_untagged",
        said.replace(two_digest, "[TWO]")
            .replace(three_digest, "[THREE]")
    );
    assert_eq!(listed(store.path()), ["one:1"]);
    let (_, said) = run(store.path(), &["rm", "-a", "-f"]);
    assert!(
        said.contains("removed one:1") && said.contains("removed 1 ModelKits"),
        "{said}"
    );
    assert!(listed(store.path()).is_empty());
    assert!(!ok(store.path(), &["gc"]).is_empty());
    assert_eq!(
        std::fs::read_dir(store.path().join("blobs/sha256"))
            .expect("blobs")
            .count(),
        0
    );
}

#[test]
fn unpack_short_overwrite_flag() {
    let store = tempfile::tempdir().expect("store");
    let tiny = tiny_context("tiny", "weights");
    ok(store.path(), &["pack", s(tiny.path()), "-t", "tiny:1"]);
    let out = tempfile::tempdir().expect("out");
    std::fs::write(out.path().join("w.bin"), "old").expect("write");
    let err = fails(store.path(), &["unpack", "tiny:1", "-d", s(out.path())]);
    assert!(err.contains("already exist"), "{err}");
    ok(
        store.path(),
        &["unpack", "tiny:1", "-d", s(out.path()), "-o"],
    );
    assert_eq!(
        std::fs::read_to_string(out.path().join("w.bin")).expect("read"),
        "weights"
    );
}
