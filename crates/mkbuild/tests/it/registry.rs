//! The registry commands end to end against a real registry with basic auth (Debian's
//! `docker-registry`, started on 127.0.0.1; skipped with a message when it is not installed):
//! login, `pack --push`, a second client (skopeo) reading the result, `unpack` straight from the
//! registry into a fresh store, `pull`, `push`, logout.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mkbuild_registry::testing::{RegistryConfig, TestRegistry, TEST_PASSWORD, TEST_USER};

/// Runs mkbuild with `args`, the store `store`, the credentials folder `docker_config` and `stdin`.
fn run(store: &Path, docker_config: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mkbuild"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env("DOCKER_CONFIG", docker_config)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("MKBUILD_STORE")
        .env_remove("MKBUILD_PLAIN_HTTP")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run mkbuild: {e}"));
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("cannot wait for mkbuild: {e}"))
}

fn ok(store: &Path, docker_config: &Path, args: &[&str], stdin: &str) -> String {
    let out = run(store, docker_config, args, stdin);
    assert!(
        out.status.success(),
        "mkbuild {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(store: &Path, docker_config: &Path, args: &[&str], stdin: &str) -> String {
    let out = run(store, docker_config, args, stdin);
    assert_eq!(out.status.code(), Some(1), "mkbuild {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample")
}

/// The files under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if let Ok(relative) = path.strip_prefix(root) {
                out.push(relative.to_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn login_pack_push_unpack_pull_logout() {
    let Some(registry) = TestRegistry::start_or_skip("login_pack_push_unpack_pull_logout", true)
    else {
        return;
    };
    let host = registry.host();
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = tmp.path().join("docker");
    let store_a = tmp.path().join("a");
    let store_b = tmp.path().join("b");
    let store_c = tmp.path().join("c");
    let remote = format!("{host}/team/sample:0.1.0");

    // A wrong password is refused and stores nothing.
    let login = [
        "login",
        host.as_str(),
        "-u",
        TEST_USER,
        "--password-stdin",
        "--plain-http",
    ];
    let message = fails(&store_a, &config, &login, "wrong\n");
    assert!(
        message.contains(&format!(
            "error: the registry `{host}` refused the credentials of user `mkbuild` (401 Unauthorized)"
        )),
        "{message}"
    );
    assert!(!config.join("config.json").exists());
    // Without a login, the registry says so.
    let sample = sample();
    let sample_dir = sample.to_string_lossy();
    let pack = [
        "pack",
        sample_dir.as_ref(),
        "-t",
        "sample:0.1.0",
        "--push",
        remote.as_str(),
        "--plain-http",
    ];
    let message = fails(&store_a, &config, &pack, "");
    assert!(message.contains("requires a login"), "{message}");

    ok(&store_a, &config, &login, &format!("{TEST_PASSWORD}\n"));
    let stored = std::fs::read_to_string(config.join("config.json")).unwrap_or_default();
    assert!(stored.contains(&format!("\"{host}\"")), "{stored}");

    // Pack straight into the registry.
    let digest = ok(&store_a, &config, &pack, "").trim().to_owned();
    assert!(digest.starts_with("sha256:"), "{digest}");
    let manifest = ok(&store_a, &config, &["inspect", "sample:0.1.0"], "");

    // A second client reads the same manifest bytes. Without skopeo only this check is left out,
    // but the skip is still recorded (and fails under MKBUILD_REQUIRE_TOOLS).
    if mkbuild_test_support::require_tool("skopeo") {
        let out = Command::new("skopeo")
            .args(["inspect", "--raw", "--tls-verify=false", "--creds"])
            .arg(format!("{TEST_USER}:{TEST_PASSWORD}"))
            .arg(format!("docker://{remote}"))
            .output()
            .expect("run skopeo");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim_end(),
            manifest.trim_end()
        );
    }

    // Unpack straight from the registry into an empty store: the files come back.
    let out_dir = tmp.path().join("out");
    let out_dir_text = out_dir.to_string_lossy();
    ok(
        &store_b,
        &config,
        &[
            "unpack",
            remote.as_str(),
            "-d",
            out_dir_text.as_ref(),
            "--plain-http",
        ],
        "",
    );
    let unpacked = files(&out_dir);
    assert!(
        unpacked.contains(&PathBuf::from("model/model.safetensors")),
        "{unpacked:?}"
    );
    for file in &unpacked {
        assert_eq!(
            std::fs::read(out_dir.join(file)).ok(),
            std::fs::read(sample.join(file)).ok(),
            "{}",
            file.display()
        );
    }
    assert_eq!(
        ok(&store_b, &config, &["inspect", remote.as_str()], ""),
        manifest,
        "the pulled manifest is stored byte for byte"
    );

    // Pull prints the same digest; push from the pulled store to another tag keeps it.
    assert_eq!(
        ok(
            &store_c,
            &config,
            &["pull", remote.as_str(), "--plain-http"],
            ""
        )
        .trim(),
        digest
    );
    let copy = format!("{host}/team/copy:1");
    assert_eq!(
        ok(
            &store_c,
            &config,
            &[
                "push",
                remote.as_str(),
                copy.as_str(),
                "--plain-http",
                "--chunk-size",
                "4096"
            ],
            ""
        )
        .trim(),
        digest
    );

    // A local name needs a destination.
    let message = fails(&store_a, &config, &["push", "sample:0.1.0"], "");
    assert!(
        message.contains("names no registry; give a destination"),
        "{message}"
    );

    ok(&store_a, &config, &["logout", host.as_str()], "");
    let message = fails(
        &tmp.path().join("d"),
        &config,
        &["pull", copy.as_str(), "--plain-http"],
        "",
    );
    assert!(message.contains("requires a login"), "{message}");
}

#[test]
fn a_modelpack_pushed_and_pulled_back_keeps_its_digest_and_its_raw_layers() {
    let test = "a_modelpack_pushed_and_pulled_back_keeps_its_digest_and_its_raw_layers";
    let Some(registry) = TestRegistry::start_or_skip(test, false) else {
        return;
    };
    let host = registry.host();
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = tmp.path().join("docker");
    let (store_a, store_b) = (tmp.path().join("a"), tmp.path().join("b"));
    let sample = sample();
    let dir = sample.to_string_lossy();
    let pack = ["pack", dir.as_ref(), "--format", "modelpack", "-t", "mp:1"];
    let digest = ok(&store_a, &config, &pack, "").trim().to_owned();
    let remote = format!("{host}/team/modelpack:1");
    let pushed = ok(
        &store_a,
        &config,
        &["push", "mp:1", remote.as_str(), "--plain-http"],
        "",
    );
    assert_eq!(pushed.trim(), digest);
    // Another client reads the very manifest: a ModelPack the registry stores as any artifact.
    if mkbuild_test_support::require_tool("skopeo") {
        let out = Command::new("skopeo")
            .args(["inspect", "--raw", "--tls-verify=false"])
            .arg(format!("docker://{remote}"))
            .output()
            .expect("run skopeo");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let manifest = ok(&store_a, &config, &["inspect", "mp:1"], "");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim_end(),
            manifest.trim_end()
        );
    }
    ok(
        &store_b,
        &config,
        &["pull", remote.as_str(), "--plain-http"],
        "",
    );
    let pulled = ok(
        &store_b,
        &config,
        &["inspect", "--summary", remote.as_str()],
        "",
    );
    assert!(pulled.contains(&digest), "{pulled}");
    assert!(pulled.contains("modelpack"), "{pulled}");
    let out = tmp.path().join("out");
    let out_text = out.to_string_lossy();
    ok(
        &store_b,
        &config,
        &["unpack", remote.as_str(), "-d", out_text.as_ref()],
        "",
    );
    // Every file unpacked is the original, but the Kitfile, which a ModelPack carries as JSON and
    // unpack writes as YAML.
    let unpacked = files(&out);
    assert!(
        unpacked.contains(&PathBuf::from("model/model.safetensors")),
        "{unpacked:?}"
    );
    for file in unpacked.iter().filter(|f| !f.ends_with("Kitfile")) {
        assert_eq!(
            std::fs::read(out.join(file)).ok(),
            std::fs::read(sample.join(file)).ok(),
            "{}",
            file.display()
        );
    }
}

