//! Helpers shared by the CLI tests: run the real binary, build contexts from fixture scripts.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// Virtual memory allowed to each bounded mkbuild run (`ulimit -v`, KiB): a bomb must fail within
/// it.
const MEMORY_CAP_KIB: u64 = 1 << 20;
/// A bounded run still going after this is a hang.
pub const TIME_LIMIT: Duration = Duration::from_secs(60);

/// The repository's `tests/fixtures` folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// Runs `mkbuild` with `args` against the store `store`; stdin is empty.
pub fn mkbuild(store: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mkbuild"));
    cmd.arg("--store").arg(store).args(args);
    clean_env(&mut cmd)
        .stdin(Stdio::null())
        .output()
        .expect("run mkbuild")
}

/// Removes the variables that would change what mkbuild does from the environment of `cmd`; every
/// test sets what it needs on its own child, never on this (shared) process.
fn clean_env(cmd: &mut Command) -> &mut Command {
    cmd.env_remove("SOURCE_DATE_EPOCH")
        .env_remove("MKBUILD_STORE")
        .env_remove("MKBUILD_SPEC_DIR")
        .env_remove("MKBUILD_FORMAT")
        .env_remove("MKBUILD_PLUGIN_PATH")
        .env_remove("MKBUILD_KEY_PASSPHRASE")
}

/// Waits for `child`, polling every `every`; kills it the first time `kill_if` (given its pid, while
/// it runs) says so. Returns how it ended and whether it was killed.
pub fn wait_polling(
    child: &mut Child,
    every: Duration,
    mut kill_if: impl FnMut(u32) -> bool,
) -> (ExitStatus, bool) {
    let mut killed = false;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return (status, killed);
        }
        if !killed && kill_if(child.id()) {
            let _ = child.kill();
            killed = true;
        }
        std::thread::sleep(every);
    }
}

/// Runs mkbuild under the memory cap and the time limit, its stdin fed by `feed` on a thread (empty
/// without one); returns (exit code, stdout, stderr). A panic, a signal (an allocation failure
/// aborts) or a hang fails the test; `what` names the case in the failure.
pub fn run_bounded(
    what: &str,
    store: &Path,
    args: &[&str],
    feed: Option<fn(ChildStdin)>,
) -> (i32, String, String) {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {MEMORY_CAP_KIB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_mkbuild"))
        .arg("--store")
        .arg(store)
        .args(args);
    let mut child = clean_env(&mut cmd)
        .stdin(if feed.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mkbuild");
    if let (Some(feed), Some(stdin)) = (feed, child.stdin.take()) {
        std::thread::spawn(move || feed(stdin));
    }
    let read_all = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        })
    };
    let out = read_all(Box::new(child.stdout.take().expect("stdout")));
    let err = read_all(Box::new(child.stderr.take().expect("stderr")));
    let start = Instant::now();
    let (status, hung) = wait_polling(&mut child, Duration::from_millis(20), |_| {
        start.elapsed() > TIME_LIMIT
    });
    assert!(
        !hung,
        "{what}: mkbuild {args:?} still running after {TIME_LIMIT:?} (a hang)"
    );
    let (stdout, stderr) = (out.join().expect("stdout"), err.join().expect("stderr"));
    assert!(
        !stderr.contains("panicked"),
        "{what}: mkbuild {args:?} panicked: {stderr}"
    );
    let code = status.code().unwrap_or_else(|| {
        panic!("{what}: mkbuild {args:?} killed by a signal ({status:?}): {stderr}")
    });
    (code, stdout, stderr)
}

