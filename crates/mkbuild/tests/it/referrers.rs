//! Signatures travel with their ModelKit: `push` sends the referrers stored with it, `pull` brings
//! them, through a real registry (Debian's `docker-registry`, distribution 2.8, which has no
//! referrers API: the tag schema fallback `sha256-<hex>` is what carries them, read back by skopeo).

use std::path::Path;
use std::process::Command;

use mkbuild_registry::testing::TestRegistry;
use mkbuild_test_support::require_tool;

use crate::common::{fails, ok, sha256_hex};
use crate::signing::{context, keypair, reference_available};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// The raw manifest (or index) `reference` names in the registry, as skopeo reads it.
pub(crate) fn skopeo_raw(reference: &str) -> Option<serde_json::Value> {
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .output()
        .expect("run skopeo");
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).expect("JSON"))
}

#[test]
fn signatures_survive_push_and_pull_and_pull_require_signature_refuses_leaving_no_tag() {
    if !reference_available() {
        return;
    }
    let Some(registry) = TestRegistry::start_or_skip(
        "signatures_survive_push_and_pull_and_pull_require_signature_refuses_leaving_no_tag",
        false,
    ) else {
        return;
    };
    let host = registry.host();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (a, b, c) = (d.join("a"), d.join("b"), d.join("c"));
    let (key, public) = keypair(d, "k", "prime256v1");
    let (other_key, other_public) = keypair(d, "other", "prime256v1");
    let root = context(&d.join("ctx"), b"weights", "one");
    ok(&a, &["pack", s(&root), "-t", "m:1"]);
    let signature = d.join("m.sig");
    ok(&a, &["sign", "m:1", "--key", s(&key), "-o", s(&signature)]);
    let remote = format!("{host}/team/m:1");
    let digest = ok(&a, &["push", "m:1", &remote, "--plain-http"])
        .trim()
        .to_owned();
    let hex = digest.strip_prefix("sha256:").expect("digest");

    // The registry has no referrers API (it answers 404), so the fallback index lists the
    // signature.
    if require_tool("curl") {
        let status = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("http://{host}/v2/team/m/referrers/{digest}"))
            .output()
            .expect("curl");
        assert_eq!(String::from_utf8_lossy(&status.stdout), "404");
    }
    if require_tool("skopeo") {
        let index = skopeo_raw(&format!("{host}/team/m:sha256-{hex}")).expect("fallback tag");
        assert_eq!(
            index["mediaType"],
            "application/vnd.oci.image.index.v1+json"
        );
        let listed = index["manifests"].as_array().expect("manifests");
        assert_eq!(listed.len(), 1, "{index}");
        assert_eq!(
            listed[0]["artifactType"],
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        );
        let referrer = skopeo_raw(&format!(
            "{host}/team/m@{}",
            listed[0]["digest"].as_str().expect("digest")
        ))
        .expect("referrer manifest");
        assert_eq!(referrer["subject"]["digest"], digest.as_str());
        assert_eq!(
            referrer["config"]["mediaType"],
            "application/vnd.oci.empty.v1+json"
        );
    }

    // Pulled into another store, it verifies there, and the bundle is the same bytes.
    let pulled = ok(&b, &["pull", &remote, "--plain-http"]);
    assert_eq!(pulled.trim(), digest);
    ok(&b, &["verify", &remote, "--key", s(&public)]);
    let exported = d.join("exported.sig");
    ok(&b, &["export-signature", &remote, "-o", s(&exported)]);
    assert_eq!(
        sha256_hex(&std::fs::read(&exported).expect("read")),
        sha256_hex(&std::fs::read(&signature).expect("read"))
    );

    // A second signature pushed again: the fallback index is read, extended, put back.
    ok(
        &a,
        &[
            "sign",
            "m:1",
            "--key",
            s(&other_key),
            "-o",
            s(&d.join("o.sig")),
        ],
    );
    ok(&a, &["push", "m:1", &remote, "--plain-http"]);
    if require_tool("skopeo") {
        let index = skopeo_raw(&format!("{host}/team/m:sha256-{hex}")).expect("fallback tag");
        assert_eq!(
            index["manifests"].as_array().map(Vec::len),
            Some(2),
            "{index}"
        );
    }

    // `pull --require-signature` with a key that signed nothing: refused, no tag left.
    let (_, stranger) = keypair(d, "stranger", "prime256v1");
    let message = fails(
        &c,
        &[
            "pull",
            &remote,
            "--plain-http",
            "--require-signature",
            s(&stranger),
        ],
    );
    assert!(
        message.contains("refused by `--require-signature"),
        "{message}"
    );
    assert!(message.contains("was made with the key"), "{message}");
    assert_eq!(ok(&c, &["list", "--format", "json"]).trim(), "[]");
    // With the signer's key: kept, and verifiable.
    ok(
        &c,
        &[
            "pull",
            &remote,
            "--plain-http",
            "--require-signature",
            s(&other_public),
        ],
    );
    ok(&c, &["verify", &remote, "--key", s(&other_public)]);
    ok(&c, &["verify", &remote, "--key", s(&public)]);

    // `unpack REGISTRY/... --require-signature` pulls whole (signatures included), then checks.
    let d2 = d.join("d");
    let out = d.join("out");
    ok(
        &d2,
        &[
            "unpack",
            &remote,
            "-d",
            s(&out),
            "--plain-http",
            "--require-signature",
            s(&public),
        ],
    );
    assert!(out.join("weights.bin").is_file());

    // A fallback list that names the signatures of another ModelKit (copied by another tool, or
    // an attacker): the referrers whose subject is not the pulled manifest are left out.
    if require_tool("curl") {
        let root2 = context(&d.join("ctx2"), b"other weights", "two");
        ok(&a, &["pack", s(&root2), "-t", "m:2"]);
        let remote2 = format!("{host}/team/m:2");
        let digest2 = ok(&a, &["push", "m:2", &remote2, "--plain-http"])
            .trim()
            .to_owned();
        let hex2 = digest2.strip_prefix("sha256:").expect("digest");
        // The fallback index of m:1, put back under m:2's fallback tag.
        let index_type = "application/vnd.oci.image.index.v1+json";
        let got = Command::new("curl")
            .args(["-sf", "-H", &format!("Accept: {index_type}")])
            .arg(format!("http://{host}/v2/team/m/manifests/sha256-{hex}"))
            .output()
            .expect("curl");
        assert!(got.status.success(), "{got:?}");
        let index_file = d.join("index.json");
        std::fs::write(&index_file, &got.stdout).expect("write");
        let put = Command::new("curl")
            .args([
                "-sf",
                "-X",
                "PUT",
                "-H",
                &format!("Content-Type: {index_type}"),
            ])
            .arg("--data-binary")
            .arg(format!("@{}", s(&index_file)))
            .arg(format!("http://{host}/v2/team/m/manifests/sha256-{hex2}"))
            .output()
            .expect("curl");
        assert!(put.status.success(), "{put:?}");
        let e = d.join("e");
        let out = crate::common::mkbuild(&e, &["pull", &remote2, "--plain-http"]);
        assert!(out.status.success(), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("left out"), "{stderr}");
        let message = fails(&e, &["verify", &remote2, "--key", s(&public)]);
        assert!(
            message.contains("has no signature stored with it"),
            "{message}"
        );
    }
}
