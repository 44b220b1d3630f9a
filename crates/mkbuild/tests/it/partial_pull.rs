//! Pull only what is asked (issue 15): `unpack REGISTRY/NAME:TAG --filter ...` reads the manifest,
//! the config and the selected layers from the registry straight into the target and stores
//! nothing; `pull --filter` stores a partial ModelKit that `list`, `verify`, `unpack` and `push`
//! treat as such. Bytes are counted by a proxy in front of the real test registry, not by mkbuild.

use std::path::{Path, PathBuf};

use mkbuild_registry::testing::{FaultProxy, Faults, TestRegistry};

use crate::common::{fails, manifest, mkbuild, ok};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A context with a model of `model_len` bytes that do not compress, code and a dataset.
fn context(dir: &Path, model_len: usize) {
    std::fs::create_dir_all(dir.join("src")).expect("mkdir");
    std::fs::create_dir_all(dir.join("data/train")).expect("mkdir");
    // Written a MiB at a time: the 1 GiB case must not hold it in memory.
    let mut model =
        std::io::BufWriter::new(std::fs::File::create(dir.join("model.bin")).expect("model"));
    let mut state = 0x0123_4567_89ab_cdefu64;
    let mut left = model_len;
    while left > 0 {
        let chunk: Vec<u8> = (0..left.min(1 << 20))
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        std::io::Write::write_all(&mut model, &chunk).expect("model");
        left -= chunk.len();
    }
    std::io::Write::flush(&mut model).expect("model");
    std::fs::write(dir.join("src/train.py"), "print('train')\n").expect("code");
    std::fs::write(dir.join("src/util.py"), "X = 1\n").expect("code");
    std::fs::write(dir.join("data/train/a.csv"), "a,b\n1,2\n".repeat(1000)).expect("data");
    std::fs::write(
        dir.join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: partial\nmodel:\n  name: big\n  path: model.bin\ncode:\n  - path: src\ndatasets:\n  - name: train\n    path: data/train\n",
    )
    .expect("Kitfile");
}

/// A ModelKit with a `model_len`-byte model packed into `source` and pushed to `registry` as
/// `team/partial:1`; returns its manifest.
fn pushed(tmp: &Path, registry: &TestRegistry, model_len: usize) -> serde_json::Value {
    let ctx = tmp.join("ctx");
    context(&ctx, model_len);
    let source = tmp.join("source");
    ok(&source, &["pack", s(&ctx), "-t", "partial:1"]);
    let remote = format!("{}/team/partial:1", registry.host());
    ok(&source, &["push", "partial:1", &remote, "--plain-http"]);
    manifest(&source, "partial:1")
}

/// The digest and size of the layer whose media type contains `kind`.
fn layer(manifest: &serde_json::Value, kind: &str) -> (String, u64) {
    let layers = manifest["layers"].as_array().expect("layers");
    let found = layers
        .iter()
        .find(|l| l["mediaType"].as_str().is_some_and(|m| m.contains(kind)))
        .unwrap_or_else(|| panic!("no `{kind}` layer in {manifest}"));
    (
        found["digest"].as_str().expect("digest").to_owned(),
        found["size"].as_u64().expect("size"),
    )
}

