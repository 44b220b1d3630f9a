//! `mkbuild sign` and `mkbuild verify --key`, against the reference implementation of OpenSSF
//! model signing (PyPI `model-signing`, installed by `.ci/run`): a ModelKit signed by mkbuild and
//! unpacked verifies with `model_signing verify key` as it is, Kitfile included, and not after one
//! changed byte; `verify --key` refuses, saying why, what does not match.

use std::path::{Path, PathBuf};
use std::process::Command;

use mkbuild_test_support::{require_tool, skip};

use crate::common::{blob_path, fails, manifest, ok, sha256_hex};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// Whether `openssl` and the reference (`python3 -m model_signing`) can run here; skips (or fails
/// under `MKBUILD_REQUIRE_TOOLS`) otherwise.
pub(crate) fn reference_available() -> bool {
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

/// A new P-256 (or P-384) private key in PKCS#8 PEM and its public key: (private, public).
pub(crate) fn keypair(dir: &Path, stem: &str, curve: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{stem}.pem"));
    let public = dir.join(format!("{stem}.pub.pem"));
    let script = format!(
        "openssl ecparam -genkey -name {curve} -noout | openssl pkcs8 -topk8 -nocrypt -out \"$0\" && openssl pkey -pubout -in \"$0\" -out \"$1\""
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .arg(&key)
        .arg(&public)
        .output()
        .expect("openssl");
    assert!(out.status.success(), "{out:?}");
    (key, public)
}

/// A context with a Kitfile naming a model file, a dataset, code (with a nested `.gitignore`,
/// which the reference signs) and docs.
pub(crate) fn context(dir: &Path, weights: &[u8], description: &str) -> PathBuf {
    let root = dir.join("context");
    let kitfile = format!(
        "manifestVersion: 1.0.0\npackage:\n  name: signed\n  description: {description}\nmodel:\n  path: weights.bin\ndatasets:\n  - path: data/train.csv\ncode:\n  - path: src\ndocs:\n  - path: README.md\n"
    );
    for (name, bytes) in [
        ("Kitfile", kitfile.as_bytes()),
        ("weights.bin", weights),
        ("data/train.csv", b"a,b\n1,2\n"),
        ("src/a/b.py", b"print(1)\n"),
        ("src/a.py", b"print(2)\n"),
        ("src/.gitignore", b"*.pyc\n"),
        ("README.md", b"# signed\n"),
    ] {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }
    root
}

pub(crate) fn reference_verify(folder: &Path, public: &Path, signature: &Path) -> (bool, String) {
    let out = Command::new("python3")
        .args(["-m", "model_signing", "verify", "key", "--public_key"])
        .arg(public)
        .arg("--signature")
        .arg(signature)
        .arg(folder)
        .output()
        .expect("model_signing");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The resource names a bundle signs, in its order.
fn signed_names(signature: &Path) -> Vec<String> {
    use base64::Engine as _;
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(signature).expect("read")).expect("JSON");
    let payload = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().expect("payload"))
        .expect("base64");
    let statement: serde_json::Value = serde_json::from_slice(&payload).expect("statement");
    statement["predicate"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_owned())
        .collect()
}

#[test]
fn signed_then_unpacked_verifies_with_the_reference_and_one_changed_byte_fails() {
    if !reference_available() {
        return;
    }
    for (format, curve) in [
        ("v2", "prime256v1"),
        ("kit", "secp384r1"),
        ("modelpack", "prime256v1"),
        ("v1", "prime256v1"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("store");
        let root = context(dir.path(), b"\x00weights\xff", "one");
        let (key, public) = keypair(dir.path(), "k", curve);
        ok(&store, &["pack", s(&root), "--format", format, "-t", "m:1"]);
        let signature = dir.path().join("m.sig");
        ok(
            &store,
            &["sign", "m:1", "--key", s(&key), "-o", s(&signature)],
        );
        let out = dir.path().join("out");
        ok(&store, &["unpack", "m:1", "-d", s(&out)]);

        let names = signed_names(&signature);
        assert!(names.iter().any(|n| n == "Kitfile"), "{format}: {names:?}");
        assert!(
            names.iter().any(|n| n == "src/.gitignore"),
            "{format}: {names:?}"
        );
        let (verified, stderr) = reference_verify(&out, &public, &signature);
        assert!(verified, "{format}: {stderr}");
        // The signature inside the folder, named by `--signature`, is left out as the reference
        // leaves it out.
        let inside = out.join("model.sig");
        std::fs::copy(&signature, &inside).expect("copy");
        let (verified, stderr) = reference_verify(&out, &public, &inside);
        assert!(verified, "{format}: {stderr}");
        std::fs::remove_file(&inside).expect("rm");
        // The other way: the reference signs the unpacked folder, mkbuild checks the ModelKit.
        let theirs = dir.path().join("theirs.sig");
        reference_sign(&out, &key, &theirs);
        ok(
            &store,
            &[
                "verify",
                "m:1",
                "--key",
                s(&public),
                "--signature",
                s(&theirs),
            ],
        );

        // One changed byte, in the weights and then in the Kitfile.
        let weights = out.join("weights.bin");
        std::fs::write(&weights, b"\x00weights\xfe").expect("write");
        let (verified, stderr) = reference_verify(&out, &public, &signature);
        assert!(!verified, "{format}: a changed byte verified");
        assert!(
            stderr.contains("Hash mismatch for 'weights.bin'"),
            "{format}: {stderr}"
        );
        std::fs::write(&weights, b"\x00weights\xff").expect("write");
        let kitfile = out.join("Kitfile");
        let mut bytes = std::fs::read(&kitfile).expect("read");
        bytes.push(b'\n');
        std::fs::write(&kitfile, bytes).expect("write");
        let (verified, stderr) = reference_verify(&out, &public, &signature);
        assert!(!verified, "{format}: a changed Kitfile verified");
        assert!(
            stderr.contains("Hash mismatch for 'Kitfile'"),
            "{format}: {stderr}"
        );
    }
}

/// Replaces what changes from run to run (temporary paths, key hints) in `text`.
fn redact(text: &str, dir: &Path, publics: &[&Path]) -> String {
    let mut text = text.replace(s(dir), "[DIR]");
    for (i, public) in publics.iter().enumerate() {
        let hint = sha256_hex(&std::fs::read(public).expect("read"));
        text = text.replace(&hint, &format!("[HINT{i}]"));
    }
    text
}

#[test]
fn verify_with_a_key_passes_and_says_why_it_refuses() {
    if !reference_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let store = d.join("store");
    let (key, public) = keypair(d, "k", "prime256v1");
    let (_, other_public) = keypair(d, "other", "prime256v1");
    let pack = |sub: &str, weights: &[u8], description: &str, tag: &str| {
        let root = context(&d.join(sub), weights, description);
        ok(&store, &["pack", s(&root), "-t", tag]);
    };
    pack("a", b"weights", "one", "m:1");
    // The same files, one byte of the weights changed: another model layer.
    pack("b", b"weightS", "one", "m:changed-layer");
    // The same files, another description: another config (and Kitfile).
    pack("c", b"weights", "two", "m:changed-config");
    let other = d.join("other");
    std::fs::create_dir_all(&other).expect("mkdir");
    std::fs::write(other.join("w.bin"), "w").expect("write");
    std::fs::write(
        other.join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: other\nmodel:\n  path: w.bin\n",
    )
    .expect("write");
    ok(&store, &["pack", s(&other), "-t", "other:1"]);

    let signature = d.join("m.sig");
    ok(
        &store,
        &["sign", "m:1", "--key", s(&key), "-o", s(&signature)],
    );
    let other_signature = d.join("other.sig");
    ok(
        &store,
        &[
            "sign",
            "other:1",
            "--key",
            s(&key),
            "-o",
            s(&other_signature),
        ],
    );

    let verify = |reference: &str, public: &Path, signature: &Path| {
        vec![
            "verify".to_owned(),
            reference.to_owned(),
            "--key".to_owned(),
            s(public).to_owned(),
            "--signature".to_owned(),
            s(signature).to_owned(),
        ]
    };
    let run_ok = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(&store, &args)
    };
    let run_fails = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        redact(&fails(&store, &args), d, &[&public, &other_public])
    };
    assert_eq!(run_ok(verify("m:1", &public, &signature)), "");

    insta::assert_snapshot!(
        "verify_key_no_signature",
        run_fails(verify("m:1", &public, &d.join("missing.sig")))
    );
    insta::assert_snapshot!(
        "verify_key_wrong_key",
        run_fails(verify("m:1", &other_public, &signature))
    );
    insta::assert_snapshot!(
        "verify_key_changed_layer",
        run_fails(verify("m:changed-layer", &public, &signature))
    );
    insta::assert_snapshot!(
        "verify_key_changed_config",
        run_fails(verify("m:changed-config", &public, &signature))
    );
    insta::assert_snapshot!(
        "verify_key_another_modelkit",
        run_fails(verify("m:1", &public, &other_signature))
    );

    // A layer blob changed in the store: the unpack under `verify` refuses it by its digest.
    let m = manifest(&store, "m:changed-layer");
    let layers = m["layers"].as_array().expect("layers");
    let model = layers
        .iter()
        .find(|l| l["mediaType"].as_str().is_some_and(|t| t.contains("model")))
        .expect("a model layer");
    let blob = blob_path(&store, model["digest"].as_str().expect("digest"));
    let mut bytes = std::fs::read(&blob).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&blob, bytes).expect("write");
    let stderr = run_fails(verify("m:changed-layer", &public, &signature));
    assert!(stderr.contains("digest"), "{stderr}");

    // `sign` refuses a key that is not a private key before reading the ModelKit.
    insta::assert_snapshot!(
        "sign_public_key_given",
        redact(
            &fails(
                &store,
                &[
                    "sign",
                    "m:1",
                    "--key",
                    s(&public),
                    "-o",
                    s(&d.join("x.sig"))
                ]
            ),
            d,
            &[]
        )
    );
    assert!(!d.join("x.sig").exists());
}

