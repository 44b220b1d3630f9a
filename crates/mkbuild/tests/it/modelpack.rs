//! The `modelpack` format (CNCF ModelPack, model-spec v0.0.7): what mkbuild writes, and ModelPack
//! artifacts written by others (built here by hand, following modctl's documented layout: one raw
//! layer per file, `org.cncf.model.filepath` and file metadata on each, no Kitfile) unpack to
//! their tree. The config's validity against the specification's JSON schema is proved in
//! `mkbuild-builtin`'s tests.

use std::path::Path;

use crate::common::{blob_path, fails, manifest, ok, rewrite_manifest, sha256_hex};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

const PATH: &str = "org.cncf.model.filepath";
const KITFILE: &str = "ml.kitops.modelkit.kitfile";

fn sample() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample")
}

#[test]
fn weights_are_raw_layers_and_the_rest_v2s_tars() {
    let store = tempfile::tempdir().expect("store");
    let sample = sample();
    ok(
        store.path(),
        &["pack", s(&sample), "--format", "modelpack", "-t", "mp:1"],
    );
    ok(
        store.path(),
        &["pack", s(&sample), "--format", "v2", "-t", "v2:1"],
    );
    let m = manifest(store.path(), "mp:1");
    let v2 = manifest(store.path(), "v2:1");
    assert_eq!(
        m["artifactType"],
        "application/vnd.cncf.model.manifest.v1+json"
    );
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.cncf.model.config.v1+json"
    );
    let layers = m["layers"].as_array().expect("layers");
    // The model folder's two files, in Go's walk order, each a raw weight layer.
    for (layer, file) in layers
        .iter()
        .zip(["model/config.json", "model/model.safetensors"])
    {
        let bytes = std::fs::read(sample.join(file)).expect("file");
        assert_eq!(
            layer["mediaType"],
            "application/vnd.cncf.model.weight.v1.raw"
        );
        assert_eq!(layer["digest"], format!("sha256:{}", sha256_hex(&bytes)));
        assert_eq!(layer["annotations"][PATH], file);
    }
    // Code, dataset and docs: v2's very tars (v2's last layer is its Kitfile layer).
    let kinds = ["code", "dataset", "doc"];
    for (i, kind) in kinds.iter().enumerate() {
        let (layer, v2_layer) = (&layers[2 + i], &v2["layers"][1 + i]);
        assert_eq!(layer["digest"], v2_layer["digest"], "{kind}");
        assert_eq!(
            layer["mediaType"],
            format!("application/vnd.cncf.model.{kind}.v1.tar")
        );
    }
    assert_eq!(layers.len(), 5);
    // The config: modelfs lists every layer's diffId (= its digest, all uncompressed), in order.
    let config: serde_json::Value =
        serde_json::from_str(&ok(store.path(), &["inspect", "--config", "mp:1"])).expect("config");
    let diff_ids: Vec<&serde_json::Value> = layers.iter().map(|l| &l["digest"]).collect();
    assert_eq!(config["modelfs"]["type"], "layers");
    assert_eq!(
        config["modelfs"]["diffIds"]
            .as_array()
            .expect("diffIds")
            .iter()
            .collect::<Vec<_>>(),
        diff_ids
    );
    assert_eq!(config["descriptor"]["name"], "tiny-linear");
    assert!(
        config["descriptor"]["createdAt"].is_null(),
        "no clock time in the config"
    );
    // The Kitfile travels as kit puts it: JSON in a manifest annotation.
    let kitfile: serde_json::Value = serde_json::from_str(
        m["annotations"][KITFILE]
            .as_str()
            .expect("Kitfile annotation"),
    )
    .expect("Kitfile JSON");
    assert_eq!(kitfile["package"]["name"], "tiny-linear");

    let out = tempfile::tempdir().expect("target");
    ok(store.path(), &["unpack", "mp:1", "-d", s(out.path())]);
    for file in [
        "model/config.json",
        "model/model.safetensors",
        "src/predict.py",
        "data/train.csv",
        "docs/README.md",
    ] {
        assert_eq!(
            std::fs::read(out.path().join(file)).expect("unpacked"),
            std::fs::read(sample.join(file)).expect("original"),
            "{file}"
        );
    }
    assert!(out.path().join("Kitfile").is_file());
    // Packed again from what unpack wrote: the same layers and config.
    ok(
        store.path(),
        &[
            "pack",
            s(out.path()),
            "--format",
            "modelpack",
            "-t",
            "again:1",
        ],
    );
    let again = manifest(store.path(), "again:1");
    assert_eq!(again["layers"], m["layers"]);
    assert_eq!(again["config"], m["config"]);
}

