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
fn unpack_overwrites_with_o_and_keeps_existing_files_with_i() {
    let store = tempfile::tempdir().expect("store");
    let tiny = tiny_context("tiny", "weights");
    ok(store.path(), &["pack", s(tiny.path()), "-t", "tiny:1"]);
    let out = tempfile::tempdir().expect("out");
    std::fs::write(out.path().join("w.bin"), "old").expect("write");
    let err = fails(store.path(), &["unpack", "tiny:1", "-d", s(out.path())]);
    assert!(err.contains("already exist"), "{err}");
    // -i: the existing file stays, the rest (the Kitfile) is unpacked.
    let (_, said) = run(
        store.path(),
        &["unpack", "tiny:1", "-d", s(out.path()), "-i"],
    );
    assert!(said.contains(": 1 files"), "{said}");
    assert_eq!(
        std::fs::read_to_string(out.path().join("w.bin")).expect("read"),
        "old"
    );
    assert!(out.path().join("Kitfile").is_file());
    // Nothing of the staging is left behind.
    let mut names: Vec<String> = std::fs::read_dir(out.path())
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["Kitfile", "w.bin"]);
    // -o replaces it.
    ok(
        store.path(),
        &["unpack", "tiny:1", "-d", s(out.path()), "-o"],
    );
    assert_eq!(
        std::fs::read_to_string(out.path().join("w.bin")).expect("read"),
        "weights"
    );
    let err = usage_error(store.path(), &["unpack", "tiny:1", "-o", "-i"]);
    assert!(err.contains("cannot be used with"), "{err}");
}

/// A Hugging Face-style folder: sharded weights, configs, README, LICENSE, a script, a data folder.
fn hugging_face_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("folder");
    let p = dir.path();
    let write = |name: &str, bytes: &[u8]| std::fs::write(p.join(name), bytes).expect("write");
    write("config.json", b"{\"hidden_size\": 8}\n");
    write("tokenizer.json", b"{\"version\": \"1.0\"}\n");
    write("model-00001-of-00002.safetensors", &[1u8; 6000]);
    write("model-00002-of-00002.safetensors", &[2u8; 5000]);
    write("README.md", b"# A model\n");
    write(
        "LICENSE",
        b"MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\n",
    );
    write("generate.py", b"print('hello')\n");
    std::fs::create_dir(p.join("data")).expect("mkdir");
    write("data/train.csv", b"a,b\n1,2\n");
    write("data/test.csv", b"a,b\n3,4\n");
    dir
}

/// The files under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("inside");
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn init_describes_a_hugging_face_folder_that_packs_and_round_trips() {
    let store = tempfile::tempdir().expect("store");
    let folder = hugging_face_folder();
    let (kitfile, said) = run(
        store.path(),
        &["init", s(folder.path()), "--name", "tiny-hf"],
    );
    insta::assert_snapshot!("init_hugging_face_kitfile", kitfile);
    assert!(said.contains("wrote `"), "{said}");
    assert_eq!(
        std::fs::read_to_string(folder.path().join("Kitfile")).expect("Kitfile"),
        kitfile
    );
    // An existing Kitfile is kept unless --force.
    let err = fails(store.path(), &["init", s(folder.path())]);
    insta::assert_snapshot!(
        "init_refuses_an_existing_kitfile",
        err.replace(s(folder.path()), "[DIR]")
    );
    ok(
        store.path(),
        &["init", s(folder.path()), "--name", "tiny-hf", "-f"],
    );
    assert_eq!(
        std::fs::read_to_string(folder.path().join("Kitfile")).expect("Kitfile"),
        kitfile
    );

    // pack accepts it and unpack gives every file back, byte for byte.
    let (_, said) = run(store.path(), &["pack", s(folder.path()), "-t", "hf:1"]);
    assert!(said.contains("packed 8 layers"), "{said}");
    let out = tempfile::tempdir().expect("out");
    ok(store.path(), &["unpack", "hf:1", "-d", s(out.path())]);
    assert_eq!(files(out.path()), files(folder.path()));
    for file in files(folder.path()) {
        assert_eq!(
            std::fs::read(out.path().join(&file)).expect("unpacked"),
            std::fs::read(folder.path().join(&file)).expect("original"),
            "{file}"
        );
    }
}