/// `text` with the registry's `host:port` and the digests of `digests` replaced by stable names.
fn redact_run(text: &str, host: &str, digests: &[(&str, &str)]) -> String {
    let mut text = text.replace(host, "[REG]");
    for (digest, name) in digests {
        text = text.replace(digest, name);
    }
    text
}

/// Each way a registry says no reads as one sentence that names the registry, the repository
/// and what was asked for, and says what to do; no `--plain-http` is given, so every request
/// also goes through the fallback to plain HTTP of a registry on this machine.
#[test]
fn registry_errors_read_as_sentences() {
    let test = "registry_errors_read_as_sentences";
    let Some(registry) = TestRegistry::start_or_skip(test, false) else {
        return;
    };
    let host = registry.host();
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = tmp.path().join("docker");
    let (store_a, store_b) = (tmp.path().join("a"), tmp.path().join("b"));
    let sample = sample();
    let dir = sample.to_string_lossy();
    let pushed = format!("{host}/org/tiny-llama:1");
    let digest = ok(
        &store_a,
        &config,
        &[
            "pack",
            dir.as_ref(),
            "-t",
            "tiny:1",
            "--push",
            pushed.as_str(),
        ],
        "",
    )
    .trim()
    .to_owned();
    assert!(digest.starts_with("sha256:"), "{digest}");

    let unknown = format!("sha256:{}", "1".repeat(64));
    let cases = [
        ("tag-not-found", format!("{host}/org/tiny-llama:nope")),
        (
            "manifest-not-found",
            format!("{host}/org/tiny-llama@{unknown}"),
        ),
        ("repository-not-found", format!("{host}/org/nothing:1")),
    ];
    for (name, reference) in cases {
        let stderr = fails(&store_b, &config, &["pull", reference.as_str()], "");
        insta::assert_snapshot!(
            format!("registry_error_{name}"),
            redact_run(&stderr, &host, &[])
        );
    }

    // A blob the manifest names that the repository lost: its link in Distribution's storage is
    // removed, so the registry answers `404 BLOB_UNKNOWN` for it.
    let manifest = ok(&store_a, &config, &["inspect", "tiny:1"], "");
    let layer = manifest
        .split("\"digest\":\"")
        .nth(2)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no layer digest in {manifest}"))
        .to_owned();
    let hex = layer.trim_start_matches("sha256:");
    let link = registry
        .storage()
        .join("docker/registry/v2/repositories/org/tiny-llama/_layers/sha256")
        .join(hex);
    std::fs::remove_dir_all(&link).unwrap_or_else(|e| panic!("{}: {e}", link.display()));
    let stderr = fails(&store_b, &config, &["pull", pushed.as_str()], "");
    insta::assert_snapshot!(
        "registry_error_blob-not-found",
        redact_run(&stderr, &host, &[(&layer, "[LAYER]")])
    );
    // Nothing was tagged by the failed pull.
    let listed = ok(&store_b, &config, &["list", "--json"], "");
    assert!(!listed.contains("tiny-llama"), "{listed}");
}