pub(crate) fn reference_sign(folder: &Path, key: &Path, signature: &Path) {
    let out = Command::new("python3")
        .args(["-m", "model_signing", "sign", "key", "--private_key"])
        .arg(key)
        .arg("--signature")
        .arg(signature)
        .arg(folder)
        .output()
        .expect("model_signing");
    assert!(out.status.success(), "model_signing sign: {out:?}");
}

/// Every blob file of the store, by name.
fn blobs(store: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(store.join("blobs/sha256"))
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort_unstable();
    names
}

#[test]
fn pack_verify_signature_checks_the_folder_against_a_reference_signature() {
    if !reference_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let store = d.join("store");
    let root = context(d, b"weights", "one");
    let (key, public) = keypair(d, "k", "secp384r1");
    let (_, other_public) = keypair(d, "other", "prime256v1");
    // As a user signs a model folder: `model.sig` inside it (the reference leaves it out), and
    // another signature outside it.
    let inside = root.join("model.sig");
    reference_sign(&root, &key, &inside);
    let outside = d.join("outside.sig");
    reference_sign(&root, &key, &outside);

    fn strs(args: &[String]) -> Vec<&str> {
        args.iter().map(String::as_str).collect()
    }
    let pack = |signature: &Path, public: &Path, tag: &str| {
        vec![
            "pack".to_owned(),
            s(&root).to_owned(),
            "--verify-signature".to_owned(),
            s(signature).to_owned(),
            "--signature-key".to_owned(),
            s(public).to_owned(),
            "-t".to_owned(),
            tag.to_owned(),
        ]
    };
    ok(&store, &strs(&pack(&inside, &public, "m:1")));
    ok(&store, &strs(&pack(&outside, &public, "m:2")));
    manifest(&store, "m:1");
    let before = blobs(&store);

    let refused = |args: Vec<String>| {
        let stderr = redact(&fails(&store, &strs(&args)), d, &[&public, &other_public]);
        assert_eq!(
            blobs(&store),
            before,
            "a refused pack stored blobs: {stderr}"
        );
        stderr
    };
    insta::assert_snapshot!(
        "pack_verify_signature_wrong_key",
        refused(pack(&inside, &other_public, "m:bad"))
    );
    std::fs::write(root.join("weights.bin"), b"weightS").expect("write");
    insta::assert_snapshot!(
        "pack_verify_signature_changed_byte",
        refused(pack(&inside, &public, "m:bad"))
    );
    std::fs::write(root.join("weights.bin"), b"weights").expect("write");
    std::fs::write(root.join("src/extra.py"), b"").expect("write");
    insta::assert_snapshot!(
        "pack_verify_signature_extra_file",
        refused(pack(&outside, &public, "m:bad"))
    );
    std::fs::remove_file(root.join("src/extra.py")).expect("rm");
    ok(&store, &strs(&pack(&outside, &public, "m:3")));
    fails(&store, &["inspect", "m:bad"]);
}

