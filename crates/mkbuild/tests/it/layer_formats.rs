//! Layering as a format policy: the `kit` format (today's kit: v2's layers and config, every layer
//! naming its path, no Kitfile layer) and raw layers (`--layer-format raw`), whose blobs are the
//! files' own bytes. v2's bytes are proved against Go's encoders (`byte_compat`); here `kit` is
//! proved to write exactly those, and raw blobs against the files themselves.

use std::path::Path;

use crate::common::{blob_path, fails, manifest, ok, rewrite_manifest, sha256_hex};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

const PATH: &str = "org.cncf.model.filepath";
const METADATA: &str = "org.cncf.model.file.metadata+json";

/// A context whose Kitfile entries are single files (kit's rule for raw layers).
fn single_file_context() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("context");
    let root = dir.path();
    std::fs::create_dir_all(root.join("weights")).expect("mkdir");
    // Not a multiple of a tar block, and not text: raw must not pad or convert anything.
    let weights: Vec<u8> = (0..70_001u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(root.join("weights/model.safetensors"), weights).expect("weights");
    std::fs::write(root.join("tokenizer.json"), "{\"a\": 1}\n").expect("part");
    std::fs::write(root.join("README.md"), "# tiny\n").expect("docs");
    std::fs::write(
        root.join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: tiny\nmodel:\n  path: weights/model.safetensors\n  parts:\n    - path: tokenizer.json\ndocs:\n  - path: README.md\n",
    )
    .expect("Kitfile");
    dir
}

#[test]
fn kit_writes_v2s_layers_and_config_and_names_each_layers_path() {
    let store = tempfile::tempdir().expect("store");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample");
    ok(
        store.path(),
        &["pack", s(&sample), "--format", "v2", "-t", "v2:1"],
    );
    ok(
        store.path(),
        &["pack", s(&sample), "--format", "kit", "-t", "kit:1"],
    );
    let v2 = manifest(store.path(), "v2:1");
    let kit = manifest(store.path(), "kit:1");
    assert_eq!(kit["config"], v2["config"], "the same config bytes");
    let v2_layers = v2["layers"].as_array().expect("layers");
    let kit_layers = kit["layers"].as_array().expect("layers");
    // v2's last layer is its Kitfile layer, which kit never wrote.
    assert_eq!(kit_layers.len() + 1, v2_layers.len());
    let paths = ["model", "src", "data/train.csv", "docs/README.md"];
    for ((k, v), path) in kit_layers.iter().zip(v2_layers).zip(paths) {
        assert_eq!(k["digest"], v["digest"]);
        assert_eq!(k["mediaType"], v["mediaType"]);
        assert_eq!(k["annotations"][PATH], path);
    }
    // Unpacked, the Kitfile is rebuilt from the config, and every file is back.
    let out = tempfile::tempdir().expect("target");
    ok(store.path(), &["unpack", "kit:1", "-d", s(out.path())]);
    for file in [
        "model/model.safetensors",
        "src/predict.py",
        "data/train.csv",
    ] {
        assert_eq!(
            std::fs::read(out.path().join(file)).expect("unpacked"),
            std::fs::read(sample.join(file)).expect("original"),
            "{file}"
        );
    }
}