/// A registry that requires a login names the repository and the command to log in; a read-only
/// registry's refusal of an upload names the blob and the repository.
#[test]
fn login_and_upload_refusals_name_the_repository() {
    let test = "login_and_upload_refusals_name_the_repository";
    let Some(with_auth) = TestRegistry::start_or_skip(test, true) else {
        return;
    };
    let read_only_config = RegistryConfig {
        read_only: true,
        ..RegistryConfig::default()
    };
    let Some(read_only) = TestRegistry::start_configured_or_skip(test, &read_only_config) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = tmp.path().join("docker");
    let store = tmp.path().join("a");
    let sample = sample();
    let dir = sample.to_string_lossy();
    ok(&store, &config, &["pack", dir.as_ref(), "-t", "tiny:1"], "");

    let host = with_auth.host();
    let reference = format!("{host}/org/private:1");
    let stderr = fails(&store, &config, &["pull", reference.as_str()], "");
    insta::assert_snapshot!(
        "registry_error_login-required",
        redact_run(&stderr, &host, &[])
    );

    // Stored credentials the registry refuses: the user, the repository and the way out.
    std::fs::create_dir_all(&config).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        config.join("config.json"),
        format!(r#"{{"auths":{{"{host}":{{"auth":"bWtidWlsZDp3cm9uZw=="}}}}}}"#),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let stderr = fails(&store, &config, &["pull", reference.as_str()], "");
    insta::assert_snapshot!(
        "registry_error_wrong-credentials",
        redact_run(&stderr, &host, &[])
    );

    let host = read_only.host();
    let reference = format!("{host}/org/tiny-llama:1");
    let stderr = fails(&store, &config, &["push", "tiny:1", reference.as_str()], "");
    // Which blob goes first depends on the order of the concurrent uploads.
    let blob = stderr
        .split("the blob `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no blob named in {stderr}"))
        .to_owned();
    insta::assert_snapshot!(
        "registry_error_upload-refused",
        redact_run(&stderr, &host, &[(&blob, "[BLOB]")])
    );
}

