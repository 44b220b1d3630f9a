//! A ModelKit travels without its format's spec folder: a recorded format not known here gives way,
//! with a warning naming both, to the known format its layers and config match.

use std::path::Path;

use crate::common::{context_from_script, fixtures, manifest, mkbuild, ok};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// Every file under `root`: slash path -> content.
fn files(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                out.insert(
                    rel.to_string_lossy().into_owned(),
                    std::fs::read(&path).expect("read"),
                );
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Runs mkbuild and expects success; returns stderr with `digest` and `out` redacted.
fn stderr_of(store: &Path, args: &[&str], redact: &[(&str, &str)]) -> String {
    let out = mkbuild(store, args);
    let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    for (from, to) in redact {
        stderr = stderr.replace(from, to);
    }
    stderr
}

#[test]
fn a_modelkit_of_a_pure_spec_unpacks_and_converts_without_its_spec_folder() {
    let specs = tempfile::tempdir().expect("specs");
    std::fs::create_dir(specs.path().join("house")).expect("mkdir");
    std::fs::write(
        specs.path().join("house/format.toml"),
        "extends = \"v2\"\ndescription = \"our v2\"\n",
    )
    .expect("spec");
    let context = context_from_script(&fixtures().join("golden/basic/mk.sh"));
    let store = tempfile::tempdir().expect("store");
    let digest = ok(
        store.path(),
        &[
            "--spec-dir",
            s(specs.path()),
            "pack",
            s(context.path()),
            "--format",
            "house",
            "-t",
            "house:1",
        ],
    );
    let digest = digest.trim();
    assert_eq!(
        manifest(store.path(), "house:1")["annotations"]["ml.mkbuild.format"],
        "house"
    );

    let with_spec = tempfile::tempdir().expect("with spec");
    ok(
        store.path(),
        &[
            "--spec-dir",
            s(specs.path()),
            "unpack",
            "house:1",
            "-d",
            s(with_spec.path()),
        ],
    );
    let without = tempfile::tempdir().expect("without spec");
    let said = stderr_of(
        store.path(),
        &["unpack", "house:1", "-d", s(without.path())],
        &[(digest, "[DIGEST]"), (s(without.path()), "[OUT]")],
    );
    insta::assert_snapshot!("unpack_without_spec", said);
    assert_eq!(files(without.path()), files(with_spec.path()));

    let converted = tempfile::tempdir().expect("converted");
    let convert = mkbuild(
        store.path(),
        &["convert", "house:1", "--to", "v1", "-t", "house:v1"],
    );
    let said = String::from_utf8_lossy(&convert.stderr).replace(digest, "[DIGEST]");
    assert!(convert.status.success(), "{said}");
    insta::assert_snapshot!("convert_without_spec", said);
    ok(
        store.path(),
        &["unpack", "house:v1", "-d", s(converted.path())],
    );
    // v1 keeps the Kitfile as its config's JSON (the warning above says so): the layers' files
    // are what must be the same.
    let without_kitfile = |root: &Path| {
        let mut all = files(root);
        all.remove("Kitfile");
        all
    };
    assert_eq!(
        without_kitfile(converted.path()),
        without_kitfile(with_spec.path())
    );
}