#[test]
fn sign_leaves_out_git_files_at_the_top_as_the_reference_does() {
    if !reference_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let store = d.join("store");
    let root = d.join("context");
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::write(root.join("w.bin"), "w").expect("write");
    std::fs::write(root.join(".gitattributes"), "*.bin binary\n").expect("write");
    std::fs::write(
        root.join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: g\nmodel:\n  path: w.bin\ndocs:\n  - path: .gitattributes\n",
    )
    .expect("write");
    let (key, public) = keypair(d, "k", "prime256v1");
    ok(&store, &["pack", s(&root), "-t", "g:1"]);
    let signature = d.join("g.sig");
    let out = crate::common::mkbuild(
        &store,
        &["sign", "g:1", "--key", s(&key), "-o", s(&signature)],
    );
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`.gitattributes` of `g:1` is not signed"),
        "{stderr}"
    );
    assert_eq!(signed_names(&signature), ["Kitfile", "w.bin"]);
    let unpacked = d.join("out");
    ok(&store, &["unpack", "g:1", "-d", s(&unpacked)]);
    assert!(unpacked.join(".gitattributes").is_file());
    let (verified, stderr) = reference_verify(&unpacked, &public, &signature);
    assert!(verified, "{stderr}");
    ok(
        &store,
        &[
            "verify",
            "g:1",
            "--key",
            s(&public),
            "--signature",
            s(&signature),
        ],
    );
}

