//! Killing `mkbuild pack` or `mkbuild pull` at random points, and running many at once, never
//! damages the store: every blob is whole under its digest, `index.json` always parses, every tag's
//! blobs exist, no tag is lost, and the leftovers of killed runs are removed by the next run. The
//! pull tests use a real registry (Debian's `docker-registry`, as in `registry.rs`).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::common::{ok, sha256_hex, wait_polling};
use mkbuild_registry::testing::TestRegistry;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A context of a few MB: a model of four 1.5 MB files, a dataset and docs.
fn context(seed: u8) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("context");
    let root = dir.path();
    for sub in ["model", "data", "docs"] {
        std::fs::create_dir(root.join(sub)).expect("mkdir");
    }
    for i in 0..4u8 {
        // Not all zeros, so compression and hashing do real work.
        let bytes: Vec<u8> = (0..1_500_000u32)
            .map(|j| (j.wrapping_mul(2_654_435_761) >> 13) as u8 ^ i ^ seed)
            .collect();
        std::fs::write(root.join(format!("model/part-{i}.bin")), bytes).expect("write");
    }
    std::fs::write(root.join("data/train.csv"), "a,b\n1,2\n".repeat(20_000)).expect("write");
    std::fs::write(root.join("docs/README.md"), format!("seed {seed}\n")).expect("write");
    std::fs::write(
        root.join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: crash\nmodel:\n  path: model\n\
         datasets:\n  - name: train\n    path: data\ndocs:\n  - path: docs\n",
    )
    .expect("Kitfile");
    dir
}

fn pack_command(store: &Path, context: &Path, tags: &[String]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mkbuild"));
    cmd.arg("--store")
        .arg(store)
        .arg("-q")
        .arg("pack")
        .arg(context);
    for tag in tags {
        cmd.arg("-t").arg(tag);
    }
    cmd.env_remove("MKBUILD_STORE")
        .env_remove("MKBUILD_FORMAT")
        .env_remove("SOURCE_DATE_EPOCH")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// The store is a valid OCI layout whatever happened: `oci-layout` and `index.json` parse, every
/// file under `blobs/sha256/` hashes to its name, and `mkbuild verify` finds every tagged
/// manifest's blobs.
fn assert_store_consistent(store: &Path, when: &str) {
    let layout: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.join("oci-layout")).expect("oci-layout"))
            .unwrap_or_else(|e| panic!("{when}: oci-layout: {e}"));
    assert_eq!(layout["imageLayoutVersion"], "1.0.0", "{when}");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.join("index.json")).expect("index.json"))
            .unwrap_or_else(|e| panic!("{when}: index.json does not parse: {e}"));
    assert!(index["manifests"].is_array(), "{when}: {index}");
    for entry in std::fs::read_dir(store.join("blobs/sha256")).expect("blobs") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(&path).expect("blob");
        assert_eq!(
            sha256_hex(&bytes),
            name,
            "{when}: a partial or wrong blob is visible under a digest"
        );
    }
    let out = crate::common::mkbuild(store, &["verify"]);
    assert!(
        out.status.success(),
        "{when}: verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The reference of every entry `mkbuild list --json` shows, in its order.
fn listed_references(store: &Path) -> Vec<String> {
    let listed: serde_json::Value =
        serde_json::from_str(&ok(store, &["list", "--json"])).expect("json");
    listed
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["reference"].as_str().map(str::to_owned))
        .collect()
}

/// Temporary files in `ingest/`, not counting partial downloads (`partial-*`), which a killed
/// pull leaves on purpose for the next one to resume.
fn ingest_files(store: &Path) -> usize {
    std::fs::read_dir(store.join("ingest")).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().starts_with("partial-"))
            .count()
    })
}

/// Random delays from a small xorshift generator, seeded from the clock: they differ from run to
/// run, and the seed is printed on failure.
struct Delays {
    seed: u64,
    state: u64,
    /// How long the whole operation takes; delays fall in 0 to 1.2 times it.
    full: Duration,
}