#[test]
fn a_raw_layer_is_the_files_bytes_and_unpacks_to_the_file() {
    let context = single_file_context();
    let store = tempfile::tempdir().expect("store");
    let args = ["pack", s(context.path()), "--format", "kit"];
    ok(
        store.path(),
        &[&args[..], &["--layer-format", "raw", "-t", "raw:1"]].concat(),
    );
    let m = manifest(store.path(), "raw:1");
    let layers = m["layers"].as_array().expect("layers");
    let expected = [
        ("weights/model.safetensors", "model", "model.safetensors"),
        ("tokenizer.json", "modelpart", "tokenizer.json"),
        ("README.md", "docs", "README.md"),
    ];
    assert_eq!(layers.len(), expected.len());
    for (layer, (path, kind, name)) in layers.iter().zip(expected) {
        let file = std::fs::read(context.path().join(path)).expect("file");
        let digest = layer["digest"].as_str().expect("digest");
        assert_eq!(digest, format!("sha256:{}", sha256_hex(&file)), "{path}");
        assert_eq!(
            std::fs::read(blob_path(store.path(), digest)).expect("blob"),
            file,
            "{path}: the blob is the file"
        );
        assert_eq!(
            layer["mediaType"],
            format!("application/vnd.kitops.modelkit.{kind}.v1.raw")
        );
        assert_eq!(layer["annotations"][PATH], path);
        let metadata: serde_json::Value =
            serde_json::from_str(layer["annotations"][METADATA].as_str().expect("metadata"))
                .expect("metadata JSON");
        assert_eq!(metadata["name"], name);
        assert_eq!(metadata["size"], file.len());
        assert_eq!(metadata["typeflag"], 0);
        assert_eq!(metadata["mtime"], "1970-01-01T00:00:00Z");
    }
    // The config records each entry's layer: diffId = digest = the file's sha256.
    let config = ok(store.path(), &["inspect", "--config", "raw:1"]);
    let config: serde_json::Value = serde_json::from_str(&config).expect("config");
    assert_eq!(config["model"]["digest"], layers[0]["digest"]);
    assert_eq!(config["model"]["diffId"], layers[0]["digest"]);

    let out = tempfile::tempdir().expect("target");
    ok(store.path(), &["unpack", "raw:1", "-d", s(out.path())]);
    for (path, _, _) in expected {
        assert_eq!(
            std::fs::read(out.path().join(path)).expect("unpacked"),
            std::fs::read(context.path().join(path)).expect("original"),
            "{path}"
        );
    }
    // Unpack then repack gives the same layers and config.
    ok(
        store.path(),
        &[
            "pack",
            s(out.path()),
            "--format",
            "kit",
            "--layer-format",
            "raw",
            "-t",
            "again:1",
        ],
    );
    let again = manifest(store.path(), "again:1");
    assert_eq!(again["layers"], m["layers"]);
    assert_eq!(again["config"], m["config"]);
}

#[test]
fn raw_layers_are_refused_where_the_format_cannot_hold_them_saying_what_to_do() {
    let context = single_file_context();
    let store = tempfile::tempdir().expect("store");
    let dir = s(context.path());
    let err = fails(
        store.path(),
        &["pack", dir, "--format", "v2", "--layer-format", "raw"],
    );
    assert!(err.contains("format `v2` has no raw layers"), "{err}");
    assert!(err.contains("--layer-format tar"), "{err}");
    // kit records one layer per Kitfile entry: a folder cannot be one raw layer.
    std::fs::write(
        context.path().join("Kitfile"),
        "manifestVersion: 1.0.0\nmodel:\n  path: weights\ndocs:\n  - path: .\n",
    )
    .expect("Kitfile");
    std::fs::write(context.path().join("weights/second.bin"), "2").expect("file");
    let err = fails(
        store.path(),
        &["pack", dir, "--format", "kit", "--layer-format", "raw"],
    );
    assert!(err.contains("every entry must name a single file"), "{err}");
    assert!(
        std::fs::read_to_string(store.path().join("index.json"))
            .map_or(true, |i| !i.contains("sha256")),
        "nothing is tagged"
    );
}

#[test]
fn a_raw_layer_that_names_a_path_outside_the_folder_is_refused_and_nothing_is_written() {
    for evil in ["../escaped.bin", "/tmp/absolute.bin", "a/../../x", ""] {
        let context = single_file_context();
        let store = tempfile::tempdir().expect("store");
        let dir = s(context.path());
        ok(
            store.path(),
            &[
                "pack",
                dir,
                "--format",
                "kit",
                "--layer-format",
                "raw",
                "-t",
                "r:1",
            ],
        );
        rewrite_manifest(store.path(), "r:1", |m| {
            m["layers"][0]["annotations"][PATH] = evil.into();
        });
        let parent = tempfile::tempdir().expect("parent");
        let target = parent.path().join("out");
        let err = fails(store.path(), &["unpack", "r:1", "-d", s(&target)]);
        assert!(err.contains(PATH), "{evil}: {err}");
        assert!(
            err.contains("layer `sha256:"),
            "{evil}: names the layer: {err}"
        );
        let written: Vec<_> = std::fs::read_dir(parent.path()).expect("parent").collect();
        assert!(
            !target.exists() || std::fs::read_dir(&target).expect("target").next().is_none(),
            "{evil}: nothing written"
        );
        assert!(written.len() <= 1, "{evil}: nothing beside the target");
    }
}

