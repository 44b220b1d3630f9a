//! Helpers shared by the CLI tests: run the real binary, build contexts from fixture scripts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository's `tests/fixtures` folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// Runs `mkbuild` with `args` against the store `store`; stdin is empty.
pub fn mkbuild(store: &Path, args: &[&str]) -> Output {
    mkbuild_in(store, args, None)
}

pub fn mkbuild_in(store: &Path, args: &[&str], cwd: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mkbuild"));
    cmd.arg("--store").arg(store).args(args);
    cmd.env_remove("SOURCE_DATE_EPOCH")
        .env_remove("MKBUILD_STORE")
        .env_remove("MKBUILD_SPEC_DIR")
        .env_remove("MKBUILD_FORMAT")
        .stdin(Stdio::null());
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.output().expect("run mkbuild")
}

/// Runs `mkbuild` and expects success; returns stdout.
pub fn ok(store: &Path, args: &[&str]) -> String {
    let out = mkbuild(store, args);
    assert!(
        out.status.success(),
        "mkbuild {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Runs `mkbuild`, expects failure with exit code 1; returns stderr.
pub fn fails(store: &Path, args: &[&str]) -> String {
    let out = mkbuild(store, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "mkbuild {args:?} should fail with 1; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).expect("stderr is UTF-8")
}

/// Builds a context by running a fixture's `mk.sh` in a fresh folder.
pub fn context_from_script(script: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new("sh")
        .arg(script)
        .current_dir(dir.path())
        .status()
        .expect("run sh");
    assert!(status.success(), "{} failed", script.display());
    dir
}

/// The manifest of `reference` as JSON.
pub fn manifest(store: &Path, reference: &str) -> serde_json::Value {
    serde_json::from_str(&ok(store, &["inspect", reference])).expect("manifest is JSON")
}

/// Packs a one-file `v1` ModelKit (`w.bin` holding `w`) into `store` as `evil:1`, for tests that
/// then damage it by hand; returns its manifest.
pub fn pack_evil_modelkit(store: &Path) -> serde_json::Value {
    let context = tempfile::tempdir().expect("context");
    std::fs::write(context.path().join("w.bin"), "w").expect("write");
    std::fs::write(
        context.path().join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: evil\nmodel:\n  path: w.bin\n",
    )
    .expect("Kitfile");
    let dir = context.path().to_str().expect("utf-8 temp path");
    ok(store, &["pack", dir, "--format", "v1", "-t", "evil:1"]);
    manifest(store, "evil:1")
}

/// The path of a blob in the store.
pub fn blob_path(store: &Path, digest: &str) -> PathBuf {
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    store.join("blobs/sha256").join(hex)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The entry names of layer `index` of the ModelKit `reference`, in tar order.
pub fn layer_entry_names(store: &Path, reference: &str, index: usize) -> Vec<String> {
    let m = manifest(store, reference);
    let digest = m["layers"][index]["digest"].as_str().expect("layer digest");
    let blob = std::fs::File::open(blob_path(store, digest)).expect("layer blob");
    tar::Archive::new(blob)
        .entries()
        .expect("entries")
        .map(|e| {
            e.expect("entry")
                .path()
                .expect("path")
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}
