//! The keys `sign` takes beyond plain P-256/P-384: P-521, and encrypted PKCS#8 keys whose
//! passphrase comes from a file, the environment or the terminal. Each is checked against the
//! reference implementation (PyPI `model-signing`), and the encrypted keys are written by two
//! independent writers (openssl and Python's `cryptography`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{fails, ok};
use crate::signing::{context, keypair, reference_available, reference_sign, reference_verify};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// The number of signatures stored as referrers in `store`'s index.
fn stored_signatures(store: &Path) -> usize {
    let index = std::fs::read_to_string(store.join("index.json")).expect("index.json");
    index.matches("ml.mkbuild.referrer-of").count()
}

/// A P-256 private key encrypted with `passphrase` as openssl writes it (PKCS#8, PBES2 with
/// PBKDF2 and AES-256-CBC), and its public key.
fn openssl_encrypted(dir: &Path, passphrase: &str) -> (PathBuf, PathBuf) {
    let key = dir.join("enc.pem");
    let public = dir.join("enc.pub.pem");
    let out = Command::new("sh")
        .args([
            "-c",
            "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-256-cbc -pass \"pass:$2\" -out \"$0\" && openssl pkey -in \"$0\" -passin \"pass:$2\" -pubout -out \"$1\"",
        ])
        .arg(&key)
        .arg(&public)
        .arg(passphrase)
        .output()
        .expect("openssl");
    assert!(out.status.success(), "{out:?}");
    let pem = std::fs::read_to_string(&key).expect("key");
    assert!(pem.contains("BEGIN ENCRYPTED PRIVATE KEY"), "{pem}");
    (key, public)
}

/// A P-384 private key encrypted with `passphrase` by Python's `cryptography` (the library the
/// reference signs with), and its public key.
fn cryptography_encrypted(dir: &Path, passphrase: &str) -> (PathBuf, PathBuf) {
    let key = dir.join("py.pem");
    let public = dir.join("py.pub.pem");
    let script = r#"
import sys
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import ec
k = ec.generate_private_key(ec.SECP384R1())
open(sys.argv[1], "wb").write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8,
    s.BestAvailableEncryption(sys.argv[3].encode())))
open(sys.argv[2], "wb").write(k.public_key().public_bytes(s.Encoding.PEM,
    s.PublicFormat.SubjectPublicKeyInfo))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&key)
        .arg(&public)
        .arg(passphrase)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{out:?}");
    (key, public)
}

#[test]
fn p521_keys_sign_and_verify_both_ways_with_the_reference() {
    if !reference_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let root = context(dir.path(), b"p521 weights", "p521");
    let (key, public) = keypair(dir.path(), "k", "secp521r1");
    ok(&store, &["pack", s(&root), "-t", "m:1"]);
    let signature = dir.path().join("m.sig");
    ok(
        &store,
        &["sign", "m:1", "--key", s(&key), "-o", s(&signature)],
    );
    let out = dir.path().join("out");
    ok(&store, &["unpack", "m:1", "-d", s(&out)]);
    let (verified, stderr) = reference_verify(&out, &public, &signature);
    assert!(verified, "{stderr}");
    ok(&store, &["verify", "m:1", "--key", s(&public)]);

    // The reference signs with P-521 (SHA-512); mkbuild checks the ModelKit against it.
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
    // Another P-521 key's public half is refused.
    let (_, stranger) = keypair(dir.path(), "other", "secp521r1");
    let err = fails(
        &store,
        &[
            "verify",
            "m:1",
            "--key",
            s(&stranger),
            "--signature",
            s(&theirs),
        ],
    );
    assert!(err.contains("was made with another key"), "{err}");
}

