//! `mkbuild sbom`: an SPDX 2.3 document that an independent validator (PyPI `spdx-tools`, its
//! `pyspdxtools`, run as `python3 -m`) accepts, whose files are those `unpack` writes with their real digests, and
//! whose packages carry the Kitfile's licenses (an SPDX expression as written, any other text as
//! an extracted `LicenseRef-`).

use std::path::Path;
use std::process::Command;

use crate::common::{mkbuild, ok, sha256_hex};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn the_sbom_validates_and_lists_every_file_with_its_digests_and_licenses() {
    if !mkbuild_test_support::require_tool("python3") {
        return;
    }
    let imported = Command::new("python3")
        .args(["-c", "import spdx_tools"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !imported {
        mkbuild_test_support::skip("PyPI `spdx-tools` is not installed (.ci/run installs it)");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir_all(ctx.join("data")).expect("mkdir");
    std::fs::create_dir_all(ctx.join("src")).expect("mkdir");
    std::fs::write(ctx.join("model.safetensors"), vec![3u8; 70_000]).expect("model");
    std::fs::write(ctx.join("data/train.csv"), "a,b\n1,2\n").expect("data");
    std::fs::write(ctx.join("src/train.py"), "print('train')\n").expect("code");
    std::fs::write(ctx.join("README.md"), "# tiny\n").expect("docs");
    std::fs::write(
        ctx.join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: Tiny Model\n  version: 1.2.0\n  license: Apache-2.0 OR MIT\nmodel:\n  name: tiny\n  path: model.safetensors\n  license: Apache-2.0\ndatasets:\n  - name: train\n    path: data\n    license: our own terms, v2\ncode:\n  - path: src\ndocs:\n  - path: README.md\n",
    )
    .expect("Kitfile");
    let store = tmp.path().join("store");
    let digest = ok(&store, &["pack", s(&ctx), "-t", "tiny:1"]);
    let sbom = tmp.path().join("tiny.spdx.json");
    let out = Command::new(env!("CARGO_BIN_EXE_mkbuild"))
        .arg("--store")
        .arg(&store)
        .args(["sbom", "tiny:1", "-o", s(&sbom)])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("run mkbuild");
    assert!(out.status.success(), "{out:?}");

    // The independent validator accepts it.
    let validated = Command::new("python3")
        .args(["-m", "spdx_tools.spdx.clitools.pyspdxtools", "-i", s(&sbom)])
        .output()
        .expect("run pyspdxtools");
    assert!(
        validated.status.success(),
        "pyspdxtools: {}",
        String::from_utf8_lossy(&validated.stderr)
    );

    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sbom).expect("read")).expect("JSON");
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    let modelkit = &doc["packages"][0];
    assert_eq!(modelkit["name"], "Tiny Model");
    assert_eq!(modelkit["licenseDeclared"], "Apache-2.0 OR MIT");
    assert_eq!(
        modelkit["checksums"][0]["checksumValue"],
        digest.trim().trim_start_matches("sha256:")
    );
    let license_of = |name: &str| {
        doc["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["licenseDeclared"].clone())
            .unwrap_or_else(|| panic!("no package {name}: {doc}"))
    };
    assert_eq!(license_of("tiny"), "Apache-2.0");
    assert_eq!(license_of("src"), "NOASSERTION");
    let train = license_of("train");
    let train = train.as_str().expect("license");
    assert!(train.starts_with("LicenseRef-"), "{train}");
    assert_eq!(
        doc["hasExtractedLicensingInfos"][0]["extractedText"],
        "our own terms, v2"
    );

    // The files are exactly what unpack writes, with their real SHA-256.
    let unpacked = tmp.path().join("out");
    ok(&store, &["unpack", "tiny:1", "-d", s(&unpacked)]);
    let mut listed: Vec<(String, String)> = doc["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["fileName"].as_str().expect("name").to_owned(),
                f["checksums"][1]["checksumValue"]
                    .as_str()
                    .expect("sha256")
                    .to_owned(),
            )
        })
        .collect();
    listed.sort();
    let mut want = Vec::new();
    for path in [
        "Kitfile",
        "README.md",
        "data/train.csv",
        "model.safetensors",
        "src/train.py",
    ] {
        let bytes = std::fs::read(unpacked.join(path)).expect("unpacked file");
        want.push((format!("./{path}"), sha256_hex(&bytes)));
    }
    assert_eq!(listed, want);
    // Each entry's package contains its files.
    let contains = |package: &str, file: &str| {
        let id = doc["files"]
            .as_array()
            .and_then(|files| files.iter().find(|f| f["fileName"] == file))
            .map(|f| f["SPDXID"].clone())
            .expect("file id");
        doc["relationships"]
            .as_array()
            .expect("relationships")
            .iter()
            .any(|r| {
                r["spdxElementId"] == package
                    && r["relationshipType"] == "CONTAINS"
                    && r["relatedSpdxElement"] == id
            })
    };
    assert!(contains("SPDXRef-Model", "./model.safetensors"));
    assert!(contains("SPDXRef-Dataset-0", "./data/train.csv"));
    assert!(contains("SPDXRef-Code-0", "./src/train.py"));
    assert!(contains("SPDXRef-Docs-0", "./README.md"));
    assert!(contains("SPDXRef-Kitfile", "./Kitfile"));

    // Without -o it goes to stdout, the same document.
    let out = Command::new(env!("CARGO_BIN_EXE_mkbuild"))
        .arg("--store")
        .arg(&store)
        .args(["sbom", "tiny:1"])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("run mkbuild");
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(again, doc);
    let missing = mkbuild(&store, &["sbom", "nope:1"]);
    assert_eq!(missing.status.code(), Some(1));
}

