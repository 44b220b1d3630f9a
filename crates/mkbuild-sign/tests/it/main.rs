//! `mkbuild-sign` against the reference implementation (PyPI `model-signing`, installed by
//! `.ci/run`): bundles it writes verify here, bundles written here verify there, and every
//! refusal names what is wrong.

use std::path::{Path, PathBuf};
use std::process::Command;

use mkbuild_sign::{hash_folder, KeySigner, PublicKey, SignError, DEFAULT_IGNORED};
use mkbuild_test_support::{require_tool, skip};

/// Whether `openssl` and the reference (`python3 -m model_signing`) can run here; skips (or fails
/// under `MKBUILD_REQUIRE_TOOLS`) otherwise.
fn reference_available() -> bool {
    if !require_tool("openssl") || !require_tool("python3") {
        return false;
    }
    let imported = Command::new("python3")
        .args(["-c", "import model_signing, OpenSSL"])
        .output()
        .is_ok_and(|o| o.status.success());
    imported
        || skip("the Python package `model_signing` is not installed (`pip install model-signing==1.1.1 pyopenssl`; .ci/run does)")
}

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output().expect("run a tool")
}

/// A new private key (PKCS#8 PEM, or SEC1 when `sec1`) of `curve` and its public key; paths.
fn keypair(dir: &Path, stem: &str, curve: &str, sec1: bool) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{stem}.pem"));
    let public = dir.join(format!("{stem}.pub.pem"));
    let script = if sec1 {
        format!("openssl ecparam -genkey -name {curve} -out \"$0\"")
    } else {
        format!("openssl ecparam -genkey -name {curve} -noout | openssl pkcs8 -topk8 -nocrypt -out \"$0\"")
    };
    let out = run(Command::new("sh").args(["-c", &script]).arg(&key));
    assert!(out.status.success(), "{out:?}");
    let out = run(Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&key)
        .arg("-out")
        .arg(&public));
    assert!(out.status.success(), "{out:?}");
    (key, public)
}

/// A small model folder: nested files, a name that sorts differently by components than by
/// bytes (`a/b`, `a.txt`), an empty file, a top-level `.gitattributes` (left out by the reference)
/// and a nested `.gitignore` (signed).
fn model(dir: &Path) -> PathBuf {
    let root = dir.join("model");
    for (name, bytes) in [
        ("a/b", &b"weights"[..]),
        ("a.txt", b"text"),
        ("empty", b""),
        ("d/e/f.bin", &[0u8, 1, 2, 255][..]),
        (".gitattributes", b"*.bin filter=lfs"),
        ("d/.gitignore", b"*.tmp"),
    ] {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }
    root
}

fn reference_sign(model: &Path, key: &Path, signature: &Path) {
    let out = run(Command::new("python3")
        .args(["-m", "model_signing", "sign", "key", "--private_key"])
        .arg(key)
        .arg("--signature")
        .arg(signature)
        .arg(model));
    assert!(out.status.success(), "model_signing sign: {out:?}");
}

