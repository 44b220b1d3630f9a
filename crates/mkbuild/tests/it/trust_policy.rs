//! The store's signature policy (`policy.toml`: unpack, pull and convert refuse a ModelKit
//! without a stored signature by one of its keys) and attestations stored as referrers
//! (`attest --attach`): they travel with the ModelKit but are never taken for its signature.

use std::path::Path;

use mkbuild_registry::testing::TestRegistry;
use mkbuild_test_support::require_tool;

use crate::common::{fails, ok, sha256_hex};
use crate::signing::{context, keypair, reference_available};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn write_policy(store: &Path, text: &str) {
    std::fs::write(store.join("policy.toml"), text).expect("write policy");
}

#[test]
fn the_store_policy_requires_a_signature_by_one_of_its_keys() {
    if !reference_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let store = d.join("store");
    let root = context(d, b"policy weights", "policy");
    let (old_key, old_public) = keypair(d, "old", "prime256v1");
    let (_, new_public) = keypair(d, "new", "secp384r1");
    ok(&store, &["pack", s(&root), "-t", "m:1"]);
    ok(
        &store,
        &["pack", s(&root), "--format", "kit", "-t", "unsigned:1"],
    );
    ok(
        &store,
        &[
            "sign",
            "m:1",
            "--key",
            s(&old_key),
            "-o",
            s(&d.join("m.sig")),
        ],
    );
    std::fs::create_dir(store.join("keys")).expect("mkdir");
    std::fs::copy(&new_public, store.join("keys/new.pub.pem")).expect("copy");

    // Only the new key (relative to the store's folder): the old signature is refused, nothing
    // is written, and the message names the policy.
    write_policy(&store, "[signatures]\nrequire = [\"keys/new.pub.pem\"]\n");
    let out = d.join("out");
    let err = fails(&store, &["unpack", "m:1", "-d", s(&out)]);
    let policy = store.join("policy.toml");
    assert!(
        err.contains(&format!(
            "the store's policy `{}` refused `m:1`",
            policy.display()
        )),
        "{err}"
    );
    assert!(err.contains("none of the signatures stored with"), "{err}");
    assert!(!out.exists(), "a refused unpack wrote {}", out.display());
    let err = fails(&store, &["convert", "m:1", "--to", "kit", "-t", "c:1"]);
    assert!(err.contains("nothing was converted"), "{err}");
    assert!(
        !ok(&store, &["list"]).contains("c "),
        "a refused convert stored"
    );
    let err = fails(&store, &["unpack", "unsigned:1", "-d", s(&out)]);
    assert!(err.contains("has no signature stored with it"), "{err}");
    assert!(!out.exists());

    // During a rotation both keys are listed (one absolute): the old signature passes.
    write_policy(
        &store,
        &format!(
            "[signatures]\nrequire = [\"keys/new.pub.pem\", \"{}\"]\n",
            old_public.display()
        ),
    );
    ok(&store, &["unpack", "m:1", "-d", s(&out)]);
    assert!(out.join("weights.bin").is_file());
    ok(&store, &["convert", "m:1", "--to", "kit", "-t", "c:1"]);

    // A key on the command line replaces the policy's for that command.
    let out2 = d.join("out2");
    let err = fails(
        &store,
        &[
            "unpack",
            "m:1",
            "-d",
            s(&out2),
            "--require-signature",
            s(&new_public),
        ],
    );
    assert!(
        err.contains(&format!(
            "`--require-signature {}` refused",
            new_public.display()
        )),
        "{err}"
    );
    assert!(!out2.exists());

    // A policy that cannot be read as one is an error naming it, never a policy ignored.
    write_policy(&store, "[signatures]\nrequir = [\"keys/new.pub.pem\"]\n");
    let err = fails(&store, &["unpack", "m:1", "-d", s(&out2)]);
    assert!(
        err.contains(&format!(
            "the store's policy `{}` is not valid",
            policy.display()
        )) && err.contains("unknown field `requir`"),
        "{err}"
    );
    write_policy(&store, "[signatures]\nrequire = []\n");
    let err = fails(&store, &["unpack", "m:1", "-d", s(&out2)]);
    assert!(err.contains("requires signatures by no key"), "{err}");
    write_policy(
        &store,
        "[signatures]\nrequire = [\"keys/missing.pub.pem\"]\n",
    );
    let err = fails(&store, &["unpack", "m:1", "-d", s(&out2)]);
    assert!(err.contains("missing.pub.pem"), "{err}");
    assert!(!out2.exists());
    // Without `[signatures]`, nothing is required.
    write_policy(&store, "# no requirement\n");
    ok(&store, &["unpack", "unsigned:1", "-d", s(&out2)]);
}

