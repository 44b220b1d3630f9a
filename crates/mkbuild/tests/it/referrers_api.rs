//! Referrers through a registry that has the OCI 1.1 referrers API: `ferro-oci-server` (crates.io,
//! an independent Rust implementation that passes the OCI distribution conformance suite;
//! `.ci/run` installs it). `push` lists signatures, attestations and SBOMs by the API, so no
//! fallback tag is made, and `pull` finds them by the API. Debian's `docker-registry` (the other
//! test registry) has no API, so `referrers.rs` covers the fallback.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mkbuild_test_support::require_tool;

use crate::common::{fails, ok, sha256_hex};
use crate::signing::{context, keypair, reference_available};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A `ferro-oci-server` on a free loopback port, stopped when dropped.
struct Ferro {
    child: Child,
    host: String,
}

impl Ferro {
    fn start(storage: &Path) -> Ferro {
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let host = format!("127.0.0.1:{port}");
        let child = Command::new("ferro-oci-server")
            .env("FERRO_OCI_LISTEN", &host)
            .env("FERRO_OCI_STORAGE_DIR", storage)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ferro-oci-server");
        let ferro = Ferro { child, host };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&ferro.host).is_err() {
            assert!(Instant::now() < deadline, "ferro-oci-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        ferro
    }
}

impl Drop for Ferro {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET url` with curl: the status and the body.
fn get(url: &str) -> (String, Vec<u8>) {
    let out = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}", url])
        .output()
        .expect("curl");
    let mut body = out.stdout;
    let split = body.iter().rposition(|b| *b == b'\n').expect("status line");
    let status = String::from_utf8_lossy(&body[split + 1..]).into_owned();
    body.truncate(split);
    (status, body)
}

#[test]
fn referrers_travel_by_the_referrers_api_where_the_registry_has_it() {
    if !reference_available() || !require_tool("ferro-oci-server") || !require_tool("curl") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let ferro = Ferro::start(&d.join("registry"));
    let host = &ferro.host;
    let (a, b, c) = (d.join("a"), d.join("b"), d.join("c"));
    let (key, public) = keypair(d, "k", "prime256v1");
    let root = context(&d.join("ctx"), b"api weights", "api");
    ok(&a, &["pack", s(&root), "-t", "m:1"]);
    let signature = d.join("m.sig");
    ok(&a, &["sign", "m:1", "--key", s(&key), "-o", s(&signature)]);
    let predicate = d.join("provenance.json");
    std::fs::write(&predicate, br#"{"buildDefinition":{"buildType":"api"}}"#).expect("write");
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
            s(&d.join("att.json")),
            "--attach",
        ],
    );
    let sbom = d.join("sbom.spdx.json");
    ok(&a, &["sbom", "m:1", "-o", s(&sbom), "--attach"]);
    let remote = format!("{host}/team/m:1");
    let digest = ok(&a, &["push", "m:1", &remote]).trim().to_owned();

    // Listed by the registry's own API, with their types and annotations; no fallback tag.
    let (status, body) = get(&format!("http://{host}/v2/team/m/referrers/{digest}"));
    assert_eq!(status, "200", "{}", String::from_utf8_lossy(&body));
    let listing: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let listed = listing["manifests"].as_array().expect("manifests");
    let mut kinds: Vec<String> = listed
        .iter()
        .map(|m| {
            format!(
                "{} {}",
                m["artifactType"].as_str().expect("artifactType"),
                m["annotations"]["dev.sigstore.bundle.predicateType"]
                    .as_str()
                    .unwrap_or("-")
            )
        })
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            "application/spdx+json -",
            "application/vnd.dev.sigstore.bundle.v0.3+json https://model_signing/signature/v1.0",
            "application/vnd.dev.sigstore.bundle.v0.3+json https://slsa.dev/provenance/v1",
        ],
        "{listing}"
    );
    let (_, tags) = get(&format!("http://{host}/v2/team/m/tags/list"));
    let tags: serde_json::Value = serde_json::from_slice(&tags).expect("JSON");
    assert_eq!(
        tags["tags"],
        serde_json::json!(["1"]),
        "a fallback tag was made"
    );

    // Pulled by the API into another store: the signature verifies, byte for byte as signed,
    // and the SBOM came too.
    ok(&b, &["pull", &remote]);
    ok(&b, &["verify", &remote, "--key", s(&public)]);
    let exported = d.join("exported.sig");
    ok(&b, &["export-signature", &remote, "-o", s(&exported)]);
    assert_eq!(
        sha256_hex(&std::fs::read(&exported).expect("read")),
        sha256_hex(&std::fs::read(&signature).expect("read"))
    );
    assert!(b
        .join("blobs/sha256")
        .join(sha256_hex(&std::fs::read(&sbom).expect("read")))
        .is_file());

    // `pull --require-signature` with a stranger's key: refused, no tag left.
    let (_, stranger) = keypair(d, "stranger", "prime256v1");
    let err = fails(&c, &["pull", &remote, "--require-signature", s(&stranger)]);
    assert!(err.contains("refused by `--require-signature"), "{err}");
    assert_eq!(ok(&c, &["list", "--format", "json"]).trim(), "[]");
    ok(&c, &["pull", &remote, "--require-signature", s(&public)]);
}
