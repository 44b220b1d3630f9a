//! Plugin libraries loaded at run time: the example `acme` plugin (`plugins/mkbuild-plugin-acme`,
//! spec `examples/acme`) packs with its policies, and broken libraries, panicking plugins and bad
//! settings are refused with errors that name the file, never with an abort.
//!
//! The libraries are built here with `cargo build -p <plugin>` into the target folder of the
//! mkbuild binary under test, then copied to a temporary folder (builds with other features
//! overwrite the file in the target folder).

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::common::{blob_path, fails, manifest, mkbuild, ok};

/// One cargo build (and copy of its output) at a time.
static BUILD: Mutex<()> = Mutex::new(());

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The folder of the mkbuild binary under test (`target/debug`), where cargo puts libraries.
fn profile_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_mkbuild"))
        .parent()
        .expect("the binary is in a folder")
        .to_path_buf()
}

fn library_file(package: &str) -> String {
    format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        package.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    )
}

/// Builds `package` with `features` and copies its library into `into`; returns the copy.
fn build_plugin(package: &str, features: &[&str], into: &Path) -> PathBuf {
    let _one_at_a_time = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let profile = profile_dir();
    let target = profile.parent().expect("target folder");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(repo_root())
        .args(["build", "--quiet", "-p", package, "--target-dir"])
        .arg(target);
    if profile.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    let status = cmd.status().expect("run cargo build");
    assert!(
        status.success(),
        "cargo build -p {package} {features:?} failed"
    );
    let file = library_file(package);
    let copy = into.join(&file);
    std::fs::copy(profile.join(&file), &copy).expect("copy the plugin library");
    copy
}

/// A spec folder holding format `name` with `text`, where `LIBRARY` stands for `library`.
fn spec_dir(name: &str, text: &str, library: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("spec dir");
    std::fs::create_dir(dir.path().join(name)).expect("mkdir");
    let text = text.replace("LIBRARY", &library.display().to_string());
    std::fs::write(dir.path().join(name).join("format.toml"), text).expect("write spec");
    dir
}

fn write(root: &Path, path: &str, bytes: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
    std::fs::write(&full, bytes).expect("write");
    std::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A context with files the acme filter must leave out and modes it must normalise.
fn acme_context() -> tempfile::TempDir {
    let ctx = tempfile::tempdir().expect("context");
    let root = ctx.path();
    write(root, "model.bin", "weights", 0o600);
    write(root, "data/train.csv", "a,b\n", 0o640);
    write(root, "data/prepare.sh", "#!/bin/sh\n", 0o750);
    write(root, "data/scratch.tmp", "scratch", 0o644);
    write(root, "src/app.py", "print(1)\n", 0o664);
    write(root, "src/notes.tmp", "notes", 0o644);
    write(root, "src/__pycache__/app.cpython-312.pyc", "pyc", 0o644);
    std::fs::write(
        root.join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: acme-demo\nmodel:\n  name: demo\n  path: model.bin\ndatasets:\n  - name: train\n    path: data\ncode:\n  - path: src\n",
    )
    .expect("Kitfile");
    ctx
}

/// (name, type, mode, uid, gid) of every entry of an uncompressed tar blob.
fn tar_headers(bytes: &[u8]) -> Vec<(String, char, u32, u64, u64)> {
    let mut archive = tar::Archive::new(bytes);
    let mut out = Vec::new();
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        let h = entry.header().clone();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("entry data");
        out.push((
            entry.path().expect("path").display().to_string(),
            char::from(h.entry_type().as_byte()),
            h.mode().expect("mode"),
            h.uid().expect("uid"),
            h.gid().expect("gid"),
        ));
    }
    out
}

