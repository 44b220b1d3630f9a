//! Modes are set explicitly: the umask never matters, setuid/setgid of files survive only when
//! asked for, folders keep setgid and sticky.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use mkbuild_extract::Extractor;

use crate::common::{file, folder, same, tar, tree};

const CHILD_FLAG: &str = "MKBUILD_EXTRACT_UMASK_CHILD";

fn modes_tar() -> Vec<u8> {
    tar(&[
        folder(b"tmp", 0o1777),
        folder(b"group", 0o2775),
        file(b"tmp/su", 0o4755, b"s"),
        file(b"tmp/sg", 0o2755, b"g"),
        file(b"tmp/sticky-file", 0o1644, b"t"),
    ])
}

#[test]
fn files_lose_setuid_and_setgid_folders_keep_setgid_and_sticky() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut extractor = Extractor::new(dir.path()).expect("extractor");
    extractor
        .extract_tar(&modes_tar()[..], "l", &same)
        .expect("extract");
    extractor.commit(false).expect("commit");
    assert_eq!(
        tree(dir.path()),
        [
            "d 1777 tmp",
            "d 2775 group",
            "f 0644 tmp/sticky-file = t",
            "f 0755 tmp/sg = g",
            "f 0755 tmp/su = s"
        ]
    );
}

#[test]
fn same_permissions_keeps_every_mode_bit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut extractor = Extractor::new(dir.path()).expect("extractor");
    extractor.set_same_permissions(true);
    extractor
        .extract_tar(&modes_tar()[..], "l", &same)
        .expect("extract");
    extractor.commit(false).expect("commit");
    assert_eq!(
        tree(dir.path()),
        [
            "d 1777 tmp",
            "d 2775 group",
            "f 1644 tmp/sticky-file = t",
            "f 2755 tmp/sg = g",
            "f 4755 tmp/su = s"
        ]
    );
}

#[test]
fn a_read_only_folder_still_gets_its_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = tar(&[
        folder(b"ro", 0o555),
        folder(b"ro/inner", 0o500),
        file(b"ro/inner/a.txt", 0o444, b"A"),
        file(b"ro/b.txt", 0o644, b"B"),
    ]);
    let mut extractor = Extractor::new(dir.path()).expect("extractor");
    // A second layer writes into the read-only folder after it was extracted.
    extractor
        .extract_tar(&bytes[..], "one", &same)
        .expect("extract");
    extractor
        .extract_tar(
            &tar(&[file(b"ro/inner/later.txt", 0o600, b"L")])[..],
            "two",
            &same,
        )
        .expect("second layer");
    extractor.commit(false).expect("commit");
    assert_eq!(
        tree(dir.path()),
        [
            "d 0500 ro/inner",
            "d 0555 ro",
            "f 0444 ro/inner/a.txt = A",
            "f 0600 ro/inner/later.txt = L",
            "f 0644 ro/b.txt = B",
        ]
    );
    // Let the temporary folder be removed.
    for path in ["ro", "ro/inner"] {
        std::fs::set_permissions(
            dir.path().join(path),
            std::fs::Permissions::from_mode(0o755),
        )
        .expect("chmod");
    }
}

/// Runs [`umask_child`] in a copy of this test binary started under `umask 077`.
#[test]
fn modes_do_not_depend_on_the_umask() {
    let exe = std::env::current_exe().expect("current_exe");
    let output = Command::new("sh")
        .args(["-c", "umask 077 && exec \"$0\" \"$@\""])
        .arg(exe)
        .args([
            "modes::umask_child",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env(CHILD_FLAG, "1")
        .output()
        .expect("run the test binary under sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
#[ignore = "run by modes_do_not_depend_on_the_umask under umask 077"]
fn umask_child() {
    if std::env::var_os(CHILD_FLAG).is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // Prove the umask is in effect: a plain create gets 0666 & !077.
    let probe = dir.path().join("probe");
    std::fs::write(&probe, b"").expect("probe");
    let probe_mode = std::fs::metadata(&probe)
        .expect("probe metadata")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(probe_mode, 0o600, "the umask is not 077");
    std::fs::remove_file(&probe).expect("remove probe");

    crate::round_trip::round_trip(&dir.path().join("target"));
}
