//! Byte compatibility with kit: every golden case and every generated case of
//! `tests/fixtures/{golden,cases}` packs, in `v1` and `v2`, to exactly the layer digests, sizes and
//! config bytes that kit's rules give (expected files made by the reference packer). The same
//! trees in `kit` give `v2`'s expected layers and config, and in `modelpack` `v2`'s expected tars
//! for code, datasets and docs, and raw weight layers that are the files' own bytes.

use std::path::Path;

use crate::common::{blob_path, context_from_script, fixtures, manifest, ok, sha256_hex};

struct Expected {
    layers: Vec<(String, String, u64)>,
    config_digest: String,
    config_size: u64,
    config_json: String,
}

fn read_expected(path: &Path) -> Expected {
    let text = std::fs::read_to_string(path).expect("expected file");
    let mut layers = Vec::new();
    let mut config = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("config ") {
            let mut parts = rest.splitn(3, ' ');
            let digest = parts.next().expect("digest").to_owned();
            let size = parts.next().expect("size").parse().expect("size number");
            let json = parts.next().expect("json").to_owned();
            config = Some((digest, size, json));
        } else {
            // The layer path may contain spaces: digest and size are the last two fields.
            let mut parts = line.rsplitn(3, ' ');
            let size = parts.next().expect("size").parse().expect("size number");
            let digest = parts.next().expect("digest").to_owned();
            let path = parts.next().expect("path").to_owned();
            layers.push((path, digest, size));
        }
    }
    let (config_digest, config_size, config_json) = config.expect("config line");
    Expected {
        layers,
        config_digest,
        config_size,
        config_json,
    }
}

fn check_case(case: &Path) {
    let name = case
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let context = context_from_script(&case.join("mk.sh"));
    let store = tempfile::tempdir().expect("store");
    let ctx = context.path().to_str().expect("utf-8 temp path");
    for format in ["v1", "v2"] {
        let expected = read_expected(&case.join(format!("expected-{format}.txt")));
        let tag = format!("case:{format}");
        let digest = ok(store.path(), &["pack", ctx, "--format", format, "-t", &tag]);
        let m = manifest(store.path(), &tag);
        assert_eq!(
            digest.trim(),
            tag_digest(store.path(), &tag),
            "{name} {format}"
        );
        let layers = m["layers"].as_array().expect("layers");
        let kitfile_layers = usize::from(format == "v2");
        assert_eq!(
            layers.len(),
            expected.layers.len() + kitfile_layers,
            "{name} {format}: layer count"
        );
        for (i, (path, want_digest, want_size)) in expected.layers.iter().enumerate() {
            assert_eq!(
                (
                    layers[i]["digest"].as_str().expect("digest"),
                    layers[i]["size"].as_u64().expect("size")
                ),
                (want_digest.as_str(), *want_size),
                "{name} {format}: layer {i} (`{path}`)"
            );
        }
        let config = ok(store.path(), &["inspect", &tag, "--config"]);
        assert_eq!(
            config.trim_end_matches('\n'),
            expected.config_json,
            "{name} {format}: config bytes"
        );
        assert_eq!(
            m["config"]["digest"],
            expected.config_digest.as_str(),
            "{name} {format}"
        );
        assert_eq!(m["config"]["size"], expected.config_size, "{name} {format}");
        if format == "v2" {
            let last = &layers[layers.len() - 1];
            assert_eq!(
                last["mediaType"],
                "application/vnd.kitops.modelkit.kitfile.v1+yaml"
            );
            let kitfile = std::fs::read(context.path().join("Kitfile")).expect("Kitfile");
            assert_eq!(last["digest"], format!("sha256:{}", sha256_hex(&kitfile)));
            let stored = std::fs::read(blob_path(
                store.path(),
                last["digest"].as_str().expect("digest"),
            ))
            .expect("Kitfile blob");
            assert_eq!(
                stored, kitfile,
                "{name}: the Kitfile layer holds the Kitfile unchanged"
            );
        }
    }
    check_newer_formats(&name, case, context.path(), store.path());
}