#[test]
fn prompts_pack_as_code_layers_marked_prompt_and_unpack_back() {
    let context = tempfile::tempdir().expect("context");
    let root = context.path();
    std::fs::create_dir_all(root.join("prompts")).expect("mkdir");
    std::fs::create_dir_all(root.join("src")).expect("mkdir");
    std::fs::write(root.join("prompts/system.md"), "You are terse.\n").expect("prompt");
    std::fs::write(root.join("src/app.py"), "print(1)\n").expect("code");
    std::fs::write(root.join("server.mcpb"), "bundle bytes").expect("mcpb");
    let kitfile = "manifestVersion: 1.0.0\npackage:\n  name: p\ncode:\n  - path: src\nprompts:\n  - name: system\n    path: prompts/system.md\n    description: The system prompt\n";
    std::fs::write(root.join("Kitfile"), kitfile).expect("Kitfile");
    let store = tempfile::tempdir().expect("store");
    for format in ["v2", "kit"] {
        let tag = format!("{format}:1");
        ok(
            store.path(),
            &["pack", s(root), "--format", format, "-t", &tag],
        );
        let m = manifest(store.path(), &tag);
        let prompt = &m["layers"][1];
        assert_eq!(
            prompt["mediaType"], "application/vnd.kitops.modelkit.code.v1.tar",
            "{format}"
        );
        assert_eq!(
            prompt["annotations"]["ml.kitops.modelkit.layer-subtype"], "prompt",
            "{format}"
        );
        assert!(
            m["layers"][0]["annotations"]["ml.kitops.modelkit.layer-subtype"].is_null(),
            "{format}: code stays unmarked"
        );
        let config: serde_json::Value =
            serde_json::from_str(&ok(store.path(), &["inspect", "--config", &tag]))
                .expect("config");
        assert_eq!(config["prompts"][0]["name"], "system");
        assert_eq!(config["prompts"][0]["digest"], prompt["digest"]);
        let out = tempfile::tempdir().expect("target");
        ok(store.path(), &["unpack", &tag, "-d", s(out.path())]);
        assert_eq!(
            std::fs::read_to_string(out.path().join("prompts/system.md")).expect("prompt"),
            "You are terse.\n"
        );
    }
    // An MCP server is a raw bundle layer: kit has them, v2 cannot hold them.
    std::fs::write(
        root.join("Kitfile"),
        format!("{kitfile}mcpServers:\n  - name: srv\n    path: server.mcpb\n"),
    )
    .expect("Kitfile");
    let err = fails(store.path(), &["pack", s(root), "--format", "v2"]);
    assert!(err.contains("MCP servers are always raw layers"), "{err}");
    ok(
        store.path(),
        &["pack", s(root), "--format", "kit", "-t", "mcp:1"],
    );
    let m = manifest(store.path(), "mcp:1");
    let bundle = &m["layers"][2];
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.kitops.modelkit.mcpb.v1.raw"
    );
    assert_eq!(
        bundle["digest"],
        format!("sha256:{}", sha256_hex(b"bundle bytes"))
    );
    let out = tempfile::tempdir().expect("target");
    ok(store.path(), &["unpack", "mcp:1", "-d", s(out.path())]);
    assert_eq!(
        std::fs::read(out.path().join("server.mcpb")).expect("bundle"),
        b"bundle bytes"
    );
}