#[test]
fn created_comes_only_from_source_date_epoch() {
    let store = tempfile::tempdir().expect("store");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mkbuild"))
        .arg("--store")
        .arg(store.path())
        .args(["pack", s(&sample()), "--format", "modelpack", "-t", "mp:1"])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: serde_json::Value =
        serde_json::from_str(&ok(store.path(), &["inspect", "--config", "mp:1"])).expect("config");
    assert_eq!(config["descriptor"]["createdAt"], "2023-11-14T22:13:20Z");
}

#[test]
fn v2_to_modelpack_and_back_gives_v2s_layers_again() {
    let store = tempfile::tempdir().expect("store");
    ok(
        store.path(),
        &["pack", s(&sample()), "--format", "v2", "-t", "v2:1"],
    );
    ok(
        store.path(),
        &["convert", "v2:1", "--to", "modelpack", "-t", "mp:1"],
    );
    ok(
        store.path(),
        &[
            "pack",
            s(&sample()),
            "--format",
            "modelpack",
            "-t",
            "direct:1",
        ],
    );
    assert_eq!(
        manifest(store.path(), "mp:1")["layers"],
        manifest(store.path(), "direct:1")["layers"],
        "convert writes what a direct pack writes"
    );
    ok(
        store.path(),
        &["convert", "mp:1", "--to", "v2", "-t", "back:1"],
    );
    let back = manifest(store.path(), "back:1");
    let v2 = manifest(store.path(), "v2:1");
    let n = v2["layers"].as_array().expect("layers").len();
    // All but the Kitfile layer (v2 rebuilds it from the config, not the original bytes).
    for i in 0..n - 1 {
        assert_eq!(
            back["layers"][i]["digest"], v2["layers"][i]["digest"],
            "layer {i}"
        );
    }
    assert_eq!(back["config"]["digest"], v2["config"]["digest"]);
}

#[test]
fn raw_layers_out_of_order_convert_to_the_tar_a_pack_writes() {
    let store = tempfile::tempdir().expect("store");
    ok(
        store.path(),
        &["pack", s(&sample()), "--format", "modelpack", "-t", "mp:1"],
    );
    ok(
        store.path(),
        &["pack", s(&sample()), "--format", "v2", "-t", "v2:1"],
    );
    // A hostile (or merely different) writer lists the model's files in another order.
    rewrite_manifest(store.path(), "mp:1", |m| {
        m["layers"].as_array_mut().expect("layers")[..2].reverse();
    });
    ok(
        store.path(),
        &["convert", "mp:1", "--to", "v2", "-t", "back:1"],
    );
    assert_eq!(
        manifest(store.path(), "back:1")["layers"][0]["digest"],
        manifest(store.path(), "v2:1")["layers"][0]["digest"],
        "files in the walk's order, whatever the manifest's"
    );
}

#[test]
fn layer_digests_are_recorded_only_where_an_entry_has_exactly_one_layer() {
    let context = tempfile::tempdir().expect("context");
    let root = context.path();
    std::fs::create_dir_all(root.join("models")).expect("mkdir");
    std::fs::create_dir_all(root.join("empty")).expect("mkdir");
    std::fs::write(root.join("models/a.bin"), "a").expect("a");
    std::fs::write(root.join("models/b.bin"), "b").expect("b");
    std::fs::write(
        root.join("Kitfile"),
        "manifestVersion: 1.0.0\nmodel:\n  path: models\n  parts:\n    - path: empty\n",
    )
    .expect("Kitfile");
    let store = tempfile::tempdir().expect("store");
    // Two layers for the model, none for the empty part: the counts balance, but no digest may
    // land on the wrong entry.
    ok(
        store.path(),
        &["pack", s(root), "--format", "modelpack", "-t", "mp:1"],
    );
    let m = manifest(store.path(), "mp:1");
    let kitfile = m["annotations"][KITFILE]
        .as_str()
        .expect("Kitfile annotation");
    assert!(!kitfile.contains("sha256:"), "{kitfile}");
    let err = fails(
        store.path(),
        &["pack", s(root), "--format", "kit", "--layer-format", "raw"],
    );
    assert!(err.contains("has 2 layers"), "{err}");
}