#[test]
fn the_acme_plugin_packs_with_its_policies() {
    let libs = tempfile::tempdir().expect("libs");
    let library = build_plugin("mkbuild-plugin-acme", &[], libs.path());
    let example = std::fs::read_to_string(repo_root().join("examples/acme/format.toml"))
        .expect("the example spec");
    let text = example.replace("library = \"mkbuild_plugin_acme\"", "library = \"LIBRARY\"");
    assert_ne!(
        text, example,
        "the example spec names its library as expected"
    );
    let specs = spec_dir("acme", &text, &library);
    let store = tempfile::tempdir().expect("store");
    let ctx = acme_context();

    let digest = ok(
        store.path(),
        &[
            "--spec-dir",
            s(specs.path()),
            "pack",
            s(ctx.path()),
            "--format",
            "acme",
            "-t",
            "acme/demo:1",
        ],
    );
    let m = manifest(store.path(), "acme/demo:1");
    assert_eq!(m["annotations"]["ml.mkbuild.format"], "acme");
    let layers = m["layers"].as_array().expect("layers");
    // model, dataset, code, and the Kitfile layer inherited from v2.
    assert_eq!(layers.len(), 4, "{m}");
    assert_eq!(
        layers[3]["mediaType"],
        "application/vnd.kitops.modelkit.kitfile.v1+yaml"
    );

    let mut entries = BTreeMap::new();
    for layer in &layers[..3] {
        let digest = layer["digest"].as_str().expect("digest");
        let blob = std::fs::read(blob_path(store.path(), digest)).expect("layer blob");
        entries.insert(
            layer["mediaType"].as_str().expect("media type").to_owned(),
            tar_headers(&blob),
        );
    }
    let kind = |k: &str| entries[&format!("application/vnd.kitops.modelkit.{k}.v1.tar")].clone();
    let e = |name: &str, t: char, mode: u32| (name.to_owned(), t, mode, 2000, 2000);
    assert_eq!(kind("model"), vec![e("models/model.bin", '0', 0o644)]);
    assert_eq!(
        kind("dataset"),
        vec![
            e("models/data", '5', 0o755),
            e("models/data/prepare.sh", '0', 0o755),
            e("models/data/train.csv", '0', 0o644),
        ]
    );
    assert_eq!(
        kind("code"),
        vec![
            e("models/src", '5', 0o755),
            e("models/src/app.py", '0', 0o644)
        ]
    );

    let config_digest = m["config"]["digest"].as_str().expect("config digest");
    let config_bytes = std::fs::read(blob_path(store.path(), config_digest)).expect("config");
    let config_text = String::from_utf8(config_bytes.clone()).expect("UTF-8 config");
    assert!(
        config_text.starts_with(r#"{"manifestVersion":"1.0.0","package":{"name":"acme-demo"}"#),
        "{config_text}"
    );
    assert!(
        config_text.ends_with(
            r#","provenance":{"builder":"mkbuild-plugin-acme 0.1.0","layers":3,"organisation":"ACME Corp"}}"#
        ),
        "{config_text}"
    );
    let config: serde_json::Value = serde_json::from_slice(&config_bytes).expect("JSON");
    assert_eq!(config["model"]["digest"], layers[0]["digest"], "{config}");

    // The example spec as committed names its library without a folder: it is found beside the
    // mkbuild binary, where cargo builds both, whatever the profile.
    {
        let again = ok(
            store.path(),
            &[
                "--spec-dir",
                s(&repo_root().join("examples/acme")),
                "pack",
                s(ctx.path()),
                "--format",
                "acme",
            ],
        );
        assert_eq!(again, digest, "same spec, same library, same ModelKit");
    }
}

const FAULTY: &str = r#"
extends = "v2"
description = "faulty"
[plugin]
library = "LIBRARY"
[codec]
plugin = "faulty"
"#;

/// Runs `formats` with a spec folder and expects failure; returns stderr.
fn formats_fails(specs: &Path) -> String {
    let store = tempfile::tempdir().expect("store");
    fails(store.path(), &["--spec-dir", s(specs), "formats"])
}

#[test]
fn a_library_of_another_abi_major_is_refused() {
    let libs = tempfile::tempdir().expect("libs");
    let library = build_plugin("mkbuild-plugin-faulty", &["wrong-abi"], libs.path());
    let specs = spec_dir("faulty", FAULTY, &library);
    let err = formats_fails(specs.path());
    assert!(err.contains("faulty/format.toml"), "{err}");
    assert!(
        err.contains(&format!(
            "key `plugin.library`: plugin library `{}` is built for plugin ABI 2.0, this mkbuild loads ABI 1.x",
            library.display()
        )),
        "{err}"
    );
}

#[test]
fn a_library_without_a_declaration_is_refused() {
    let libs = tempfile::tempdir().expect("libs");
    let library = build_plugin("mkbuild-plugin-faulty", &["no-declaration"], libs.path());
    let specs = spec_dir("faulty", FAULTY, &library);
    let err = formats_fails(specs.path());
    assert!(
        err.contains(&format!(
            "plugin library `{}` has no `mkbuild_plugin_declaration` symbol",
            library.display()
        )),
        "{err}"
    );
}

#[test]
fn a_library_for_another_platform_is_refused_before_loading() {
    let libs = tempfile::tempdir().expect("libs");
    let library = libs.path().join(library_file("mkbuild-plugin-other"));
    // A Mach-O (or, on macOS, an ELF) header: a library built for another system.
    let header: &[u8] = if cfg!(target_vendor = "apple") {
        b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3e\0"
    } else {
        b"\xcf\xfa\xed\xfe\x07\0\0\x01\x03\0\0\0\x06\0\0\0\0\0\0\0"
    };
    std::fs::write(&library, header).expect("write");
    let specs = spec_dir("faulty", FAULTY, &library);
    let err = formats_fails(specs.path());
    assert!(
        err.contains(&format!(
            "plugin library `{}` is built for another platform: it is a",
            library.display()
        )),
        "{err}"
    );
    let missing = libs.path().join("libnothing.so");
    let specs = spec_dir("faulty", FAULTY, &missing);
    let err = formats_fails(specs.path());
    assert!(
        err.contains(&format!("plugin library `{}`: ", missing.display())),
        "{err}"
    );
}

#[test]
fn a_panicking_plugin_is_an_error_not_an_abort() {
    let libs = tempfile::tempdir().expect("libs");
    let library = build_plugin("mkbuild-plugin-faulty", &[], libs.path());

    // While it is built, from the spec's settings.
    let specs = spec_dir(
        "faulty",
        &format!("{FAULTY}panic-on-create = true\n"),
        &library,
    );
    let err = formats_fails(specs.path());
    assert!(
        err.contains("panicked: faulty codec refuses to be built"),
        "{err}"
    );

    // While it packs: the pack fails before the config and the manifest are written.
    let specs = spec_dir(
        "faulty",
        &format!("{FAULTY}panic-on-entry = true\n"),
        &library,
    );
    let store = tempfile::tempdir().expect("store");
    let ctx = acme_context();
    let out = mkbuild(
        store.path(),
        &[
            "--spec-dir",
            s(specs.path()),
            "pack",
            s(ctx.path()),
            "--format",
            "faulty",
            "-t",
            "x/y:1",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("codec plugin `faulty`: layer `"), "{err}");
    assert!(
        err.contains(": plugin `faulty` (`"),
        "the library is named: {err}"
    );
    assert!(
        err.contains("panicked: faulty codec cannot name `"),
        "{err}"
    );
    assert!(mkbuild(store.path(), &["inspect", "x/y:1"]).status.code() != Some(0));
}

/// The format `faulty` with `settings` in its `[codec]` table.
fn faulty_codec_spec(library: &Path, settings: &str) -> tempfile::TempDir {
    spec_dir("faulty", &format!("{FAULTY}{settings}\n"), library)
}

/// The format `faulty` of `v2` with the faulty normalizer, told to fail.
fn failing_normalizer_spec(library: &Path) -> tempfile::TempDir {
    spec_dir(
        "faulty",
        "extends = \"v2\"\n[plugin]\nlibrary = \"LIBRARY\"\n[normalizer]\nplugin = \"faulty\"\nfail = true\n",
        library,
    )
}

/// Every file under `dir`, relative, sorted, with its bytes.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("dir entry").path();
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .display()
                .to_string();
            if path.is_dir() {
                out.push((format!("{rel}/"), Vec::new()));
                walk(root, &path, out);
            } else {
                out.push((rel, std::fs::read(&path).expect("read file")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Asserts that `out` failed with exit code 1 and returns its stderr.
fn failed(out: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    err
}

/// Asserts that no ModelKit is tagged `reference` in `store`.
fn not_tagged(store: &Path, reference: &str) {
    let listed = ok(store, &["list"]);
    assert!(
        !listed.contains(reference),
        "{reference} was tagged: {listed}"
    );
    assert_ne!(
        mkbuild(store, &["inspect", reference]).status.code(),
        Some(0)
    );
}

/// A store, the acme context, and a spec folder whose format `faulty` runs the faulty plugin as
/// `spec` sets it up.
struct Faulty {
    _libs: tempfile::TempDir,
    specs: tempfile::TempDir,
    store: tempfile::TempDir,
    ctx: tempfile::TempDir,
}

impl Faulty {
    fn new(spec: impl FnOnce(&Path) -> tempfile::TempDir) -> Faulty {
        let libs = tempfile::tempdir().expect("libs");
        let library = build_plugin("mkbuild-plugin-faulty", &[], libs.path());
        Faulty {
            specs: spec(&library),
            _libs: libs,
            store: tempfile::tempdir().expect("store"),
            ctx: acme_context(),
        }
    }

    fn store(&self) -> &Path {
        self.store.path()
    }

    /// `args` after `--spec-dir <the spec folder>`.
    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["--spec-dir", s(self.specs.path())];
        all.extend_from_slice(args);
        all
    }

    /// The arguments of `pack <the context> --format <format> -t <tag>`.
    fn pack<'a>(&'a self, format: &'a str, tag: &'a str) -> Vec<&'a str> {
        self.args(&["pack", s(self.ctx.path()), "--format", format, "-t", tag])
    }

    /// The arguments of `convert <reference> --to <format> -t <tag>`.
    fn convert<'a>(&'a self, reference: &'a str, format: &'a str, tag: &'a str) -> Vec<&'a str> {
        self.args(&["convert", reference, "--to", format, "-t", tag])
    }
}

/// Asserts that mkbuild failed with the `role` plugin's error in its own words: the layer and
/// `words` are named, and, with `names_library`, the library too. Returns stderr.
fn fails_in_its_own_words(
    out: &std::process::Output,
    role: &str,
    words: &str,
    names_library: bool,
) -> String {
    let err = failed(out);
    assert!(
        err.contains(&format!("{role} plugin `faulty`: layer `"))
            && (!names_library || err.contains("plugin `faulty` (`"))
            && err.contains(&format!("): {words}")),
        "{err}"
    );
    err
}

/// Packing with the format `faulty` fails in the `role` plugin's `words` and tags nothing; so does
/// converting a `v2` ModelKit to it.
fn pack_and_convert_to_faulty_fail(faulty: &Faulty, role: &str, words: &str) {
    let store = faulty.store();
    fails_in_its_own_words(
        &mkbuild(store, &faulty.pack("faulty", "x/y:1")),
        role,
        words,
        true,
    );
    not_tagged(store, "x/y:1");

    ok(store, &faulty.pack("v2", "a/b:1"));
    fails_in_its_own_words(
        &mkbuild(store, &faulty.convert("a/b:1", "faulty", "c/d:1")),
        role,
        words,
        false,
    );
    not_tagged(store, "c/d:1");
}

#[test]
fn a_codec_that_fails_to_place_an_entry_stops_unpack_and_convert_in_its_own_words() {
    // Naming works, so the pack succeeds; only placing the entries back fails.
    let faulty = Faulty::new(|library| faulty_codec_spec(library, "fail-on-restore = true"));
    let store = faulty.store();
    ok(store, &faulty.pack("faulty", "a/b:1"));

    let target = tempfile::tempdir().expect("target");
    write(target.path(), "keep.txt", "mine", 0o644);
    let before = tree(target.path());
    let err = failed(&mkbuild(
        store,
        &faulty.args(&["unpack", "a/b:1", "-d", s(target.path())]),
    ));
    assert!(
        err.contains("codec plugin `faulty`: plugin `faulty` (`")
            && err.contains("): faulty codec fails to place `"),
        "{err}"
    );
    assert!(err.contains("entry `"), "the entry is named: {err}");
    assert!(!err.contains("does not fit the layout"), "{err}");
    assert_eq!(tree(target.path()), before, "the target is unchanged");

    let err = fails_in_its_own_words(
        &mkbuild(store, &faulty.convert("a/b:1", "v2", "c/d:1")),
        "codec",
        "faulty codec fails to place `",
        true,
    );
    assert!(!err.contains("has no safe place"), "{err}");
    not_tagged(store, "c/d:1");
}

#[test]
fn a_codec_that_fails_to_name_a_member_stops_pack_and_convert_in_its_own_words() {
    let faulty = Faulty::new(|library| faulty_codec_spec(library, "fail-on-entry = true"));
    pack_and_convert_to_faulty_fail(&faulty, "codec", "faulty codec fails to name `");
}

#[test]
fn a_normalizer_that_fails_stops_pack_and_convert_in_its_own_words() {
    let faulty = Faulty::new(failing_normalizer_spec);
    pack_and_convert_to_faulty_fail(&faulty, "normalizer", "faulty normalizer fails on `");
}

#[test]
fn bad_settings_for_a_loaded_plugin_name_the_table_and_key() {
    let libs = tempfile::tempdir().expect("libs");
    let library = build_plugin("mkbuild-plugin-acme", &[], libs.path());
    let spec = |extra: &str| {
        format!(
            "extends = \"v2\"\n[plugin]\nlibrary = \"LIBRARY\"\n[normalizer]\nplugin = \"acme\"\n{extra}\n"
        )
    };
    let specs = spec_dir("acme", &spec("uid = \"x\""), &library);
    let err = formats_fails(specs.path());
    assert!(err.contains("acme/format.toml"), "{err}");
    assert!(
        err.contains("table `[normalizer]`: setting `uid`: expected an integer from 0 to 2097151, found `\"x\"`"),
        "{err}"
    );
    let specs = spec_dir("acme", &spec("uidd = 1"), &library);
    let err = formats_fails(specs.path());
    assert!(
        err.contains("table `[normalizer]`: unknown setting `uidd` (expected one of `uid`, `gid`)"),
        "{err}"
    );
    // The plugin's name must be one the library declares.
    let specs = spec_dir(
        "acme",
        "extends = \"v2\"\n[plugin]\nlibrary = \"LIBRARY\"\n[filter]\nplugin = \"acme-typo\"\n",
        &library,
    );
    let err = formats_fails(specs.path());
    assert!(
        err.contains("key `filter.plugin`: unknown filter plugin `acme-typo` (known: `acme`)"),
        "{err}"
    );
}

/// The acme library copied into `folder` as `file_stem` (the platform's naming), so that only a
/// search of `folder` finds it; returns the copy.
fn acme_library_as(file_stem: &str, folder: &Path) -> PathBuf {
    let built = tempfile::tempdir().expect("built");
    let library = build_plugin("mkbuild-plugin-acme", &[], built.path());
    let copy = folder.join(library_file(file_stem));
    std::fs::copy(&library, &copy).expect("copy the library");
    copy
}

const ACME_BY_NAME: &str =
    "extends = \"v2\"\n[plugin]\nlibrary = \"LIBRARY\"\n[normalizer]\nplugin = \"acme\"\n";

#[test]
fn a_library_named_without_a_folder_is_found_along_mkbuild_plugin_path_then_beside_the_spec() {
    let libs = tempfile::tempdir().expect("libs");
    acme_library_as("acme_on_the_path", libs.path());
    let specs = spec_dir("named", ACME_BY_NAME, Path::new("acme_on_the_path"));
    let store = tempfile::tempdir().expect("store");
    let formats = |plugin_path: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mkbuild"));
        cmd.args([
            "--store",
            s(store.path()),
            "--spec-dir",
            s(specs.path()),
            "formats",
        ])
        .env_remove("MKBUILD_PLUGIN_PATH")
        .env_remove("MKBUILD_SPEC_DIR");
        if let Some(value) = plugin_path {
            cmd.env("MKBUILD_PLUGIN_PATH", value);
        }
        cmd.output().expect("run mkbuild")
    };
    let found = formats(Some(&format!(
        "/nonexistent/mkbuild-plugins::{}",
        s(libs.path())
    )));
    assert!(
        found.status.success(),
        "{}",
        String::from_utf8_lossy(&found.stderr)
    );
    assert!(String::from_utf8_lossy(&found.stdout).contains("named"));

    // Without the variable, the error lists every folder searched.
    let missing = formats(None);
    assert_eq!(missing.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&missing.stderr)
        .replace(s(specs.path()), "[SPECS]")
        .replace(s(&profile_dir()), "[BINARY FOLDER]")
        .replace(&library_file("acme_on_the_path"), "[LIBRARY FILE]");
    insta::assert_snapshot!(stderr);

    // The spec's own folder is searched too.
    std::fs::copy(
        libs.path().join(library_file("acme_on_the_path")),
        specs
            .path()
            .join("named")
            .join(library_file("acme_on_the_path")),
    )
    .expect("copy beside the spec");
    let beside = formats(None);
    assert!(
        beside.status.success(),
        "{}",
        String::from_utf8_lossy(&beside.stderr)
    );
}

#[test]
fn a_library_named_without_a_folder_is_found_beside_the_mkbuild_binary() {
    let install = tempfile::tempdir().expect("install");
    let binary = install.path().join("mkbuild");
    std::fs::copy(env!("CARGO_BIN_EXE_mkbuild"), &binary).expect("copy mkbuild");
    acme_library_as("acme_installed", install.path());
    let specs = spec_dir("installed", ACME_BY_NAME, Path::new("acme_installed"));
    let store = tempfile::tempdir().expect("store");
    let ctx = acme_context();
    let run = |binary: &Path| {
        Command::new(binary)
            .args([
                "--store",
                s(store.path()),
                "--spec-dir",
                s(specs.path()),
                "pack",
                s(ctx.path()),
                "--format",
                "installed",
            ])
            .env_remove("MKBUILD_PLUGIN_PATH")
            .env_remove("MKBUILD_SPEC_DIR")
            .env_remove("SOURCE_DATE_EPOCH")
            .output()
            .expect("run mkbuild")
    };
    let packed = run(&binary);
    assert!(
        packed.status.success(),
        "{}",
        String::from_utf8_lossy(&packed.stderr)
    );
    // The binary under test, whose folder lacks that library, does not find it.
    let elsewhere = run(Path::new(env!("CARGO_BIN_EXE_mkbuild")));
    assert_eq!(elsewhere.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&elsewhere.stderr).contains("acme_installed"),
        "{}",
        String::from_utf8_lossy(&elsewhere.stderr)
    );
}