/// On a terminal, `login` asks for the user name and for the password without echoing it; off a
/// terminal, it says to use `--password-stdin` instead of waiting for a password it cannot hide.
#[test]
fn login_asks_on_a_terminal_only() {
    let test = "login_asks_on_a_terminal_only";
    if !mkbuild_test_support::require_tool("python3") {
        return;
    }
    let Some(registry) = TestRegistry::start_or_skip(test, true) else {
        return;
    };
    let host = registry.host();
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = tmp.path().join("docker");
    let store = tmp.path().join("store");

    let stderr = fails(
        &store,
        &config,
        &["login", host.as_str(), "-u", TEST_USER],
        "",
    );
    insta::assert_snapshot!("login_not_a_terminal", redact_run(&stderr, &host, &[]));
    assert!(!config.join("config.json").exists());

    let user_prompt = format!("Username for {host}: ");
    let password_prompt = format!("Password for {TEST_USER}@{host}: ");
    let out = crate::common::on_terminal(
        &store,
        &["login", host.as_str()],
        &[
            crate::common::Answer {
                prompt: &user_prompt,
                line: TEST_USER,
                hidden: false,
            },
            crate::common::Answer {
                prompt: &password_prompt,
                line: TEST_PASSWORD,
                hidden: true,
            },
        ],
    )
    .env("DOCKER_CONFIG", &config)
    .env("NO_COLOR", "1")
    .output()
    .unwrap_or_else(|e| panic!("cannot run python3: {e}"));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{shown}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        shown.contains(&format!("Username for {host}: {TEST_USER}")),
        "the user name is echoed: {shown}"
    );
    assert!(
        shown.contains(&format!("Password for {TEST_USER}@{host}: ")),
        "{shown}"
    );
    assert!(
        !shown.contains(TEST_PASSWORD),
        "the password was echoed: {shown}"
    );
    assert!(shown.contains(&format!("logged in to {host}")), "{shown}");
    let stored = std::fs::read_to_string(config.join("config.json")).unwrap_or_default();
    assert!(stored.contains(&format!("\"{host}\"")), "{stored}");
    // The stored login works.
    let sample = sample();
    let dir = sample.to_string_lossy();
    let remote = format!("{host}/org/private:1");
    ok(
        &store,
        &config,
        &["pack", dir.as_ref(), "-t", "p:1", "--push", remote.as_str()],
        "",
    );
}