/// Stores `bundle` in `store` as a referrer of the ModelKit `subject`, by hand (blobs and
/// `index.json` as another tool, or an attacker with a registry, would write them): how a
/// signature gets attached to what it does not sign.
fn graft_referrer(store: &Path, subject: &str, bundle: &[u8]) {
    let raw = ok(store, &["inspect", subject, "--raw"]);
    let subject_digest = &format!("sha256:{}", sha256_hex(raw.as_bytes()));
    let subject_size = raw.len();
    let put = |bytes: &[u8]| {
        let digest = format!("sha256:{}", sha256_hex(bytes));
        std::fs::write(blob_path(store, &digest), bytes).expect("write blob");
        digest
    };
    let bundle_type = "application/vnd.dev.sigstore.bundle.v0.3+json";
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": bundle_type,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": put(b"{}"), "size": 2},
        "layers": [{"mediaType": bundle_type, "digest": put(bundle), "size": bundle.len()}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject_digest, "size": subject_size},
    });
    let bytes = serde_json::to_vec(&manifest).expect("json");
    let digest = put(&bytes);
    let index_path = store.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index_path).expect("index")).expect("json");
    index["manifests"]
        .as_array_mut()
        .expect("manifests")
        .push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": bytes.len(),
            "annotations": {"ml.mkbuild.referrer-of": subject_digest},
        }));
    std::fs::write(&index_path, serde_json::to_vec(&index).expect("json")).expect("index");
}