#[test]
fn an_acme_modelkit_unpacks_without_its_spec_folder_as_kit_would() {
    let libs = tempfile::tempdir().expect("libs");
    let library = build_plugin("mkbuild-plugin-acme", &[], libs.path());
    let example = std::fs::read_to_string(repo_root().join("examples/acme/format.toml"))
        .expect("the example spec");
    let specs = spec_dir(
        "acme",
        &example.replace("library = \"mkbuild_plugin_acme\"", "library = \"LIBRARY\""),
        &library,
    );
    let store = tempfile::tempdir().expect("store");
    let ctx = acme_context();
    let digest = ok(
        store.path(),
        &[
            "--spec-dir",
            s(specs.path()),
            "pack",
            s(ctx.path()),
            "--format",
            "acme",
            "-t",
            "acme/demo:1",
        ],
    );
    let out = tempfile::tempdir().expect("out");
    let unpacked = mkbuild(
        store.path(),
        &["unpack", "acme/demo:1", "-d", s(out.path())],
    );
    let stderr = String::from_utf8_lossy(&unpacked.stderr)
        .replace(digest.trim(), "[DIGEST]")
        .replace(s(out.path()), "[OUT]");
    assert!(unpacked.status.success(), "{stderr}");
    insta::assert_snapshot!(stderr);
    // Read as v2, entries land where their tar names say, as kit would place them: under the
    // `models/` root the acme codec gave them.
    for file in [
        "models/model.bin",
        "models/data/train.csv",
        "models/src/app.py",
    ] {
        assert!(out.path().join(file).is_file(), "{file}");
    }
}