fn reference_verify(model: &Path, public: &Path, signature: &Path) -> (bool, String) {
    let out = run(Command::new("python3")
        .args(["-m", "model_signing", "verify", "key", "--public_key"])
        .arg(public)
        .arg("--signature")
        .arg(signature)
        .arg(model));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ours_sign(model: &Path, key: &Path) -> Vec<u8> {
    let signer = KeySigner::load(key).expect("load key");
    let resources = hash_folder(model, &DEFAULT_IGNORED).expect("hash");
    mkbuild_sign::sign(&signer, "model", resources, &DEFAULT_IGNORED).expect("sign")
}

#[test]
fn a_bundle_of_the_reference_verifies_and_lists_the_files() {
    if !reference_available() {
        return;
    }
    for curve in ["prime256v1", "secp384r1"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = model(dir.path());
        let (key, public) = keypair(dir.path(), "k", curve, false);
        let signature = dir.path().join("model.sig");
        reference_sign(&root, &key, &signature);

        let bytes = std::fs::read(&signature).expect("read");
        let key = PublicKey::load(&public).expect("public key");
        let signed = mkbuild_sign::verify(&signature, &bytes, &key).expect("verifies");
        let mut names: Vec<&str> = signed.resources.iter().map(|r| r.name.as_str()).collect();
        // The reference's order: by components, so `a/b` before `a.txt`.
        assert_eq!(
            names,
            ["a/b", "a.txt", "d/.gitignore", "d/e/f.bin", "empty"],
            "{curve}"
        );
        names.sort_unstable();
        let mut ignored = signed.ignore_paths.clone();
        ignored.sort_unstable();
        assert_eq!(ignored, [".git", ".gitattributes", ".github", ".gitignore"]);
        // The same digests as this crate computes for the folder.
        let ours = hash_folder(&root, &signed.ignore_paths).expect("hash");
        signed.compare(&ours).expect("the folder matches");
        // One changed byte is named.
        std::fs::write(root.join("d/e/f.bin"), [0u8, 1, 2, 254]).expect("write");
        let changed = hash_folder(&root, &signed.ignore_paths).expect("hash");
        let mismatch = signed.compare(&changed).expect_err("changed");
        assert_eq!(mismatch.changed, ["d/e/f.bin"]);
    }
}

#[test]
fn a_bundle_signed_here_verifies_with_the_reference_and_fails_on_a_changed_byte() {
    if !reference_available() {
        return;
    }
    for (curve, sec1) in [
        ("prime256v1", false),
        ("secp384r1", false),
        ("prime256v1", true),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = model(dir.path());
        let (key, public) = keypair(dir.path(), "k", curve, sec1);
        let signature = dir.path().join("model.sig");
        std::fs::write(&signature, ours_sign(&root, &key)).expect("write");
        let (ok, stderr) = reference_verify(&root, &public, &signature);
        assert!(ok, "{curve} sec1={sec1}: {stderr}");

        std::fs::write(root.join("a.txt"), b"texT").expect("write");
        let (ok, stderr) = reference_verify(&root, &public, &signature);
        assert!(!ok);
        assert!(stderr.contains("Hash mismatch for 'a.txt'"), "{stderr}");
    }
}

#[test]
fn the_key_hint_is_the_sha256_of_the_public_key_as_openssl_writes_it() {
    if !reference_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for curve in ["prime256v1", "secp384r1"] {
        let (key, public) = keypair(dir.path(), curve, curve, false);
        let pem = std::fs::read(&public).expect("read");
        let expected = {
            use sha2::Digest as _;
            hex::encode(sha2::Sha256::digest(&pem))
        };
        assert_eq!(PublicKey::load(&public).expect("public").hint(), expected);
        let signer = KeySigner::load(&key).expect("private");
        assert_eq!(signer.public_key().hint(), expected);
    }
}

#[test]
fn refusals_name_what_is_wrong() {
    if !reference_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = model(dir.path());
    let (key, public) = keypair(dir.path(), "k", "prime256v1", false);
    let (_, other_public) = keypair(dir.path(), "other", "prime256v1", false);
    let signature = dir.path().join("model.sig");
    let bytes = ours_sign(&root, &key);
    let public = PublicKey::load(&public).expect("public");

    let other = PublicKey::load(&other_public).expect("public");
    let err = mkbuild_sign::verify(&signature, &bytes, &other).expect_err("wrong key");
    assert!(matches!(err, SignError::WrongKey { .. }), "{err}");

    // The hint removed: the signature itself must fail under the other key.
    let mut json: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    json["verificationMaterial"]["publicKey"]["hint"] = serde_json::Value::Null;
    let unhinted = serde_json::to_vec(&json).expect("json");
    let err = mkbuild_sign::verify(&signature, &unhinted, &other).expect_err("wrong key");
    assert!(matches!(err, SignError::BadSignature { .. }), "{err}");
    mkbuild_sign::verify(&signature, &unhinted, &public).expect("right key, no hint");

    // A payload changed after signing.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = json["dsseEnvelope"]["payload"].as_str().expect("payload");
    let mut payload = b64.decode(payload).expect("base64");
    let at = payload.len() - 10;
    payload[at] ^= 1;
    json["dsseEnvelope"]["payload"] = b64.encode(&payload).into();
    let tampered = serde_json::to_vec(&json).expect("json");
    let err = mkbuild_sign::verify(&signature, &tampered, &public).expect_err("tampered");
    assert!(matches!(err, SignError::BadSignature { .. }), "{err}");

    for garbage in [&b""[..], b"{}", b"[1,2", b"\xff\xfe"] {
        let err = mkbuild_sign::verify(&signature, garbage, &public).expect_err("garbage");
        assert!(matches!(err, SignError::Bundle { .. }), "{err}");
    }

    // A public key given as the private key, and the other way round.
    let err = KeySigner::load(public.path())
        .err()
        .expect("not a private key");
    assert!(err.to_string().contains("it is a public key"), "{err}");
    let err = PublicKey::load(&key).err().expect("not a public key");
    assert!(
        err.to_string()
            .contains("`openssl pkey -in KEY.pem -pubout"),
        "{err}"
    );
}

#[test]
fn links_and_special_files_in_a_folder_are_refused_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("m");
    std::fs::create_dir_all(root.join("sub")).expect("mkdir");
    std::fs::write(root.join("sub/f"), "f").expect("write");
    std::os::unix::fs::symlink("f", root.join("sub/link")).expect("symlink");
    let err = hash_folder(&root, &DEFAULT_IGNORED).expect_err("a link");
    assert!(err.to_string().contains("sub/link"), "{err}");
    assert!(err.to_string().contains("symbolic link"), "{err}");
    // The same link left out by name is no problem.
    let resources = hash_folder(&root, &["sub/link"]).expect("hash");
    assert_eq!(resources.len(), 1);

    std::fs::remove_file(root.join("sub/link")).expect("rm");
    let fifo = root.join("sub/fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from(0o644),
        0,
    )
    .expect("mkfifo");
    let err = hash_folder(&root, &DEFAULT_IGNORED).expect_err("a FIFO");
    assert!(err.to_string().contains("not a regular file"), "{err}");
    // A FIFO given as a key is refused, not waited on.
    let err = PublicKey::load(&fifo).err().expect("a FIFO key");
    assert!(matches!(err, SignError::NotAFile { .. }), "{err}");
}