#[test]
fn init_follows_kits_rules_for_models_adapters_data_and_folders() {
    let store = tempfile::tempdir().expect("store");
    let case = |files: &[(&str, usize)]| -> String {
        let dir = tempfile::tempdir().expect("folder");
        for (name, size) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, vec![b'x'; *size]).expect("write");
        }
        let kitfile = ok(store.path(), &["init", s(dir.path())]);
        // Whatever it wrote, pack takes.
        ok(store.path(), &["pack", s(dir.path())]);
        kitfile
    };
    // One weight file: the model, named by its path without extension.
    let one = case(&[("llama.gguf", 100), ("params.yaml", 10)]);
    // A base and a small adapter: the largest is the model.
    let adapter = case(&[("adapter.safetensors", 10), ("base.safetensors", 1000)]);
    // No weights: metadata files are datasets; a folder of datasets is one dataset entry; a
    // `docs` folder is docs; `src` is code; a mixed folder is code of its own.
    let data = case(&[
        ("labels.json", 10),
        ("csvs/a.csv", 10),
        ("csvs/b.parquet", 10),
        ("docs/guide.md", 10),
        ("src/train.py", 10),
        ("mixed/notes.md", 10),
        ("mixed/run.sh", 10),
    ]);
    // Weights in a folder of their own join the model; loose code files make one code entry `.`.
    let nested = case(&[
        ("weights/a.bin", 100),
        ("weights/b.bin", 100),
        ("weights/config.json", 10),
        ("train.py", 10),
    ]);
    insta::assert_snapshot!(
        "init_rules",
        format!("{one}\n---\n{adapter}\n---\n{data}\n---\n{nested}")
    );
    let err = fails(store.path(), &["init", "/nonexistent/folder"]);
    assert!(
        err.contains("`/nonexistent/folder` is not a folder"),
        "{err}"
    );
}