#[test]
fn sign_stores_the_signature_which_verify_and_export_signature_use() {
    if !reference_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let store = d.join("store");
    let (key, public) = keypair(d, "k", "prime256v1");
    let (other_key, other_public) = keypair(d, "other", "prime256v1");
    let pack = |sub: &str, weights: &[u8], description: &str, tag: &str| {
        let root = context(&d.join(sub), weights, description);
        ok(&store, &["pack", s(&root), "-t", tag]);
    };
    pack("a", b"weights", "one", "m:1");
    pack("b", b"weightS", "one", "m:changed-layer");
    pack("c", b"weights", "two", "m:changed-config");
    pack("e", b"other weights", "other", "other:1");
    let run_fails = |args: &[&str]| redact(&fails(&store, args), d, &[&public, &other_public]);

    // Nothing stored yet.
    insta::assert_snapshot!(
        "verify_stored_no_signature",
        run_fails(&["verify", "m:1", "--key", s(&public)])
    );
    insta::assert_snapshot!(
        "export_signature_none",
        run_fails(&["export-signature", "m:1", "-o", s(&d.join("x.sig"))])
    );
    assert!(!d.join("x.sig").exists());

    let written = d.join("m.sig");
    ok(
        &store,
        &["sign", "m:1", "--key", s(&key), "-o", s(&written)],
    );
    let other_sig = d.join("other.sig");
    ok(
        &store,
        &["sign", "other:1", "--key", s(&key), "-o", s(&other_sig)],
    );
    // `list` shows ModelKits only, as before.
    let listed = ok(&store, &["list", "--format", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).expect("json");
    assert_eq!(listed.as_array().map(Vec::len), Some(4), "{listed}");

    // Stored as an OCI 1.1 referrer: skopeo reads the layout, and the manifest says what it is.
    assert_eq!(ok(&store, &["verify", "m:1", "--key", s(&public)]), "");
    let exported = d.join("exported.sig");
    ok(&store, &["export-signature", "m:1", "-o", s(&exported)]);
    assert_eq!(
        std::fs::read(&exported).expect("read"),
        std::fs::read(&written).expect("read"),
        "the stored bundle is the one written, byte for byte"
    );
    // The reference verifier accepts the exported bundle on the unpacked folder.
    let out = d.join("out");
    ok(&store, &["unpack", "m:1", "-d", s(&out)]);
    let (verified, stderr) = reference_verify(&out, &public, &exported);
    assert!(verified, "{stderr}");

    // A second signature, with another key: each key finds its own.
    ok(
        &store,
        &[
            "sign",
            "m:1",
            "--key",
            s(&other_key),
            "-o",
            s(&d.join("o.sig")),
        ],
    );
    ok(&store, &["verify", "m:1", "--key", s(&other_public)]);
    ok(&store, &["verify", "m:1", "--key", s(&public)]);

    // Wrong key (the other ModelKit's signatures are all by `key`).
    insta::assert_snapshot!(
        "verify_stored_wrong_key",
        run_fails(&["verify", "other:1", "--key", s(&other_public)])
    );
    // Signatures attached to what they do not sign.
    let bundle = std::fs::read(&written).expect("read");
    graft_referrer(&store, "m:changed-layer", &bundle);
    graft_referrer(&store, "m:changed-config", &bundle);
    insta::assert_snapshot!(
        "verify_stored_changed_layer",
        run_fails(&["verify", "m:changed-layer", "--key", s(&public)])
    );
    insta::assert_snapshot!(
        "verify_stored_changed_config",
        run_fails(&["verify", "m:changed-config", "--key", s(&public)])
    );
    pack("f", b"n weights", "n", "n:1");
    graft_referrer(&store, "n:1", &std::fs::read(&other_sig).expect("read"));
    insta::assert_snapshot!(
        "verify_stored_another_modelkit",
        run_fails(&["verify", "n:1", "--key", s(&public)])
    );
}

/// The entries of `dir` (none when it does not exist).
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|e| {
            e.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn unpack_require_signature_writes_nothing_unless_a_stored_signature_matches() {
    if !reference_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let store = d.join("store");
    let (key, public) = keypair(d, "k", "prime256v1");
    let (_, other_public) = keypair(d, "other", "prime256v1");
    let pack = |sub: &str, weights: &[u8], description: &str, tag: &str| {
        let root = context(&d.join(sub), weights, description);
        ok(&store, &["pack", s(&root), "-t", tag]);
    };
    pack("a", b"weights", "one", "m:1");
    pack("b", b"weightS", "one", "m:changed-layer");
    pack("c", b"weights", "two", "m:changed-config");
    let out = d.join("out");
    // An existing, empty target stays empty on refusal.
    std::fs::create_dir_all(&out).expect("mkdir");
    let unpack_fails = |reference: &str, with: &Path| {
        let text = fails(
            &store,
            &[
                "unpack",
                reference,
                "-d",
                s(&out),
                "--require-signature",
                s(with),
            ],
        );
        assert_eq!(entries(&out), Vec::<String>::new(), "{reference}: {text}");
        redact(&text, d, &[&public, &other_public])
    };
    insta::assert_snapshot!(
        "unpack_require_signature_none",
        unpack_fails("m:1", &public)
    );
    let signature = d.join("m.sig");
    ok(
        &store,
        &["sign", "m:1", "--key", s(&key), "-o", s(&signature)],
    );
    insta::assert_snapshot!(
        "unpack_require_signature_wrong_key",
        unpack_fails("m:1", &other_public)
    );
    let bundle = std::fs::read(&signature).expect("read");
    graft_referrer(&store, "m:changed-layer", &bundle);
    graft_referrer(&store, "m:changed-config", &bundle);
    insta::assert_snapshot!(
        "unpack_require_signature_changed_layer",
        unpack_fails("m:changed-layer", &public)
    );
    unpack_fails("m:changed-config", &public);
    // Into a folder that does not exist: not even the folder appears.
    let fresh = d.join("fresh");
    fails(
        &store,
        &[
            "unpack",
            "m:changed-config",
            "-d",
            s(&fresh),
            "--require-signature",
            s(&public),
        ],
    );
    assert!(!fresh.exists());

    // `convert --require-signature` refuses the same way and stores nothing.
    let blobs_before = blobs(&store);
    let listed_before = ok(&store, &["list", "--format", "json"]);
    let message = fails(
        &store,
        &[
            "convert",
            "m:changed-layer",
            "--to",
            "kit",
            "-t",
            "m:converted",
            "--require-signature",
            s(&public),
        ],
    );
    assert!(message.contains("nothing was converted"), "{message}");
    assert_eq!(blobs(&store), blobs_before);
    assert_eq!(ok(&store, &["list", "--format", "json"]), listed_before);
    ok(
        &store,
        &[
            "convert",
            "m:1",
            "--to",
            "kit",
            "-t",
            "m:converted",
            "--require-signature",
            s(&public),
        ],
    );

    // The signed one unpacks, and is what the reference verifier accepts.
    ok(
        &store,
        &[
            "unpack",
            "m:1",
            "-d",
            s(&out),
            "--require-signature",
            s(&public),
        ],
    );
    let (verified, stderr) = reference_verify(&out, &public, &signature);
    assert!(verified, "{stderr}");
}