#[test]
fn kits_use_model_pack_layout_one_tar_per_entry_is_detected_and_unpacks() {
    // `--layer-format tar` writes what kit's `--use-model-pack` writes: one tar per Kitfile
    // entry (v2's tars), the ModelPack config, the Kitfile annotation.
    let store = tempfile::tempdir().expect("store");
    let sample = sample();
    let args = [
        "pack",
        s(&sample),
        "--format",
        "modelpack",
        "--layer-format",
        "tar",
    ];
    ok(store.path(), &[&args[..], &["-t", "kit:1"]].concat());
    ok(
        store.path(),
        &["pack", s(&sample), "--format", "v2", "-t", "v2:1"],
    );
    let m = manifest(store.path(), "kit:1");
    assert_eq!(
        m["layers"][0]["mediaType"],
        "application/vnd.cncf.model.weight.v1.tar"
    );
    assert_eq!(
        m["layers"][0]["digest"],
        manifest(store.path(), "v2:1")["layers"][0]["digest"]
    );
    rewrite_manifest(store.path(), "kit:1", |m| {
        m["annotations"]
            .as_object_mut()
            .expect("annotations")
            .remove("ml.mkbuild.format");
    });
    let summary = ok(store.path(), &["inspect", "--summary", "kit:1"]);
    assert!(summary.contains("modelpack (detected)"), "{summary}");
    let out = tempfile::tempdir().expect("target");
    ok(store.path(), &["unpack", "kit:1", "-d", s(out.path())]);
    assert_eq!(
        std::fs::read(out.path().join("model/model.safetensors")).expect("weights"),
        std::fs::read(sample.join("model/model.safetensors")).expect("original")
    );
}

/// Writes `bytes` as a blob of the OCI layout `store`; returns its digest.
fn put(store: &Path, bytes: &[u8]) -> String {
    let digest = format!("sha256:{}", sha256_hex(bytes));
    std::fs::create_dir_all(store.join("blobs/sha256")).expect("blobs");
    std::fs::write(blob_path(store, &digest), bytes).expect("blob");
    digest
}

/// An OCI layout holding one ModelPack as modctl writes it (`modctl build` with its default
/// `--raw`): one raw layer per file (weight, weight.config, code, doc), each with
/// `org.cncf.model.filepath` and `org.cncf.model.file.metadata+json` (real uid/gid), a config
/// whose `modelfs.diffIds` are the layer digests, the Modelfile in `org.cncf.modctl.modelfile`,
/// and no Kitfile. `legacy` uses the names before model-spec v0.0.7 (`cnai`), which modctl still
/// reads. `edit` may change a layer's descriptor before the manifest is written.
fn modctl_layout(store: &Path, legacy: bool, edit: impl Fn(usize, &mut serde_json::Value)) {
    let (media, annotation) = if legacy {
        ("application/vnd.cnai.model", "org.cnai.model")
    } else {
        ("application/vnd.cncf.model", "org.cncf.model")
    };
    std::fs::write(
        store.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("layout");
    // A sharded model: two weight files (kit derives the second as a part).
    let files: [(&str, &str, &[u8]); 5] = [
        ("weight.config", "config.json", b"{\"hidden\": 4}\n"),
        ("weight", "model.safetensors", b"\x00\x01weights\xff"),
        ("weight", "model-00002.safetensors", b"\x02second shard"),
        ("code", "src/run.py", b"print('run')\n"),
        ("doc", "README.md", b"# modctl\n"),
    ];
    let mut layers = Vec::new();
    for (i, (kind, path, bytes)) in files.iter().enumerate() {
        let digest = put(store, bytes);
        let name = path.rsplit('/').next().unwrap_or(path);
        let metadata = format!(
            r#"{{"name":"{name}","mode":420,"uid":501,"gid":20,"size":{},"mtime":"2025-07-01T10:00:00.123456789+02:00","typeflag":0}}"#,
            bytes.len()
        );
        let mut layer = serde_json::json!({
            "mediaType": format!("{media}.{kind}.v1.raw"),
            "digest": digest,
            "size": bytes.len(),
            "annotations": {
                format!("{annotation}.filepath"): path,
                format!("{annotation}.file.metadata+json"): metadata,
            }
        });
        edit(i, &mut layer);
        layers.push(layer);
    }
    let diff_ids: Vec<_> = layers.iter().map(|l| l["digest"].clone()).collect();
    let config = serde_json::json!({
        "descriptor": {"name": "tiny", "revision": "abc123"},
        "config": {"format": "safetensors"},
        "modelfs": {"type": "layers", "diffIds": diff_ids},
    });
    let config = serde_json::to_vec(&config).expect("config");
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": format!("{media}.manifest.v1+json"),
        "config": {
            "mediaType": format!("{media}.config.v1+json"),
            "digest": put(store, &config),
            "size": config.len(),
        },
        "layers": layers,
        "annotations": {"org.cncf.modctl.modelfile": "NAME tiny\nMODEL model.safetensors\n"},
    });
    let manifest = serde_json::to_vec(&manifest).expect("manifest");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": put(store, &manifest),
            "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": "modctl:1"},
        }],
    });
    std::fs::write(
        store.join("index.json"),
        serde_json::to_vec(&index).expect("index"),
    )
    .expect("index");
}

