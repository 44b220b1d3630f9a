//! Formats come from spec folders: the built-in ones and `--spec-dir` folders of the user's.

use std::path::Path;

use crate::common::{blob_path, fails, manifest, ok};

const V2: &str = include_str!("../../../../spec/v2/format.toml");

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A spec folder holding one format `name` with the given `format.toml`.
fn spec_dir(name: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("spec dir");
    std::fs::create_dir(dir.path().join(name)).expect("mkdir");
    std::fs::write(dir.path().join(name).join("format.toml"), text).expect("write");
    dir
}

#[test]
fn formats_lists_the_built_in_formats() {
    let store = tempfile::tempdir().expect("store");
    insta::assert_snapshot!(ok(store.path(), &["formats"]));
    let json: serde_json::Value =
        serde_json::from_str(&ok(store.path(), &["formats", "--json"])).expect("JSON");
    let names: Vec<&str> = json
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["kit", "modelpack", "v1", "v2"],
        "built-ins in name order"
    );
    assert_eq!(json[1]["origin"], "built-in");
}

#[test]
fn a_user_format_from_a_spec_dir_packs_with_its_settings() {
    let text = V2
        .replace("uid = 1000", "uid = 4242")
        .replace("gid = 0", "gid = 77")
        .replace("description = \"", "description = \"acme: ");
    let specs = spec_dir("acme", &text);
    let store = tempfile::tempdir().expect("store");
    let listed = ok(store.path(), &["--spec-dir", s(specs.path()), "formats"]);
    let acme = listed
        .lines()
        .find(|l| l.starts_with("acme"))
        .expect("acme listed");
    assert!(acme.contains("acme/format.toml"), "{acme}");

    let ctx = tempfile::tempdir().expect("context");
    std::fs::create_dir(ctx.path().join("m")).expect("mkdir");
    std::fs::write(ctx.path().join("m/w.bin"), "w").expect("write");
    std::fs::write(
        ctx.path().join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: a\nmodel:\n  path: m\n",
    )
    .expect("Kitfile");
    // The environment variable works like the flag.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mkbuild"))
        .args([
            "--store",
            s(store.path()),
            "pack",
            s(ctx.path()),
            "--format",
            "acme",
            "-t",
            "a:1",
        ])
        .env("MKBUILD_SPEC_DIR", specs.path())
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = manifest(store.path(), "a:1");
    assert_eq!(m["annotations"]["ml.mkbuild.format"], "acme");
    let blob = std::fs::File::open(blob_path(
        store.path(),
        m["layers"][0]["digest"].as_str().expect("d"),
    ))
    .expect("layer");
    for entry in tar::Archive::new(blob).entries().expect("entries") {
        let entry = entry.expect("entry");
        assert_eq!(entry.header().uid().expect("uid"), 4242);
        assert_eq!(entry.header().gid().expect("gid"), 77);
    }
    // `list` shows the recorded format.
    assert!(ok(store.path(), &["list"]).contains("acme"));

    // It unpacks with its spec folder, and without it as the format it matches, saying so.
    let out = tempfile::tempdir().expect("out");
    ok(
        store.path(),
        &[
            "--spec-dir",
            s(specs.path()),
            "unpack",
            "a:1",
            "-d",
            s(out.path()),
        ],
    );
    assert_eq!(
        std::fs::read(out.path().join("m/w.bin")).expect("unpacked"),
        b"w"
    );
    let elsewhere = tempfile::tempdir().expect("elsewhere");
    let unpacked =
        crate::common::mkbuild(store.path(), &["unpack", "a:1", "-d", s(elsewhere.path())]);
    let stderr = String::from_utf8_lossy(&unpacked.stderr);
    assert!(unpacked.status.success(), "{stderr}");
    assert!(
        stderr.contains("format `acme`, which is not known here; reading it as `v2`")
            && stderr.contains("--spec-dir"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(elsewhere.path().join("m/w.bin")).expect("unpacked"),
        b"w"
    );
}

#[test]
fn broken_spec_files_are_rejected_naming_file_and_key() {
    let store = tempfile::tempdir().expect("store");
    let cases = [
        (
            "unknown-key",
            V2.replace("kitfile-layer = true", "kitfile-layers = true"),
        ),
        (
            "unknown-plugin",
            V2.replace(
                "plugin = \"path-preserving\"",
                "plugin = \"path-preservng\"",
            ),
        ),
        ("bad-value", V2.replace("uid = 1000", "uid = -5")),
        (
            "unknown-setting",
            V2.replace("uid = 1000", "uid = 1000\nowner = \"me\""),
        ),
        ("missing-kind", V2.replace(".{kind}.v1.tar", ".v1.tar")),
        ("not-toml", "description = \n".to_owned()),
    ];
    for (name, text) in cases {
        let specs = spec_dir("broken", &text);
        let stderr = fails(store.path(), &["--spec-dir", s(specs.path()), "formats"]);
        insta::assert_snapshot!(
            format!("spec_error_{name}"),
            stderr.replace(s(specs.path()), "[SPECS]")
        );
    }
    // A user format may not silently replace a built-in one.
    let specs = spec_dir("v2", V2);
    let stderr = fails(store.path(), &["--spec-dir", s(specs.path()), "formats"]);
    assert!(
        stderr.contains("format `v2` is already defined by built-in"),
        "{stderr}"
    );
}