/// The newer formats over the same tree: `kit` is `v2`'s layers and config without the Kitfile
/// layer; `modelpack` keeps `v2`'s tars but for weights, which are raw layers of the files' bytes.
fn check_newer_formats(name: &str, case: &Path, context: &Path, store: &Path) {
    let ctx = context.to_str().expect("utf-8 temp path");
    let expected = read_expected(&case.join("expected-v2.txt"));
    ok(store, &["pack", ctx, "--format", "kit", "-t", "case:kit"]);
    let kit = manifest(store, "case:kit");
    let kit_layers = kit["layers"].as_array().expect("layers");
    assert_eq!(
        kit_layers.len(),
        expected.layers.len(),
        "{name} kit: layer count"
    );
    for (layer, (path, digest, size)) in kit_layers.iter().zip(&expected.layers) {
        assert_eq!(layer["digest"], digest.as_str(), "{name} kit: `{path}`");
        assert_eq!(layer["size"], *size, "{name} kit: `{path}`");
    }
    assert_eq!(
        kit["config"]["digest"],
        expected.config_digest.as_str(),
        "{name} kit"
    );

    let v2 = manifest(store, "case:v2");
    let weights: Vec<&str> = v2["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter(|l| {
            let media = l["mediaType"].as_str().unwrap_or_default();
            media.contains(".model.") || media.contains(".modelpart.")
        })
        .map(|l| l["digest"].as_str().expect("digest"))
        .collect();
    let out = crate::common::mkbuild(
        store,
        &["pack", ctx, "--format", "modelpack", "-t", "case:mp"],
    );
    if !out.status.success() {
        // Only a tree whose every entry is an empty weight folder has no layer at all.
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("at least one layer"),
            "{name} modelpack: {err}"
        );
        return;
    }
    let mp = manifest(store, "case:mp");
    let mp_layers = mp["layers"].as_array().expect("layers");
    let mut tars = 0;
    for layer in mp_layers {
        let digest = layer["digest"].as_str().expect("digest");
        if layer["mediaType"]
            .as_str()
            .unwrap_or_default()
            .ends_with(".raw")
        {
            let path = layer["annotations"]["org.cncf.model.filepath"]
                .as_str()
                .expect("raw layer path");
            let file = std::fs::read(context.join(path)).expect("the raw layer's file");
            assert_eq!(
                digest,
                format!("sha256:{}", sha256_hex(&file)),
                "{name}: `{path}`"
            );
        } else {
            tars += 1;
            assert!(
                expected.layers.iter().any(|(_, d, _)| d == digest) && !weights.contains(&digest),
                "{name} modelpack: tar `{digest}` is one of v2's expected non-weight layers"
            );
        }
    }
    assert_eq!(
        tars,
        expected.layers.len() - weights.len(),
        "{name} modelpack: every non-weight layer is v2's tar"
    );
    let config: serde_json::Value =
        serde_json::from_str(&ok(store, &["inspect", "--config", "case:mp"])).expect("config");
    let digests: Vec<&serde_json::Value> = mp_layers.iter().map(|l| &l["digest"]).collect();
    assert_eq!(
        config["modelfs"]["diffIds"]
            .as_array()
            .expect("diffIds")
            .iter()
            .collect::<Vec<_>>(),
        digests,
        "{name} modelpack: modelfs lists every layer, uncompressed"
    );
}

fn tag_digest(store: &Path, tag: &str) -> String {
    let list: serde_json::Value =
        serde_json::from_str(&ok(store, &["list", "--json"])).expect("list JSON");
    list.as_array()
        .expect("array")
        .iter()
        .find(|r| r["reference"] == tag)
        .map(|r| r["digest"].as_str().expect("digest").to_owned())
        .expect("tag listed")
}

fn cases(folder: &str) -> Vec<std::path::PathBuf> {
    let mut cases: Vec<_> = std::fs::read_dir(fixtures().join(folder))
        .expect("fixture folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("mk.sh").is_file())
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    cases
}

#[test]
fn golden_cases_match_kit_byte_for_byte() {
    let cases = cases("golden");
    assert_eq!(cases.len(), 3);
    for case in cases {
        check_case(&case);
    }
}

#[test]
fn generated_cases_match_the_reference_packer() {
    for case in cases("cases") {
        check_case(&case);
    }
}