impl Delays {
    fn new(full: Duration) -> Delays {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        Delays {
            seed,
            state: seed,
            full,
        }
    }

    fn next(&mut self) -> Duration {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let bound = (self.full.as_micros() as u64 * 12 / 10).max(1);
        Duration::from_micros(self.state % bound)
    }

    /// Draws the next delays from three quarters of the range: after a run that finished before
    /// its kill.
    fn shorten(&mut self) {
        self.full = self.full * 3 / 4;
    }
}

/// Starts `command`, SIGKILLs it after `delay` unless it finished before, and says whether the kill
/// ended it (rather than the run finishing on its own first).
fn kill_after(mut command: Command, delay: Duration) -> bool {
    use std::os::unix::process::ExitStatusExt as _;
    let mut child = command.spawn().expect("spawn");
    let start = Instant::now();
    let (status, killed) = wait_polling(&mut child, Duration::from_millis(1), |_| {
        start.elapsed() >= delay
    });
    // A child that exits just before the kill keeps its own exit status.
    killed && status.signal() == Some(9)
}

/// Writes the bytes of pack `run` into `context` (made by `context(1)`): other bytes than any
/// other run's, so that each pack makes new blobs and a kill lands in real work.
fn vary(context: &Path, run: u8) {
    std::fs::write(context.join("docs/README.md"), format!("run {run}\n")).expect("write");
    std::fs::write(context.join("model/part-0.bin"), vec![run; 1_500_000]).expect("write");
}

#[test]
fn killing_pack_at_random_points_never_damages_the_store() {
    /// Packs that must be killed before they finish.
    const KILLS: usize = 15;
    /// A generous bound on the packs started: a run that finishes before its kill shortens the
    /// delays, so after some dozens of such runs every kill lands right after the start.
    const ATTEMPTS: u8 = 200;
    let context = context(1);
    let store = tempfile::tempdir().expect("store");
    // A first pack, complete, so the store has a tag to lose.
    let first = ok(
        store.path(),
        &["pack", s(context.path()), "-t", "crash:base"],
    );
    // A second one, warm as the killed runs will be and with new bytes as theirs: a measure of how
    // long one takes, for the range of the kill delays.
    vary(context.path(), u8::MAX);
    let start = Instant::now();
    ok(
        store.path(),
        &["pack", s(context.path()), "-t", "crash:warm"],
    );
    let mut delays = Delays::new(start.elapsed());
    let seed = delays.seed;
    let mut killed_mid_way = 0;
    let mut run = 0;
    while killed_mid_way < KILLS {
        assert!(
            run < ATTEMPTS,
            "only {killed_mid_way} of {run} packs were killed before they finished (seed {seed})"
        );
        vary(context.path(), run);
        let delay = delays.next();
        let pack = pack_command(store.path(), context.path(), &[format!("crash:run{run}")]);
        if kill_after(pack, delay) {
            killed_mid_way += 1;
        } else {
            delays.shorten();
        }
        assert_store_consistent(store.path(), &format!("run {run} (seed {seed}, {delay:?})"));
        run += 1;
    }
    eprintln!("{killed_mid_way} of {run} packs killed before they finished (seed {seed})");
    // The base tags survived every kill.
    let listed = listed_references(store.path());
    for tag in ["crash:base", "crash:warm"] {
        assert!(listed.contains(&tag.to_owned()), "{tag}: {listed:?}");
    }
    // The next run (any command opening the store) removes what the killed runs left in ingest/.
    ok(store.path(), &["list"]);
    assert_eq!(
        ingest_files(store.path()),
        0,
        "leftovers after the next run"
    );
    // And packing still works, to the same digest as before.
    std::fs::write(context.path().join("docs/README.md"), "seed 1\n").expect("write");
    let bytes: Vec<u8> = (0..1_500_000u32)
        .map(|j| (j.wrapping_mul(2_654_435_761) >> 13) as u8 ^ 1)
        .collect();
    std::fs::write(context.path().join("model/part-0.bin"), bytes).expect("write");
    assert_eq!(
        ok(
            store.path(),
            &["pack", s(context.path()), "-t", "crash:again"]
        ),
        first
    );
    assert_store_consistent(store.path(), "after the last pack");
}