#[test]
fn attached_attestations_travel_with_the_modelkit_but_are_not_its_signature() {
    if !reference_available() {
        return;
    }
    let Some(registry) = TestRegistry::start_or_skip(
        "attached_attestations_travel_with_the_modelkit_but_are_not_its_signature",
        false,
    ) else {
        return;
    };
    let host = registry.host();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (a, b, c) = (d.join("a"), d.join("b"), d.join("c"));
    let (key, public) = keypair(d, "k", "prime256v1");
    let root = context(&d.join("ctx"), b"attested weights", "attested");
    ok(&a, &["pack", s(&root), "-t", "m:1"]);
    let signature = d.join("m.sig");
    ok(&a, &["sign", "m:1", "--key", s(&key), "-o", s(&signature)]);
    // Attested after signing, with the same key: the newest bundle is the attestation.
    let predicate = d.join("provenance.json");
    std::fs::write(&predicate, br#"{"buildDefinition":{"buildType":"test"}}"#).expect("write");
    let attestation = d.join("provenance.sigstore.json");
    let provenance = "https://slsa.dev/provenance/v1";
    ok(
        &a,
        &[
            "attest",
            "m:1",
            "--key",
            s(&key),
            "--predicate",
            s(&predicate),
            "--type",
            provenance,
            "-o",
            s(&attestation),
            "--attach",
        ],
    );
    // The SBOM too, as a referrer of its own type.
    let sbom = d.join("sbom.spdx.json");
    ok(&a, &["sbom", "m:1", "-o", s(&sbom), "--attach"]);
    let remote = format!("{host}/team/m:1");
    let digest = ok(&a, &["push", "m:1", &remote, "--plain-http"])
        .trim()
        .to_owned();
    let hex = digest.strip_prefix("sha256:").expect("digest");

    // The fallback listing carries each referrer's predicate type, as cosign reads it.
    if require_tool("skopeo") {
        let index = crate::referrers::skopeo_raw(&format!("{host}/team/m:sha256-{hex}"))
            .expect("fallback tag");
        let listed = index["manifests"].as_array().expect("manifests");
        assert_eq!(
            listed
                .iter()
                .filter(|m| m["artifactType"] == "application/spdx+json")
                .count(),
            1,
            "{index}"
        );
        let mut types: Vec<&str> = listed
            .iter()
            .filter(|m| m["artifactType"] != "application/spdx+json")
            .map(|m| {
                m["annotations"]["dev.sigstore.bundle.predicateType"]
                    .as_str()
                    .expect("predicate type annotation")
            })
            .collect();
        types.sort_unstable();
        assert_eq!(
            types,
            ["https://model_signing/signature/v1.0", provenance],
            "{index}"
        );
    }

    // Pulled elsewhere: the signature verifies, export gives the signature (not the newer
    // attestation), and the attestation came too, byte for byte.
    ok(&b, &["pull", &remote, "--plain-http"]);
    ok(&b, &["verify", &remote, "--key", s(&public)]);
    let exported = d.join("exported.sig");
    ok(&b, &["export-signature", &remote, "-o", s(&exported)]);
    assert_eq!(
        sha256_hex(&std::fs::read(&exported).expect("read")),
        sha256_hex(&std::fs::read(&signature).expect("read"))
    );
    let blob = b
        .join("blobs/sha256")
        .join(sha256_hex(&std::fs::read(&attestation).expect("read")));
    assert!(blob.is_file(), "the attestation was not pulled");
    let blob = b
        .join("blobs/sha256")
        .join(sha256_hex(&std::fs::read(&sbom).expect("read")));
    assert!(blob.is_file(), "the SBOM was not pulled");

    // A store whose policy names the key pulls it; an attestation alone is not a signature.
    ok(&c, &["list"]);
    write_policy(
        &c,
        &format!("[signatures]\nrequire = [\"{}\"]\n", public.display()),
    );
    ok(&c, &["pull", &remote, "--plain-http"]);
    let err = fails(&c, &["pull", &remote, "--plain-http", "-f", "kitfile"]);
    assert!(err.contains("pull `"), "{err}");

    let e = d.join("e");
    ok(&e, &["pack", s(&root), "-t", "only:1"]);
    ok(
        &e,
        &[
            "attest",
            "only:1",
            "--key",
            s(&key),
            "--predicate",
            s(&predicate),
            "--type",
            provenance,
            "-o",
            s(&d.join("only.json")),
            "--attach",
        ],
    );
    let err = fails(&e, &["verify", "only:1", "--key", s(&public)]);
    assert!(err.contains("has no signature stored with it"), "{err}");
    let err = fails(
        &e,
        &["export-signature", "only:1", "-o", s(&d.join("x.sig"))],
    );
    assert!(err.contains("has no signature stored with it"), "{err}");
}