/// Every file under `dir`, relative, with its bytes, sorted.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).expect("inside").to_owned();
                out.push((relative, std::fs::read(&path).expect("read")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The files of `full` under `prefix`, as `files` lists them.
fn files_under(full: &[(PathBuf, Vec<u8>)], prefix: &str) -> Vec<(PathBuf, Vec<u8>)> {
    full.iter()
        .filter(|(p, _)| p.starts_with(prefix))
        .cloned()
        .collect()
}

/// The blob files of a store.
fn blobs(store: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(store.join("blobs/sha256"))
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn hex(digest: &str) -> String {
    digest.trim_start_matches("sha256:").to_owned()
}

const NO_PROGRESS: [&str; 3] = ["--plain-http", "--progress", "none"];

#[test]
fn a_remote_unpack_with_a_filter_downloads_only_the_layers_it_selects() {
    let Some(registry) = TestRegistry::start_or_skip(
        "a_remote_unpack_with_a_filter_downloads_only_the_layers_it_selects",
        false,
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let manifest = pushed(tmp.path(), &registry, 64 << 20);
    let full = tmp.path().join("full");
    ok(
        &tmp.path().join("source"),
        &["unpack", "partial:1", "-d", s(&full)],
    );
    let full = files(&full);
    let store = tmp.path().join("store");

    // The Kitfile alone: the manifest, the config and the Kitfile layer, far below 1 MiB.
    let counting = FaultProxy::start(registry.addr(), Faults::default()).expect("proxy");
    let remote = format!("{}/team/partial:1", counting.host());
    let out = tmp.path().join("kitfile");
    let mut args = vec!["unpack", &remote, "--filter", "kitfile", "-d", s(&out)];
    args.extend(NO_PROGRESS);
    ok(&store, &args);
    let downloaded = counting.stats().blob_body_bytes;
    eprintln!("--filter kitfile: {downloaded} bytes of blobs downloaded");
    assert!(downloaded < 1 << 20, "{downloaded} bytes downloaded");
    assert_eq!(files(&out), files_under(&full, "Kitfile"));
    assert_eq!(blobs(&store), Vec::<String>::new(), "nothing stored");

    // Code, then a dataset by name: each its own layer's bytes, plus the config.
    let config = manifest["config"]["size"].as_u64().expect("config size");
    for (filter, kind, prefix) in [
        ("code", "code", "src"),
        ("datasets:train", "dataset", "data"),
    ] {
        let counting = FaultProxy::start(registry.addr(), Faults::default()).expect("proxy");
        let remote = format!("{}/team/partial:1", counting.host());
        let out = tmp.path().join(kind);
        let mut args = vec!["unpack", &remote, "--filter", filter, "-d", s(&out)];
        args.extend(NO_PROGRESS);
        ok(&store, &args);
        let (_, size) = layer(&manifest, kind);
        let downloaded = counting.stats().blob_body_bytes;
        eprintln!("--filter {filter}: {downloaded} bytes downloaded, the layer is {size}");
        assert_eq!(downloaded, size + config, "--filter {filter}");
        assert_eq!(files(&out), files_under(&full, prefix), "--filter {filter}");
        assert!(!files(&out).is_empty());
    }
    assert_eq!(blobs(&store), Vec::<String>::new(), "nothing stored");
}

/// The data file of `digest` in the test registry's storage.
fn registry_blob(registry: &TestRegistry, digest: &str) -> PathBuf {
    let hex = hex(digest);
    registry
        .storage()
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(&hex)
        .join("data")
}

#[test]
fn a_wrong_layer_fails_the_remote_unpack_naming_it_and_writes_nothing() {
    let Some(registry) = TestRegistry::start_or_skip(
        "a_wrong_layer_fails_the_remote_unpack_naming_it_and_writes_nothing",
        false,
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let manifest = pushed(tmp.path(), &registry, 1 << 20);
    let store = tmp.path().join("store");

    // Every blob the proxy serves is wrong: the first read (the config) fails, naming it.
    let corrupting = FaultProxy::start(
        registry.addr(),
        Faults {
            corrupt_blobs: true,
            ..Faults::default()
        },
    )
    .expect("proxy");
    let remote = format!("{}/team/partial:1", corrupting.host());
    let out = tmp.path().join("corrupt");
    let mut args = vec!["unpack", &remote, "--filter", "code", "-d", s(&out)];
    args.extend(NO_PROGRESS);
    let err = fails(&store, &args);
    let config = manifest["config"]["digest"].as_str().expect("config");
    assert!(err.contains(config), "{err}");
    assert_eq!(files(&out), Vec::new());

    // The dataset layer is wrong in the registry itself, after the code layer unpacked: the
    // unpack fails naming it, and the code already staged does not reach the target.
    let (dataset, _) = layer(&manifest, "dataset");
    let data = registry_blob(&registry, &dataset);
    let mut bytes = std::fs::read(&data).expect("registry blob");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&data, bytes).expect("damage the registry's blob");
    let remote = format!("{}/team/partial:1", registry.host());
    let mut args = vec![
        "unpack",
        &remote,
        "--filter",
        "code",
        "--filter",
        "datasets",
        "-d",
        s(&out),
    ];
    args.extend(NO_PROGRESS);
    let err = fails(&store, &args);
    assert!(err.contains(&dataset), "{err}");
    assert!(err.contains("digest"), "{err}");
    insta::assert_snapshot!(
        "remote_unpack_wrong_layer",
        err.replace(&registry.host(), "REGISTRY")
    );
    assert_eq!(files(&out), Vec::new(), "nothing written: {err}");
    assert_eq!(blobs(&store), Vec::<String>::new(), "nothing stored");
}

/// `text` with the registry's port and the manifest digest made constant, for snapshots (same
/// lengths, so that the table's columns stay where they were).
fn constant(text: &str, host: &str, digest: &str) -> String {
    let port = host.rsplit_once(':').map_or("", |(_, port)| port);
    let stable_host = host.replace(port, &"X".repeat(port.len()));
    text.replace(host, &stable_host)
        .replace(&hex(digest), &"0".repeat(64))
}

#[test]
fn a_pull_with_a_filter_stores_a_partial_modelkit() {
    let Some(registry) =
        TestRegistry::start_or_skip("a_pull_with_a_filter_stores_a_partial_modelkit", false)
    else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let manifest = pushed(tmp.path(), &registry, 4 << 20);
    let full = tmp.path().join("full");
    ok(
        &tmp.path().join("source"),
        &["unpack", "partial:1", "-d", s(&full)],
    );
    let full = files(&full);
    let store = tmp.path().join("store");
    let host = registry.host();
    let reference = format!("{host}/team/partial:1");

    let counting = FaultProxy::start(registry.addr(), Faults::default()).expect("proxy");
    let via_proxy = format!("{}/team/partial:1", counting.host());
    let mut args = vec!["pull", &via_proxy, "--filter", "kitfile,code"];
    args.extend(NO_PROGRESS);
    let digest = ok(&store, &args).trim().to_owned();
    let (code, code_size) = layer(&manifest, "code");
    let (kitfile, kitfile_size) = layer(&manifest, "kitfile");
    let config = manifest["config"]["size"].as_u64().expect("config size");
    assert_eq!(
        counting.stats().blob_body_bytes,
        config + code_size + kitfile_size
    );
    let mut expected = vec![
        hex(&digest),
        hex(manifest["config"]["digest"].as_str().expect("config")),
        hex(&code),
        hex(&kitfile),
    ];
    expected.sort();
    assert_eq!(blobs(&store), expected);
    drop(counting);
    // Pulled through the proxy, it is named after the proxy; tag it as the registry's too.
    ok(&store, &["tag", &via_proxy, &reference]);
    let index = std::fs::read_to_string(store.join("index.json")).expect("index");
    assert_eq!(
        index.matches("\"ml.mkbuild.partial\":\"true\"").count(),
        2,
        "{index}"
    );

    // gc keeps what a partial ModelKit has, and `verify` of the whole store expects what it lacks.
    ok(&store, &["gc"]);
    assert_eq!(blobs(&store), expected);
    let out = mkbuild(&store, &["verify"]);
    assert!(out.status.success(), "{out:?}");

    let listed = ok(&store, &["list", "--format", "table"]);
    let listed = constant(&listed, &counting_host_of(&via_proxy), &digest);
    insta::assert_snapshot!("partial_list", constant(&listed, &host, &digest));
    let json: serde_json::Value =
        serde_json::from_str(&ok(&store, &["list", "--json"])).expect("JSON");
    assert_eq!(json[0]["partial"], true);

    let out = mkbuild(&store, &["verify", &reference]);
    assert!(out.status.success(), "{out:?}");
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    insta::assert_snapshot!("partial_verify", constant(&shown, &host, &digest));
    // The layers present are checked: a damaged one is a problem still.
    let code_blob = store.join("blobs/sha256").join(hex(&code));
    let good = std::fs::read(&code_blob).expect("code blob");
    std::fs::write(&code_blob, b"damaged").expect("damage");
    let err = fails(&store, &["verify", &reference]);
    assert!(err.contains("1 problem"), "{err}");
    std::fs::write(&code_blob, good).expect("restore");

    // What was pulled unpacks; what was not says how to get it.
    let code_out = tmp.path().join("code");
    ok(
        &store,
        &["unpack", &reference, "--filter", "code", "-d", s(&code_out)],
    );
    assert_eq!(files(&code_out), files_under(&full, "src"));
    let model_out = tmp.path().join("model");
    let err = fails(
        &store,
        &[
            "unpack",
            &reference,
            "--filter",
            "model",
            "-d",
            s(&model_out),
        ],
    );
    insta::assert_snapshot!("partial_unpack_not_pulled", constant(&err, &host, &digest));
    assert_eq!(files(&model_out), Vec::new());

    let err = fails(
        &store,
        &[
            "push",
            &reference,
            &format!("{host}/team/copy:1"),
            "--plain-http",
        ],
    );
    insta::assert_snapshot!("partial_push_refused", constant(&err, &host, &digest));
    let err = fails(&store, &["convert", &reference, "--to", "v1"]);
    insta::assert_snapshot!("partial_convert_refused", constant(&err, &host, &digest));

    // A filter that selects nothing pulls nothing and names what there is.
    let nothing = tmp.path().join("nothing");
    let mut args = vec!["pull", &reference, "--filter", "datasets:nope"];
    args.extend(NO_PROGRESS);
    let err = fails(&nothing, &args);
    insta::assert_snapshot!(
        "partial_pull_selects_nothing",
        constant(&err, &host, &digest)
    );
    assert_eq!(blobs(&nothing), Vec::<String>::new());

    // Pulled without its Kitfile layer, `info` still reads the Kitfile (from the config).
    let other = tmp.path().join("other");
    let mut args = vec!["pull", &reference, "--filter", "datasets"];
    args.extend(NO_PROGRESS);
    ok(&other, &args);
    assert!(ok(&other, &["info", &reference]).contains("name: partial"));

    // A whole pull completes it and clears the mark everywhere.
    let mut args = vec!["pull", &reference];
    args.extend(NO_PROGRESS);
    ok(&store, &args);
    let index = std::fs::read_to_string(store.join("index.json")).expect("index");
    assert!(!index.contains("ml.mkbuild.partial"), "{index}");
    assert_eq!(
        blobs(&store).len(),
        manifest["layers"].as_array().map_or(0, Vec::len) + 2
    );
    let out = mkbuild(&store, &["verify"]);
    assert!(out.status.success(), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("partial"));
    let model_out = tmp.path().join("model2");
    ok(
        &store,
        &[
            "unpack",
            &reference,
            "--filter",
            "model",
            "-d",
            s(&model_out),
        ],
    );
    assert_eq!(files(&model_out), files_under(&full, "model.bin"));
    ok(
        &store,
        &[
            "push",
            &reference,
            &format!("{host}/team/copy:1"),
            "--plain-http",
        ],
    );
}

fn counting_host_of(reference: &str) -> String {
    reference.split('/').next().unwrap_or_default().to_owned()
}

#[test]
fn a_remote_unpack_resumes_a_broken_layer_and_gives_up_on_a_stalled_one() {
    let Some(registry) = TestRegistry::start_or_skip(
        "a_remote_unpack_resumes_a_broken_layer_and_gives_up_on_a_stalled_one",
        false,
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let manifest = pushed(tmp.path(), &registry, 8 << 20);
    let full = tmp.path().join("full");
    ok(
        &tmp.path().join("source"),
        &["unpack", "partial:1", "-d", s(&full)],
    );
    let full = files(&full);
    let store = tmp.path().join("store");
    let (_, model_size) = layer(&manifest, "model");
    let config = manifest["config"]["size"].as_u64().expect("config size");

    // The model's download breaks after 1 MiB: it goes on from there, nothing read twice.
    let cutting = FaultProxy::start(
        registry.addr(),
        Faults {
            cut_blob_downloads: Some((1, 1 << 20)),
            ..Faults::default()
        },
    )
    .expect("proxy");
    let remote = format!("{}/team/partial:1", cutting.host());
    let out = tmp.path().join("resumed");
    let mut args = vec!["unpack", &remote, "--filter", "model", "-d", s(&out)];
    args.extend(NO_PROGRESS);
    ok(&store, &args);
    let stats = cutting.stats();
    assert_eq!(
        (stats.cut_blob_downloads, stats.resumed_blob_downloads),
        (1, 1)
    );
    assert_eq!(stats.blob_body_bytes, config + model_size);
    assert_eq!(files(&out), files_under(&full, "model.bin"));

    // The model's bytes stop coming: the unpack gives up after the timeout (and its retries),
    // saying so, and writes nothing.
    let stalling = FaultProxy::start(
        registry.addr(),
        Faults {
            stall_blob_downloads: Some(1 << 20),
            ..Faults::default()
        },
    )
    .expect("proxy");
    let remote = format!("{}/team/partial:1", stalling.host());
    let out = tmp.path().join("stalled");
    let mut args = vec![
        "unpack",
        &remote,
        "--filter",
        "model",
        "-d",
        s(&out),
        "--timeout",
        "1",
    ];
    args.extend(NO_PROGRESS);
    let err = fails(&store, &args);
    assert!(
        err.contains("no progress") || err.contains("timed out"),
        "{err}"
    );
    assert!(err.contains(&stalling.host()), "{err}");
    assert_eq!(files(&out), Vec::new());
    assert_eq!(blobs(&store), Vec::<String>::new(), "nothing stored");
}

/// Runs mkbuild under `/usr/bin/time -v`; returns its peak resident set size in KiB.
fn peak_rss_kib(store: &Path, args: &[&str]) -> u64 {
    let out = std::process::Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_mkbuild"))
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .expect("run /usr/bin/time");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "mkbuild {args:?}: {err}");
    err.lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|kib| kib.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in {err}"))
}

/// The case, at its size (writes about 3 GiB, and needs `/usr/bin/time`, Debian's
/// `time`): `cargo test -p mkbuild --test it partial_pull::one_gib -- --ignored --nocapture`.
#[test]
#[ignore = "writes 3 GiB; run by hand"]
fn one_gib_model_remote_unpack_of_the_kitfile_downloads_under_a_mib() {
    if !mkbuild_test_support::require_tool("time") {
        return;
    }
    let Some(registry) = TestRegistry::start_or_skip(
        "one_gib_model_remote_unpack_of_the_kitfile_downloads_under_a_mib",
        false,
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let manifest = pushed(tmp.path(), &registry, 1 << 30);
    let store = tmp.path().join("store");
    for (filter, within) in [("kitfile", 1u64 << 20), ("model", u64::MAX)] {
        let counting = FaultProxy::start(registry.addr(), Faults::default()).expect("proxy");
        let remote = format!("{}/team/partial:1", counting.host());
        let out = tmp.path().join(filter);
        let mut args = vec!["unpack", &remote, "--filter", filter, "-d", s(&out)];
        args.extend(NO_PROGRESS);
        let rss = peak_rss_kib(&store, &args);
        let downloaded = counting.stats().blob_body_bytes;
        eprintln!("--filter {filter}: {downloaded} bytes of blobs downloaded, peak RSS {rss} KiB");
        assert!(downloaded < within, "{downloaded} bytes downloaded");
        assert!(rss < 64 << 10, "peak RSS {rss} KiB");
        assert_eq!(blobs(&store), Vec::<String>::new(), "nothing stored");
    }
    let (_, size) = layer(&manifest, "model");
    assert_eq!(
        std::fs::metadata(tmp.path().join("model/model.bin"))
            .map(|m| m.len())
            .ok(),
        Some(1 << 30),
        "the model layer is {size} bytes"
    );
}

/// Formats that keep the Kitfile in the config (`v1`, kit's) or the manifest (ModelPack) need no
/// layer at all for `--filter kitfile`: only the config is downloaded.
#[test]
fn a_kitfile_kept_in_the_config_or_manifest_downloads_no_layer() {
    let Some(registry) = TestRegistry::start_or_skip(
        "a_kitfile_kept_in_the_config_or_manifest_downloads_no_layer",
        false,
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let ctx = tmp.path().join("ctx");
    context(&ctx, 1 << 20);
    let source = tmp.path().join("source");
    for format in ["v1", "kit", "modelpack"] {
        let name = format!("f-{format}:1");
        ok(&source, &["pack", s(&ctx), "-t", &name, "--format", format]);
        let remote = format!("{}/team/{name}", registry.host());
        ok(&source, &["push", &name, &remote, "--plain-http"]);
        let manifest = manifest(&source, &name);
        let counting = FaultProxy::start(registry.addr(), Faults::default()).expect("proxy");
        let remote = format!("{}/team/{name}", counting.host());
        let out = tmp.path().join(format);
        let store = tmp.path().join(format!("store-{format}"));
        let mut args = vec!["unpack", &remote, "--filter", "kitfile", "-d", s(&out)];
        args.extend(NO_PROGRESS);
        ok(&store, &args);
        let stats = counting.stats();
        assert_eq!(
            (stats.blob_downloads, stats.blob_body_bytes),
            (1, manifest["config"]["size"].as_u64().expect("config size")),
            "format {format}"
        );
        let kitfile = std::fs::read_to_string(out.join("Kitfile")).expect("Kitfile");
        assert!(kitfile.contains("name: partial"), "{format}: {kitfile}");
        assert_eq!(blobs(&store), Vec::<String>::new(), "nothing stored");
    }
}

/// A model that names another ModelKit: the child is read from the registry and not stored; its
/// parent is pulled whole into the store, as an unpack without a filter pulls it, and only when
/// a filter names the model.
#[test]
fn a_remote_child_is_streamed_and_its_model_parent_pulled() {
    let Some(registry) = TestRegistry::start_or_skip(
        "a_remote_child_is_streamed_and_its_model_parent_pulled",
        false,
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = pushed(tmp.path(), &registry, 1 << 20);
    let base_remote = format!("{}/team/partial:1", registry.host());
    let child = tmp.path().join("child");
    std::fs::create_dir_all(&child).expect("mkdir");
    std::fs::write(child.join("tune.py"), "tune()\n").expect("code");
    std::fs::write(
        child.join("Kitfile"),
        format!("manifestVersion: 1.0.0\npackage:\n  name: child\nmodel:\n  path: {base_remote}\ncode:\n  - path: tune.py\n"),
    )
    .expect("Kitfile");
    let source = tmp.path().join("source");
    ok(&source, &["pack", s(&child), "-t", "child:1"]);
    let child_remote = format!("{}/team/child:1", registry.host());
    ok(&source, &["push", "child:1", &child_remote, "--plain-http"]);
    let (child_code, _) = layer(&manifest(&source, "child:1"), "code");

    let store = tmp.path().join("store");
    let out = tmp.path().join("code");
    let mut args = vec!["unpack", &child_remote, "--filter", "code", "-d", s(&out)];
    args.extend(NO_PROGRESS);
    ok(&store, &args);
    assert_eq!(files(&out).len(), 1);
    assert_eq!(
        blobs(&store),
        Vec::<String>::new(),
        "the parent is not needed"
    );

    let out = tmp.path().join("model");
    let mut args = vec![
        "unpack",
        &child_remote,
        "--filter",
        "model,code",
        "-d",
        s(&out),
    ];
    args.extend(NO_PROGRESS);
    ok(&store, &args);
    let names: Vec<PathBuf> = files(&out).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        names,
        [PathBuf::from("model.bin"), PathBuf::from("tune.py")]
    );
    let stored = blobs(&store);
    let (base_model, _) = layer(&base, "model");
    assert!(stored.contains(&hex(&base_model)), "the parent is pulled");
    assert!(
        !stored.contains(&hex(&child_code)),
        "the child is not stored"
    );
}

/// A registry that answers the range request for the rest of a broken layer with the layer from
/// byte 0: the bytes handed out already are skipped, and the unpack is whole.
#[test]
fn a_range_answered_from_the_start_is_skipped_to_where_the_layer_broke() {
    use mkbuild_registry::testing::{HostileRegistry, Hostility};
    let tmp = tempfile::tempdir().expect("tempdir");
    let ctx = tmp.path().join("ctx");
    context(&ctx, 2 << 20);
    let source = tmp.path().join("source");
    ok(&source, &["pack", s(&ctx), "-t", "partial:1"]);
    let manifest = manifest(&source, "partial:1");
    let blob =
        |digest: &str| std::fs::read(source.join("blobs/sha256").join(hex(digest))).expect("blob");
    let mut served = vec![blob(manifest["config"]["digest"].as_str().expect("config"))];
    for layer in manifest["layers"].as_array().expect("layers") {
        served.push(blob(layer["digest"].as_str().expect("digest")));
    }
    let manifest_bytes = ok(&source, &["inspect", "partial:1", "--raw"]).into_bytes();
    let server = HostileRegistry::start(Hostility::WrongRange, manifest_bytes, served, None)
        .expect("hostile registry");
    let full = tmp.path().join("full");
    ok(&source, &["unpack", "partial:1", "-d", s(&full)]);
    let store = tmp.path().join("store");
    let out = tmp.path().join("model");
    let remote = format!("{}/team/model:v1", server.host());
    let mut args = vec!["unpack", &remote, "--filter", "model", "-d", s(&out)];
    args.extend(NO_PROGRESS);
    ok(&store, &args);
    assert_eq!(files(&out), files_under(&files(&full), "model.bin"));
    assert_eq!(blobs(&store), Vec::<String>::new(), "nothing stored");
}