/// `attest` signs a statement about the ModelKit: its subject is the manifest digest, its
/// predicate the SBOM given, and its DSSE signature checks with `openssl dgst -verify` over the
/// pre-authentication encoding (an independent ECDSA implementation); a changed payload does not.
#[test]
fn an_attested_sbom_names_the_modelkit_and_verifies_with_openssl() {
    use base64::Engine as _;
    if !mkbuild_test_support::require_tool("openssl") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let key = dir.join("key.pem");
    let public = dir.join("pub.pem");
    let made = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl ecparam -genkey -name prime256v1 -noout | openssl pkcs8 -topk8 -nocrypt -out {k} && openssl pkey -in {k} -pubout -out {p}",
            k = s(&key),
            p = s(&public)
        ))
        .status()
        .expect("openssl");
    assert!(made.success());
    let store = dir.join("store");
    let sample = crate::common::fixtures().join("../../examples/sample");
    let digest = ok(&store, &["pack", s(&sample), "-t", "sample:1"]);
    let sbom = dir.join("sbom.json");
    ok(&store, &["sbom", "sample:1", "-o", s(&sbom)]);
    let bundle_path = dir.join("sbom.sigstore.json");
    ok(
        &store,
        &[
            "attest",
            "sample:1",
            "--key",
            s(&key),
            "--predicate",
            s(&sbom),
            "--type",
            "https://spdx.dev/Document",
            "-o",
            s(&bundle_path),
        ],
    );
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundle_path).expect("bundle")).expect("JSON");
    let b64 = base64::engine::general_purpose::STANDARD;
    let envelope = &bundle["dsseEnvelope"];
    let payload = b64
        .decode(envelope["payload"].as_str().expect("payload"))
        .expect("base64");
    let statement: serde_json::Value = serde_json::from_slice(&payload).expect("statement");
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://spdx.dev/Document");
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        digest.trim().trim_start_matches("sha256:")
    );
    let sbom_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sbom).expect("sbom")).expect("JSON");
    assert_eq!(statement["predicate"], sbom_json);

    let payload_type = envelope["payloadType"].as_str().expect("type");
    let signature = b64
        .decode(envelope["signatures"][0]["sig"].as_str().expect("sig"))
        .expect("base64");
    std::fs::write(dir.join("sig.der"), &signature).expect("sig");
    let openssl_verifies = |payload: &[u8]| {
        let mut pae = format!(
            "DSSEv1 {} {payload_type} {} ",
            payload_type.len(),
            payload.len()
        )
        .into_bytes();
        pae.extend_from_slice(payload);
        std::fs::write(dir.join("pae.bin"), pae).expect("pae");
        Command::new("openssl")
            .args(["dgst", "-sha256", "-verify", s(&public), "-signature"])
            .arg(dir.join("sig.der"))
            .arg(dir.join("pae.bin"))
            .output()
            .expect("openssl dgst")
            .status
            .success()
    };
    assert!(openssl_verifies(&payload), "openssl refuses the signature");
    let mut changed = payload.clone();
    changed[10] ^= 1;
    assert!(
        !openssl_verifies(&changed),
        "openssl accepts a changed payload"
    );

    let not_json = dir.join("not.json");
    std::fs::write(&not_json, "nope").expect("write");
    let out = mkbuild(
        &store,
        &[
            "attest",
            "sample:1",
            "--key",
            s(&key),
            "--predicate",
            s(&not_json),
            "--type",
            "https://x/y",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not JSON"), "{stderr}");
}
