//! Files mkbuild may not read or write: `pack` of an unreadable file, folder or Kitfile, and
//! `unpack` into a folder it may not write, fail with an error naming the path, and the store and
//! the target are as they were.
//!
//! Tests run as root on CI, and root reads a file of mode 000. So when the test runs as root,
//! mkbuild runs under `setpriv` without the two capabilities that let root ignore permissions
//! (`CAP_DAC_OVERRIDE`, `CAP_DAC_READ_SEARCH`): an ordinary user's view of the same files.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Runs mkbuild as a user that permissions apply to; `None` (the test skipped, see
/// `mkbuild_test_support::skip`) when that is not possible here.
fn mkbuild_unprivileged(store: &Path, args: &[&str]) -> Option<Output> {
    let root = is_root();
    if root && !mkbuild_test_support::require_tool("setpriv") {
        return None;
    }
    let mut cmd = if root {
        let mut cmd = Command::new("setpriv");
        cmd.args([
            "--bounding-set=-dac_override,-dac_read_search",
            "--inh-caps=-dac_override,-dac_read_search",
            "--",
        ])
        .arg(env!("CARGO_BIN_EXE_mkbuild"));
        cmd
    } else {
        Command::new(env!("CARGO_BIN_EXE_mkbuild"))
    };
    cmd.arg("--store")
        .arg(store)
        .args(args)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("MKBUILD_STORE")
        .env_remove("MKBUILD_FORMAT")
        .stdin(Stdio::null());
    Some(cmd.output().expect("run mkbuild (under setpriv when root)"))
}

/// Runs mkbuild unprivileged and expects exit code 1; returns stderr.
fn fails_unprivileged(store: &Path, args: &[&str]) -> Option<String> {
    let out = mkbuild_unprivileged(store, args)?;
    assert_eq!(
        out.status.code(),
        Some(1),
        "mkbuild {args:?} should fail; stdout {} stderr {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stderr).into_owned())
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Every file under `root` with the SHA-256 of its bytes, sorted: what "unchanged" is compared with.
fn snapshot(root: &Path) -> Vec<(PathBuf, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            let relative = path.strip_prefix(root).expect("prefix").to_owned();
            if path.is_dir() {
                out.push((relative, "folder".to_owned()));
                walk(root, &path, out);
            } else {
                out.push((
                    relative,
                    crate::common::sha256_hex(&std::fs::read(&path).expect("read")),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// A context with a model folder of two files, a dataset folder and a Kitfile naming both.
fn context() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("context");
    let root = dir.path();
    std::fs::create_dir_all(root.join("model")).expect("mkdir");
    std::fs::create_dir_all(root.join("data/raw")).expect("mkdir");
    std::fs::write(root.join("model/a.bin"), vec![7u8; 300_000]).expect("write");
    std::fs::write(root.join("model/b.bin"), vec![9u8; 300_000]).expect("write");
    std::fs::write(root.join("data/raw/train.csv"), "a,b\n1,2\n").expect("write");
    std::fs::write(
        root.join("Kitfile"),
        "manifestVersion: 1.0.0\nmodel:\n  path: model\ndatasets:\n  - path: data\n",
    )
    .expect("Kitfile");
    dir
}

/// A store holding one ModelKit, packed from another context, so "unchanged" means something.
fn store_with_one_modelkit() -> tempfile::TempDir {
    let store = tempfile::tempdir().expect("store");
    let other = context();
    std::fs::write(other.path().join("model/a.bin"), "other").expect("write");
    crate::common::ok(store.path(), &["pack", s(other.path()), "-t", "kept:1"]);
    store
}

/// Packs `context` unprivileged, expects failure naming `named`, and checks the store is unchanged.
fn pack_fails_naming(context: &Path, named: &Path) {
    let store = store_with_one_modelkit();
    let before = snapshot(store.path());
    for format in ["v1", "v2"] {
        let Some(stderr) = fails_unprivileged(
            store.path(),
            &["pack", s(context), "-t", "unreadable:1", "--format", format],
        ) else {
            return;
        };
        assert!(
            stderr.contains(&format!("`{}`", named.display())),
            "{format}: the error names `{}`: {stderr}",
            named.display()
        );
        assert!(
            stderr.contains("Permission denied"),
            "{format}: says why: {stderr}"
        );
        assert_eq!(
            snapshot(store.path()),
            before,
            "{format}: the store is unchanged"
        );
    }
    crate::common::ok(store.path(), &["verify"]);
}

#[test]
fn an_unreadable_file_fails_pack_naming_it() {
    let context = context();
    let file = context.path().join("model/b.bin");
    set_mode(&file, 0o000);
    pack_fails_naming(context.path(), &file);
}

#[test]
fn an_unreadable_folder_fails_pack_naming_it() {
    let context = context();
    let folder = context.path().join("data/raw");
    set_mode(&folder, 0o000);
    pack_fails_naming(context.path(), &folder);
    set_mode(&folder, 0o755);
}

#[test]
fn an_unreadable_kitfile_fails_pack_naming_it() {
    let context = context();
    let kitfile = context.path().join("Kitfile");
    set_mode(&kitfile, 0o000);
    pack_fails_naming(context.path(), &kitfile);
}

#[test]
fn unpack_into_a_read_only_folder_fails_naming_it_and_writes_nothing() {
    let store = store_with_one_modelkit();
    let target = tempfile::tempdir().expect("target");
    let out = target.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    std::fs::write(out.join("mine.txt"), "keep me").expect("write");
    set_mode(&out, 0o555);
    let before = snapshot(target.path());
    let Some(stderr) = fails_unprivileged(store.path(), &["unpack", "kept:1", "-d", s(&out)])
    else {
        return;
    };
    set_mode(&out, 0o755);
    assert!(
        stderr.contains(&format!("`{}", out.display())),
        "the error names the target: {stderr}"
    );
    assert!(stderr.contains("Permission denied"), "says why: {stderr}");
    assert_eq!(snapshot(target.path()), before, "nothing written");
}