#[test]
fn encrypted_keys_sign_with_a_passphrase_from_a_file_or_the_environment() {
    if !reference_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let root = context(dir.path(), b"encrypted weights", "enc");
    ok(&store, &["pack", s(&root), "-t", "m:1"]);
    let out = dir.path().join("out");
    ok(&store, &["unpack", "m:1", "-d", s(&out)]);
    let passphrase = "correct horse battery";
    let file = dir.path().join("passphrase.txt");
    // As `echo` writes it: the line end is not part of the passphrase.
    std::fs::write(&file, format!("{passphrase}\n")).expect("write");

    for (writer, (key, public)) in [
        ("openssl", openssl_encrypted(dir.path(), passphrase)),
        (
            "cryptography",
            cryptography_encrypted(dir.path(), passphrase),
        ),
    ] {
        // Without a passphrase, off a terminal: refused, naming the key and how to give it.
        let before = stored_signatures(&store);
        let signature = dir.path().join(format!("{writer}.sig"));
        let err = fails(
            &store,
            &["sign", "m:1", "--key", s(&key), "-o", s(&signature)],
        );
        assert!(
            err.contains(&format!("the private key `{}` is encrypted", key.display()))
                && err.contains("--passphrase-file FILE")
                && err.contains("MKBUILD_KEY_PASSPHRASE"),
            "{writer}: {err}"
        );
        // A wrong passphrase is refused as such.
        let wrong = dir.path().join("wrong.txt");
        std::fs::write(&wrong, "not it\n").expect("write");
        let err = fails(
            &store,
            &[
                "sign",
                "m:1",
                "--key",
                s(&key),
                "--passphrase-file",
                s(&wrong),
                "-o",
                s(&signature),
            ],
        );
        assert!(
            err.contains("the passphrase does not decrypt the private key"),
            "{writer}: {err}"
        );
        assert_eq!(
            stored_signatures(&store),
            before,
            "{writer}: a refusal stored"
        );
        assert!(!signature.exists(), "{writer}: a refusal wrote a signature");

        // From the file: the reference accepts the unpacked folder.
        ok(
            &store,
            &[
                "sign",
                "m:1",
                "--key",
                s(&key),
                "--passphrase-file",
                s(&file),
                "-o",
                s(&signature),
            ],
        );
        let (verified, stderr) = reference_verify(&out, &public, &signature);
        assert!(verified, "{writer}: {stderr}");
        assert_eq!(stored_signatures(&store), before + 1, "{writer}");

        // From the environment, for attest too.
        let predicate = dir.path().join("predicate.json");
        std::fs::write(&predicate, br#"{"builder":"test"}"#).expect("write");
        let attestation = dir.path().join(format!("{writer}.att.json"));
        let attested = Command::new(env!("CARGO_BIN_EXE_mkbuild"))
            .env("MKBUILD_KEY_PASSPHRASE", passphrase)
            .args(["--store", s(&store), "attest", "m:1", "--key", s(&key)])
            .arg("--predicate")
            .arg(&predicate)
            .args(["--type", "https://example.com/test/v1", "-o"])
            .arg(&attestation)
            .output()
            .expect("mkbuild");
        assert!(attested.status.success(), "{writer}: {attested:?}");
        assert!(attestation.exists(), "{writer}");
    }
}

#[test]
fn an_encrypted_key_asks_for_its_passphrase_on_a_terminal_without_echo() {
    if !reference_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let root = context(dir.path(), b"tty weights", "tty");
    ok(&store, &["pack", s(&root), "-t", "m:1"]);
    let passphrase = "typed on a terminal";
    let (key, public) = openssl_encrypted(dir.path(), passphrase);
    let signature = dir.path().join("tty.sig");
    let prompt = format!("Passphrase for `{}`: ", key.display());
    let out = crate::common::on_terminal(
        &store,
        &["sign", "m:1", "--key", s(&key), "-o", s(&signature)],
        &[crate::common::Answer {
            prompt: &prompt,
            line: passphrase,
            hidden: true,
        }],
    )
    .output()
    .expect("python3");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        shown.contains(&format!("Passphrase for `{}`", key.display())),
        "{shown}"
    );
    assert!(
        !shown.contains(passphrase),
        "the passphrase was echoed: {shown}"
    );
    let unpacked = dir.path().join("out");
    ok(&store, &["unpack", "m:1", "-d", s(&unpacked)]);
    let (verified, stderr) = reference_verify(&unpacked, &public, &signature);
    assert!(verified, "{stderr}");
}