#[test]
fn info_prints_the_kitfile_and_diff_shows_what_differs() {
    let store = tempfile::tempdir().expect("store");
    ok(store.path(), &["pack", s(&sample()), "-t", "sample:1"]);
    let info = ok(store.path(), &["info", "sample:1"]);
    assert_eq!(
        info,
        std::fs::read_to_string(sample().join("Kitfile")).expect("Kitfile")
    );
    // A ModelKit made without its Kitfile as a layer: the Kitfile its config holds.
    let tiny = tiny_context("tiny", "w");
    let digest = ok(store.path(), &["pack", s(tiny.path()), "--format", "v1"]);
    insta::assert_snapshot!(
        "info_from_the_config",
        ok(store.path(), &["info", &digest.trim()[..19]])
    );
    // --filter picks a part, as kit's.
    assert_eq!(
        ok(
            store.path(),
            &["info", "sample:1", "--filter", ".package.name"]
        ),
        "tiny-linear\n"
    );
    assert_eq!(
        ok(store.path(), &["info", "sample:1", "-f", "datasets.0"]),
        "name: train\npath: data/train.csv\n"
    );
    for (name, filter) in [("bad", "model[0]"), ("absent", "model.nothing")] {
        let err = fails(store.path(), &["info", "sample:1", "--filter", filter]);
        insta::assert_snapshot!(format!("info_filter_error_{name}"), err);
    }
    let err = fails(store.path(), &["info", "nope:1"]);
    insta::assert_snapshot!(
        "info_unknown_reference",
        err.replace(s(store.path()), "[STORE]")
    );

    // A second version: one dataset changed, a key of the Kitfile changed.
    let changed = tempfile::tempdir().expect("changed");
    for file in files(&sample()) {
        let to = changed.path().join(&file);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(sample().join(&file), to).expect("copy");
    }
    let kitfile = std::fs::read_to_string(changed.path().join("Kitfile")).expect("Kitfile");
    std::fs::write(
        changed.path().join("Kitfile"),
        kitfile.replace("version: 0.1.0", "version: 0.2.0"),
    )
    .expect("write");
    std::fs::write(changed.path().join("data/train.csv"), "x,y\n1,2\n").expect("write");
    ok(store.path(), &["pack", s(changed.path()), "-t", "sample:2"]);
    let out = mkbuild(store.path(), &["diff", "sample:1", "local://sample:2"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "differing ModelKits exit 0, as in kit"
    );
    insta::assert_snapshot!("diff_two_versions", String::from_utf8_lossy(&out.stdout));
    let digest = ok(store.path(), &["pack", s(&sample())]);
    assert_eq!(
        ok(store.path(), &["diff", "sample:1", &digest.trim()[..19]]),
        format!("the ModelKits are identical ({})\n", digest.trim())
    );
    let err = fails(store.path(), &["diff", "sample:1", "nope:1"]);
    insta::assert_snapshot!(
        "diff_unknown_reference",
        err.replace(s(store.path()), "[STORE]")
    );
}

/// Runs mkbuild against `store` with its own (empty) credentials folder; returns the output.
fn run_remote(store: &Path, docker_config: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mkbuild"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env("DOCKER_CONFIG", docker_config)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("MKBUILD_STORE")
        .env_remove("MKBUILD_PLAIN_HTTP")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run mkbuild")
}

fn remote_ok(store: &Path, docker_config: &Path, args: &[&str]) -> String {
    let out = run_remote(store, docker_config, args);
    assert!(
        out.status.success(),
        "mkbuild {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn inspect_info_and_diff_read_a_registry_and_store_nothing() {
    let test = "inspect_info_and_diff_read_a_registry_and_store_nothing";
    let Some(registry) = mkbuild_registry::testing::TestRegistry::start_or_skip(test, false) else {
        return;
    };
    let host = registry.host();
    let tmp = tempfile::tempdir().expect("tmp");
    let config = tmp.path().join("docker");
    let (local, empty) = (tmp.path().join("local"), tmp.path().join("empty"));
    let sample_remote = format!("{host}/team/sample:1");
    let tiny_remote = format!("{host}/team/tiny:1");
    remote_ok(&local, &config, &["pack", s(&sample()), "-t", "sample:1"]);
    let tiny = tiny_context("tiny", "w");
    remote_ok(
        &local,
        &config,
        &["pack", s(tiny.path()), "--format", "v1", "-t", "tiny:1"],
    );
    for (name, remote) in [("sample:1", &sample_remote), ("tiny:1", &tiny_remote)] {
        remote_ok(&local, &config, &["push", name, remote, "--plain-http"]);
    }

    // The manifest, config and Kitfile read from the registry are the stored ones.
    for (name, remote) in [("sample:1", &sample_remote), ("tiny:1", &tiny_remote)] {
        for what in [&["--raw"][..], &["--raw", "--config"], &["--kitfile"]] {
            let mut args = vec!["inspect", "--remote", remote.as_str(), "--plain-http"];
            args.extend_from_slice(what);
            let mut local_args = vec!["inspect", name];
            local_args.extend_from_slice(what);
            assert_eq!(
                remote_ok(&empty, &config, &args),
                remote_ok(&local, &config, &local_args),
                "{args:?}"
            );
        }
        assert_eq!(
            remote_ok(&empty, &config, &["info", "-r", remote, "--plain-http"]),
            remote_ok(&local, &config, &["info", name]),
        );
    }
    // By digest too.
    let digest = remote_ok(&local, &config, &["inspect", "--raw", "sample:1"]);
    let digest = format!("sha256:{}", crate::common::sha256_hex(digest.as_bytes()));
    let by_digest = format!("{host}/team/sample@{digest}");
    let summary = remote_ok(
        &empty,
        &config,
        &[
            "inspect",
            "--remote",
            &by_digest,
            "--summary",
            "--plain-http",
        ],
    );
    assert!(
        summary.contains(&digest) && summary.contains("format:  v2"),
        "{summary}"
    );

    // diff reads a reference the store lacks from its registry: the same as between the local
    // copies, but for the names.
    let body = |text: String| text.lines().skip(2).collect::<Vec<_>>().join("\n");
    let remote_diff = remote_ok(
        &empty,
        &config,
        &[
            "diff",
            &sample_remote,
            &format!("remote://{tiny_remote}"),
            "--plain-http",
        ],
    );
    assert_eq!(
        body(remote_diff),
        body(remote_ok(&local, &config, &["diff", "sample:1", "tiny:1"]))
    );

    // Errors say which reference and which registry.
    let out = run_remote(&empty, &config, &["inspect", "--remote", "sample:1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid remote reference `sample:1`"), "{err}");
    let missing = format!("{host}/team/nope:1");
    let out = run_remote(
        &empty,
        &config,
        &["info", "--remote", &missing, "--plain-http"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains(&format!("cannot read `{missing}` from its registry"))
            && err.contains("not found"),
        "{err}"
    );

    // Nothing of all that reached the store.
    let blobs = empty.join("blobs/sha256");
    let stored = std::fs::read_dir(&blobs).map(|d| d.count()).unwrap_or(0);
    assert_eq!(stored, 0, "the store stays empty");
    assert_eq!(remote_ok(&empty, &config, &["list", "--json"]).trim(), "[]");
}