/// Runs `mkbuild` and expects success; returns stdout.
pub fn ok(store: &Path, args: &[&str]) -> String {
    let out = mkbuild(store, args);
    assert!(
        out.status.success(),
        "mkbuild {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Runs `mkbuild`, expects failure with exit code 1; returns stderr.
pub fn fails(store: &Path, args: &[&str]) -> String {
    let out = mkbuild(store, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "mkbuild {args:?} should fail with 1; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).expect("stderr is UTF-8")
}

/// Builds a context by running a fixture's `mk.sh` in a fresh folder.
pub fn context_from_script(script: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new("sh")
        .arg(script)
        .current_dir(dir.path())
        .status()
        .expect("run sh");
    assert!(status.success(), "{} failed", script.display());
    dir
}

/// The manifest of `reference` as JSON.
pub fn manifest(store: &Path, reference: &str) -> serde_json::Value {
    serde_json::from_str(&ok(store, &["inspect", reference])).expect("manifest is JSON")
}

/// Packs a one-file `v1` ModelKit (`w.bin` holding `w`) into `store` as `evil:1`, for tests that
/// then damage it by hand; returns its manifest.
pub fn pack_evil_modelkit(store: &Path) -> serde_json::Value {
    let context = tempfile::tempdir().expect("context");
    std::fs::write(context.path().join("w.bin"), "w").expect("write");
    std::fs::write(
        context.path().join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: evil\nmodel:\n  path: w.bin\n",
    )
    .expect("Kitfile");
    let dir = context.path().to_str().expect("utf-8 temp path");
    ok(store, &["pack", dir, "--format", "v1", "-t", "evil:1"]);
    manifest(store, "evil:1")
}

/// The path of a blob in the store.
pub fn blob_path(store: &Path, digest: &str) -> PathBuf {
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    store.join("blobs/sha256").join(hex)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The entry names of layer `index` of the ModelKit `reference`, in tar order.
pub fn layer_entry_names(store: &Path, reference: &str, index: usize) -> Vec<String> {
    let m = manifest(store, reference);
    let digest = m["layers"][index]["digest"].as_str().expect("layer digest");
    let blob = std::fs::File::open(blob_path(store, digest)).expect("layer blob");
    tar::Archive::new(blob)
        .entries()
        .expect("entries")
        .map(|e| {
            e.expect("entry")
                .path()
                .expect("path")
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// Replaces the manifest of `reference` by `edit`'s version, as a hostile writer of the store would.
pub fn rewrite_manifest(store: &Path, reference: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut m = manifest(store, reference);
    edit(&mut m);
    let bytes = serde_json::to_vec(&m).expect("JSON");
    let digest = format!("sha256:{}", sha256_hex(&bytes));
    std::fs::write(blob_path(store, &digest), &bytes).expect("blob");
    let index_path = store.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index_path).expect("index")).expect("index JSON");
    for entry in index["manifests"].as_array_mut().expect("manifests") {
        if entry["annotations"]["org.opencontainers.image.ref.name"] == reference {
            entry["digest"] = digest.clone().into();
            entry["size"] = bytes.len().into();
        }
    }
    std::fs::write(index_path, serde_json::to_vec(&index).expect("JSON")).expect("index");
}

/// Drives a program on a pseudo-terminal (Python's `pty`): for each [`Answer`] in turn, waits
/// until the terminal shows its prompt, waits for echo to go off when the answer is hidden, and
/// types it. Prints what the terminal showed and exits with the program's status.
const PTY_DRIVER: &str = r#"
import json, os, pty, select, sys, termios, time
answers = json.loads(os.environ["T_ANSWERS"])
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
shown = b""
def read_until(token, limit=60):
    global shown
    end = time.time() + limit
    while token not in shown:
        left = end - time.time()
        if left <= 0:
            sys.exit("timed out waiting for %r; the terminal showed %r" % (token, shown))
        if select.select([fd], [], [], left)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                sys.exit("the program ended before %r; the terminal showed %r" % (token, shown))
            shown += chunk
for prompt, line, hidden in answers:
    read_until(prompt.encode())
    end = time.time() + 60
    while hidden and termios.tcgetattr(fd)[3] & termios.ECHO:
        if time.time() > end:
            sys.exit("echo was never turned off; the terminal showed %r" % shown)
        time.sleep(0.01)
    os.write(fd, line.encode() + b"\n")
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    shown += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;

/// A prompt a program shows on a terminal, and the line typed at it.
pub struct Answer<'a> {
    /// The whole prompt to wait for.
    pub prompt: &'a str,
    /// What is typed (a newline follows).
    pub line: &'a str,
    /// Whether the program must have turned echo off before it is typed (a password).
    pub hidden: bool,
}

/// A command that runs mkbuild on a pseudo-terminal with `args` (after `--store store`), typing
/// `answers`; its stdout is what the terminal showed. The caller adds environment and runs it.
pub fn on_terminal(store: &Path, args: &[&str], answers: &[Answer]) -> Command {
    let answers: Vec<(&str, &str, bool)> = answers
        .iter()
        .map(|a| (a.prompt, a.line, a.hidden))
        .collect();
    let mut cmd = Command::new("python3");
    cmd.arg("-c")
        .arg(PTY_DRIVER)
        .arg(env!("CARGO_BIN_EXE_mkbuild"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env(
            "T_ANSWERS",
            serde_json::to_string(&answers).expect("answers as JSON"),
        )
        .stdin(Stdio::null());
    clean_env(&mut cmd);
    cmd
}