#[test]
fn a_modelpack_from_modctl_is_detected_and_unpacks_with_a_derived_kitfile() {
    for legacy in [false, true] {
        modctl_modelpack_unpacks(legacy);
    }
}

fn modctl_modelpack_unpacks(legacy: bool) {
    let store = tempfile::tempdir().expect("store");
    modctl_layout(store.path(), legacy, |_, _| {});
    let summary = ok(store.path(), &["inspect", "--summary", "modctl:1"]);
    assert!(summary.contains("modelpack (detected)"), "{summary}");
    let out = tempfile::tempdir().expect("target");
    ok(store.path(), &["unpack", "modctl:1", "-d", s(out.path())]);
    assert_eq!(
        std::fs::read(out.path().join("model.safetensors")).expect("weights"),
        b"\x00\x01weights\xff"
    );
    assert_eq!(
        std::fs::read(out.path().join("model-00002.safetensors")).expect("second shard"),
        b"\x02second shard"
    );
    assert_eq!(
        std::fs::read(out.path().join("src/run.py")).expect("code"),
        b"print('run')\n"
    );
    assert_eq!(
        std::fs::read(out.path().join("README.md")).expect("doc"),
        b"# modctl\n"
    );
    assert_eq!(
        std::fs::read(out.path().join("config.json")).expect("part"),
        b"{\"hidden\": 4}\n"
    );
    let kitfile = std::fs::read_to_string(out.path().join("Kitfile")).expect("Kitfile");
    // kit's derivation: the weight is the model, the weight config a part.
    assert!(kitfile.contains("path: model.safetensors"), "{kitfile}");
    assert!(kitfile.contains("path: config.json"), "{kitfile}");
    // And it converts to kit's own format, its raw files becoming tars.
    ok(
        store.path(),
        &["convert", "modctl:1", "--to", "v2", "-t", "v2:1"],
    );
    let again = tempfile::tempdir().expect("target");
    ok(store.path(), &["unpack", "v2:1", "-d", s(again.path())]);
    assert_eq!(
        std::fs::read(again.path().join("src/run.py")).expect("code"),
        b"print('run')\n"
    );
}

#[test]
fn a_modelpack_layer_without_a_path_or_with_an_unsafe_one_is_refused_naming_it() {
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit); 5] = [
        ("both hold", |l| {
            l["annotations"][PATH] = "model.safetensors".into()
        }),
        ("no `org.cncf.model.filepath`", |l| {
            l["annotations"]
                .as_object_mut()
                .expect("annotations")
                .remove(PATH);
        }),
        ("`..`", |l| {
            l["annotations"][PATH] = "../../etc/cron.d/x".into()
        }),
        ("is absolute", |l| {
            l["annotations"][PATH] = "/etc/passwd".into()
        }),
        ("unknown media type", |l| {
            l["mediaType"] = "application/vnd.example.thing.v1".into()
        }),
    ];
    for (words, edit) in cases {
        let store = tempfile::tempdir().expect("store");
        modctl_layout(store.path(), false, |i, layer| {
            if i == 3 {
                edit(layer);
            }
        });
        let parent = tempfile::tempdir().expect("parent");
        let target = parent.path().join("out");
        let err = fails(store.path(), &["unpack", "modctl:1", "-d", s(&target)]);
        assert!(err.contains(" `sha256:"), "{words}: names the layer: {err}");
        let expected = match words {
            "`..`" => "leads outside",
            "unknown media type" => "does not know",
            "is absolute" => "is absolute",
            "both hold" => "both hold `model.safetensors`",
            _ => "has no annotation `org.cncf.model.filepath`",
        };
        assert!(err.contains(expected), "{words}: {err}");
        assert!(!target.exists(), "{words}: nothing written");
    }
}