#[test]
fn parallel_packs_into_one_store_lose_no_tag() {
    const PROCESSES: usize = 6;
    let contexts: Vec<tempfile::TempDir> = (0..3).map(|i| context(10 + i)).collect();
    let store = tempfile::tempdir().expect("store");
    let children: Vec<_> = (0..PROCESSES)
        .map(|i| {
            let tags = vec![
                format!("parallel/p{i}:1"),
                "parallel/shared:latest".to_owned(),
                format!("parallel/ctx{}:1", i % 3),
            ];
            pack_command(store.path(), contexts[i % 3].path(), &tags)
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut digests = Vec::new();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        digests.push(String::from_utf8_lossy(&out.stdout).trim().to_owned());
    }
    // The same context packs to the same digest, whoever wrote its blobs first.
    for i in 3..PROCESSES {
        assert_eq!(digests[i], digests[i - 3]);
    }
    let listed = listed_references(store.path());
    let references: BTreeSet<String> = listed.iter().cloned().collect();
    let mut expected: BTreeSet<String> = (0..PROCESSES)
        .map(|i| format!("parallel/p{i}:1"))
        .chain((0..3).map(|i| format!("parallel/ctx{i}:1")))
        .collect();
    expected.insert("parallel/shared:latest".to_owned());
    assert_eq!(references, expected);
    assert_eq!(listed.len(), expected.len(), "one entry per tag");
    assert_store_consistent(store.path(), "after the parallel packs");
    assert_eq!(ingest_files(store.path()), 0);
}

/// `mkbuild pull REMOTE --plain-http` into `store`, with no credentials (the registry has no auth).
fn pull_command(store: &Path, docker_config: &Path, remote: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mkbuild"));
    cmd.arg("--store")
        .arg(store)
        .args(["-q", "pull", remote, "--plain-http"])
        .env("DOCKER_CONFIG", docker_config)
        .env_remove("MKBUILD_STORE")
        .env_remove("MKBUILD_PLAIN_HTTP")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs a command to its end and returns its stdout, trimmed; fails the test on a non-zero exit.
fn finish(mut cmd: Command, what: &str) -> String {
    let out = cmd.output().expect("run mkbuild");
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Packs `count` ModelKits with bytes of their own and pushes them to `registry` as
/// `crash/pull:<i>`; returns each one's remote reference and manifest digest.
fn push_variants(
    registry: &TestRegistry,
    docker_config: &Path,
    count: u8,
) -> Vec<(String, String)> {
    let source = tempfile::tempdir().expect("source store");
    (0..count)
        .map(|i| {
            let context = context(100 + i);
            let local = format!("crash/pull:{i}");
            let remote = format!("{}/crash/pull:{i}", registry.host());
            ok(source.path(), &["pack", s(context.path()), "-t", &local]);
            let mut push = Command::new(env!("CARGO_BIN_EXE_mkbuild"));
            push.arg("--store")
                .arg(source.path())
                .args(["-q", "push", &local, &remote, "--plain-http"])
                .env("DOCKER_CONFIG", docker_config)
                .env_remove("MKBUILD_STORE")
                .stdin(Stdio::null());
            let digest = finish(push, &format!("push {remote}"));
            assert!(digest.starts_with("sha256:"), "{digest}");
            (remote, digest)
        })
        .collect()
}

#[test]
fn killing_pull_at_random_points_never_damages_the_store() {
    const VARIANTS: u8 = 16;
    let Some(registry) = TestRegistry::start_or_skip(
        "killing_pull_at_random_points_never_damages_the_store",
        false,
    ) else {
        return;
    };
    let docker_config = tempfile::tempdir().expect("docker config");
    let variants = push_variants(&registry, docker_config.path(), VARIANTS);
    let store = tempfile::tempdir().expect("store");
    // A first pull, complete: a tag to lose, and a measure of how long one takes.
    let start = Instant::now();
    let (base, base_digest) = &variants[0];
    assert_eq!(
        &finish(
            pull_command(store.path(), docker_config.path(), base),
            "pull"
        ),
        base_digest
    );
    let mut delays = Delays::new(start.elapsed());
    let mut killed_mid_way = 0;
    // Each run pulls a ModelKit whose blobs the store lacks, so the kill lands in real work.
    for (remote, _) in &variants[1..] {
        let delay = delays.next();
        let pull = pull_command(store.path(), docker_config.path(), remote);
        killed_mid_way += usize::from(kill_after(pull, delay));
        let seed = delays.seed;
        assert_store_consistent(store.path(), &format!("{remote} (seed {seed}, {delay:?})"));
    }
    assert!(killed_mid_way > 0, "no pull was killed before it finished");
    let listed = listed_references(store.path());
    assert!(listed.contains(base), "{listed:?}");
    // The next run removes the leftovers of the killed ones.
    ok(store.path(), &["list"]);
    assert_eq!(
        ingest_files(store.path()),
        0,
        "leftovers after the next run"
    );
    // Every pull, run again to its end, completes with the pushed digest.
    for (remote, digest) in &variants {
        assert_eq!(
            &finish(
                pull_command(store.path(), docker_config.path(), remote),
                "pull"
            ),
            digest
        );
    }
    assert_store_consistent(store.path(), "after the complete pulls");
    // Each partial download was resumed and committed by its complete pull.
    assert_eq!(
        std::fs::read_dir(store.path().join("ingest")).map_or(0, Iterator::count),
        0,
        "partial downloads left after the complete pulls"
    );
    let out = crate::common::mkbuild(store.path(), &["verify"]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
}

#[test]
fn parallel_pulls_and_packs_into_one_store_lose_no_tag() {
    let Some(registry) =
        TestRegistry::start_or_skip("parallel_pulls_and_packs_into_one_store_lose_no_tag", false)
    else {
        return;
    };
    let docker_config = tempfile::tempdir().expect("docker config");
    let variants = push_variants(&registry, docker_config.path(), 3);
    let contexts: Vec<tempfile::TempDir> = (0..2).map(|i| context(20 + i)).collect();
    let store = tempfile::tempdir().expect("store");
    // Two pulls of each remote ModelKit and two packs of each context, all at once.
    let mut children = Vec::new();
    for round in 0..2 {
        for (remote, digest) in &variants {
            let child = pull_command(store.path(), docker_config.path(), remote)
                .spawn()
                .expect("spawn");
            children.push((child, Some(digest.clone())));
        }
        for (i, context) in contexts.iter().enumerate() {
            let tags = [
                format!("mixed/ctx{i}:{round}"),
                "mixed/shared:latest".to_owned(),
            ];
            let child = pack_command(store.path(), context.path(), &tags)
                .spawn()
                .expect("spawn");
            children.push((child, None));
        }
    }
    for (child, expected) in children {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(digest) = expected {
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), digest);
        }
    }
    let listed = listed_references(store.path());
    let references: BTreeSet<String> = listed.iter().cloned().collect();
    let mut expected: BTreeSet<String> = variants.iter().map(|(r, _)| r.clone()).collect();
    for i in 0..2 {
        for round in 0..2 {
            expected.insert(format!("mixed/ctx{i}:{round}"));
        }
    }
    expected.insert("mixed/shared:latest".to_owned());
    assert_eq!(references, expected);
    assert_store_consistent(store.path(), "after the parallel pulls and packs");
    assert_eq!(ingest_files(store.path()), 0);
}
