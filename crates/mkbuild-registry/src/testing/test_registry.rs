//! A real registry for tests: Debian's `docker-registry` (CNCF Distribution) on 127.0.0.1, with its
//! storage in a temporary folder, optionally behind htpasswd basic auth, read-only, or serving TLS
//! (with client certificates too).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The user the htpasswd registry knows.
pub const TEST_USER: &str = "mkbuild";
/// Its password.
pub const TEST_PASSWORD: &str = "test-pass-1";
/// `htpasswd -Bbn -C 5 mkbuild test-pass-1`, so that tests need no `htpasswd` binary.
const TEST_HTPASSWD: &str =
    "mkbuild:$2y$05$yd/KO33qxATHZX2YF6/buOQqsblxzSyv70RiSPGoUYeX82e8wm1qi\n";

/// How a test registry is set up.
#[derive(Debug, Clone, Default)]
pub struct RegistryConfig {
    /// htpasswd basic auth for [`TEST_USER`] / [`TEST_PASSWORD`].
    pub auth: bool,
    /// Storage in read-only mode: pulls work, pushes are refused (`405 UNSUPPORTED`).
    pub read_only: bool,
    /// Serve TLS instead of plain HTTP.
    pub tls: Option<TlsConfig>,
}

/// The PEM files of a TLS registry.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// The server's certificate.
    pub certificate: PathBuf,
    /// Its private key.
    pub key: PathBuf,
    /// CAs whose client certificates the registry requires (mutual TLS), if any.
    pub client_cas: Option<PathBuf>,
}

/// A running `docker-registry`, stopped and its storage removed when dropped.
pub struct TestRegistry {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl TestRegistry {
    /// The `docker-registry` binary: `$MKBUILD_TEST_REGISTRY_BIN`, else `docker-registry` on `PATH`.
    pub fn binary() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("MKBUILD_TEST_REGISTRY_BIN") {
            return Some(PathBuf::from(path));
        }
        mkbuild_test_support::find_tool("docker-registry")
    }

    /// Starts a registry (with htpasswd auth when `with_auth`), or skips `test` (see
    /// `mkbuild_test_support::skip`: a failure when `MKBUILD_REQUIRE_TOOLS` is set) and returns
    /// `None` when `docker-registry` is not installed.
    pub fn start_or_skip(test: &str, with_auth: bool) -> Option<TestRegistry> {
        let config = RegistryConfig {
            auth: with_auth,
            ..RegistryConfig::default()
        };
        TestRegistry::start_configured_or_skip(test, &config)
    }

    /// [`TestRegistry::start_or_skip`] with any [`RegistryConfig`].
    pub fn start_configured_or_skip(test: &str, config: &RegistryConfig) -> Option<TestRegistry> {
        let Some(binary) = TestRegistry::binary() else {
            mkbuild_test_support::skip_test(
                test,
                "`docker-registry` is not installed (apt-get install docker-registry; .ci/run installs it)",
            );
            return None;
        };
        match TestRegistry::start_configured(&binary, config) {
            Ok(registry) => Some(registry),
            // Installed but not starting is a failure, not a skip.
            Err(message) => panic!("{test}: cannot start `{}`: {message}", binary.display()),
        }
    }

    /// Starts `binary` on a free port of 127.0.0.1 and waits (at most 20 s) until it answers.
    pub fn start(binary: &Path, with_auth: bool) -> Result<TestRegistry, String> {
        let config = RegistryConfig {
            auth: with_auth,
            ..RegistryConfig::default()
        };
        TestRegistry::start_configured(binary, &config)
    }

    /// [`TestRegistry::start`] with any [`RegistryConfig`].
    pub fn start_configured(
        binary: &Path,
        settings: &RegistryConfig,
    ) -> Result<TestRegistry, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log_path = dir.path().join("registry.log");
        // Several attempts, in case another process takes the port between probe and start.
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port().map_err(|e| e.to_string())?;
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let config = write_config(dir.path(), addr, settings).map_err(|e| e.to_string())?;
            let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
            let mut child = Command::new(binary)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().map_err(|e| e.to_string())?)
                .stderr(log)
                .spawn()
                .map_err(|e| e.to_string())?;
            let tls = settings.tls.is_some();
            match wait_ready(&mut child, addr, tls, Duration::from_secs(20)) {
                Ok(()) => return Ok(TestRegistry { child, addr, dir }),
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    last_error = format!("{e}; its log: {log}");
                }
            }
        }
        Err(last_error)
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The registry's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Where the registry keeps its blobs (to damage one in a test).
    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_ready(
    child: &mut Child,
    addr: SocketAddr,
    tls: bool,
    limit: Duration,
) -> Result<(), String> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("it exited with {status}"));
        }
        if let Ok(status) = http_status(addr, "/v2/") {
            // Go's server answers a plain request to its TLS port with `400`.
            if status == 200 || status == 401 || (tls && status == 400) {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("it did not answer within {limit:?}"))
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

fn write_config(
    dir: &Path,
    addr: SocketAddr,
    settings: &RegistryConfig,
) -> std::io::Result<PathBuf> {
    let data = dir.join("data");
    std::fs::create_dir_all(&data)?;
    let auth = if settings.auth {
        let htpasswd = dir.join("htpasswd");
        std::fs::write(&htpasswd, TEST_HTPASSWD)?;
        format!(
            "auth:\n  htpasswd:\n    realm: mkbuild-test\n    path: {}\n",
            htpasswd.display()
        )
    } else {
        String::new()
    };
    let read_only = if settings.read_only {
        "    readonly:\n      enabled: true\n"
    } else {
        ""
    };
    let tls = match &settings.tls {
        None => String::new(),
        Some(tls) => {
            let mut text = format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                tls.certificate.display(),
                tls.key.display()
            );
            if let Some(cas) = &tls.client_cas {
                text.push_str(&format!("    clientcas:\n      - {}\n", cas.display()));
            }
            text
        }
    };
    let config = format!(
        "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\n{read_only}http:\n  addr: {addr}\n  secret: mkbuild-test-secret\n{tls}{auth}",
        data.display()
    );
    let path = dir.join("config.yml");
    std::fs::write(&path, config)?;
    Ok(path)
}

/// The status code of `GET path` (a plain HTTP/1.1 request, no client library).
pub fn http_status(addr: SocketAddr, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    let text = String::from_utf8_lossy(&head[9..12]).to_string();
    text.parse()
        .map_err(|_| std::io::Error::other(format!("not an HTTP answer: {text}")))
}