/// The layer digests and config digest of a ModelKit.
fn digests(store: &Path, reference: &str) -> (Vec<String>, String) {
    let m = manifest(store, reference);
    let layers = m["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["digest"].as_str().expect("digest").to_owned())
        .collect();
    (
        layers,
        m["config"]["digest"].as_str().expect("config").to_owned(),
    )
}

#[test]
fn convert_between_raw_and_tar_layers_gives_what_a_direct_pack_gives() {
    let context = single_file_context();
    let store = tempfile::tempdir().expect("store");
    let dir = s(context.path());
    let raw_args = [
        "pack",
        dir,
        "--format",
        "kit",
        "--layer-format",
        "raw",
        "-t",
        "raw:1",
    ];
    ok(store.path(), &raw_args);
    ok(
        store.path(),
        &["pack", dir, "--format", "kit", "-t", "tar:1"],
    );
    ok(store.path(), &["pack", dir, "--format", "v2", "-t", "v2:1"]);
    // Raw files into tars: exactly the layers and config a pack of the folder writes.
    ok(
        store.path(),
        &["convert", "raw:1", "--to", "kit", "-t", "raw-to-tar:1"],
    );
    assert_eq!(
        digests(store.path(), "raw-to-tar:1"),
        digests(store.path(), "tar:1")
    );
    ok(
        store.path(),
        &["convert", "raw:1", "--to", "v2", "-t", "raw-to-v2:1"],
    );
    let (converted, config) = digests(store.path(), "raw-to-v2:1");
    let (packed, packed_config) = digests(store.path(), "v2:1");
    // v2 adds its Kitfile layer, rebuilt from the config (not the original bytes): compare the rest.
    assert_eq!(converted[..3], packed[..3]);
    assert_eq!(config, packed_config);
    let out = tempfile::tempdir().expect("target");
    ok(
        store.path(),
        &["unpack", "raw-to-v2:1", "-d", s(out.path())],
    );
    for path in ["weights/model.safetensors", "tokenizer.json", "README.md"] {
        assert_eq!(
            std::fs::read(out.path().join(path)).expect("unpacked"),
            std::fs::read(context.path().join(path)).expect("original"),
            "{path}"
        );
    }
}

#[test]
fn what_todays_kit_writes_is_detected_as_kit_raw_layers_included() {
    let context = single_file_context();
    let store = tempfile::tempdir().expect("store");
    let dir = s(context.path());
    ok(
        store.path(),
        &[
            "pack",
            dir,
            "--format",
            "kit",
            "--layer-format",
            "raw",
            "-t",
            "r:1",
        ],
    );
    ok(store.path(), &["pack", dir, "--format", "kit", "-t", "t:1"]);
    for reference in ["r:1", "t:1"] {
        // As kit writes it: no record of mkbuild's format.
        rewrite_manifest(store.path(), reference, |m| {
            m["annotations"]
                .as_object_mut()
                .expect("annotations")
                .remove("ml.mkbuild.format");
        });
        let summary = ok(store.path(), &["inspect", "--summary", reference]);
        assert!(summary.contains("kit (detected)"), "{reference}: {summary}");
        let out = tempfile::tempdir().expect("target");
        ok(store.path(), &["unpack", reference, "-d", s(out.path())]);
        assert_eq!(
            std::fs::read(out.path().join("weights/model.safetensors")).expect("weights"),
            std::fs::read(context.path().join("weights/model.safetensors")).expect("original"),
            "{reference}"
        );
    }
}

#[test]
fn a_model_that_names_another_modelkit_comes_from_it_as_kit_does() {
    let store = tempfile::tempdir().expect("store");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample");
    ok(store.path(), &["pack", s(&sample), "-t", "base:1"]);
    let child = tempfile::tempdir().expect("child");
    let root = child.path();
    // A copy of the base's model in the folder: kit leaves the base's paths out of every layer.
    std::fs::create_dir_all(root.join("model")).expect("mkdir");
    std::fs::copy(
        sample.join("model/model.safetensors"),
        root.join("model/model.safetensors"),
    )
    .expect("copy");
    std::fs::write(root.join("finetune.py"), "train()\n").expect("code");
    std::fs::write(
        root.join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: child\nmodel:\n  path: base:1\ncode:\n  - path: .\n",
    )
    .expect("Kitfile");
    for format in ["v2", "kit"] {
        let tag = format!("child-{format}:1");
        ok(
            store.path(),
            &["pack", s(root), "--format", format, "-t", &tag],
        );
        let m = manifest(store.path(), &tag);
        let code = &m["layers"][0];
        assert_eq!(
            code["mediaType"], "application/vnd.kitops.modelkit.code.v1.tar",
            "{format}: no model layer"
        );
        let names = crate::common::layer_entry_names(store.path(), &tag, 0);
        assert!(
            names.iter().any(|n| n.ends_with("finetune.py")),
            "{format}: {names:?}"
        );
        assert!(
            !names.iter().any(|n| n.contains("model")),
            "{format}: the base's paths are left out: {names:?}"
        );
        let config: serde_json::Value =
            serde_json::from_str(&ok(store.path(), &["inspect", "--config", &tag]))
                .expect("config");
        assert_eq!(config["model"]["path"], "base:1");
        assert!(
            config["model"]["digest"].is_null(),
            "{format}: the model records no layer"
        );
        let out = tempfile::tempdir().expect("target");
        ok(store.path(), &["unpack", &tag, "-d", s(out.path())]);
        assert_eq!(
            std::fs::read(out.path().join("model/model.safetensors")).expect("the base's model"),
            std::fs::read(sample.join("model/model.safetensors")).expect("original"),
            "{format}"
        );
        assert!(out.path().join("finetune.py").is_file());
        assert!(
            !out.path().join("src").exists(),
            "{format}: only the base's model comes along"
        );
    }
    // Without the base, unpack says what to do and writes nothing.
    ok(store.path(), &["rm", "base:1"]);
    let parent = tempfile::tempdir().expect("parent");
    let target = parent.path().join("out");
    let err = fails(store.path(), &["unpack", "child-kit:1", "-d", s(&target)]);
    assert!(
        err.contains("base:1") && err.contains("mkbuild pull"),
        "{err}"
    );
    assert!(!target.exists());
}

#[test]
fn convert_says_what_the_target_cannot_carry() {
    let context = tempfile::tempdir().expect("context");
    let root = context.path();
    std::fs::create_dir_all(root.join("src")).expect("mkdir");
    std::fs::write(root.join("src/app.py"), "print(1)\n").expect("code");
    std::fs::write(root.join("system.md"), "Be brief.\n").expect("prompt");
    std::fs::write(
        root.join("Kitfile"),
        "# the team's notes\nmanifestVersion: 1.0.0\ncode:\n  - path: src\nprompts:\n  - path: system.md\n",
    )
    .expect("Kitfile");
    let store = tempfile::tempdir().expect("store");
    ok(
        store.path(),
        &["pack", s(root), "--format", "v2", "-t", "v2:1"],
    );
    let stderr = |args: &[&str]| {
        let out = crate::common::mkbuild(store.path(), args);
        assert!(out.status.success(), "{args:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let to_v1 = stderr(&["convert", "v2:1", "--to", "v1", "-t", "v1:1"]);
    assert!(to_v1.contains("the Kitfile's own text"), "{to_v1}");
    assert!(
        to_v1.contains("1 prompt(s) become plain code layers"),
        "{to_v1}"
    );
    let to_kit = stderr(&["convert", "v2:1", "--to", "kit", "-t", "kit:1"]);
    assert!(to_kit.contains("the Kitfile's own text"), "{to_kit}");
    assert!(!to_kit.contains("prompt"), "kit marks prompts: {to_kit}");
    // Back from kit to kit's own generation: nothing more to lose.
    let to_modelpack = stderr(&["convert", "kit:1", "--to", "modelpack", "-t", "mp:1"]);
    assert!(!to_modelpack.contains("converting to"), "{to_modelpack}");
}

#[test]
fn a_raw_file_keeps_its_execute_bit_and_nothing_more() {
    use std::os::unix::fs::PermissionsExt as _;
    let context = tempfile::tempdir().expect("context");
    let root = context.path();
    std::fs::write(root.join("run.sh"), "#!/bin/sh\necho hi\n").expect("script");
    std::fs::write(root.join("notes.md"), "notes\n").expect("docs");
    std::fs::set_permissions(root.join("run.sh"), std::fs::Permissions::from_mode(0o4775))
        .expect("chmod");
    std::fs::set_permissions(
        root.join("notes.md"),
        std::fs::Permissions::from_mode(0o666),
    )
    .expect("chmod");
    std::fs::write(
        root.join("Kitfile"),
        "manifestVersion: 1.0.0\ncode:\n  - path: run.sh\ndocs:\n  - path: notes.md\n",
    )
    .expect("Kitfile");
    let store = tempfile::tempdir().expect("store");
    let args = [
        "pack",
        s(root),
        "--format",
        "kit",
        "--layer-format",
        "raw",
        "-t",
        "r:1",
    ];
    ok(store.path(), &args);
    let out = tempfile::tempdir().expect("target");
    ok(store.path(), &["unpack", "r:1", "-d", s(out.path())]);
    let mode = |name: &str| {
        std::fs::metadata(out.path().join(name))
            .expect("unpacked")
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(
        mode("run.sh"),
        0o755,
        "executable, no setuid, no group write"
    );
    assert_eq!(mode("notes.md"), 0o644);
}