#[test]
fn key_and_signature_files_are_read_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.pem");
    std::fs::write(&big, vec![b'A'; mkbuild_sign::MAX_KEY_BYTES as usize + 1]).expect("write");
    let err = KeySigner::load(&big).err().expect("too large");
    assert!(matches!(err, SignError::TooLarge { .. }), "{err}");
    let err = PublicKey::load(dir.path()).err().expect("a folder");
    assert!(matches!(err, SignError::NotAFile { .. }), "{err}");
    let err = mkbuild_sign::read_bounded(&big, 10).expect_err("too large");
    assert!(err.to_string().contains("larger than 10 bytes"), "{err}");
}

#[test]
fn ignored_paths_match_whole_components_from_the_top() {
    use mkbuild_sign::is_ignored;
    assert!(is_ignored(".git", &DEFAULT_IGNORED));
    assert!(is_ignored(".git/objects/ab", &DEFAULT_IGNORED));
    assert!(!is_ignored(".gitx", &DEFAULT_IGNORED));
    assert!(!is_ignored("sub/.gitignore", &DEFAULT_IGNORED));
    assert!(is_ignored("model.sig", &["./model.sig"]));
    assert!(is_ignored("d/x", &["d/"]));
    assert!(!is_ignored("anything", &[""]));
}
