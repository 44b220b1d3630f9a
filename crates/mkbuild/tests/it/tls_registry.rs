//! Registries as people run them: TLS with a private CA (`--tls-cert`), without verification
//! (`--tls-verify=false`), with client certificates (`--cert`/`--key`), and a registry on this
//! machine that speaks plain HTTP without `--plain-http`. The CA and the certificates are made
//! with `openssl` at test time; the registry is Debian's `docker-registry` serving TLS.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mkbuild_registry::testing::{RegistryConfig, TestRegistry, TlsConfig};

/// Runs mkbuild with `args` and the store `store`, credentials in `store`'s sibling folder.
fn run(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mkbuild"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env("DOCKER_CONFIG", store.with_extension("docker"))
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("MKBUILD_STORE")
        .env_remove("MKBUILD_PLAIN_HTTP")
        .env_remove("MKBUILD_TLS_VERIFY")
        .env_remove("MKBUILD_TLS_CERT")
        .env_remove("MKBUILD_CLIENT_CERT")
        .env_remove("MKBUILD_CLIENT_KEY")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run mkbuild: {e}"))
}

fn ok(store: &Path, args: &[&str]) -> String {
    let out = run(store, args);
    assert!(
        out.status.success(),
        "mkbuild {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn fails(store: &Path, args: &[&str]) -> String {
    let out = run(store, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "mkbuild {args:?} should fail: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `text` with every `sha256:<64 hex>` replaced by `[DIGEST]` (which blob a concurrent push
/// asks about first varies).
fn redact_digests(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("sha256:") {
        let after = &rest[at + 7..];
        let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        out.push_str(&rest[..at]);
        if hex == 64 {
            out.push_str("[DIGEST]");
            rest = &after[64..];
        } else {
            out.push_str("sha256:");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn s(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("not UTF-8: {}", path.display()))
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample")
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl: {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The PEM files of a test CA (`ca.pem`), a server certificate for 127.0.0.1 (`server.pem`,
/// `server.key`) and a client certificate (`client.pem`, `client.key`), all signed by the CA.
struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn make(dir: &Path) -> Pki {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let mut ca = vec!["req", "-x509"];
        ca.extend_from_slice(&ec);
        ca.extend_from_slice(&[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=mkbuild test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(dir, &ca);
        for (name, subject, extensions) in [
            (
                "server",
                "/CN=127.0.0.1",
                "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
            ),
            (
                "client",
                "/CN=mkbuild test client",
                "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
            ),
        ] {
            let ext = format!("{name}.ext");
            std::fs::write(dir.join(&ext), extensions).unwrap_or_else(|e| panic!("{e}"));
            let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
            let mut request = vec!["req"];
            request.extend_from_slice(&ec);
            request.extend_from_slice(&["-keyout", &key, "-out", &csr, "-subj", subject]);
            openssl(dir, &request);
            openssl(
                dir,
                &[
                    "x509", "-req", "-in", &csr, "-CA", "ca.pem", "-CAkey", "ca.key",
                    "-CAcreateserial", "-days", "2", "-extfile", &ext, "-out", &pem,
                ],
            );
        }
        Pki {
            dir: dir.to_owned(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn registry(&self, client_certificates: bool) -> RegistryConfig {
        RegistryConfig {
            tls: Some(TlsConfig {
                certificate: self.path("server.pem"),
                key: self.path("server.key"),
                client_cas: client_certificates.then(|| self.path("ca.pem")),
            }),
            ..RegistryConfig::default()
        }
    }
}

#[test]
fn a_tls_registry_with_a_private_ca() {
    let test = "a_tls_registry_with_a_private_ca";
    if !mkbuild_test_support::require_tool("openssl") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pki = Pki::make(&tmp.path().join("pki"));
    let Some(registry) = TestRegistry::start_configured_or_skip(test, &pki.registry(false)) else {
        return;
    };
    let host = registry.host();
    let (store_a, store_b, store_c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    let digest = ok(&store_a, &["pack", s(&sample()), "-t", "tiny:1"]);
    let remote = format!("{host}/org/tiny-llama:1");
    let ca = pki.path("ca.pem");

    // Not trusted: the error names the certificate problem and both ways out; nothing falls back
    // to plain HTTP for a registry that speaks TLS.
    let stderr = fails(&store_a, &["push", "tiny:1", remote.as_str()]);
    insta::assert_snapshot!(
        "tls_untrusted",
        redact_digests(&stderr.replace(&host, "[REG]"))
    );

    assert_eq!(
        ok(
            &store_a,
            &["push", "tiny:1", remote.as_str(), "--tls-cert", s(&ca)]
        ),
        digest
    );
    // `--ca-cert` is the same option; the pull round-trips the manifest's digest and bytes.
    assert_eq!(
        ok(&store_b, &["pull", remote.as_str(), "--ca-cert", s(&ca)]),
        digest
    );
    assert_eq!(
        ok(&store_b, &["inspect", remote.as_str()]),
        ok(&store_a, &["inspect", "tiny:1"])
    );
    // Without verification, no CA is needed.
    assert_eq!(
        ok(&store_c, &["pull", remote.as_str(), "--tls-verify=false"]),
        digest
    );

    // Files that are not certificates are refused, naming the file.
    let not_pem = tmp.path().join("not-a-cert.pem");
    std::fs::write(&not_pem, "hello\n").unwrap_or_else(|e| panic!("{e}"));
    let missing = tmp.path().join("missing.pem");
    let root = tmp.path().to_string_lossy().into_owned();
    for (name, args) in [
        ("tls_file_not_pem", vec!["--tls-cert", s(&not_pem)]),
        ("tls_file_missing", vec!["--tls-cert", s(&missing)]),
        (
            "tls_key_not_pem",
            vec!["--cert", s(&pki.path("client.pem")), "--key", s(&not_pem)],
        ),
    ] {
        let mut all = vec!["pull", remote.as_str()];
        all.extend(args);
        let stderr = fails(&store_c, &all);
        insta::assert_snapshot!(name, stderr.replace(&root, "[TMP]").replace(&host, "[REG]"));
    }
}

#[test]
fn a_tls_registry_that_requires_client_certificates() {
    let test = "a_tls_registry_that_requires_client_certificates";
    if !mkbuild_test_support::require_tool("openssl") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pki = Pki::make(&tmp.path().join("pki"));
    let Some(registry) = TestRegistry::start_configured_or_skip(test, &pki.registry(true)) else {
        return;
    };
    let host = registry.host();
    let (store_a, store_b) = (tmp.path().join("a"), tmp.path().join("b"));
    let digest = ok(&store_a, &["pack", s(&sample()), "-t", "tiny:1"]);
    let remote = format!("{host}/org/tiny-llama:1");
    let ca = pki.path("ca.pem");
    let (cert, key) = (pki.path("client.pem"), pki.path("client.key"));

    let stderr = fails(
        &store_a,
        &["push", "tiny:1", remote.as_str(), "--tls-cert", s(&ca)],
    );
    insta::assert_snapshot!(
        "tls_client_certificate_missing",
        redact_digests(&stderr.replace(&host, "[REG]"))
    );

    let with_identity = ["--tls-cert", s(&ca), "--cert", s(&cert), "--key", s(&key)];
    let mut push = vec!["push", "tiny:1", remote.as_str()];
    push.extend_from_slice(&with_identity);
    assert_eq!(ok(&store_a, &push), digest);
    let mut pull = vec!["pull", remote.as_str()];
    pull.extend_from_slice(&with_identity);
    assert_eq!(ok(&store_b, &pull), digest);
}

/// A registry on this machine that speaks plain HTTP needs no `--plain-http`, by `127.0.0.1` or
/// by `localhost`, as with docker.
#[test]
fn a_plain_http_registry_on_this_machine_needs_no_flag() {
    let test = "a_plain_http_registry_on_this_machine_needs_no_flag";
    let Some(registry) = TestRegistry::start_or_skip(test, false) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (store_a, store_b) = (tmp.path().join("a"), tmp.path().join("b"));
    let digest = ok(&store_a, &["pack", s(&sample()), "-t", "tiny:1"]);
    let by_ip = format!("{}/org/tiny-llama:1", registry.host());
    assert_eq!(ok(&store_a, &["push", "tiny:1", by_ip.as_str()]), digest);
    let by_name = format!("localhost:{}/org/tiny-llama:1", registry.addr().port());
    assert_eq!(ok(&store_b, &["pull", by_name.as_str()]), digest);
}

/// The registry options as `--help` shows them (kit's names: `--plain-http`, `--tls-verify`,
/// `--tls-cert`, `--cert`, `--key`).
#[test]
fn pull_help_lists_the_tls_options() {
    let store = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let help = ok(store.path(), &["pull", "--help"]);
    // The "Registry options" section, to the next heading.
    let tls: Vec<&str> = help
        .lines()
        .skip_while(|line| *line != "Registry options:")
        .take_while(|line| *line != "Global options:")
        .collect();
    insta::assert_snapshot!("pull_help_tls", tls.join("\n"));
}
